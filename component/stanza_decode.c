/* stanza_decode: the urn:xpush:0 wire protocol read (docs/protocol.md). It
 * owns what a well-formed request is: which stanza means what, and the
 * limits on every device-supplied string. It reads trees through xnode.h
 * only; it must not touch SQL, sockets or the clock, and it never trusts a
 * payload field for identity: that comes from the server-stamped `from`
 * alone. Encoding: stanza_encode.c. */
#include "stanza.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jid.h"
#include "stream.h" /* the stream's namespaces */
#include "unifiedpush.h"
#include "utf8.h"

#define STREAMS_ERR_NS "urn:ietf:params:xml:ns:xmpp-streams"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The ack id is ours ("xp.N.D"), so accept only the canonical form we write:
 * decimal digits, no sign, no leading zero, no overflow. Anything else is
 * someone else's IQ and must not touch the ledger. */
static int parse_i64(const char *s, const char **end, int64_t *v)
{
	int64_t n = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		int d = *p - '0';

		if (n > (INT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*end = p;
	*v = n;
	return 0;
}

int stanza_decode_iq_ref(const char *iq_id, struct iq_ref *out)
{
	const char *p;
	int64_t n, d, t = 0;
	int retract;

	if (iq_id && strncmp(iq_id, "xq.", 3) == 0) {
		if (parse_i64(iq_id + 3, &p, &d) < 0 || *p != '.' || parse_i64(p + 1, &p, &t) < 0 ||
		    *p != '\0')
			return -1;
		out->retract = 0;
		out->probe = 1;
		out->notif_id = 0;
		out->device_row = d;
		out->token = t;
		return 0;
	}
	if (!iq_id || (strncmp(iq_id, "xp.", 3) != 0 && strncmp(iq_id, "xr.", 3) != 0))
		return -1;
	retract = iq_id[1] == 'r';
	if (parse_i64(iq_id + 3, &p, &n) < 0 || *p != '.')
		return -1;
	if (parse_i64(p + 1, &p, &d) < 0)
		return -1;
	if (*p == '.' && parse_i64(p + 1, &p, &t) < 0)
		return -1;
	if (*p != '\0')
		return -1;
	out->retract = retract;
	out->probe = 0;
	out->notif_id = n;
	out->device_row = d;
	out->token = t;
	return 0;
}

/* Servers route c2s and s2s stanzas to us with their own namespace kept
 * now and then; the stanza's meaning is the same. */
static int stanza_ns_ok(const char *ns)
{
	return strcmp(ns, COMPONENT_NS) == 0 || strcmp(ns, "jabber:client") == 0 ||
	       strcmp(ns, "jabber:server") == 0;
}

static int streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

struct limits {
	size_t alias, tags, tag, app, device, platform;
};

static struct limits limits_of(const struct stanza_limits *lim)
{
	struct limits l = { 128, 64, 64, 128, 128, 32 };

	if (lim) {
		if (lim->max_alias)
			l.alias = lim->max_alias;
		if (lim->max_tags)
			l.tags = lim->max_tags;
		if (lim->max_tag_len)
			l.tag = lim->max_tag_len;
		if (lim->max_app_len)
			l.app = lim->max_app_len;
		if (lim->max_device_len)
			l.device = lim->max_device_len;
		if (lim->max_platform_len)
			l.platform = lim->max_platform_len;
	}
	if (l.tags > STANZA_MAX_TAGS)
		l.tags = STANZA_MAX_TAGS;
	return l;
}

/* One device-supplied identifier: present, non-empty, within its limit,
 * valid XML text and free of control characters (they are identifiers,
 * stored and echoed in logs, never prose). len is the byte length the tree
 * claims; a NUL inside it means the string is not what it says. */
static int check_field(const char *what, const char *s, size_t len, size_t max, char *err,
                       size_t errlen)
{
	if (!s) {
		set_err(err, errlen, "missing %s", what);
		return -1;
	}
	if (len == 0) {
		set_err(err, errlen, "empty %s", what);
		return -1;
	}
	if (len > max) {
		/* Name the xpushd setting when there is one, so the operator knows
		 * what to raise. */
		const char *key = strcmp(what, "alias") == 0 ? " (max_alias_bytes)"
		                  : strcmp(what, "tag") == 0 ? " (max_tag_bytes)"
		                                             : "";
		set_err(err, errlen, "%s longer than %zu bytes%s", what, max, key);
		return -1;
	}
	if (strlen(s) != len || !utf8_xml_valid(s, len)) {
		set_err(err, errlen, "%s is not valid UTF-8 XML text", what);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			set_err(err, errlen, "%s contains a control character", what);
			return -1;
		}
	}
	return 0;
}

static int check_attr(const char *what, const char *s, size_t max, char *err, size_t errlen)
{
	return check_field(what, s, s ? strlen(s) : 0, max, err, errlen);
}

static int check_text(const char *what, const struct xnode *n, size_t max, char *err, size_t errlen)
{
	const char *t = n->text ? n->text : "";

	return check_field(what, t, n->text ? n->text_len : 0, max, err, errlen);
}

/* The sender's identity is the server-stamped from; without a valid one
 * there is nobody to register. */
static int check_from(const char *from, char *err, size_t errlen)
{
	struct jid_parts parts;

	if (!from) {
		set_err(err, errlen, "missing from");
		return -1;
	}
	if (jid_split(from, &parts) < 0) {
		set_err(err, errlen, "from is not a valid JID");
		return -1;
	}
	return 0;
}

/* The forms of a registration (schema 006 holds push.devices to the same:
 * devices_app_form, devices_device_form, devices_alias_form,
 * devices_tags_form; docs/schema.md "Forms"). They come after check_field,
 * which has refused C0 controls, DEL, invalid UTF-8 and empty values. */

/* app: a reverse-DNS id, A-Z a-z 0-9 '.' '_' '-' only (no spaces). */
static int check_app_form(const char *app, char *err, size_t errlen)
{
	for (const char *p = app; *p; p++) {
		char c = *p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			set_err(err, errlen,
			        "app may hold only A-Z a-z 0-9 . _ - (a reverse-DNS id)");
			return -1;
		}
	}
	return 0;
}

/* device, alias, tag: no C1 control (U+0080-U+009F) and no bidirectional
 * formatting character (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069): an alias holding U+202E is shown reversed in listings. */
static int check_ident_form(const char *what, const char *s, char *err, size_t errlen)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			set_err(err, errlen, "%s contains a control character", what);
			return -1;
		}
		if ((p[0] == 0xd8 && p[1] == 0x9c) ||
		    (p[0] == 0xe2 && p[1] == 0x80 &&
		     (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae))) ||
		    (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)) {
			set_err(err, errlen, "%s contains a bidirectional formatting character",
			        what);
			return -1;
		}
	}
	return 0;
}

/* <register/> body: optional alias, platform and token (at most one each) and
 * tags (bounded, unique). Unknown children are ignored so a newer device
 * can talk to an older daemon. */
static int decode_register_body(const struct xnode *reg, const struct limits *l,
                                struct stanza_in *out, char *err, size_t errlen)
{
	for (const struct xnode *c = reg->children; c; c = c->next) {
		if (strcmp(c->ns, XPUSH_NS) != 0)
			continue;
		if (strcmp(c->name, "alias") == 0) {
			if (out->alias) {
				set_err(err, errlen, "more than one alias");
				return -1;
			}
			if (check_text("alias", c, l->alias, err, errlen) < 0 ||
			    check_ident_form("alias", c->text, err, errlen) < 0)
				return -1;
			out->alias = c->text;
		} else if (strcmp(c->name, "platform") == 0) {
			if (out->platform) {
				set_err(err, errlen, "more than one platform");
				return -1;
			}
			if (check_text("platform", c, l->platform, err, errlen) < 0)
				return -1;
			out->platform = c->text;
		} else if (strcmp(c->name, "token") == 0) {
			if (out->reg_token) {
				set_err(err, errlen, "more than one token");
				return -1;
			}
			if (check_text("token", c, STANZA_MAX_TOKEN, err, errlen) < 0)
				return -1;
			out->reg_token = c->text;
		} else if (strcmp(c->name, "tag") == 0) {
			if (out->ntags >= l->tags) {
				set_err(err, errlen, "more than %zu tags (max_tags)", l->tags);
				return -1;
			}
			if (check_text("tag", c, l->tag, err, errlen) < 0 ||
			    check_ident_form("tag", c->text, err, errlen) < 0)
				return -1;
			for (size_t i = 0; i < out->ntags; i++) {
				if (strcmp(out->tags[i], c->text) == 0) {
					/* Safe to echo: check_text refused controls. */
					set_err(err, errlen, "duplicate tag '%s'", c->text);
					return -1;
				}
			}
			out->tags[out->ntags++] = c->text;
		}
	}
	return 0;
}

/* app and device attributes of <register/>, <unregister/> or <device/>. */
static int decode_device_attrs(const struct xnode *n, const struct limits *l, struct stanza_in *out,
                               char *err, size_t errlen)
{
	const char *app = xnode_attr(n, "app"), *device = xnode_attr(n, "device");
	char upa[UP_ID_B64_LEN + 1], upi[UP_ID_B64_LEN + 1];

	if (check_attr("app", app, l->app, err, errlen) < 0)
		return -1;
	/* UnifiedPush registrations' app names (unifiedpush.h) are not a native app's. */
	if (up_app_parse(app, upa, upi) == 0) {
		snprintf(err, errlen, "app: the form up.<id>.<id> is reserved for UnifiedPush");
		return -1;
	}
	if (check_attr("device", device, l->device, err, errlen) < 0)
		return -1;
	out->app = app;
	out->device = device;
	return 0;
}

/* An <error/> (a stanza's or the stream's): its defined condition, the
 * first child in cond_ns that is not <text/>, and its <text/>. What e lacks
 * is left as it was. */
static void decode_error(const struct xnode *e, const char *cond_ns, const char **condition,
                         const char **text)
{
	const struct xnode *t;

	if (!e)
		return;
	for (const struct xnode *c = e->children; c; c = c->next) {
		if (strcmp(c->ns, cond_ns) == 0 && strcmp(c->name, "text") != 0) {
			*condition = c->name;
			break;
		}
	}
	t = xnode_child(e, "text", cond_ns);
	if (t)
		*text = t->text ? t->text : "";
}

int stanza_decode_stream_error(const struct xnode *st, const char **condition, const char **text)
{
	const char *c = NULL, *t = NULL;
	int is = st && st->name && st->ns && strcmp(st->ns, STREAM_NS) == 0 &&
	         strcmp(st->name, "error") == 0;

	if (is)
		decode_error(st, STREAMS_ERR_NS, &c, &t);
	if (condition)
		*condition = c;
	if (text)
		*text = t;
	return is;
}

static int decode_iq(const struct xnode *st, const struct limits *l, struct stanza_in *out,
                     char *err, size_t errlen)
{
	const struct xnode *q = st->children;
	struct iq_ref ref;

	/* An answer to one of our IQs, if its id is ours. */
	if (streq(out->type, "result") || streq(out->type, "error")) {
		int error = streq(out->type, "error");

		if (stanza_decode_iq_ref(out->id, &ref) < 0)
			return 0;
		out->kind = ref.probe ? (error ? STANZA_PROBE_GONE : STANZA_PROBE_ALIVE)
		                      : (error ? STANZA_NACK : STANZA_ACK);
		out->notif_id = ref.notif_id;
		out->device_row = ref.device_row;
		out->token = ref.token;
		out->retract = ref.retract;
		if (error)
			decode_error(xnode_child(st, "error", NULL), STANZAS_NS,
			             &out->error_condition, &out->error_text);
		return 0;
	}
	if (!streq(out->type, "get") && !streq(out->type, "set"))
		return 0; /* no valid type: nothing we may answer */
	out->kind = STANZA_IQ_UNKNOWN;
	if (!q)
		return 0;
	if (streq(out->type, "get")) {
		if (strcmp(q->ns, PING_NS) == 0 && strcmp(q->name, "ping") == 0)
			out->kind = STANZA_PING;
		/* A node we do not publish is not ours to describe. */
		else if (strcmp(q->ns, DISCO_INFO_NS) == 0 && strcmp(q->name, "query") == 0 &&
		         !xnode_attr(q, "node"))
			out->kind = STANZA_DISCO_INFO;
		return 0;
	}
	if (strcmp(q->ns, XPUSH_NS) != 0)
		return 0;
	if (strcmp(q->name, "register") == 0) {
		out->kind = STANZA_REGISTER;
		if (check_from(out->from, err, errlen) < 0 ||
		    decode_device_attrs(q, l, out, err, errlen) < 0 ||
		    check_app_form(out->app, err, errlen) < 0 ||
		    check_ident_form("device", out->device, err, errlen) < 0 ||
		    decode_register_body(q, l, out, err, errlen) < 0)
			return -1;
	} else if (strcmp(q->name, "unregister") == 0) {
		out->kind = STANZA_UNREGISTER;
		if (check_from(out->from, err, errlen) < 0 ||
		    decode_device_attrs(q, l, out, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int decode_presence(const struct xnode *st, const struct limits *l, struct stanza_in *out,
                           char *err, size_t errlen)
{
	const struct xnode *dev;

	if (streq(out->type, "unavailable")) {
		out->kind = STANZA_UNAVAILABLE;
		return 0;
	}
	if (out->type)
		return 0; /* subscriptions, probes, errors: not ours */
	out->kind = STANZA_PRESENCE;
	if (check_from(out->from, err, errlen) < 0)
		return -1;
	dev = xnode_child(st, "device", XPUSH_NS);
	if (dev && decode_device_attrs(dev, l, out, err, errlen) < 0)
		return -1;
	return 0;
}

int stanza_decode(const struct xnode *st, const struct stanza_limits *lim, struct stanza_in *out,
                  char *err, size_t errlen)
{
	struct limits l = limits_of(lim);
	int rc = 0;

	memset(out, 0, sizeof *out);
	set_err(err, errlen, "%s", "");
	if (!st || !st->name || !st->ns)
		return 0;
	out->from = xnode_attr(st, "from");
	out->to = xnode_attr(st, "to");
	out->id = xnode_attr(st, "id");
	out->type = xnode_attr(st, "type");

	if (stanza_decode_stream_error(st, &out->error_condition, &out->error_text)) {
		out->kind = STANZA_STREAM_ERROR;
		return 0;
	}
	if (!stanza_ns_ok(st->ns))
		return 0;
	if (strcmp(st->name, "iq") == 0)
		rc = decode_iq(st, &l, out, err, errlen);
	else if (strcmp(st->name, "presence") == 0)
		rc = decode_presence(st, &l, out, err, errlen);
	else if (strcmp(st->name, "handshake") == 0)
		out->kind = STANZA_HANDSHAKE;
	if (rc < 0) {
		/* Half-filled fields must not be mistaken for a valid request. */
		enum stanza_kind kind = out->kind;
		const char *from = out->from, *to = out->to, *id = out->id, *type = out->type;

		memset(out, 0, sizeof *out);
		out->kind = kind;
		out->from = from;
		out->to = to;
		out->id = id;
		out->type = type;
	}
	return rc;
}
