/* client_impl.h: the private state of one xpush_client, shared by the files
 * that make up the client: client.c the loop and the state machine, on top;
 * below it conn.c the libstrophe connection, session.c the urn:xpush:0
 * session, notify.c and retract.c the delivery paths, account.c in-band
 * registration, hbnet.c the heartbeat, cevent.c the application's events.
 * The files below client.c never call into it: they report through
 * client_report() (or a return value) and client.c decides. Not installed. */
#ifndef XPUSH_CLIENT_IMPL_H
#define XPUSH_CLIENT_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <strophe.h>

#include "backoff.h"
#include "cfg.h"
#include "clog.h"
#include "hbnet.h"
#include "heartbeat.h"
#include "monotime.h"
#include "seen.h"
#include "xpush.h"

#define CLIENT_REASON_MAX 256
#define CLIENT_NEVER UINT64_MAX

/* Why a connection ended, decided by conn.c when libstrophe reports it. */
enum close_cause {
	CLOSE_TRANSIENT = 0, /* reconnect with backoff */
	CLOSE_AUTH,          /* authentication failed */
	CLOSE_TLS,           /* certificate, STARTTLS or TLS handshake failure */
};

struct account_reg; /* account.c */

/* What the files below client.c report to it. They never move the state
 * machine themselves: client.c's c->report decides what follows, through
 * its one transition function. */
enum client_event_type {
	CLIENT_EV_SESSION_UP = 1,   /* conn.c: the stream is authenticated and bound */
	CLIENT_EV_LOST,             /* conn.c: the connection ended (cause, reason) */
	CLIENT_EV_REGISTERED,       /* session.c: the component confirmed the registration */
	CLIENT_EV_REFUSED,          /* session.c: the component refused it for good */
	CLIENT_EV_REGISTER_TIMEOUT, /* session.c: no reply to the registration in time */
	CLIENT_EV_DEAD_LINK,        /* session.c: a heartbeat went unanswered */
	CLIENT_EV_STORE_FAILED,     /* notify.c, retract.c: an id could not be recorded */
};

struct client_event {
	enum client_event_type type;
	enum close_cause cause; /* LOST */
	const char *reason;     /* borrowed; NULL for SESSION_UP and REGISTERED */
};

/* watchdog.c: shuts a connection attempt's socket down from another thread
 * when its deadline passes or stop is asked, even while the loop thread is
 * blocked inside libstrophe (the TLS handshake). */
#define WD_FIRED_DEADLINE 1
#define WD_FIRED_STOP 2
struct watchdog {
	pthread_t thr;
	int started;
	pthread_mutex_t mu;
	int efd;              /* eventfd waking the thread */
	int fd;               /* our duplicate of the attempt's socket, or -1 (under mu) */
	uint64_t deadline_ms; /* monotonic (under mu) */
	int quit;             /* under mu */
	atomic_int fired;     /* WD_FIRED_* for the current attempt, 0 = not fired */
	atomic_int *stop_flag;
};

/* What one connection attempt (the login's, or the in-band registration's)
 * has seen and decided. Every field starts fresh with the attempt: it is
 * reset as a whole by conn_attempt_reset(), never field by field. */
struct attempt {
	uint64_t connect_deadline_ms; /* the loop's bound on the login (client.c) */
	uint64_t attempt_deadline_ms; /* the watchdog's deadline for the socket being made */
	int session_up;               /* XMPP_CONN_CONNECT seen */
	int tls_up;                   /* TLS was seen established (polled: libstrophe
	                            forgets it before reporting a disconnect) */
	int cert_failed;              /* certfail handler rejected a certificate */
	int no_starttls;              /* server offered no STARTTLS while mandatory */
	int starttls_refused;         /* server answered <starttls/> with <failure/> */
	int tls_start_failed;         /* libstrophe could not start TLS (handshake) */
	int tls_start_error;          /* then: its tls_error, an SSL_ERROR_* code */
	char tls_detail[96];          /* OpenSSL's reason for that failure, if logged */
	int auth_rejected;            /* libstrophe ran out of SASL mechanisms */
	int we_closed;                /* we called xmpp_disconnect: not an auth failure */
	int sock_fd;                /* the connection's socket while libstrophe holds it, else -1 */
	int pending_final;          /* a final error to enter once the stream closed */
	uint64_t close_deadline_ms; /* with pending_final: fail by then even without a close */
	char close_reason[CLIENT_REASON_MAX];
	char tls_reason[CLIENT_REASON_MAX];
};

struct xpush_client {
	struct xpush_config cfg; /* own copy */
	struct clog log;
	char domain[1024]; /* of cfg.jid */

	xmpp_log_t xlog;
	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	struct account_reg *acct;
	struct seen *seen;

	enum xpush_state state;
	int final_error; /* once FAILED */
	char reason[CLIENT_REASON_MAX];
	char *bound_jid; /* strdup'ed from libstrophe at each CONNECT */

	/* reconnect */
	struct backoff backoff;
	uint64_t reconnect_at_ms;
	uint64_t stable_at_ms; /* backoff resets when online until then */
	int reconnect_now;     /* network changed: the next attempt without delay */
	int account_tried;     /* in-band registration was answered once */
	int account_pending;   /* start it from the loop */

	/* the current connection attempt (login or in-band registration) */
	struct attempt at;
	struct watchdog wd;

	/* session (session.c) */
	unsigned seq;
	char register_id[32];
	char ping_id[32];
	uint64_t register_deadline_ms;
	uint64_t register_retry_ms;
	struct backoff reg_backoff;
	struct hb hb;
	struct hbnet hbn; /* per-network interval (hbnet.c) */
	int hbn_open;

	/* client.c's handler of what the other files report (client_report) */
	void (*report)(struct xpush_client *c, const struct client_event *ev);

	/* loop */
	atomic_int stop_flag;
	atomic_int netchg_flag;
	uint64_t stop_deadline_ms;
	int in_loop;
	int freeing;
};

/* Report an event without a close cause to client.c (see enum client_event_type). */
static inline void client_report(struct xpush_client *c, enum client_event_type type,
                                 const char *reason)
{
	struct client_event ev = { .type = type, .cause = CLOSE_TRANSIENT, .reason = reason };

	c->report(c, &ev);
}

/* conn.c */
int conn_setup(struct xpush_client *c);
/* A fresh struct attempt whose sockets the watchdog bounds by deadline_ms. */
void conn_attempt_reset(struct xpush_client *c, uint64_t deadline_ms);
/* Start the login: a fresh attempt, connect_deadline_ms = deadline_ms. */
int conn_start(struct xpush_client *c, uint64_t deadline_ms);
void conn_set_current(struct xpush_client *c);
/* Remember that TLS came up; call after every xmpp_run_once. */
void conn_poll_tls(struct xpush_client *c);
void conn_apply_tls(struct xpush_client *c, xmpp_conn_t *conn);
/* Tear the connection down now, without a stream close (dead link, network
 * change): shuts the socket down so libstrophe reports the disconnect at its
 * next read; a stream-management session stays resumable. */
void conn_abort(struct xpush_client *c, const char *reason);
void conn_strophe_log(void *userdata, xmpp_log_level_t level, const char *area, const char *msg);
/* Called from the loop: acts on what the log told (STARTTLS refused). */
void conn_tick(struct xpush_client *c);
/* A TLS start that libstrophe reported failed (c->at.tls_start_failed) and
 * no certificate was rejected: CLOSE_TLS for a protocol error (the peer
 * does not speak TLS, or not acceptably), CLOSE_TRANSIENT when the
 * connection just ended; reason says which. */
enum close_cause conn_tls_start_cause(const struct xpush_client *c, char *reason, size_t len);
/* Why an attempt ended that the watchdog cut (wd_fired()): always transient. */
enum close_cause conn_watchdog_cause(const struct xpush_client *c, char *reason, size_t len);

/* watchdog.c */
int wd_init(struct watchdog *w, atomic_int *stop_flag);
/* Watch a new socket (dup'ed) until deadline_ms; replaces one watched before. */
void wd_arm(struct watchdog *w, int sock, uint64_t deadline_ms);
/* Stop watching and close the duplicate (the attempt ended or the session is up). */
void wd_disarm(struct watchdog *w);
/* WD_FIRED_* if it shut the current attempt's socket down, else 0. */
int wd_fired(const struct watchdog *w);
/* Wake the thread to look at the stop flag (async-signal-safe). */
void wd_poke(struct watchdog *w);
void wd_destroy(struct watchdog *w);

/* session.c */
/* Install the IQ and traffic handlers on c->conn (once, after conn_setup). */
void session_attach(struct xpush_client *c);
/* The stream is up: remember the JID the server bound (events name it from
 * now on) and start the registration's backoff afresh. */
void session_bind(struct xpush_client *c);
/* Send the device registration (in CONNECTED). */
void session_register(struct xpush_client *c, uint64_t now);
/* The directed presence that takes the device online (after REGISTERED). */
void session_send_presence(struct xpush_client *c);
void session_on_disconnect(struct xpush_client *c);
void session_tick(struct xpush_client *c, uint64_t now);
uint64_t session_next_wake(const struct xpush_client *c);
void session_send_unavailable(struct xpush_client *c);

/* cevent.c: the application's event callback */
/* A state change from -> to (reason may be NULL; delay_ms for WAITING). */
void cevent_state(struct xpush_client *c, enum xpush_state from, enum xpush_state to, int error,
                  const char *reason, uint32_t delay_ms);
/* A delivery event (ACKED, DUPLICATE, REFUSED, RETRACT_ACKED) for id. */
void cevent_delivery(struct xpush_client *c, enum xpush_event_type t, const char *id,
                     const char *from, int dup, int retracted);

/* notify.c */
void notify_handle(struct xpush_client *c, xmpp_stanza_t *iq, xmpp_stanza_t *n);

/* retract.c */
void retract_handle(struct xpush_client *c, xmpp_stanza_t *iq, xmpp_stanza_t *r);

/* account.c */
/* How an in-band registration ended (ACCOUNT_RUNNING: not yet). */
enum account_result {
	ACCOUNT_RUNNING = 0,
	ACCOUNT_CREATED,   /* the account was created: log in again */
	ACCOUNT_EXISTS,    /* <conflict/>: it exists, log in again */
	ACCOUNT_REFUSED,   /* the server refused it: authentication failed for good */
	ACCOUNT_TLS,       /* a TLS or certificate failure */
	ACCOUNT_TRANSIENT, /* network trouble or a timeout */
};
/* Start the registration on a connection of its own. XPUSH_OK or XPUSH_ENOMEM. */
int account_start(struct xpush_client *c);
/* Drive it: ACCOUNT_RUNNING until it has ended; then its connection is
 * released, reason says why, and the result is returned (once). */
enum account_result account_tick(struct xpush_client *c, uint64_t now, char *reason, size_t len);
uint64_t account_next_wake(const struct xpush_client *c);
/* Drop the registration connection at once (stop, free). */
void account_release(struct xpush_client *c);

#endif
