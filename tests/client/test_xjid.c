/* test_xjid: the device's JID decisions on the one JID reading
 * (common/jid.c), where it differs from the device's former splitter: text
 * that is not UTF-8 of XML characters is no JID (the daemon's splitter
 * already said so), and the sender check's cases. */
#include <string.h>

#include "cfg.h"
#include "test.h"
#include "xjid.h"
#include "xpush.h"

/* Byte-equal to the configured component, but no JID: never accepted. */
static void test_is_component(void)
{
	static const char *const not_jids[] = {
		"push.\xff.org", "push.\xef\xbf\xbe.org", "a\xc0\x80@push.example.org",
		"push.example.org/\xed\xa0\x80",
	};

	CHECK_INT(xjid_is_component("push.example.org", "push.example.org"), 1);
	for (size_t i = 0; i < sizeof not_jids / sizeof not_jids[0]; i++)
		CHECK_INT(xjid_is_component(not_jids[i], not_jids[i]), 0);
}

/* The configuration refuses such a jid or component up front. */
static void test_config_keys(void)
{
	static const struct { const char *key, *value; int rc; } cases[] = {
		{ "jid", "\xc3\xbc@example.org/\xf0\x9f\x98\x80", XPUSH_OK },
		{ "jid", "alice@ex\xff" "ample.org", XPUSH_EINVAL },
		{ "jid", "alice@example.org/\xed\xa0\x80", XPUSH_EINVAL },
		{ "component", "push.\xc3.org", XPUSH_EINVAL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct xpush_config c;

		CHECK_INT(cfg_init(&c), XPUSH_OK);
		CHECK_INT(cfg_set(&c, cases[i].key, cases[i].value), cases[i].rc);
		cfg_clear(&c);
	}
}

/* The sender check: only the exact component JID, no resource. */
static void test_is_component_cases(void)
{
	static const struct { const char *from, *comp; int want; } cases[] = {
		{ "push.example.org", "push.example.org", 1 },
		{ "PUSH.Example.ORG", "push.example.org", 1 },
		{ "push.example.org/res", "push.example.org", 0 },
		{ "evil@push.example.org", "push.example.org", 0 },
		{ "push.example.org.evil", "push.example.org", 0 },
		{ "example.org", "push.example.org", 0 },
		{ "mallory@example.org/x", "push.example.org", 0 },
		{ "", "push.example.org", 0 },
		{ NULL, "push.example.org", 0 },
		{ "bot@push.example.org", "bot@push.example.org", 1 },
		{ "Bot@push.example.org", "bot@push.example.org", 0 }, /* nodes compare exactly */
		{ "push.example.org", "bot@push.example.org", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = xjid_is_component(cases[i].from, cases[i].comp);
		if (got != cases[i].want)
			fprintf(stderr, "case %zu: %s vs %s\n", i, cases[i].from ? cases[i].from : "(null)",
				cases[i].comp);
		CHECK_INT(got, cases[i].want);
	}
}

TEST_MAIN(T(test_is_component), T(test_is_component_cases), T(test_config_keys))
