/* xpush.h: libxpush, the device side of xpush. The ONE public header.
 *
 * libxpush logs in to an XMPP server over mandatory, verified TLS, registers
 * the device with the xpush component (docs/protocol.md, urn:xpush:0),
 * receives notifications, de-duplicates them durably in a state directory,
 * hands each one to the application exactly once, acks it, and reconnects
 * with capped, jittered exponential backoff.
 *
 * Model (libuv/libcurl style):
 *   xpush_config_new()            build a configuration (string key/value
 *   xpush_config_set(...)          table, plus callbacks)
 *   xpush_client_new(cfg, &c)     validate it and create a client
 *   xpush_client_run(c)           run until xpush_client_stop() or a final
 *                                  failure; or drive it yourself with
 *   xpush_client_run_once(c, ms)   from your own loop
 *   xpush_client_free(c)
 *
 * Threads: a client is NOT thread-safe (libstrophe is not). Every function
 * except xpush_client_stop(), xpush_client_network_changed(),
 * xpush_client_set_network() and xpush_strerror() must be called from the one
 * thread that runs the client's
 * loop. Different clients may run on different threads. All callbacks are
 * invoked on the loop thread, from inside xpush_client_run[_once]().
 *
 * Blocking: libstrophe performs the TLS handshake synchronously inside
 * xpush_client_run[_once](), STARTTLS or direct TLS alike. A peer that stalls
 * mid-handshake holds that call at most until connect_timeout_ms of the
 * attempt has passed, or until xpush_client_stop() is called: a watchdog
 * thread of the client (one per client, it blocks all signals) then shuts
 * the attempt's socket down, the handshake fails, and the attempt counts as a
 * failed connect (reconnect with backoff; a stop ends the client). libstrophe
 * also resolves the server name (SRV/A lookups) synchronously before the
 * socket exists: that wait is bounded only by the system resolver's timeouts
 * (resolv.conf), and a stop takes effect after it. Notification callbacks
 * also run inline: keep them short.
 *
 * Signals: the process must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) before
 * running a client; a write to a closed TLS socket otherwise kills it. The
 * library never installs signal handlers itself.
 *
 * The library never exits, aborts or prints. Functions return 0 (XPUSH_OK)
 * or a negative enum xpush_error code; details go to the log callback.
 *
 * Ownership convention used below:
 *   "borrowed": the callee only reads it during the call (or the callback
 *               only may read it during the callback); the owner keeps it.
 *   "copied":   the library keeps its own copy; the caller may free its own
 *               at once.
 *   "owned by the library": do not free; valid for the stated lifetime. */
#ifndef XPUSH_H
#define XPUSH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(XPUSH_BUILDING) && defined(__GNUC__)
#define XPUSH_API __attribute__((visibility("default")))
#else
#define XPUSH_API
#endif

#define XPUSH_VERSION_STRING "0.1.0"
#define XPUSH_NS "urn:xpush:0"

/* Return codes. 0 is success; everything else is negative. */
enum xpush_error {
	XPUSH_OK = 0,
	XPUSH_EINVAL = -1,    /* invalid argument, unknown key, bad value, missing required key */
	XPUSH_ENOMEM = -2,    /* out of memory */
	XPUSH_EIO = -3,       /* state directory I/O failed */
	XPUSH_EBUSY = -4,     /* state directory is in use by another client/process */
	XPUSH_ESTATE = -5,    /* call not valid now (e.g. run from inside a callback) */
	XPUSH_ECONN = -6,     /* connection lost or could not be made (transient) */
	XPUSH_EAUTH = -7,     /* authentication failed (final: the client stops) */
	XPUSH_ETLS = -8,      /* TLS or certificate verification failed (final) */
	XPUSH_EREJECTED = -9, /* the component or server refused the device's
	                         registration as malformed (final) */
};

/* Client states. Transitions are reported through the event callback. */
enum xpush_state {
	XPUSH_STATE_IDLE = 0,      /* created, not run yet */
	XPUSH_STATE_CONNECTING,    /* TCP, STARTTLS, SASL, bind in progress */
	XPUSH_STATE_ACCOUNT_SETUP, /* creating the account in-band (XEP-0077) */
	XPUSH_STATE_CONNECTED,     /* TLS session up and authenticated; registering */
	XPUSH_STATE_REGISTERED,    /* the component confirmed the registration; the
	                              client passes through it on its way to ONLINE:
	                              the event callback is told, and ONLINE follows
	                              within the same call, so outside the callbacks
	                              xpush_client_state() never returns it */
	XPUSH_STATE_ONLINE,        /* directed presence sent: notifications flow */
	XPUSH_STATE_DISCONNECTED,  /* connection lost (transient); see reason */
	XPUSH_STATE_WAITING,       /* waiting delay_ms before reconnecting */
	XPUSH_STATE_STOPPING,      /* xpush_client_stop(): closing gracefully */
	XPUSH_STATE_STOPPED,       /* stopped after xpush_client_stop() (terminal) */
	XPUSH_STATE_FAILED,        /* final failure, see error/reason (terminal) */
};

enum xpush_log_level {
	XPUSH_LOG_DEBUG = 0,
	XPUSH_LOG_INFO = 1,
	XPUSH_LOG_WARN = 2,
	XPUSH_LOG_ERROR = 3,
};

/* A received notification. Allocated by the library; every pointer is
 * borrowed and valid only during the notification callback (copy what you
 * keep). Absent optional fields are NULL. New fields may be appended in
 * later versions: never allocate or copy this struct by value.
 *
 * Collapse: a notification whose collapse key equals that of one already
 * displayed REPLACES it (show it in the same slot, e.g. Android's
 * NotificationManager.notify(tag = collapse key, ...)); the older one is not
 * retracted separately. The component also drops (ledger: superseded) older
 * undelivered notifications with the same key, so an offline device gets
 * only the newest one. The library does not compare keys itself: it has no
 * view of what is on screen. */
struct xpush_notification {
	const char *id;       /* notification id (never NULL) */
	const char *app;      /* app attribute, or NULL */
	const char *priority; /* "normal" or "high" as sent, or NULL (= normal) */
	const char *collapse; /* collapse key (see above), or NULL */
	const char *expires;  /* ISO-8601 UTC: do not show it after this; NULL
	                         for "now or never" (ttl 0) or none given */
	const char *created;  /* ISO-8601 UTC, or NULL */
	const char *title;    /* element texts, byte-exact UTF-8, or NULL */
	const char *body;
	const char *uri;
	const char *payload;
	const char *from;  /* sender JID (the component), never NULL */
	const char *iq_id; /* the IQ id being acked, never NULL */
	int maybe_shown;   /* 1: handed to the app before, but the process died
	                         before the display was recorded; it may be on
	                         screen already: replace it (keyed by id), do not
	                         add a second one */
};

enum xpush_event_type {
	XPUSH_EVENT_STATE = 1,     /* state changed: state, old_state, error, reason, delay_ms */
	XPUSH_EVENT_ACKED,         /* an ack was queued for sending: id, duplicate */
	XPUSH_EVENT_DUPLICATE,     /* a redelivered id was seen (acked, not displayed): id */
	XPUSH_EVENT_REFUSED,       /* a notification or retract from a non-component
	                           sender was refused with service-unavailable:
	                           id (may be NULL), from */
	XPUSH_EVENT_RETRACT_ACKED, /* a retract was handled and its ack queued: id,
	                           duplicate (1: handled before, the retract callback
	                           was not called again) */
};

/* A retract: the producer withdrew notification id (push.retract() in SQL;
 * docs/protocol.md "Retract"). Pointers borrowed, valid only during the
 * callback. New fields may be appended in later versions. */
struct xpush_retract {
	const char *id;    /* notification id (never NULL) */
	const char *from;  /* the component JID (never NULL) */
	const char *iq_id; /* the IQ id being acked (never NULL) */
	int seen;          /* 1 if this state dir recorded notification id (it was
	                      handed to the notify callback, so it may be on screen);
	                      0 if it never arrived here (it will not be shown) */
};

/* Event record. Allocated by the library; pointers borrowed, valid only
 * during the callback. Fields not meaningful for a type are 0/NULL. New
 * fields may be appended in later versions. */
struct xpush_event {
	enum xpush_event_type type;
	enum xpush_state state;     /* STATE: the new state */
	enum xpush_state old_state; /* STATE: the previous state */
	int error;                  /* STATE: XPUSH_OK or why (XPUSH_ECONN, XPUSH_EAUTH, ...) */
	const char *reason;         /* STATE: human-readable cause, or NULL */
	const char *jid;            /* bound full JID once known, else the configured JID */
	uint32_t delay_ms;          /* STATE WAITING: delay before the next attempt */
	const char *id;             /* ACKED/DUPLICATE/REFUSED: notification id */
	const char *from;           /* REFUSED: the sender */
	int duplicate;              /* ACKED, RETRACT_ACKED: 1 if the id had been seen before */
	int retracted;              /* DUPLICATE: 1 if the id was retracted (a late
	                                copy after its retract: acked, never shown) */
};

/* Callbacks. userdata is the pointer given to xpush_config_set_userdata().
 * They run on the loop thread. They may call xpush_client_stop(); they must
 * not call xpush_client_run*, xpush_client_free. */

/* Log line: msg is key=value text without a trailing newline (borrowed).
 * Only lines at or above the configured log_level are delivered. Secrets
 * (password, SASL exchanges) are never logged. */
typedef void (*xpush_log_cb)(void *userdata, enum xpush_log_level level, const char *msg);

/* Display a notification. Called once per notification id (per component
 * JID and state directory, as long as the server may resend it; see
 * seen_retention_s). Before the call the
 * id is recorded durably as pending; when it returns, the display is
 * recorded durably and then the ack is sent, so a redelivery is acked and
 * NOT shown again. Nothing is lost to a crash: if the process dies before
 * the display was recorded (inside this callback, or just before it), the
 * notification is redelivered and this callback runs again with
 * n->maybe_shown = 1; display idempotently, keyed by id (Android:
 * NotificationManager.notify(tag, id) replaces). Never called for an id
 * whose retract arrived first (see xpush_retract_cb). */
typedef void (*xpush_notify_cb)(void *userdata, const struct xpush_notification *n);

/* Withdraw a notification: remove it from the screen if it is there
 * (r->seen says whether it ever arrived). The retracted id is then recorded
 * durably in the state directory and the retract is acked when this returns;
 * from then on a late copy of that notification (a redelivery that crossed
 * the retract) is acked but NOT handed to the notify callback. A retract
 * for an id never received is acked too, and remembered the same way.
 * Called once per id as a rule; if the process dies inside the callback, or
 * the id cannot be recorded, the retract is redelivered and the callback
 * runs again: make it idempotent (cancelling twice is harmless). */
typedef void (*xpush_retract_cb)(void *userdata, const struct xpush_retract *r);

/* State changes and delivery events. */
typedef void (*xpush_event_cb)(void *userdata, const struct xpush_event *ev);

/* ---- Configuration ----------------------------------------------------- */

typedef struct xpush_config xpush_config;

/* Create an empty configuration with defaults. *out receives a handle the
 * caller frees with xpush_config_free(). Returns XPUSH_OK, XPUSH_EINVAL
 * (out NULL) or XPUSH_ENOMEM. */
XPUSH_API int xpush_config_new(xpush_config **out);

/* Free a configuration (NULL is fine). The password is wiped. A client
 * created from it keeps its own copy. */
XPUSH_API void xpush_config_free(xpush_config *cfg);

/* Set one key from its string form. key and value are borrowed (copied).
 * Setting a key again replaces it, except "tag", which appends. value NULL
 * resets the key to its default (for "tag": removes all tags).
 *
 *  key                   type/unit        default       meaning
 *  jid                   JID              (required)    account JID, optionally with resource
 *  password              secret           (required)    account password (never logged)
 *  host                  hostname         JID domain    connect here instead of SRV/domain lookup
 *                                                       (with direct_tls: instead of the domain)
 *  port                  1..65535         5222          with host (or the domain); 5223 with direct_tls
 *  direct_tls            bool             false         TLS from the first byte (XEP-0368) to the
 *                                                       server's direct-TLS c2s port, no STARTTLS:
 *                                                       nothing is parsed before the certificate is
 *                                                       verified. Recommended where the server offers
 *                                                       it (docs/security.md). Never falls back to
 *                                                       STARTTLS; the certificate rules are the same
 *  ca_file               path             system store  extra trusted CA(s), PEM; must be readable
 *  component             JID              (required)    the xpush component, e.g. push.example.org
 *  app                   string<=128      (required)    application id, e.g. com.example.news
 *  device                string<=128      (required)    stable install id
 *  alias                 string<=128      none          optional alias
 *  tag                   string<=64       none          repeatable, up to 64, no duplicates
 *  platform              string<=32       none          e.g. android, linux
 *  register_token        string<=256      none          the app's registration token, from the
 *                                                       app's own server, for an app whose policy
 *                                                       is token (docs/apps.md); sent in every
 *                                                       <register/>
 *  state_dir             path             (required)    durable state (dedup store); created if missing
 *  register_account      bool             false         on the first authentication failure, create
 *                                                       the account in-band (XEP-0077), then retry once
 *  log_level             debug|info|warn|error  info
 *  reconnect_base_ms     ms               2000          first reconnect delay scale
 *  reconnect_cap_ms      ms               300000        no reconnect delay exceeds this
 *  stable_after_ms       ms               60000         online this long resets the backoff
 *  connect_timeout_ms    ms               30000         TCP+TLS+auth must finish within this (also
 *                                                       ends a stalled TLS handshake; name
 *                                                       resolution cannot be cut short)
 *  register_timeout_ms   ms               30000         wait this long for <registered/>
 *  heartbeat_ms          ms               240000        0 = no heartbeats at all; otherwise the fixed
 *                                                       interval when heartbeat_adaptive is false
 *  heartbeat_timeout_ms  ms               20000         no pong within this = dead link, reconnect at once
 *  heartbeat_adaptive    bool             true          learn the interval per network (below)
 *  heartbeat_min_ms      ms               60000         start (and floor) of the learned interval
 *  heartbeat_max_ms      ms               600000        ceiling of the learned interval; the server's
 *                                                       idle timeout must exceed max + timeout
 *  heartbeat_step_ms     ms               30000         step up/down of the learned interval
 *  heartbeat_step_after  count            3             answered heartbeats before a step up
 *  heartbeat_backoff_after count          2             misses of a proven interval before a step down
 *  heartbeat_probe_after count            30            answered heartbeats at the settled interval
 *                                                       before probing one step higher; 0 = never
 *  network               string<=128      "default"     key of the network the device starts on
 *                                                       (see xpush_client_set_network)
 *  stop_timeout_ms       ms               3000          graceful close limit for xpush_client_stop
 *  seen_retention_s      s                3024000       server-time lifetime (35 days, > the 4-week
 *                                                       max TTL) of a seen id whose notification
 *                                                       gave no expiry (ttl 0, retracts); an id
 *                                                       with one is kept until the server's clock
 *                                                       (learned from the notifications' created
 *                                                       stamps) is past it. The device clock never
 *                                                       drops an id
 *  seen_max_lines        count            10000         compact the dedup log past this
 *  seen_max_ids          count            100000        hard cap on remembered ids: past it the
 *                                                       ids with the soonest expiry are evicted
 *                                                       (logged: a redelivery of one could be
 *                                                       shown again)
 *
 * bool accepts 1/0, true/false, yes/no, on/off. Returns XPUSH_OK,
 * XPUSH_EINVAL (unknown key or bad value; nothing changed) or XPUSH_ENOMEM. */
XPUSH_API int xpush_config_set(xpush_config *cfg, const char *key, const char *value);

/* Reason of the last failed xpush_config_set(), e.g. "port: must be an
 * integer in 1..65535"; "" after a success. Owned by cfg. */
XPUSH_API const char *xpush_config_last_error(const xpush_config *cfg);

/* Callbacks and their shared userdata (borrowed: must outlive the client).
 * Any callback may be NULL. */
XPUSH_API void xpush_config_set_log_cb(xpush_config *cfg, xpush_log_cb cb);
XPUSH_API void xpush_config_set_notify_cb(xpush_config *cfg, xpush_notify_cb cb);
XPUSH_API void xpush_config_set_retract_cb(xpush_config *cfg, xpush_retract_cb cb);
XPUSH_API void xpush_config_set_event_cb(xpush_config *cfg, xpush_event_cb cb);
XPUSH_API void xpush_config_set_userdata(xpush_config *cfg, void *userdata);

/* ---- Client ------------------------------------------------------------ */

typedef struct xpush_client xpush_client;

/* Validate cfg and create a client: cfg is borrowed (copied; free it when you
 * like). Opens (and locks) the dedup store in state_dir. Does not connect:
 * that happens in the first xpush_client_run[_once]. On success *out receives
 * a handle to free with xpush_client_free(); on failure *out is NULL and the
 * reason was logged through cfg's log callback. Returns XPUSH_OK,
 * XPUSH_EINVAL (missing/invalid setting, unreadable ca_file), XPUSH_EIO,
 * XPUSH_EBUSY (state_dir locked by another client) or XPUSH_ENOMEM. */
XPUSH_API int xpush_client_new(const xpush_config *cfg, xpush_client **out);

/* Run the client until it stops: returns XPUSH_OK after xpush_client_stop()
 * (once the graceful close finished or stop_timeout_ms passed), or the final
 * error (XPUSH_EAUTH, XPUSH_ETLS, XPUSH_EREJECTED), or XPUSH_ESTATE if called
 * from a callback. Transient failures never return: they reconnect. */
XPUSH_API int xpush_client_run(xpush_client *c);

/* One loop iteration for applications that own the loop: waits at most
 * timeout_ms (less if a timer is due) for network events, handles them and
 * the client's timers. Returns 1 while the client is active (call again),
 * 0 once it has stopped after xpush_client_stop(), or a negative final error
 * as xpush_client_run() does. Calling it again after it returned <= 0 just
 * returns the same value. */
XPUSH_API int xpush_client_run_once(xpush_client *c, unsigned timeout_ms);

/* Ask the client to stop: when online it sends unavailable presence and closes
 * the stream (acks already queued are flushed first), then
 * xpush_client_run() returns XPUSH_OK; while still connecting or waiting to
 * reconnect it stops at once. Async-signal-safe and callable
 * from any thread (it sets an atomic flag and wakes the client's watchdog
 * thread with a write to an eventfd). The loop thread notices it at once when
 * the signal interrupts its wait, otherwise within 500 ms in
 * xpush_client_run() or at the next xpush_client_run_once(); when the loop
 * thread is blocked in a TLS handshake, the watchdog shuts that socket down
 * so the handshake returns at once. */
XPUSH_API void xpush_client_stop(xpush_client *c);

/* Tell the client the network changed (Wi-Fi <-> cellular, new address) and
 * stays known under the same key. Same thread rules as xpush_client_stop().
 * Reconnects at once with a fresh backoff: when online (or registering) the
 * socket, which belongs to the old path, is dropped without a stream close
 * (a stream-management session then resumes on the new path); when waiting
 * to reconnect it connects now. Prefer xpush_client_set_network(). */
XPUSH_API void xpush_client_network_changed(xpush_client *c);

/* The device is now on network `network`, and reconnects at once as
 * xpush_client_network_changed() does. The heartbeat interval is learned per
 * network key (docs/heartbeat.md): the new connection uses what was learned
 * for this key before (persisted in state_dir/heartbeat.tab), or starts
 * learning at heartbeat_min_ms for a key never seen.
 *
 * The key names the path through which the TCP connection leaves the
 * device, stable across visits and different where NAT behaviour differs.
 * On Android: "wifi:" + the SSID (or the BSSID when the SSID is hidden),
 * "cell:" + the MCC-MNC of the carrier (+ ":roaming" when roaming),
 * "ethernet", "vpn:" + the VPN app. Never a per-connection value (IP
 * address, cell id): every new key starts learning from scratch. The key is
 * stored on the device only; pass a hash if the SSID is sensitive.
 *
 * network is borrowed (copied), 1..128 bytes of printable UTF-8; NULL or ""
 * keeps the current key (the same as xpush_client_network_changed()).
 * Callable from any thread (it takes a mutex: not async-signal-safe); the
 * loop thread applies it as it notices xpush_client_stop(). Returns XPUSH_OK,
 * or XPUSH_EINVAL (c NULL or an invalid key; nothing changed). */
XPUSH_API int xpush_client_set_network(xpush_client *c, const char *network);

/* Current state (loop thread only). */
XPUSH_API enum xpush_state xpush_client_state(const xpush_client *c);

/* Human-readable reason of the last failure or disconnect, or "" if none.
 * Owned by the library, valid until the next run call or free. */
XPUSH_API const char *xpush_client_last_reason(const xpush_client *c);

/* Free the client (NULL is fine). If still connected the socket is closed
 * abruptly (call xpush_client_stop() and run until it returns for a graceful
 * close). Must not be called from a callback. */
XPUSH_API void xpush_client_free(xpush_client *c);

/* Static description of an xpush_error code (owned by the library, never NULL). */
XPUSH_API const char *xpush_strerror(int code);

/* Static name of a state, e.g. "online" (never NULL). */
XPUSH_API const char *xpush_state_name(enum xpush_state state);

/* Library version string, e.g. "0.1.0" (static). */
XPUSH_API const char *xpush_version(void);

#ifdef __cplusplus
}
#endif

#endif
