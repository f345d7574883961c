/* test_notify: decoding <notification xmlns='urn:xpush:0'/> (client/notify.c)
 * from stanzas parsed by libstrophe, without a connection. */
#include <strophe.h>

#include "notify.h"
#include "test.h"

static xmpp_ctx_t *ctx;

static xmpp_stanza_t *parse(const char *xml)
{
	xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);

	CHECK(st != NULL);
	return st;
}

static void test_full(void)
{
	xmpp_stanza_t *n = parse(
		"<notification xmlns='urn:xpush:0' id='42' app='com.example.news' priority='high'"
		" collapse='score' expires='2026-11-26T10:00:00Z' created='2026-11-25T10:00:00Z'>"
		"<title>Tom &amp; &quot;Jerry&quot; &lt;3</title>"
		"<body>line1\nline2 \xc3\xbc \xf0\x9f\x98\x80</body>"
		"<uri>https://example.org/?a=1&amp;b=2</uri>"
		"<payload>{\"match\":9}</payload></notification>");
	struct notify_fields f;
	const char *err = NULL;

	CHECK_INT(notify_parse(n, &f, &err), 0);
	CHECK_STR(f.id, "42");
	CHECK_STR(f.app, "com.example.news");
	CHECK_STR(f.priority, "high");
	CHECK_STR(f.collapse, "score");
	CHECK_STR(f.expires, "2026-11-26T10:00:00Z");
	CHECK_STR(f.created, "2026-11-25T10:00:00Z");
	CHECK_STR(f.title, "Tom & \"Jerry\" <3");
	CHECK_STR(f.body, "line1\nline2 \xc3\xbc \xf0\x9f\x98\x80");
	CHECK_STR(f.uri, "https://example.org/?a=1&b=2");
	CHECK_STR(f.payload, "{\"match\":9}");
	notify_fields_free(&f);
	xmpp_stanza_release(n);
}

static void test_absent_and_empty(void)
{
	xmpp_stanza_t *n = parse("<notification xmlns='urn:xpush:0' id='7'><title/><body></body></notification>");
	struct notify_fields f;
	const char *err = NULL;

	CHECK_INT(notify_parse(n, &f, &err), 0);
	CHECK_STR(f.title, "");
	CHECK_STR(f.body, "");
	CHECK(f.uri == NULL);
	CHECK(f.payload == NULL);
	CHECK(f.app == NULL);
	CHECK(f.priority == NULL);
	notify_fields_free(&f);
	xmpp_stanza_release(n);
}

static void test_bad_ids(void)
{
	static const char *const bad[] = {
		"<notification xmlns='urn:xpush:0'><title>x</title></notification>",
		"<notification xmlns='urn:xpush:0' id=''/>",
		"<notification xmlns='urn:xpush:0' id='4 2'/>",
		"<notification xmlns='urn:xpush:0' id='4&#10;2'/>",
		"<notification xmlns='urn:xpush:0' id='caf&#233;'/>",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xmpp_stanza_t *n = parse(bad[i]);
		struct notify_fields f;
		const char *err = NULL;

		if (!n)
			continue;
		CHECK_INT(notify_parse(n, &f, &err), -1);
		CHECK(err != NULL && *err);
		xmpp_stanza_release(n);
	}
}

static void setup(void)
{
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	CHECK(ctx != NULL);
}

static void teardown(void)
{
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
}

TEST_MAIN(T(setup), T(test_full), T(test_absent_and_empty), T(test_bad_ids), T(teardown))
