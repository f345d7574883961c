/* netlearn: the per-network heartbeat interval learner (see netlearn.h for
 * the policy). Owns only arithmetic on struct nl_state: no clock, no I/O,
 * no logging; the caller (hbnet.c) times heartbeats, logs and persists. */
#include <stdio.h>
#include <string.h>

#include "netlearn.h"

#define PROBE_SHIFT_MAX 3 /* a failed probe doubles the wait, up to 8x */

void nl_params_default(struct nl_params *p)
{
	p->min_ms = 60000;
	p->max_ms = 600000;
	p->step_ms = 30000;
	p->step_after = 3;
	p->backoff_after = 2;
	p->probe_after = 30;
}

int nl_params_check(const struct nl_params *p)
{
	if (!p->min_ms || p->min_ms > p->max_ms || !p->step_ms || !p->step_after ||
	    !p->backoff_after)
		return -1;
	return 0;
}

void nl_init(struct nl_state *s, const struct nl_params *p)
{
	memset(s, 0, sizeof *s);
	s->interval_ms = p->min_ms;
	s->phase = NL_LEARN;
}

static uint32_t clamp(uint32_t v, const struct nl_params *p)
{
	if (v < p->min_ms)
		return p->min_ms;
	if (v > p->max_ms)
		return p->max_ms;
	return v;
}

static uint32_t step_up(uint32_t v, const struct nl_params *p)
{
	uint64_t n = (uint64_t)v + p->step_ms;

	return n > p->max_ms ? p->max_ms : (uint32_t)n;
}

static uint32_t step_down(uint32_t v, const struct nl_params *p)
{
	return v > p->min_ms + p->step_ms ? v - p->step_ms : p->min_ms;
}

void nl_clamp(struct nl_state *s, const struct nl_params *p)
{
	s->interval_ms = clamp(s->interval_ms, p);
	if (s->good_ms)
		s->good_ms = clamp(s->good_ms, p);
	if (s->bad_ms && s->bad_ms > p->max_ms)
		s->bad_ms = 0; /* beyond what we would ever try: forget it */
	if (s->bad_ms && s->bad_ms <= s->good_ms)
		s->bad_ms = 0;
	s->held_ms = s->held_ms ? clamp(s->held_ms, p) : s->interval_ms;
	if (s->phase > NL_PROBE)
		s->phase = NL_HOLD;
	if (s->probe_shift > PROBE_SHIFT_MAX)
		s->probe_shift = PROBE_SHIFT_MAX;
	if (s->phase == NL_PROBE && s->held_ms >= s->interval_ms)
		s->phase = NL_HOLD;
}

enum nl_change nl_success(struct nl_state *s, const struct nl_params *p, uint32_t tested_ms)
{
	uint32_t next;

	if (tested_ms < s->interval_ms)
		return NL_SAME; /* an early heartbeat proves nothing about the interval */
	s->fail_streak = 0;
	if (s->interval_ms > s->good_ms)
		s->good_ms = s->interval_ms;
	if (s->bad_ms && s->bad_ms <= s->good_ms)
		s->bad_ms = 0; /* the NAT got more lenient */
	switch (s->phase) {
	case NL_PROBE:
		s->probe_shift = 0;
		s->phase = NL_LEARN;
		s->ok_streak = 0;
		s->hold_count = 0;
		return NL_PROBE_OK;
	case NL_HOLD:
		s->hold_count++;
		if (p->probe_after && s->interval_ms < p->max_ms &&
		    s->hold_count >= ((uint64_t)p->probe_after << s->probe_shift)) {
			s->hold_count = 0;
			s->ok_streak = 0;
			s->held_ms = s->interval_ms;
			s->interval_ms = step_up(s->interval_ms, p);
			s->phase = NL_PROBE;
			return NL_PROBE_UP;
		}
		return NL_SAME;
	case NL_LEARN:
	default:
		if (++s->ok_streak < p->step_after)
			return NL_SAME;
		s->ok_streak = 0;
		next = step_up(s->interval_ms, p);
		if (next == s->interval_ms || (s->bad_ms && next >= s->bad_ms)) {
			/* at the top, or the next step is known to fail */
			s->phase = NL_HOLD;
			s->hold_count = 0;
			return NL_SETTLED;
		}
		s->interval_ms = next;
		return NL_STEP_UP;
	}
}

enum nl_change nl_failure(struct nl_state *s, const struct nl_params *p, uint32_t tested_ms)
{
	uint32_t prev = s->interval_ms;

	if (tested_ms < s->interval_ms)
		return NL_SAME; /* an early heartbeat failed: the link died for another reason */
	s->ok_streak = 0;
	s->hold_count = 0;
	if (s->phase == NL_PROBE) {
		s->bad_ms = s->interval_ms;
		s->interval_ms = s->held_ms;
		s->phase = NL_HOLD;
		if (s->probe_shift < PROBE_SHIFT_MAX)
			s->probe_shift++;
		return NL_FALL_BACK;
	}
	if (s->interval_ms > s->good_ms) {
		/* never answered at this interval: it is past the NAT timeout */
		s->bad_ms = s->interval_ms;
		s->interval_ms = s->good_ms ? clamp(s->good_ms, p) : step_down(s->interval_ms, p);
		s->phase = NL_HOLD;
		s->fail_streak = 0;
		return s->interval_ms == prev ? NL_SAME : NL_FALL_BACK;
	}
	/* a proven interval failed: a blip, or the network got worse */
	if (++s->fail_streak < p->backoff_after)
		return NL_SAME;
	s->fail_streak = 0;
	s->bad_ms = s->interval_ms;
	s->interval_ms = step_down(s->interval_ms, p);
	s->good_ms = s->interval_ms; /* the best guess; unproven on this worse network */
	if (s->bad_ms <= s->good_ms)
		s->bad_ms = 0;
	s->phase = NL_HOLD;
	return s->interval_ms == prev ? NL_SAME : NL_STEP_DOWN;
}

const char *nl_change_name(enum nl_change c)
{
	switch (c) {
	case NL_SAME:
		return "same";
	case NL_STEP_UP:
		return "step_up";
	case NL_SETTLED:
		return "settled";
	case NL_FALL_BACK:
		return "fall_back";
	case NL_STEP_DOWN:
		return "step_down";
	case NL_PROBE_UP:
		return "probe_up";
	case NL_PROBE_OK:
		return "probe_ok";
	default:
		return "?";
	}
}

static const char *const phase_names[] = { "learn", "hold", "probe" };

const char *nl_phase_name(enum nl_phase ph)
{
	return (unsigned)ph <= NL_PROBE ? phase_names[ph] : "?";
}

int nl_format(const struct nl_state *s, char *buf, size_t len)
{
	int n = snprintf(buf, len, "v1 %u %u %u %u %u %u %u %u %s", (unsigned)s->interval_ms,
	                 (unsigned)s->good_ms, (unsigned)s->bad_ms, (unsigned)s->held_ms,
	                 (unsigned)s->ok_streak, (unsigned)s->fail_streak, (unsigned)s->hold_count,
	                 (unsigned)s->probe_shift, nl_phase_name(s->phase));

	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* One unsigned decimal field followed by a single space. */
static int field(const char **pp, uint32_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (*p != ' ')
		return -1;
	*out = (uint32_t)v;
	*pp = p + 1;
	return 0;
}

int nl_parse(const char *text, struct nl_state *s)
{
	struct nl_state t;
	uint32_t *f[] = { &t.interval_ms, &t.good_ms,     &t.bad_ms,     &t.held_ms,
		          &t.ok_streak,   &t.fail_streak, &t.hold_count, &t.probe_shift };
	const char *p = text;
	unsigned ph;

	if (!text || strncmp(p, "v1 ", 3) != 0)
		return -1;
	p += 3;
	memset(&t, 0, sizeof t);
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (field(&p, f[i]))
			return -1;
	for (ph = 0; ph <= NL_PROBE; ph++)
		if (strcmp(p, phase_names[ph]) == 0)
			break;
	if (ph > NL_PROBE || !t.interval_ms)
		return -1;
	t.phase = (enum nl_phase)ph;
	*s = t;
	return 0;
}
