/* test_ctl: unit tests of xpushctl's pure parts: option parsing and its
 * one-line usage errors, ISO time normalisation, text checks, JSON and
 * terminal escaping. No database. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* open_memstream */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_args.h"
#include "ctl_out.h"
#include "ctl_rows.h"
#include "ctl_time.h"
#include "num.h"
#include "test.h"

static char err[512];

/* Parse a NULL-terminated word list; returns the rc and leaves err set. */
static int parse(struct ctl_cmd *c, const char **words)
{
	char *argv[64];
	int argc = 0;

	for (; words[argc]; argc++)
		argv[argc] = (char *)words[argc];
	argv[argc] = NULL;
	return ctl_args_parse(argc, argv, c, err, sizeof err);
}

#define ARGS(...) ((const char *[]){ "xpushctl", __VA_ARGS__, NULL })

static void usage_error(const char **words, const char *want)
{
	struct ctl_cmd c;

	CHECK_INT(parse(&c, words), -1);
	CHECK_STR(err, want);
	ctl_args_free(&c);
}

static void test_send_ok(void)
{
	struct ctl_cmd c;

	CHECK_INT(parse(&c, ARGS("-d", "dbname=x", "send", "--app", "a", "--jid", "u@d",
	                         "--device", "p1", "--tag", "t1", "--tag", "t2", "--tag-not", "n",
	                         "--ttl", "0", "--priority", "high", "--dedup", "k", "--json")), 0);
	CHECK_INT(c.cmd, CTL_CMD_SEND);
	CHECK_STR(c.conninfo, "dbname=x");
	CHECK_INT(c.json, 1);
	CHECK_STR(c.send.app, "a");
	CHECK_STR(c.send.device, "p1");
	CHECK_INT(c.send.tags_any.n, 2);
	CHECK_STR(c.send.tags_any.v[1], "t2");
	CHECK_INT(c.send.tags_none.n, 1);
	CHECK_INT(c.send.ttl, 0);
	CHECK_STR(c.send.priority, "high");
	CHECK_STR(c.send.dedup, "k");
	ctl_args_free(&c);

	CHECK_INT(parse(&c, ARGS("send", "--app", "a", "--broadcast", "--tag-not", "beta",
	                         "--expires", "2030-01-02T03:04:05Z")), 0);
	CHECK_INT(c.send.broadcast, 1);
	CHECK_INT(c.send.ttl, -1);
	CHECK_STR(c.send.priority, "normal");
	CHECK_STR(c.send.expires, "2030-01-02T03:04:05Z");
	ctl_args_free(&c);
}

static void test_send_errors(void)
{
	usage_error(ARGS("send", "--app", "a", "--broadcast", "--ttl", "-5"),
	            "send: --ttl: '-5' is not a whole number in 0..2419200");
	usage_error(ARGS("send", "--app", "a", "--broadcast", "--ttl", "2419201"),
	            "send: --ttl: '2419201' is not a whole number in 0..2419200");
	usage_error(ARGS("send", "--broadcast"), "send: --app is required");
	usage_error(ARGS("send", "--app", "a"),
	            "send: no target: give --jid, --alias, --tag, --tag-all or --broadcast");
	usage_error(ARGS("send", "--app", "a", "--tag-not", "x"),
	            "send: no target: give --jid, --alias, --tag, --tag-all or --broadcast");
	usage_error(ARGS("send", "--app", "a", "--device", "d", "--alias", "x"),
	            "send: --device needs --jid");
	usage_error(ARGS("send", "--app", "a", "--broadcast", "--ttl", "5", "--expires", "2030-01-01"),
	            "send: --ttl and --expires exclude each other");
	usage_error(ARGS("send", "--app", "a", "--jid", "u@d/res"),
	            "send: --jid: 'u@d/res' must be a bare JID (no /resource)");
	usage_error(ARGS("send", "--app", "", "--broadcast"), "send: --app: must not be empty");
	usage_error(ARGS("send", "--app", "a", "--broadcast", "--priority", "urgent"),
	            "send: --priority: 'urgent' is not normal or high");
	usage_error(ARGS("send", "--app", "a", "--broadcast", "--title", "x", "--title", "y"),
	            "send: --title given twice");
	usage_error(ARGS("send", "--app", "a", "--broadcast", "--not-before", "tomorrow"),
	            "send: --not-before: 'tomorrow' is not an ISO 8601 time "
	            "(YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|+HH:MM])");
	usage_error(ARGS("send", "--app", "a", "--broadcast", "--body", "a\001b"),
	            "send: --body: the value contains a control character that XML cannot carry");
	usage_error(ARGS("send", "--app", "a", "--broadcast", "--nope"),
	            "send: unknown or malformed option '--nope' (see xpushctl send --help)");
	usage_error(ARGS("send", "--app", "a", "--broadcast", "--ttl"),
	            "send: --ttl needs a value (see xpushctl send --help)");
	usage_error(ARGS("send", "--app", "a", "--broadcast", "stray"),
	            "send: unexpected argument 'stray' (see xpushctl send --help)");
}

static void test_other_commands(void)
{
	struct ctl_cmd c;

	CHECK_INT(parse(&c, ARGS("status", "42", "--json", "--limit", "0")), 0);
	CHECK_INT(c.cmd, CTL_CMD_STATUS);
	CHECK_INT(c.status.id, 42);
	CHECK_INT(c.status.limit, 0);
	CHECK_INT(c.json, 1);
	ctl_args_free(&c);
	CHECK_INT(parse(&c, ARGS("devices", "--online", "--tag", "a", "--app", "x")), 0);
	CHECK_INT(c.devices.online, 1);
	CHECK_INT(c.devices.tags.n, 1);
	CHECK_INT(c.devices.limit, 1000);
	ctl_args_free(&c);
	CHECK_INT(parse(&c, ARGS("retract", "7")), 0);
	CHECK_INT(c.retract.id, 7);
	ctl_args_free(&c);
	CHECK_INT(parse(&c, ARGS("send", "--help")), 0);
	CHECK_INT(c.help, 1);
	CHECK_INT(c.cmd, CTL_CMD_SEND);
	ctl_args_free(&c);
	CHECK_INT(parse(&c, ARGS("help", "stats")), 0);
	CHECK_INT(c.help, 1);
	CHECK_INT(c.cmd, CTL_CMD_STATS);
	ctl_args_free(&c);

	usage_error(ARGS("status"), "status: missing notification id (see xpushctl status --help)");
	usage_error(ARGS("status", "0"),
	            "status: '0' is not a notification id (a whole number in 1..9223372036854775807)");
	usage_error(ARGS("retract", "1", "2"),
	            "retract: unexpected argument '2' (see xpushctl retract --help)");
	usage_error(ARGS("devices", "--online", "--offline"),
	            "devices: --online and --offline exclude each other");
	usage_error(ARGS("frob"), "unknown subcommand 'frob' (see xpushctl --help)");
	usage_error((const char *[]){ "xpushctl", NULL },
	            "missing subcommand: send, status, devices, stats, retract, app, device or watch (see "
	            "xpushctl --help)");
}

static void test_time(void)
{
	char out[CTL_TIME_LEN];

	CHECK_INT(ctl_time_parse("2030-01-02T03:04:05Z", out, sizeof out), 0);
	CHECK_STR(out, "2030-01-02T03:04:05Z");
	CHECK_INT(ctl_time_parse("2030-01-02 03:04+02:00", out, sizeof out), 0);
	CHECK_STR(out, "2030-01-02T01:04:00Z");
	CHECK_INT(ctl_time_parse("2030-01-02T00:30:00-0100", out, sizeof out), 0);
	CHECK_STR(out, "2030-01-02T01:30:00Z");
	CHECK_INT(ctl_time_parse("2030-01-02T03:04:05.1234567Z", out, sizeof out), 0);
	CHECK_STR(out, "2030-01-02T03:04:05.123456Z");
	CHECK_INT(ctl_time_parse("2028-02-29Z", out, sizeof out), 0);
	CHECK_STR(out, "2028-02-29T00:00:00Z");
	setenv("TZ", "UTC", 1);
	CHECK_INT(ctl_time_parse("2030-06-01T12:00", out, sizeof out), 0);
	CHECK_STR(out, "2030-06-01T12:00:00Z");

	static const char *const bad[] = {
		"", "2030", "2030-1-02", "2030-13-01", "2029-02-29", "2030-01-32", "1969-12-31",
		"2030-01-02T24:00", "2030-01-02T10", "2030-01-02T10:00:60", "2030-01-02T10:00Z+",
		"2030-01-02T10:00+25:00", "2030-01-02T10:00:00.", "tomorrow", "2030-01-02x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = ctl_time_parse(bad[i], out, sizeof out);
		if (rc != -1)
			fprintf(stderr, "accepted: '%s'\n", bad[i]);
		CHECK_INT(rc, -1);
	}
}

static void test_text_checks(void)
{
	const char *why = NULL;
	unsigned long long v;

	CHECK_INT(ctl_check_text("h\xc3\xa9llo \xf0\x9f\x98\x80\t\n", 13, &why), 0);
	CHECK_INT(ctl_check_text("a\0b", 3, &why), -1);
	CHECK_STR(why, "contains a NUL byte");
	CHECK_INT(ctl_check_text("\xc3", 1, &why), -1);
	CHECK_INT(ctl_check_text("\xc0\xaf", 2, &why), -1);          /* overlong */
	CHECK_INT(ctl_check_text("\xed\xa0\x80", 3, &why), -1);      /* surrogate */
	CHECK_STR(why, "is not valid UTF-8");
	CHECK_INT(num_parse_uint("10", 0, 10, &v), 0);
	CHECK_INT(v, 10);
	CHECK_INT(num_parse_uint("11", 0, 10, &v), -1);
	CHECK_INT(num_parse_uint("+1", 0, 10, &v), -1);
	CHECK_INT(num_parse_uint(" 1", 0, 10, &v), -1);
	CHECK_INT(num_parse_uint("1x", 0, 10, &v), -1);
	CHECK_INT(num_parse_uint("99999999999999999999999", 0, ~0ull, &v), -1);
}

/* Capture what fn writes to a FILE. */
static char *capture(void (*fn)(FILE *, const struct ctl_rows *), const struct ctl_rows *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, r);
	fclose(f);
	return buf;
}

static struct ctl_rows *sample(void)
{
	struct ctl_rows *r = ctl_rows_new(4, 2);
	static const char *const names[] = { "id", "title", "online", "tags" };
	static const enum ctl_kind kinds[] = { CTL_KIND_NUMBER, CTL_KIND_TEXT, CTL_KIND_BOOL,
	                                       CTL_KIND_JSON };
	static const char *const cells[] = {
		"1", "a \"q\" \\ \n\x01\x1b[31m\xc2\x9b", "t", "[\"x\"]",
		"22", NULL, "f", NULL,
	};

	for (int c = 0; c < 4; c++) {
		r->names[c] = strdup(names[c]);
		r->kinds[c] = kinds[c];
	}
	for (int i = 0; i < 8; i++)
		r->cells[i] = cells[i] ? strdup(cells[i]) : NULL;
	return r;
}

static void test_json(void)
{
	struct ctl_rows *r = sample();
	char *s = capture(ctl_out_json_array, r);

	CHECK_STR(s, "[{\"id\":1,\"title\":\"a \\\"q\\\" \\\\ \\n\\u0001\\u001b[31m\xc2\x9b\","
	             "\"online\":true,\"tags\":[\"x\"]},"
	             "{\"id\":22,\"title\":null,\"online\":false,\"tags\":null}]");
	free(s);
	ctl_rows_free(r);
}

static void test_text(void)
{
	struct ctl_rows *r = sample();
	char *s = capture(ctl_out_table, r);

	CHECK_STR(s, "ID  TITLE                         ONLINE  TAGS\n"
	             "1   a \"q\" \\ \\n\\x01\\x1b[31m\\u009b  yes     [\"x\"]\n"
	             "22  -                             no      -\n");
	free(s);
	ctl_rows_free(r);
}

TEST_MAIN(T(test_send_ok), T(test_send_errors), T(test_other_commands), T(test_time),
          T(test_text_checks), T(test_json), T(test_text))
