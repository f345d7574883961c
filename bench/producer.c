/* producer: the benchmarks' producer, a libpq client that INSERTs into
 * push.notifications exactly as an application would, and records when each
 * INSERT had committed (CLOCK_REALTIME right after the autocommit/COMMIT
 * returned: an upper bound of the commit instant, within one local round trip).
 *
 *   --bulk: devices*per-device notifications (one per device per round, devices
 *     interleaved), --batch rows per INSERT ... SELECT transaction, as fast as
 *     Postgres takes them. Prints first/last commit times.
 *   --rate R --total K: K single-row INSERTs, one every 1/R s (open loop, on
 *     --conns connections, 16 by default), each to the next device in turn.
 *     Logs "id dev t_before_ns t_commit_ns".
 *   --broadcast: one INSERT with broadcast = true. Logs the same line (dev -1).
 *
 * Title and body match basesend's, so both sides put the same bytes on the wire. */
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define MAX_CONNS 64

static PGconn *db;

static void die_pg(const char *what, PGresult *r)
{
	fprintf(stderr, "producer: %s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(db));
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conninfo", 1, NULL, 'c' }, { "bulk", 0, NULL, 'B' }, { "broadcast", 0, NULL, 'X' },
		{ "devices", 1, NULL, 'n' }, { "first", 1, NULL, 'f' }, { "per-device", 1, NULL, 'M' },
		{ "batch", 1, NULL, 'b' }, { "rate", 1, NULL, 'R' }, { "total", 1, NULL, 'T' },
		{ "app", 1, NULL, 'A' }, { "prefix", 1, NULL, 'P' }, { "domain", 1, NULL, 'd' },
		{ "out", 1, NULL, 'o' }, { "title", 1, NULL, 't' }, { "body", 1, NULL, 'y' },
		{ "conns", 1, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conninfo = "", *app = "bench", *prefix = "u", *domain = "xpush.test";
	const char *out_path = NULL, *title = "Bench", *body = "benchmark notification body";
	int opt, bulk = 0, broadcast = 0, devices = 0, first = 0, per_device = 1, batch = 1000;
	int conns = 16;
	double rate = 0;
	long total = 0;
	FILE *out = NULL;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conninfo = optarg; break;
		case 'B': bulk = 1; break;
		case 'X': broadcast = 1; break;
		case 'n': devices = atoi(optarg); break;
		case 'f': first = atoi(optarg); break;
		case 'M': per_device = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'R': rate = atof(optarg); break;
		case 'T': total = atol(optarg); break;
		case 'A': app = optarg; break;
		case 'P': prefix = optarg; break;
		case 'd': domain = optarg; break;
		case 'o': out_path = optarg; break;
		case 't': title = optarg; break;
		case 'y': body = optarg; break;
		case 'k': conns = atoi(optarg); break;
		default: return 2;
		}
	}
	if (conns < 1 || conns > MAX_CONNS)
		conns = 16;
	if (!broadcast && (devices <= 0 || (!bulk && (rate <= 0 || total <= 0)))) {
		fprintf(stderr, "usage: producer --conninfo C (--bulk --devices D --per-device M"
		                " [--batch B] | --rate R --total K --devices D | --broadcast) [--out F]\n");
		return 2;
	}
	db = PQconnectdb(conninfo);
	if (PQstatus(db) != CONNECTION_OK)
		die_pg("connect", NULL);
	if (out_path && !(out = fopen(out_path, "w"))) {
		perror("producer: --out");
		return 1;
	}

	if (bulk) {
		/* Row g (0-based) goes to device first + g % devices: rounds of one per device. */
		const char *sql =
			"INSERT INTO push.notifications (app, to_jid, title, body)"
			" SELECT $1, $2 || ($6::int + g % $7::int) || '@' || $3, $4, $5"
			" FROM generate_series($8::bigint, $9::bigint) g";
		long n = (long)devices * per_device;
		int64_t t_first = 0, t_last = 0, t_start = now_real_ns();
		char s_first[16], s_dev[16], s_lo[24], s_hi[24];
		snprintf(s_first, sizeof s_first, "%d", first);
		snprintf(s_dev, sizeof s_dev, "%d", devices);
		for (long lo = 0; lo < n; lo += batch) {
			long hi = lo + batch - 1 < n - 1 ? lo + batch - 1 : n - 1;
			snprintf(s_lo, sizeof s_lo, "%ld", lo);
			snprintf(s_hi, sizeof s_hi, "%ld", hi);
			const char *p[] = { app, prefix, domain, title, body, s_first, s_dev, s_lo, s_hi };
			PGresult *r = PQexecParams(db, sql, 9, NULL, p, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				die_pg("bulk insert", r);
			PQclear(r);
			t_last = now_real_ns();
			if (!t_first)
				t_first = t_last;
		}
		printf("rows=%ld start_ns=%lld first_commit_ns=%lld last_commit_ns=%lld insert_s=%.3f\n", n,
		       (long long)t_start, (long long)t_first, (long long)t_last, (t_last - t_start) / 1e9);
	} else if (broadcast) {
		const char *p[] = { app, title, body };
		int64_t t0 = now_real_ns();
		PGresult *r = PQexecParams(db,
			"INSERT INTO push.notifications (app, broadcast, title, body)"
			" VALUES ($1, true, $2, $3) RETURNING id", 3, NULL, p, NULL, NULL, 0);
		int64_t t1 = now_real_ns();
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			die_pg("broadcast insert", r);
		printf("id=%s commit_ns=%lld\n", PQgetvalue(r, 0, 0), (long long)t1);
		if (out)
			fprintf(out, "%s -1 %lld %lld\n", PQgetvalue(r, 0, 0), (long long)t0, (long long)t1);
		PQclear(r);
	} else {
		/* Open loop: one INSERT every 1/rate s on the next idle connection of
		 * --conns; a single connection caps at one commit round trip (with its
		 * WAL flush) at a time, far below the rates B2 needs. */
		const char *sql = "INSERT INTO push.notifications (app, to_jid, title, body)"
		                  " VALUES ($1, $2, $3, $4) RETURNING id";
		PGconn *c[MAX_CONNS];
		int64_t sent_at[MAX_CONNS];
		int dev_of[MAX_CONNS], busy[MAX_CONNS] = { 0 }, nbusy = 0;
		int64_t interval = (int64_t)(1e9 / rate), due = now_real_ns(), t_start = due;
		long late = 0, k = 0, done = 0;
		for (int i = 0; i < conns; i++) {
			c[i] = PQconnectdb(conninfo);
			if (PQstatus(c[i]) != CONNECTION_OK)
				die_pg("connect", NULL);
			PGresult *r = PQprepare(c[i], "ins", sql, 4, NULL);
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				die_pg("prepare", r);
			PQclear(r);
		}
		while (done < total) {
			int64_t now = now_real_ns();
			/* Send what is due, on idle connections. */
			while (k < total && now >= due && nbusy < conns) {
				int i = 0;
				while (busy[i])
					i++;
				char jid[256];
				int dev = first + (int)(k % devices);
				snprintf(jid, sizeof jid, "%s%d@%s", prefix, dev, domain);
				const char *p[] = { app, jid, title, body };
				if (now - due > interval)
					late++;
				sent_at[i] = now_real_ns();
				dev_of[i] = dev;
				if (!PQsendQueryPrepared(c[i], "ins", 4, p, NULL, NULL, 0))
					die_pg("send", NULL);
				busy[i] = 1;
				nbusy++;
				k++;
				due += interval;
			}
			/* Wait for a result or the next due time. */
			struct pollfd pf[MAX_CONNS];
			int timeout = -1;
			if (k < total && nbusy < conns) {
				int64_t w = due - now_real_ns();
				timeout = w <= 0 ? 0 : (int)(w / 1000000) + (w % 1000000 ? 1 : 0);
			}
			for (int i = 0; i < conns; i++)
				pf[i] = (struct pollfd){ .fd = busy[i] ? PQsocket(c[i]) : -1, .events = POLLIN };
			if (poll(pf, (nfds_t)conns, timeout) < 0 && errno != EINTR)
				die_pg("poll", NULL);
			for (int i = 0; i < conns; i++) {
				if (!busy[i] || !(pf[i].revents & (POLLIN | POLLERR | POLLHUP)))
					continue;
				if (!PQconsumeInput(c[i]))
					die_pg("read", NULL);
				while (busy[i] && !PQisBusy(c[i])) {
					PGresult *r = PQgetResult(c[i]);
					if (!r) {
						busy[i] = 0;
						nbusy--;
						done++;
						break;
					}
					int64_t t1 = now_real_ns();
					if (PQresultStatus(r) != PGRES_TUPLES_OK)
						die_pg("insert", r);
					if (out)
						fprintf(out, "%s %d %lld %lld\n", PQgetvalue(r, 0, 0), dev_of[i],
						        (long long)sent_at[i], (long long)t1);
					PQclear(r);
				}
			}
		}
		int64_t t_end = now_real_ns();
		for (int i = 0; i < conns; i++)
			PQfinish(c[i]);
		printf("rows=%ld seconds=%.3f rate=%.1f late=%ld conns=%d\n", total,
		       (t_end - t_start) / 1e9, total / ((t_end - t_start) / 1e9), late, conns);
	}
	if (out)
		fclose(out);
	PQfinish(db);
	return 0;
}
