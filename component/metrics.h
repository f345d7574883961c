/* metrics: xpushd's counters and its Prometheus /metrics endpoint. The
 * daemon bumps plain counters in struct xp_stats; this module renders them
 * in the text exposition format and serves them with libmicrohttpd driven by
 * xpushd's own loop (no thread). Gauges that live in Postgres (queue depth,
 * devices online) are refreshed by the daemon and only cached here. */
#ifndef XPUSH_METRICS_H
#define XPUSH_METRICS_H

#include <stdint.h>
#include "loop.h"
#include "xbuf.h"

#define METRICS_LATENCY_BUCKETS 15

struct xp_stats {
	uint64_t sent, retried, acked, acks_refused, nacks, retracts, expired, failed;
	uint64_t registers, unregisters, bad_requests, throttled;
	uint64_t xmpp_connects, pg_connects;
	/* probes of sessions whose sends went unacked: pings sent, answered
	 * (alive), answered with an error; devices made silent; rows requeued by
	 * the sweep */
	uint64_t probes, probes_alive, probes_gone, silenced, requeued;
	int xmpp_up, pg_up;
	/* delivery latency, INSERT to ack recorded */
	uint64_t latency_buckets[METRICS_LATENCY_BUCKETS + 1]; /* last: +Inf */
	double latency_sum_s;
	uint64_t latency_count;
	/* from push.queue_health; -1 = not known yet */
	int64_t awaiting_fanout, queued, in_flight, db_failed, db_expired;
	int64_t devices_online, devices_registered, oldest_queued_s;
	int64_t stuck, devices_silent;
	/* 1: this instance exports the database-wide gauges above (gauges.h);
	 * 0: another one does (they are left out here); -1: not known yet */
	int64_t db_exporter;
};

void metrics_stats_init(struct xp_stats *s);
void metrics_observe_latency(struct xp_stats *s, int64_t latency_ms);
/* Append the exposition text. 0 or -1 on OOM. */
__attribute__((warn_unused_result)) int metrics_render(const struct xp_stats *s, struct xbuf *out);

/* Is the daemon ready? 1, or 0 with why[] saying what is missing. */
typedef int (*metrics_ready_fn)(void *ud, char *why, size_t len);

struct metrics;
/* Serve GET /metrics and GET /healthz (200 "ready", or 503 "not ready: "
 * and the reason, from ready()) on address:port (port 0: no endpoint,
 * returns NULL with *err = NULL). On failure returns NULL and sets *err to a
 * message. */
struct metrics *metrics_start(struct loop *l, const char *address, uint16_t port,
                              const struct xp_stats *s, metrics_ready_fn ready, void *ready_ud,
                              const char **err);
void metrics_stop(struct metrics *m);

#endif
