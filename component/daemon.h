/* daemon: xpushd's policy. Wires the loop, the store (Postgres) and the
 * component connection together: what to do with each stanza, when to scan,
 * what to send. Owns no socket and no SQL text. */
#ifndef XPUSH_DAEMON_H
#define XPUSH_DAEMON_H

#include "config.h"

/* Exit codes of xpushd. */
enum {
	XPUSHD_EXIT_OK = 0,
	XPUSHD_EXIT_RUNTIME = 1,
	XPUSHD_EXIT_USAGE = 2,   /* bad command line or configuration */
	XPUSHD_EXIT_REFUSED = 3, /* the XMPP server refused the component (secret, name) */
};

/* Run until SIGTERM/SIGINT or a final refusal. Returns an exit code. cfg
 * is finished (config_finish); SIGHUP reads src again and updates cfg's live
 * settings in place (reload.h). */
int daemon_run(struct config *cfg, const struct config_source *src);

#endif
