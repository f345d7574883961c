/* test_client_config: the configuration table (client/cfg.c), its public
 * wrappers (the JID helpers: tests/common/test_jid.c, tests/client/test_xjid.c). */
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "test.h"
#include "xpush.h"

static void test_defaults(void)
{
	struct xpush_config c;

	CHECK_INT(cfg_init(&c), XPUSH_OK);
	CHECK_INT(c.port, 5222);
	CHECK_INT(c.log_level, XPUSH_LOG_INFO);
	CHECK_INT(c.register_account, 0);
	CHECK_INT(c.reconnect_base_ms, 2000);
	CHECK_INT(c.reconnect_cap_ms, 300000);
	CHECK_INT(c.stable_after_ms, 60000);
	CHECK_INT(c.heartbeat_ms, 240000);
	CHECK_INT(c.heartbeat_adaptive, 1);
	CHECK_INT(c.heartbeat_min_ms, 60000);
	CHECK_INT(c.heartbeat_max_ms, 600000);
	CHECK_STR(c.network, "default");
	CHECK_INT(c.seen_retention_s, 35 * 86400);
	CHECK(c.seen_retention_s > 28 * 86400); /* longer than the 4-week max TTL */
	CHECK_INT(c.seen_max_ids, 100000);
	CHECK(c.jid == NULL && c.password == NULL && c.host == NULL);
	cfg_clear(&c);
}

static void test_set_values(void)
{
	static const struct { const char *key, *value; int rc; } cases[] = {
		{ "jid", "alice@example.org/phone", XPUSH_OK },
		{ "jid", "alice@example.org", XPUSH_OK },
		{ "jid", "example.org", XPUSH_OK }, /* syntactically a JID; validate wants a node */
		{ "jid", "@example.org", XPUSH_EINVAL },
		{ "jid", "alice@", XPUSH_EINVAL },
		{ "jid", "al ice@example.org", XPUSH_EINVAL },
		{ "jid", "alice@example.org/", XPUSH_EINVAL },
		{ "jid", "", XPUSH_EINVAL },
		{ "component", "push.example.org", XPUSH_OK },
		{ "component", "push.example.org/res", XPUSH_EINVAL },
		{ "port", "1", XPUSH_OK },
		{ "port", "65535", XPUSH_OK },
		{ "port", "0", XPUSH_EINVAL },
		{ "port", "65536", XPUSH_EINVAL },
		{ "port", "-1", XPUSH_EINVAL },
		{ "port", "+5", XPUSH_EINVAL },
		{ "port", "5222x", XPUSH_EINVAL },
		{ "port", "", XPUSH_EINVAL },
		{ "port", "99999999999999999999", XPUSH_EINVAL },
		{ "register_account", "yes", XPUSH_OK },
		{ "register_account", "Off", XPUSH_OK },
		{ "register_account", "maybe", XPUSH_EINVAL },
		{ "log_level", "debug", XPUSH_OK },
		{ "log_level", "ERROR", XPUSH_OK },
		{ "log_level", "loud", XPUSH_EINVAL },
		{ "app", "com.example.news", XPUSH_OK },
		{ "app", "tab\there", XPUSH_EINVAL },
		{ "app", "bad\xff" "utf8", XPUSH_EINVAL },
		{ "app", "caf\xc3\xa9", XPUSH_OK },
		{ "alias", "\xed\xa0\x80", XPUSH_EINVAL }, /* a UTF-16 surrogate */
		{ "alias", "\xc0\xaf", XPUSH_EINVAL },     /* overlong */
		{ "platform", "0123456789012345678901234567890123", XPUSH_EINVAL }, /* > 32 */
		{ "host", "127.0.0.1", XPUSH_OK },
		{ "host", "a b", XPUSH_EINVAL },
		{ "heartbeat_ms", "0", XPUSH_OK },
		{ "heartbeat_timeout_ms", "99", XPUSH_EINVAL },
		{ "heartbeat_timeout_ms", "300", XPUSH_OK }, /* time-scaled tests */
		{ "heartbeat_adaptive", "off", XPUSH_OK },
		{ "heartbeat_min_ms", "99", XPUSH_EINVAL },
		{ "heartbeat_step_after", "0", XPUSH_EINVAL },
		{ "heartbeat_probe_after", "0", XPUSH_OK },
		{ "network", "wifi:caf\xc3\xa9 5G", XPUSH_OK },
		{ "network", "tab\there", XPUSH_EINVAL },
		{ "network", "", XPUSH_EINVAL },
		{ "seen_retention_s", "60", XPUSH_EINVAL },
		{ "seen_max_ids", "0", XPUSH_EINVAL },
		{ "seen_max_ids", "15", XPUSH_EINVAL },
		{ "password", "s3cret with spaces", XPUSH_OK },
		{ "no_such_key", "1", XPUSH_EINVAL },
	};
	struct xpush_config c;

	CHECK_INT(cfg_init(&c), XPUSH_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = cfg_set(&c, cases[i].key, cases[i].value);
		if (rc != cases[i].rc)
			fprintf(stderr, "case %zu: %s=%s -> %d (%s)\n", i, cases[i].key,
				cases[i].value, rc, c.last_error);
		CHECK_INT(rc, cases[i].rc);
		if (rc != XPUSH_OK)
			CHECK(strncmp(c.last_error, cases[i].key, strlen(cases[i].key)) == 0 ||
			      strstr(c.last_error, "unknown key") != NULL);
		else
			CHECK_STR(c.last_error, "");
	}
	/* a failed set leaves the old value */
	CHECK_INT(cfg_set(&c, "port", "5223"), XPUSH_OK);
	CHECK_INT(cfg_set(&c, "port", "x"), XPUSH_EINVAL);
	CHECK_INT(c.port, 5223);
	CHECK_STR(c.last_error, "port: must be an integer in 1..65535");
	/* NULL resets to the default */
	CHECK_INT(cfg_set(&c, "port", NULL), XPUSH_OK);
	CHECK_INT(c.port, 5222);
	CHECK_INT(cfg_set(&c, "host", NULL), XPUSH_OK);
	CHECK(c.host == NULL);
	CHECK_INT(c.log_level, XPUSH_LOG_ERROR);
	cfg_clear(&c);
}

/* direct_tls (XEP-0368): off by default; the port follows it unless set. */
static void test_direct_tls(void)
{
	struct xpush_config c, d;

	CHECK_INT(cfg_init(&c), XPUSH_OK);
	CHECK_INT(c.direct_tls, 0);
	CHECK_INT(cfg_port(&c), 5222);
	CHECK_INT(cfg_set(&c, "direct_tls", "maybe"), XPUSH_EINVAL);
	CHECK_STR(c.last_error, "direct_tls: must be true or false");
	CHECK_INT(cfg_set(&c, "direct_tls", "true"), XPUSH_OK);
	CHECK_INT(c.direct_tls, 1);
	CHECK_INT(cfg_port(&c), 5223);
	CHECK_INT(cfg_set(&c, "port", "443"), XPUSH_OK);
	CHECK_INT(cfg_port(&c), 443);
	CHECK_INT(cfg_copy(&d, &c), XPUSH_OK);
	CHECK_INT(cfg_port(&d), 443);
	CHECK_INT(d.direct_tls, 1);
	cfg_clear(&d);
	CHECK_INT(cfg_set(&c, "port", "bad"), XPUSH_EINVAL); /* a failed set keeps it given */
	CHECK_INT(cfg_port(&c), 443);
	CHECK_INT(cfg_set(&c, "port", NULL), XPUSH_OK); /* back to the default: follows again */
	CHECK_INT(cfg_port(&c), 5223);
	CHECK_INT(cfg_set(&c, "port", "5222"), XPUSH_OK); /* explicitly 5222 stays 5222 */
	CHECK_INT(cfg_port(&c), 5222);
	CHECK_INT(cfg_set(&c, "direct_tls", NULL), XPUSH_OK);
	CHECK_INT(c.direct_tls, 0);
	cfg_clear(&c);
}

static void test_tags(void)
{
	struct xpush_config c;
	char t[16];

	CHECK_INT(cfg_init(&c), XPUSH_OK);
	CHECK_INT(cfg_set(&c, "tag", "sports"), XPUSH_OK);
	CHECK_INT(cfg_set(&c, "tag", "news"), XPUSH_OK);
	CHECK_INT(cfg_set(&c, "tag", "sports"), XPUSH_EINVAL);
	CHECK_INT(c.ntags, 2);
	CHECK_STR(c.tags[1], "news");
	CHECK_INT(cfg_set(&c, "tag", NULL), XPUSH_OK);
	CHECK_INT(c.ntags, 0);
	for (int i = 0; i < CFG_MAX_TAGS; i++) {
		snprintf(t, sizeof t, "t%d", i);
		CHECK_INT(cfg_set(&c, "tag", t), XPUSH_OK);
	}
	CHECK_INT(cfg_set(&c, "tag", "one-too-many"), XPUSH_EINVAL);
	cfg_clear(&c);
}

static void set_required(struct xpush_config *c)
{
	CHECK_INT(cfg_set(c, "jid", "alice@example.org/phone"), XPUSH_OK);
	CHECK_INT(cfg_set(c, "password", "pw"), XPUSH_OK);
	CHECK_INT(cfg_set(c, "component", "push.example.org"), XPUSH_OK);
	CHECK_INT(cfg_set(c, "app", "com.example"), XPUSH_OK);
	CHECK_INT(cfg_set(c, "device", "dev1"), XPUSH_OK);
	CHECK_INT(cfg_set(c, "state_dir", "/tmp/x"), XPUSH_OK);
}

static void test_validate(void)
{
	static const char *const required[] = { "jid", "password", "component", "app", "device",
						"state_dir" };
	struct xpush_config c;
	char err[256];

	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		CHECK_INT(cfg_init(&c), XPUSH_OK);
		set_required(&c);
		CHECK_INT(cfg_validate(&c, err, sizeof err), XPUSH_OK);
		CHECK_INT(cfg_set(&c, required[i], NULL), XPUSH_OK);
		CHECK_INT(cfg_validate(&c, err, sizeof err), XPUSH_EINVAL);
		CHECK(strncmp(err, required[i], strlen(required[i])) == 0);
		cfg_clear(&c);
	}
	CHECK_INT(cfg_init(&c), XPUSH_OK);
	set_required(&c);
	CHECK_INT(cfg_set(&c, "jid", "example.org"), XPUSH_OK);
	CHECK_INT(cfg_validate(&c, err, sizeof err), XPUSH_EINVAL);
	CHECK_STR(err, "jid: must be user@domain[/resource]");
	CHECK_INT(cfg_set(&c, "jid", "a@example.org"), XPUSH_OK);
	CHECK_INT(cfg_set(&c, "reconnect_base_ms", "5000"), XPUSH_OK);
	CHECK_INT(cfg_set(&c, "reconnect_cap_ms", "4000"), XPUSH_OK);
	CHECK_INT(cfg_validate(&c, err, sizeof err), XPUSH_EINVAL);
	CHECK_INT(cfg_set(&c, "reconnect_cap_ms", "6000"), XPUSH_OK);
	CHECK_INT(cfg_set(&c, "heartbeat_min_ms", "5000"), XPUSH_OK);
	CHECK_INT(cfg_set(&c, "heartbeat_max_ms", "4000"), XPUSH_OK);
	CHECK_INT(cfg_validate(&c, err, sizeof err), XPUSH_EINVAL);
	CHECK_STR(err, "heartbeat_max_ms: must be >= heartbeat_min_ms");
	cfg_clear(&c);
}

static void test_copy(void)
{
	struct xpush_config a, b;

	CHECK_INT(cfg_init(&a), XPUSH_OK);
	set_required(&a);
	CHECK_INT(cfg_set(&a, "tag", "x"), XPUSH_OK);
	CHECK_INT(cfg_set(&a, "port", "1234"), XPUSH_OK);
	CHECK_INT(cfg_copy(&b, &a), XPUSH_OK);
	CHECK(b.jid != a.jid);
	CHECK_STR(b.jid, a.jid);
	CHECK_STR(b.password, "pw");
	CHECK_INT(b.ntags, 1);
	CHECK(b.tags[0] != a.tags[0]);
	CHECK_INT(b.port, 1234);
	cfg_clear(&a);
	CHECK_STR(b.component, "push.example.org");
	cfg_clear(&b);
}

static void test_public_wrappers(void)
{
	xpush_config *cfg = NULL;

	CHECK_INT(xpush_config_new(NULL), XPUSH_EINVAL);
	CHECK_INT(xpush_config_new(&cfg), XPUSH_OK);
	CHECK(cfg != NULL);
	CHECK_INT(xpush_config_set(cfg, "port", "70000"), XPUSH_EINVAL);
	CHECK_STR(xpush_config_last_error(cfg), "port: must be an integer in 1..65535");
	CHECK_INT(xpush_config_set(cfg, "port", "7000"), XPUSH_OK);
	CHECK_STR(xpush_config_last_error(cfg), "");
	CHECK_INT(xpush_config_set(cfg, NULL, "x"), XPUSH_EINVAL);
	CHECK_INT(xpush_config_set(NULL, "port", "1"), XPUSH_EINVAL);
	xpush_config_free(cfg);
	xpush_config_free(NULL);
	CHECK_STR(xpush_strerror(XPUSH_EAUTH), "authentication failed");
	CHECK_STR(xpush_strerror(12345), "unknown error");
	CHECK_STR(xpush_state_name(XPUSH_STATE_ONLINE), "online");
	CHECK_STR(xpush_version(), XPUSH_VERSION_STRING);
}

TEST_MAIN(T(test_defaults), T(test_set_values), T(test_direct_tls), T(test_tags), T(test_validate), T(test_copy),
	  T(test_public_wrappers))
