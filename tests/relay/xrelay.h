/* xrelay: the connection table, counters and calls shared by xrelay.c and xrelay_ctl.c. */
#ifndef XRELAY_H
#define XRELAY_H

#include <stddef.h>
#include <stdint.h>

#define MAX_QUEUE (1u << 20)
#define CHUNK 16384
#define MAX_CTL 8
#define CTL_LINE 512

enum cstate { C_CONNECTING, C_OPEN, C_EXPIRED, C_CLOSED };

enum { UP = 0, DOWN = 1 }; /* UP: device -> server (cfd -> sfd) */
enum cut_mode { CUT_NONE = 0, CUT_RST, CUT_HANG };

struct chunk {
	struct chunk *next;
	uint64_t due;
	size_t len, off;
	char data[];
};

struct flow {
	struct chunk *head, *tail;
	size_t queued;
	uint64_t bytes;     /* read from the source */
	int eof;            /* the source closed */
	enum cut_mode cut;  /* armed for the next chunk */
	enum cut_mode after; /* the half chunk is queued: act once it is sent */
};

struct rconn {
	unsigned id;
	int fd[2];          /* [UP] = device side (source of UP), [DOWN] = server side */
	enum cstate st;
	uint64_t created, last_activity, closed_at, blackhole_until;
	uint32_t nat_ms, latency_ms;
	struct flow f[2];
	const char *why;    /* of the close */
};

struct ctl {
	int fd;
	char buf[CTL_LINE];
	size_t len;
};

extern struct rconn **conns;
extern size_t nconns, max_conns;
extern uint32_t def_nat_ms, def_latency_ms;
extern uint64_t stat_accepted, stat_expired, stat_closed, stat_refused;
extern struct ctl ctls[MAX_CTL];

/* xrelay.c */
uint64_t now_ms(void);
void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void conn_close(struct rconn *c, int rst, const char *why);
void conn_expire(struct rconn *c, const char *why);

/* xrelay_ctl.c */
int parse_u32(const char *s, uint32_t *out);
void ctl_read(struct ctl *k);
void on_ctl_accept(int lfd);

#endif
