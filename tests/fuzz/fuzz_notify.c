/* fuzz_notify: libFuzzer target for what a (possibly hostile) server's bytes
 * reach in libxpush when a notification arrives: libstrophe's stanza parser
 * (uninstrumented, from the system), client/notify.c's notify_parse (the
 * decoder; it takes an xmpp_stanza_t, so there is no entry point below
 * libstrophe), the sender check (client/xjid.c on common/jid.c) and
 * xpush-client's output
 * formats (cli/cli_format.c), which put producer text on a terminal.
 * Besides crashes, leaks and sanitizer reports it traps on broken properties:
 *   - a decoded notification has an id that seen_id_valid() accepts (it is
 *     written to the dedup log line by line) and every element text is a C
 *     string; a refused one has a one-line reason and nothing to free;
 *   - the human output line and the JSON line are each exactly one line with
 *     no raw control byte (no terminal escape sequence, no forged second
 *     line; DEL is allowed raw in JSON only); the JSON line is an object;
 *   - xjid_is_component() accepts only the component JID itself (no
 *     resource, localpart byte-exact, domain ASCII case-insensitive);
 *   - jid_split() parts lie inside the JID, the bare JID and the domain
 *     agree with them;
 *   - xjid_sanitise() output is file-name safe.
 *
 * Input: the stanza text (an <iq> holding <notification xmlns='urn:xpush:0'>,
 * or the bare <notification/>). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <strophe.h>

#include "cli_format.h"
#include "notify.h"
#include "seen.h"
#include "xjid.h"

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
	abort(); } } while (0)

#define COMPONENT "push.example.org"
#define NS "urn:xpush:0"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xmpp_ctx_t *ctx;

/* One line ending in LF, no other byte below 0x20, and no DEL unless
 * allow_del (JSON may carry DEL raw: it is not a control that needs \u
 * escaping there, and it starts no terminal sequence). */
static void one_clean_line(const struct cbuf *b, int allow_del)
{
	ASSERT(!b->oom && b->p && b->len > 0);
	ASSERT(b->p[b->len - 1] == '\n');
	for (size_t i = 0; i + 1 < b->len; i++) {
		unsigned char ch = (unsigned char)b->p[i];
		if (ch < 0x20 || (ch == 0x7f && !allow_del))
			fprintf(stderr, "raw control byte 0x%02x at %zu: %.*s\n", ch, i, (int)b->len,
			        b->p);
		ASSERT(ch >= 0x20 && (ch != 0x7f || allow_del));
	}
}

static void check_output(const struct notify_fields *f)
{
	struct xpush_notification n;
	struct cbuf h = { 0 }, j = { 0 };

	memset(&n, 0, sizeof n);
	n.id = f->id;
	n.app = f->app;
	n.priority = f->priority;
	n.collapse = f->collapse;
	n.expires = f->expires;
	n.created = f->created;
	n.title = f->title;
	n.body = f->body;
	n.uri = f->uri;
	n.payload = f->payload;
	n.from = COMPONENT;
	n.iq_id = "xp.1.2.3";
	cli_format_human(&h, &n);
	one_clean_line(&h, 0);
	ASSERT(strncmp(h.p, "notification id=", 16) == 0);
	cli_format_json(&j, &n);
	one_clean_line(&j, 1);
	ASSERT(j.len >= 3 && j.p[0] == '{' && j.p[j.len - 2] == '}');
	cbuf_free(&h);
	cbuf_free(&j);
}

static void check_jid(const char *jid)
{
	struct jid_parts p;
	char dom[2048], bare[2048], safe[4096];

	if (!jid)
		return;
	if (xjid_is_component(jid, COMPONENT)) {
		ASSERT(strlen(jid) == strlen(COMPONENT) && strcasecmp(jid, COMPONENT) == 0);
	}
	/* The localpart is byte-exact: a different one never passes. */
	ASSERT(!xjid_is_component(jid, "node@" COMPONENT) || strncmp(jid, "node@", 5) == 0);
	if (jid_split(jid, &p) == 0) {
		ASSERT(p.domain && p.domain_len > 0 && p.domain_len <= JID_PART_MAX);
		ASSERT(!p.resource || (p.resource_len > 0 && p.resource_len <= JID_PART_MAX));
		ASSERT(!p.local || (p.local_len > 0 && p.local_len <= JID_PART_MAX));
		ASSERT(p.domain + p.domain_len + (p.resource ? 1 + p.resource_len : 0)
		       == jid + strlen(jid));
		if (p.domain_len < sizeof dom) {
			ASSERT(jid_domain(jid, dom, sizeof dom) == 0);
			ASSERT(strlen(dom) == p.domain_len && memcmp(dom, p.domain, p.domain_len) == 0);
		}
		if ((size_t)(p.domain - jid) + p.domain_len < sizeof bare) {
			ASSERT(jid_bare(jid, bare, sizeof bare) == 0);
			ASSERT(strncmp(jid, bare, strlen(bare)) == 0 && !strchr(bare, '/'));
		}
	} else {
		ASSERT(jid_domain(jid, dom, sizeof dom) == -1);
		ASSERT(!xjid_is_component(jid, COMPONENT));
	}
	if (xjid_sanitise(jid, safe, sizeof safe) == 0) {
		for (const char *s = safe; *s; s++)
			ASSERT((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
			       *s == '_' || *s == '-' || *s == '%' || (*s >= 'A' && *s <= 'F'));
		ASSERT(!strchr(safe, '/'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	xmpp_stanza_t *st, *n;
	struct notify_fields f;
	const char *err = NULL;
	int rc;

	if (!ctx) {
		ctx = xmpp_ctx_new(NULL, NULL);
		ASSERT(ctx);
	}
	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	ASSERT(text);
	memcpy(text, data, size);
	text[size] = '\0';
	st = xmpp_stanza_new_from_string(ctx, text);
	free(text);
	if (!st)
		return 0;
	check_jid(xmpp_stanza_get_from(st));
	n = st;
	if (!xmpp_stanza_get_name(st) || strcmp(xmpp_stanza_get_name(st), "notification") != 0)
		n = xmpp_stanza_get_child_by_name_and_ns(st, "notification", NS);
	if (n) {
		memset(&f, 0x5a, sizeof f);
		rc = notify_parse(n, &f, &err);
		ASSERT(rc == 0 || rc == -1);
		if (rc == 0) {
			ASSERT(f.id && seen_id_valid(f.id));
			ASSERT(strlen(f.id) <= 128);
			check_output(&f);
			notify_fields_free(&f);
		} else {
			ASSERT(err && *err && !strchr(err, '\n'));
			ASSERT(!f.title && !f.body && !f.uri && !f.payload);
		}
	}
	xmpp_stanza_release(st);
	return 0;
}
