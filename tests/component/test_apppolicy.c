/* test_apppolicy: who may register for an app (component/apppolicy.c),
 * without sockets or a database: open, acl (JIDs and domains), token (valid,
 * missing, wrong, expired, for another JID; not needed to register a known
 * device again), an unknown app with unknown_apps refuse and open, and the
 * errors a refused device reads. */
#include "apppolicy.h"
#include "regtoken.h"
#include "test.h"

#include <string.h>

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW 1800000000ull

static struct apppolicy_verdict run(const struct apppolicy_app *a, const char *bare,
                                    const char *token)
{
	struct apppolicy_req r = { bare, "com.example.news", "dev-1", token, NOW, 0 };
	struct apppolicy_verdict v;

	apppolicy_decide(a, &r, &v);
	return v;
}

static void test_acl_match(void)
{
	const char *acl = "alice@example.org\nExample.NET\nbob@other.org";

	CHECK_INT(apppolicy_acl_match(acl, "alice@example.org"), 1);
	CHECK_INT(apppolicy_acl_match(acl, "ALICE@example.ORG"), 1);
	CHECK_INT(apppolicy_acl_match(acl, "carol@example.org"), 0);
	CHECK_INT(apppolicy_acl_match(acl, "carol@example.net"), 1); /* a domain entry */
	CHECK_INT(apppolicy_acl_match(acl, "example.net"), 1);
	CHECK_INT(apppolicy_acl_match(acl, "carol@sub.example.net"), 0); /* not subdomains */
	CHECK_INT(apppolicy_acl_match(acl, "carol@example.net.evil.org"), 0);
	CHECK_INT(apppolicy_acl_match(acl, "bob@other.org"), 1);
	CHECK_INT(apppolicy_acl_match(acl, "bob@other.or"), 0);
	CHECK_INT(apppolicy_acl_match(acl, "ob@other.org"), 0);
	CHECK_INT(apppolicy_acl_match(acl, "other.org"), 0); /* a JID entry is not its domain */
	CHECK_INT(apppolicy_acl_match("", "alice@example.org"), 0);
	CHECK_INT(apppolicy_acl_match(NULL, "alice@example.org"), 0);
	CHECK_INT(apppolicy_acl_match("\n\nalice@example.org\n", "alice@example.org"), 1);
}

static void test_open_and_acl(void)
{
	struct apppolicy_app open = { 1, "open", "", NULL, 0 };
	struct apppolicy_app acl = { 1, "acl", "alice@example.org\nexample.net", NULL, 0 };
	struct apppolicy_verdict v;

	CHECK_INT(run(&open, "anyone@example.org", NULL).allow, 1);
	CHECK_INT(run(&acl, "alice@example.org", NULL).allow, 1);
	CHECK_INT(run(&acl, "zed@example.net", NULL).allow, 1);
	v = run(&acl, "mallory@example.org", NULL);
	CHECK_INT(v.allow, 0);
	CHECK_STR(v.type, "auth");
	CHECK_STR(v.condition, "forbidden");
	CHECK_STR(v.text, "mallory@example.org may not register for app com.example.news (not on "
	                  "its access list)");
	/* a known device on an ACL is checked again: the list is the truth */
	acl.known = 1;
	CHECK_INT(run(&acl, "mallory@example.org", NULL).allow, 0);
}

static void test_token(void)
{
	struct apppolicy_app app = { 1, "token", NULL, SECRET, 0 };
	char good[REGTOKEN_MAX + 1], other[REGTOKEN_MAX + 1], old[REGTOKEN_MAX + 1];
	struct apppolicy_verdict v;

	CHECK_INT(regtoken_mint(SECRET, strlen(SECRET), "alice@example.org", "com.example.news",
	                        "dev-1", NOW + 3600, good, sizeof good),
	          0);
	CHECK_INT(regtoken_mint(SECRET, strlen(SECRET), "bob@example.org", "com.example.news",
	                        "dev-1", NOW + 3600, other, sizeof other),
	          0);
	CHECK_INT(regtoken_mint(SECRET, strlen(SECRET), "alice@example.org", "com.example.news",
	                        "dev-1", NOW - 1, old, sizeof old),
	          0);
	CHECK_INT(run(&app, "alice@example.org", good).allow, 1);
	v = run(&app, "alice@example.org", NULL);
	CHECK_INT(v.allow, 0);
	CHECK_STR(v.condition, "not-authorized");
	CHECK_STR(v.type, "auth");
	CHECK(strstr(v.text, "requires a registration token") != NULL);
	v = run(&app, "alice@example.org", other); /* minted for bob */
	CHECK_INT(v.allow, 0);
	CHECK(strstr(v.text, "minted for another JID") != NULL);
	v = run(&app, "bob@example.org", good); /* alice's token replayed by bob */
	CHECK_INT(v.allow, 0);
	CHECK_STR(v.condition, "not-authorized");
	v = run(&app, "alice@example.org", old);
	CHECK_INT(v.allow, 0);
	CHECK(strstr(v.text, "registration token expired at 2027-01-15T07:59:59Z") != NULL);
	v = run(&app, "alice@example.org", "v1.123.abc");
	CHECK_INT(v.allow, 0);
	CHECK(strstr(v.text, "malformed") != NULL);
	/* an enrolled device registers again (every session) without a token */
	app.known = 1;
	CHECK_INT(run(&app, "alice@example.org", NULL).allow, 1);
	CHECK_INT(run(&app, "alice@example.org", old).allow, 1);
	/* a token app without a secret (the schema forbids it) refuses, never allows */
	app.known = 0;
	app.secret = NULL;
	v = run(&app, "alice@example.org", good);
	CHECK_INT(v.allow, 0);
	CHECK_STR(v.condition, "internal-server-error");
}

static void test_unknown_app(void)
{
	struct apppolicy_app none = { 0, NULL, NULL, NULL, 0 };
	struct apppolicy_app weird = { 1, "sometimes", NULL, NULL, 0 };
	struct apppolicy_req r = { "alice@example.org", "com.example.new", "d", NULL, NOW, 0 };
	struct apppolicy_verdict v;

	apppolicy_decide(&none, &r, &v);
	CHECK_INT(v.allow, 0);
	CHECK_STR(v.condition, "item-not-found");
	CHECK_STR(v.text, "unknown app com.example.new: this push service does not serve it");
	r.unknown_open = 1;
	apppolicy_decide(&none, &r, &v);
	CHECK_INT(v.allow, 1);
	apppolicy_decide(&weird, &r, &v);
	CHECK_INT(v.allow, 0);
}

TEST_MAIN(T(test_acl_match), T(test_open_and_acl), T(test_token), T(test_unknown_app))
