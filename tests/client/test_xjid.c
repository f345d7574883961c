/* test_xjid: the device's JID decisions on the one JID reading
 * (common/jid.c), where it differs from the device's former splitter: text
 * that is not UTF-8 of XML characters is no JID (the daemon's splitter
 * already said so). The other sender-check cases: test_client_config. */
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

TEST_MAIN(T(test_is_component), T(test_config_keys))
