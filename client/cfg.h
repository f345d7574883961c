/* cfg: the client configuration as one table of keys (name, type with unit,
 * limits, default). Pure: parsing and validation only, no I/O. The struct
 * below is what the public opaque xpush_config is. */
#ifndef XPUSH_CFG_H
#define XPUSH_CFG_H

#include <stddef.h>
#include <stdint.h>
#include "xpush.h"

#define CFG_MAX_TAGS 64
#define CFG_ERR_MAX 256
#define CFG_PORT_STARTTLS 5222   /* xmpp-client */
#define CFG_PORT_DIRECT_TLS 5223 /* the customary direct-TLS c2s port (XEP-0368) */

struct xpush_config {
	/* strings: owned, NULL when unset */
	char *jid, *password, *host, *ca_file, *component, *app, *device;
	char *alias, *platform, *state_dir;
	char *register_token; /* the app's registration token, sent in <register/> */
	char *network;        /* heartbeat: the network key the device starts on */
	char *tags[CFG_MAX_TAGS];
	size_t ntags;
	uint32_t port;
	uint32_t port_given; /* port was set explicitly (else it follows direct_tls) */
	uint32_t direct_tls; /* TLS from the first byte (XEP-0368), no STARTTLS */
	uint32_t register_account;
	uint32_t log_level; /* enum xpush_log_level */
	uint32_t reconnect_base_ms, reconnect_cap_ms, stable_after_ms;
	uint32_t connect_timeout_ms, register_timeout_ms;
	uint32_t heartbeat_ms, heartbeat_timeout_ms, stop_timeout_ms;
	uint32_t heartbeat_adaptive, heartbeat_min_ms, heartbeat_max_ms, heartbeat_step_ms;
	uint32_t heartbeat_step_after, heartbeat_backoff_after, heartbeat_probe_after;
	uint32_t seen_retention_s, seen_max_lines, seen_max_ids;
	/* callbacks: borrowed */
	xpush_log_cb log_cb;
	xpush_notify_cb notify_cb;
	xpush_retract_cb retract_cb;
	xpush_event_cb event_cb;
	void *userdata;
	char last_error[CFG_ERR_MAX];
};

/* Zero c and apply every key's default. Returns XPUSH_OK or XPUSH_ENOMEM. */
__attribute__((warn_unused_result)) int cfg_init(struct xpush_config *c);

/* Set key from its string form (NULL = back to default; for "tag", clear).
 * On failure c is unchanged and c->last_error says why. */
__attribute__((warn_unused_result)) int cfg_set(struct xpush_config *c, const char *key,
                                                const char *value);

/* Deep copy src into dst (dst is overwritten, not freed first). */
__attribute__((warn_unused_result)) int cfg_copy(struct xpush_config *dst,
                                                 const struct xpush_config *src);

/* Free the strings (the password is wiped first). */
void cfg_clear(struct xpush_config *c);

/* Check required keys and cross-key rules; err gets a one-line reason. */
__attribute__((warn_unused_result)) int cfg_validate(const struct xpush_config *c, char *err,
                                                     size_t errlen);

/* 1 if s is non-empty valid UTF-8 of at most max bytes, free of control
 * characters (so it is valid XML text and one log/file line). */
int cfg_text_ok(const char *s, size_t max);

/* The port to connect to: the one set, else 5222, or 5223 with direct_tls. */
uint32_t cfg_port(const struct xpush_config *c);

#endif
