/* stanza_encode: the urn:xpush:0 wire protocol written (docs/protocol.md):
 * the exact bytes of every notification, retract, probe and reply xpushd
 * sends. Plain values in, bytes appended to an xbuf out; every string goes
 * through the escaper, and a stanza that cannot be written whole leaves the
 * buffer as it was. It must not decide what to send: the daemon does. */
#include "stanza.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "unifiedpush.h"

/* One stanza being written: once a write fails, the later ones do nothing
 * and enc_end cuts the buffer back to where the stanza began. */
struct enc {
	struct xbuf *b;
	size_t orig;
	int rc; /* the first failure: -1 allocation, -2 text XML cannot carry */
};

static struct enc enc_begin(struct xbuf *b)
{
	struct enc e = { b, b->len, 0 };

	return e;
}

static int enc_end(struct enc *e)
{
	if (e->rc)
		xbuf_truncate(e->b, e->orig);
	return e->rc;
}

static void enc_raw(struct enc *e, const char *s)
{
	if (!e->rc)
		e->rc = xbuf_puts(e->b, s);
}

static void enc_text(struct enc *e, const char *s)
{
	if (!e->rc)
		e->rc = xbuf_escape(e->b, s, strlen(s));
}

/* ` name='value'`, or nothing when value is NULL. */
static void enc_attr(struct enc *e, const char *name, const char *value)
{
	if (!value)
		return;
	enc_raw(e, " ");
	enc_raw(e, name);
	enc_raw(e, "='");
	enc_text(e, value);
	enc_raw(e, "'");
}

/* <name>text</name>, or nothing when text is NULL. */
static void enc_elem(struct enc *e, const char *name, const char *text)
{
	if (!text)
		return;
	enc_raw(e, "<");
	enc_raw(e, name);
	enc_raw(e, ">");
	enc_text(e, text);
	enc_raw(e, "</");
	enc_raw(e, name);
	enc_raw(e, ">");
}

/* <iq type= from= to= id= ; the caller closes the tag. */
static void enc_iq_open(struct enc *e, const char *type, const char *from, const char *to,
                        const char *id)
{
	enc_raw(e, "<iq");
	enc_attr(e, "type", type);
	enc_attr(e, "from", from);
	enc_attr(e, "to", to);
	enc_attr(e, "id", id);
}

/* An IQ whose payload is fixed text: its opening tag, then rest. */
static int encode_iq(struct xbuf *b, const char *type, const char *from, const char *to,
                     const char *id, const char *rest)
{
	struct enc e = enc_begin(b);

	enc_iq_open(&e, type, from, to, id);
	enc_raw(&e, rest);
	return enc_end(&e);
}

int stanza_encode_notification(struct xbuf *b, const struct notif_out *n)
{
	struct enc e = enc_begin(b);
	char iq_id[64], nid[24];

	if (n->token)
		snprintf(iq_id, sizeof iq_id, "xp.%" PRId64 ".%" PRId64 ".%" PRId64, n->notif_id,
		         n->device_row, n->token);
	else
		snprintf(iq_id, sizeof iq_id, "xp.%" PRId64 ".%" PRId64, n->notif_id,
		         n->device_row);
	snprintf(nid, sizeof nid, "%" PRId64, n->notif_id);
	enc_iq_open(&e, "set", n->from, n->to, iq_id);
	enc_raw(&e, "><notification xmlns='" XPUSH_NS "'");
	enc_attr(&e, "id", nid);
	enc_attr(&e, "app", n->app);
	enc_attr(&e, "priority", n->priority);
	enc_attr(&e, "collapse", n->collapse);
	enc_attr(&e, "created", n->created);
	enc_attr(&e, "expires", n->expires);
	enc_raw(&e, ">");
	enc_elem(&e, "title", n->title);
	enc_elem(&e, "body", n->body);
	enc_elem(&e, "uri", n->uri);
	enc_elem(&e, "payload", n->payload);
	enc_raw(&e, "</notification></iq>");
	return enc_end(&e);
}

int stanza_encode_retract(struct xbuf *b, const char *from, const char *to, int64_t notif_id,
                          int64_t device_row, int64_t token)
{
	struct enc e = enc_begin(b);
	char iq_id[80], nid[24];

	snprintf(iq_id, sizeof iq_id, "xr.%" PRId64 ".%" PRId64 ".%" PRId64, notif_id, device_row,
	         token);
	snprintf(nid, sizeof nid, "%" PRId64, notif_id);
	enc_iq_open(&e, "set", from, to, iq_id);
	enc_raw(&e, "><retract xmlns='" XPUSH_NS "'");
	enc_attr(&e, "id", nid);
	enc_raw(&e, "/></iq>");
	return enc_end(&e);
}

int stanza_encode_probe(struct xbuf *b, const char *from, const char *to, int64_t device_row,
                        int64_t token)
{
	char iq_id[64];

	snprintf(iq_id, sizeof iq_id, "xq.%" PRId64 ".%" PRId64, device_row, token);
	return encode_iq(b, "get", from, to, iq_id, "><ping xmlns='" PING_NS "'/></iq>");
}

int stanza_encode_registered(struct xbuf *b, const char *from, const char *to, const char *id,
                             const char *app, const char *device, int unregistered)
{
	struct enc e = enc_begin(b);

	enc_iq_open(&e, "result", from, to, id);
	enc_raw(&e, unregistered ? "><unregistered" : "><registered");
	enc_raw(&e, " xmlns='" XPUSH_NS "'");
	enc_attr(&e, "app", app);
	enc_attr(&e, "device", device);
	enc_raw(&e, "/></iq>");
	return enc_end(&e);
}

int stanza_encode_iq_result(struct xbuf *b, const char *from, const char *to, const char *id)
{
	return encode_iq(b, "result", from, to, id, "/>");
}

int stanza_encode_disco_info(struct xbuf *b, const char *from, const char *to, const char *id)
{
	return encode_iq(b, "result", from, to, id,
	                 "><query xmlns='" DISCO_INFO_NS "'>"
	                 "<identity category='component' type='generic' name='xpush'/>"
	                 "<feature var='" DISCO_INFO_NS "'/>"
	                 "<feature var='" PING_NS "'/>"
	                 "<feature var='" XPUSH_NS "'/>"
	                 "<feature var='" UP_NS "'/>"
	                 "</query></iq>");
}

/* The condition becomes an element name, so it must be one of the
 * lowercase-and-hyphen names RFC 6120 defines, not arbitrary text. */
static int condition_ok(const char *c)
{
	size_t n = 0;

	if (!c || !*c)
		return 0;
	for (; c[n]; n++)
		if (!((c[n] >= 'a' && c[n] <= 'z') || c[n] == '-') || n >= 64)
			return 0;
	return 1;
}

int stanza_encode_iq_error(struct xbuf *b, const char *from, const char *to, const char *id,
                           const char *etype, const char *condition, const char *text)
{
	struct enc e = enc_begin(b);

	if (!condition_ok(condition))
		return -2;
	enc_iq_open(&e, "error", from, to, id);
	enc_raw(&e, "><error");
	enc_attr(&e, "type", etype ? etype : "cancel");
	enc_raw(&e, "><");
	enc_raw(&e, condition);
	enc_raw(&e, " xmlns='" STANZAS_NS "'/>");
	if (text) {
		enc_raw(&e, "<text xmlns='" STANZAS_NS "'>");
		enc_text(&e, text);
		enc_raw(&e, "</text>");
	}
	enc_raw(&e, "</error></iq>");
	return enc_end(&e);
}
