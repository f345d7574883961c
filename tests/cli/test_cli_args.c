/* test_cli_args: xpush-client's command line (cli/cli_args.c): what a valid
 * one sets in the configuration, and one clear line for each kind of bad
 * input, the first error winning. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "cli_args.h"
#include "test.h"

static char dir[128];
static char err[512];
static struct cli_args a;  /* its strings point into argv */
static char *argv[64];     /* kept until the next parse */
static int argc;

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Parse the NULL-terminated arguments (after the program name) into a
 * fresh configuration; *cfg_out (if not NULL) keeps it for the caller. */
static enum cli_args_result parse_v(xpush_config **cfg_out, va_list ap)
{
	const char *s;
	xpush_config *cfg;
	enum cli_args_result rc;

	while (argc > 0)
		free(argv[--argc]);
	argv[argc++] = strdup("xpush-client");
	while ((s = va_arg(ap, const char *)) && argc < 63)
		argv[argc++] = strdup(s); /* getopt permutes, --set splits in place */
	argv[argc] = NULL;
	if (xpush_config_new(&cfg) != XPUSH_OK)
		return CLI_ARGS_NOMEM;
	rc = cli_args_parse(argc, argv, cfg, &a, err, sizeof err);
	if (cfg_out)
		*cfg_out = cfg;
	else
		xpush_config_free(cfg);
	return rc;
}

static enum cli_args_result parse(const char *first, ...)
{
	enum cli_args_result rc;
	va_list ap;

	(void)first; /* always NULL: the arguments follow */
	va_start(ap, first);
	rc = parse_v(NULL, ap);
	va_end(ap);
	return rc;
}

static enum cli_args_result parse_cfg(xpush_config **cfg, ...)
{
	enum cli_args_result rc;
	va_list ap;

	va_start(ap, cfg);
	rc = parse_v(cfg, ap);
	va_end(ap);
	return rc;
}

#define REQ "--jid", "alice@example.org", "--component", "push.example.org", "--app", \
	"com.example", "--device", "d1", "--state-dir", dir

/* A usage error, said as expected. */
#define CHECK_USAGE(want, ...) do { \
	CHECK_INT(parse(NULL, __VA_ARGS__, NULL), CLI_ARGS_USAGE); \
	CHECK_STR(err, want); } while (0)

static void test_valid(void)
{
	char pwfile[200], netfile[200];
	xpush_config *cfg = NULL;

	snprintf(pwfile, sizeof pwfile, "%s/pw", dir);
	snprintf(netfile, sizeof netfile, "%s/net", dir);
	write_file("pw", "s3cret\nsecond line\n");
	write_file("net", "wifi:Home\r\n");
	CHECK_INT(parse_cfg(&cfg, REQ, "--password-file", pwfile, "--json", "--count", "3",
			    "--exec", "true", "--log-level", "debug", "--tag", "a", "--tag", "b",
			    "--direct-tls", "--register-account", "--network-file", netfile,
			    "--set", "heartbeat_ms=60000", NULL), CLI_ARGS_RUN);
	CHECK_STR(err, "");
	CHECK_INT(a.json, 1);
	CHECK_INT(a.count, 3);
	CHECK_STR(a.exec_cmd, "true");
	CHECK_INT(a.level, XPUSH_LOG_DEBUG);
	CHECK_STR(a.device, "d1");
	CHECK_STR(a.netfile, netfile);
	CHECK_STR(cfg->jid, "alice@example.org");
	CHECK_STR(cfg->password, "s3cret");        /* the first line only */
	CHECK_STR(cfg->network, "wifi:Home");      /* read at start from --network-file */
	CHECK_INT(cfg->ntags, 2);
	CHECK_INT(cfg->direct_tls, 1);
	CHECK_INT(cfg->register_account, 1);
	CHECK_INT(cfg->heartbeat_ms, 60000);
	CHECK_INT(cfg_port(cfg), CFG_PORT_DIRECT_TLS);
	xpush_config_free(cfg);

	/* --network wins over --network-file; --set log_level sets the level too */
	CHECK_INT(parse_cfg(&cfg, REQ, "--password-file", pwfile, "--network-file", netfile,
			    "--network", "cell:1", "--set", "log_level=warn", NULL), CLI_ARGS_RUN);
	CHECK_STR(cfg->network, "cell:1");
	CHECK_INT(a.level, XPUSH_LOG_WARN);
	xpush_config_free(cfg);
}

static void test_password_from_env(void)
{
	xpush_config *cfg = NULL;

	setenv("XPUSH_PASSWORD", "from-env", 1);
	CHECK_INT(parse_cfg(&cfg, REQ, NULL), CLI_ARGS_RUN);
	CHECK_STR(cfg->password, "from-env");
	CHECK(getenv("XPUSH_PASSWORD") == NULL); /* never handed to --exec children */
	CHECK_INT(a.level, XPUSH_LOG_INFO);
	CHECK_INT(a.count, 0);
	CHECK(a.netfile == NULL);
	xpush_config_free(cfg);
	CHECK_USAGE("missing password: use --password-file FILE or XPUSH_PASSWORD", REQ);
}

static void test_help_version(void)
{
	CHECK_INT(parse(NULL, "--help", NULL), CLI_ARGS_HELP);
	CHECK_INT(parse(NULL, "--jid", "a@b", "--version", NULL), CLI_ARGS_VERSION);
	/* the first error wins over a later --help */
	CHECK_USAGE("unknown option --bogus", "--bogus", "--help");
	CHECK(strstr(cli_usage_text, "SYNOPSIS") && strstr(cli_usage_text, "EXIT STATUS"));
}

static void test_bad_options(void)
{
	CHECK_USAGE("unknown option --bogus", "--bogus");
	CHECK_USAGE("option --jid requires an argument", "--jid");
	CHECK_USAGE("unexpected argument extra", REQ, "extra");
	CHECK_USAGE("missing required option --jid", "--component", "p.b", "--app", "x");
	CHECK_USAGE("missing required option --state-dir", "--jid", "a@b", "--component", "p.b",
		    "--app", "x", "--device", "d");
	CHECK_USAGE("invalid --count: 0 (a positive integer)", "--count", "0", REQ);
	CHECK_USAGE("invalid --count: -3 (a positive integer)", "--count", "-3", REQ);
	CHECK_USAGE("invalid --count: 12x (a positive integer)", "--count", "12x", REQ);
	CHECK_USAGE("invalid --count: +3 (a positive integer)", "--count", "+3", REQ);
	CHECK_USAGE("invalid --count: 1000000001 (a positive integer)", "--count", "1000000001", REQ);
	CHECK_USAGE("invalid --exec: empty command", "--exec", "", REQ);
	CHECK_USAGE("invalid --port: must be an integer in 1..65535", "--port", "0", REQ);
	CHECK_USAGE("invalid --component: not a valid bare JID", "--component", "a@b/c");
	CHECK_USAGE("invalid --log-level: must be one of debug, info, warn, error", "--log-level",
		    "loud");
	CHECK_USAGE("invalid --tag: duplicate tag \"a\"", "--tag", "a", "--tag", "a");
	CHECK_USAGE("invalid --set: nokey (expected KEY=VALUE)", "--set", "nokey");
	CHECK_USAGE("invalid --set: the password comes from --password-file or XPUSH_PASSWORD",
		    "--set", "password=x");
	CHECK_USAGE("invalid --set: unknown key \"nope\"", "--set", "nope=1");
	CHECK_USAGE("invalid --set: port: must be an integer in 1..65535", "--set", "port=99999");
	CHECK_USAGE("invalid --ca-file: cannot read /nonexistent/ca.pem", REQ, "--ca-file",
		    "/nonexistent/ca.pem");
}

static void test_bad_files(void)
{
	char path[200], want[300];

	unsetenv("XPUSH_PASSWORD");
	CHECK_USAGE("--password-file: cannot open /nonexistent/pw: No such file or directory", REQ,
		    "--password-file", "/nonexistent/pw");
	snprintf(want, sizeof want, "--password-file: %s is a directory, not a file", dir);
	CHECK_USAGE(want, REQ, "--password-file", dir);
	write_file("empty", "\n");
	snprintf(path, sizeof path, "%s/empty", dir);
	snprintf(want, sizeof want, "--password-file: %s has an empty first line", path);
	CHECK_USAGE(want, REQ, "--password-file", path);
	snprintf(want, sizeof want, "--network-file: cannot read a key from %s", path);
	CHECK_USAGE(want, REQ, "--network-file", path);
	write_file("badnet", "tab\there\n");
	snprintf(path, sizeof path, "%s/badnet", dir);
	CHECK_USAGE("invalid --network-file: must be 1..128 bytes of printable text", REQ,
		    "--network-file", path);
}

static void test_read_line(void)
{
	char path[200], buf[16];

	write_file("line", "first\r\nsecond\n");
	snprintf(path, sizeof path, "%s/line", dir);
	CHECK_INT(cli_args_read_line(path, buf, sizeof buf), 0);
	CHECK_STR(buf, "first");
	CHECK_INT(cli_args_read_line("/nonexistent/x", buf, sizeof buf), -1);
}

static void test_start_error(void)
{
	char out[600];

	cli_args_start_error("topic=config msg=invalid reason=\"port: must be an integer\"",
			     XPUSH_EINVAL, out, sizeof out);
	CHECK_STR(out, "invalid --port: must be an integer");
	cli_args_start_error("topic=config msg=invalid reason=\"ca_file: cannot read /x\"",
			     XPUSH_EINVAL, out, sizeof out);
	CHECK_STR(out, "invalid --ca-file: cannot read /x");
	cli_args_start_error("topic=config msg=invalid reason=\"jid: must be user@domain\"",
			     XPUSH_EINVAL, out, sizeof out);
	CHECK_STR(out, "invalid --jid: must be user@domain");
	cli_args_start_error("topic=config msg=invalid reason=\"password: required\"", XPUSH_EINVAL,
			     out, sizeof out);
	CHECK_STR(out, "cannot start: password: required");
	cli_args_start_error("", XPUSH_EBUSY, out, sizeof out);
	CHECK_STR(out, "cannot start: state directory in use by another client");
}

static void test_level_names(void)
{
	CHECK_STR(cli_args_level_name(XPUSH_LOG_DEBUG), "debug");
	CHECK_STR(cli_args_level_name(XPUSH_LOG_ERROR), "error");
	CHECK_STR(cli_args_level_name((enum xpush_log_level)9), "info");
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/xpush-cli-args-%d", (int)getpid());
	mkdir(dir, 0700);
}

static void teardown(void)
{
	static const char *const names[] = { "pw", "net", "empty", "badnet", "line" };
	char path[256];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	while (argc > 0)
		free(argv[--argc]);
}

TEST_MAIN(T(setup), T(test_valid), T(test_password_from_env), T(test_help_version),
          T(test_bad_options), T(test_bad_files), T(test_read_line), T(test_start_error),
          T(test_level_names), T(teardown))
