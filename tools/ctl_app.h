/* ctl_app: run `xpushctl app ...`, `xpushctl device unregister` and
 * `xpushctl watch` (ctl_app.c) on an open connection. */
#ifndef XPUSH_CTL_APP_H
#define XPUSH_CTL_APP_H

#include "ctl_args.h"
#include "ctl_sql.h"

/* Run c (CTL_CMD_APP, CTL_CMD_DEVICE or CTL_CMD_WATCH); errors are one line
 * on stderr, "xpushctl: WHAT: message". Returns the exit status. */
int ctl_app_run(struct ctl_db *db, const struct ctl_cmd *c, const char *what);

#endif
