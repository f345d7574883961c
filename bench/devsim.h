/* devsim: the device connection, state S and calls shared by devsim.c and devsim_xmpp.c. */
#ifndef DEVSIM_H
#define DEVSIM_H

#include <expat.h>
#include <openssl/ssl.h>
#include <stdint.h>

#include "bench_util.h"

enum cst {
	C_IDLE, C_TCP, C_FEAT1, C_PROCEED, C_TLS, C_FEAT2, C_IBR, C_AUTH, C_FEAT3, C_BIND,
	C_REG, C_ONLINE, C_CLOSING
};

#define FEAT_TLS 1u
#define FEAT_MECH 2u
#define FEAT_BIND 4u

enum restart { RS_NONE, RS_TLS, RS_STREAM };

struct conn {
	int idx;                 /* device number: account <prefix><idx> */
	int fd;
	enum cst st;
	uint32_t ev;             /* current epoll interest; 0 = not registered */
	SSL *ssl;
	XML_Parser xp;
	int depth;
	char name[24], type[12], id[96], from[192];  /* the depth-2 element */
	char child[24], child_ns[48], err_cond[40];
	unsigned feat;
	int in_error;            /* inside the stanza's <error/> */
	enum restart restart;
	int dead, failed, want_online, want_write, fails, queued;
	int64_t t_start_ms, close_deadline_ms;
	struct bbuf out;
	char why[96];
};

struct rec {
	int64_t t_ns, id;
	int32_t dev;
	char kind;
};

struct devsim {
	/* settings */
	const char *host, *domain, *ca, *prefix, *password, *resource, *component, *app;
	const char *ctl_path, *status_path, *out_path;
	int port, first, count, concurrency, ibr, xpush_mode;
	/* runtime */
	int ep, ctl_fd;
	SSL_CTX *tls;
	struct conn *c;
	int *pending;            /* FIFO of conn indexes waiting to connect */
	int p_head, p_tail, p_len;
	int online, logging_in, gave_up, dumps, quitting;
	long long received, acks, failures, server_closes, logins;
	struct rec *recs;
	size_t nrecs, caprecs;
	struct bbuf ctl_pending;
	int64_t login_us_sum;
};

extern struct devsim S;

/* devsim.c */
void record(char kind, int64_t id, int dev, int64_t t_ns);
void send_str(struct conn *c, const char *s);
void send_header(struct conn *c);

/* devsim_xmpp.c */
void parser_reset(struct conn *c);

#endif
