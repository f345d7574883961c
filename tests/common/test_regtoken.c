/* test_regtoken: registration tokens (common/regtoken.c) without sockets:
 * tokens minted by another implementation (Python's hmac module, the
 * example of docs/apps.md) verify here and are minted byte-identical; a
 * token is refused when it is malformed, expired, or made for another
 * secret, JID, app or device; the JID's ASCII case does not matter. */
#include "regtoken.h"
#include "test.h"

#include <string.h>

#define SECRET "0123456789abcdef0123456789abcdef"
#define S SECRET, strlen(SECRET)
/* python3: the mint() of docs/apps.md with these arguments. */
#define PY_TOKEN "v1.1893456000.92268fbec04f0fc3ab6553745942ed94c7e1bd25e9468ec7053e3fcd9c93915b"
#define PY_TOKEN_UTF8 \
	"v1.2000000000.318396ebbae2c1ad1fcdf4f022d4df49e3d03d2caa47fcf5403cdb427e34bb43"
#define NOW 1800000000ull

static void test_other_language(void)
{
	char tok[REGTOKEN_MAX + 1];
	uint64_t exp = 0;

	CHECK_INT(regtoken_verify(S, PY_TOKEN, "alice@example.org", "com.example.news",
	                          "6f1c-install", NOW, &exp),
	          REGTOKEN_OK);
	CHECK(exp == 1893456000ull);
	CHECK_INT(regtoken_mint(S, "Alice@Example.org", "com.example.news", "6f1c-install",
	                        1893456000ull, tok, sizeof tok),
	          0);
	CHECK_STR(tok, PY_TOKEN);
	CHECK_INT(regtoken_verify(S, PY_TOKEN_UTF8, "alice@example.org", "com.example.news",
	                          "d\xc3\xa9vice", NOW, NULL),
	          REGTOKEN_OK);
}

static void test_refused(void)
{
	char tok[REGTOKEN_MAX + 1];
	const char *j = "alice@example.org", *a = "com.example.news", *d = "6f1c-install";

	/* minted for another JID, app, device, or with another secret */
	CHECK_INT(regtoken_verify(S, PY_TOKEN, "mallory@example.org", a, d, NOW, NULL),
	          REGTOKEN_MISMATCH);
	CHECK_INT(regtoken_verify(S, PY_TOKEN, j, "com.example.other", d, NOW, NULL),
	          REGTOKEN_MISMATCH);
	CHECK_INT(regtoken_verify(S, PY_TOKEN, j, a, "6f1c-install2", NOW, NULL),
	          REGTOKEN_MISMATCH);
	CHECK_INT(regtoken_verify("another secret of 32 bytes......", 32, PY_TOKEN, j, a, d, NOW,
	                          NULL),
	          REGTOKEN_MISMATCH);
	/* the expiry is covered by the HMAC: moving it breaks the token */
	CHECK_INT(regtoken_verify(S,
	                          "v1.1893456001.92268fbec04f0fc3ab6553745942ed94c7e1bd25e9468ec7053e"
	                          "3fcd9c93915b",
	                          j, a, d, NOW, NULL),
	          REGTOKEN_MISMATCH);
	/* expired: at and after its expiry */
	CHECK_INT(regtoken_verify(S, PY_TOKEN, j, a, d, 1893456000ull, NULL), REGTOKEN_EXPIRED);
	CHECK_INT(regtoken_verify(S, PY_TOKEN, j, a, d, 1893456001ull, NULL), REGTOKEN_EXPIRED);
	CHECK_INT(regtoken_verify(S, PY_TOKEN, j, a, d, 1893455999ull, NULL), REGTOKEN_OK);
	/* malformed */
	static const char *const bad[] = {
		"",
		"v1.",
		"v2.1893456000.92268fbec04f0fc3ab6553745942ed94c7e1bd25e9468ec7053e3fcd9c93915b",
		"v1.01893456000.92268fbec04f0fc3ab6553745942ed94c7e1bd25e9468ec7053e3fcd9c93915",
		"v1.1893456000.92268FBEC04F0FC3AB6553745942ED94C7E1BD25E9468EC7053E3FCD9C93915B",
		"v1.1893456000.92268fbec04f0fc3ab6553745942ed94c7e1bd25e9468ec7053e3fcd9c93915",
		"v1.1893456000.92268fbec04f0fc3ab6553745942ed94c7e1bd25e9468ec7053e3fcd9c93915bb",
		"v1.-5.92268fbec04f0fc3ab6553745942ed94c7e1bd25e9468ec7053e3fcd9c93915b",
		"v1.99999999999999999999999.92268fbec04f0fc3ab6553745942ed94c7e1bd25e9468ec7053e3fcd9c9"
		"3915b",
		"v1.1893456000 92268fbec04f0fc3ab6553745942ed94c7e1bd25e9468ec7053e3fcd9c93915b",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT(regtoken_verify(S, bad[i], j, a, d, NOW, NULL), REGTOKEN_MALFORMED);
	CHECK_INT(regtoken_verify(S, NULL, j, a, d, NOW, NULL), REGTOKEN_MALFORMED);
	/* a round trip, and a buffer too small */
	CHECK_INT(regtoken_mint(S, j, a, d, NOW + 60, tok, sizeof tok), 0);
	CHECK_INT(regtoken_verify(S, tok, j, a, d, NOW, NULL), REGTOKEN_OK);
	CHECK_INT(regtoken_mint(S, j, a, d, NOW + 60, tok, 10), REGTOKEN_ERROR);
	CHECK(strstr(regtoken_strerror(REGTOKEN_MISMATCH), "another JID") != NULL);
	CHECK(strstr(regtoken_strerror(REGTOKEN_EXPIRED), "expired") != NULL);
}

TEST_MAIN(T(test_other_language), T(test_refused))
