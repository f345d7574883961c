/* stanza: the urn:xpush:0 wire protocol, decode (stanza_decode.c: xnode in,
 * plain struct out) and encode (stanza_encode.c: plain struct in, bytes in
 * an xbuf out). Pure. See docs/protocol.md. No SQL, no sockets; the daemon
 * decides what to do with a decoded stanza. */
#ifndef XPUSH_STANZA_H
#define XPUSH_STANZA_H

#include <stddef.h>
#include <stdint.h>
#include "xbuf.h"
#include "xnode.h"

#define XPUSH_NS "urn:xpush:0"
#define STANZAS_NS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define PING_NS "urn:xmpp:ping"
#define DISCO_INFO_NS "http://jabber.org/protocol/disco#info"

enum stanza_kind {
	STANZA_OTHER = 0,    /* anything else: ignore (or error reply if iq get/set) */
	STANZA_REGISTER,     /* iq set <register/> */
	STANZA_UNREGISTER,   /* iq set <unregister/> */
	STANZA_PRESENCE,     /* available presence (device element optional) */
	STANZA_UNAVAILABLE,  /* presence type='unavailable' */
	STANZA_ACK,          /* iq result whose id is a notification id "xp.N.D" */
	STANZA_NACK,         /* iq error whose id is a notification id */
	STANZA_PING,         /* iq get XEP-0199 ping: answer with a result */
	STANZA_PROBE_ALIVE,  /* iq result to our probe "xq.D.T": the session is alive */
	STANZA_PROBE_GONE,   /* iq error to our probe: a bounce (gone) or no XEP-0199 */
	STANZA_DISCO_INFO,   /* iq get disco#info: answer with identity+features */
	STANZA_IQ_UNKNOWN,   /* iq get/set we do not serve: answer service-unavailable */
	STANZA_HANDSHAKE,    /* <handshake/> from the server: handshake accepted */
	STANZA_STREAM_ERROR, /* <stream:error/>: condition in .error_condition */
};

struct stanza_limits {
	size_t max_alias;        /* bytes; 0 = 128 */
	size_t max_tags;         /* count; 0 = 64 */
	size_t max_tag_len;      /* bytes; 0 = 64 */
	size_t max_app_len;      /* bytes; 0 = 128 */
	size_t max_device_len;   /* bytes; 0 = 128 */
	size_t max_platform_len; /* bytes; 0 = 32 */
};

#define STANZA_MAX_TAGS 256
/* Longest <token/> read; a token is under 100 bytes (common/regtoken.h). */
#define STANZA_MAX_TOKEN 256

/* All pointers borrow from the xnode passed to stanza_decode. */
struct stanza_in {
	enum stanza_kind kind;
	const char *from, *to, *id, *type; /* stanza attributes (NULL if absent) */
	/* REGISTER / UNREGISTER / PRESENCE (device element): */
	const char *app, *device, *alias, *platform;
	const char *reg_token; /* REGISTER: <token/>, the app's registration token (docs/apps.md) */
	const char *tags[STANZA_MAX_TAGS];
	size_t ntags;
	/* ACK / NACK: parsed from id ("xp." notification, "xr." retract) */
	int64_t notif_id, device_row, token;
	int retract;
	/* NACK / STREAM_ERROR: the defined condition element's name, and <text/> */
	const char *error_condition, *error_text;
};

/* Classify and validate st. Returns 0 with *out filled, or -1 when st is a
 * REGISTER/UNREGISTER/PRESENCE that breaks the protocol or a limit; then
 * out->kind and out->id are still set, and err holds a one-line reason
 * suitable for the <text/> of a bad-request reply (e.g. "alias longer than
 * 128 bytes"). Register requires app and device; every string must be
 * non-empty valid XML text within its limit, without control characters;
 * duplicate tags are an error. REGISTER, UNREGISTER and PRESENCE also need a
 * `from` that is a valid JID (it is the device's identity). err may be NULL. */
__attribute__((warn_unused_result)) int stanza_decode(const struct xnode *st,
                                                      const struct stanza_limits *lim,
                                                      struct stanza_in *out, char *err,
                                                      size_t errlen);

/* The server's <stream:error/>: 1 if st is one, with *condition its defined
 * condition (the name of its first child in the xmpp-streams namespace other
 * than <text/>; NULL if it names none) and *text its <text/> ("" if empty,
 * NULL if absent); 0 otherwise (outputs NULL). Both borrow from st; either
 * output pointer may be NULL. stanza_decode reads a stream error the same
 * way (STANZA_STREAM_ERROR). */
int stanza_decode_stream_error(const struct xnode *st, const char **condition, const char **text);

/* What an xpush IQ id names: "xp.<notif>.<device row>[.<lease token>]" for a
 * notification, "xr.<notif>.<device row>[.<lease token>]" for a retract,
 * "xq.<device row>.<probe token>" for a probe of a device's session (a ping;
 * notif_id 0). The lease token (0 if absent) fences a stale sender's late
 * writes. */
struct iq_ref {
	int retract, probe;
	int64_t notif_id, device_row, token;
};
/* 0, or -1 unless iq_id is exactly one of those forms with every number in
 * canonical decimal (no sign, no leading zero, within int64). */
int stanza_decode_iq_ref(const char *iq_id, struct iq_ref *out);

struct notif_out {
	const char *from; /* component JID */
	const char *to;   /* device full JID */
	int64_t notif_id;
	int64_t device_row;
	int64_t token; /* lease token for the IQ id; 0 = omit */
	const char *app;
	const char *priority;                     /* "normal" / "high"; NULL = omit */
	const char *collapse;                     /* NULL = omit */
	const char *created;                      /* ISO-8601 UTC; NULL = omit */
	const char *expires;                      /* ISO-8601 UTC; NULL = omit */
	const char *title, *body, *uri, *payload; /* NULL = element omitted */
};

/* All encoders return 0, -1 on allocation failure, -2 if a string is not
 * valid XML text (see xbuf_escape). On error the buffer is unchanged.
 * A NULL from/to/id (or other optional attribute) is omitted. Output uses
 * single-quoted attributes, no XML declaration, no whitespace. */
__attribute__((warn_unused_result)) int stanza_encode_notification(struct xbuf *b,
                                                                   const struct notif_out *n);
/* <iq type='set' id='xr.N.D.T'><retract xmlns=urn:xpush:0 id='N'/></iq> */
__attribute__((warn_unused_result)) int stanza_encode_retract(struct xbuf *b, const char *from,
                                                              const char *to, int64_t notif_id,
                                                              int64_t device_row, int64_t token);
/* <iq type='result'><registered|unregistered xmlns=urn:xpush:0 app= device=/></iq> */
__attribute__((warn_unused_result)) int stanza_encode_registered(struct xbuf *b, const char *from,
                                                                 const char *to, const char *id,
                                                                 const char *app,
                                                                 const char *device,
                                                                 int unregistered);
/* <iq type='get' id='xq.D.T'><ping xmlns='urn:xmpp:ping'/></iq>: a probe. */
__attribute__((warn_unused_result)) int stanza_encode_probe(struct xbuf *b, const char *from,
                                                            const char *to, int64_t device_row,
                                                            int64_t token);
/* Empty <iq type='result'/> (ping reply). */
__attribute__((warn_unused_result)) int stanza_encode_iq_result(struct xbuf *b, const char *from,
                                                                const char *to, const char *id);
/* disco#info result: identity category='component' type='generic' name='xpush',
 * features urn:xpush:0, disco#info, urn:xmpp:ping and UnifiedPush's (UP_NS). */
__attribute__((warn_unused_result)) int stanza_encode_disco_info(struct xbuf *b, const char *from,
                                                                 const char *to, const char *id);
/* <iq type='error'> with <error type=etype><condition xmlns=STANZAS_NS/>
 * <text xmlns=STANZAS_NS>text</text></error>; text may be NULL, etype NULL
 * means "cancel"; condition must be a lowercase RFC 6120 name (else -2). */
__attribute__((warn_unused_result)) int stanza_encode_iq_error(struct xbuf *b, const char *from,
                                                               const char *to, const char *id,
                                                               const char *etype,
                                                               const char *condition,
                                                               const char *text);

#endif
