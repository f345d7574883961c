/* reload: the table of keys SIGHUP applies and the comparison (reload.h). */
#include "reload.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

/* The keys a reload applies, and who must act. Every other key needs a
 * restart: the connections (component_jid, server_host, server_port,
 * pg_conninfo, reconnect_*, handshake_timeout_ms, max_stanza_bytes), the
 * identity (instance_id), the memory bound of the rate limiter
 * (rate_table_size) and the HTTP listeners (metrics_address, metrics_port,
 * http_*: the Web Push thread keeps its copies). */
static const struct {
	const char *key;
	enum reload_group group;
} live[] = {
	{ "log_level", RELOAD_LOG },
	{ "rate_per_jid", RELOAD_RATE },
	{ "rate_burst", RELOAD_RATE },
	{ "max_alias_bytes", RELOAD_LIMITS },
	{ "max_tags", RELOAD_LIMITS },
	{ "max_tag_bytes", RELOAD_LIMITS },
	{ "max_devices_per_jid", RELOAD_READ },
	{ "max_db_queue", RELOAD_READ },
	{ "user_domains", RELOAD_READ },
	{ "scan_interval_ms", RELOAD_READ },
	{ "ack_timeout_ms", RELOAD_READ },
	{ "batch_size", RELOAD_READ },
	{ "fanout_chunk", RELOAD_READ },
	{ "device_window", RELOAD_READ },
	{ "max_attempts", RELOAD_READ },
	{ "max_outbuf_bytes", RELOAD_READ },
	{ "metrics_refresh_ms", RELOAD_READ },
	/* read at each UnifiedPush registration (upsvc.c) */
	{ "unifiedpush_acl", RELOAD_READ },
	{ "unifiedpush_lifetime_s", RELOAD_READ },
	/* read by xpushd --migrate only, which reads the file itself */
	{ "migrate_conninfo", RELOAD_READ },
};

static int live_group(const char *key, enum reload_group *g)
{
	for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
		if (strcmp(live[i].key, key) == 0) {
			*g = live[i].group;
			return 1;
		}
	return 0;
}

/* Values that may hold a password are not logged. */
static int secret_bearing(const char *key)
{
	return strstr(key, "conninfo") != NULL;
}

int reload_config(struct config *run, const struct config_source *src, struct reload_result *res,
                  char *err, size_t errlen)
{
	struct config fresh;
	char was[256], now[256];

	memset(res, 0, sizeof *res);
	if (config_read(&fresh, src, 1, err, errlen) < 0) {
		config_free(&fresh);
		return -1;
	}
	for (size_t i = 0; i < config_key_count(); i++) {
		const char *key = config_key_name(i);
		enum reload_group g;

		if (config_key_same(run, &fresh, i))
			continue;
		config_key_text(run, i, was, sizeof was);
		config_key_text(&fresh, i, now, sizeof now);
		if (secret_bearing(key)) {
			snprintf(was, sizeof was, "(hidden)");
			snprintf(now, sizeof now, "(hidden)");
		}
		if (!live_group(key, &g)) {
			res->restart++;
			log_warn("setting changed: needs a restart", "key=%s running=%s file=%s",
			         key, log_q(was), log_q(now));
			continue;
		}
		if (config_key_copy(run, &fresh, i) < 0) {
			log_error("setting not reloaded: out of memory", "key=%s", key);
			continue;
		}
		res->changed++;
		res->groups |= g;
		log_info("setting reloaded", "key=%s was=%s now=%s", key, log_q(was), log_q(now));
	}
	if (strcmp(run->component_secret, fresh.component_secret) != 0) {
		res->restart++;
		log_warn("setting changed: needs a restart", "key=component_secret");
	}
	config_free(&fresh);
	return 0;
}
