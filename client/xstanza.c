/* xstanza: stanza builders and the IQ replies (see xstanza.h). Owns nothing
 * but the stanzas it builds; every reference it takes it drops. */
#include "xstanza.h"

#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

xmpp_stanza_t *xstanza_elem(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
	xmpp_stanza_t *e = xmpp_stanza_new(ctx);

	if (!e)
		return NULL;
	if (xmpp_stanza_set_name(e, name) != XMPP_EOK ||
	    (ns && xmpp_stanza_set_ns(e, ns) != XMPP_EOK)) {
		xmpp_stanza_release(e);
		return NULL;
	}
	return e;
}

int xstanza_adopt(xmpp_stanza_t *parent, xmpp_stanza_t *child)
{
	int rc;

	if (!child)
		return -1;
	rc = xmpp_stanza_add_child(parent, child);
	xmpp_stanza_release(child);
	return rc == XMPP_EOK ? 0 : -1;
}

int xstanza_add_text(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *ns,
                     const char *text)
{
	xmpp_stanza_t *e = xstanza_elem(ctx, name, ns), *t;

	if (!e)
		return -1;
	t = xmpp_stanza_new(ctx);
	if (!t || xmpp_stanza_set_text(t, text) != XMPP_EOK) {
		if (t)
			xmpp_stanza_release(t);
		xmpp_stanza_release(e);
		return -1;
	}
	if (xstanza_adopt(e, t)) {
		xmpp_stanza_release(e);
		return -1;
	}
	return xstanza_adopt(parent, e);
}

void xstanza_send(xmpp_conn_t *conn, xmpp_stanza_t *st)
{
	xmpp_send(conn, st);
	xmpp_stanza_release(st);
}

void xstanza_send_result(xmpp_conn_t *conn, const char *to, const char *id)
{
	xmpp_stanza_t *r = xmpp_iq_new(xmpp_conn_get_context(conn), "result", id);

	if (!r)
		return;
	if (to)
		xmpp_stanza_set_to(r, to);
	xstanza_send(conn, r);
}

void xstanza_send_error(xmpp_conn_t *conn, xmpp_stanza_t *iq, const char *etype,
                        const char *condition, const char *text)
{
	xmpp_ctx_t *ctx = xmpp_conn_get_context(conn);
	const char *id = xmpp_stanza_get_id(iq), *from = xmpp_stanza_get_from(iq);
	xmpp_stanza_t *r, *err;

	if (!id)
		return;
	if (!(r = xmpp_iq_new(ctx, "error", id)))
		return;
	if (from)
		xmpp_stanza_set_to(r, from);
	err = xstanza_elem(ctx, "error", NULL);
	if (!err || xmpp_stanza_set_type(err, etype) != XMPP_EOK ||
	    xstanza_adopt(err, xstanza_elem(ctx, condition, NS_STANZAS)) ||
	    (text && xstanza_add_text(ctx, err, "text", NS_STANZAS, text))) {
		if (err)
			xmpp_stanza_release(err);
		xmpp_stanza_release(r);
		return;
	}
	if (xstanza_adopt(r, err)) {
		xmpp_stanza_release(r);
		return;
	}
	xstanza_send(conn, r);
}
