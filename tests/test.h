/* test.h: a tiny table-driven test harness. Each test file is one program;
 * CHECK records a failure and goes on, TEST_MAIN prints one line per test and
 * a summary, and exits non-zero on any failure. */
#ifndef XPUSH_TEST_H
#define XPUSH_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond) do { test_checks++; if (!(cond)) { test_failures++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); test_checks++; \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) { test_failures++; \
	fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
		a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); test_checks++; \
	if (a_ != b_) { test_failures++; \
	fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %lld, expected %lld\n", __FILE__, __LINE__, \
		#a, a_, b_); } } while (0)

struct test_case { const char *name; void (*fn)(void); };

#define TEST_MAIN(...) \
int main(void) { \
	static const struct test_case cases_[] = { __VA_ARGS__ }; \
	int bad = 0; \
	for (size_t i = 0; i < sizeof cases_ / sizeof cases_[0]; i++) { \
		int before = test_failures; \
		cases_[i].fn(); \
		int ok = test_failures == before; \
		printf("%s %s\n", ok ? "ok  " : "FAIL", cases_[i].name); \
		if (!ok) bad++; \
	} \
	printf("%d checks, %d failed tests\n", test_checks, bad); \
	return bad ? 1 : 0; \
}
#define T(fn) { #fn, fn }

#endif
