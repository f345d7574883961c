/* store_sql: the statements xpushd prepares (defined in store_sql.c, which
 * reads as one document) and the shape of each one's result. Only the store
 * (store.c, store_result.c) and the unit tests include this. */
#ifndef XPUSH_STORE_SQL_H
#define XPUSH_STORE_SQL_H

enum stmt_id {
	S_FANOUT,
	S_CLAIM,
	S_CLAIM_RETRACT,
	S_RECLAIM,
	S_ACK,
	S_RETRACT_ACK,
	S_NACK,
	S_RETRACT_NACK,
	S_REGISTER,
	S_UNREGISTER,
	S_PRESENCE_DEV,
	S_PRESENCE_JID,
	S_UNAVAILABLE,
	S_FAIL,
	S_SWEEP,
	S_WAKE,
	S_NEXT_DUE,
	S_HEALTH,
	S_ACK_BATCH,
	S_CLAIM_DEVICES,
	S_PROBE,
	S_PROBE_ALIVE,
	S_PROBE_GONE,
	S_APP,
	S_UP_REGISTER,
	S_UP_REVOKE,
	S_COUNT
};

/* The shape of a statement's result, and so its callback (store.h) and its
 * decoder (store_result.c). SQL NULL in a number is -1. */
enum res_kind {
	RES_COUNT_ROWS,  /* store_count_fn: n = rows returned */
	RES_COUNT_FIRST, /* store_count_fn: n = the first row's first column, -1 if no row */
	RES_COUNT_CMD,   /* store_count_fn: n = rows the command changed (no RETURNING) */
	RES_NUMS,        /* store_nums_fn: the first row's columns as numbers */
	RES_ROWS,        /* store_rows_fn: every row's columns as numbers */
	RES_CLAIM,       /* store_claim_fn: deliveries to send (14 columns, see S_CLAIM) */
	RES_CLAIM_IDS,   /* store_claim_fn: notification, device, full JID, token */
	RES_FANOUT,      /* store_fanout_fn: rows sent at once (RES_CLAIM's columns), then
	                    notifications taken and bigint[] of devices (columns 15, 16) */
	RES_APP,         /* store_app_fn: found, policy, acl ('\n'-separated), secret, known */
	RES_KINDS
};

/* Most parameters of a statement (S_REGISTER). */
#define STORE_SQL_MAX_PARAMS 8

struct stmt_def {
	const char *name; /* of the prepared statement */
	int nparams;
	enum res_kind kind;
	int ncols; /* columns of the result; another count fails the request */
	const char *sql;
};

extern const struct stmt_def store_sql_stmts[S_COUNT];
/* The set-up statement that ends a session's set-up: [0] main, [1] acks. */
extern const char *const store_sql_session_setup[2];

#endif
