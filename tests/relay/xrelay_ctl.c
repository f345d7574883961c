/* xrelay_ctl: the relay's control channel: command lines in, answers out (see xrelay.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xrelay.h"

static const char *const cstate_names[] = { "connecting", "open", "expired", "closed" };

static void ctl_send(struct ctl *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctl_send(struct ctl *k, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	/* answers are small; a control client that does not read loses them */
	if (write(k->fd, line, (size_t)n) < 0)
		return;
}

int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 86400000ul)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Connections a target names; *defaults set for "new" and "*". */
static size_t targets(const char *t, struct rconn **out, size_t max, int *defaults)
{
	size_t n = 0;
	uint32_t id;

	*defaults = 0;
	if (!t)
		return 0;
	if (strcmp(t, "new") == 0 || strcmp(t, "*") == 0)
		*defaults = 1;
	if (strcmp(t, "new") == 0)
		return 0;
	if (strcmp(t, "all") == 0 || strcmp(t, "*") == 0) {
		for (size_t i = 0; i < nconns && n < max; i++)
			if (conns[i]->st != C_CLOSED)
				out[n++] = conns[i];
		return n;
	}
	if (strcmp(t, "last") == 0) {
		for (size_t i = nconns; i-- > 0;)
			if (conns[i]->st != C_CLOSED) {
				out[0] = conns[i];
				return 1;
			}
		return 0;
	}
	if (parse_u32(t, &id) == 0)
		for (size_t i = 0; i < nconns; i++)
			if (conns[i]->id == id && conns[i]->st != C_CLOSED) {
				out[0] = conns[i];
				return 1;
			}
	return 0;
}

static void ctl_command(struct ctl *k, char *line)
{
	char *argv[5] = { 0 };
	int argc = 0, defaults;
	uint64_t now = now_ms();
	struct rconn **sel = calloc(nconns + 1, sizeof *sel);
	size_t n;
	uint32_t ms = 0;

	if (!sel) {
		ctl_send(k, "err out of memory");
		return;
	}
	for (char *save = NULL, *tok = strtok_r(line, " \t\r", &save); tok && argc < 5;
	     tok = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = tok;
	if (argc == 0) {
		ctl_send(k, "err empty command");
		goto out;
	}
	if (strcmp(argv[0], "list") == 0) {
		size_t live = 0;
		for (size_t i = 0; i < nconns; i++) {
			struct rconn *c = conns[i];
			uint64_t bh = c->blackhole_until > now ? c->blackhole_until - now : 0;
			ctl_send(k, "conn %u state=%s up=%llu down=%llu idle_ms=%llu age_ms=%llu nat_ms=%u "
				 "latency_ms=%u blackhole_ms=%llu", c->id, cstate_names[c->st],
				 (unsigned long long)c->f[UP].bytes, (unsigned long long)c->f[DOWN].bytes,
				 (unsigned long long)((c->st == C_CLOSED ? c->closed_at : now) - c->last_activity),
				 (unsigned long long)(now - c->created), (unsigned)c->nat_ms,
				 (unsigned)c->latency_ms, (unsigned long long)bh);
			live += c->st != C_CLOSED;
		}
		ctl_send(k, "ok %zu", live);
		goto out;
	}
	if (strcmp(argv[0], "stats") == 0) {
		size_t open = 0, exp = 0;
		for (size_t i = 0; i < nconns; i++) {
			open += conns[i]->st == C_OPEN;
			exp += conns[i]->st == C_EXPIRED;
		}
		ctl_send(k, "ok accepted=%llu open=%zu expired_now=%zu expired=%llu closed=%llu refused=%llu",
			 (unsigned long long)stat_accepted, open, exp, (unsigned long long)stat_expired,
			 (unsigned long long)stat_closed, (unsigned long long)stat_refused);
		goto out;
	}
	n = targets(argv[1], sel, nconns, &defaults);
	if (strcmp(argv[0], "nat") == 0 || strcmp(argv[0], "latency") == 0 ||
	    strcmp(argv[0], "blackhole") == 0) {
		int nat = argv[0][0] == 'n', lat = argv[0][0] == 'l';
		if (argc != 3 || parse_u32(argv[2], &ms) < 0) {
			ctl_send(k, "err usage: %s TARGET MS", argv[0]);
			goto out;
		}
		if (!n && !defaults) {
			ctl_send(k, "err no such connection: %s", argv[1] ? argv[1] : "");
			goto out;
		}
		if (defaults && nat)
			def_nat_ms = ms;
		if (defaults && lat)
			def_latency_ms = ms;
		for (size_t i = 0; i < n; i++) {
			if (nat) {
				sel[i]->nat_ms = ms;
			} else if (lat) {
				sel[i]->latency_ms = ms;
			} else {
				sel[i]->blackhole_until = now + ms;
				logf_("blackhole id=%u ms=%u", sel[i]->id, (unsigned)ms);
			}
		}
		ctl_send(k, "ok %zu", n);
		goto out;
	}
	if (strcmp(argv[0], "rst") == 0 || strcmp(argv[0], "expire") == 0) {
		if (argc != 2 || !n) {
			ctl_send(k, "err usage: %s TARGET (a live connection)", argv[0]);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (argv[0][0] == 'r')
				conn_close(sel[i], 1, "rst_command");
			else
				conn_expire(sel[i], "expire_command");
		}
		ctl_send(k, "ok %zu", n);
		goto out;
	}
	if (strcmp(argv[0], "cut") == 0) {
		int dir;
		enum cut_mode m;
		if (argc != 4 || !n || (strcmp(argv[2], "up") && strcmp(argv[2], "down")) ||
		    (strcmp(argv[3], "rst") && strcmp(argv[3], "hang"))) {
			ctl_send(k, "err usage: cut TARGET up|down rst|hang (a live connection)");
			goto out;
		}
		dir = strcmp(argv[2], "up") == 0 ? UP : DOWN;
		m = strcmp(argv[3], "rst") == 0 ? CUT_RST : CUT_HANG;
		for (size_t i = 0; i < n; i++)
			sel[i]->f[dir].cut = m;
		ctl_send(k, "ok %zu", n);
		goto out;
	}
	ctl_send(k, "err unknown command %s", argv[0]);
out:
	free(sel);
}

void ctl_read(struct ctl *k)
{
	ssize_t n = read(k->fd, k->buf + k->len, sizeof k->buf - 1 - k->len);
	char *nl;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close(k->fd);
		k->fd = -1;
		k->len = 0;
		return;
	}
	k->len += (size_t)n;
	k->buf[k->len] = '\0';
	while ((nl = strchr(k->buf, '\n'))) {
		size_t used = (size_t)(nl - k->buf) + 1;
		*nl = '\0';
		ctl_command(k, k->buf);
		memmove(k->buf, k->buf + used, k->len - used);
		k->len -= used;
		k->buf[k->len] = '\0';
	}
	if (k->len == sizeof k->buf - 1) {
		ctl_send(k, "err line too long");
		k->len = 0;
	}
}

void on_ctl_accept(int lfd)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		size_t i;
		for (i = 0; i < MAX_CTL && ctls[i].fd >= 0; i++)
			;
		if (i == MAX_CTL) {
			close(fd);
			continue;
		}
		ctls[i].fd = fd;
		ctls[i].len = 0;
	}
}
