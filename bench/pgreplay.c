/* pgreplay: Postgres CPU per push of xpushd's own statements, without XMPP.
 *
 *   pgreplay path N DEVICES   N one-device pushes to DEVICES online devices (registered by the
 *                             caller as user1..DEVICES@example.org, app com.example.bench):
 *                             the producer's INSERTs (1,000 rows each), then xpushd's fan-out
 *                             (S_FANOUT) until nothing is left, the devices it names claimed
 *                             (S_CLAIM_DEVICES), and what was sent acked at once (S_ACK_BATCH)
 *   pgreplay floor N          the floor: 1,000-row INSERTs and 1,000-row ack UPDATEs into a
 *                             plain table with a primary key (created and dropped here)
 *   pgreplay broadcast N CHUNK  one broadcast to N registered offline devices (an app of its
 *                             own, created and removed here), fanned out CHUNK devices a call:
 *                             ledger rows per second (wall clock) and CPU per row
 *
 * The statements are xpushd's (component/store_sql.c), prepared as xpushd prepares them, on one
 * connection (libpq environment: PGHOST, PGPORT, PGUSER, PGDATABASE). The figure is the CPU time
 * of that connection's backend (utime + stime from /proc), so it holds on a busy machine where
 * statement wall time does not. Prints key=value lines, CPU in us per push. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_sql.h"

static PGconn *db;
static char backend_stat[64];

static void die(const char *what, const char *why)
{
	fprintf(stderr, "pgreplay: %s: %s\n", what, why);
	exit(1);
}

static PGresult *ok(PGresult *r, const char *what)
{
	ExecStatusType s = PQresultStatus(r);

	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK)
		die(what, PQresultErrorMessage(r));
	return r;
}

static void exec(const char *sql)
{
	PQclear(ok(PQexec(db, sql), sql));
}

/* CPU time of the backend in ms (utime + stime, clock ticks of 10 ms). */
static long cpu_ms(void)
{
	char buf[1024], *s, *save = NULL;
	FILE *f = fopen(backend_stat, "r");
	long v[16] = { 0 };
	int i = 0;

	if (!f || !fgets(buf, sizeof buf, f))
		die(backend_stat, "cannot read (Postgres must run on this machine)");
	fclose(f);
	s = strrchr(buf, ')');
	if (!s)
		die(backend_stat, "unexpected format");
	for (char *t = strtok_r(s + 2, " ", &save); t && i < 16; t = strtok_r(NULL, " ", &save))
		v[i++] = atol(t);
	return (v[11] + v[12]) * 10; /* fields 14 and 15: utime, stime */
}

static void prepare(int s)
{
	const struct stmt_def *d = &store_sql_stmts[s];

	PQclear(ok(PQprepare(db, d->name, d->sql, 0, NULL), d->name));
}

/* A growing string for array literals. */
struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			die("memory", "out of memory");
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* Append "x" to an array literal being built: "{" first, then elements. */
static void elem(struct buf *b, const char *x, int quote)
{
	put(b, b->len > 1 ? "," : "");
	if (quote)
		put(b, "\"");
	put(b, x);
	if (quote)
		put(b, "\"");
}

/* The notification, device and bare JID of row i of a claim-shaped result, for the ack. */
static void to_ack(struct buf *nid, struct buf *dev, struct buf *jid, const PGresult *r, int i)
{
	char bare[512];

	snprintf(bare, sizeof bare, "%s", PQgetvalue(r, i, 2));
	bare[strcspn(bare, "/")] = '\0';
	elem(nid, PQgetvalue(r, i, 0), 0);
	elem(dev, PQgetvalue(r, i, 1), 0);
	elem(jid, bare, 1);
}

static void path(long n, long devices)
{
	struct buf nid = { 0 }, dev = { 0 }, jid = { 0 }, claim = { 0 };
	long t0, t1, fan = 0, ack = 0, cl = 0, sent = 0, claimed = 0;
	/* Older xpushd fan-outs take (limit, chunk) and answer (touched, devices) only. */
	int fan_params = store_sql_stmts[S_FANOUT].nparams;
	char q[512];

	prepare(S_FANOUT);
	prepare(S_ACK_BATCH);
	prepare(S_CLAIM_DEVICES);
	t0 = cpu_ms();
	for (long i = 0; i < n; i += 1000) {
		snprintf(q, sizeof q,
		         "INSERT INTO push.notifications (app, to_jid, title, body)"
		         " SELECT 'com.example.bench', 'user' || (1 + g %% %ld) || '@example.org',"
		         " 'Bench', 'benchmark notification body' FROM generate_series(%ld, %ld) g",
		         devices, i, (i + 999 < n - 1 ? i + 999 : n - 1));
		exec(q);
	}
	t1 = cpu_ms();
	for (int guard = 0; guard < 1000000; guard++) {
		const char *fp[5] = { "256", "1000", "pgreplay", "30000", "16" };
		long a = cpu_ms(), b, touched = -1;
		PGresult *r = ok(PQexecPrepared(db, "xp_fanout", fan_params, fp, NULL, NULL, 0),
		                 "fan-out");
		int k = 0;

		nid.len = dev.len = jid.len = claim.len = 0;
		put(&nid, "{");
		put(&dev, "{");
		put(&jid, "{");
		put(&claim, "");
		for (int i = 0; i < PQntuples(r); i++) {
			int summary = PQnfields(r) == 2 || PQgetisnull(r, i, 0);
			int tc = PQnfields(r) == 2 ? 0 : 14;

			if (summary) {
				touched = atol(PQgetvalue(r, i, tc));
				put(&claim, PQgetvalue(r, i, tc + 1));
				continue;
			}
			to_ack(&nid, &dev, &jid, r, i);
			k++;
			sent++;
		}
		PQclear(r);
		b = cpu_ms();
		fan += b - a;
		if (claim.len > 2) {
			const char *cp[5] = { "pgreplay", "256", "30000", "16", claim.p };
			r = ok(PQexecPrepared(db, "xp_claim_devices", 5, cp, NULL, NULL, 0),
			       "claim");
			for (int i = 0; i < PQntuples(r); i++, k++)
				to_ack(&nid, &dev, &jid, r, i);
			claimed += PQntuples(r);
			PQclear(r);
			a = cpu_ms();
			cl += a - b;
			b = a;
		}
		put(&nid, "}");
		put(&dev, "}");
		put(&jid, "}");
		if (k) {
			const char *ap[3] = { nid.p, dev.p, jid.p };
			PQclear(ok(PQexecPrepared(db, "xp_ack_batch", 3, ap, NULL, NULL, 0),
			           "ack batch"));
		}
		ack += cpu_ms() - b;
		if (touched <= 0 && k == 0)
			break;
	}
	printf("pushes=%ld\nsent_by_fanout=%ld\nclaimed=%ld\n", n, sent, claimed);
	printf("insert_cpu_us=%.1f\nfanout_cpu_us=%.1f\nclaim_cpu_us=%.1f\nack_cpu_us=%.1f\n",
	       (t1 - t0) * 1000.0 / n, fan * 1000.0 / n, cl * 1000.0 / n, ack * 1000.0 / n);
	printf("cpu_us_per_push=%.1f\n", (t1 - t0 + fan + ack + cl) * 1000.0 / n);
	free(nid.p);
	free(dev.p);
	free(jid.p);
	free(claim.p);
}

/* Wall-clock microseconds. */
static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* One broadcast to n registered (offline) devices of their own app, fanned out by S_FANOUT
 * calls until done; the devices are removed afterwards. */
static void broadcast(long n, const char *chunk)
{
	char q[512];
	long t0, rows;
	long long w0, w1;
	PGresult *r;

	prepare(S_FANOUT);
	exec("DELETE FROM push.devices WHERE app = 'com.example.pgreplay'");
	snprintf(q, sizeof q,
	         "INSERT INTO push.devices (jid, app, device, online, last_seen)"
	         " SELECT 'b' || g || '@example.org', 'com.example.pgreplay', 'd', false, now()"
	         " FROM generate_series(1, %ld) g",
	         n);
	exec(q);
	exec("ANALYZE push.devices");
	exec("INSERT INTO push.notifications (app, broadcast, title)"
	     " VALUES ('com.example.pgreplay', true, 'to everyone')");
	exec("CHECKPOINT");
	t0 = cpu_ms();
	w0 = now_us();
	for (int guard = 0; guard < 1000000; guard++) {
		const char *fp[5] = { "256", chunk, "pgreplay", "30000", "16" };
		long touched = 0;

		r = ok(PQexecPrepared(db, "xp_fanout", store_sql_stmts[S_FANOUT].nparams, fp, NULL,
		                      NULL, 0),
		       "fan-out");
		for (int i = 0; i < PQntuples(r); i++)
			if (PQnfields(r) == 2 || PQgetisnull(r, i, 0))
				touched = atol(PQgetvalue(r, i, PQnfields(r) == 2 ? 0 : 14));
		PQclear(r);
		if (touched == 0)
			break;
	}
	w1 = now_us();
	r = ok(PQexec(db, "SELECT count(*) FROM push.deliveries d JOIN push.devices v"
	                  " ON v.id = d.device_id WHERE v.app = 'com.example.pgreplay'"),
	       "count");
	rows = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	printf("broadcast_devices=%ld\nbroadcast_rows=%ld\nbroadcast_s=%.2f\n", n, rows,
	       (w1 - w0) / 1e6);
	printf("broadcast_rows_per_s=%.0f\nbroadcast_cpu_us_per_row=%.2f\n",
	       rows / ((w1 - w0) / 1e6), (cpu_ms() - t0) * 1000.0 / (rows ? rows : 1));
	exec("DELETE FROM push.notifications WHERE app = 'com.example.pgreplay'");
	exec("DELETE FROM push.devices WHERE app = 'com.example.pgreplay'");
}

static void floor_(long n)
{
	char q[512];
	long t0;

	exec("DROP TABLE IF EXISTS public.pgreplay_floor");
	exec("CREATE TABLE public.pgreplay_floor (id bigint PRIMARY KEY, device integer NOT NULL,"
	     " title text, body text, created_at timestamptz NOT NULL DEFAULT now(),"
	     " acked_at timestamptz)");
	t0 = cpu_ms();
	for (long b = 0; b < n; b += 1000) {
		snprintf(
			q, sizeof q,
			"INSERT INTO public.pgreplay_floor (id, device, title, body) SELECT g, g %% 1000,"
			" 'Bench', 'benchmark notification body' FROM generate_series(%ld, %ld) g",
			b + 1, b + 1000);
		exec(q);
		snprintf(q, sizeof q,
		         "UPDATE public.pgreplay_floor SET acked_at = now() WHERE id = ANY (ARRAY("
		         "SELECT generate_series(%ld, %ld)))",
		         b + 1, b + 1000);
		exec(q);
	}
	printf("floor_cpu_us=%.2f\n", (cpu_ms() - t0) * 1000.0 / n);
	exec("DROP TABLE public.pgreplay_floor");
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 0, devices = argc > 3 ? atol(argv[3]) : 0;
	PGresult *r;

	if (argc < 3 || n <= 0 || (strcmp(argv[1], "path") == 0 && (argc < 4 || devices <= 0)) ||
	    (strcmp(argv[1], "broadcast") == 0 && (argc < 4 || devices <= 0)) ||
	    (strcmp(argv[1], "path") != 0 && strcmp(argv[1], "floor") != 0 &&
	     strcmp(argv[1], "broadcast") != 0)) {
		fprintf(stderr, "usage: pgreplay path N DEVICES | pgreplay floor N |"
		                " pgreplay broadcast DEVICES CHUNK\n");
		return 2;
	}
	db = PQconnectdb("");
	if (PQstatus(db) != CONNECTION_OK)
		die("connect", PQerrorMessage(db));
	r = ok(PQexec(db, "SELECT pg_backend_pid()"), "pid");
	snprintf(backend_stat, sizeof backend_stat, "/proc/%s/stat", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (strcmp(argv[1], "path") == 0)
		path(n, devices);
	else if (strcmp(argv[1], "broadcast") == 0)
		broadcast(n, argv[3]);
	else
		floor_(n);
	PQfinish(db);
	return 0;
}
