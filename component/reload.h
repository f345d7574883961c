/* reload: what SIGHUP changes without a restart. It reads the configuration
 * again from where it came from (the file and the -o overrides), compares it
 * key by key with the running one and, for each key its table marks live,
 * copies the new value into the running configuration and tells the owner
 * which group changed; a changed key that only a restart applies is logged
 * as such and keeps its running value. A configuration that does not load
 * changes nothing. The table (reload.c) is the one place that says which
 * keys are live: add a row there, and a group here if its owner must act. */
#ifndef XPUSH_RELOAD_H
#define XPUSH_RELOAD_H

#include "config.h"

/* What the owner of the running state must do after a live key changed. */
enum reload_group {
	RELOAD_READ = 0,        /* nothing: the value is read where it is used */
	RELOAD_LOG = 1 << 0,    /* log_level: log_set_level */
	RELOAD_RATE = 1 << 1,   /* rate_per_jid, rate_burst: the rate limiter */
	RELOAD_LIMITS = 1 << 2, /* what a device may register: the stanza limits */
};

struct reload_result {
	unsigned groups; /* enum reload_group bits of the live keys that changed */
	int changed;     /* live keys applied */
	int restart;     /* changed keys that need a restart (not applied) */
};

/* Read src again and apply its live keys to run. 0, or -1 with err set if
 * the new configuration does not load (then nothing changed). */
__attribute__((warn_unused_result)) int reload_config(struct config *run,
                                                      const struct config_source *src,
                                                      struct reload_result *res, char *err,
                                                      size_t errlen);

#endif
