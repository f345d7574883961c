/* cli_exec: xpush-client's --exec runner. Runs a shell command for one
 * displayed notification, with the notification's fields in the environment
 * (XPUSH_ID, XPUSH_APP, XPUSH_TITLE, XPUSH_BODY, XPUSH_URI, XPUSH_PAYLOAD;
 * unset when absent) and XPUSH_PASSWORD removed, stdin from /dev/null, its
 * stdout sent to stderr (stdout carries the notification lines), and waits
 * for it. Part of the xpush-client program, not of libxpush. */
#ifndef XPUSH_CLI_EXEC_H
#define XPUSH_CLI_EXEC_H

#include "xpush.h"

/* Run cmd with /bin/sh -c for n and wait for it. Returns NULL on success, or
 * a static description of the failure ("spawn failed", "killed by signal",
 * "non-zero exit", "out of memory"); *status gets the wait status (or the
 * posix_spawn error). SIGPIPE, SIGINT and SIGTERM are reset to their
 * defaults and no signal is blocked in the child. */
const char *cli_exec_run(const char *cmd, const struct xpush_notification *n, int *status);

#endif
