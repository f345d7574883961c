/* Unit tests for common/num: strict decimal parsing within bounds. */
#include <stdint.h>

#include "num.h"
#include "test.h"

struct num_case {
	const char *s;
	unsigned long long min, max;
	int rc;
	unsigned long long want;
};

static void parse_uint(void)
{
	static const struct num_case cases[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "007", 0, 10, 0, 7 },
		{ "18446744073709551615", 0, ~0ull, 0, ~0ull },
		{ "11", 0, 10, -1, 0 },
		{ "4", 5, 10, -1, 0 },
		{ "", 0, 10, -1, 0 },
		{ "+1", 0, 10, -1, 0 },
		{ "-1", 0, ~0ull, -1, 0 },
		{ " 1", 0, 10, -1, 0 },
		{ "1 ", 0, 10, -1, 0 },
		{ "1x", 0, 10, -1, 0 },
		{ "0x10", 0, 100, -1, 0 },
		{ "18446744073709551616", 0, ~0ull, -1, 0 },
		{ "99999999999999999999999", 0, ~0ull, -1, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned long long v = 12345;
		CHECK_INT(num_parse_uint(cases[i].s, cases[i].min, cases[i].max, &v), cases[i].rc);
		CHECK(v == (cases[i].rc == 0 ? cases[i].want : 12345));
	}
	unsigned long long v;
	CHECK_INT(num_parse_uint(NULL, 0, 10, &v), -1);
}

static void parse_u32(void)
{
	uint32_t v = 7;

	CHECK_INT(num_parse_u32("4294967295", 0, UINT32_MAX, &v), 0);
	CHECK(v == UINT32_MAX);
	CHECK_INT(num_parse_u32("4294967296", 0, UINT32_MAX, &v), -1);
	CHECK(v == UINT32_MAX);
	CHECK_INT(num_parse_u32("65535", 1, 65535, &v), 0);
	CHECK_INT(v, 65535);
	CHECK_INT(num_parse_u32("0", 1, 65535, &v), -1);
}

TEST_MAIN(T(parse_uint), T(parse_u32))
