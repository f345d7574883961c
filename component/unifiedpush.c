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

#include "base64.h"
#include "jid.h"
#include "vapid.h"

void up_b64_encode(const unsigned char *in, size_t n, char *out)
{
	b64_encode(B64_STD, 1, in, n, out);
}

long up_b64_decode(const char *in, unsigned char *out, size_t cap)
{
	return b64_decode(B64_STD, 1, in, strlen(in), out, cap);
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
	b64_encode(B64_URL, 0, a, 32, ea);
	b64_encode(B64_URL, 0, i, 32, ei);
	snprintf(out, UP_APP_LEN + 1, "up.%s.%s", ea, ei);
	return 0;
}

int up_app_parse(const char *app, char application[UP_ID_B64_LEN + 1],
                 char instance[UP_ID_B64_LEN + 1])
{
	unsigned char a[33], i[33];

	if (!app || strlen(app) != UP_APP_LEN || strncmp(app, "up.", 3) != 0 || app[46] != '.')
		return -1;
	if (b64_decode(B64_URL, 0, app + 3, 43, a, sizeof a) != 32 ||
	    b64_decode(B64_URL, 0, app + 47, 43, i, sizeof i) != 32)
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
	b64_encode(B64_URL, 0, r, sizeof r, out);
	return 0;
}

int up_token_ok(const char *s)
{
	unsigned char r[33];

	return s && strlen(s) == UP_TOKEN_LEN &&
	       b64_decode(B64_URL, 0, s, UP_TOKEN_LEN, r, sizeof r) == 32;
}

int up_acl_allows(const char *acl, const char *bare)
{
	return jid_listed(acl, ',', bare);
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
