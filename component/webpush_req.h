/* webpush_req: what a Web Push request (RFC 8030) means, decided from its
 * method, path and header values alone (docs/http.md). Pure: no sockets, no
 * SQL; webpush.c serves what this decides. */
#ifndef XPUSH_WEBPUSH_REQ_H
#define XPUSH_WEBPUSH_REQ_H

#include <stddef.h>
#include <stdint.h>

/* The largest message body (UnifiedPush requires 4096 bytes). */
#define WP_MAX_BODY 4096
/* The longest a message is kept: 28 days, as push.notifications allows. */
#define WP_MAX_TTL 2419200L
/* TTL when the request has none (RFC 8030 requires it; UnifiedPush app
 * servers often omit it). */
#define WP_DEFAULT_TTL 86400L
/* RFC 8030 5.4: a topic is at most 32 characters of the base64url alphabet. */
#define WP_MAX_TOPIC 32

enum wp_target {
	WP_BAD_PATH = -1, /* not /up/<token>[/<message id>] */
	WP_ENDPOINT = 0,  /* /up/<token>: the push resource */
	WP_MESSAGE = 1,   /* /up/<token>/<id>: a message resource */
};

/* Split the path. token gets the 43 characters (form checked: up_token_ok),
 * *msg the message id for WP_MESSAGE. */
enum wp_target wp_parse_path(const char *url, char token[44], int64_t *msg);

/* TTL header (NULL: absent) to seconds kept, in 0..WP_MAX_TTL (a larger
 * request is kept WP_MAX_TTL, as RFC 8030 5.2 allows). -1 if not a
 * non-negative decimal number. */
long wp_parse_ttl(const char *v);
/* Urgency header (NULL: normal) to the ledger's priority ("normal" for
 * very-low, low, normal; "high" for high). NULL if not one of those. */
const char *wp_parse_urgency(const char *v);
/* Topic header (NULL: none): 1 if usable as the collapse key, 0 if absent,
 * -1 if not 1..32 base64url characters. */
int wp_parse_topic(const char *v);

/* The request's verdict before the database: 0 to go on, else an HTTP status
 * with *reason a one-line text. method is the HTTP method; len the body's
 * declared or received length (-1 unknown). */
int wp_check(const char *method, enum wp_target t, long long len, const char *ttl,
             const char *urgency, const char *topic, const char **reason);

#endif
