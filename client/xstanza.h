/* xstanza: the few libstrophe stanza builders that the session, notification
 * and retract paths share: an element, a text child, adopting a child, and
 * the two IQ replies (result, error). Plain libstrophe, no client state. */
#ifndef XPUSH_XSTANZA_H
#define XPUSH_XSTANZA_H

#include <strophe.h>

/* <name xmlns=ns/> (ns may be NULL); NULL when out of memory. The caller
 * owns the reference. */
xmpp_stanza_t *xstanza_elem(xmpp_ctx_t *ctx, const char *name, const char *ns);

/* Append child to parent and drop the caller's reference to child (the
 * parent keeps its own), in all outcomes. A NULL child (a failed build) is
 * an error. 0, or -1. */
int xstanza_adopt(xmpp_stanza_t *parent, xmpp_stanza_t *child);

/* Append <name xmlns=ns>text</name> to parent (ns may be NULL). 0, or -1. */
int xstanza_add_text(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *ns,
                     const char *text);

/* Send st on conn and drop the caller's reference to it. */
void xstanza_send(xmpp_conn_t *conn, xmpp_stanza_t *st);

/* Send <iq type='result' id=id/> to `to` (NULL: without a to). */
void xstanza_send_result(xmpp_conn_t *conn, const char *to, const char *id);

/* Answer iq with <iq type='error'> holding <error type=etype><condition
 * xmlns=stanzas/><text>text</text></error> (text may be NULL), addressed to
 * iq's sender. Nothing is sent for an iq without an id (nothing to
 * correlate the reply with). */
void xstanza_send_error(xmpp_conn_t *conn, xmpp_stanza_t *iq, const char *etype,
                        const char *condition, const char *text);

#endif
