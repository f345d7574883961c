/* config: xpushd's settings as one table (key, type, default, bounds, help)
 * producing an immutable struct. File syntax: `key = value` lines, `#`
 * comments, blank lines. Command-line `-o key=value` overrides go through the
 * same setter. The component secret is read from component_secret_file or
 * the XPUSHD_COMPONENT_SECRET environment variable, never from argv, and is
 * never logged. */
#ifndef XPUSH_CONFIG_H
#define XPUSH_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "log.h"

#define CONFIG_SECRET_ENV "XPUSHD_COMPONENT_SECRET"
#define CONFIG_SECRET_MIN 16

struct config {
	char *component_jid;
	char *component_secret_file;
	char *component_secret; /* loaded by config_finish(); never logged */
	char *server_host;
	uint32_t server_port;
	char *pg_conninfo;
	char *migrate_conninfo; /* the schema owner's; empty: pg_conninfo migrates */
	char *instance_id;      /* default: component_jid "@" hostname */
	uint32_t scan_interval_ms;
	uint32_t ack_timeout_ms;
	uint32_t batch_size;
	uint32_t fanout_chunk;
	uint32_t device_window;
	uint32_t max_attempts;
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
	uint32_t handshake_timeout_ms; /* connect to handshake reply, else drop and redial */
	uint32_t max_stanza_bytes;
	uint32_t max_outbuf_bytes;
	char *user_domains; /* comma-separated; default: parent of component_jid */
	uint32_t max_alias_bytes, max_tags, max_tag_bytes, max_devices_per_jid;
	char *unknown_apps; /* "refuse" or "open": a device registering for an app without a row */
	uint32_t rate_per_jid, rate_burst, rate_table_size;
	uint32_t max_db_queue;
	char *metrics_address;
	uint32_t metrics_port; /* 0 = no endpoint */
	uint32_t metrics_refresh_ms;
	/* UnifiedPush and the Web Push endpoint (docs/unifiedpush.md, docs/http.md) */
	char *unifiedpush_acl; /* default: user_domains */
	uint32_t unifiedpush_lifetime_s;
	char *http_address;
	uint32_t http_port;    /* 0 = no Web Push endpoint */
	char *http_public_url; /* default: http://http_address:http_port */
	uint32_t http_rate_per_endpoint, http_rate_burst, http_timeout_s;
	char *console_address; /* the web console (console.h) */
	uint32_t console_port; /* 0 = no console */
	char *console_token_file, *console_viewer_token_file;
	enum log_level log_level;
};

/* Fill defaults (allocates the default strings). 0 or -1 on OOM. */
__attribute__((warn_unused_result)) int config_init(struct config *c);
/* Set one key from its text form. On error returns -1 and err holds a
 * one-line message naming the key ("server_port: not a number in 1..65535"). */
__attribute__((warn_unused_result)) int config_set(struct config *c, const char *key,
                                                   const char *value, char *err, size_t errlen);
/* Parse "key=value" (as given to -o). */
__attribute__((warn_unused_result)) int config_set_pair(struct config *c, const char *pair,
                                                        char *err, size_t errlen);
/* Load a file; errors name the file, the line and the key. */
__attribute__((warn_unused_result)) int config_load_file(struct config *c, const char *path,
                                                         char *err, size_t errlen);
/* Check required keys and cross-key rules, load the secret, derive
 * instance_id. Errors name the key. */
__attribute__((warn_unused_result)) int config_finish(struct config *c, char *err, size_t errlen);
void config_free(struct config *c);

/* Where a configuration comes from: the file (or NULL) and the -o pairs,
 * applied in that order. Kept by main so that SIGHUP can read it again. */
struct config_source {
	const char *file;
	const char *const *sets;
	int nsets;
};
/* config_init, then the file, then the pairs; with finish, config_finish
 * too. On error c is to be freed and err says why (file:line: key: ...). */
__attribute__((warn_unused_result)) int config_read(struct config *c,
                                                    const struct config_source *src, int finish,
                                                    char *err, size_t errlen);

/* The keys one by one (for reload.c): their count, the name of key i, and
 * whether a and b hold the same value for it; copy key i's value from src;
 * its value as text (log lines). */
size_t config_key_count(void);
const char *config_key_name(size_t i);
int config_key_same(const struct config *a, const struct config *b, size_t i);
__attribute__((warn_unused_result)) int config_key_copy(struct config *dst,
                                                        const struct config *src, size_t i);
void config_key_text(const struct config *c, size_t i, char *buf, size_t len);

/* Every key with its type, default and help, for --help and docs. */
void config_print_keys(FILE *out);
/* The effective configuration (secret shown as "(set)"), for --check-config. */
void config_dump(const struct config *c, FILE *out);

#endif
