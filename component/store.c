/* store: the asynchronous libpq connection of xpushd. Owns the connection,
 * its socket registration in the loop, the FIFO of requests (one in flight),
 * prepared statements, LISTEN, and reconnect with backoff. Converts every
 * PGresult into the typed callbacks of store.h; nothing else sees libpq. */
#include "store.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "redial.h"
#include "store_sql.h"

#define MAX_PARAMS 8

enum req_kind { REQ_PREPARE, REQ_LISTEN, REQ_STMT };
enum st_state { ST_DOWN, ST_CONNECTING, ST_SETUP, ST_READY };

struct req {
	struct req *next;
	enum req_kind kind;
	enum stmt_id stmt;
	int nparams;
	char *params[MAX_PARAMS];  /* owned; NULL = SQL NULL */
	store_count_fn count_cb;
	store_claim_fn claim_cb;
	store_nums_fn nums_cb;
	store_rows_fn rows_cb;
	store_fanout_fn fan_cb;
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
	struct req *head, *tail;   /* head is in flight when inflight */
	int inflight;
	PGresult *result;          /* first result of the request in flight */
	size_t qlen;
	int acks;                  /* the acks session (store_opts.acks_session) */
	/* A submit never calls back: a connection that fails while a request is
	 * being submitted is dropped from this timer, on the next loop turn (the
	 * caller has stored what the callback will free by then). */
	int submitting;
	struct loop_timer dropt;
	char drop_why[512];
};

static void store_drop(struct store *st, const char *why);
static void store_pump(struct store *st);

int store_is_ready(const struct store *st) { return st->state == ST_READY; }
size_t store_queue_len(const struct store *st) { return st->qlen; }

static void req_free(struct req *r)
{
	for (int i = 0; i < r->nparams; i++)
		free(r->params[i]);
	free(r);
}

static void req_fail(struct req *r)
{
	if (r->count_cb)
		r->count_cb(r->ud, -1, 0);
	else if (r->claim_cb)
		r->claim_cb(r->ud, -1, NULL, 0);
	else if (r->nums_cb)
		r->nums_cb(r->ud, -1, NULL, 0);
	else if (r->rows_cb)
		r->rows_cb(r->ud, -1, NULL, 0, 0);
	else if (r->fan_cb)
		r->fan_cb(r->ud, -1, 0, NULL, 0);
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

	if (st->io.fd >= 0 && st->io.fd != fd)
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

/* Parse the text form of a Postgres bigint[] ("{1,2,3}", "{}"). *out is
 * malloc'd (NULL when empty). -1 on malformed text or OOM. */
static int pg_int_array_parse(const char *s, int64_t **out, size_t *n)
{
	size_t cap = 1;
	int64_t *v;

	*out = NULL;
	*n = 0;
	if (*s++ != '{')
		return -1;
	if (*s == '}')
		return 0;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	v = malloc(cap * sizeof *v);
	if (!v)
		return -1;
	for (;;) {
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (end == s || errno || *n == cap) {
			free(v);
			return -1;
		}
		v[(*n)++] = x;
		if (*end == '}')
			break;
		if (*end != ',') {
			free(v);
			return -1;
		}
		s = end + 1;
	}
	*out = v;
	return 0;
}

static int claim_row_cmp(const void *a, const void *b)
{
	const struct claim_row *x = a, *y = b;

	if (x->notif_id != y->notif_id)
		return x->notif_id < y->notif_id ? -1 : 1;
	return (x->device_row > y->device_row) - (x->device_row < y->device_row);
}

static void complete(struct store *st, PGresult *res)
{
	struct req *r = queue_pop(st);
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;

	st->inflight = 0;
	if (!r)
		return;
	if (!ok) {
		const char *what = r->kind == REQ_STMT || r->kind == REQ_PREPARE ?
		                   stmts[r->stmt].name : "listen";
		log_error("query failed", "stmt=%s error=%s", what,
		          log_q(res ? PQresultErrorMessage(res) : "no result"));
	}
	if (r->kind == REQ_LISTEN && ok) {
		st->state = ST_READY;
		log_info("postgres ready", "session=%s", st->acks ? "acks" : "main");
		if (st->ev.on_ready)
			st->ev.on_ready(st->ud);
	} else if (r->kind == REQ_STMT && !ok) {
		req_fail(r);
	} else if (r->kind == REQ_STMT && r->claim_cb) {
		int n = PQntuples(res);
		struct claim_row *rows = n ? calloc((size_t)n, sizeof *rows) : NULL;
		if (n && !rows) {
			req_fail(r);
		} else {
			for (int i = 0; i < n; i++) {
				struct claim_row *c = &rows[i];
#define V(col) (PQgetisnull(res, i, col) ? NULL : PQgetvalue(res, i, col))
				c->notif_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
				c->device_row = strtoll(PQgetvalue(res, i, 1), NULL, 10);
				c->full_jid = V(2);
				if (r->stmt == S_CLAIM_RETRACT || r->stmt == S_PROBE) {
					c->token = strtoll(PQgetvalue(res, i, 3), NULL, 10);
					continue;
				}
				c->app = V(3);
				c->priority = V(4);
				c->created = V(5);
				c->title = V(6);
				c->body = V(7);
				c->uri = V(8);
				c->payload = V(9);
				c->attempts = (int)strtol(PQgetvalue(res, i, 10), NULL, 10);
				c->token = strtoll(PQgetvalue(res, i, 11), NULL, 10);
				c->collapse = V(12);
				c->expires = V(13);
#undef V
			}
			/* RETURNING has no order: per device, send by notification id. */
			if (n > 1)  /* qsort(NULL, 0, ...) is undefined (UBSan: nonnull) */
				qsort(rows, (size_t)n, sizeof *rows, claim_row_cmp);
			r->claim_cb(r->ud, 0, rows, (size_t)n);
			free(rows);
		}
	} else if (r->kind == REQ_STMT && r->fan_cb) {
		long touched = PQntuples(res) > 0 ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
		const char *arr = PQntuples(res) > 0 && !PQgetisnull(res, 0, 1) ? PQgetvalue(res, 0, 1) : "{}";
		int64_t *devs = NULL;
		size_t ndev = 0;
		if (pg_int_array_parse(arr, &devs, &ndev) < 0)
			req_fail(r);
		else
			r->fan_cb(r->ud, 0, touched, devs, ndev);
		free(devs);
	} else if (r->kind == REQ_STMT && r->rows_cb) {
		size_t nr = (size_t)PQntuples(res), nc = (size_t)PQnfields(res);
		int64_t *v = nr && nc ? calloc(nr * nc, sizeof *v) : NULL;
		if (nr && nc && !v) {
			req_fail(r);
		} else {
			for (size_t i = 0; i < nr; i++)
				for (size_t j = 0; j < nc; j++)
					v[i * nc + j] = PQgetisnull(res, (int)i, (int)j) ? -1 :
					                strtoll(PQgetvalue(res, (int)i, (int)j), NULL, 10);
			r->rows_cb(r->ud, 0, v, nr, nc);
			free(v);
		}
	} else if (r->kind == REQ_STMT && r->nums_cb) {
		int64_t v[16];
		int n = PQntuples(res) > 0 ? PQnfields(res) : 0;
		if (n > 16)
			n = 16;
		for (int i = 0; i < n; i++)
			v[i] = PQgetisnull(res, 0, i) ? -1 : strtoll(PQgetvalue(res, 0, i), NULL, 10);
		r->nums_cb(r->ud, 0, v, (size_t)n);
	} else if (r->kind == REQ_STMT && r->count_cb) {
		long n = 0;
		switch (stmts[r->stmt].mode) {
		case RES_ROWS:
			n = PQntuples(res);
			break;
		case RES_FIRST:
			n = PQntuples(res) > 0 ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
			break;
		case RES_CMD:
			n = strtol(PQcmdTuples(res), NULL, 10);
			break;
		case RES_NUMS:
			break;
		}
		r->count_cb(r->ud, 0, n);
	} else if (!ok) {
		/* A failed PREPARE or LISTEN leaves the session unusable. */
		req_free(r);
		store_drop(st, "session setup failed");
		return;
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

	if (!st->conn || st->inflight || st->state < ST_SETUP || !(r = st->head))
		goto flush;
	switch (r->kind) {
	case REQ_PREPARE:
		rc = PQsendPrepare(st->conn, stmts[r->stmt].name, stmts[r->stmt].sql,
		                   stmts[r->stmt].nparams, NULL);
		break;
	case REQ_LISTEN:
		/* The last step of the session's set-up: ready when it completes. */
		rc = PQsendQuery(st->conn, st->acks ? "SET application_name = 'xpushd-acks'"
		                                    : "LISTEN xpush");
		break;
	case REQ_STMT:
		rc = PQsendQueryPrepared(st->conn, stmts[r->stmt].name, r->nparams,
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
	struct req *listen = calloc(1, sizeof *listen);

	if (!listen) {
		store_drop(st, "out of memory");
		return;
	}
	listen->kind = REQ_LISTEN;
	queue_push(st, listen, 1);
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
	st->state = ST_SETUP;
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
	st->state = ST_CONNECTING;
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
			snprintf(st->drop_why, sizeof st->drop_why, "%s", reason[0] ? reason : "failed");
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
	st->state = ST_DOWN;
	delay = redial_schedule(&st->redial);
	log_warn("postgres connection lost", "error=%s retry_ms=%u session=%s", log_q(why), delay,
	         st->acks ? "acks" : "main");
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

struct store *store_new(struct loop *l, const struct store_opts *o,
                        const struct store_events *ev, void *ud)
{
	struct store *st = calloc(1, sizeof *st);

	if (!st)
		return NULL;
	st->acks = o->acks_session;
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

/* Queue a statement. Parameters are copied; NULL stays SQL NULL. */
static int submit_any(struct store *st, enum stmt_id s, const char *const *params,
                      store_count_fn ccb, store_claim_fn kcb, store_nums_fn ncb,
                      store_rows_fn rcb, store_fanout_fn fcb, void *ud)
{
	struct req *r;

	if (st->state != ST_READY)
		return -1;
	r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->kind = REQ_STMT;
	r->stmt = s;
	r->nparams = stmts[s].nparams;
	for (int i = 0; i < r->nparams; i++) {
		if (params[i] && !(r->params[i] = strdup(params[i]))) {
			req_free(r);
			return -1;
		}
	}
	r->count_cb = ccb;
	r->claim_cb = kcb;
	r->nums_cb = ncb;
	r->rows_cb = rcb;
	r->fan_cb = fcb;
	r->ud = ud;
	queue_push(st, r, 0);
	st->submitting = 1;
	store_pump(st);
	st->submitting = 0;
	return 0;
}

static int submit(struct store *st, enum stmt_id s, const char *const *params,
                  store_count_fn ccb, store_claim_fn kcb, void *ud)
{
	return submit_any(st, s, params, ccb, kcb, NULL, NULL, NULL, ud);
}

#define I64(buf, v) (snprintf(buf, sizeof buf, "%lld", (long long)(v)), buf)

int store_fanout(struct store *st, long limit, long chunk, store_fanout_fn cb, void *ud)
{
	char a[24], b[24];
	const char *p[] = { I64(a, limit), I64(b, chunk) };
	return submit_any(st, S_FANOUT, p, NULL, NULL, NULL, NULL, cb, ud);
}

int store_claim(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                long window, store_claim_fn cb, void *ud)
{
	char a[24], b[24], d[24];
	const char *p[] = { instance, I64(a, limit), I64(b, lease_ms), I64(d, window) };
	return submit(st, S_CLAIM, p, NULL, cb, ud);
}

int store_claim_retracts(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                         store_claim_fn cb, void *ud)
{
	char a[24], b[24];
	const char *p[] = { instance, I64(a, limit), I64(b, lease_ms) };
	return submit(st, S_CLAIM_RETRACT, p, NULL, cb, ud);
}

int store_reclaim(struct store *st, const char *instance, store_count_fn cb, void *ud)
{
	const char *p[] = { instance };
	return submit(st, S_RECLAIM, p, cb, NULL, ud);
}

int store_ack(struct store *st, int64_t notif, int64_t device_row, const char *bare_jid,
              int retract, store_count_fn cb, void *ud)
{
	char a[24], b[24];
	const char *p[] = { I64(a, notif), I64(b, device_row), bare_jid };
	return submit(st, retract ? S_RETRACT_ACK : S_ACK, p, cb, NULL, ud);
}

int store_nack(struct store *st, int64_t notif, int64_t device_row, int64_t token,
               const char *full_jid, const char *reason, int retract,
               store_count_fn cb, void *ud)
{
	char a[24], b[24], c[24];
	const char *p[] = { I64(a, notif), I64(b, device_row), full_jid, reason, I64(c, token) };
	return submit(st, retract ? S_RETRACT_NACK : S_NACK, p, cb, NULL, ud);
}

int store_sweep(struct store *st, uint32_t probe_ms, store_nums_fn cb, void *ud)
{
	char a[24];
	const char *p[] = { I64(a, probe_ms) };
	return submit_any(st, S_SWEEP, p, NULL, NULL, cb, NULL, NULL, ud);
}

int store_probe(struct store *st, const char *instance, long limit, uint32_t timeout_ms,
                store_claim_fn cb, void *ud)
{
	char a[24], b[24];
	const char *p[] = { instance, I64(a, limit), I64(b, timeout_ms) };
	return submit(st, S_PROBE, p, NULL, cb, ud);
}

int store_probe_alive(struct store *st, int64_t device_row, const char *full_jid, int64_t token,
                      long max_strikes, store_nums_fn cb, void *ud)
{
	char a[24], b[24], c[24];
	const char *p[] = { I64(a, device_row), full_jid, I64(b, token), I64(c, max_strikes) };
	return submit_any(st, S_PROBE_ALIVE, p, NULL, NULL, cb, NULL, NULL, ud);
}

int store_probe_gone(struct store *st, int64_t device_row, const char *full_jid, int64_t token,
                     const char *reason, store_count_fn cb, void *ud)
{
	char a[24], b[24];
	const char *p[] = { I64(a, device_row), full_jid, I64(b, token), reason };
	return submit(st, S_PROBE_GONE, p, cb, NULL, ud);
}

int store_health(struct store *st, store_nums_fn cb, void *ud)
{
	return submit_any(st, S_HEALTH, NULL, NULL, NULL, cb, NULL, NULL, ud);
}

int store_wake(struct store *st, int listening, uint32_t lease_ms, store_count_fn cb, void *ud)
{
	char a[24];
	const char *p[] = { listening ? "true" : "false", I64(a, lease_ms) };
	return submit(st, S_WAKE, p, cb, NULL, ud);
}

int store_next_due(struct store *st, store_count_fn cb, void *ud)
{
	return submit(st, S_NEXT_DUE, NULL, cb, NULL, ud);
}

/* Text form of a Postgres text[]: {"a","b\"c"}; every element quoted. */
static char *pg_text_array(const char *const *v, size_t n)
{
	size_t cap = 3;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(v[i]) + 3;
	out = o = malloc(cap);
	if (!out)
		return NULL;
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ',';
		*o++ = '"';
		for (const char *s = v[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*o++ = '\\';
			*o++ = *s;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* Text form of a Postgres bigint[]: {1,2,3}. */
static char *pg_int_array(const int64_t *v, size_t n)
{
	size_t cap = 3 + n * 21, len = 1;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	out[0] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? "," : "", (long long)v[i]);
	out[len++] = '}';
	out[len] = '\0';
	return out;
}

int store_claim_devices(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                        long window, const int64_t *devices, size_t n,
                        store_claim_fn cb, void *ud)
{
	char a[24], b[24], d[24], *ids = pg_int_array(devices, n);
	int rc = -1;

	if (ids) {
		const char *p[] = { instance, I64(a, limit), I64(b, lease_ms), I64(d, window), ids };
		rc = submit(st, S_CLAIM_DEVICES, p, NULL, cb, ud);
	}
	free(ids);
	return rc;
}

int store_ack_batch(struct store *st, const int64_t *notif, const int64_t *device_row,
                    const char *const *bare_jid, size_t n, store_rows_fn cb, void *ud)
{
	char *a = pg_int_array(notif, n), *b = pg_int_array(device_row, n);
	char *c = pg_text_array(bare_jid, n);
	int rc = -1;

	if (a && b && c) {
		const char *p[] = { a, b, c };
		rc = submit_any(st, S_ACK_BATCH, p, NULL, NULL, NULL, cb, NULL, ud);
	}
	free(a);
	free(b);
	free(c);
	return rc;
}

int store_register(struct store *st, const struct device_reg *r, store_count_fn cb, void *ud)
{
	char *tags = pg_text_array(r->tags, r->ntags);
	int rc;

	if (!tags)
		return -1;
	char m[24];
	const char *p[] = { r->jid, r->app, r->device, r->alias, tags, r->platform, r->full_jid,
	                    I64(m, r->max_devices) };
	rc = submit(st, S_REGISTER, p, cb, NULL, ud);
	free(tags);
	return rc;
}

int store_unregister(struct store *st, const char *jid, const char *app, const char *device,
                     store_count_fn cb, void *ud)
{
	const char *p[] = { jid, app, device };
	return submit(st, S_UNREGISTER, p, cb, NULL, ud);
}

int store_presence(struct store *st, const char *jid, const char *full_jid, const char *app,
                   const char *device, store_count_fn cb, void *ud)
{
	if (app && device) {
		const char *p[] = { jid, full_jid, app, device };
		return submit(st, S_PRESENCE_DEV, p, cb, NULL, ud);
	}
	const char *p[] = { jid, full_jid };
	return submit(st, S_PRESENCE_JID, p, cb, NULL, ud);
}

int store_unavailable(struct store *st, const char *full_jid, store_count_fn cb, void *ud)
{
	const char *p[] = { full_jid };
	return submit(st, S_UNAVAILABLE, p, cb, NULL, ud);
}

int store_fail(struct store *st, int64_t notif, int64_t device_row, int64_t token,
               const char *reason, store_count_fn cb, void *ud)
{
	char a[24], b[24], c[24];
	const char *p[] = { I64(a, notif), I64(b, device_row), reason, I64(c, token) };
	return submit(st, S_FAIL, p, cb, NULL, ud);
}
