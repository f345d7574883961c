/* vapid: RFC 8292 (VAPID) as the Web Push endpoint checks it: the
 * `Authorization: vapid t=<JWT>, k=<key>` header read, its ES256 signature
 * verified with OpenSSL against k, its `aud` and `exp` judged. Pure apart
 * from OpenSSL; the caller passes the time. */
#ifndef XPUSH_VAPID_H
#define XPUSH_VAPID_H

#include <stddef.h>
#include <stdint.h>

/* An application server key: an uncompressed P-256 point, base64url (87
 * characters without padding). */
#define VAPID_KEY_B64_MAX 100
/* The longest exp accepted: 24 hours after now (RFC 8292 2), plus a minute
 * for clocks. */
#define VAPID_MAX_EXP_S (86400 + 60)

/* 1 if s is a base64url (unpadded) uncompressed P-256 point, else 0. */
int vapid_key_ok(const char *s);

/* Check the Authorization header value hdr for a request to an endpoint of
 * origin (scheme://host[:port]) at Unix time now. 0 with k (the key the
 * token names, base64url, NUL-terminated) filled; -1 with *reason a
 * one-line text. */
int vapid_check(const char *hdr, const char *origin, int64_t now, char k[VAPID_KEY_B64_MAX + 1],
                const char **reason);

/* The origin of url (its scheme://host[:port]) into out; -1 if not http(s). */
int vapid_origin(const char *url, char *out, size_t len);

#endif
