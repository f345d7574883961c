/* base64: both alphabets, padded and unpadded, canonical only. */
#include <string.h>

#include "base64.h"
#include "test.h"

static void round_trips(void)
{
	static const unsigned char raw[] = { 0xfb, 0xff, 0x00, 0x3e, 0x3f };
	unsigned char out[8];
	char enc[16];

	b64_encode(B64_STD, 1, raw, sizeof raw, enc);
	CHECK_STR(enc, "+/8APj8=");
	CHECK_INT(b64_decode(B64_STD, 1, enc, strlen(enc), out, sizeof out), 5);
	CHECK(memcmp(out, raw, 5) == 0);
	b64_encode(B64_URL, 0, raw, sizeof raw, enc);
	CHECK_STR(enc, "-_8APj8");
	CHECK_INT(b64_decode(B64_URL, 0, enc, strlen(enc), out, sizeof out), 5);
	CHECK(memcmp(out, raw, 5) == 0);
	b64_encode(B64_STD, 1, raw, 0, enc);
	CHECK_STR(enc, "");
	CHECK_INT(b64_decode(B64_URL, 0, "", 0, out, sizeof out), 0);
}

static void refusals(void)
{
	unsigned char out[8];

	CHECK_INT(b64_decode(B64_STD, 1, "AAH", 3, out, sizeof out), -1);  /* padded: n % 4 */
	CHECK_INT(b64_decode(B64_URL, 0, "AAAAA", 5, out, sizeof out), -1); /* n % 4 == 1 */
	CHECK_INT(b64_decode(B64_STD, 1, "AA*=", 4, out, sizeof out), -1); /* not the alphabet */
	CHECK_INT(b64_decode(B64_URL, 0, "-_8APj8", 7, out, 4), -1);       /* over cap */
	CHECK_INT(b64_decode(B64_STD, 1, "-_8APj8=", 8, out, sizeof out), -1); /* url chars */
	CHECK_INT(b64_decode(B64_URL, 0, "AB", 2, out, sizeof out), -1);   /* bits left set */
	CHECK_INT(b64_decode(B64_URL, 0, "AA", 2, out, sizeof out), 1);
}

TEST_MAIN(T(round_trips), T(refusals))
