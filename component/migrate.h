/* migrate: brings the push schema up to date with the migrations embedded in
 * xpushd (schema/NNN_name.sql), over a blocking libpq connection of its own:
 * for --migrate and at start-up, before the loop runs. */
#ifndef XPUSH_MIGRATE_H
#define XPUSH_MIGRATE_H

#include <stddef.h>

enum migrate_result {
	MIGRATE_OK = 0,
	MIGRATE_FAILED = -1,      /* a migration failed (rolled back): final */
	MIGRATE_UNREACHABLE = -2, /* no connection to the server: try again later */
	MIGRATE_OUTDATED = -3,    /* check only: migrations are missing (err names them) */
};

/* Apply what is missing, one transaction each under an advisory lock,
 * recorded in push.schema_version. Returns an enum migrate_result; err says
 * why on failure (with a hint when the role may not change the schema).
 * *applied = migrations applied now (0 if up to date). With check_only
 * nothing is changed: MIGRATE_OUTDATED if any migration is missing. */
__attribute__((warn_unused_result)) int migrate_apply(const char *conninfo, int check_only,
                                                      int *applied, char *err, size_t errlen);

#endif
