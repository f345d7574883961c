/* Unit tests for component/config: defaults, files, overrides, and one-line
 * errors that name the key. */
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

static char tmpdir[] = "/tmp/xpush-test-config-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void defaults(void)
{
	struct config c;

	CHECK_INT(config_init(&c), 0);
	CHECK_STR(c.server_host, "127.0.0.1");
	CHECK_INT(c.server_port, 5347);
	CHECK_INT(c.ack_timeout_ms, 30000);
	CHECK_INT(c.log_level, LOG_INFO);
	config_free(&c);
}

static void file_and_overrides(void)
{
	struct config c;
	char err[256];
	const char *secret = write_file("secret", "0123456789abcdef0123\n");
	char text[512];

	snprintf(text, sizeof text,
	         "# comment\n\ncomponent_jid = push.example.org\n"
	         "component_secret_file = %s\nserver_port=5399\n  log_level = debug  \n", secret);
	CHECK_INT(config_init(&c), 0);
	CHECK_INT(config_load_file(&c, write_file("ok.conf", text), err, sizeof err), 0);
	CHECK_INT(config_set_pair(&c, "server_port = 6000", err, sizeof err), 0);
	CHECK_INT(config_finish(&c, err, sizeof err), 0);
	CHECK_STR(c.component_jid, "push.example.org");
	CHECK_INT(c.server_port, 6000);
	CHECK_INT(c.log_level, LOG_DEBUG);
	CHECK_STR(c.component_secret, "0123456789abcdef0123");
	CHECK(strncmp(c.instance_id, "push.example.org@", 17) == 0);
	config_free(&c);
}

struct bad_case { const char *text; const char *want_in_error; };

static void errors_name_the_key(void)
{
	static const struct bad_case cases[] = {
		{ "server_port = 0\n", "server_port" },
		{ "server_port = 70000\n", "server_port" },
		{ "server_port = 12ab\n", "server_port" },
		{ "server_port = -1\n", "server_port" },
		{ "log_level = loud\n", "log_level" },
		{ "no_such_key = 1\n", "no_such_key" },
		{ "component_secret = hunter2hunter2hunter2\n", "component_secret" },
		{ "just a line\n", "expected key = value" },
		{ "ack_timeout_ms = 99999999999999999999\n", "ack_timeout_ms" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config c;
		char err[256] = "";
		CHECK_INT(config_init(&c), 0);
		CHECK_INT(config_load_file(&c, write_file("bad.conf", cases[i].text), err, sizeof err), -1);
		if (!strstr(err, cases[i].want_in_error))
			fprintf(stderr, "case %zu: error '%s' lacks '%s'\n", i, err, cases[i].want_in_error);
		CHECK(strstr(err, cases[i].want_in_error) != NULL);
		CHECK(strstr(err, ":1:") != NULL);  /* names the line */
		CHECK(strchr(err, '\n') == NULL);   /* one line */
		config_free(&c);
	}
}

static void finish_rules(void)
{
	struct config c;
	char err[256];

	unsetenv(CONFIG_SECRET_ENV);
	CHECK_INT(config_init(&c), 0);
	CHECK_INT(config_finish(&c, err, sizeof err), -1);
	CHECK(strstr(err, "component_jid") != NULL);
	CHECK_INT(config_set(&c, "component_jid", "user@push.example.org", err, sizeof err), 0);
	CHECK_INT(config_finish(&c, err, sizeof err), -1);
	CHECK(strstr(err, "component_jid") != NULL);
	CHECK_INT(config_set(&c, "component_jid", "push.example.org", err, sizeof err), 0);
	CHECK_INT(config_finish(&c, err, sizeof err), -1);
	CHECK(strstr(err, "component_secret_file") != NULL);
	setenv(CONFIG_SECRET_ENV, "short", 1);
	CHECK_INT(config_finish(&c, err, sizeof err), -1);
	CHECK(strstr(err, "at least 16") != NULL);
	setenv(CONFIG_SECRET_ENV, "a-long-enough-secret", 1);
	CHECK_INT(config_set(&c, "reconnect_min_ms", "5000", err, sizeof err), 0);
	CHECK_INT(config_set(&c, "reconnect_max_ms", "1000", err, sizeof err), 0);
	CHECK_INT(config_finish(&c, err, sizeof err), -1);
	CHECK(strstr(err, "reconnect_max_ms") != NULL);
	CHECK_INT(config_set(&c, "reconnect_max_ms", "9000", err, sizeof err), 0);
	CHECK_INT(config_set(&c, "http_public_url", "push.example.org", err, sizeof err), 0);
	CHECK_INT(config_finish(&c, err, sizeof err), -1);
	CHECK_STR(err, "http_public_url: must start with http:// or https://");
	CHECK_INT(config_set(&c, "http_public_url", "https://push.example.org", err, sizeof err), 0);
	CHECK_INT(config_finish(&c, err, sizeof err), 0);
	CHECK_STR(c.component_secret, "a-long-enough-secret");
	unsetenv(CONFIG_SECRET_ENV);
	config_free(&c);
}

static void handshake_timeout(void)
{
	static const char *const bad[] = { "0", "99", "600001", "10s", "-1", "" };
	struct config c;
	char err[256];

	CHECK_INT(config_init(&c), 0);
	CHECK_INT(c.handshake_timeout_ms, 10000);
	CHECK_INT(config_set(&c, "handshake_timeout_ms", "2500", err, sizeof err), 0);
	CHECK_INT(c.handshake_timeout_ms, 2500);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(config_set(&c, "handshake_timeout_ms", bad[i], err, sizeof err), -1);
		CHECK(strstr(err, "handshake_timeout_ms: ") == err);
		CHECK(strstr(err, "100..600000") != NULL);
		CHECK_INT(c.handshake_timeout_ms, 2500);
	}
	config_free(&c);
}

static void missing_file(void)
{
	struct config c;
	char err[256];

	CHECK_INT(config_init(&c), 0);
	CHECK_INT(config_load_file(&c, "/nonexistent/xpushd.conf", err, sizeof err), -1);
	CHECK(strstr(err, "/nonexistent/xpushd.conf") != NULL);
	CHECK_INT(config_set_pair(&c, "server_port", err, sizeof err), -1);
	CHECK(strstr(err, "key=value") != NULL);
	config_free(&c);
}

static void setup(void)
{
	CHECK(mkdtemp(tmpdir) != NULL);
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	CHECK_INT(system(cmd), 0);
}

TEST_MAIN(T(setup), T(defaults), T(file_and_overrides), T(errors_name_the_key),
          T(finish_rules), T(handshake_timeout), T(missing_file), T(teardown))
