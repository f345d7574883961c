/* client.c: the public client API, its loop and its state machine.
 *
 * Owns: the lifecycle (new/run/stop/free), the one state transition function,
 * reconnect scheduling with backoff, and the timers that drive everything
 * else (connect deadline, stop deadline, backoff reset). The files below it
 * (conn.c, session.c, notify.c, retract.c, account.c) only report what
 * happened, through c->report or a return value; what follows is decided
 * here, and only here is the state changed. It must not touch stanzas
 * (session.c, notify.c) or libstrophe connection details (conn.c).
 * Everything here runs on the loop thread except xpush_client_stop() and
 * xpush_client_network_changed(), which only set atomic flags. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client_impl.h"
#include "jitter.h"
#include "notify.h"
#include "jid.h"

#define RUN_SLICE_MS 500

static pthread_once_t strophe_once = PTHREAD_ONCE_INIT;

static void strophe_init(void)
{
	xmpp_initialize();
}

static const char *const state_names[] = {
	[XPUSH_STATE_IDLE] = "idle",
	[XPUSH_STATE_CONNECTING] = "connecting",
	[XPUSH_STATE_ACCOUNT_SETUP] = "account_setup",
	[XPUSH_STATE_CONNECTED] = "connected",
	[XPUSH_STATE_REGISTERED] = "registered",
	[XPUSH_STATE_ONLINE] = "online",
	[XPUSH_STATE_DISCONNECTED] = "disconnected",
	[XPUSH_STATE_WAITING] = "waiting",
	[XPUSH_STATE_STOPPING] = "stopping",
	[XPUSH_STATE_STOPPED] = "stopped",
	[XPUSH_STATE_FAILED] = "failed",
};

const char *xpush_state_name(enum xpush_state s)
{
	if ((unsigned)s < sizeof state_names / sizeof state_names[0] && state_names[s])
		return state_names[s];
	return "unknown";
}

#define B(s) (1u << (s))
/* Allowed transitions: allowed[from] is a bit set of destinations. */
static const unsigned allowed[] = {
	[XPUSH_STATE_IDLE] = B(XPUSH_STATE_CONNECTING) | B(XPUSH_STATE_STOPPED),
	[XPUSH_STATE_CONNECTING] = B(XPUSH_STATE_CONNECTED) | B(XPUSH_STATE_ACCOUNT_SETUP) |
	                           B(XPUSH_STATE_DISCONNECTED) | B(XPUSH_STATE_FAILED) |
	                           B(XPUSH_STATE_STOPPED),
	[XPUSH_STATE_ACCOUNT_SETUP] = B(XPUSH_STATE_CONNECTING) | B(XPUSH_STATE_DISCONNECTED) |
	                              B(XPUSH_STATE_FAILED) | B(XPUSH_STATE_STOPPED),
	[XPUSH_STATE_CONNECTED] = B(XPUSH_STATE_REGISTERED) | B(XPUSH_STATE_DISCONNECTED) |
	                          B(XPUSH_STATE_FAILED) | B(XPUSH_STATE_STOPPING),
	[XPUSH_STATE_REGISTERED] = B(XPUSH_STATE_ONLINE) | B(XPUSH_STATE_DISCONNECTED) |
	                           B(XPUSH_STATE_FAILED) | B(XPUSH_STATE_STOPPING),
	[XPUSH_STATE_ONLINE] = B(XPUSH_STATE_DISCONNECTED) | B(XPUSH_STATE_FAILED) |
	                       B(XPUSH_STATE_STOPPING),
	[XPUSH_STATE_DISCONNECTED] = B(XPUSH_STATE_WAITING) | B(XPUSH_STATE_STOPPED) |
	                             B(XPUSH_STATE_FAILED),
	[XPUSH_STATE_WAITING] = B(XPUSH_STATE_CONNECTING) | B(XPUSH_STATE_STOPPED),
	[XPUSH_STATE_STOPPING] = B(XPUSH_STATE_STOPPED),
	[XPUSH_STATE_STOPPED] = 0,
	[XPUSH_STATE_FAILED] = 0,
};

static int terminal(const struct xpush_client *c)
{
	return c->state == XPUSH_STATE_STOPPED || c->state == XPUSH_STATE_FAILED;
}

static void client_connection_lost(struct xpush_client *c, enum close_cause cause,
                                   const char *reason);

/* The one state transition: logs from -> to, refuses impossible moves,
 * emits the XPUSH_EVENT_STATE event. reason may be NULL. */
static void client_enter_state(struct xpush_client *c, enum xpush_state to, int error,
                               const char *reason, uint32_t delay_ms)
{
	enum xpush_state from = c->state;
	char q[CLIENT_REASON_MAX + 16];

	if (!(allowed[from] & B(to))) {
		/* a bug, not a runtime condition: say so loudly, do not move */
		clog_printf(&c->log, XPUSH_LOG_ERROR,
		            "topic=state msg=impossible_transition from=%s to=%s",
		            xpush_state_name(from), xpush_state_name(to));
		return;
	}
	c->state = to;
	if (reason) {
		if (reason != c->reason)
			snprintf(c->reason, sizeof c->reason, "%s", reason);
	}
	if (to == XPUSH_STATE_FAILED)
		c->final_error = error;
	clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=state from=%s to=%s error=%d reason=%s",
	            xpush_state_name(from), xpush_state_name(to), error,
	            clog_quote(q, sizeof q, reason));
	cevent_state(c, from, to, error, reason, delay_ms);
}

/* Start a connection attempt now (enters CONNECTING). */
static void client_start_connect(struct xpush_client *c, uint64_t now)
{
	char q[CLIENT_REASON_MAX + 16];
	int rc;

	client_enter_state(c, XPUSH_STATE_CONNECTING, XPUSH_OK, NULL, 0);
	rc = conn_start(c, now + c->cfg.connect_timeout_ms);
	if (rc != XPUSH_OK) {
		/* DNS failure, socket error: libstrophe reports it synchronously */
		clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=conn msg=connect_failed reason=%s",
		            clog_quote(q, sizeof q, c->reason));
		client_connection_lost(c, CLOSE_TRANSIENT, c->reason);
	}
}

static void schedule_reconnect(struct xpush_client *c, uint64_t now)
{
	uint32_t delay = backoff_next(&c->backoff, jitter_random(c));

	if (c->reconnect_now) {
		/* the network changed: the old path is gone, the new one is untried */
		c->reconnect_now = 0;
		delay = 0;
	}

	c->reconnect_at_ms = now + delay;
	client_enter_state(c, XPUSH_STATE_WAITING, XPUSH_ECONN, c->reason, delay);
}

/* The connection ended with cause: decide what is next. */
static void client_connection_lost(struct xpush_client *c, enum close_cause cause,
                                   const char *reason)
{
	char buf[CLIENT_REASON_MAX];

	/* reason may point into c->reason; keep a copy while states change */
	snprintf(buf, sizeof buf, "%s", reason ? reason : "connection closed");
	session_on_disconnect(c);
	c->at.connect_deadline_ms = CLIENT_NEVER;
	c->stable_at_ms = CLIENT_NEVER;
	if (c->state == XPUSH_STATE_STOPPING) {
		client_enter_state(c, XPUSH_STATE_STOPPED, XPUSH_OK, "stopped", 0);
		return;
	}
	if (c->at.pending_final) {
		client_enter_state(c, XPUSH_STATE_FAILED, c->at.pending_final, c->at.close_reason,
		                   0);
		return;
	}
	if (cause == CLOSE_TLS) {
		client_enter_state(c, XPUSH_STATE_FAILED, XPUSH_ETLS, buf, 0);
		return;
	}
	if (cause == CLOSE_AUTH) {
		if (c->cfg.register_account && !c->account_tried) {
			c->account_pending = 1;
			client_enter_state(c, XPUSH_STATE_ACCOUNT_SETUP, XPUSH_EAUTH,
			                   "authentication failed; creating the account in-band",
			                   0);
			return;
		}
		client_enter_state(c, XPUSH_STATE_FAILED, XPUSH_EAUTH, buf, 0);
		return;
	}
	client_enter_state(c, XPUSH_STATE_DISCONNECTED, XPUSH_ECONN, buf, 0);
	if (atomic_load(&c->stop_flag)) {
		/* a stop cut this attempt (watchdog) or came with it: no reconnect */
		atomic_store(&c->stop_flag, 0);
		client_enter_state(c, XPUSH_STATE_STOPPED, XPUSH_OK, "stopped", 0);
		return;
	}
	schedule_reconnect(c, monotime_ms());
}

/* Close the stream ourselves (timeouts, a store that cannot record). */
static void client_close(struct xpush_client *c, const char *reason)
{
	if (!c->at.we_closed)
		snprintf(c->at.close_reason, sizeof c->at.close_reason, "%s", reason);
	c->at.we_closed = 1;
	xmpp_disconnect(c->conn);
}

/* Close the stream and then fail with error for good. */
static void client_fail_after_close(struct xpush_client *c, int error, const char *reason)
{
	snprintf(c->at.close_reason, sizeof c->at.close_reason, "%s", reason);
	c->at.we_closed = 1;
	c->at.pending_final = error;
	c->at.close_deadline_ms = monotime_ms() + c->cfg.stop_timeout_ms;
	xmpp_disconnect(c->conn);
}

/* The one place that acts on what conn.c, session.c, notify.c and retract.c
 * report (c->report): what follows, and the next state, is decided here. */
static void on_report(struct xpush_client *c, const struct client_event *ev)
{
	uint64_t now;

	switch (ev->type) {
	case CLIENT_EV_SESSION_UP:
		if (c->state != XPUSH_STATE_CONNECTING || c->at.we_closed)
			return; /* closing already (stop, timeout) */
		session_bind(c);
		client_enter_state(c, XPUSH_STATE_CONNECTED, XPUSH_OK, NULL, 0);
		session_register(c, monotime_ms());
		break;
	case CLIENT_EV_LOST:
		client_connection_lost(c, ev->cause, ev->reason);
		break;
	case CLIENT_EV_REGISTERED:
		now = monotime_ms();
		client_enter_state(c, XPUSH_STATE_REGISTERED, XPUSH_OK, NULL, 0);
		session_send_presence(c);
		client_enter_state(c, XPUSH_STATE_ONLINE, XPUSH_OK, NULL, 0);
		hbnet_start(c, now);
		c->stable_at_ms = now + c->cfg.stable_after_ms;
		break;
	case CLIENT_EV_REFUSED:
		client_fail_after_close(c, XPUSH_EREJECTED, ev->reason);
		break;
	case CLIENT_EV_REGISTER_TIMEOUT:
	case CLIENT_EV_STORE_FAILED:
		client_close(c, ev->reason);
		break;
	case CLIENT_EV_DEAD_LINK:
		conn_abort(c, ev->reason);
		break;
	}
}

/* ACCOUNT_SETUP: start the in-band registration, and once it has ended
 * decide what follows from its result. */
static void account_step(struct xpush_client *c, uint64_t now)
{
	char reason[CLIENT_REASON_MAX];

	if (c->account_pending) {
		c->account_pending = 0;
		if (account_start(c) != XPUSH_OK) {
			client_connection_lost(c, CLOSE_TRANSIENT, "out of memory");
			return;
		}
	}
	switch (account_tick(c, now, reason, sizeof reason)) {
	case ACCOUNT_RUNNING:
		break;
	case ACCOUNT_CREATED:
	case ACCOUNT_EXISTS:
		c->account_tried = 1;
		client_start_connect(c, now);
		break;
	case ACCOUNT_REFUSED:
		c->account_tried = 1;
		client_enter_state(c, XPUSH_STATE_FAILED, XPUSH_EAUTH, reason, 0);
		break;
	case ACCOUNT_TLS:
		client_connection_lost(c, CLOSE_TLS, reason);
		break;
	default:
		client_connection_lost(c, CLOSE_TRANSIENT, reason);
		break;
	}
}

static void begin_stop(struct xpush_client *c, uint64_t now)
{
	c->stop_deadline_ms = now + c->cfg.stop_timeout_ms;
	switch (c->state) {
	case XPUSH_STATE_IDLE:
	case XPUSH_STATE_WAITING:
	case XPUSH_STATE_DISCONNECTED:
		client_enter_state(c, XPUSH_STATE_STOPPED, XPUSH_OK, "stopped", 0);
		break;
	case XPUSH_STATE_ACCOUNT_SETUP:
		account_release(c);
		client_enter_state(c, XPUSH_STATE_STOPPED, XPUSH_OK, "stopped", 0);
		break;
	case XPUSH_STATE_CONNECTING:
		/* no session yet: nothing to announce or flush; the socket is
		 * closed by xpush_client_free() (libstrophe cannot close a conn
		 * that is still in TCP connect before its own 5 s timeout) */
		c->at.we_closed = 1;
		xmpp_disconnect(c->conn);
		client_enter_state(c, XPUSH_STATE_STOPPED, XPUSH_OK, "stopped", 0);
		break;
	case XPUSH_STATE_REGISTERED:
	case XPUSH_STATE_ONLINE:
		session_send_unavailable(c);
		/* fall through */
	case XPUSH_STATE_CONNECTED:
		client_enter_state(c, XPUSH_STATE_STOPPING, XPUSH_OK, "stop requested", 0);
		c->at.we_closed = 1;
		snprintf(c->at.close_reason, sizeof c->at.close_reason, "stopped");
		xmpp_disconnect(c->conn);
		break;
	default:
		break;
	}
}

static void network_changed(struct xpush_client *c, uint64_t now)
{
	char q[300];
	int moved = hbnet_take_pending(c);

	clog_printf(
		&c->log, XPUSH_LOG_INFO,
		"topic=client msg=network_changed state=%s network=%s new_key=%d interval_ms=%u",
		xpush_state_name(c->state), clog_quote(q, sizeof q, c->hbn.key), moved,
		(unsigned)hbnet_interval(c));
	backoff_reset(&c->backoff);
	switch (c->state) {
	case XPUSH_STATE_WAITING:
		c->reconnect_at_ms = now;
		break;
	case XPUSH_STATE_CONNECTED:
	case XPUSH_STATE_REGISTERED:
	case XPUSH_STATE_ONLINE:
		/* the socket belongs to the old path: reconnect at once (a
		 * stream-management session resumes on the new one) */
		if (!c->at.we_closed) {
			c->reconnect_now = 1;
			conn_abort(c, "network changed");
		}
		break;
	default:
		break; /* connecting: that attempt already uses the new path */
	}
}

static void tick(struct xpush_client *c, uint64_t now)
{
	if (terminal(c))
		return;
	if (atomic_exchange(&c->stop_flag, 0) && c->state != XPUSH_STATE_STOPPING)
		begin_stop(c, now);
	if (atomic_exchange(&c->netchg_flag, 0))
		network_changed(c, now);

	switch (c->state) {
	case XPUSH_STATE_IDLE:
		client_start_connect(c, now);
		break;
	case XPUSH_STATE_WAITING:
		if (now >= c->reconnect_at_ms)
			client_start_connect(c, now);
		break;
	case XPUSH_STATE_CONNECTING:
		conn_tick(c);
		if (now >= c->at.connect_deadline_ms) {
			char r[96];
			c->at.connect_deadline_ms = CLIENT_NEVER;
			snprintf(r, sizeof r, "no session within connect_timeout_ms=%u",
			         (unsigned)c->cfg.connect_timeout_ms);
			client_close(c, r);
		}
		break;
	case XPUSH_STATE_ACCOUNT_SETUP:
		account_step(c, now);
		break;
	case XPUSH_STATE_CONNECTED:
	case XPUSH_STATE_REGISTERED:
	case XPUSH_STATE_ONLINE:
		session_tick(c, now);
		if (c->state == XPUSH_STATE_ONLINE && now >= c->stable_at_ms) {
			c->stable_at_ms = CLIENT_NEVER;
			backoff_reset(&c->backoff);
			clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=client msg=backoff_reset");
		}
		break;
	case XPUSH_STATE_STOPPING:
		if (now >= c->stop_deadline_ms)
			client_enter_state(c, XPUSH_STATE_STOPPED, XPUSH_OK,
			                   "stopped (stream close timed out)", 0);
		break;
	default:
		break;
	}
	if (!terminal(c) && c->at.pending_final && now >= c->at.close_deadline_ms)
		client_enter_state(c, XPUSH_STATE_FAILED, c->at.pending_final, c->at.close_reason,
		                   0);
}

static uint64_t next_wake(const struct xpush_client *c)
{
	uint64_t w = CLIENT_NEVER, s;

	switch (c->state) {
	case XPUSH_STATE_IDLE:
		return 0;
	case XPUSH_STATE_WAITING:
		w = c->reconnect_at_ms;
		break;
	case XPUSH_STATE_CONNECTING:
		w = c->at.connect_deadline_ms;
		break;
	case XPUSH_STATE_ACCOUNT_SETUP:
		w = c->account_pending ? 0 : account_next_wake(c);
		break;
	case XPUSH_STATE_CONNECTED:
	case XPUSH_STATE_REGISTERED:
	case XPUSH_STATE_ONLINE:
		w = session_next_wake(c);
		if (c->state == XPUSH_STATE_ONLINE && c->stable_at_ms < w)
			w = c->stable_at_ms;
		break;
	case XPUSH_STATE_STOPPING:
		w = c->stop_deadline_ms;
		break;
	default:
		break;
	}
	s = c->at.pending_final ? c->at.close_deadline_ms : CLIENT_NEVER;
	return s < w ? s : w;
}

static int result_code(const struct xpush_client *c)
{
	if (c->state == XPUSH_STATE_STOPPED)
		return XPUSH_OK;
	if (c->state == XPUSH_STATE_FAILED)
		return c->final_error ? c->final_error : XPUSH_ECONN;
	return 1;
}

int xpush_client_run_once(xpush_client *c, unsigned timeout_ms)
{
	uint64_t now, wake, wait;

	if (!c)
		return XPUSH_EINVAL;
	if (c->in_loop)
		return XPUSH_ESTATE;
	if (terminal(c))
		return result_code(c);
	c->in_loop = 1;
	conn_set_current(c);
	now = monotime_ms();
	tick(c, now);
	if (!terminal(c)) {
		wake = next_wake(c);
		wait = timeout_ms;
		if (wake != CLIENT_NEVER)
			wait = wake <= now ? 0 : (wake - now < wait ? wake - now : wait);
		xmpp_run_once(c->ctx, (unsigned long)wait);
		conn_poll_tls(c);
		tick(c, monotime_ms());
	}
	conn_set_current(NULL);
	c->in_loop = 0;
	return result_code(c);
}

int xpush_client_run(xpush_client *c)
{
	int rc;

	while ((rc = xpush_client_run_once(c, RUN_SLICE_MS)) == 1)
		;
	return rc;
}

void xpush_client_stop(xpush_client *c)
{
	if (c) {
		atomic_store(&c->stop_flag, 1);
		/* a loop thread stuck in libstrophe's TLS handshake cannot see the
		 * flag: the watchdog shuts that attempt's socket down */
		wd_poke(&c->wd);
	}
}

void xpush_client_network_changed(xpush_client *c)
{
	if (c)
		atomic_store(&c->netchg_flag, 1);
}

int xpush_client_set_network(xpush_client *c, const char *key)
{
	if (!c)
		return XPUSH_EINVAL;
	if (key && *key && hbnet_set_pending(c, key) != XPUSH_OK)
		return XPUSH_EINVAL;
	xpush_client_network_changed(c);
	return XPUSH_OK;
}

enum xpush_state xpush_client_state(const xpush_client *c)
{
	return c ? c->state : XPUSH_STATE_FAILED;
}

const char *xpush_client_last_reason(const xpush_client *c)
{
	return c ? c->reason : "";
}

static int check_ca_file(const struct xpush_config *cfg, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (!cfg->ca_file)
		return XPUSH_OK;
	fd = open(cfg->ca_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "ca_file: cannot read %s: %s", cfg->ca_file, strerror(errno));
		return XPUSH_EINVAL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "ca_file: %s is not a regular file", cfg->ca_file);
		close(fd);
		return XPUSH_EINVAL;
	}
	close(fd);
	return XPUSH_OK;
}

int xpush_client_new(const xpush_config *cfg, xpush_client **out)
{
	struct clog early;
	struct seen_opts so;
	struct xpush_client *c = NULL;
	char err[512], q[600];
	int rc;

	if (!out)
		return XPUSH_EINVAL;
	*out = NULL;
	if (!cfg)
		return XPUSH_EINVAL;
	early.cb = cfg->log_cb;
	early.userdata = cfg->userdata;
	early.level = (enum xpush_log_level)cfg->log_level;
	err[0] = '\0';
	if ((rc = cfg_validate(cfg, err, sizeof err)) != XPUSH_OK ||
	    (rc = check_ca_file(cfg, err, sizeof err)) != XPUSH_OK)
		goto fail;
	if (!(c = calloc(1, sizeof *c))) {
		rc = XPUSH_ENOMEM;
		goto fail;
	}
	if ((rc = cfg_copy(&c->cfg, cfg)) != XPUSH_OK) {
		free(c);
		c = NULL;
		goto fail;
	}
	c->log = early;
	c->report = on_report;
	c->state = XPUSH_STATE_IDLE;
	c->reconnect_at_ms = c->stable_at_ms = c->stop_deadline_ms = CLIENT_NEVER;
	conn_attempt_reset(c, CLIENT_NEVER);
	c->register_deadline_ms = c->register_retry_ms = CLIENT_NEVER;
	atomic_init(&c->stop_flag, 0);
	atomic_init(&c->netchg_flag, 0);
	hb_stop(&c->hb);
	c->wd.efd = -1;
	c->backoff.base_ms = c->cfg.reconnect_base_ms;
	c->backoff.cap_ms = c->cfg.reconnect_cap_ms;
	c->reg_backoff = c->backoff;
	if (jid_domain(c->cfg.jid, c->domain, sizeof c->domain)) {
		snprintf(err, sizeof err, "jid: malformed");
		rc = XPUSH_EINVAL;
		goto fail;
	}
	so.retention_s = c->cfg.seen_retention_s;
	so.max_lines = c->cfg.seen_max_lines;
	so.max_ids = c->cfg.seen_max_ids;
	if ((rc = seen_open(c->cfg.state_dir, c->cfg.component, &so, (int64_t)time(NULL), &c->seen,
	                    err, sizeof err)) != XPUSH_OK)
		goto fail;
	notify_seen_maintain(c);
	if ((rc = hbnet_open(c)) != XPUSH_OK)
		goto fail;
	if (wd_init(&c->wd, &c->stop_flag) != 0) { /* eventfd or thread: resources */
		rc = XPUSH_ENOMEM;
		goto fail;
	}
	c->hbn_open = 1;
	pthread_once(&strophe_once, strophe_init);
	c->xlog.handler = conn_strophe_log;
	c->xlog.userdata = c;
	if (!(c->ctx = xmpp_ctx_new(NULL, &c->xlog))) {
		rc = XPUSH_ENOMEM;
		goto fail;
	}
	if ((rc = conn_setup(c)) != XPUSH_OK)
		goto fail;
	session_attach(c);
	{
		struct seen_stats st;
		char qs[600];
		seen_stats(c->seen, &st);
		clog_printf(
			&c->log, XPUSH_LOG_DEBUG,
			"topic=client msg=created jid=%s component=%s seen_file=%s seen_ids=%zu "
			"corrupt_lines=%zu torn_line=%d",
			c->cfg.jid, c->cfg.component, clog_quote(qs, sizeof qs, seen_path(c->seen)),
			st.live, st.corrupt, st.torn);
		if (st.corrupt || st.torn)
			clog_printf(&c->log, XPUSH_LOG_WARN,
			            "topic=seen msg=damaged_lines_skipped corrupt=%zu torn=%d",
			            st.corrupt, st.torn);
	}
	*out = c;
	return XPUSH_OK;
fail:
	if (err[0])
		clog_printf(&early, XPUSH_LOG_ERROR, "topic=config msg=invalid reason=%s",
		            clog_quote(q, sizeof q, err));
	else
		clog_printf(&early, XPUSH_LOG_ERROR, "topic=client msg=create_failed error=%s",
		            xpush_strerror(rc));
	xpush_client_free(c);
	return rc;
}

void xpush_client_free(xpush_client *c)
{
	if (!c)
		return;
	if (c->in_loop) {
		/* from a callback: freeing now would pull the loop from under us */
		clog_printf(
			&c->log, XPUSH_LOG_ERROR,
			"topic=client msg=free_from_callback_ignored (call it after run returns)");
		return;
	}
	c->freeing = 1;
	account_release(c);
	if (c->conn)
		xmpp_conn_release(c->conn);
	if (c->ctx)
		xmpp_ctx_free(c->ctx);
	wd_destroy(&c->wd); /* after libstrophe closed its descriptor */
	seen_close(c->seen);
	if (c->hbn_open)
		hbnet_close(c);
	free(c->bound_jid);
	cfg_clear(&c->cfg);
	free(c);
}

const char *xpush_strerror(int code)
{
	switch (code) {
	case XPUSH_OK:
		return "success";
	case XPUSH_EINVAL:
		return "invalid argument or configuration";
	case XPUSH_ENOMEM:
		return "out of memory";
	case XPUSH_EIO:
		return "state directory I/O error";
	case XPUSH_EBUSY:
		return "state directory in use by another client";
	case XPUSH_ESTATE:
		return "call not allowed in this state";
	case XPUSH_ECONN:
		return "connection lost";
	case XPUSH_EAUTH:
		return "authentication failed";
	case XPUSH_ETLS:
		return "TLS or certificate verification failed";
	case XPUSH_EREJECTED:
		return "registration rejected by the component";
	default:
		return "unknown error";
	}
}

const char *xpush_version(void)
{
	return XPUSH_VERSION_STRING;
}
