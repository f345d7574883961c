/* test_cli_format: xpush-client's stdout formats (cli/cli_format.c). */
#include <string.h>

#include "cli_format.h"
#include "test.h"

static const char *human(const struct xpush_notification *n)
{
	static char out[4096];
	struct cbuf b = { 0 };

	cli_format_human(&b, n);
	snprintf(out, sizeof out, "%s", b.oom ? "OOM" : b.p);
	cbuf_free(&b);
	return out;
}

static const char *json(const struct xpush_notification *n)
{
	static char out[4096];
	struct cbuf b = { 0 };

	cli_format_json(&b, n);
	snprintf(out, sizeof out, "%s", b.oom ? "OOM" : b.p);
	cbuf_free(&b);
	return out;
}

static void test_human(void)
{
	struct xpush_notification n;

	memset(&n, 0, sizeof n);
	n.id = "42";
	n.app = "com.example";
	n.title = "Goal!";
	n.body = "2-1 in the 89th minute";
	n.uri = "https://example.org/m/9";
	n.payload = "{\"x\":1}";
	n.priority = "high";
	CHECK_STR(human(&n), "notification id=42 app=com.example title=\"Goal!\" "
			     "body=\"2-1 in the 89th minute\" uri=\"https://example.org/m/9\"\n");
	n.app = NULL;
	n.uri = NULL;
	n.body = NULL;
	CHECK_STR(human(&n), "notification id=42 title=\"Goal!\"\n");
	n.title = "a\"b\\c\nd\te\rf\x01g\x7fh\xc3\xbc";
	CHECK_STR(human(&n), "notification id=42 title=\"a\\\"b\\\\c\\nd\\te\\rf\\x01g\\x7fh\xc3\xbc\"\n");
	n.title = "";
	CHECK_STR(human(&n), "notification id=42 title=\"\"\n");
	n.title = NULL;
	n.app = "my app";
	CHECK_STR(human(&n), "notification id=42 app=\"my app\"\n");
	n.app = "a=b";
	CHECK_STR(human(&n), "notification id=42 app=\"a=b\"\n");
	n.uri = "u";
	n.collapse = "score";
	CHECK_STR(human(&n), "notification id=42 app=\"a=b\" uri=\"u\" collapse=score\n");
	n.collapse = "two words";
	CHECK_STR(human(&n), "notification id=42 app=\"a=b\" uri=\"u\" collapse=\"two words\"\n");
}

static void test_retract(void)
{
	struct xpush_retract r;
	struct cbuf b = { 0 };

	memset(&r, 0, sizeof r);
	r.id = "42";
	r.from = "push.example.org";
	cli_format_retract_human(&b, &r);
	CHECK_STR(b.p, "retract id=42\n");
	b.len = 0;
	cli_format_retract_json(&b, &r);
	CHECK_STR(b.p, "{\"event\":\"retract\",\"id\":\"42\"}\n");
	cbuf_free(&b);
}

static void test_json(void)
{
	struct xpush_notification n;

	memset(&n, 0, sizeof n);
	n.id = "42";
	n.app = "com.example";
	n.priority = "normal";
	n.title = "t";
	n.body = "b";
	n.uri = "u";
	n.payload = "{\"match\":9}";
	n.expires = "2026-11-26T10:00:00Z"; /* not printed */
	CHECK_STR(json(&n), "{\"id\":\"42\",\"app\":\"com.example\",\"priority\":\"normal\",\"title\":\"t\","
			    "\"body\":\"b\",\"uri\":\"u\",\"payload\":\"{\\\"match\\\":9}\"}\n");
	n.collapse = "score \"9\"";
	CHECK_STR(json(&n), "{\"id\":\"42\",\"app\":\"com.example\",\"priority\":\"normal\","
			    "\"collapse\":\"score \\\"9\\\"\",\"title\":\"t\","
			    "\"body\":\"b\",\"uri\":\"u\",\"payload\":\"{\\\"match\\\":9}\"}\n");
	memset(&n, 0, sizeof n);
	n.id = "7";
	n.body = "x";
	CHECK_STR(json(&n), "{\"id\":\"7\",\"body\":\"x\"}\n");
}

static const char *jq(const char *s)
{
	static char out[1024];
	struct cbuf b = { 0 };

	cli_quote_json(&b, s);
	snprintf(out, sizeof out, "%s", b.p);
	cbuf_free(&b);
	return out;
}

static void test_json_escaping(void)
{
	CHECK_STR(jq(""), "\"\"");
	CHECK_STR(jq("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
	CHECK_STR(jq("\n\t\r\x01\x1f"), "\"\\u000a\\u0009\\u000d\\u0001\\u001f\"");
	CHECK_STR(jq("\x7f"), "\"\x7f\"");
	/* valid UTF-8 passes through: 2, 3 and 4 byte sequences, U+2028 */
	CHECK_STR(jq("\xc3\xbc \xe6\x9d\xb1 \xf0\x9f\x98\x80 \xe2\x80\xa8"),
		  "\"\xc3\xbc \xe6\x9d\xb1 \xf0\x9f\x98\x80 \xe2\x80\xa8\"");
	/* invalid: lone continuation, truncated, overlong, surrogate, > U+10FFFF */
	CHECK_STR(jq("\x80"), "\"\\ufffd\"");
	CHECK_STR(jq("a\xc3"), "\"a\\ufffd\"");
	CHECK_STR(jq("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	CHECK_STR(jq("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK_STR(jq("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	CHECK_STR(jq("\xe6\x9d"), "\"\\ufffd\\ufffd\"");
}

static void test_cbuf_growth(void)
{
	struct cbuf b = { 0 };
	char big[5000];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cli_quote_c(&b, big);
	CHECK(!b.oom);
	CHECK_INT(b.len, sizeof big - 1 + 2);
	cbuf_free(&b);
	CHECK(b.p == NULL);
}

TEST_MAIN(T(test_human), T(test_json), T(test_retract), T(test_json_escaping), T(test_cbuf_growth))
