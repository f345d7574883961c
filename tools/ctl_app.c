/* ctl_app: the flow of `xpushctl app ...`, `xpushctl device unregister` and
 * `xpushctl watch`: run their statements (ctl_appsql), mint tokens
 * (common/regtoken), write the output (ctl_out) and map every outcome to an
 * exit status and at most one error line. Owns the watch loop and its table
 * of the last state printed per ledger row. */
#include "ctl_app.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ctl_appsql.h"
#include "ctl_out.h"
#include "regtoken.h"

#define ERRLEN 2048
#define SECRET_BYTES 32
/* watch: a ledger row is looked at again this long after its last change (a
 * transaction's updated_at is its start, so a slow one commits older stamps). */
#define WATCH_OVERLAP_S 10.0

struct app_run {
	struct ctl_db *db;
	const struct ctl_cmd *c;
	const char *what;
	char err[ERRLEN];
};

static int fail(struct app_run *r, int code, const char *msg)
{
	fprintf(stderr, "xpushctl: %s: %s\n", r->what, msg);
	return code;
}

static int db_fail(struct app_run *r)
{
	return fail(r, CTL_EXIT_RUNTIME, r->err);
}

static int no_app(struct app_run *r, const char *app)
{
	char msg[200];
	snprintf(msg, sizeof msg, "no app %s (xpushctl app list)", app);
	return fail(r, CTL_EXIT_NOT_FOUND, msg);
}

/* A new secret: 32 random bytes as 64 hex digits. */
static int new_secret(char out[2 * SECRET_BYTES + 1])
{
	unsigned char b[SECRET_BYTES];

	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -1;
	for (int i = 0; i < SECRET_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* One row as JSON or as key value lines. */
static void print_row(const struct app_run *r, const struct ctl_rows *rows, int i)
{
	if (r->c->json) {
		ctl_out_json_object(stdout, rows, i);
		putchar('\n');
	} else {
		ctl_out_record(stdout, rows, i);
	}
}

static int app_add(struct app_run *r)
{
	const struct ctl_app *a = &r->c->app;
	char secret[2 * SECRET_BYTES + 1];
	struct ctl_rows *rows = NULL, *g = NULL;
	int token = strcmp(a->policy, "token") == 0;

	if (token && new_secret(secret) < 0)
		return fail(r, CTL_EXIT_RUNTIME, "cannot read random bytes for the secret");
	if (ctl_sql_query(r->db, "BEGIN", 0, NULL, &g, r->err, sizeof r->err) < 0)
		return db_fail(r);
	ctl_rows_free(g);
	if (ctl_appsql_add(r->db, a, token ? secret : NULL, &rows, r->err, sizeof r->err) < 0)
		return db_fail(r);
	for (size_t i = 0; i < a->producers.n; i++) {
		if (ctl_appsql_grant(r->db, a->app, a->producers.v[i], 0, &g, r->err,
		                     sizeof r->err) < 0) {
			ctl_rows_free(rows);
			return db_fail(r);
		}
		int role = strcmp(ctl_rows_get(g, 0, 1), "t") == 0;
		ctl_rows_free(g);
		if (!role) {
			char msg[200];
			ctl_rows_free(rows);
			snprintf(msg, sizeof msg, "--producer: no role %.80s; nothing was added",
			         a->producers.v[i]);
			return fail(r, CTL_EXIT_RUNTIME, msg);
		}
	}
	if (ctl_sql_query(r->db, "COMMIT", 0, NULL, &g, r->err, sizeof r->err) < 0) {
		ctl_rows_free(rows);
		return db_fail(r);
	}
	ctl_rows_free(g);
	print_row(r, rows, 0);
	ctl_rows_free(rows);
	return CTL_EXIT_OK;
}

static int app_policy(struct app_run *r)
{
	const struct ctl_app *a = &r->c->app;
	char secret[2 * SECRET_BYTES + 1];
	struct ctl_rows *rows = NULL;
	int token = strcmp(a->policy, "token") == 0;

	if (token && new_secret(secret) < 0)
		return fail(r, CTL_EXIT_RUNTIME, "cannot read random bytes for the secret");
	if (ctl_appsql_policy(r->db, a, token ? secret : NULL, &rows, r->err, sizeof r->err) < 0)
		return db_fail(r);
	if (rows->nrows == 0) {
		ctl_rows_free(rows);
		return no_app(r, a->app);
	}
	print_row(r, rows, 0);
	ctl_rows_free(rows);
	return CTL_EXIT_OK;
}

static int app_token(struct app_run *r)
{
	const struct ctl_app *a = &r->c->app;
	struct ctl_rows *rows = NULL;
	char tok[REGTOKEN_MAX + 1];
	uint64_t expiry;

	if (*a->expires) {
		/* Normalised UTC "YYYY-MM-DDTHH:MM:SS[.frac]Z" (ctl_time.h): whole seconds. */
		struct tm tm = { 0 };
		if (!strptime(a->expires, "%Y-%m-%dT%H:%M:%S", &tm))
			return fail(r, CTL_EXIT_USAGE, "--expires: not a time");
		expiry = (uint64_t)timegm(&tm);
		if (expiry <= (uint64_t)time(NULL))
			return fail(r, CTL_EXIT_USAGE, "--expires: the time has passed");
	} else {
		expiry = (uint64_t)time(NULL) + (uint64_t)a->ttl;
	}
	if (ctl_appsql_secret(r->db, a->app, &rows, r->err, sizeof r->err) < 0)
		return db_fail(r);
	if (rows->nrows == 0) {
		ctl_rows_free(rows);
		return no_app(r, a->app);
	}
	const char *policy = ctl_rows_get(rows, 0, 0), *secret = ctl_rows_get(rows, 0, 1);
	if (!secret) {
		char msg[200];
		snprintf(msg, sizeof msg,
		         "app %s has no secret (policy %s): set one with xpushctl app "
		         "policy %s token",
		         a->app, policy, a->app);
		ctl_rows_free(rows);
		return fail(r, CTL_EXIT_RUNTIME, msg);
	}
	if (regtoken_mint(secret, strlen(secret), a->jid, a->app, a->device, expiry, tok,
	                  sizeof tok) < 0) {
		ctl_rows_free(rows);
		return fail(r, CTL_EXIT_RUNTIME, "cannot mint the token");
	}
	if (strcmp(policy, "token") != 0)
		fprintf(stderr,
		        "xpushctl: app token: note: app %s's policy is %s, not token: its "
		        "devices need no token\n",
		        a->app, policy);
	ctl_rows_free(rows);
	if (r->c->json) {
		printf("{\"token\":\"%s\",\"expires\":%llu}\n", tok, (unsigned long long)expiry);
	} else {
		printf("%s\n", tok);
	}
	return CTL_EXIT_OK;
}

static int app_list(struct app_run *r)
{
	struct ctl_rows *rows = NULL;

	if (ctl_appsql_list(r->db, r->c->app.show_secret, &rows, r->err, sizeof r->err) < 0)
		return db_fail(r);
	if (r->c->json) {
		fputs("{\"apps\":", stdout);
		ctl_out_json_array(stdout, rows);
		fputs("}\n", stdout);
	} else if (rows->nrows == 0) {
		puts("(no apps: xpushctl app add APP)");
	} else {
		ctl_out_table(stdout, rows);
	}
	ctl_rows_free(rows);
	return CTL_EXIT_OK;
}

static int app_grant(struct app_run *r, int revoke)
{
	const struct ctl_app *a = &r->c->app;
	struct ctl_rows *rows = NULL;
	int app, role, changed;

	if (ctl_appsql_grant(r->db, a->app, a->role, revoke, &rows, r->err, sizeof r->err) < 0)
		return db_fail(r);
	app = strcmp(ctl_rows_get(rows, 0, 0), "t") == 0;
	role = strcmp(ctl_rows_get(rows, 0, 1), "t") == 0;
	changed = atoi(ctl_rows_get(rows, 0, 2)) > 0;
	ctl_rows_free(rows);
	if (!app)
		return no_app(r, a->app);
	if (!role) {
		char msg[160];
		snprintf(msg, sizeof msg, "no role %.80s", a->role);
		return fail(r, CTL_EXIT_NOT_FOUND, msg);
	}
	if (r->c->json)
		printf("{\"app\":\"%s\",\"producer\":", a->app);
	if (r->c->json) {
		ctl_out_json_str(stdout, a->role);
		printf(",\"changed\":%s}\n", changed ? "true" : "false");
	} else {
		printf("%s ", revoke ? (changed ? "revoked:" : "was not granted:")
		                     : (changed ? "granted:" : "already granted:"));
		ctl_out_text(stdout, a->role);
		printf(" %s app %s\n", revoke ? "may no longer enqueue for" : "may enqueue for",
		       a->app);
	}
	return CTL_EXIT_OK;
}

static int device_unregister(struct app_run *r)
{
	struct ctl_rows *rows = NULL;

	if (ctl_appsql_unregister(r->db, &r->c->device, &rows, r->err, sizeof r->err) < 0)
		return db_fail(r);
	if (r->c->json) {
		fputs("{\"unregistered\":", stdout);
		ctl_out_json_array(stdout, rows);
		fputs("}\n", stdout);
	} else if (rows->nrows == 0) {
		puts("(no registered device matches: nothing unregistered)");
	} else {
		ctl_out_table(stdout, rows);
	}
	ctl_rows_free(rows);
	return CTL_EXIT_OK;
}

/* ---- watch ------------------------------------------------------------- */

struct seen_ent {
	long long nid, dev;
	uint64_t sig;
	double t;
	int used;
};

struct seen_tab {
	struct seen_ent *e;
	size_t cap, n;
};

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (h ^ 0xff) * 1099511628211ull;
}

static struct seen_ent *seen_slot(struct seen_tab *t, long long nid, long long dev)
{
	size_t i = (size_t)(((uint64_t)nid * 0x9e3779b97f4a7c15ull) ^ (uint64_t)dev) & (t->cap - 1);

	while (t->e[i].used && !(t->e[i].nid == nid && t->e[i].dev == dev))
		i = (i + 1) & (t->cap - 1);
	return &t->e[i];
}

/* Keep the table at most half full: drop rows not changed since cutoff, and
 * grow if that is not enough. -1 on OOM. */
static int seen_room(struct seen_tab *t, double cutoff)
{
	struct seen_tab nt;

	if (t->e && (t->n + 1) * 2 <= t->cap)
		return 0;
	nt.cap = t->cap ? t->cap : 1024;
	nt.n = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].used && t->e[i].t >= cutoff)
			nt.n++;
	while ((nt.n + 1) * 2 > nt.cap)
		nt.cap *= 2;
	if (!(nt.e = calloc(nt.cap, sizeof *nt.e)))
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].used && t->e[i].t >= cutoff)
			*seen_slot(&nt, t->e[i].nid, t->e[i].dev) = t->e[i];
	free(t->e);
	*t = nt;
	return 0;
}

/* The columns printed (the rest, device_id and epoch, are the watch's own). */
#define WATCH_SHOWN 10

static void print_change(const struct app_run *r, const struct ctl_rows *rows, int i)
{
	if (r->c->json) {
		putchar('{');
		for (int c = 0; c < WATCH_SHOWN; c++) {
			if (c)
				putchar(',');
			ctl_out_json_str(stdout, rows->names[c]);
			putchar(':');
			ctl_out_json_cell(stdout, rows, i, c);
		}
		puts("}");
	} else {
		for (int c = 0; c < WATCH_SHOWN; c++) {
			const char *v = ctl_rows_get(rows, i, c);
			if (!v)
				continue;
			if (c)
				printf(" %s=", rows->names[c]);
			ctl_out_text(stdout, v);
		}
		putchar('\n');
	}
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int watch(struct app_run *r)
{
	const struct ctl_watch *w = &r->c->watch;
	struct seen_tab tab = { NULL, 0, 0 };
	struct ctl_rows *rows = NULL;
	long long from = w->id ? w->id : w->from_id, printed = 0;
	double since = 0, deadline = w->timeout_s ? now_s() + (double)w->timeout_s : 0;
	int code = CTL_EXIT_OK;

	if (!from) {
		if (ctl_appsql_next_id(r->db, &rows, r->err, sizeof r->err) < 0)
			return db_fail(r);
		from = atoll(ctl_rows_get(rows, 0, 0));
		ctl_rows_free(rows);
		/* Where "from now on" begins; a script may wait for this line. */
		fprintf(stderr, "xpushctl: watch: following notifications from id %lld\n", from);
	}
	for (;;) {
		double top = since;
		if (ctl_appsql_watch(r->db, from, w, since > 0 ? since - WATCH_OVERLAP_S : 0, &rows,
		                     r->err, sizeof r->err) < 0) {
			code = db_fail(r);
			break;
		}
		for (int i = 0; i < rows->nrows && code == CTL_EXIT_OK; i++) {
			long long nid = atoll(ctl_rows_get(rows, i, 1));
			long long dev = atoll(ctl_rows_get(rows, i, 10));
			double t = atof(ctl_rows_get(rows, i, 11));
			uint64_t sig = 1469598103934665603ull;
			for (int c = 5; c < WATCH_SHOWN; c++)
				sig = fnv(sig, ctl_rows_get(rows, i, c));
			if (t > top)
				top = t;
			if (seen_room(&tab, since - 2 * WATCH_OVERLAP_S) < 0) {
				code = fail(r, CTL_EXIT_RUNTIME, "out of memory");
				break;
			}
			struct seen_ent *e = seen_slot(&tab, nid, dev);
			if (e->used && e->sig == sig)
				continue;
			if (!e->used)
				tab.n++;
			*e = (struct seen_ent){ nid, dev, sig, t, 1 };
			print_change(r, rows, i);
			if (w->count && ++printed >= w->count)
				code = -1; /* done */
		}
		ctl_rows_free(rows);
		since = top;
		if (code != CTL_EXIT_OK)
			break;
		if (deadline && now_s() >= deadline) {
			if (w->count) {
				char msg[120];
				snprintf(msg, sizeof msg,
				         "timed out after %llds with %lld of %lld changes",
				         w->timeout_s, printed, w->count);
				code = fail(r, CTL_EXIT_TIMEOUT, msg);
			}
			break;
		}
		struct timespec ts = { (time_t)(w->interval_ms / 1000),
			               (long)(w->interval_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	free(tab.e);
	return code < 0 ? CTL_EXIT_OK : code;
}

int ctl_app_run(struct ctl_db *db, const struct ctl_cmd *c, const char *what)
{
	struct app_run r = { db, c, what, "" };

	if (c->cmd == CTL_CMD_DEVICE)
		return device_unregister(&r);
	if (c->cmd == CTL_CMD_WATCH)
		return watch(&r);
	switch (c->app.action) {
	case CTL_APP_ADD:
		return app_add(&r);
	case CTL_APP_POLICY:
		return app_policy(&r);
	case CTL_APP_TOKEN:
		return app_token(&r);
	case CTL_APP_LIST:
		return app_list(&r);
	case CTL_APP_GRANT:
		return app_grant(&r, 0);
	case CTL_APP_REVOKE:
		return app_grant(&r, 1);
	default:
		return fail(&r, CTL_EXIT_USAGE, "no action");
	}
}
