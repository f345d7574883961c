/* gauges: the refresh timer and the query's answer (gauges.h). */
#include "gauges.h"

#include <stdlib.h>

#include "log.h"

struct gauges {
	struct loop *loop;
	struct store *store;
	const struct config *cfg;
	struct xp_stats *st;
	struct loop_timer timer;
};

static void on_health(void *ud, int err, const int64_t *v, size_t n)
{
	struct gauges *g = ud;
	struct xp_stats *s = g->st;

	if (err || n < 11)
		return;
	if (s->db_exporter != v[0])
		log_info(v[0] ? "exporting the database gauges"
		              : "another instance exports the "
		                "database gauges",
		         NULL);
	s->db_exporter = v[0];
	s->awaiting_fanout = v[1];
	s->queued = v[2];
	s->in_flight = v[3];
	s->db_failed = v[4];
	s->db_expired = v[5];
	s->devices_online = v[6];
	s->devices_registered = v[7];
	s->oldest_queued_s = v[8];
	s->stuck = v[9];
	s->devices_silent = v[10];
}

static void on_timer(struct loop_timer *t)
{
	struct gauges *g = t->ud;

	loop_timer_arm(&g->timer, g->cfg->metrics_refresh_ms);
	if (store_is_ready(g->store) && store_health(g->store, on_health, g) < 0)
		log_debug("health query not queued", NULL);
}

struct gauges *gauges_new(struct loop *l, struct store *store, const struct config *cfg,
                          struct xp_stats *st, uint64_t first_ms)
{
	struct gauges *g = calloc(1, sizeof *g);

	if (!g)
		return NULL;
	g->loop = l;
	g->store = store;
	g->cfg = cfg;
	g->st = st;
	loop_timer_init(l, &g->timer, on_timer, g);
	loop_timer_arm(&g->timer, first_ms);
	return g;
}

void gauges_store_down(struct gauges *g)
{
	if (g && g->st->db_exporter > 0)
		g->st->db_exporter = 0;
}

void gauges_free(struct gauges *g)
{
	if (!g)
		return;
	loop_timer_remove(g->loop, &g->timer);
	free(g);
}
