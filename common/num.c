/* num: strict unsigned number parsing (num.h). */
#include "num.h"

#include <errno.h>
#include <stdlib.h>

int num_parse_uint(const char *s, unsigned long long min, unsigned long long max,
                   unsigned long long *out)
{
	char *end;
	unsigned long long v;

	/* strtoull alone would take a sign, leading spaces and "0x". */
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int num_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;

	if (num_parse_uint(s, min, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}
