/* Unit tests for component/unifiedpush (the UnifiedPush-over-XMPP forms) and
 * component/webpush_req (the Web Push request's forms): no sockets, no SQL. */
#include <string.h>

#include "stanza_helpers.h"
#include "unifiedpush.h"
#include "webpush_req.h"

/* Canonical base64 of 32 bytes, as Conversations sends them (the up README's). */
#define APPID "bK3sdmrbtj3bf6XA2S12b8jJUA5TT1dhPEyeoZfVSRM="
#define INST "EtD/1XPLmoIph7W73CZ/uyv6FAnhEAXY1GySHX17vAw="

static int decode(const char *xml, struct up_req *rq, char *err, size_t n)
{
	struct xnode *st = parse(xml);
	int rc;

	if (!st)
		return -99;
	rc = up_decode(st, rq, err, n);
	/* the borrowed strings die with the tree: keep only what the test reads */
	if (rq->application)
		rq->application = "";
	if (rq->instance)
		rq->instance = "";
	xnode_free(st);
	return rc;
}

static void register_decoded(void)
{
	struct up_req rq;
	char err[160] = "";

	CHECK_INT(decode("<iq type='set' id='r1' " DEV "><register xmlns='" UP_NS
	                 "' application='" APPID "' instance='" INST "'/></iq>",
	                 &rq, err, sizeof err),
	          0);
	CHECK_INT(rq.kind, UP_REGISTER);
	CHECK_STR(rq.app, "up.bK3sdmrbtj3bf6XA2S12b8jJUA5TT1dhPEyeoZfVSRM"
	                  ".EtD_1XPLmoIph7W73CZ_uyv6FAnhEAXY1GySHX17vAw");
	CHECK_INT(strlen(rq.app), UP_APP_LEN);
	CHECK_INT(decode("<iq type='set' id='r1' " DEV "><unregister xmlns='" UP_NS
	                 "' application='" APPID "' instance='" INST "'/></iq>",
	                 &rq, err, sizeof err),
	          0);
	CHECK_INT(rq.kind, UP_UNREGISTER);
}

static void not_ours_or_bad(void)
{
	struct up_req rq;
	char err[160] = "";

	/* another namespace, a get, a message: not a UnifiedPush request */
	CHECK_INT(decode("<iq type='set' id='r1' " DEV "><register xmlns='urn:xpush:0'/></iq>", &rq,
	                 err, sizeof err),
	          UP_NONE);
	CHECK_INT(rq.kind, UP_NONE);
	CHECK_INT(decode("<iq type='get' id='r1' " DEV "><register xmlns='" UP_NS "'/></iq>", &rq,
	                 err, sizeof err),
	          UP_NONE);
	/* ours but wrong: each with a reason */
	CHECK_INT(decode("<iq type='set' id='r1' " DEV "><register xmlns='" UP_NS
	                 "' instance='" INST "'/></iq>",
	                 &rq, err, sizeof err),
	          -1);
	CHECK_STR(err, "application: missing");
	CHECK_INT(decode("<iq type='set' id='r1' " DEV "><register xmlns='" UP_NS
	                 "' application='abc=' instance='" INST "'/></iq>",
	                 &rq, err, sizeof err),
	          -1);
	CHECK_STR(err, "application: not canonical base64 of 32 bytes");
	/* 32 bytes but the unused bits set: not canonical (the round trip would differ) */
	CHECK_INT(decode("<iq type='set' id='r1' " DEV "><register xmlns='" UP_NS
	                 "' application='" APPID "' instance='"
	                 "EtD/1XPLmoIph7W73CZ/uyv6FAnhEAXY1GySHX17vAx='/></iq>",
	                 &rq, err, sizeof err),
	          -1);
	CHECK_STR(err, "instance: not canonical base64 of 32 bytes");
	CHECK_INT(decode("<iq type='set' id='r1' " DEV "><register xmlns='" UP_NS
	                 "' application='" APPID "' instance='" INST "' vapid='abc'/></iq>",
	                 &rq, err, sizeof err),
	          -1);
	CHECK_STR(err, "vapid: not a P-256 public key (base64url, 65 bytes)");
	CHECK_INT(decode("<iq type='set' id='r1' " DEV "><flood xmlns='" UP_NS "'/></iq>", &rq, err,
	                 sizeof err),
	          -1);
	CHECK_STR(err, "unknown request <flood/>");
}

static void app_name_round_trip(void)
{
	char app[UP_APP_LEN + 1], a[UP_ID_B64_LEN + 1], i[UP_ID_B64_LEN + 1];

	CHECK_INT(up_app_name(APPID, INST, app), 0);
	CHECK_INT(up_app_parse(app, a, i), 0);
	CHECK_STR(a, APPID);
	CHECK_STR(i, INST);
	/* native apps are not registrations */
	CHECK_INT(up_app_parse("org.example.chat", a, i), -1);
	CHECK_INT(up_app_parse("up.short.name", a, i), -1);
	app[10] = '*';
	CHECK_INT(up_app_parse(app, a, i), -1);
}

static void tokens(void)
{
	char t1[UP_TOKEN_LEN + 1], t2[UP_TOKEN_LEN + 1];

	CHECK_INT(up_token_new(t1), 0);
	CHECK_INT(up_token_new(t2), 0);
	CHECK_INT(strlen(t1), UP_TOKEN_LEN);
	CHECK(strcmp(t1, t2) != 0);
	CHECK_INT(up_token_ok(t1), 1);
	CHECK_INT(up_token_ok("short"), 0);
	t1[5] = '+'; /* not base64url */
	CHECK_INT(up_token_ok(t1), 0);
	CHECK_INT(up_token_ok(NULL), 0);
}

static void acl(void)
{
	CHECK_INT(up_acl_allows("example.org", "alice@example.org"), 1);
	CHECK_INT(up_acl_allows("example.org", "alice@evil.org"), 0);
	CHECK_INT(up_acl_allows("bob@example.org, other.net", "alice@example.org"), 0);
	CHECK_INT(up_acl_allows("bob@example.org, other.net", "BOB@example.org"), 1);
	CHECK_INT(up_acl_allows(" other.net ,x", "c@other.net"), 1);
	/* a JID entry does not admit its whole domain */
	CHECK_INT(up_acl_allows("bob@example.org", "example.org"), 0);
	CHECK_INT(up_acl_allows("", "alice@example.org"), 0);
}

static void encoders(void)
{
	struct xbuf b = XBUF_INIT;
	char app[UP_APP_LEN + 1];

	CHECK_INT(up_encode_registered(&b, "push.example.org", "a@example.org/c", "r1",
	                               "https://push.example.org/up/T", 0),
	          0);
	CHECK_STR(b.data, "<iq type='result' from='push.example.org' to='a@example.org/c' id='r1'>"
	                  "<registered xmlns='" UP_NS "' endpoint='https://push.example.org/up/T'"
	                  " expiration='1970-01-01T00:00:00Z'/></iq>");
	xbuf_reset(&b);
	CHECK_INT(up_app_name(APPID, INST, app), 0);
	CHECK_INT(up_encode_push(&b, "push.example.org", "a@example.org/c", 7, 3, 9, app, "AAE="),
	          0);
	CHECK_STR(b.data, "<iq type='set' from='push.example.org' to='a@example.org/c'"
	                  " id='xp.7.3.9'><push xmlns='" UP_NS "' application='" APPID
	                  "' instance='" INST "'>AAE=</push></iq>");
	/* not a registration's app: nothing written */
	xbuf_reset(&b);
	CHECK_INT(up_encode_push(&b, "p", "t", 1, 1, 1, "org.example", "AA=="), -2);
	CHECK_INT(b.len, 0);
	xbuf_free(&b);
}

static void base64(void)
{
	unsigned char raw[4] = { 0, 1, 0xfe, 0xff }, out[8];
	char enc[16];

	up_b64_encode(raw, 4, enc);
	CHECK_STR(enc, "AAH+/w==");
	CHECK_INT(up_b64_decode(enc, out, sizeof out), 4);
	CHECK(memcmp(out, raw, 4) == 0);
	up_b64_encode(raw, 0, enc);
	CHECK_STR(enc, "");
	CHECK_INT(up_b64_decode("AAH", out, sizeof out), -1);
	CHECK_INT(up_b64_decode("AA*=", out, sizeof out), -1);
}

static void web_push_path(void)
{
	char tok[44];
	int64_t msg;
	const char *t = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"; /* no /up/ */

	/* 43 base64url characters whose last one keeps the unused bits zero */
	CHECK_INT(wp_parse_path("/up/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPA", tok, &msg),
	          WP_ENDPOINT);
	CHECK_STR(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPA");
	CHECK_INT(wp_parse_path("/up/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPA/42", tok, &msg),
	          WP_MESSAGE);
	CHECK_INT(msg, 42);
	CHECK_INT(wp_parse_path(t, tok, &msg), WP_BAD_PATH);
	CHECK_INT(wp_parse_path("/up/short", tok, &msg), WP_BAD_PATH);
	CHECK_INT(wp_parse_path("/up/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPA/042", tok, &msg),
	          WP_BAD_PATH);
	CHECK_INT(wp_parse_path("/up/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPA/x", tok, &msg),
	          WP_BAD_PATH);
	CHECK_INT(wp_parse_path("/up/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP+", tok, &msg),
	          WP_BAD_PATH);
	CHECK_INT(wp_parse_path("/metrics", tok, &msg), WP_BAD_PATH);
}

static void web_push_headers(void)
{
	const char *why = NULL;

	CHECK_INT(wp_parse_ttl(NULL), WP_DEFAULT_TTL);
	CHECK_INT(wp_parse_ttl("0"), 0);
	CHECK_INT(wp_parse_ttl("60"), 60);
	CHECK_INT(wp_parse_ttl("99999999999"), WP_MAX_TTL);
	CHECK_INT(wp_parse_ttl("-1"), -1);
	CHECK_INT(wp_parse_ttl("1e3"), -1);
	CHECK_INT(wp_parse_ttl(""), -1);
	CHECK_INT(wp_parse_ttl("9999999999999999999999"), -1);
	CHECK_STR(wp_parse_urgency(NULL), "normal");
	CHECK_STR(wp_parse_urgency("very-low"), "normal");
	CHECK_STR(wp_parse_urgency("low"), "normal");
	CHECK_STR(wp_parse_urgency("high"), "high");
	CHECK(wp_parse_urgency("urgent") == NULL);
	CHECK(wp_parse_urgency("HIGH") == NULL);
	CHECK_INT(wp_parse_topic(NULL), 0);
	CHECK_INT(wp_parse_topic("chat-1_x"), 1);
	CHECK_INT(wp_parse_topic(""), -1);
	CHECK_INT(wp_parse_topic("a b"), -1);
	CHECK_INT(wp_parse_topic("012345678901234567890123456789012"), -1);
	CHECK_INT(wp_check("POST", WP_ENDPOINT, 10, "60", "high", "t", &why), 0);
	CHECK_INT(wp_check("POST", WP_ENDPOINT, 4097, NULL, NULL, NULL, &why), 413);
	CHECK_INT(wp_check("POST", WP_ENDPOINT, 4096, NULL, NULL, NULL, &why), 0);
	CHECK_INT(wp_check("POST", WP_ENDPOINT, -1, "soon", NULL, NULL, &why), 400);
	CHECK_STR(why, "TTL: not a non-negative number of seconds");
	CHECK_INT(wp_check("POST", WP_ENDPOINT, -1, NULL, "now", NULL, &why), 400);
	CHECK_INT(wp_check("POST", WP_ENDPOINT, -1, NULL, NULL, "a/b", &why), 400);
	CHECK_INT(wp_check("POST", WP_BAD_PATH, -1, NULL, NULL, NULL, &why), 404);
	CHECK_INT(wp_check("PUT", WP_ENDPOINT, -1, NULL, NULL, NULL, &why), 405);
	CHECK_INT(wp_check("DELETE", WP_ENDPOINT, -1, NULL, NULL, NULL, &why), 405);
	CHECK_INT(wp_check("DELETE", WP_MESSAGE, -1, NULL, NULL, NULL, &why), 0);
	CHECK_INT(wp_check("POST", WP_MESSAGE, -1, NULL, NULL, NULL, &why), 405);
}

TEST_MAIN(T(register_decoded), T(not_ours_or_bad), T(app_name_round_trip), T(tokens), T(acl),
          T(encoders), T(base64), T(web_push_path), T(web_push_headers))
