/* num: the one parser of the unsigned numbers operators write (xpushd's
 * settings, xpushctl's options). Strict: decimal digits only, no sign, no
 * spaces, nothing after the digits, within the caller's bounds. Pure. */
#ifndef XPUSH_NUM_H
#define XPUSH_NUM_H

#include <stdint.h>

/* s as a whole number in min..max into *out: 0, or -1 (s NULL or empty, a
 * byte that is not a digit, or out of range; *out is then unchanged). */
__attribute__((warn_unused_result)) int num_parse_uint(const char *s, unsigned long long min,
                                                       unsigned long long max,
                                                       unsigned long long *out);
/* The same into a uint32_t. */
__attribute__((warn_unused_result)) int num_parse_u32(const char *s, uint32_t min, uint32_t max,
                                                      uint32_t *out);

#endif
