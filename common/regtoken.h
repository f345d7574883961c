/* regtoken: registration tokens, the proof an app's own server gives a device
 * that it may register for the app (policy `token`, docs/apps.md). Pure: no
 * I/O, the time is the caller's; HMAC-SHA256 from OpenSSL's libcrypto.
 *
 *   token   = "v1." EXPIRY "." HEX
 *   EXPIRY  = Unix time in seconds, decimal, no sign, no leading zero
 *   HEX     = 64 lowercase hex digits of HMAC-SHA256(key = the app's secret,
 *             message = "xpush-register-v1\n" JID "\n" APP "\n" DEVICE "\n" EXPIRY)
 *   JID     = the device's bare JID with ASCII A-Z lowercased
 *
 * None of JID, APP or DEVICE can hold a line feed (they are refused at
 * registration), so the message reads one way only. */
#ifndef XPUSH_REGTOKEN_H
#define XPUSH_REGTOKEN_H

#include <stddef.h>
#include <stdint.h>

/* Longest token: "v1." + 20 digits + "." + 64 hex digits. */
#define REGTOKEN_MAX 96

enum regtoken_result {
	REGTOKEN_OK = 0,
	REGTOKEN_MALFORMED = -1, /* not "v1.EXPIRY.HEX" */
	REGTOKEN_EXPIRED = -2,   /* EXPIRY <= now */
	REGTOKEN_MISMATCH = -3,  /* HMAC differs: another secret, JID, app or device */
	REGTOKEN_ERROR = -4,     /* out of memory, key or message too long */
};

/* Mint a token valid until expiry (Unix seconds) into out (at least
 * REGTOKEN_MAX + 1 bytes). 0, or REGTOKEN_ERROR. */
int regtoken_mint(const char *secret, size_t secret_len, const char *bare_jid, const char *app,
                  const char *device, uint64_t expiry, char *out, size_t outlen);

/* Check token for (bare_jid, app, device) at time now. The HMAC is compared
 * in constant time (CRYPTO_memcmp). *expiry_out (may be NULL) gets the
 * token's expiry when it parsed (also for EXPIRED and MISMATCH). */
int regtoken_verify(const char *secret, size_t secret_len, const char *token, const char *bare_jid,
                    const char *app, const char *device, uint64_t now, uint64_t *expiry_out);

/* A one-line English reason for a result ("registration token expired"). */
const char *regtoken_strerror(int result);

#endif
