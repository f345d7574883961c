/* base64: one codec for every base64 the product reads or writes (base64.h). */
#include "base64.h"

#include <stdint.h>
#include <string.h>

static const char *const alphabets[] = {
	[B64_STD] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	[B64_URL] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
};

void b64_encode(enum b64_alphabet a, int pad, const unsigned char *in, size_t n, char *out)
{
	const char *alpha = alphabets[a];
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t k = n - i;
		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		if (k > 1)
			out[o++] = alpha[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (k > 2)
			out[o++] = alpha[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

static int value(const char *alpha, char c)
{
	const char *p = c ? strchr(alpha, c) : NULL;

	return p ? (int)(p - alpha) : -1;
}

long b64_decode(enum b64_alphabet a, int padded, const char *in, size_t n, unsigned char *out,
                size_t cap)
{
	const char *alpha = alphabets[a];
	size_t pad = 0, o = 0, full;
	uint32_t acc = 0;
	int bits = 0;

	if (padded) {
		if (n % 4)
			return -1;
		while (pad < 2 && n > pad && in[n - 1 - pad] == '=')
			pad++;
	} else if (n % 4 == 1) {
		return -1;
	}
	full = n - pad;
	for (size_t i = 0; i < full; i++) {
		int v = value(alpha, in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* non-canonical: leftover bits set */
		return -1;
	return (long)o;
}
