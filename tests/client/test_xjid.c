/* test_xjid: the device's JID decisions on the one JID reading
 * (common/jid.c): the sender check of notifications and retracts, and the
 * configuration's JID keys. Text that is not UTF-8 of XML characters is no
 * JID: the device's former splitter took it, the daemon's did not. */
#include <string.h>

#include "cfg.h"
#include "test.h"
#include "xjid.h"
#include "xpush.h"

static void test_is_component(void)
{
	static const struct { const char *from, *comp; int want; } cases[] = {
		{ "push.example.org", "push.example.org", 1 },
		{ "PUSH.example.org", "push.example.org", 1 },
		{ "bot@push.example.org", "bot@push.example.org", 1 },
		{ "BOT@push.example.org", "bot@push.example.org", 0 },   /* localpart exact */
		{ "push.example.org/r", "push.example.org", 0 },
		{ "push.example.org", "push.example.org/r", 0 },
		{ "push.example.org ", "push.example.org", 0 },
		/* byte-equal, but no JID: never the component */
		{ "push.\xff.org", "push.\xff.org", 0 },
		{ "push.\xef\xbf\xbe.org", "push.\xef\xbf\xbe.org", 0 },
		{ "a\xc0\x80@push.example.org", "a\xc0\x80@push.example.org", 0 },
		{ "push.example.org", NULL, 0 },
		{ NULL, "push.example.org", 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = xjid_is_component(cases[i].from, cases[i].comp);

		if (got != cases[i].want)
			fprintf(stderr, "  case %zu\n", i);
		CHECK_INT(got, cases[i].want);
	}
}

static void test_config_keys(void)
{
	static const struct { const char *key, *value; int rc; } cases[] = {
		{ "jid", "alice@example.org/phone", XPUSH_OK },
		{ "jid", "\xc3\xbc@example.org/\xf0\x9f\x98\x80", XPUSH_OK },
		{ "jid", "alice@ex\xff" "ample.org", XPUSH_EINVAL },
		{ "jid", "alice@example.org/\xed\xa0\x80", XPUSH_EINVAL },
		{ "component", "push.example.org", XPUSH_OK },
		{ "component", "push.\xc3.org", XPUSH_EINVAL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct xpush_config c;
		int rc;

		CHECK_INT(cfg_init(&c), XPUSH_OK);
		rc = cfg_set(&c, cases[i].key, cases[i].value);
		if (rc != cases[i].rc)
			fprintf(stderr, "  case %zu\n", i);
		CHECK_INT(rc, cases[i].rc);
		cfg_clear(&c);
	}
}

TEST_MAIN(T(test_is_component), T(test_config_keys))
