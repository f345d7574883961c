/* daemon: the decisions of xpushd: stanzas from devices (presence, acks,
 * probe answers; registrations go to registrar.c), connection events and the
 * loop. Scanning the ledger (fan-out, claims, sending) is scan.c's, writing
 * ack batches acks.c's: the daemon asks them for work and hears back through
 * callbacks, and neither calls into it. The ledger in Postgres is the only state that matters:
 * xpushd keeps flags and counters, never a copy of a delivery. */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acks.h"
#include "component.h"
#include "console.h"
#include "fault.h"
#include "gauges.h"
#include "jid.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "ratelimit.h"
#include "registrar.h"
#include "reload.h"
#include "scan.h"
#include "service.h"
#include "stanza.h"
#include "store.h"
#include "upsvc.h"
#include "xbuf.h"

/* At most one "throttled" log line this often: a flood must not flood the log. */
#define THROTTLE_LOG_EVERY_MS 1000
/* The first refresh of the Postgres gauges of /metrics, soon after start;
 * then every metrics_refresh_ms. */
#define HEALTH_FIRST_MS 1000

struct daemon {
	/* Ours to update on SIGHUP (reload.h); everyone else reads it. */
	struct config *cfg;
	const struct config_source *src;
	struct loop *loop;
	struct store *store;
	/* Device acks run on a session of their own (acks.h). */
	struct store *ackstore;
	struct component *comp;
	struct scan *scan;
	struct acks *acks;
	struct registrar *reg; /* <register/> and <unregister/> */
	struct gauges *gauges; /* the Postgres gauges of /metrics */
	struct metrics *metrics;
	struct console *console; /* its own thread; shares nothing with the loop */
	struct service *svc;     /* readiness, sd_notify */
	struct upsvc *up;        /* UnifiedPush and the Web Push endpoint */
	struct stanza_limits lim;
	struct ratelimit *rl;
	uint64_t throttle_log_ms; /* last "throttled" log line */
	int exit_code;
	struct xbuf out; /* scratch for encoding one reply */
	struct xp_stats st;
};

static void send_bytes(struct daemon *d, const char *data, size_t len)
{
	if (len && component_send(d->comp, data, len) < 0)
		log_debug("send skipped: component not ready", NULL);
}

/* d->out to the component connection, then empty. */
static void send_buf(struct daemon *d)
{
	send_bytes(d, d->out.data, d->out.len);
	xbuf_reset(&d->out);
}

static void reply_error(struct daemon *d, const char *to, const char *id, const char *etype,
                        const char *cond, const char *text)
{
	const char *me = d->cfg->component_jid;

	xbuf_reset(&d->out);
	if (stanza_encode_iq_error(&d->out, me, to, id, etype, cond, text) == 0)
		send_buf(d);
	else
		xbuf_reset(&d->out);
}

/* --- stanza handling ---------------------------------------------------- */

static void on_presence_done(void *ud, int err, long n)
{
	struct daemon *d = ud;

	if (!err && n > 0)
		scan_request(d->scan, SCAN_FULL);
}

struct ack_ctx {
	struct daemon *d;
	char bare[];
};

/* A retract's ack (one statement each: retracts are rare). */
static void on_ack_done(void *ud, int err, long n)
{
	struct ack_ctx *a = ud;
	struct daemon *d = a->d;

	if (!err && n < 0)
		(void)ratelimit_take(d->rl, a->bare, monotime_ms());
	free(a);
	if (err)
		return;
	if (n >= 0) {
		FAULT_POINT("after_ack_commit");
		d->st.acked++;
		metrics_observe_latency(&d->st, n);
		/* A slot in the device's window is free: fill it this turn. */
		scan_request(d->scan, SCAN_THIS_TURN);
	} else {
		d->st.acks_refused++;
	}
}

/* What an ack batch found: refused acks are charged to their senders' rate
 * limits; devices with rows waiting behind the recorded acks are refilled
 * now, without a scan (a scan probes every online device). */
static void on_acks_written(void *ud, const struct acks_result *r)
{
	struct daemon *d = ud;
	uint64_t now = monotime_ms();

	for (size_t i = 0; i < r->nrefused; i++)
		(void)ratelimit_take(d->rl, r->refused[i], now);
	scan_refill(d->scan, r->refill, r->nrefill);
}

static void on_nack_done(void *ud, int err, long n)
{
	struct daemon *d = ud;

	d->st.nacks++;
	/* 0 rows: the lease that sent it is no longer current (another send, an
	 * ack, or another instance took the row): a stale write, refused. */
	if (!err && n == 0)
		log_info("stale nack refused: the row has moved on", NULL);
}

/* A probe's answer: a result (the session is alive: its unacked rows took a
 * strike) or an error (a bounce or a client without XEP-0199: its rows are
 * queued again without one). Either way the claim may go on for it. */
static void on_probe_alive_done(void *ud, int err, const int64_t *v, size_t n)
{
	struct daemon *d = ud;

	if (err || n < 2)
		return;
	if (v[1] > 0)
		log_warn("deliveries failed: a live session did not ack them", "rows=%lld",
		         (long long)v[1]);
	d->st.failed += (uint64_t)v[1];
	if (v[0] > 0)
		scan_request(d->scan, SCAN_FULL);
}

static void on_probe_gone_done(void *ud, int err, long n)
{
	struct daemon *d = ud;

	/* Its sends are queued again: a gone session bounces them. */
	if (!err && n > 0)
		scan_request(d->scan, SCAN_FULL);
}

static void on_unavailable_done(void *ud, int err, long n)
{
	(void)ud;
	if (!err && n > 0)
		log_debug("devices offline", "count=%ld", n);
}

/* An IQ get/set: it must be answered, even when refused. */
static int is_request(const struct stanza_in *in)
{
	return in->id && in->type && (strcmp(in->type, "get") == 0 || strcmp(in->type, "set") == 0);
}

static void on_stanza(void *ud, const struct xnode *st)
{
	struct daemon *d = ud;
	struct stanza_in in;
	char err[256] = "";
	char bare[JID_BARE_MAX];
	int rc = stanza_decode(st, &d->lim, &in, err, sizeof err);

	/* Every stanza we act on must carry the server-stamped sender. */
	if (!in.from || jid_bare(in.from, bare, sizeof bare) < 0) {
		if (in.kind != STANZA_OTHER)
			log_warn("stanza without a usable from ignored", "name=%s",
			         log_q(st->name));
		return;
	}
	if (!jid_domain_listed(in.from, d->cfg->user_domains)) {
		d->st.bad_requests++;
		if (is_request(&in))
			reply_error(d, in.from, in.id, "cancel", "not-allowed",
			            "this push service does not serve your domain");
		return;
	}
	/* Acks and bounces of our own ids are free while they are valid (a device
	 * draining a backlog acks fast); a refused one is charged afterwards
	 * (on_ack_done), and a JID out of tokens is not heard at all. */
	if (!((in.kind == STANZA_ACK || in.kind == STANZA_NACK || in.kind == STANZA_PROBE_ALIVE ||
	       in.kind == STANZA_PROBE_GONE)
	              ? ratelimit_check(d->rl, bare, monotime_ms())
	              : ratelimit_take(d->rl, bare, monotime_ms()))) {
		uint64_t now = monotime_ms();
		d->st.throttled++;
		if (now - d->throttle_log_ms >= THROTTLE_LOG_EVERY_MS) {
			d->throttle_log_ms = now;
			log_warn("throttled", "jid=%s limit=rate_per_jid rate=%u burst=%u",
			         log_q(bare), d->cfg->rate_per_jid, d->cfg->rate_burst);
		}
		if (is_request(&in))
			reply_error(d, in.from, in.id, "wait", "resource-constraint",
			            "rate_per_jid: too many requests, slow down");
		return;
	}
	/* Device acks wait in their own bounded batch for their own session. */
	if (store_queue_len(d->store) >= d->cfg->max_db_queue && in.kind != STANZA_PING &&
	    in.kind != STANZA_DISCO_INFO && !(in.kind == STANZA_ACK && !in.retract)) {
		/* Postgres is behind: refuse work we would only queue without bound. */
		if (is_request(&in))
			reply_error(d, in.from, in.id, "wait", "resource-constraint",
			            "max_db_queue: the push service is busy, retry");
		return;
	}
	if (rc < 0) {
		log_warn("bad request", "from=%s reason=%s", log_q(in.from), log_q(err));
		d->st.bad_requests++;
		if (in.kind == STANZA_REGISTER || in.kind == STANZA_UNREGISTER)
			reply_error(d, in.from, in.id, "modify", "bad-request", err);
		return;
	}
	switch (in.kind) {
	case STANZA_REGISTER:
	case STANZA_UNREGISTER:
		if (!strchr(in.from, '/')) {
			reply_error(d, in.from, in.id, "modify", "bad-request",
			            "register from a full JID (a logged-in session)");
			return;
		}
		registrar_handle(d->reg, &in, bare);
		break;
	case STANZA_PRESENCE:
		if (strchr(in.from, '/') && store_presence(d->store, bare, in.from, in.app,
		                                           in.device, on_presence_done, d) < 0)
			log_warn("presence not recorded: database unavailable", "from=%s",
			         log_q(in.from));
		break;
	case STANZA_UNAVAILABLE:
		if (store_unavailable(d->store, in.from, on_unavailable_done, d) < 0)
			log_warn("unavailable not recorded: database unavailable", "from=%s",
			         log_q(in.from));
		break;
	case STANZA_ACK:
		FAULT_POINT("before_ack_commit"); /* device acked; ledger not yet told */
		if (!in.retract) {
			if (acks_add(d->acks, in.notif_id, in.device_row, bare) < 0)
				log_warn(
					"ack not recorded: out of memory or too many pending; the push will"
					" be resent",
					"notif=%lld", (long long)in.notif_id);
			break;
		}
		{
			size_t blen = strlen(bare) + 1;
			struct ack_ctx *a = malloc(sizeof *a + blen);
			if (a) {
				a->d = d;
				memcpy(a->bare, bare, blen);
			}
			if (!a || store_ack(d->store, in.notif_id, in.device_row, bare, in.retract,
			                    on_ack_done, a) < 0) {
				free(a);
				log_warn(
					"ack not recorded: database unavailable; the push will be resent",
					"notif=%lld", (long long)in.notif_id);
			}
			break;
		}
	case STANZA_NACK:
		log_info("device did not take notification",
		         "notif=%lld device=%lld from=%s condition=%s", (long long)in.notif_id,
		         (long long)in.device_row, log_q(in.from), log_q(in.error_condition));
		upsvc_on_nack(d->up, in.device_row, in.from, in.error_condition);
		if (store_nack(d->store, in.notif_id, in.device_row, in.token, in.from,
		               in.error_condition ? in.error_condition : "error", in.retract,
		               on_nack_done, d) < 0)
			log_warn("nack not recorded: database unavailable", NULL);
		break;
	case STANZA_PROBE_ALIVE:
		d->st.probes_alive++;
		log_debug("probe answered", "device=%lld from=%s", (long long)in.device_row,
		          log_q(in.from));
		if (store_probe_alive(d->store, in.device_row, in.from, in.token,
		                      d->cfg->max_attempts, on_probe_alive_done, d) < 0)
			log_warn("probe answer not recorded: database unavailable", NULL);
		break;
	case STANZA_PROBE_GONE:
		d->st.probes_gone++;
		log_info("probe answered with an error: sends queued again without a strike",
		         "device=%lld from=%s condition=%s", (long long)in.device_row,
		         log_q(in.from), log_q(in.error_condition));
		if (store_probe_gone(d->store, in.device_row, in.from, in.token,
		                     "the probe was answered with an error (a bounce, or a client"
		                     " without XEP-0199): sent again, no strike",
		                     on_probe_gone_done, d) < 0)
			log_warn("probe error not recorded: database unavailable", NULL);
		break;
	case STANZA_PING:
		xbuf_reset(&d->out);
		if (stanza_encode_iq_result(&d->out, d->cfg->component_jid, in.from, in.id) == 0)
			send_buf(d);
		break;
	case STANZA_DISCO_INFO:
		xbuf_reset(&d->out);
		if (stanza_encode_disco_info(&d->out, d->cfg->component_jid, in.from, in.id) == 0)
			send_buf(d);
		break;
	case STANZA_IQ_UNKNOWN:
		if (upsvc_on_iq(d->up, st, in.from, bare))
			break;
		reply_error(d, in.from, in.id, "cancel", "service-unavailable", NULL);
		break;
	default:
		break;
	}
	xbuf_reset(&d->out);
}

/* A stanza the stream parser skipped unparsed (over max_stanza_bytes or
 * nested too deep, stream.h): some user's, so it costs that stanza only and
 * the stream goes on. It is counted, logged and, if it is a request, refused
 * to its sender naming the limit. Like any stanza it is charged to the
 * sender's rate limit: once out of tokens, nothing more is logged or sent. */
static void on_refused(void *ud, const struct stanza_head *h, const char *reason)
{
	struct daemon *d = ud;
	char bare[JID_BARE_MAX];

	d->st.bad_requests++;
	if (!h->from || jid_bare(h->from, bare, sizeof bare) < 0) {
		log_warn("stanza refused", "from=- name=%s bytes=%zu reason=%s", log_q(h->name),
		         h->bytes, log_q(reason));
		return;
	}
	if (!ratelimit_take(d->rl, bare, monotime_ms())) {
		d->st.throttled++;
		return;
	}
	log_warn("stanza refused", "from=%s name=%s id=%s bytes=%zu reason=%s", log_q(h->from),
	         log_q(h->name), log_q(h->id ? h->id : "-"), h->bytes, log_q(reason));
	if (strcmp(h->name, "iq") == 0 && h->id && h->type &&
	    (strcmp(h->type, "get") == 0 || strcmp(h->type, "set") == 0))
		reply_error(d, h->from, h->id, "modify", "policy-violation", reason);
}

/* --- connection events -------------------------------------------------- */

static void on_comp_ready(void *ud)
{
	struct daemon *d = ud;

	d->st.xmpp_connects++;
	d->st.xmpp_up = 1;
	service_update(d->svc, d->st.xmpp_up, d->st.pg_up);
	/* Acks for stanzas sent on the old connection can no longer arrive. */
	scan_request(d->scan, SCAN_FULL | SCAN_RECLAIM);
}

static void on_comp_down(void *ud, int final, const char *condition, const char *reason)
{
	struct daemon *d = ud;

	d->st.xmpp_up = 0;
	service_update(d->svc, d->st.xmpp_up, d->st.pg_up);
	if (final) {
		d->exit_code = XPUSHD_EXIT_REFUSED;
		loop_stop(d->loop);
	}
}

static void on_store_ready(void *ud)
{
	struct daemon *d = ud;

	d->st.pg_connects++;
	d->st.pg_up = 1;
	service_update(d->svc, d->st.xmpp_up, d->st.pg_up);
	acks_store_ready(d->acks); /* acks that waited for the database */
	scan_request(d->scan, SCAN_FULL);
}

static void on_ackstore_ready(void *ud)
{
	struct daemon *d = ud;

	acks_store_ready(d->acks); /* acks that waited for the database */
}

static void on_store_down(void *ud)
{
	struct daemon *d = ud;

	scan_store_down(d->scan);
	gauges_store_down(d->gauges);
	d->st.pg_up = 0;
	service_update(d->svc, d->st.xmpp_up, d->st.pg_up);
}

static void on_notify(void *ud)
{
	struct daemon *d = ud;

	scan_request(d->scan, SCAN_RETRACTS);
}

/* SIGHUP: the live settings (reload.h) take effect here. */
static void reload(struct daemon *d)
{
	struct reload_result r;
	char err[512];

	service_reloading(d->svc);
	if (reload_config(d->cfg, d->src, &r, err, sizeof err) < 0) {
		log_error("reload failed: settings unchanged", "error=%s", log_q(err));
	} else {
		if (r.groups & RELOAD_LOG)
			log_set_level(d->cfg->log_level);
		if (r.groups & RELOAD_RATE)
			ratelimit_set_rate(d->rl, d->cfg->rate_per_jid, d->cfg->rate_burst);
		if (r.groups & RELOAD_LIMITS) {
			d->lim.max_alias = d->cfg->max_alias_bytes;
			d->lim.max_tags = d->cfg->max_tags;
			d->lim.max_tag_len = d->cfg->max_tag_bytes;
		}
		log_info("reloaded", "applied=%d need_restart=%d", r.changed, r.restart);
	}
	service_reloaded(d->svc);
}

static int daemon_ready(void *ud, char *why, size_t len)
{
	return service_ready(((struct daemon *)ud)->svc, why, len);
}

static void on_signal(int signo, void *ud)
{
	struct daemon *d = ud;

	if (signo == SIGHUP) {
		reload(d);
		scan_request(d->scan, SCAN_FULL);
		return;
	}
	service_stopping(d->svc);
	log_info("shutting down", "signal=%d sent=%llu acked=%llu refused_acks=%llu retracts=%llu",
	         signo, (unsigned long long)d->st.sent, (unsigned long long)d->st.acked,
	         (unsigned long long)d->st.acks_refused, (unsigned long long)d->st.retracts);
	if (d->comp)
		component_close(d->comp);
	loop_stop(d->loop);
}

/* The scan's sink: the component connection. */
static void sink_send(void *ud, const char *data, size_t len)
{
	send_bytes(ud, data, len);
}

/* The registrar's owner: its replies go to the server; a registered device
 * may have deliveries waiting. */
static void reg_registered(void *ud)
{
	scan_request(((struct daemon *)ud)->scan, SCAN_FULL);
}

static int sink_ready(void *ud)
{
	return component_is_ready(((struct daemon *)ud)->comp);
}

static size_t sink_queued(void *ud)
{
	return component_outbuf_len(((struct daemon *)ud)->comp);
}

int daemon_run(struct config *cfg, const struct config_source *src)
{
	struct daemon d = { .cfg = cfg, .src = src, .exit_code = XPUSHD_EXIT_OK };
	struct store_opts so = {
		.conninfo = cfg->pg_conninfo,
		.reconnect_min_ms = cfg->reconnect_min_ms,
		.reconnect_max_ms = cfg->reconnect_max_ms,
	};
	struct store_events se = { on_store_ready, on_store_down, on_notify };
	struct store_opts ao = so;
	struct store_events ae = { on_ackstore_ready, NULL, NULL };
	struct component_opts co = {
		.jid = cfg->component_jid,
		.secret = cfg->component_secret,
		.host = cfg->server_host,
		.port = (uint16_t)cfg->server_port,
		.reconnect_min_ms = cfg->reconnect_min_ms,
		.reconnect_max_ms = cfg->reconnect_max_ms,
		.max_stanza_bytes = cfg->max_stanza_bytes,
		.handshake_timeout_ms = cfg->handshake_timeout_ms,
	};
	struct component_events ce = { on_comp_ready, on_stanza, on_comp_down, on_refused };
	struct scan_sink sink = { sink_send, sink_ready, sink_queued, &d };
	struct acks_owner owner = { on_acks_written, &d };
	struct registrar_owner rowner = { sink_send, reg_registered, &d };
	struct upsvc_owner upo = { sink_send, on_presence_done, &d };
	const char *uerr = NULL;

	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	d.loop = loop_new(on_signal, &d);
	if (!d.loop) {
		log_error("cannot create event loop", NULL);
		return XPUSHD_EXIT_RUNTIME;
	}
	metrics_stats_init(&d.st);
	d.svc = service_new(d.loop);
	d.lim.max_alias = cfg->max_alias_bytes;
	d.lim.max_tags = cfg->max_tags;
	d.lim.max_tag_len = cfg->max_tag_bytes;
	d.rl = ratelimit_new(cfg->rate_table_size, cfg->rate_per_jid, cfg->rate_burst);
	if (!d.rl || !d.svc) {
		log_error("out of memory at start", NULL);
		goto out;
	}
	if (cfg->metrics_port) {
		const char *merr = NULL;
		d.metrics = metrics_start(d.loop, cfg->metrics_address, (uint16_t)cfg->metrics_port,
		                          &d.st, daemon_ready, &d, &merr);
		if (!d.metrics) {
			log_error("metrics endpoint failed", "error=%s", log_q(merr));
			goto out;
		}
		log_info("metrics endpoint listening", "address=%s port=%u", cfg->metrics_address,
		         cfg->metrics_port);
	}
	if (cfg->console_port) {
		const char *cerr = NULL;
		if (!(d.console = console_start(cfg, &cerr))) {
			log_error("console failed", "error=%s", log_q(cerr));
			goto out;
		}
		log_info("console listening", "address=%s port=%u", cfg->console_address,
		         cfg->console_port);
	}
	log_info("starting", "jid=%s server=%s:%u instance=%s", cfg->component_jid,
	         cfg->server_host, cfg->server_port, log_q(cfg->instance_id));
	ao.acks_session = 1;
	/* The store and the connection call back only from the loop, once every
	 * part exists. */
	d.store = store_new(d.loop, &so, &se, &d);
	d.ackstore = d.store ? store_new(d.loop, &ao, &ae, &d) : NULL;
	d.scan = d.ackstore ? scan_new(d.loop, d.store, cfg, &d.st, &sink) : NULL;
	d.acks = d.scan ? acks_new(d.loop, d.ackstore, &d.st, &owner) : NULL;
	d.gauges = d.acks && d.metrics ? gauges_new(d.loop, d.store, cfg, &d.st, HEALTH_FIRST_MS)
	                               : NULL;
	d.reg = d.acks && (d.gauges || !d.metrics) ? registrar_new(d.store, cfg, &d.st, &rowner)
	                                           : NULL;
	d.up = d.reg ? upsvc_new(d.loop, cfg, d.store, &upo, &uerr) : NULL;
	if (d.reg && !d.up) {
		log_error("web push endpoint failed", "error=%s", log_q(uerr));
		goto out;
	}
	d.comp = d.up ? component_new(d.loop, &co, &ce, &d) : NULL;
	if (!d.comp) {
		log_error("out of memory at start", NULL);
		d.exit_code = XPUSHD_EXIT_RUNTIME;
	} else if (loop_run(d.loop) < 0) {
		log_error("event loop failed", NULL);
		d.exit_code = XPUSHD_EXIT_RUNTIME;
	} else {
		goto done;
	}
out:
	d.exit_code = XPUSHD_EXIT_RUNTIME;
done:
	console_stop(d.console);
	metrics_stop(d.metrics);
	component_free(d.comp);
	upsvc_free(d.up);
	/* Stores first: freed, they never call back into the scan or the acks. */
	store_free(d.store);
	store_free(d.ackstore);
	scan_free(d.scan);
	acks_free(d.acks);
	registrar_free(d.reg);
	gauges_free(d.gauges);
	service_free(d.svc);
	loop_free(d.loop);
	ratelimit_free(d.rl);
	xbuf_free(&d.out);
	return d.exit_code;
}
