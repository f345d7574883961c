/* unifiedpush: the UnifiedPush-over-XMPP protocol (namespace
 * http://gultsch.de/xmpp/drafts/unified-push, docs/unifiedpush.md) read and
 * written, and the forms it rests on: a registration's app name in the
 * ledger, endpoint tokens, the ACL. Pure (the token's random bytes come from
 * OpenSSL): no SQL, no sockets; upsvc.c decides what to do. */
#ifndef XPUSH_UNIFIEDPUSH_H
#define XPUSH_UNIFIEDPUSH_H

#include <stddef.h>
#include <stdint.h>
#include "xbuf.h"
#include "xnode.h"

#define UP_NS "http://gultsch.de/xmpp/drafts/unified-push"

/* application and instance: base64 of 32 bytes (44 characters, canonical). */
#define UP_ID_B64_LEN 44
/* "up." + 43 + "." + 43 */
#define UP_APP_LEN 90
/* An endpoint token: 32 random bytes, base64url without padding. */
#define UP_TOKEN_LEN 43

enum up_kind {
	UP_NONE = 0,   /* not a UnifiedPush request */
	UP_REGISTER,   /* iq set <register application= instance=/> */
	UP_UNREGISTER, /* iq set <unregister application= instance=/> (an xpush extension) */
};

struct up_req {
	enum up_kind kind;
	const char *application, *instance; /* borrowed from the stanza */
	const char *vapid;                  /* the app server's key (an xpush extension), or NULL */
	char app[UP_APP_LEN + 1];           /* the ledger's app name for the pair */
};

/* Classify an <iq/>: UP_NONE if it carries no request of this namespace;
 * a register's optional `vapid` attribute (RFC 8292 application server key,
 * base64url) must be a P-256 public key;
 * else 0 with *out filled, or -1 with err a one-line reason for a
 * bad-request reply (e.g. "instance: not base64 of 32 bytes"). */
int up_decode(const struct xnode *iq, struct up_req *out, char *err, size_t errlen);

/* The ledger's app name of (application, instance), both canonical base64 of
 * 32 bytes: "up.<b64url>.<b64url>". 0, or -1 if either is not that. */
int up_app_name(const char *application, const char *instance, char out[UP_APP_LEN + 1]);
/* The reverse: 0 with both base64 forms (44 characters + NUL), -1 if app is
 * not a UnifiedPush app name (then it is a native xpush app). */
int up_app_parse(const char *app, char application[UP_ID_B64_LEN + 1],
                 char instance[UP_ID_B64_LEN + 1]);

/* A fresh unguessable token (RAND_bytes). 0, or -1 if OpenSSL fails. */
int up_token_new(char out[UP_TOKEN_LEN + 1]);
/* 1 if s has the form of a token (43 base64url characters), else 0. */
int up_token_ok(const char *s);

/* 1 if bare (a bare JID) may register under acl: comma-separated entries,
 * each a bare JID (that account) or a domain (its accounts). */
int up_acl_allows(const char *acl, const char *bare);

/* <iq type='result'><registered xmlns=UP_NS endpoint= expiration=/></iq>;
 * expiration is written ISO-8601 UTC from Unix seconds. */
__attribute__((warn_unused_result)) int up_encode_registered(struct xbuf *b, const char *from,
                                                             const char *to, const char *id,
                                                             const char *endpoint, int64_t expires);
/* <iq type='set' id='xp.N.D.T'><push xmlns=UP_NS application= instance=>b64</push></iq>:
 * the IQ id is a notification's, so its result acks the row like a native
 * device's ack. */
__attribute__((warn_unused_result)) int up_encode_push(struct xbuf *b, const char *from,
                                                       const char *to, int64_t notif_id,
                                                       int64_t device_row, int64_t token,
                                                       const char *app, const char *payload_b64);

/* base64 (standard alphabet, padded) of n bytes into out (4*ceil(n/3)+1). */
void up_b64_encode(const unsigned char *in, size_t n, char *out);
/* Decode standard base64 (padded, canonical). Bytes written, or -1. */
long up_b64_decode(const char *in, unsigned char *out, size_t cap);

#endif
