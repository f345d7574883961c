/* store: the asynchronous libpq connection of xpushd. Owns the connection,
 * its socket registration in the loop, the session's state, the FIFO of
 * requests (one in flight), prepared statements, the session's set-up and
 * reconnect with backoff. Each result goes to the decoder of its statement's
 * kind (store_result.c); nothing outside the store sees libpq. */
#include "store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "pgtext.h"
#include "redial.h"
#include "store_result.h"
#include "store_sql.h"

/* REQ_SESSION_SETUP: the statement that ends the session's set-up, after its
 * PREPAREs (store_sql_session_setup: LISTEN on the main session, its name
 * on the acks one); the session is ready when it completes. */
enum req_kind { REQ_PREPARE, REQ_SESSION_SETUP, REQ_STMT };

/* DOWN -> CONNECTING -> SETUP (preparing) -> READY; any -> DOWN. */
enum st_state { ST_DOWN, ST_CONNECTING, ST_SETUP, ST_READY };
static const char *const st_names[] = { "down", "connecting", "setup", "ready" };
static const unsigned st_next[] = {
	[ST_DOWN] = 1u << ST_CONNECTING,
	[ST_CONNECTING] = 1u << ST_SETUP | 1u << ST_DOWN,
	[ST_SETUP] = 1u << ST_READY | 1u << ST_DOWN,
	[ST_READY] = 1u << ST_DOWN,
};

struct req {
	struct req *next;
	enum req_kind kind;
	enum stmt_id stmt;
	int nparams;
	char *params[STORE_SQL_MAX_PARAMS]; /* owned; NULL = SQL NULL */
	union store_cb cb;                  /* REQ_STMT: as its statement's kind says */
	void *ud;
};

struct store {
	struct loop *loop;
	char *conninfo;
	struct store_events ev;
	void *ud;
	PGconn *conn;
	enum st_state state;
	struct loop_io io;
	struct redial redial;
	struct req *head, *tail; /* head is in flight when inflight */
	int inflight;
	PGresult *result; /* first result of the request in flight */
	size_t qlen;
	int acks; /* the acks session (store_opts.acks_session) */
	/* A submit never calls back: a connection that fails while a request is
	 * being submitted is dropped from this timer, on the next loop turn (the
	 * caller has stored what the callback will free by then). */
	int submitting;
	struct loop_timer dropt;
	char drop_why[512];
};

static void store_drop(struct store *st, const char *why);
static void store_pump(struct store *st);

static const char *session_name(const struct store *st)
{
	return st->acks ? "acks" : "main";
}

/* The one place the session's state changes. An impossible move is a bug:
 * refused, and logged as an error. */
static void set_state(struct store *st, enum st_state to)
{
	if (st->state == to)
		return;
	if (!(st_next[st->state] & 1u << to)) {
		log_error("postgres state change refused", "from=%s to=%s session=%s",
		          st_names[st->state], st_names[to], session_name(st));
		return;
	}
	log_debug("postgres state", "from=%s to=%s session=%s", st_names[st->state], st_names[to],
	          session_name(st));
	st->state = to;
}

int store_is_ready(const struct store *st)
{
	return st->state == ST_READY;
}
size_t store_queue_len(const struct store *st)
{
	return st->qlen;
}

static void req_free(struct req *r)
{
	for (int i = 0; i < r->nparams; i++)
		free(r->params[i]);
	free(r);
}

static void req_fail(struct req *r)
{
	store_result_fail(store_sql_stmts[r->stmt].kind, r->cb, r->ud);
}

static void queue_push(struct store *st, struct req *r, int front)
{
	if (front) {
		r->next = st->head;
		st->head = r;
		if (!st->tail)
			st->tail = r;
	} else {
		r->next = NULL;
		if (st->tail)
			st->tail->next = r;
		else
			st->head = r;
		st->tail = r;
	}
	st->qlen++;
}

static struct req *queue_pop(struct store *st)
{
	struct req *r = st->head;

	if (r) {
		st->head = r->next;
		if (!st->head)
			st->tail = NULL;
		st->qlen--;
	}
	return r;
}

static void watch(struct store *st, uint32_t events)
{
	int fd = st->conn ? PQsocket(st->conn) : -1;

	/* While connecting, libpq may close its socket and open another (the next
	 * host of a multi-host conninfo, a server that fails
	 * target_session_attrs, an SSL fallback), often under the same number,
	 * which the kernel has meanwhile taken out of the epoll set: register the
	 * socket afresh at every step. */
	if (st->io.fd >= 0 && (st->io.fd != fd || st->state == ST_CONNECTING))
		loop_io_unwatch(st->loop, &st->io);
	if (fd < 0)
		return;
	if (st->io.fd < 0) {
		if (loop_io_watch(st->loop, &st->io, fd, events) < 0)
			store_drop(st, "epoll registration failed");
	} else if (loop_io_update(st->loop, &st->io, events) < 0) {
		store_drop(st, "epoll update failed");
	}
}

static const char *req_name(const struct store *st, const struct req *r)
{
	return r->kind == REQ_SESSION_SETUP ? store_sql_session_setup[st->acks]
	                                    : store_sql_stmts[r->stmt].name;
}

/* A statement's result (NULL: it failed) to its callback, through the
 * decoder of the statement's kind. */
static void finish_stmt(struct req *r, const PGresult *res)
{
	const struct stmt_def *d = &store_sql_stmts[r->stmt];

	if (res && PQnfields(res) != d->ncols) {
		log_error("query result of an unexpected shape", "stmt=%s columns=%d expected=%d",
		          d->name, PQnfields(res), d->ncols);
		res = NULL;
	}
	if (!res || store_result_deliver(d->kind, res, r->cb, r->ud) < 0)
		req_fail(r);
}

static void complete(struct store *st, PGresult *res)
{
	struct req *r = queue_pop(st);
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;

	st->inflight = 0;
	if (!r)
		return;
	if (!ok)
		log_error("query failed", "stmt=%s error=%s", log_q(req_name(st, r)),
		          log_q(res ? PQresultErrorMessage(res) : "no result"));
	if (r->kind == REQ_STMT) {
		finish_stmt(r, ok ? res : NULL);
	} else if (!ok) {
		/* A failed PREPARE or set-up leaves the session unusable. */
		req_free(r);
		store_drop(st, "session setup failed");
		return;
	} else if (r->kind == REQ_SESSION_SETUP) {
		set_state(st, ST_READY);
		redial_reset(&st->redial); /* the next loss starts from reconnect_min_ms */
		log_info("postgres ready", "session=%s", session_name(st));
		if (st->ev.on_ready)
			st->ev.on_ready(st->ud);
	}
	req_free(r);
}

static void drain(struct store *st)
{
	PGnotify *n;

	while ((n = PQnotifies(st->conn)) != NULL) {
		PQfreemem(n);
		if (st->ev.on_notify && st->state == ST_READY)
			st->ev.on_notify(st->ud);
		if (!st->conn)
			return;
	}
	while (st->conn && st->inflight && !PQisBusy(st->conn)) {
		PGresult *res = PQgetResult(st->conn);
		if (res) {
			if (!st->result)
				st->result = res;
			else
				PQclear(res);
			continue;
		}
		res = st->result;
		st->result = NULL;
		complete(st, res);
		PQclear(res);
	}
}

static void store_pump(struct store *st)
{
	int rc = 1;
	struct req *r;
	const struct stmt_def *d;

	if (!st->conn || st->inflight || st->state < ST_SETUP || !(r = st->head))
		goto flush;
	d = &store_sql_stmts[r->stmt];
	switch (r->kind) {
	case REQ_PREPARE:
		rc = PQsendPrepare(st->conn, d->name, d->sql, d->nparams, NULL);
		break;
	case REQ_SESSION_SETUP:
		rc = PQsendQuery(st->conn, store_sql_session_setup[st->acks]);
		break;
	case REQ_STMT:
		rc = PQsendQueryPrepared(st->conn, d->name, r->nparams,
		                         (const char *const *)r->params, NULL, NULL, 0);
		/* Test build: the connection breaks while an ack batch is handed over. */
		if (rc && r->stmt == S_ACK_BATCH && FAULT_FIRES("ack_send_fails"))
			rc = 0;
		break;
	}
	if (!rc) {
		store_drop(st, PQerrorMessage(st->conn));
		return;
	}
	st->inflight = 1;
flush:
	if (!st->conn)
		return;
	rc = PQflush(st->conn);
	if (rc < 0) {
		store_drop(st, PQerrorMessage(st->conn));
		return;
	}
	watch(st, EPOLLIN | (rc == 1 ? EPOLLOUT : 0));
}

static void setup_session(struct store *st)
{
	struct req *last = calloc(1, sizeof *last);

	if (!last) {
		store_drop(st, "out of memory");
		return;
	}
	last->kind = REQ_SESSION_SETUP;
	queue_push(st, last, 1);
	for (int i = S_COUNT - 1; i >= 0; i--) {
		struct req *p = calloc(1, sizeof *p);
		if (!p) {
			store_drop(st, "out of memory");
			return;
		}
		p->kind = REQ_PREPARE;
		p->stmt = (enum stmt_id)i;
		queue_push(st, p, 1);
	}
	set_state(st, ST_SETUP);
	store_pump(st);
}

static void on_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("postgres notice", "text=%s", log_q(msg));
}

static void connect_step(struct store *st)
{
	switch (PQconnectPoll(st->conn)) {
	case PGRES_POLLING_READING:
		watch(st, EPOLLIN);
		break;
	case PGRES_POLLING_WRITING:
		watch(st, EPOLLOUT);
		break;
	case PGRES_POLLING_OK:
		PQsetNoticeProcessor(st->conn, on_notice, NULL);
		if (PQsetnonblocking(st->conn, 1) < 0) {
			store_drop(st, PQerrorMessage(st->conn));
			return;
		}
		log_info("postgres connected", "server_version=%d", PQserverVersion(st->conn));
		setup_session(st);
		break;
	default:
		store_drop(st, PQerrorMessage(st->conn));
		break;
	}
}

static void on_io(struct loop_io *io, uint32_t events)
{
	struct store *st = io->ud;

	if (st->state == ST_CONNECTING) {
		connect_step(st);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		if (!PQconsumeInput(st->conn)) {
			store_drop(st, PQerrorMessage(st->conn));
			return;
		}
		drain(st);
	}
	if (st->conn)
		store_pump(st);
}

static void start_connect(struct store *st)
{
	st->conn = PQconnectStart(st->conninfo);
	if (!st->conn) {
		store_drop(st, "out of memory");
		return;
	}
	if (PQstatus(st->conn) == CONNECTION_BAD) {
		store_drop(st, PQerrorMessage(st->conn));
		return;
	}
	set_state(st, ST_CONNECTING);
	watch(st, EPOLLOUT);
}

static void on_retry(struct loop_timer *t)
{
	start_connect(t->ud);
}

static void on_deferred_drop(struct loop_timer *t)
{
	struct store *st = t->ud;
	char why[sizeof st->drop_why];

	snprintf(why, sizeof why, "%s", st->drop_why);
	store_drop(st, why);
}

/* Fail everything queued, close, and schedule a reconnect. Safe to call from
 * any state; callbacks run after the store is consistent again. */
static void store_drop(struct store *st, const char *why)
{
	struct req *list = st->head;
	int was_ready = st->state == ST_READY;
	uint32_t delay;
	char reason[512];

	/* why is often PQerrorMessage(st->conn): copy it before PQfinish frees it. */
	snprintf(reason, sizeof reason, "%s", why ? why : "");
	why = reason;
	if (st->submitting) {
		if (!st->drop_why[0])
			snprintf(st->drop_why, sizeof st->drop_why, "%s",
			         reason[0] ? reason : "failed");
		loop_timer_arm(&st->dropt, 0);
		return;
	}
	st->drop_why[0] = '\0';
	loop_timer_remove(st->loop, &st->dropt);
	st->head = st->tail = NULL;
	st->qlen = 0;
	st->inflight = 0;
	if (st->result) {
		PQclear(st->result);
		st->result = NULL;
	}
	loop_io_unwatch(st->loop, &st->io);
	if (st->conn) {
		PQfinish(st->conn);
		st->conn = NULL;
	}
	set_state(st, ST_DOWN);
	delay = redial_schedule(&st->redial);
	log_warn("postgres connection lost", "error=%s retry_ms=%u session=%s", log_q(why), delay,
	         session_name(st));
	while (list) {
		struct req *r = list;
		list = r->next;
		if (r->kind == REQ_STMT)
			req_fail(r);
		req_free(r);
	}
	if (was_ready && st->ev.on_down)
		st->ev.on_down(st->ud);
}

struct store *store_new(struct loop *l, const struct store_opts *o, const struct store_events *ev,
                        void *ud)
{
	struct store *st = calloc(1, sizeof *st);

	if (!st)
		return NULL;
	st->acks = o->acks_session != 0;
	st->conninfo = strdup(o->conninfo ? o->conninfo : "");
	if (!st->conninfo) {
		free(st);
		return NULL;
	}
	st->loop = l;
	st->ev = *ev;
	st->ud = ud;
	st->io = (struct loop_io){ .fd = -1, .fn = on_io, .ud = st };
	redial_init(&st->redial, l, o->reconnect_min_ms, o->reconnect_max_ms, on_retry, st);
	loop_timer_init(l, &st->dropt, on_deferred_drop, st);
	start_connect(st);
	return st;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	loop_io_unwatch(st->loop, &st->io);
	redial_remove(&st->redial);
	loop_timer_remove(st->loop, &st->dropt);
	while (st->head)
		req_free(queue_pop(st));
	if (st->result)
		PQclear(st->result);
	if (st->conn)
		PQfinish(st->conn);
	free(st->conninfo);
	free(st);
}

/* Queue a statement. Parameters are copied; NULL stays SQL NULL. cb's member
 * is the one the statement's kind names (CB below). */
static int submit(struct store *st, enum stmt_id s, const char *const *params, union store_cb cb,
                  void *ud)
{
	struct req *r;

	if (st->state != ST_READY)
		return STORE_NOT_QUEUED;
	r = calloc(1, sizeof *r);
	if (!r)
		return STORE_NOT_QUEUED;
	r->kind = REQ_STMT;
	r->stmt = s;
	r->nparams = store_sql_stmts[s].nparams;
	for (int i = 0; i < r->nparams; i++) {
		if (params[i] && !(r->params[i] = strdup(params[i]))) {
			req_free(r);
			return STORE_NOT_QUEUED;
		}
	}
	r->cb = cb;
	r->ud = ud;
	queue_push(st, r, 0);
	st->submitting = 1;
	store_pump(st);
	st->submitting = 0;
	return STORE_QUEUED;
}

#define CB(member, fn) ((union store_cb){ .member = (fn) })
#define I64(buf, v) (snprintf(buf, sizeof buf, "%lld", (long long)(v)), buf)

int store_fanout(struct store *st, long limit, long chunk, const char *instance, uint32_t lease_ms,
                 long window, store_fanout_fn cb, void *ud)
{
	char a[24], b[24], c[24], d[24];
	const char *p[] = { I64(a, limit), I64(b, chunk), instance, I64(c, lease_ms),
		            I64(d, window) };
	return submit(st, S_FANOUT, p, CB(fanout, cb), ud);
}

int store_claim(struct store *st, const char *instance, long limit, uint32_t lease_ms, long window,
                store_claim_fn cb, void *ud)
{
	char a[24], b[24], d[24];
	const char *p[] = { instance, I64(a, limit), I64(b, lease_ms), I64(d, window) };
	return submit(st, S_CLAIM, p, CB(claim, cb), ud);
}

/* Statements that take up to `limit` rows for this instance for ms: retracts
 * to send (a lease), devices to probe (the answer's deadline). */
static int claim_for(struct store *st, enum stmt_id s, const char *instance, long limit,
                     uint32_t ms, store_claim_fn cb, void *ud)
{
	char a[24], b[24];
	const char *p[] = { instance, I64(a, limit), I64(b, ms) };
	return submit(st, s, p, CB(claim, cb), ud);
}

int store_claim_retracts(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                         store_claim_fn cb, void *ud)
{
	return claim_for(st, S_CLAIM_RETRACT, instance, limit, lease_ms, cb, ud);
}

int store_reclaim(struct store *st, const char *instance, store_count_fn cb, void *ud)
{
	const char *p[] = { instance };
	return submit(st, S_RECLAIM, p, CB(count, cb), ud);
}

int store_ack(struct store *st, int64_t notif, int64_t device_row, const char *bare_jid,
              int retract, store_count_fn cb, void *ud)
{
	char a[24], b[24];
	const char *p[] = { I64(a, notif), I64(b, device_row), bare_jid };
	return submit(st, retract ? S_RETRACT_ACK : S_ACK, p, CB(count, cb), ud);
}

int store_nack(struct store *st, int64_t notif, int64_t device_row, int64_t token,
               const char *full_jid, const char *reason, int retract, store_count_fn cb, void *ud)
{
	char a[24], b[24], c[24];
	const char *p[] = { I64(a, notif), I64(b, device_row), full_jid, reason, I64(c, token) };
	return submit(st, retract ? S_RETRACT_NACK : S_NACK, p, CB(count, cb), ud);
}

int store_sweep(struct store *st, uint32_t probe_ms, store_nums_fn cb, void *ud)
{
	char a[24];
	const char *p[] = { I64(a, probe_ms) };
	return submit(st, S_SWEEP, p, CB(nums, cb), ud);
}

int store_probe(struct store *st, const char *instance, long limit, uint32_t timeout_ms,
                store_claim_fn cb, void *ud)
{
	return claim_for(st, S_PROBE, instance, limit, timeout_ms, cb, ud);
}

int store_probe_alive(struct store *st, int64_t device_row, const char *full_jid, int64_t token,
                      long max_strikes, store_nums_fn cb, void *ud)
{
	char a[24], b[24], c[24];
	const char *p[] = { I64(a, device_row), full_jid, I64(b, token), I64(c, max_strikes) };
	return submit(st, S_PROBE_ALIVE, p, CB(nums, cb), ud);
}

int store_probe_gone(struct store *st, int64_t device_row, const char *full_jid, int64_t token,
                     const char *reason, store_count_fn cb, void *ud)
{
	char a[24], b[24];
	const char *p[] = { I64(a, device_row), full_jid, I64(b, token), reason };
	return submit(st, S_PROBE_GONE, p, CB(count, cb), ud);
}

int store_health(struct store *st, store_nums_fn cb, void *ud)
{
	return submit(st, S_HEALTH, NULL, CB(nums, cb), ud);
}

int store_wake(struct store *st, int listening, uint32_t lease_ms, store_count_fn cb, void *ud)
{
	char a[24];
	const char *p[] = { listening ? "true" : "false", I64(a, lease_ms) };
	return submit(st, S_WAKE, p, CB(count, cb), ud);
}

int store_next_due(struct store *st, store_count_fn cb, void *ud)
{
	return submit(st, S_NEXT_DUE, NULL, CB(count, cb), ud);
}

int store_claim_devices(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                        long window, const int64_t *devices, size_t n, store_claim_fn cb, void *ud)
{
	char a[24], b[24], d[24], *ids = pgtext_int_array(devices, n);
	int rc = STORE_NOT_QUEUED;

	if (ids) {
		const char *p[] = { instance, I64(a, limit), I64(b, lease_ms), I64(d, window),
			            ids };
		rc = submit(st, S_CLAIM_DEVICES, p, CB(claim, cb), ud);
	}
	free(ids);
	return rc;
}

int store_ack_batch(struct store *st, const int64_t *notif, const int64_t *device_row,
                    const char *const *bare_jid, size_t n, store_rows_fn cb, void *ud)
{
	char *a = pgtext_int_array(notif, n), *b = pgtext_int_array(device_row, n);
	char *c = pgtext_text_array(bare_jid, n);
	int rc = STORE_NOT_QUEUED;

	if (a && b && c) {
		const char *p[] = { a, b, c };
		rc = submit(st, S_ACK_BATCH, p, CB(rows, cb), ud);
	}
	free(a);
	free(b);
	free(c);
	return rc;
}

int store_register(struct store *st, const struct device_reg *r, store_count_fn cb, void *ud)
{
	char *tags = pgtext_text_array(r->tags, r->ntags);
	int rc;

	if (!tags)
		return STORE_NOT_QUEUED;
	char m[24];
	const char *p[] = { r->jid, r->app,      r->device,   r->alias,
		            tags,   r->platform, r->full_jid, I64(m, r->max_devices) };
	rc = submit(st, S_REGISTER, p, CB(count, cb), ud);
	free(tags);
	return rc;
}

int store_unregister(struct store *st, const char *jid, const char *app, const char *device,
                     store_count_fn cb, void *ud)
{
	const char *p[] = { jid, app, device };
	return submit(st, S_UNREGISTER, p, CB(count, cb), ud);
}

int store_app(struct store *st, const char *jid, const char *app, const char *device,
              store_app_fn cb, void *ud)
{
	const char *p[] = { jid, app, device };
	return submit(st, S_APP, p, CB(app, cb), ud);
}

int store_presence(struct store *st, const char *jid, const char *full_jid, const char *app,
                   const char *device, store_count_fn cb, void *ud)
{
	if (app && device) {
		const char *p[] = { jid, full_jid, app, device };
		return submit(st, S_PRESENCE_DEV, p, CB(count, cb), ud);
	}
	const char *p[] = { jid, full_jid };
	return submit(st, S_PRESENCE_JID, p, CB(count, cb), ud);
}

int store_unavailable(struct store *st, const char *full_jid, store_count_fn cb, void *ud)
{
	const char *p[] = { full_jid };
	return submit(st, S_UNAVAILABLE, p, CB(count, cb), ud);
}

int store_fail(struct store *st, int64_t notif, int64_t device_row, int64_t token,
               const char *reason, store_count_fn cb, void *ud)
{
	char a[24], b[24], c[24];
	const char *p[] = { I64(a, notif), I64(b, device_row), reason, I64(c, token) };
	return submit(st, S_FAIL, p, CB(count, cb), ud);
}
int store_up(struct store *st, enum store_up_op op, const char *const *p, store_claim_fn cb,
             void *ud)
{
	return submit(st, op == STORE_UP_REGISTER ? S_UP_REGISTER : S_UP_REVOKE, p, CB(claim, cb),
	              ud);
}
