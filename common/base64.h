/* base64: RFC 4648 base64, standard or URL-safe alphabet, padded or not.
 * Pure. */
#ifndef XPUSH_BASE64_H
#define XPUSH_BASE64_H

#include <stddef.h>

enum b64_alphabet { B64_STD, B64_URL };

/* base64 of n bytes into out, NUL-terminated (room for 4 * ceil(n / 3) + 1);
 * '=' padding if pad. */
void b64_encode(enum b64_alphabet a, int pad, const unsigned char *in, size_t n, char *out);
/* Decode n characters: padded (n % 4 == 0, '=' as needed) or unpadded.
 * Canonical only (the unused bits of the last character are zero). Bytes
 * written, or -1 (a character outside the alphabet, a bad length or
 * padding, more than cap bytes). */
long b64_decode(enum b64_alphabet a, int padded, const char *in, size_t n, unsigned char *out,
                size_t cap);

#endif
