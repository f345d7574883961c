/* netlearn: the adaptive ("smart") heartbeat learner of one network. Pure:
 * a plain struct, outcomes reported with the tested idle time, no clock, no
 * I/O, so a test can run it through hundreds of cycles in microseconds.
 *
 * The interval is the longest idle time the link is trusted to survive (a
 * carrier NAT drops an idle TCP mapping silently after its timeout T). The
 * learner starts at min_ms, steps up by step_ms after step_after consecutive
 * answered heartbeats, and on the first unanswered heartbeat at an interval
 * that had not been proven yet it falls back to the last proven one (so it
 * settles in [T - step_ms, T)) and holds it. A proven interval that fails
 * backoff_after times in a row (the network got worse) is lowered by one
 * step. While holding, it probes one step upward again after probe_after
 * successes (the NAT may be more lenient now); each failed probe doubles
 * that wait, up to 8 times. */
#ifndef XPUSH_NETLEARN_H
#define XPUSH_NETLEARN_H

#include <stddef.h>
#include <stdint.h>

struct nl_params {
	uint32_t min_ms;     /* never below this (also the start) */
	uint32_t max_ms;     /* never above this */
	uint32_t step_ms;    /* one step up or down */
	uint32_t step_after; /* consecutive successes before a step up (>= 1) */
	uint32_t
		backoff_after; /* consecutive failures of a proven interval before a step down (>= 1) */
	uint32_t probe_after; /* successes while holding before probing up again; 0 = never */
};

enum nl_phase {
	NL_LEARN = 0, /* stepping up from min */
	NL_HOLD,      /* settled; probes now and then */
	NL_PROBE,     /* trying one step above the held interval */
};

struct nl_state {
	uint32_t interval_ms; /* the interval to use now */
	uint32_t good_ms;     /* longest interval seen answered (0: none yet) */
	uint32_t bad_ms;      /* shortest interval seen failing above good (0: none) */
	uint32_t held_ms;     /* while probing: the interval to fall back to */
	uint32_t ok_streak;   /* consecutive successes at interval_ms */
	uint32_t fail_streak; /* consecutive failures at a proven interval */
	uint32_t hold_count;  /* successes since holding / the last probe */
	uint32_t probe_shift; /* failed probes in a row (wait = probe_after << shift) */
	enum nl_phase phase;
};

/* What an outcome did, for the log. */
enum nl_change {
	NL_SAME = 0,
	NL_STEP_UP,   /* learning: one step up */
	NL_SETTLED,   /* learning reached max or the known-bad interval: holding */
	NL_FALL_BACK, /* an unproven interval failed: back to the last proven one */
	NL_STEP_DOWN, /* a proven interval failed backoff_after times: one step down */
	NL_PROBE_UP,  /* holding long enough: probing one step above */
	NL_PROBE_OK,  /* the probe was answered: learning again from there */
};

/* Defaults used by the client (config keys heartbeat_*_ms etc.). */
void nl_params_default(struct nl_params *p);

/* 0 if p is usable: 1 <= min <= max, step >= 1, step_after >= 1, backoff_after >= 1. */
int nl_params_check(const struct nl_params *p);

/* A fresh network: interval min_ms, learning. */
void nl_init(struct nl_state *s, const struct nl_params *p);

/* Make a state read back from disk (or made under other params) consistent
 * with p: every interval clamped to [min, max], counters kept. */
void nl_clamp(struct nl_state *s, const struct nl_params *p);

/* The heartbeat sent after tested_ms of idle time was answered. An answer
 * after a shorter idle time than interval_ms (a heartbeat sent early, e.g.
 * after a network change) teaches nothing and is ignored. */
enum nl_change nl_success(struct nl_state *s, const struct nl_params *p, uint32_t tested_ms);

/* The heartbeat sent after tested_ms of idle time was not answered by its
 * deadline (the link died). */
enum nl_change nl_failure(struct nl_state *s, const struct nl_params *p, uint32_t tested_ms);

/* Static name of a change or phase, for logs ("step_up", "hold", ...). */
const char *nl_change_name(enum nl_change c);
const char *nl_phase_name(enum nl_phase ph);

/* One line of text (no newline) holding s, for the state file:
 * "v1 interval good bad held ok fail hold shift phase". Returns the length,
 * or -1 if it did not fit. */
int nl_format(const struct nl_state *s, char *buf, size_t len);

/* Parse what nl_format wrote. Returns 0, or -1 (s untouched) on any damage. */
int nl_parse(const char *text, struct nl_state *s);

#endif
