/* xrelay: a TCP relay for tests that misbehaves like a mobile network, on
 * command. Devices connect to it instead of to the XMPP server; it connects
 * each one to the upstream port and copies bytes both ways, until a test
 * tells it (per connection, or for all, or for new ones) to:
 *   nat T MS        expire the mapping after MS ms without a byte either way,
 *                   the way a carrier NAT does: silently (no FIN, no RST), and
 *                   from then on every byte either way is read and dropped
 *   expire T        the same, now
 *   blackhole T MS  stop forwarding for MS ms (bytes wait, as TCP would
 *                   retransmit them, and then arrive: a radio dead zone)
 *   rst T           reset both sides (RST, SO_LINGER 0)
 *   cut T DIR MODE  forward only the first half of the next chunk going DIR
 *                   (up: device -> server, down: server -> device), then
 *                   MODE: rst (reset both sides) or hang (expire silently)
 *   latency T MS    delay every chunk by MS ms
 *   list            one line per connection: id, state, byte counts, idle time
 *   stats           accepted/open/expired/closed counters
 * T is a connection id, "last" (the newest live one), "all" (every live one),
 * "new" (the defaults of connections accepted from now on: nat, latency) or
 * "*" (all and new). Every command is answered by zero or more lines and
 * then "ok ..." or "err reason": tests synchronise on the answer, not on
 * sleeps.
 *
 * Control: line-based text over TCP on 127.0.0.1 (bash: exec 3<>/dev/tcp/..).
 * Everything binds and connects to 127.0.0.1 only. Bounded: at most
 * --max-conns connections, 1 MiB queued per direction (then it stops
 * reading), 8 control clients, 512-byte command lines. Accepts and state
 * changes are logged to stderr, with t= (ms since start) and ts= (Unix ms).
 *
 * Usage: xrelay --upstream PORT [--listen PORT] [--control PORT]
 *               [--max-conns N] [--ports-file FILE]
 * Prints "listen=P control=C" on stdout (and into --ports-file, written
 * atomically) once both ports listen. SIGTERM/SIGINT: exit 0. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xrelay.h"

struct rconn **conns;
size_t nconns, max_conns = 1024;
static unsigned next_id = 1;
static uint64_t t0;
uint32_t def_nat_ms, def_latency_ms;
uint64_t stat_accepted, stat_expired, stat_closed, stat_refused;
static int upstream_port;
static volatile sig_atomic_t stop_flag;
struct ctl ctls[MAX_CTL];

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

__attribute__((format(printf, 1, 2)))
void logf_(const char *fmt, ...)
{
	va_list ap;

	struct timespec wall;

	clock_gettime(CLOCK_REALTIME, &wall); /* ts= compares with the tests' clocks */
	fprintf(stderr, "xrelay t=%llu ts=%lld ", (unsigned long long)(now_ms() - t0),
		(long long)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int listen_on(int port, int *actual)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0 || nonblock(fd) < 0) {
		close(fd);
		return -1;
	}
	*actual = ntohs(a.sin_port);
	return fd;
}

static void flow_clear(struct flow *f)
{
	while (f->head) {
		struct chunk *c = f->head;
		f->head = c->next;
		free(c);
	}
	f->tail = NULL;
	f->queued = 0;
}

static void close_fd(struct rconn *c, int side, int rst)
{
	if (c->fd[side] < 0)
		return;
	if (rst) {
		struct linger l = { 1, 0 };
		setsockopt(c->fd[side], SOL_SOCKET, SO_LINGER, &l, sizeof l);
	}
	close(c->fd[side]);
	c->fd[side] = -1;
}

void conn_close(struct rconn *c, int rst, const char *why)
{
	if (c->st == C_CLOSED)
		return;
	close_fd(c, UP, rst);
	close_fd(c, DOWN, rst);
	flow_clear(&c->f[UP]);
	flow_clear(&c->f[DOWN]);
	c->st = C_CLOSED;
	c->closed_at = now_ms();
	c->why = why;
	stat_closed++;
	logf_("close id=%u why=%s up=%llu down=%llu", c->id, why, (unsigned long long)c->f[UP].bytes,
	      (unsigned long long)c->f[DOWN].bytes);
}

/* Silently dead: no FIN, no RST; everything read from now on is dropped. */
void conn_expire(struct rconn *c, const char *why)
{
	if (c->st != C_OPEN && c->st != C_CONNECTING)
		return;
	flow_clear(&c->f[UP]);
	flow_clear(&c->f[DOWN]);
	c->f[UP].cut = c->f[DOWN].cut = CUT_NONE;
	c->f[UP].after = c->f[DOWN].after = CUT_NONE;
	c->st = C_EXPIRED;
	stat_expired++;
	logf_("expire id=%u why=%s idle_ms=%llu", c->id, why,
	      (unsigned long long)(now_ms() - c->last_activity));
}

/* Forget closed connections once the table is full. */
static void reap(void)
{
	size_t j = 0;

	if (nconns < max_conns)
		return;
	for (size_t i = 0; i < nconns; i++) {
		if (conns[i]->st == C_CLOSED) {
			free(conns[i]);
			continue;
		}
		conns[j++] = conns[i];
	}
	nconns = j;
}

static size_t live_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < nconns; i++)
		n += conns[i]->st != C_CLOSED;
	return n;
}

static void on_accept(int lfd)
{
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), sfd;
		struct sockaddr_in a;
		struct rconn *c;
		int on = 1;

		if (cfd < 0)
			return;
		reap();
		if (nconns >= max_conns || live_count() >= max_conns) {
			struct linger l = { 1, 0 };
			setsockopt(cfd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
			close(cfd);
			stat_refused++;
			logf_("refuse reason=max_conns");
			continue;
		}
		sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		c = calloc(1, sizeof *c);
		if (sfd < 0 || !c) {
			close(cfd);
			if (sfd >= 0)
				close(sfd);
			free(c);
			continue;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)upstream_port);
		c->id = next_id++;
		c->fd[UP] = cfd;
		c->fd[DOWN] = sfd;
		c->created = c->last_activity = now_ms();
		c->nat_ms = def_nat_ms;
		c->latency_ms = def_latency_ms;
		c->st = C_CONNECTING;
		conns[nconns++] = c;
		stat_accepted++;
		logf_("accept id=%u nat_ms=%u latency_ms=%u", c->id, (unsigned)c->nat_ms,
		      (unsigned)c->latency_ms);
		if (connect(sfd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
			conn_close(c, 1, "upstream_refused");
	}
}

/* Read what src has for its flow; returns -1 when the connection closed. */
static int pump_in(struct rconn *c, int dir, uint64_t now)
{
	struct flow *f = &c->f[dir];
	char buf[CHUNK];
	ssize_t n = read(c->fd[dir], buf, sizeof buf);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : (conn_close(c, 1, "read_error"), -1);
	if (n == 0) {
		if (c->st == C_EXPIRED) {
			/* the peer gave up on a dead mapping: the other side never hears of it */
			close_fd(c, dir, 0);
			if (c->fd[UP] < 0 && c->fd[DOWN] < 0)
				conn_close(c, 0, "expired_and_both_closed");
			return c->st == C_CLOSED ? -1 : 0;
		}
		f->eof = 1;
		return 0;
	}
	if (c->st == C_EXPIRED) {
		f->bytes += (uint64_t)n; /* dropped, but counted */
		return 0;
	}
	c->last_activity = now;
	f->bytes += (uint64_t)n;
	if (f->cut != CUT_NONE) {
		n = n > 1 ? n / 2 : 1;
		f->after = f->cut;
		f->cut = CUT_NONE;
		logf_("cut id=%u dir=%s forwarded=%zd mode=%s", c->id, dir == UP ? "up" : "down", n,
		      f->after == CUT_RST ? "rst" : "hang");
	} else if (f->after != CUT_NONE) {
		return 0; /* past the cut: nothing more goes through */
	}
	{
		struct chunk *ch = malloc(sizeof *ch + (size_t)n);
		if (!ch)
			return 0;
		ch->next = NULL;
		ch->len = (size_t)n;
		ch->off = 0;
		ch->due = now + c->latency_ms;
		memcpy(ch->data, buf, (size_t)n);
		if (f->tail)
			f->tail->next = ch;
		else
			f->head = ch;
		f->tail = ch;
		f->queued += (size_t)n;
	}
	return 0;
}

/* Send what is due of flow dir to its destination. */
static int pump_out(struct rconn *c, int dir, uint64_t now)
{
	struct flow *f = &c->f[dir];
	int dst = c->fd[dir == UP ? DOWN : UP];

	while (f->head && f->head->due <= now) {
		struct chunk *ch = f->head;
		ssize_t n = write(dst, ch->data + ch->off, ch->len - ch->off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			conn_close(c, 1, "write_error");
			return -1;
		}
		ch->off += (size_t)n;
		f->queued -= (size_t)n;
		if (ch->off < ch->len)
			return 0;
		f->head = ch->next;
		if (!f->head)
			f->tail = NULL;
		free(ch);
	}
	if (!f->head && f->after == CUT_RST) {
		conn_close(c, 1, "cut_rst");
		return -1;
	}
	if (!f->head && f->after == CUT_HANG) {
		conn_expire(c, "cut_hang");
		return 0;
	}
	if (!f->head && f->eof) {
		conn_close(c, 0, dir == UP ? "device_closed" : "server_closed");
		return -1;
	}
	return 0;
}

/* ---- main loop ------------------------------------------------------- */

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: xrelay --upstream PORT [--listen PORT] [--control PORT] "
			"[--max-conns N] [--ports-file FILE]\n");
	exit(2);
}

static int port_arg(const char *s)
{
	uint32_t v;

	if (parse_u32(s, &v) < 0 || v > 65535)
		usage();
	return (int)v;
}

static void write_ports(const char *file, int lp, int cp)
{
	char tmp[4200];
	FILE *f;

	printf("listen=%d control=%d\n", lp, cp);
	fflush(stdout);
	if (!file)
		return;
	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	if (!(f = fopen(tmp, "w")))
		return;
	fprintf(f, "listen=%d control=%d\n", lp, cp);
	if (fclose(f) == 0)
		rename(tmp, file);
}

int main(int argc, char **argv)
{
	int listen_port = 0, control_port = 0, lfd, cfd, lp, cp;
	const char *ports_file = NULL;
	struct pollfd *pfd;
	struct sigaction sa;

	for (int i = 1; i < argc; i += 2) { /* every option takes a value */
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		if (strcmp(argv[i], "--upstream") == 0)
			upstream_port = port_arg(v);
		else if (strcmp(argv[i], "--listen") == 0)
			listen_port = port_arg(v);
		else if (strcmp(argv[i], "--control") == 0)
			control_port = port_arg(v);
		else if (strcmp(argv[i], "--max-conns") == 0) {
			uint32_t m;
			if (parse_u32(v, &m) < 0 || m < 1 || m > 4096)
				usage();
			max_conns = m;
		} else if (strcmp(argv[i], "--ports-file") == 0)
			ports_file = v;
		else
			usage();
	}
	if (!upstream_port)
		usage();
	t0 = now_ms();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < MAX_CTL; i++)
		ctls[i].fd = -1;
	conns = calloc(max_conns, sizeof *conns);
	pfd = calloc(2 + MAX_CTL + 2 * max_conns, sizeof *pfd);
	if (!conns || !pfd)
		return 1;
	if ((lfd = listen_on(listen_port, &lp)) < 0 || (cfd = listen_on(control_port, &cp)) < 0) {
		fprintf(stderr, "xrelay: cannot listen on 127.0.0.1: %s\n", strerror(errno));
		free(pfd);
		return 1;
	}
	write_ports(ports_file, lp, cp);
	logf_("ready listen=%d control=%d upstream=%d max_conns=%zu", lp, cp, upstream_port, max_conns);

	while (!stop_flag) {
		uint64_t now = now_ms(), wake = now + 1000;
		size_t np = 0, base;
		int rc;

		pfd[np++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[np++] = (struct pollfd){ .fd = cfd, .events = POLLIN };
		for (size_t i = 0; i < MAX_CTL; i++)
			pfd[np++] = (struct pollfd){ .fd = ctls[i].fd, .events = POLLIN };
		base = np;
		for (size_t i = 0; i < nconns; i++) {
			struct rconn *c = conns[i];
			for (int d = 0; d < 2; d++) {
				short ev = 0;
				int in_ok = c->st == C_EXPIRED ||
					    (c->st == C_OPEN && c->blackhole_until <= now &&
					     c->f[d].queued < MAX_QUEUE && !c->f[d].eof);
				struct flow *out = &c->f[d == UP ? DOWN : UP];
				if (c->st == C_CONNECTING && d == DOWN)
					ev = POLLOUT;
				else if (c->st != C_CLOSED && in_ok)
					ev = POLLIN;
				if (c->st == C_OPEN && out->head && c->blackhole_until <= now) {
					if (out->head->due <= now)
						ev |= POLLOUT;
					else if (out->head->due < wake)
						wake = out->head->due;
				}
				pfd[np++] = (struct pollfd){ .fd = c->st == C_CLOSED ? -1 : c->fd[d], .events = ev };
			}
			if (c->st == C_OPEN && c->blackhole_until > now && c->blackhole_until < wake)
				wake = c->blackhole_until;
			if (c->st == C_OPEN && c->nat_ms && c->last_activity + c->nat_ms < wake)
				wake = c->last_activity + c->nat_ms;
		}
		rc = poll(pfd, np, wake > now ? (int)(wake - now) : 0);
		if (rc < 0 && errno != EINTR)
			break;
		now = now_ms();
		if (rc > 0) {
			/* connections first: accepting may compact the table */
			for (size_t i = 0; i < (np - base) / 2 && i < nconns; i++) {
				struct rconn *c = conns[i];
				for (int d = 0; d < 2 && c->st != C_CLOSED; d++) {
					short re = pfd[base + 2 * i + (size_t)d].revents;
					if (!re)
						continue;
					if (c->st == C_CONNECTING && d == DOWN) {
						int err = 0;
						socklen_t el = sizeof err;
						getsockopt(c->fd[DOWN], SOL_SOCKET, SO_ERROR, &err, &el);
						if (err) {
							conn_close(c, 1, "upstream_refused");
							break;
						}
						c->st = C_OPEN;
						continue;
					}
					if (re & (POLLIN | POLLHUP | POLLERR))
						if (pump_in(c, d, now) < 0)
							break;
					if (re & POLLOUT)
						if (pump_out(c, d == UP ? DOWN : UP, now) < 0)
							break;
				}
			}
			for (size_t i = 0; i < MAX_CTL; i++)
				if (pfd[2 + i].fd >= 0 && pfd[2 + i].revents && ctls[i].fd >= 0)
					ctl_read(&ctls[i]);
			if (pfd[1].revents)
				on_ctl_accept(cfd);
			if (pfd[0].revents)
				on_accept(lfd);
		}
		/* due output, ends of blackholes, NAT expiry, closes after EOF */
		for (size_t i = 0; i < nconns; i++) {
			struct rconn *c = conns[i];
			if (c->st == C_OPEN && c->blackhole_until <= now) {
				if (pump_out(c, UP, now) < 0 || pump_out(c, DOWN, now) < 0)
					continue;
			}
			if (c->st == C_OPEN && c->nat_ms && now - c->last_activity >= c->nat_ms)
				conn_expire(c, "nat_idle");
		}
	}
	logf_("exit accepted=%llu", (unsigned long long)stat_accepted);
	free(pfd); /* (conns stays reachable through the global until exit) */
	return 0;
}
