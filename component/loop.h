/* loop: xpushd's one event loop (epoll + timers + signalfd), in the spirit
 * of Redis's ae.c. Every socket and timer of the daemon is driven from here;
 * nothing else blocks. Handles and timers are caller-owned structs that the
 * loop only borrows, so registration never allocates. */
#ifndef XPUSH_LOOP_H
#define XPUSH_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

#include "monotime.h"

struct loop;
struct loop_io;
struct loop_timer;

typedef void (*loop_io_fn)(struct loop_io *io, uint32_t events);
typedef void (*loop_timer_fn)(struct loop_timer *t);
typedef void (*loop_signal_fn)(int signo, void *ud);

struct loop_io {
	int fd;          /* -1 when not registered */
	uint32_t events; /* EPOLLIN / EPOLLOUT currently watched */
	loop_io_fn fn;
	void *ud;
};

struct loop_timer {
	uint64_t due_ms; /* monotonic; valid when armed */
	int armed;
	loop_timer_fn fn;
	void *ud;
	struct loop_timer *next; /* loop's list of all timers */
};

/* NULL on failure (errno set). Blocks SIGTERM, SIGINT, SIGHUP and routes them
 * to fn through a signalfd; ignores SIGPIPE. */
struct loop *loop_new(loop_signal_fn fn, void *ud);
void loop_free(struct loop *l);

/* Watch io->fd for events (EPOLLIN|EPOLLOUT). 0 or -1 (errno set). */
__attribute__((warn_unused_result)) int loop_io_watch(struct loop *l, struct loop_io *io, int fd,
                                                      uint32_t events);
/* Change the watched events of a registered io. */
__attribute__((warn_unused_result)) int loop_io_update(struct loop *l, struct loop_io *io,
                                                       uint32_t events);
/* Stop watching (safe from inside any callback; io->fd becomes -1). */
void loop_io_unwatch(struct loop *l, struct loop_io *io);

/* Timers must be registered once (loop_timer_init) before being armed. */
void loop_timer_init(struct loop *l, struct loop_timer *t, loop_timer_fn fn, void *ud);
/* Unregister a timer before freeing the struct that holds it. */
void loop_timer_remove(struct loop *l, struct loop_timer *t);
void loop_timer_arm(struct loop_timer *t, uint64_t delay_ms);
/* Arm only if not armed or if this would fire earlier. */
void loop_timer_arm_min(struct loop_timer *t, uint64_t delay_ms);
void loop_timer_disarm(struct loop_timer *t);

/* Run until loop_stop(). Returns 0, or -1 if epoll itself failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
