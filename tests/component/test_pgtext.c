/* Unit tests for component/pgtext: Postgres array literals, both ways. */
#include <stdint.h>
#include <stdlib.h>

#include "pgtext.h"
#include "test.h"

/* got is an encoder's result: checked, then freed. */
static void expect(char *got, const char *want)
{
	CHECK_STR(got, want);
	free(got);
}

static void int_array(void)
{
	const int64_t v[] = { 1, -2, INT64_MAX, INT64_MIN };

	expect(pgtext_int_array(v, 0), "{}");
	expect(pgtext_int_array(v, 4), "{1,-2,9223372036854775807,-9223372036854775808}");
}

static void text_array(void)
{
	const char *const v[] = { "a", "b\"c", "d\\e", "", "x,y" };

	expect(pgtext_text_array(v, 0), "{}");
	expect(pgtext_text_array(v, 5), "{\"a\",\"b\\\"c\",\"d\\\\e\",\"\",\"x,y\"}");
}

static void parse_int_array(void)
{
	static const char *const bad[] = { "", "1,2", "{", "{1,}", "{,1}", "{a}", "{1;2}",
	                                   "{99999999999999999999}" };
	int64_t *v;
	size_t n;

	CHECK_INT(pgtext_parse_int_array("{}", &v, &n), 0);
	CHECK(v == NULL);
	CHECK_INT(n, 0);
	CHECK_INT(pgtext_parse_int_array("{7,-8,9223372036854775807}", &v, &n), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(v[0], 7);
		CHECK_INT(v[1], -8);
		CHECK(v[2] == INT64_MAX);
	}
	free(v);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(pgtext_parse_int_array(bad[i], &v, &n), -1);
		CHECK(v == NULL);
		CHECK_INT(n, 0);
	}
}

static void round_trip(void)
{
	const int64_t in[] = { 5, 0, -1, 123456789012345 };
	char *s = pgtext_int_array(in, 4);
	int64_t *out;
	size_t n;

	CHECK_INT(pgtext_parse_int_array(s, &out, &n), 0);
	CHECK_INT(n, 4);
	for (size_t i = 0; i < n && i < 4; i++)
		CHECK(out[i] == in[i]);
	free(out);
	free(s);
}

TEST_MAIN(T(int_array), T(text_array), T(parse_int_array), T(round_trip))
