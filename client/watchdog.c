/* watchdog.c: the bound on a connection attempt that libstrophe's blocking
 * calls cannot escape.
 *
 * libstrophe 0.12 runs the TLS handshake (after <proceed/>, or at once with
 * direct TLS) in a loop of SSL_connect() and 100 ms select() slices with no
 * deadline of its own: a peer that accepts TCP and then stays silent holds
 * the loop thread inside xmpp_run_once() without limit, so neither the
 * connect deadline (client.c) nor xpush_client_stop() could act. The
 * watchdog is one thread per client that, from outside that call, shuts the
 * attempt's socket down (shutdown(SHUT_RDWR)) once the attempt's deadline
 * passes or xpush_client_stop() is called: the blocked select() then sees
 * the socket readable, SSL_connect() reads EOF and fails, and libstrophe
 * reports a disconnect as for any dead peer. The same shutdown ends a TCP
 * connect in progress and the non-blocking stream/SASL phases.
 *
 * Descriptor safety: the watchdog never touches libstrophe's descriptor. When
 * libstrophe creates the socket (the sockopt callback, loop thread) the
 * watchdog gets its own duplicate of it (F_DUPFD_CLOEXEC): shutdown() acts on
 * the socket both descriptors share, and the duplicate cannot be closed or
 * reused by anyone else while the watchdog holds it. The duplicate is closed
 * under the watchdog's mutex (loop thread) when the attempt ends (session up,
 * disconnect, a new attempt, free), so the thread never shuts down a
 * descriptor number that was closed and reused. libstrophe still closes its
 * own descriptor itself, once: no double close. Holding the duplicate keeps
 * the socket open only between libstrophe's close and our DISCONNECT
 * callback, which follows it in the same call.
 *
 * The thread sleeps in poll() on an eventfd; arming, disarming, stop and
 * quit write to it (write() on an eventfd is async-signal-safe, so
 * xpush_client_stop() stays callable from a signal handler). It blocks every
 * signal, so process-directed signals keep interrupting the loop thread's
 * wait. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_impl.h"

static void wd_wake(struct watchdog *w)
{
	uint64_t one = 1;

	if (w->efd >= 0) {
		ssize_t n = write(w->efd, &one, sizeof one); /* EAGAIN: already pending */
		(void)n;
	}
}

static void *wd_main(void *arg)
{
	struct watchdog *w = arg;
	struct pollfd pfd;
	uint64_t v;

	pthread_mutex_lock(&w->mu);
	while (!w->quit) {
		int timeout = -1;

		if (w->fd >= 0 && !atomic_load(&w->fired)) {
			uint64_t now = monotime_ms();
			int why = 0;

			if (w->stop_flag && atomic_load(w->stop_flag))
				why = WD_FIRED_STOP;
			else if (now >= w->deadline_ms)
				why = WD_FIRED_DEADLINE;
			if (why) {
				atomic_store(&w->fired, why);
				(void)shutdown(w->fd, SHUT_RDWR);
				continue;
			}
			if (w->deadline_ms != CLIENT_NEVER)
				timeout = w->deadline_ms - now > 60000
				                  ? 60000
				                  : (int)(w->deadline_ms - now);
		}
		pthread_mutex_unlock(&w->mu);
		pfd.fd = w->efd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, timeout) > 0 && (pfd.revents & POLLIN)) {
			ssize_t n = read(w->efd, &v, sizeof v);
			(void)n;
		}
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int wd_init(struct watchdog *w, atomic_int *stop_flag)
{
	sigset_t all, old;
	int rc;

	memset(w, 0, sizeof *w);
	w->fd = -1;
	w->deadline_ms = CLIENT_NEVER;
	w->stop_flag = stop_flag;
	atomic_init(&w->fired, 0);
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -1;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		close(w->efd);
		w->efd = -1;
		return -1;
	}
	/* the thread inherits this mask: it never takes a signal meant for the loop */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thr, NULL, wd_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_mutex_destroy(&w->mu);
		close(w->efd);
		w->efd = -1;
		return -1;
	}
	w->started = 1;
	return 0;
}

void wd_arm(struct watchdog *w, int sock, uint64_t deadline_ms)
{
	int dup_fd;

	if (!w->started)
		return;
	dup_fd = fcntl(sock, F_DUPFD_CLOEXEC, 0);
	pthread_mutex_lock(&w->mu);
	if (w->fd >= 0)
		close(w->fd); /* a socket libstrophe gave up on (next address) */
	w->fd = dup_fd;       /* -1 if dup failed: this attempt is bounded by the loop only */
	w->deadline_ms = deadline_ms;
	atomic_store(&w->fired, 0);
	pthread_mutex_unlock(&w->mu);
	wd_wake(w);
}

void wd_disarm(struct watchdog *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->deadline_ms = CLIENT_NEVER;
	pthread_mutex_unlock(&w->mu);
	/* no wake needed: a thread that wakes finds nothing armed */
}

int wd_fired(const struct watchdog *w)
{
	return atomic_load(&((struct watchdog *)w)->fired);
}

void wd_poke(struct watchdog *w)
{
	wd_wake(w);
}

void wd_destroy(struct watchdog *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_mutex_unlock(&w->mu);
	wd_wake(w);
	pthread_join(w->thr, NULL);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	pthread_mutex_destroy(&w->mu);
	close(w->efd);
	w->efd = -1;
	w->started = 0;
}
