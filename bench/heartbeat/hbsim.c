/* hbsim: the heartbeat benchmark of docs/heartbeat.md. A discrete-event
 * simulation of one device behind a carrier NAT over simulated days, in
 * simulated time (a day takes milliseconds), comparing keepalive strategies:
 *
 *   adaptive     xpush's default: XEP-0199 ping with a 20 s reply deadline,
 *                interval learned per network (client/netlearn.c, defaults)
 *   fixed-270    xpush with heartbeat_adaptive=false, heartbeat_ms=270000
 *   androidpn-30 Androidpn: a whitespace every 30 s, no reply expected, so a
 *                dead link is noticed only when TCP gives up (~924.6 s after
 *                the first unacknowledged write, tcp_retries2 = 15); reconnect
 *                10 s later; no ack and no offline storage: a push sent into a
 *                dead or closed connection is lost
 *
 * The xpush strategies run the library's own pure cores: the ping scheduler
 * (client/heartbeat.c) and the learner (client/netlearn.c), with the same
 * calls the client makes (hb_poll, hb_pong, hb_activity, nl_success,
 * nl_failure). What is modelled, not run: the network. The NAT drops a
 * mapping idle for T (no packet either way) silently; besides, the path
 * dies silently at random moments (--drops per day: handovers, DHCP); pushes
 * arrive at random moments (--pushes per day); the component redelivers
 * every push not acked (so xpush loses none: we report the delay instead).
 *
 * Radio model: any packet sent or received while the radio is idle wakes it
 * up and keeps it up for --tail seconds (3G/LTE tail); wake-ups count the
 * idle -> active transitions. Bytes: each payload + TLS 1.3 record overhead
 * (22) + TCP/IPv4 headers with timestamps (52), plus a 52-byte ACK per data
 * segment not piggybacked; a reconnect (TCP + STARTTLS + TLS + SASL + bind +
 * register + presence) costs --reconnect-bytes (measured ~7 KB on the test
 * stack) and takes 1 s.
 *
 * Usage: hbsim [--nat-s T] [--days N] [--seed S] [--pushes N] [--drops N]
 *              [--tail S] [--markdown] [--learned]
 * --learned starts the adaptive device with the table learned on a previous
 * day (the common case after day 1). Output: one row per strategy. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heartbeat.h"
#include "netlearn.h"

#define DAY_MS 86400000ull
#define TICK_MS 100u
#define RTT_MS 200u
#define TCP_GIVEUP_MS 924600u
#define PING_BYTES (75 + 22 + 52)   /* <iq type='get' id='xph12' to='..'><ping xmlns='urn:xmpp:ping'/></iq> */
#define PONG_BYTES (90 + 22 + 52 + 52) /* the result + the device's ACK of it */
#define WS_BYTES (1 + 22 + 52 + 52)  /* one space + the server's ACK */
#define PUSH_BYTES (420 + 22 + 52)   /* a notification IQ */
#define ACK_BYTES (110 + 22 + 52 + 52)

enum strategy { S_ADAPTIVE, S_FIXED, S_ANDROIDPN, S_N };
static const char *const names[S_N] = { "xpush adaptive (default)", "xpush fixed 270 s ping",
					"Androidpn 30 s whitespace" };

struct opts {
	uint32_t nat_ms, days, pushes, drops, tail_ms, reconnect_bytes, seed;
	int markdown, learned;
};

struct result {
	uint64_t heartbeats, bytes, hb_bytes, wakeups, hb_wakeups, reconnects, dead_links;
	uint64_t pushes, lost, worst_detect_ms, worst_push_delay_ms, undetected;
	uint32_t final_interval_ms;
};

/* xorshift64*: reproducible across libcs */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct sim {
	const struct opts *o;
	struct result *r;
	uint64_t radio_until;
	int connected, alive;
	uint64_t last_packet, died_at, reconnect_at;
	int radio_cause_hb;
};

/* A packet on the air at t (either direction). */
static void packet(struct sim *s, uint64_t t, uint64_t bytes, int heartbeat)
{
	if (t >= s->radio_until) {
		s->r->wakeups++;
		if (heartbeat)
			s->r->hb_wakeups++;
	}
	if (t + s->o->tail_ms > s->radio_until)
		s->radio_until = t + s->o->tail_ms;
	s->r->bytes += bytes;
	if (heartbeat)
		s->r->hb_bytes += bytes;
	if (s->alive)
		s->last_packet = t;
}

static void path_dies(struct sim *s, uint64_t t)
{
	if (s->alive) {
		s->alive = 0;
		s->died_at = t;
		s->r->dead_links++;
	}
}

static void detected(struct sim *s, uint64_t t, uint64_t reconnect_delay)
{
	uint64_t d = t - s->died_at;

	if (!s->alive && d > s->r->worst_detect_ms)
		s->r->worst_detect_ms = d;
	s->connected = 0;
	s->reconnect_at = t + reconnect_delay;
}

static void run(enum strategy st, const struct opts *o, uint64_t seed, struct nl_state *learned,
		struct result *r)
{
	struct nl_params p;
	struct nl_state nl;
	struct hb hb;
	struct sim s;
	uint64_t *push_at, *drop_at, end = DAY_MS * o->days, pending_since[4096];
	size_t np = (size_t)o->pushes * o->days, nd = (size_t)o->drops * o->days, ip = 0, id = 0;
	size_t npending = 0;
	uint64_t next_ws = 0, tcp_fail_at = UINT64_MAX, pong_at = UINT64_MAX;

	memset(r, 0, sizeof *r);
	memset(&s, 0, sizeof s);
	s.o = o;
	s.r = r;
	rng_state = seed ? seed : 1;
	push_at = calloc(np + 1, sizeof *push_at);
	drop_at = calloc(nd + 1, sizeof *drop_at);
	if (!push_at || !drop_at)
		exit(1);
	/* the same pushes and drops for every strategy (same seed) */
	for (size_t i = 0; i < np; i++)
		push_at[i] = rnd() % end;
	for (size_t i = 0; i < nd; i++)
		drop_at[i] = rnd() % end;
	qsort(push_at, np, sizeof *push_at, cmp_u64);
	qsort(drop_at, nd, sizeof *drop_at, cmp_u64);
	push_at[np] = drop_at[nd] = UINT64_MAX;

	nl_params_default(&p);
	if (learned && o->learned)
		nl = *learned;
	else
		nl_init(&nl, &p);
	s.connected = 0;
	s.reconnect_at = 0;

	for (uint64_t t = 0; t < end; t += TICK_MS) {
		/* reconnect */
		if (!s.connected && t >= s.reconnect_at) {
			s.connected = 1;
			s.alive = 1;
			s.last_packet = t;
			if (t > 0)
				r->reconnects++;
			packet(&s, t, o->reconnect_bytes, 0);
			t += 1000; /* the handshake */
			s.last_packet = t;
			if (st == S_ANDROIDPN) {
				next_ws = t + 30000;
				tcp_fail_at = UINT64_MAX;
			} else {
				hb_start(&hb, st == S_ADAPTIVE ? nl.interval_ms : 270000, 20000, t);
				pong_at = UINT64_MAX;
				/* the component redelivers what was not acked */
				for (size_t i = 0; i < npending; i++) {
					uint64_t d = t - pending_since[i];
					if (d > r->worst_push_delay_ms)
						r->worst_push_delay_ms = d;
					packet(&s, t, PUSH_BYTES + ACK_BYTES, 0);
					hb_activity(&hb, t);
				}
				npending = 0;
			}
		}
		/* the network */
		while (drop_at[id] <= t) {
			id++;
			if (s.connected)
				path_dies(&s, t);
		}
		if (s.connected && s.alive && t > s.last_packet && t - s.last_packet >= o->nat_ms)
			path_dies(&s, t);
		/* pushes */
		while (push_at[ip] <= t) {
			ip++;
			r->pushes++;
			if (s.connected && s.alive) {
				packet(&s, t, PUSH_BYTES + ACK_BYTES, 0);
				if (st != S_ANDROIDPN)
					hb_activity(&hb, t);
			} else if (st == S_ANDROIDPN) {
				r->lost++; /* no ack, no offline storage */
			} else if (npending < sizeof pending_since / sizeof pending_since[0]) {
				pending_since[npending++] = t;
			}
		}
		if (!s.connected)
			continue;
		if (st == S_ANDROIDPN) {
			if (t >= next_ws) {
				r->heartbeats++;
				packet(&s, t, WS_BYTES, 1);
				next_ws = t + 30000;
				if (!s.alive && tcp_fail_at == UINT64_MAX)
					tcp_fail_at = t + TCP_GIVEUP_MS;
			}
			if (t >= tcp_fail_at) {
				detected(&s, t, 10000);
				tcp_fail_at = UINT64_MAX;
			}
			continue;
		}
		if (t >= pong_at) {
			uint32_t tested = hb_pong(&hb, t);
			pong_at = UINT64_MAX;
			if (st == S_ADAPTIVE && tested &&
			    nl_success(&nl, &p, tested) != NL_SAME)
				hb_set_interval(&hb, nl.interval_ms, t);
		}
		switch (hb_poll(&hb, t)) {
		case HB_PING:
			r->heartbeats++;
			packet(&s, t, PING_BYTES, 1);
			if (s.alive) {
				pong_at = t + RTT_MS;
				packet(&s, t + RTT_MS, PONG_BYTES, 1);
			}
			break;
		case HB_DEAD:
			if (st == S_ADAPTIVE && hb_dead_tested(&hb))
				nl_failure(&nl, &p, hb_dead_tested(&hb));
			detected(&s, t, 2000); /* first backoff delay, base 2000 ms (uniform 1-2 s) */
			break;
		default:
			break;
		}
	}
	if (!s.alive && s.connected)
		r->undetected++;
	/* xpush: whatever is still pending at the end is delivered at the next reconnect */
	r->final_interval_ms = st == S_ADAPTIVE ? nl.interval_ms : st == S_FIXED ? 270000 : 30000;
	if (learned && st == S_ADAPTIVE)
		*learned = nl;
	free(push_at);
	free(drop_at);
}

static uint32_t num(const char *s, uint32_t min, uint32_t max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v < min || v > max) {
		fprintf(stderr, "hbsim: bad number %s\n", s);
		exit(2);
	}
	return (uint32_t)v;
}

int main(int argc, char **argv)
{
	struct opts o = { 300000, 1, 48, 6, 10000, 7000, 1, 0, 0 };
	struct result r[S_N];
	struct nl_state learned;
	struct nl_params p;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (strcmp(argv[i], "--nat-s") == 0)
			o.nat_ms = num(v, 1, 86400) * 1000u, i++;
		else if (strcmp(argv[i], "--days") == 0)
			o.days = num(v, 1, 365), i++;
		else if (strcmp(argv[i], "--pushes") == 0)
			o.pushes = num(v, 0, 4000), i++;
		else if (strcmp(argv[i], "--drops") == 0)
			o.drops = num(v, 0, 1000), i++;
		else if (strcmp(argv[i], "--tail") == 0)
			o.tail_ms = num(v, 0, 600) * 1000u, i++;
		else if (strcmp(argv[i], "--seed") == 0)
			o.seed = num(v, 1, 0xffffffffu), i++;
		else if (strcmp(argv[i], "--markdown") == 0)
			o.markdown = 1;
		else if (strcmp(argv[i], "--learned") == 0)
			o.learned = 1;
		else {
			fprintf(stderr, "usage: hbsim [--nat-s T] [--days N] [--pushes N] [--drops N] "
					"[--tail S] [--seed S] [--learned] [--markdown]\n");
			return 2;
		}
	}
	nl_params_default(&p);
	nl_init(&learned, &p);
	if (o.learned) { /* learn on a day of its own first */
		struct opts warm = o;
		struct result junk;
		warm.learned = 0;
		warm.days = 1;
		run(S_ADAPTIVE, &warm, o.seed + 7777, &learned, &junk);
	}
	for (int s = 0; s < S_N; s++)
		run((enum strategy)s, &o, o.seed, &learned, &r[s]);

	if (o.markdown) {
		printf("| per day (T = %u s; mean of %u simulated day%s; %u pushes and %u silent drops a day) | heartbeats | bytes | radio wake-ups (by keepalive) | pushes lost | worst detection | worst push delay | interval at the end |\n",
		       (unsigned)(o.nat_ms / 1000), (unsigned)o.days, o.days > 1 ? "s" : "",
		       (unsigned)o.pushes, (unsigned)o.drops);
		printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	}
	for (int s = 0; s < S_N; s++) {
		const struct result *x = &r[s];
		if (o.markdown)
		{
			char delay[48];
			if (s == S_ANDROIDPN)
				snprintf(delay, sizeof delay, "n/a (no redelivery)");
			else
				snprintf(delay, sizeof delay, "%" PRIu64 " s", x->worst_push_delay_ms / 1000);
			printf("| %s | %" PRIu64 " | %" PRIu64 " KB | %" PRIu64 " (%" PRIu64 ") | %" PRIu64
			       "%s | %" PRIu64 " s | %s | %u s |\n",
			       names[s], x->heartbeats / o.days, x->bytes / 1000 / o.days, x->wakeups / o.days,
			       x->hb_wakeups / o.days, x->lost / o.days,
			       o.days > 1 && x->lost % o.days ? "+" : "", x->worst_detect_ms / 1000, delay, (unsigned)(x->final_interval_ms / 1000));
		}
		else
			printf("strategy=\"%s\" nat_s=%u days=%u heartbeats=%" PRIu64 " bytes=%" PRIu64
			       " hb_bytes=%" PRIu64 " wakeups=%" PRIu64 " hb_wakeups=%" PRIu64
			       " reconnects=%" PRIu64 " dead_links=%" PRIu64 " pushes=%" PRIu64 " lost=%" PRIu64
			       " worst_detect_s=%" PRIu64 " worst_push_delay_s=%" PRIu64 " interval_s=%u\n",
			       names[s], (unsigned)(o.nat_ms / 1000), (unsigned)o.days, x->heartbeats, x->bytes,
			       x->hb_bytes, x->wakeups, x->hb_wakeups, x->reconnects, x->dead_links, x->pushes,
			       x->lost, x->worst_detect_ms / 1000, x->worst_push_delay_ms / 1000,
			       (unsigned)(x->final_interval_ms / 1000));
	}
	if (!o.markdown) {
		double ratio = r[S_ANDROIDPN].wakeups ? (double)r[S_ADAPTIVE].wakeups / (double)r[S_ANDROIDPN].wakeups : 0;
		double hratio = r[S_ANDROIDPN].hb_wakeups ? (double)r[S_ADAPTIVE].hb_wakeups / (double)r[S_ANDROIDPN].hb_wakeups : 0;
		printf("goal: adaptive wake-ups / Androidpn wake-ups = %.3f (keepalive only: %.3f; goal <= 0.125), adaptive pushes lost = %" PRIu64 "\n",
		       ratio, hratio, r[S_ADAPTIVE].lost);
	}
	return 0;
}
