/* unifiedpush: the UnifiedPush-over-XMPP wire format and its forms
 * (unifiedpush.h). Pure: stanza trees and strings in, plain values or bytes
 * out. */
#include "unifiedpush.h"

#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vapid.h"

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64_with(const char *alpha, int pad, const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t k = n - i;
		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		if (k > 1)
			out[o++] = alpha[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (k > 2)
			out[o++] = alpha[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

void up_b64_encode(const unsigned char *in, size_t n, char *out)
{
	b64_with(b64std, 1, in, n, out);
}

static int b64_val(const char *alpha, char c)
{
	const char *p = c ? strchr(alpha, c) : NULL;

	return p ? (int)(p - alpha) : -1;
}

/* Decode in (n characters) in alphabet alpha; padded: n % 4 == 0 with '='
 * as needed, else no padding. Canonical only (unused bits zero). */
static long b64_decode_with(const char *alpha, int padded, const char *in, size_t n,
                            unsigned char *out, size_t cap)
{
	size_t pad = 0, o = 0, full;
	uint32_t acc = 0;
	int bits = 0;

	if (padded) {
		if (n % 4)
			return -1;
		while (pad < 2 && n > pad && in[n - 1 - pad] == '=')
			pad++;
	} else if (n % 4 == 1) {
		return -1;
	}
	full = n - pad;
	for (size_t i = 0; i < full; i++) {
		int v = b64_val(alpha, in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* non-canonical: leftover bits set */
		return -1;
	return (long)o;
}

long up_b64_decode(const char *in, unsigned char *out, size_t cap)
{
	return b64_decode_with(b64std, 1, in, strlen(in), out, cap);
}

/* 0 if s is canonical padded base64 of exactly 32 bytes (into raw). */
static int id32(const char *s, unsigned char raw[32])
{
	unsigned char buf[33];
	long n;

	if (!s || strlen(s) != UP_ID_B64_LEN)
		return -1;
	n = up_b64_decode(s, buf, sizeof buf);
	if (n != 32)
		return -1;
	memcpy(raw, buf, 32);
	return 0;
}

int up_app_name(const char *application, const char *instance, char out[UP_APP_LEN + 1])
{
	unsigned char a[32], i[32];
	char ea[UP_TOKEN_LEN + 1], ei[UP_TOKEN_LEN + 1];

	if (id32(application, a) < 0 || id32(instance, i) < 0)
		return -1;
	b64_with(b64url, 0, a, 32, ea);
	b64_with(b64url, 0, i, 32, ei);
	snprintf(out, UP_APP_LEN + 1, "up.%s.%s", ea, ei);
	return 0;
}

int up_app_parse(const char *app, char application[UP_ID_B64_LEN + 1],
                 char instance[UP_ID_B64_LEN + 1])
{
	unsigned char a[33], i[33];

	if (!app || strlen(app) != UP_APP_LEN || strncmp(app, "up.", 3) != 0 || app[46] != '.')
		return -1;
	if (b64_decode_with(b64url, 0, app + 3, 43, a, sizeof a) != 32 ||
	    b64_decode_with(b64url, 0, app + 47, 43, i, sizeof i) != 32)
		return -1;
	up_b64_encode(a, 32, application);
	up_b64_encode(i, 32, instance);
	return 0;
}

int up_token_new(char out[UP_TOKEN_LEN + 1])
{
	unsigned char r[32];

	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	b64_with(b64url, 0, r, sizeof r, out);
	return 0;
}

int up_token_ok(const char *s)
{
	unsigned char r[33];

	return s && strlen(s) == UP_TOKEN_LEN &&
	       b64_decode_with(b64url, 0, s, UP_TOKEN_LEN, r, sizeof r) == 32;
}

int up_acl_allows(const char *acl, const char *bare)
{
	const char *at = strchr(bare, '@');
	const char *dom = at ? at + 1 : bare;
	size_t nb = strlen(bare), nd = strlen(dom);

	for (const char *p = acl; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		while (len && *p == ' ') {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		if (len && ((len == nb && strncasecmp(p, bare, nb) == 0) ||
		            (len == nd && !memchr(p, '@', len) && strncasecmp(p, dom, nd) == 0)))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

int up_decode(const struct xnode *iq, struct up_req *out, char *err, size_t errlen)
{
	const char *type = xnode_attr(iq, "type");
	const struct xnode *c;

	memset(out, 0, sizeof *out);
	if (!iq || strcmp(iq->name, "iq") != 0 || !type || strcmp(type, "set") != 0)
		return UP_NONE;
	for (c = iq->children; c; c = c->next)
		if (strcmp(c->ns, UP_NS) == 0)
			break;
	if (!c)
		return UP_NONE;
	if (strcmp(c->name, "register") == 0)
		out->kind = UP_REGISTER;
	else if (strcmp(c->name, "unregister") == 0)
		out->kind = UP_UNREGISTER;
	else {
		out->kind = UP_REGISTER;
		snprintf(err, errlen, "unknown request <%.40s/>", c->name);
		return -1;
	}
	out->application = xnode_attr(c, "application");
	out->instance = xnode_attr(c, "instance");
	if (!out->application || !out->instance) {
		snprintf(err, errlen, "%s: missing", out->application ? "instance" : "application");
		return -1;
	}
	{
		unsigned char raw[32];
		if (id32(out->application, raw) < 0) {
			snprintf(err, errlen, "application: not canonical base64 of 32 bytes");
			return -1;
		}
		if (id32(out->instance, raw) < 0) {
			snprintf(err, errlen, "instance: not canonical base64 of 32 bytes");
			return -1;
		}
	}
	out->vapid = out->kind == UP_REGISTER ? xnode_attr(c, "vapid") : NULL;
	if (out->vapid && !vapid_key_ok(out->vapid)) {
		snprintf(err, errlen, "vapid: not a P-256 public key (base64url, 65 bytes)");
		return -1;
	}
	return up_app_name(out->application, out->instance, out->app);
}

/* Append raw text; escaped text; fail once, cut back in the caller. */
static int put(struct xbuf *b, const char *s, int esc)
{
	return esc ? xbuf_escape(b, s, strlen(s)) : xbuf_puts(b, s);
}

int up_encode_registered(struct xbuf *b, const char *from, const char *to, const char *id,
                         const char *endpoint, int64_t expires)
{
	size_t orig = b->len;
	time_t t = (time_t)expires;
	struct tm tm;
	char exp[32];
	int rc = 0;

	if (!gmtime_r(&t, &tm))
		return -2;
	strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *parts[] = { "<iq type='result' from='",
		                from,
		                "' to='",
		                to,
		                "' id='",
		                id,
		                "'><registered xmlns='" UP_NS "' endpoint='",
		                endpoint,
		                "' expiration='",
		                exp,
		                "'/></iq>" };
	for (size_t i = 0; !rc && i < sizeof parts / sizeof parts[0]; i++)
		rc = put(b, parts[i], i % 2);
	if (rc)
		xbuf_truncate(b, orig);
	return rc;
}

int up_encode_push(struct xbuf *b, const char *from, const char *to, int64_t notif_id,
                   int64_t device_row, int64_t token, const char *app, const char *payload_b64)
{
	char application[UP_ID_B64_LEN + 1], instance[UP_ID_B64_LEN + 1], id[80];
	size_t orig = b->len;
	int rc = 0;

	if (up_app_parse(app, application, instance) < 0)
		return -2;
	snprintf(id, sizeof id, "xp.%" PRId64 ".%" PRId64 ".%" PRId64, notif_id, device_row, token);
	const char *parts[] = { "<iq type='set' from='",
		                from,
		                "' to='",
		                to,
		                "' id='",
		                id,
		                "'><push xmlns='" UP_NS "' application='",
		                application,
		                "' instance='",
		                instance,
		                "'>",
		                payload_b64 ? payload_b64 : "",
		                "</push></iq>" };
	for (size_t i = 0; !rc && i < sizeof parts / sizeof parts[0]; i++)
		rc = put(b, parts[i], i % 2);
	if (rc)
		xbuf_truncate(b, orig);
	return rc;
}
