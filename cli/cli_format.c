/* cli_format: stdout formats of xpush-client (see cli_format.h). Every byte
 * of notification text is attacker-influenced: nothing here may let it break
 * the one-line-per-notification framing or produce invalid JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli_format.h"
#include "utf8.h"

void cbuf_free(struct cbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void cbuf_putn(struct cbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *np;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if (!(np = realloc(b->p, ncap))) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void cbuf_puts(struct cbuf *b, const char *s)
{
	cbuf_putn(b, s, strlen(s));
}

static const char hexd[] = "0123456789abcdef";

void cli_quote_c(struct cbuf *b, const char *s)
{
	cbuf_putn(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const char *e = NULL;
		char x[4];

		switch (*p) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		case '\a':
			e = "\\a";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		case '\v':
			e = "\\v";
			break;
		default:
			break;
		}
		if (e) {
			cbuf_puts(b, e);
		} else if (*p < 0x20 || *p == 0x7f) {
			x[0] = '\\';
			x[1] = 'x';
			x[2] = hexd[*p >> 4];
			x[3] = hexd[*p & 15];
			cbuf_putn(b, x, 4);
		} else {
			cbuf_putn(b, (const char *)p, 1);
		}
	}
	cbuf_putn(b, "\"", 1);
}

void cli_quote_json(struct cbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);

	cbuf_putn(b, "\"", 1);
	while (*p) {
		size_t n;
		uint32_t cp;

		if (*p == '"' || *p == '\\') {
			char e[2] = { '\\', (char)*p };
			cbuf_putn(b, e, 2);
			p++;
		} else if (*p < 0x20) {
			char u[6] = { '\\', 'u', '0', '0', hexd[*p >> 4], hexd[*p & 15] };
			cbuf_putn(b, u, 6);
			p++;
		} else if ((n = utf8_decode((const char *)p, (size_t)(end - p), &cp)) != 0) {
			cbuf_putn(b, (const char *)p, n);
			p += n;
		} else {
			cbuf_puts(b, "\\ufffd");
			p++;
		}
	}
	cbuf_putn(b, "\"", 1);
}

/* A bare value is safe when it cannot be mistaken for a separator. */
static void human_value(struct cbuf *b, const char *v)
{
	int bare = *v != '\0';

	for (const unsigned char *p = (const unsigned char *)v; *p && bare; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '=')
			bare = 0;
	if (bare)
		cbuf_puts(b, v);
	else
		cli_quote_c(b, v);
}

void cli_format_human(struct cbuf *b, const struct xpush_notification *n)
{
	cbuf_puts(b, "notification id=");
	human_value(b, n->id);
	if (n->app) {
		cbuf_puts(b, " app=");
		human_value(b, n->app);
	}
	if (n->title) {
		cbuf_puts(b, " title=");
		cli_quote_c(b, n->title);
	}
	if (n->body) {
		cbuf_puts(b, " body=");
		cli_quote_c(b, n->body);
	}
	if (n->uri) {
		cbuf_puts(b, " uri=");
		cli_quote_c(b, n->uri);
	}
	/* last, so lines without a collapse key read as they always did */
	if (n->collapse) {
		cbuf_puts(b, " collapse=");
		human_value(b, n->collapse);
	}
	cbuf_putn(b, "\n", 1);
}

void cli_format_retract_human(struct cbuf *b, const struct xpush_retract *r)
{
	cbuf_puts(b, "retract id=");
	human_value(b, r->id);
	cbuf_putn(b, "\n", 1);
}

static void json_field(struct cbuf *b, int *first, const char *key, const char *v)
{
	if (!v)
		return;
	if (!*first)
		cbuf_putn(b, ",", 1);
	*first = 0;
	cli_quote_json(b, key);
	cbuf_putn(b, ":", 1);
	cli_quote_json(b, v);
}

void cli_format_json(struct cbuf *b, const struct xpush_notification *n)
{
	int first = 1;

	cbuf_putn(b, "{", 1);
	json_field(b, &first, "id", n->id);
	json_field(b, &first, "app", n->app);
	json_field(b, &first, "priority", n->priority);
	json_field(b, &first, "collapse", n->collapse);
	json_field(b, &first, "title", n->title);
	json_field(b, &first, "body", n->body);
	json_field(b, &first, "uri", n->uri);
	json_field(b, &first, "payload", n->payload);
	cbuf_puts(b, "}\n");
}

void cli_format_retract_json(struct cbuf *b, const struct xpush_retract *r)
{
	int first = 1;

	cbuf_putn(b, "{", 1);
	json_field(b, &first, "event", "retract");
	json_field(b, &first, "id", r->id);
	cbuf_puts(b, "}\n");
}
