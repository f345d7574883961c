/* registrar: the registration of devices. Owns the requests in flight (one
 * context each, from the <register/> to its reply) and the order of the
 * steps: the app's policy (store_app), the decision (apppolicy), the roster
 * (store_register / store_unregister), the reply. Unregistering needs no
 * policy: a device may always remove itself. */
#include "registrar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apppolicy.h"
#include "log.h"
#include "xbuf.h"

struct registrar {
	struct store *store;
	const struct config *cfg;
	struct xp_stats *st;
	struct registrar_owner owner;
	struct xbuf out; /* scratch for encoding one reply */
};

/* One request, from the stanza to its reply: copies of what the reply and
 * the later steps need (the stanza is gone once the handler returns). */
struct reg_req {
	struct registrar *r;
	char *to, *id, *bare, *app, *device, *alias, *platform, *token;
	char **tags;
	size_t ntags;
	int unregister;
};

static void req_free(struct reg_req *q)
{
	if (!q)
		return;
	free(q->to);
	free(q->id);
	free(q->bare);
	free(q->app);
	free(q->device);
	free(q->alias);
	free(q->platform);
	free(q->token);
	for (size_t i = 0; i < q->ntags; i++)
		free(q->tags[i]);
	free(q->tags);
	free(q);
}

/* strdup of an optional string: 0, or -1 on OOM. */
static int dup_opt(char **dst, const char *s)
{
	*dst = NULL;
	return s && !(*dst = strdup(s)) ? -1 : 0;
}

static struct reg_req *req_new(struct registrar *r, const struct stanza_in *in, const char *bare)
{
	struct reg_req *q = calloc(1, sizeof *q);
	int bad = 0;

	if (!q)
		return NULL;
	q->r = r;
	q->unregister = in->kind == STANZA_UNREGISTER;
	bad |= dup_opt(&q->to, in->from) | dup_opt(&q->id, in->id ? in->id : "");
	bad |= dup_opt(&q->bare, bare) | dup_opt(&q->app, in->app) |
	       dup_opt(&q->device, in->device);
	bad |= dup_opt(&q->alias, in->alias) | dup_opt(&q->platform, in->platform);
	bad |= dup_opt(&q->token, in->reg_token);
	if (!bad && in->ntags && !(q->tags = calloc(in->ntags, sizeof *q->tags)))
		bad = 1;
	for (size_t i = 0; !bad && i < in->ntags; i++, q->ntags++)
		bad |= dup_opt(&q->tags[i], in->tags[i]);
	if (bad) {
		req_free(q);
		return NULL;
	}
	return q;
}

static void send_out(struct registrar *r)
{
	if (r->out.len)
		r->owner.send(r->owner.ud, r->out.data, r->out.len);
	xbuf_reset(&r->out);
}

static void reply_error(struct registrar *r, const char *to, const char *id, const char *etype,
                        const char *cond, const char *text)
{
	xbuf_reset(&r->out);
	if (stanza_encode_iq_error(&r->out, r->cfg->component_jid, to, id, etype, cond, text) == 0)
		send_out(r);
	else
		xbuf_reset(&r->out);
}

static void on_registered(void *ud, int err, long n)
{
	struct reg_req *q = ud;
	struct registrar *r = q->r;

	if (err) {
		reply_error(r, q->to, q->id, "wait", "internal-server-error",
		            "database unavailable");
	} else if (!q->unregister && n == STORE_REGISTER_OVER_MAX) {
		char text[128];
		snprintf(text, sizeof text,
		         "max_devices_per_jid: this account already has %u devices",
		         r->cfg->max_devices_per_jid);
		r->st->bad_requests++;
		log_warn("registration refused", "jid=%s reason=max_devices_per_jid", log_q(q->to));
		reply_error(r, q->to, q->id, "wait", "resource-constraint", text);
	} else if (!q->unregister && n == STORE_REGISTER_ALIAS_TAKEN) {
		r->st->bad_requests++;
		log_warn("registration refused", "jid=%s reason=alias_taken", log_q(q->to));
		reply_error(r, q->to, q->id, "cancel", "conflict",
		            "alias belongs to another account for this app");
	} else {
		if (q->unregister)
			r->st->unregisters++;
		else
			r->st->registers++;
		log_info(q->unregister ? "device unregistered" : "device registered",
		         "jid=%s app=%s device=%s row=%ld", log_q(q->to), log_q(q->app),
		         log_q(q->device), n);
		xbuf_reset(&r->out);
		if (stanza_encode_registered(&r->out, r->cfg->component_jid, q->to, q->id, q->app,
		                             q->device, q->unregister) == 0)
			send_out(r);
		else
			xbuf_reset(&r->out);
		if (!q->unregister && r->owner.registered)
			r->owner.registered(r->owner.ud);
	}
	req_free(q);
}

/* The roster write, once the policy allowed it. */
static void write_roster(struct reg_req *q)
{
	struct registrar *r = q->r;
	int rc;

	if (q->unregister) {
		rc = store_unregister(r->store, q->bare, q->app, q->device, on_registered, q);
	} else {
		struct device_reg reg = {
			.jid = q->bare,
			.full_jid = q->to,
			.app = q->app,
			.device = q->device,
			.alias = q->alias,
			.platform = q->platform,
			.tags = (const char *const *)q->tags,
			.ntags = q->ntags,
			.max_devices = r->cfg->max_devices_per_jid,
		};
		rc = store_register(r->store, &reg, on_registered, q);
	}
	if (rc < 0) {
		reply_error(r, q->to, q->id, "wait", "internal-server-error",
		            "database unavailable");
		req_free(q);
	}
}

static void on_app(void *ud, int err, const struct store_app_row *row)
{
	struct reg_req *q = ud;
	struct registrar *r = q->r;
	struct apppolicy_verdict v;

	if (err || !row) {
		reply_error(r, q->to, q->id, "wait", "internal-server-error",
		            "database unavailable");
		req_free(q);
		return;
	}
	struct apppolicy_app a = { row->found, row->policy, row->acl, row->secret, row->known };
	struct apppolicy_req rq = {
		.bare = q->bare,
		.app = q->app,
		.device = q->device,
		.token = q->token,
		.now = (uint64_t)time(NULL),
		.unknown_open = strcmp(r->cfg->unknown_apps, "open") == 0,
	};
	apppolicy_decide(&a, &rq, &v);
	if (!v.allow) {
		log_warn("registration refused", "jid=%s app=%s device=%s condition=%s reason=%s",
		         log_q(q->to), log_q(q->app), log_q(q->device), v.condition, log_q(v.text));
		reply_error(r, q->to, q->id, v.type, v.condition, v.text);
		req_free(q);
		return;
	}
	if (!row->found)
		log_debug("registration for an unknown app allowed (unknown_apps = open)",
		          "jid=%s app=%s", log_q(q->to), log_q(q->app));
	write_roster(q);
}

void registrar_handle(struct registrar *r, const struct stanza_in *in, const char *bare)
{
	struct reg_req *q = req_new(r, in, bare);

	if (!q) {
		reply_error(r, in->from, in->id, "wait", "resource-constraint", "out of memory");
		return;
	}
	if (q->unregister) {
		write_roster(q);
		return;
	}
	if (store_app(r->store, q->bare, q->app, q->device, on_app, q) < 0) {
		reply_error(r, q->to, q->id, "wait", "internal-server-error",
		            "database unavailable");
		req_free(q);
	}
}

struct registrar *registrar_new(struct store *st, const struct config *cfg, struct xp_stats *stats,
                                const struct registrar_owner *owner)
{
	struct registrar *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->store = st;
	r->cfg = cfg;
	r->st = stats;
	r->owner = *owner;
	return r;
}

void registrar_free(struct registrar *r)
{
	if (!r)
		return;
	xbuf_free(&r->out);
	free(r);
}
