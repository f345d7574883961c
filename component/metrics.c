/* metrics: rendering of xp_stats and the /metrics HTTP endpoint. The HTTP
 * server is libmicrohttpd in external-epoll mode: its epoll fd sits in
 * xpushd's loop and MHD_run() is called when it is readable and once a
 * second for its timeouts. Only GET /metrics and GET /healthz are served;
 * anything else is 404/405. Listens where told (the docs say: loopback). */
#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double bucket_s[METRICS_LATENCY_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600,
};

void metrics_stats_init(struct xp_stats *s)
{
	memset(s, 0, sizeof *s);
	s->awaiting_fanout = s->queued = s->in_flight = s->db_failed = s->db_expired = -1;
	s->devices_online = s->devices_registered = s->oldest_queued_s = -1;
	s->stuck = s->devices_silent = s->db_exporter = -1;
}

void metrics_observe_latency(struct xp_stats *s, int64_t latency_ms)
{
	double v = latency_ms < 0 ? 0 : (double)latency_ms / 1000.0;
	int i;

	for (i = 0; i < METRICS_LATENCY_BUCKETS && v > bucket_s[i]; i++)
		;
	s->latency_buckets[i]++;
	s->latency_sum_s += v;
	s->latency_count++;
}

#define TRY(x) \
	do { \
		if ((x) < 0) \
			return -1; \
	} while (0)

static int counter(struct xbuf *o, const char *name, const char *help, uint64_t v)
{
	return xbuf_printf(o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	                   (unsigned long long)v);
}

static int gauge(struct xbuf *o, const char *name, const char *help, int64_t v)
{
	if (v < 0)
		return 0; /* not known yet: absent rather than wrong */
	return xbuf_printf(o, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name,
	                   (long long)v);
}

static int render_db_gauges(const struct xp_stats *s, struct xbuf *o);
static int render_latency(const struct xp_stats *s, struct xbuf *o);

int metrics_render(const struct xp_stats *s, struct xbuf *o)
{
	TRY(counter(o, "xpush_notifications_sent_total", "Notification stanzas sent to devices.",
	            s->sent));
	TRY(counter(o, "xpush_notifications_retried_total",
	            "Sends that were not the first attempt.", s->retried));
	TRY(counter(o, "xpush_acks_total", "Device acks recorded in the ledger.", s->acked));
	TRY(counter(o, "xpush_acks_refused_total",
	            "Acks refused (not the device's own notification).", s->acks_refused));
	TRY(counter(o, "xpush_nacks_total", "IQ errors for notifications (device gone).",
	            s->nacks));
	TRY(counter(o, "xpush_retracts_sent_total", "Retract stanzas sent.", s->retracts));
	TRY(counter(o, "xpush_deliveries_expired_total",
	            "Ledger rows this instance marked expired.", s->expired));
	TRY(counter(o, "xpush_deliveries_failed_total", "Ledger rows this instance marked failed.",
	            s->failed));
	TRY(counter(o, "xpush_registrations_total", "Device registrations.", s->registers));
	TRY(counter(o, "xpush_unregistrations_total", "Device unregistrations.", s->unregisters));
	TRY(counter(o, "xpush_bad_requests_total", "Malformed or over-limit requests refused.",
	            s->bad_requests));
	TRY(counter(o, "xpush_throttled_total", "Stanzas refused by rate_per_jid.", s->throttled));
	TRY(counter(o, "xpush_probes_total", "Pings sent to sessions whose sends went unacked.",
	            s->probes));
	TRY(counter(o, "xpush_probes_alive_total", "Probes answered: the session is alive.",
	            s->probes_alive));
	TRY(counter(o, "xpush_probes_gone_total",
	            "Probes answered with an error (a bounce, or a client without XEP-0199).",
	            s->probes_gone));
	TRY(counter(o, "xpush_devices_silenced_total",
	            "Devices made silent: a probe went unanswered.", s->silenced));
	TRY(counter(o, "xpush_deliveries_requeued_total",
	            "Sent rows requeued by the sweep without a strike.", s->requeued));
	TRY(counter(o, "xpush_xmpp_connects_total", "Component handshakes completed.",
	            s->xmpp_connects));
	TRY(counter(o, "xpush_postgres_connects_total", "Postgres sessions established.",
	            s->pg_connects));
	TRY(gauge(o, "xpush_xmpp_connected", "1 if the component stream is up.", s->xmpp_up));
	TRY(gauge(o, "xpush_postgres_connected", "1 if the Postgres session is up.", s->pg_up));
	TRY(gauge(o, "xpush_database_gauges_exporter",
	          "1 if this instance exports the database-wide gauges (one instance does).",
	          s->db_exporter));
	if (s->db_exporter == 1)
		TRY(render_db_gauges(s, o));
	return render_latency(s, o);
}

/* push.queue_health: the same for every instance of a database. */
static int render_db_gauges(const struct xp_stats *s, struct xbuf *o)
{
	TRY(gauge(o, "xpush_queue_awaiting_fanout",
	          "Notifications not yet expanded into the ledger.", s->awaiting_fanout));
	TRY(gauge(o, "xpush_queue_queued", "Ledger rows waiting for their device.", s->queued));
	TRY(gauge(o, "xpush_queue_in_flight", "Ledger rows sent and not yet acked.", s->in_flight));
	TRY(gauge(o, "xpush_queue_failed", "Ledger rows in state failed.", s->db_failed));
	TRY(gauge(o, "xpush_queue_expired", "Ledger rows in state expired.", s->db_expired));
	TRY(gauge(o, "xpush_queue_oldest_queued_seconds", "Age of the oldest queued row.",
	          s->oldest_queued_s));
	TRY(gauge(o, "xpush_devices_online", "Devices online.", s->devices_online));
	TRY(gauge(o, "xpush_devices_registered", "Devices registered.", s->devices_registered));
	TRY(gauge(o, "xpush_devices_silent", "Devices offline because a probe went unanswered.",
	          s->devices_silent));
	TRY(gauge(
		o, "xpush_queue_stuck",
		"Queued rows an idle online device has waited more than a minute for (must be 0).",
		s->stuck));
	return 0;
}

static int render_latency(const struct xp_stats *s, struct xbuf *o)
{
	uint64_t cum = 0;

	TRY(xbuf_puts(
		o,
		"# HELP xpush_delivery_latency_seconds From INSERT to the device's ack recorded.\n"
		"# TYPE xpush_delivery_latency_seconds histogram\n"));
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
		cum += s->latency_buckets[i];
		TRY(xbuf_printf(o, "xpush_delivery_latency_seconds_bucket{le=\"%g\"} %llu\n",
		                bucket_s[i], (unsigned long long)cum));
	}
	cum += s->latency_buckets[METRICS_LATENCY_BUCKETS];
	TRY(xbuf_printf(o,
	                "xpush_delivery_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
	                "xpush_delivery_latency_seconds_sum %.6f\n"
	                "xpush_delivery_latency_seconds_count %llu\n",
	                (unsigned long long)cum, s->latency_sum_s,
	                (unsigned long long)s->latency_count));
	return 0;
}

struct metrics {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	struct loop_io io;
	struct loop_timer tick;
	const struct xp_stats *stats;
	metrics_ready_fn ready;
	void *ready_ud;
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code, const char *type,
                               const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
	                                                         MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
	struct metrics *m = cls;
	struct xbuf body = XBUF_INIT;
	enum MHD_Result rc;

	(void)version;
	(void)upload;
	if (*upload_size)
		return respond(c, 413, "text/plain", "no body expected\n", 17);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond(c, 405, "text/plain", "GET only\n", 9);
	if (strcmp(url, "/healthz") == 0) {
		char why[160], text[192];
		int n;
		if (m->ready(m->ready_ud, why, sizeof why))
			return respond(c, 200, "text/plain", "ready\n", 6);
		n = snprintf(text, sizeof text, "not ready: %s\n", why);
		return respond(c, 503, "text/plain", text, (size_t)n);
	}
	if (strcmp(url, "/metrics") != 0)
		return respond(c, 404, "text/plain", "try /metrics or /healthz\n", 25);
	(void)req_cls;
	if (metrics_render(m->stats, &body) < 0) {
		xbuf_free(&body);
		return respond(c, 500, "text/plain", "out of memory\n", 14);
	}
	rc = respond(c, 200, "text/plain; version=0.0.4", body.data, body.len);
	xbuf_free(&body);
	return rc;
}

static void on_io(struct loop_io *io, uint32_t events)
{
	struct metrics *m = io->ud;

	(void)events;
	MHD_run(m->mhd);
}

static void on_tick(struct loop_timer *t)
{
	struct metrics *m = t->ud;

	MHD_run(m->mhd); /* connection timeouts */
	loop_timer_arm(&m->tick, 1000);
}

struct metrics *metrics_start(struct loop *l, const char *address, uint16_t port,
                              const struct xp_stats *s, metrics_ready_fn ready, void *ready_ud,
                              const char **err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct metrics *m;
	const union MHD_DaemonInfo *info;

	*err = NULL;
	if (port == 0)
		return NULL;
	if (inet_pton(AF_INET, address, &sin.sin_addr) != 1) {
		*err = "metrics_address: not an IPv4 address";
		return NULL;
	}
	m = calloc(1, sizeof *m);
	if (!m) {
		*err = "out of memory";
		return NULL;
	}
	m->loop = l;
	m->stats = s;
	m->ready = ready;
	m->ready_ud = ready_ud;
	m->io.fd = -1;
	m->io.fn = on_io;
	m->io.ud = m;
	m->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, port, NULL, NULL, on_request,
	                          m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (!m->mhd) {
		free(m);
		*err = "metrics_port: cannot listen (in use?)";
		return NULL;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || loop_io_watch(l, &m->io, info->epoll_fd, EPOLLIN) < 0) {
		MHD_stop_daemon(m->mhd);
		free(m);
		*err = "metrics: cannot add the HTTP server to the event loop";
		return NULL;
	}
	loop_timer_init(l, &m->tick, on_tick, m);
	loop_timer_arm(&m->tick, 1000);
	return m;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	loop_io_unwatch(m->loop, &m->io);
	loop_timer_remove(m->loop, &m->tick);
	MHD_stop_daemon(m->mhd);
	free(m);
}
