/* regtoken: mint and verify registration tokens (format in regtoken.h and
 * docs/apps.md). Owns one rule: the bytes the HMAC covers. */
#include "regtoken.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "v1."
#define DOMAIN_TAG "xpush-register-v1\n"
/* JID (2 x 1023 + 1) + app (128) + device (128) + expiry + separators, with room. */
#define MSG_MAX 4096
#define MAC_LEN 32

/* The message the HMAC covers; -1 if it does not fit. */
static int message(const char *jid, const char *app, const char *device, uint64_t expiry, char *out,
                   size_t outlen)
{
	int n = snprintf(out, outlen, DOMAIN_TAG "%s\n%s\n%s\n%llu", jid, app, device,
	                 (unsigned long long)expiry);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	/* The JID with ASCII A-Z lowercased: it starts right after the tag. */
	for (char *p = out + sizeof DOMAIN_TAG - 1; *p && *p != '\n'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return n;
}

static int mac(const char *secret, size_t secret_len, const char *jid, const char *app,
               const char *device, uint64_t expiry, unsigned char out[MAC_LEN])
{
	char msg[MSG_MAX];
	int n = message(jid, app, device, expiry, msg, sizeof msg);
	unsigned int len = 0;

	if (n < 0 || secret_len > 1024 || !jid || !app || !device)
		return -1;
	if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)msg, (size_t)n, out,
	          &len) ||
	    len != MAC_LEN)
		return -1;
	return 0;
}

int regtoken_mint(const char *secret, size_t secret_len, const char *bare_jid, const char *app,
                  const char *device, uint64_t expiry, char *out, size_t outlen)
{
	unsigned char m[MAC_LEN];
	int n;

	if (!secret || !bare_jid || !app || !device || outlen < REGTOKEN_MAX + 1)
		return REGTOKEN_ERROR;
	if (mac(secret, secret_len, bare_jid, app, device, expiry, m) < 0)
		return REGTOKEN_ERROR;
	n = snprintf(out, outlen, PREFIX "%llu.", (unsigned long long)expiry);
	for (int i = 0; i < MAC_LEN; i++)
		n += snprintf(out + n, outlen - (size_t)n, "%02x", m[i]);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "v1.EXPIRY.HEX" into *expiry and the MAC bytes; -1 if malformed. */
static int parse(const char *token, uint64_t *expiry, unsigned char m[MAC_LEN])
{
	const char *p;
	uint64_t e = 0;

	if (strncmp(token, PREFIX, sizeof PREFIX - 1) != 0)
		return -1;
	p = token + sizeof PREFIX - 1;
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (e > (UINT64_MAX - 9) / 10)
			return -1;
		e = e * 10 + (uint64_t)(*p - '0');
	}
	if (*p++ != '.' || strlen(p) != 2 * MAC_LEN)
		return -1;
	for (int i = 0; i < MAC_LEN; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		m[i] = (unsigned char)(hi << 4 | lo);
	}
	*expiry = e;
	return 0;
}

int regtoken_verify(const char *secret, size_t secret_len, const char *token, const char *bare_jid,
                    const char *app, const char *device, uint64_t now, uint64_t *expiry_out)
{
	unsigned char got[MAC_LEN], want[MAC_LEN];
	uint64_t expiry;

	if (expiry_out)
		*expiry_out = 0;
	if (!token || strlen(token) > REGTOKEN_MAX || parse(token, &expiry, got) < 0)
		return REGTOKEN_MALFORMED;
	if (expiry_out)
		*expiry_out = expiry;
	if (!secret || mac(secret, secret_len, bare_jid, app, device, expiry, want) < 0)
		return REGTOKEN_ERROR;
	if (CRYPTO_memcmp(got, want, MAC_LEN) != 0)
		return REGTOKEN_MISMATCH;
	/* After the MAC: an expired token says so only if it is genuine. */
	if (expiry <= now)
		return REGTOKEN_EXPIRED;
	return REGTOKEN_OK;
}

const char *regtoken_strerror(int result)
{
	switch (result) {
	case REGTOKEN_OK:
		return "registration token valid";
	case REGTOKEN_MALFORMED:
		return "registration token malformed (expected v1.EXPIRY.HMAC)";
	case REGTOKEN_EXPIRED:
		return "registration token expired";
	case REGTOKEN_MISMATCH:
		return "registration token not valid for this account, app and device (wrong secret,"
		       " or minted for another JID or device)";
	default:
		return "registration token could not be checked";
	}
}
