/* gauges: the database-wide gauges of /metrics (queue depth, devices online,
 * ...), read from push.queue_health every metrics_refresh_ms into the
 * daemon's xp_stats. They describe the database, which every instance
 * shares: only one instance at a time exports them (the one whose session
 * holds an advisory lock, taken by the refresh query), so dashboards that sum
 * over instances count them once; the others report
 * xpush_database_gauges_exporter 0 and leave them out. */
#ifndef XPUSH_GAUGES_H
#define XPUSH_GAUGES_H

#include "config.h"
#include "loop.h"
#include "metrics.h"
#include "store.h"

struct gauges;
/* Refresh into st every cfg->metrics_refresh_ms (read at each refresh, so a
 * reload takes effect), the first time after first_ms. NULL on OOM. */
struct gauges *gauges_new(struct loop *l, struct store *store, const struct config *cfg,
                          struct xp_stats *st, uint64_t first_ms);
/* The session ended: its advisory lock went with it. */
void gauges_store_down(struct gauges *g);
void gauges_free(struct gauges *g);

#endif
