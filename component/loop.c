/* loop: epoll for fds, a short list of caller-owned timers scanned each turn
 * (xpushd has a handful), and a signalfd so signals arrive as events instead
 * of interrupting libpq or expat mid-call. */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct loop {
	int epfd;
	int running;
	struct loop_timer *timers;
	struct loop_io sigio;
	loop_signal_fn sig_fn;
	void *sig_ud;
};

static void on_signal(struct loop_io *io, uint32_t events)
{
	struct loop *l = io->ud;
	struct signalfd_siginfo si;

	while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si)
		if (l->sig_fn)
			l->sig_fn((int)si.ssi_signo, l->sig_ud);
}

struct loop *loop_new(loop_signal_fn fn, void *ud)
{
	struct loop *l = calloc(1, sizeof *l);
	sigset_t set;
	int sfd;

	if (!l)
		return NULL;
	l->sigio.fd = -1;
	l->sig_fn = fn;
	l->sig_ud = ud;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		goto fail;
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		goto fail;
	l->sigio.fn = on_signal;
	l->sigio.ud = l;
	if (loop_io_watch(l, &l->sigio, sfd, EPOLLIN) < 0) {
		close(sfd);
		goto fail;
	}
	return l;
fail:
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
	return NULL;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->sigio.fd >= 0) {
		int fd = l->sigio.fd;
		loop_io_unwatch(l, &l->sigio);
		close(fd);
	}
	close(l->epfd);
	free(l);
}

int loop_io_watch(struct loop *l, struct loop_io *io, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	io->fd = fd;
	io->events = events;
	return 0;
}

int loop_io_update(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (io->fd < 0)
		return -1;
	if (io->events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -1;
	io->events = events;
	return 0;
}

void loop_io_unwatch(struct loop *l, struct loop_io *io)
{
	if (io->fd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->fd = -1;
	io->events = 0;
}

void loop_timer_init(struct loop *l, struct loop_timer *t, loop_timer_fn fn, void *ud)
{
	t->armed = 0;
	t->fn = fn;
	t->ud = ud;
	t->next = l->timers;
	l->timers = t;
}

void loop_timer_remove(struct loop *l, struct loop_timer *t)
{
	for (struct loop_timer **p = &l->timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->armed = 0;
}

void loop_timer_arm(struct loop_timer *t, uint64_t delay_ms)
{
	t->due_ms = monotime_ms() + delay_ms;
	t->armed = 1;
}

void loop_timer_arm_min(struct loop_timer *t, uint64_t delay_ms)
{
	uint64_t due = monotime_ms() + delay_ms;

	if (!t->armed || due < t->due_ms) {
		t->due_ms = due;
		t->armed = 1;
	}
}

void loop_timer_disarm(struct loop_timer *t)
{
	t->armed = 0;
}

static int next_timeout(struct loop *l, uint64_t now)
{
	uint64_t best = UINT64_MAX;

	for (struct loop_timer *t = l->timers; t; t = t->next)
		if (t->armed && t->due_ms < best)
			best = t->due_ms;
	if (best == UINT64_MAX)
		return 60000;
	if (best <= now)
		return 0;
	return best - now > 60000 ? 60000 : (int)(best - now);
}

static void run_timers(struct loop *l)
{
	uint64_t now = monotime_ms();

	/* A timer callback may arm any timer; restart the scan after each run so
	 * the list is never walked across a callback. */
	for (;;) {
		struct loop_timer *t;
		for (t = l->timers; t; t = t->next)
			if (t->armed && t->due_ms <= now)
				break;
		if (!t || !l->running)
			return;
		t->armed = 0;
		t->fn(t);
	}
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[64];

	l->running = 1;
	while (l->running) {
		int n = epoll_wait(l->epfd, evs, 64, next_timeout(l, monotime_ms()));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n && l->running; i++) {
			struct loop_io *io = evs[i].data.ptr;
			/* An earlier callback of this turn may have unwatched it. */
			if (io->fd < 0)
				continue;
			io->fn(io, evs[i].events);
		}
		run_timers(l);
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->running = 0;
}
