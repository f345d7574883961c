/* upsvc: the UnifiedPush requests of distributors, answered from the store
 * (upsvc.h). Who may register is unifiedpush_acl's; a registration is a
 * device row plus its endpoint token (schema 011). */
#include "upsvc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stanza.h"
#include "unifiedpush.h"
#include "webpush.h"
#include "xbuf.h"

struct upsvc {
	const struct config *cfg;
	struct store *store;
	struct upsvc_owner o;
	struct webpush *http;
	struct xbuf out;
};

/* One request waiting for the store. */
struct up_ctx {
	struct upsvc *u;
	int unregister;
	char *to, *id;
};

static void up_send(struct upsvc *u)
{
	if (u->out.len)
		u->o.send(u->o.ud, u->out.data, u->out.len);
	xbuf_reset(&u->out);
}

static void up_error(struct upsvc *u, const char *to, const char *id, const char *etype,
                     const char *cond, const char *text)
{
	xbuf_reset(&u->out);
	if (stanza_encode_iq_error(&u->out, u->cfg->component_jid, to, id, etype, cond, text) == 0)
		up_send(u);
	xbuf_reset(&u->out);
}

/* The public origin endpoints are made of, without a trailing '/'. */
static void public_url(const struct config *c, char *buf, size_t len)
{
	if (c->http_public_url && *c->http_public_url) {
		size_t n;
		snprintf(buf, len, "%s", c->http_public_url);
		n = strlen(buf);
		while (n && buf[n - 1] == '/')
			buf[--n] = '\0';
	} else if (c->http_port) {
		snprintf(buf, len, "http://%s:%u", c->http_address, c->http_port);
	} else {
		buf[0] = '\0';
	}
}

static void ctx_free(struct up_ctx *x)
{
	free(x->to);
	free(x->id);
	free(x);
}

static void on_stored(void *ud, int err, const struct claim_row *rows, size_t n)
{
	struct up_ctx *x = ud;
	struct upsvc *u = x->u;
	char base[512], endpoint[640];

	if (err) {
		up_error(u, x->to, x->id, "wait", "internal-server-error", "database unavailable");
	} else if (x->unregister) {
		xbuf_reset(&u->out);
		if (stanza_encode_iq_result(&u->out, u->cfg->component_jid, x->to, x->id) == 0)
			up_send(u);
		log_info("unifiedpush unregistered", "from=%s devices=%zu", log_q(x->to), n);
	} else if (n != 1 || rows[0].notif_id < 0 || !rows[0].full_jid) {
		char text[128];
		snprintf(text, sizeof text,
		         "max_devices_per_jid: this account already has %u devices",
		         u->cfg->max_devices_per_jid);
		log_warn("unifiedpush registration refused", "from=%s reason=max_devices_per_jid",
		         log_q(x->to));
		up_error(u, x->to, x->id, "wait", "resource-constraint", text);
	} else {
		public_url(u->cfg, base, sizeof base);
		snprintf(endpoint, sizeof endpoint, "%s/up/%s", base, rows[0].full_jid);
		xbuf_reset(&u->out);
		if (up_encode_registered(&u->out, u->cfg->component_jid, x->to, x->id, endpoint,
		                         rows[0].token) == 0)
			up_send(u);
		log_info("unifiedpush registered", "from=%s device=%lld", log_q(x->to),
		         (long long)rows[0].notif_id);
		u->o.online(u->o.ud, 0, 1);
	}
	ctx_free(x);
}

int upsvc_on_iq(struct upsvc *u, const struct xnode *iq, const char *from, const char *bare)
{
	const char *id = xnode_attr(iq, "id");
	const char *acl = u->cfg->unifiedpush_acl && *u->cfg->unifiedpush_acl
	                          ? u->cfg->unifiedpush_acl
	                          : u->cfg->user_domains;
	struct up_req rq;
	char err[160] = "", base[512], life[16], maxd[16];
	struct up_ctx *x;
	int rc = up_decode(iq, &rq, err, sizeof err);

	if (rc == UP_NONE && rq.kind == UP_NONE)
		return 0;
	if (!id)
		return 1; /* an IQ set without id cannot be answered */
	if (rc < 0) {
		log_warn("unifiedpush bad request", "from=%s reason=%s", log_q(from), log_q(err));
		up_error(u, from, id, "modify", "bad-request", err);
		return 1;
	}
	if (!up_acl_allows(acl, bare)) {
		log_info("unifiedpush registration refused", "from=%s reason=unifiedpush_acl",
		         log_q(from));
		up_error(u, from, id, "auth", "forbidden",
		         "unifiedpush_acl: this account may not register endpoints here");
		return 1;
	}
	if (!strchr(from, '/')) {
		up_error(u, from, id, "modify", "bad-request",
		         "register from a full JID (a logged-in session)");
		return 1;
	}
	public_url(u->cfg, base, sizeof base);
	if (rq.kind == UP_REGISTER && !*base) {
		up_error(u, from, id, "cancel", "service-unavailable",
		         "no Web Push endpoint configured (http_port, http_public_url)");
		return 1;
	}
	x = calloc(1, sizeof *x);
	if (x) {
		x->u = u;
		x->unregister = rq.kind == UP_UNREGISTER;
		x->to = strdup(from);
		x->id = strdup(id);
	}
	if (!x || !x->to || !x->id) {
		if (x)
			ctx_free(x);
		up_error(u, from, id, "wait", "resource-constraint", "out of memory");
		return 1;
	}
	if (x->unregister) {
		const char *p[] = { NULL, bare, rq.app, from, "unregistered by the distributor" };
		rc = store_up(u->store, STORE_UP_REVOKE, p, on_stored, x);
	} else {
		char token[UP_TOKEN_LEN + 1];
		if (up_token_new(token) < 0) {
			ctx_free(x);
			up_error(u, from, id, "wait", "internal-server-error", "no random bytes");
			return 1;
		}
		snprintf(life, sizeof life, "%u", u->cfg->unifiedpush_lifetime_s);
		snprintf(maxd, sizeof maxd, "%u", u->cfg->max_devices_per_jid);
		const char *p[] = { bare, from, rq.app, token, life, maxd, rq.vapid };
		rc = store_up(u->store, STORE_UP_REGISTER, p, on_stored, x);
	}
	if (rc < 0) {
		ctx_free(x);
		up_error(u, from, id, "wait", "internal-server-error", "database unavailable");
	}
	return 1;
}

static void on_revoked(void *ud, int err, const struct claim_row *rows, size_t n)
{
	(void)ud;
	(void)rows;
	if (!err && n)
		log_info("unifiedpush registration revoked by its distributor", "devices=%zu", n);
}

void upsvc_on_nack(struct upsvc *u, int64_t device_row, const char *full_jid, const char *condition)
{
	char dev[24];

	if (!condition || (strcmp(condition, "item-not-found") != 0 &&
	                   strcmp(condition, "feature-not-implemented") != 0))
		return;
	snprintf(dev, sizeof dev, "%" PRId64, device_row);
	const char *p[] = { dev, NULL, NULL, full_jid,
		            "the distributor answered a push with an error: the app is gone" };
	if (store_up(u->store, STORE_UP_REVOKE, p, on_revoked, u) < 0)
		log_warn("unifiedpush revocation not recorded: database unavailable", NULL);
}

struct upsvc *upsvc_new(struct loop *l, const struct config *cfg, struct store *store,
                        const struct upsvc_owner *o, const char **err)
{
	struct upsvc *u = calloc(1, sizeof *u);

	*err = NULL;
	if (!u) {
		*err = "out of memory";
		return NULL;
	}
	u->cfg = cfg;
	u->store = store;
	u->o = *o;
	if (cfg->http_port) {
		char base[512];
		public_url(cfg, base, sizeof base);
		u->http = webpush_start(l, cfg, base, err);
		if (!u->http) {
			free(u);
			return NULL;
		}
		log_info("web push endpoint listening", "address=%s port=%u url=%s",
		         cfg->http_address, cfg->http_port, log_q(base));
	}
	return u;
}

void upsvc_free(struct upsvc *u)
{
	if (!u)
		return;
	webpush_stop(u->http);
	xbuf_free(&u->out);
	free(u);
}
