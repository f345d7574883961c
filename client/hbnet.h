/* hbnet: the heartbeat of a client, per network. Bridges the pure pieces
 * (heartbeat.c schedules pings, netlearn.c learns the interval) to the client:
 * which network the device is on (config key "network",
 * xpush_client_set_network()), the learned table in the state directory
 * (hbstore.c), the log lines, and the socket options that back the
 * heartbeat up (TCP_USER_TIMEOUT, TCP keepalive). Loop thread only, except
 * hbnet_set_pending() (from xpush_client_set_network() in client.c), which
 * only hands a key over under a mutex. */
#ifndef XPUSH_HBNET_H
#define XPUSH_HBNET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "hbstore.h"
#include "netlearn.h"

struct xpush_client;

struct hbnet {
	int adaptive; /* learn per network (else the fixed heartbeat_ms) */
	struct nl_params p;
	struct hbstore *store; /* NULL: the file could not be read; learn in memory */
	char key[HBSTORE_KEY_MAX + 1];
	struct nl_state st; /* the current network's learner */
	int store_warned;   /* one warning per client for a failing save */
	/* handed over by xpush_client_set_network() from any thread */
	pthread_mutex_t mu;
	char pending[HBSTORE_KEY_MAX + 1];
	atomic_int has_pending;
};

/* Set up from c->cfg and load the table (after the state dir exists).
 * Returns XPUSH_OK or XPUSH_ENOMEM; an unreadable table only logs a warning. */
int hbnet_open(struct xpush_client *c);
void hbnet_close(struct xpush_client *c);

/* Interval to ping at now: learned, or the fixed heartbeat_ms (0 = off). */
uint32_t hbnet_interval(const struct xpush_client *c);

/* The session went online: start heartbeats at the current interval. */
void hbnet_start(struct xpush_client *c, uint64_t now);
/* A stanza arrived (the NAT mapping was refreshed). */
void hbnet_activity(struct xpush_client *c, uint64_t now);
/* The ping was answered: learn from it. */
void hbnet_pong(struct xpush_client *c, uint64_t now);
/* The ping went unanswered (HB_DEAD): learn from it before the link is torn down. */
void hbnet_dead(struct xpush_client *c);

/* Hand a network key over from any thread (xpush_client_set_network()):
 * taken by hbnet_take_pending() on the loop thread. XPUSH_OK, or
 * XPUSH_EINVAL (not a valid key; nothing changed). */
int hbnet_set_pending(struct xpush_client *c, const char *key);

/* Apply a key handed over by hbnet_set_pending(); returns 1 if the network
 * key changed. */
int hbnet_take_pending(struct xpush_client *c);

/* Socket options for a new connection's socket (libstrophe's sockopt hook). */
void hbnet_sockopts(struct xpush_client *c, int fd);

#endif
