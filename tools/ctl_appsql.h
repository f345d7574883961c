/* ctl_appsql: the statements of `xpushctl app`, `device unregister` and
 * `watch` (ctl_appsql.c), behind typed functions that return ctl_rows (the
 * caller frees them). Errors as ctl_sql.h. */
#ifndef XPUSH_CTL_APPSQL_H
#define XPUSH_CTL_APPSQL_H

#include <stddef.h>

#include "ctl_args.h"
#include "ctl_rows.h"
#include "ctl_sql.h"

/* INSERT the app (policy, acl, secret NULL unless token): app, policy, acl, secret. */
CTL_WUR int ctl_appsql_add(struct ctl_db *db, const struct ctl_app *a, const char *secret,
                           struct ctl_rows **out, char *err, size_t errlen);
/* Set the policy (acl replaced if given; secret set if rotating or missing):
 * app, policy, acl, new_secret (NULL if unchanged), devices_registered; no row
 * if there is no such app. */
CTL_WUR int ctl_appsql_policy(struct ctl_db *db, const struct ctl_app *a, const char *secret,
                              struct ctl_rows **out, char *err, size_t errlen);
/* policy, secret of app; no row if there is none. */
CTL_WUR int ctl_appsql_secret(struct ctl_db *db, const char *app, struct ctl_rows **out, char *err,
                              size_t errlen);
/* Every app: app, policy, acl, producers, devices_registered, secret (NULL
 * unless show_secret), created_at, updated_at. */
CTL_WUR int ctl_appsql_list(struct ctl_db *db, int show_secret, struct ctl_rows **out, char *err,
                            size_t errlen);
/* Grant (revoke 0) or revoke a producer role's right to enqueue for app:
 * one row app_exists, role_exists, changed. */
CTL_WUR int ctl_appsql_grant(struct ctl_db *db, const char *app, const char *role, int revoke,
                             struct ctl_rows **out, char *err, size_t errlen);
/* Unregister devices: one row (id, jid, device) per device unregistered. */
CTL_WUR int ctl_appsql_unregister(struct ctl_db *db, const struct ctl_device *d,
                                  struct ctl_rows **out, char *err, size_t errlen);
/* next_id: the id the next notification will get at least. */
CTL_WUR int ctl_appsql_next_id(struct ctl_db *db, struct ctl_rows **out, char *err, size_t errlen);
/* Ledger rows of notifications >= from_id (w's filters) changed at or after
 * since (Unix seconds): at, id, app, jid, device, state, attempts, acks,
 * retract_state, last_error, device_id, epoch; oldest change first. */
CTL_WUR int ctl_appsql_watch(struct ctl_db *db, long long from_id, const struct ctl_watch *w,
                             double since, struct ctl_rows **out, char *err, size_t errlen);

#endif
