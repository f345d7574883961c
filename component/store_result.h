/* store_result: one decoder per result kind (store_sql.h), from a PGresult
 * to the typed callback of store.h. Part of the store: only store.c calls
 * it, and PGresult goes no further. */
#ifndef XPUSH_STORE_RESULT_H
#define XPUSH_STORE_RESULT_H

#include <libpq-fe.h>

#include "store.h"
#include "store_sql.h"

/* A request's callback; the member set is the one its statement's kind
 * names (store_sql.h). */
union store_cb {
	store_count_fn count;
	store_nums_fn nums;
	store_rows_fn rows;
	store_claim_fn claim;
	store_fanout_fn fanout;
	store_app_fn app;
};

/* Decode res, a successful result of kind k, and call cb with err 0. -1 if
 * it cannot (out of memory, malformed): cb was not called. */
__attribute__((warn_unused_result)) int store_result_deliver(enum res_kind k, const PGresult *res,
                                                             union store_cb cb, void *ud);
/* Call cb with err STORE_FAILED and no data. */
void store_result_fail(enum res_kind k, union store_cb cb, void *ud);

#endif
