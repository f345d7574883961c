/* test_stanza_encode: the urn:xpush:0 protocol, written. The encoders are
 * checked byte-exact and round-tripped through the stream parser and the
 * decoder. */
#include "stanza_helpers.h"

/* A retract IQ carries the token in its id and the notification id inside. */
static void test_encode_retract(void)
{
	struct xbuf b = XBUF_INIT;
	struct stanza_in in;
	struct xnode *st;

	CHECK_INT(stanza_encode_retract(&b, "push.example.org", "a@b/c", 42, 7, 99), 0);
	CHECK_STR(b.data, "<iq type='set' from='push.example.org' to='a@b/c' id='xr.42.7.99'>"
	                  "<retract xmlns='urn:xpush:0' id='42'/></iq>");
	xbuf_reset(&b);
	CHECK_INT(stanza_encode_iq_result(&b, "a@b/c", "push.example.org", "xr.42.7.99"), 0);
	st = parse(b.data);
	CHECK_INT(stanza_decode(st, NULL, &in, NULL, 0), 0);
	CHECK_INT(in.kind, STANZA_ACK);
	CHECK_INT(in.retract, 1);
	CHECK_INT(in.notif_id, 42);
	CHECK_INT(in.token, 99);
	xnode_free(st);
	xbuf_free(&b);
}

/* --- encoders ------------------------------------------------------------ */

static void test_encode_exact(void)
{
	struct xbuf b = XBUF_INIT;
	const struct notif_out full = {
		.from = "push.example.org", .to = "alice@example.org/phone",
		.notif_id = 42, .device_row = 7, .app = "com.example.news",
		.priority = "normal", .collapse = "score", .created = "2026-11-26T10:00:00Z",
		.expires = "2026-11-27T10:00:00Z", .title = "Goal!", .body = "2-1 in the 89th minute",
		.uri = "https://example.org/match/9", .payload = "{\"match\":9}",
	};
	const struct notif_out bare = { .from = "p", .to = "a@b/c", .notif_id = 1, .device_row = 2 };

	CHECK_INT(stanza_encode_notification(&b, &full), 0);
	CHECK_STR(b.data, "<iq type='set' from='push.example.org' to='alice@example.org/phone'"
	          " id='xp.42.7'><notification xmlns='urn:xpush:0' id='42' app='com.example.news'"
	          " priority='normal' collapse='score' created='2026-11-26T10:00:00Z'"
	          " expires='2026-11-27T10:00:00Z'><title>Goal!</title>"
	          "<body>2-1 in the 89th minute</body><uri>https://example.org/match/9</uri>"
	          "<payload>{&quot;match&quot;:9}</payload></notification></iq>");
	xbuf_reset(&b);
	CHECK_INT(stanza_encode_notification(&b, &bare), 0);
	CHECK_STR(b.data, "<iq type='set' from='p' to='a@b/c' id='xp.1.2'>"
	          "<notification xmlns='urn:xpush:0' id='1'></notification></iq>");

	xbuf_reset(&b);
	CHECK_INT(stanza_encode_registered(&b, "push.example.org", "alice@example.org/phone",
	                                   "r1", "com.example.news", "6f1c", 0), 0);
	CHECK_STR(b.data, "<iq type='result' from='push.example.org' to='alice@example.org/phone'"
	          " id='r1'><registered xmlns='urn:xpush:0' app='com.example.news'"
	          " device='6f1c'/></iq>");
	xbuf_reset(&b);
	CHECK_INT(stanza_encode_registered(&b, "p", "a@b/c", "u1", "x", "y", 1), 0);
	CHECK_STR(b.data, "<iq type='result' from='p' to='a@b/c' id='u1'>"
	          "<unregistered xmlns='urn:xpush:0' app='x' device='y'/></iq>");

	xbuf_reset(&b);
	CHECK_INT(stanza_encode_iq_result(&b, "p", "a@b/c", "ping1"), 0);
	CHECK_STR(b.data, "<iq type='result' from='p' to='a@b/c' id='ping1'/>");
	xbuf_reset(&b);
	CHECK_INT(stanza_encode_iq_result(&b, "p", "a@b/c", NULL), 0);
	CHECK_STR(b.data, "<iq type='result' from='p' to='a@b/c'/>");

	xbuf_reset(&b);
	CHECK_INT(stanza_encode_disco_info(&b, "p", "a@b/c", "d1"), 0);
	CHECK_STR(b.data, "<iq type='result' from='p' to='a@b/c' id='d1'>"
	          "<query xmlns='http://jabber.org/protocol/disco#info'>"
	          "<identity category='component' type='generic' name='xpush'/>"
	          "<feature var='http://jabber.org/protocol/disco#info'/>"
	          "<feature var='urn:xmpp:ping'/><feature var='urn:xpush:0'/>"
	          "<feature var='http://gultsch.de/xmpp/drafts/unified-push'/></query></iq>");

	xbuf_reset(&b);
	CHECK_INT(stanza_encode_iq_error(&b, "p", "a@b/c", "r1", "modify", "bad-request",
	                                 "alias longer than 128 bytes"), 0);
	CHECK_STR(b.data, "<iq type='error' from='p' to='a@b/c' id='r1'><error type='modify'>"
	          "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
	          "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>alias longer than 128 bytes"
	          "</text></error></iq>");
	xbuf_reset(&b);
	CHECK_INT(stanza_encode_iq_error(&b, "p", "a@b/c", "x", NULL, "service-unavailable",
	                                 NULL), 0);
	CHECK_STR(b.data, "<iq type='error' from='p' to='a@b/c' id='x'><error type='cancel'>"
	          "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
	          "</error></iq>");
	xbuf_free(&b);
}

static void test_encode_refuses(void)
{
	struct xbuf b = XBUF_INIT;
	struct notif_out n = { .from = "p", .to = "a@b/c", .notif_id = 1, .device_row = 2,
	                       .title = "ok", .body = "bad\x01" };

	CHECK_INT(xbuf_puts(&b, "prefix"), 0);
	CHECK_INT(stanza_encode_notification(&b, &n), -2);
	n.body = "ok";
	n.payload = "\xc3";
	CHECK_INT(stanza_encode_notification(&b, &n), -2);
	n.payload = NULL;
	n.to = "a@b/\xed\xa0\x80";
	CHECK_INT(stanza_encode_notification(&b, &n), -2);
	CHECK_INT(stanza_encode_registered(&b, "p", "t", "i", "a\x02", "d", 0), -2);
	CHECK_INT(stanza_encode_iq_result(&b, "p", "t", "\xff"), -2);
	CHECK_INT(stanza_encode_disco_info(&b, "p\x1b", "t", "i"), -2);
	CHECK_INT(stanza_encode_iq_error(&b, "p", "t", "i", "cancel", "bad-request",
	                                 "text\x0b"), -2);
	CHECK_INT(stanza_encode_iq_error(&b, "p", "t", "i", "cancel", "bad request", NULL), -2);
	CHECK_INT(stanza_encode_iq_error(&b, "p", "t", "i", "cancel", "x'/><evil", NULL), -2);
	CHECK_INT(stanza_encode_iq_error(&b, "p", "t", "i", "cancel", "", NULL), -2);
	CHECK_INT(stanza_encode_iq_error(&b, "p", "t", "i", "cancel", NULL, NULL), -2);
	CHECK_STR(b.data, "prefix");
	CHECK_INT(b.len, 6);
	xbuf_free(&b);
}

/* Hostile text goes out escaped and comes back byte-exact through our own
 * parser, in one block and one byte at a time. */
static void test_notification_round_trip(void)
{
	static const char hostile[] = "<a href=\"x\">&amp; ]]> ' \xc3\xbc \xe6\x97\xa5\xe6\x9c\xac"
		" \xf0\x9f\x98\x80";
	static const char ws[] = " lead\ttab\nlf\r\ncrlf\rcr trail ";
	const struct notif_out n = {
		.from = "push.example.org", .to = "\xc3\xbc@example.org/ph'one\"<>",
		.notif_id = INT64_MAX, .device_row = 3, .app = hostile, .priority = "high",
		.collapse = ws, .created = "2026-11-26T10:00:00Z", .expires = hostile,
		.title = hostile, .body = ws, .uri = "https://x/?a=1&b=<2>", .payload = "{\"k\":\"]]>\"}",
	};
	struct xbuf b = XBUF_INIT;

	CHECK_INT(stanza_encode_notification(&b, &n), 0);
	CHECK(strstr(b.data, "<title>&lt;a href=&quot;x&quot;&gt;&amp;amp; ]]&gt; &apos; ") != NULL);
	for (size_t chunk = 0; chunk <= 1; chunk++) {
		struct xnode *st = parse_chunked(HDR, b.data, b.len, chunk);
		const struct xnode *no = xnode_child(st, "notification", XPUSH_NS);
		struct stanza_in in;

		CHECK(st != NULL && no != NULL);
		if (!no) {
			xnode_free(st);
			continue;
		}
		CHECK_STR(xnode_attr(st, "to"), n.to);
		CHECK_STR(xnode_attr(st, "id"), "xp.9223372036854775807.3");
		CHECK_STR(xnode_attr(no, "id"), "9223372036854775807");
		CHECK_STR(xnode_attr(no, "app"), hostile);
		CHECK_STR(xnode_attr(no, "collapse"), ws);
		CHECK_STR(xnode_attr(no, "expires"), hostile);
		CHECK_STR(xnode_child_text(no, "title"), hostile);
		CHECK_STR(xnode_child_text(no, "body"), ws);
		CHECK_STR(xnode_child_text(no, "uri"), n.uri);
		CHECK_STR(xnode_child_text(no, "payload"), n.payload);
		CHECK_INT(xnode_child(no, "title", XPUSH_NS)->text_len, strlen(hostile));
		/* Our own set is an iq we do not serve: the daemon would refuse it. */
		CHECK_INT(stanza_decode(st, NULL, &in, NULL, 0), 0);
		CHECK_INT(in.kind, STANZA_IQ_UNKNOWN);
		xnode_free(st);
	}
	xbuf_free(&b);
}

/* An encoded error reply decodes as the NACK the device's server would
 * bounce, with the condition and text intact. */
static void test_error_round_trip(void)
{
	struct xbuf b = XBUF_INIT;
	struct stanza_in in;
	struct xnode *st;

	CHECK_INT(stanza_encode_iq_error(&b, "a@b/c", "push.example.org", "xp.5.6", "cancel",
	                                 "service-unavailable", "gone <now> & 'then'"), 0);
	st = parse(b.data);
	CHECK_INT(stanza_decode(st, NULL, &in, NULL, 0), 0);
	CHECK_INT(in.kind, STANZA_NACK);
	CHECK_INT(in.notif_id, 5);
	CHECK_INT(in.device_row, 6);
	CHECK_STR(in.error_condition, "service-unavailable");
	CHECK_STR(in.error_text, "gone <now> & 'then'");
	xnode_free(st);
	xbuf_free(&b);
}

TEST_MAIN(
	T(test_encode_retract),
	T(test_encode_exact),
	T(test_encode_refuses),
	T(test_notification_round_trip),
	T(test_error_round_trip),
)
