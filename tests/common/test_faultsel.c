/* Unit tests for common/faultsel: XPUSH_FAULT=name[:n] selects the n-th hit
 * of one named point. One process, one selection (the counter is per process). */
#include <stdlib.h>

#include "faultsel.h"
#include "test.h"

static void selects_the_nth_hit_of_its_point_only(void)
{
	unsetenv("XPUSH_FAULT");
	CHECK_INT(faultsel_hit("after_send"), 0);
	setenv("XPUSH_FAULT", "after_send:3", 1);
	CHECK_INT(faultsel_hit("after"), 0);        /* a prefix of the name is another point */
	CHECK_INT(faultsel_hit("after_send_x"), 0); /* and so is a longer name */
	CHECK_INT(faultsel_hit("after_claim"), 0);
	CHECK_INT(faultsel_hit("after_send"), 0);   /* hit 1 */
	CHECK_INT(faultsel_hit("after_send"), 0);   /* hit 2 */
	CHECK_INT(faultsel_hit("after_send"), 3);   /* hit 3: selected */
	CHECK_INT(faultsel_hit("after_send"), 0);   /* hit 4 */
}

TEST_MAIN(T(selects_the_nth_hit_of_its_point_only))
