/* hbnet: per-network heartbeat glue (see hbnet.h). Owns the choice of the
 * ping interval, the learner of the current network and its persistence,
 * and the TCP options backing the heartbeat up. It does not send stanzas
 * (session.c pings) nor decide reconnects (client.c). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "client_impl.h"

static void load_key(struct xpush_client *c, const char *key)
{
	struct hbnet *h = &c->hbn;
	char q[300];
	int known = 0;

	snprintf(h->key, sizeof h->key, "%s", key);
	if (h->store && hbstore_get(h->store, key, &h->st)) {
		nl_clamp(&h->st, &h->p);
		known = 1;
	} else {
		nl_init(&h->st, &h->p);
	}
	if (h->adaptive)
		clog_printf(
			&c->log, XPUSH_LOG_INFO,
			"topic=heartbeat msg=network network=%s known=%d interval_ms=%u phase=%s "
			"good_ms=%u bad_ms=%u",
			clog_quote(q, sizeof q, key), known, (unsigned)h->st.interval_ms,
			nl_phase_name(h->st.phase), (unsigned)h->st.good_ms,
			(unsigned)h->st.bad_ms);
}

int hbnet_open(struct xpush_client *c)
{
	struct hbnet *h = &c->hbn;
	char err[512], q[600];

	h->adaptive = c->cfg.heartbeat_adaptive && c->cfg.heartbeat_ms != 0;
	h->p.min_ms = c->cfg.heartbeat_min_ms;
	h->p.max_ms = c->cfg.heartbeat_max_ms;
	h->p.step_ms = c->cfg.heartbeat_step_ms;
	h->p.step_after = c->cfg.heartbeat_step_after;
	h->p.backoff_after = c->cfg.heartbeat_backoff_after;
	h->p.probe_after = c->cfg.heartbeat_probe_after;
	pthread_mutex_init(&h->mu, NULL);
	atomic_init(&h->has_pending, 0);
	if (h->adaptive && hbstore_open(c->cfg.state_dir, &h->store, err, sizeof err) < 0) {
		if (strcmp(err, "out of memory") == 0)
			return XPUSH_ENOMEM;
		clog_printf(
			&c->log, XPUSH_LOG_WARN,
			"topic=heartbeat msg=table_unreadable reason=%s (learning from scratch)",
			clog_quote(q, sizeof q, err));
		h->store = NULL;
	}
	if (h->store && hbstore_damaged(h->store))
		clog_printf(&c->log, XPUSH_LOG_WARN,
		            "topic=heartbeat msg=damaged_lines_skipped count=%zu",
		            hbstore_damaged(h->store));
	load_key(c, c->cfg.network ? c->cfg.network : "default");
	return XPUSH_OK;
}

void hbnet_close(struct xpush_client *c)
{
	hbstore_close(c->hbn.store);
	c->hbn.store = NULL;
	pthread_mutex_destroy(&c->hbn.mu);
}

uint32_t hbnet_interval(const struct xpush_client *c)
{
	return c->hbn.adaptive ? c->hbn.st.interval_ms : c->cfg.heartbeat_ms;
}

void hbnet_start(struct xpush_client *c, uint64_t now)
{
	hb_start(&c->hb, hbnet_interval(c), c->cfg.heartbeat_timeout_ms, now);
	clog_printf(&c->log, XPUSH_LOG_DEBUG,
	            "topic=heartbeat msg=start interval_ms=%u timeout_ms=%u",
	            (unsigned)hbnet_interval(c), (unsigned)c->cfg.heartbeat_timeout_ms);
}

void hbnet_activity(struct xpush_client *c, uint64_t now)
{
	hb_activity(&c->hb, now);
}

static void save(struct xpush_client *c)
{
	struct hbnet *h = &c->hbn;
	char err[512], q[600];

	if (!h->store)
		return;
	if (hbstore_put(h->store, h->key, &h->st, (int64_t)time(NULL), err, sizeof err) < 0) {
		if (!h->store_warned)
			clog_printf(&c->log, XPUSH_LOG_WARN,
			            "topic=heartbeat msg=table_not_saved reason=%s",
			            clog_quote(q, sizeof q, err));
		h->store_warned = 1;
	}
}

static void learned(struct xpush_client *c, enum nl_change ch, uint32_t tested, int ok)
{
	struct hbnet *h = &c->hbn;
	char q[300];

	if (ch == NL_SAME) {
		clog_printf(
			&c->log, XPUSH_LOG_DEBUG,
			"topic=heartbeat msg=%s tested_ms=%u interval_ms=%u ok_streak=%u fail_streak=%u",
			ok ? "pong" : "missed", (unsigned)tested, (unsigned)h->st.interval_ms,
			(unsigned)h->st.ok_streak, (unsigned)h->st.fail_streak);
		return;
	}
	clog_printf(&c->log, XPUSH_LOG_INFO,
	            "topic=heartbeat msg=interval network=%s change=%s interval_ms=%u tested_ms=%u "
	            "phase=%s good_ms=%u bad_ms=%u",
	            clog_quote(q, sizeof q, h->key), nl_change_name(ch),
	            (unsigned)h->st.interval_ms, (unsigned)tested, nl_phase_name(h->st.phase),
	            (unsigned)h->st.good_ms, (unsigned)h->st.bad_ms);
	save(c);
}

void hbnet_pong(struct xpush_client *c, uint64_t now)
{
	uint32_t tested = hb_pong(&c->hb, now);
	enum nl_change ch;

	if (!c->hbn.adaptive || !tested) {
		clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=heartbeat msg=pong tested_ms=%u",
		            (unsigned)tested);
		return;
	}
	ch = nl_success(&c->hbn.st, &c->hbn.p, tested);
	learned(c, ch, tested, 1);
	if (ch != NL_SAME)
		hb_set_interval(&c->hb, c->hbn.st.interval_ms, now);
}

void hbnet_dead(struct xpush_client *c)
{
	uint32_t tested = hb_dead_tested(&c->hb);

	if (!c->hbn.adaptive || !tested)
		return;
	learned(c, nl_failure(&c->hbn.st, &c->hbn.p, tested), tested, 0);
}

int hbnet_take_pending(struct xpush_client *c)
{
	struct hbnet *h = &c->hbn;
	char key[HBSTORE_KEY_MAX + 1];

	if (!atomic_exchange(&h->has_pending, 0))
		return 0;
	pthread_mutex_lock(&h->mu);
	memcpy(key, h->pending, sizeof key);
	pthread_mutex_unlock(&h->mu);
	if (strcmp(key, h->key) == 0)
		return 0;
	load_key(c, key);
	return 1;
}

int hbnet_set_pending(struct xpush_client *c, const char *key)
{
	struct hbnet *h = &c->hbn;

	if (!cfg_text_ok(key, HBSTORE_KEY_MAX))
		return XPUSH_EINVAL;
	pthread_mutex_lock(&h->mu);
	snprintf(h->pending, sizeof h->pending, "%s", key);
	pthread_mutex_unlock(&h->mu);
	atomic_store(&h->has_pending, 1);
	return XPUSH_OK;
}

void hbnet_sockopts(struct xpush_client *c, int fd)
{
	uint32_t hb_max = c->hbn.adaptive ? c->cfg.heartbeat_max_ms : c->cfg.heartbeat_ms;
	uint32_t to = c->cfg.heartbeat_timeout_ms;
	unsigned int ut = 2 * to < 30000 ? 30000 : 2 * to;
	int on = 1, idle, intvl, cnt = 3;

	/* Unacked data (e.g. a heartbeat) on a dead path kills the socket in
	 * bounded time instead of tcp_retries2's ~15 minutes. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut);
	/* Keepalive probes only start after more idle time than any heartbeat
	 * interval: a backstop that costs no wake-up while heartbeats run. */
	idle = (int)(((uint64_t)(hb_max ? hb_max : 600000) + to) / 1000 + 1);
	if (idle > 32767)
		idle = 32767;
	intvl = (int)(to / 1000);
	if (intvl < 1)
		intvl = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}
