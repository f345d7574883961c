/* cfg: the configuration table. Every key is one row: name, type (the unit
 * is in the name), limits and default as a string, so defaults go through
 * the same parser as user input. No I/O here: client.c checks files. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "jid.h"
#include "num.h"
#include "utf8.h"

enum cfg_type {
	CFG_JID,     /* full or bare JID */
	CFG_BAREJID, /* bare JID */
	CFG_TEXT,    /* XML-safe text, one line */
	CFG_PATH,    /* file system path */
	CFG_HOST,    /* host name or address */
	CFG_SECRET,  /* any bytes but NUL; never echoed */
	CFG_TAG,     /* appends to tags[] */
	CFG_U32,
	CFG_BOOL,
	CFG_LEVEL,
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;
	uint32_t min, max; /* U32 range; string max bytes */
	const char *def;   /* NULL = unset */
};

#define S(f) offsetof(struct xpush_config, f)

static const struct cfg_key keys[] = {
	{ "jid", CFG_JID, S(jid), 0, 3071, NULL },
	{ "password", CFG_SECRET, S(password), 0, 1023, NULL },
	{ "host", CFG_HOST, S(host), 0, 253, NULL },
	{ "port", CFG_U32, S(port), 1, 65535, "5222" },
	{ "ca_file", CFG_PATH, S(ca_file), 0, 4095, NULL },
	{ "direct_tls", CFG_BOOL, S(direct_tls), 0, 1, "false" },
	{ "component", CFG_BAREJID, S(component), 0, 2047, NULL },
	{ "app", CFG_TEXT, S(app), 0, 128, NULL },
	{ "device", CFG_TEXT, S(device), 0, 128, NULL },
	{ "alias", CFG_TEXT, S(alias), 0, 128, NULL },
	{ "tag", CFG_TAG, S(tags), 0, 64, NULL },
	{ "platform", CFG_TEXT, S(platform), 0, 32, NULL },
	{ "register_token", CFG_TEXT, S(register_token), 0, 256, NULL },
	{ "state_dir", CFG_PATH, S(state_dir), 0, 4095, NULL },
	{ "register_account", CFG_BOOL, S(register_account), 0, 1, "false" },
	{ "log_level", CFG_LEVEL, S(log_level), 0, 3, "info" },
	{ "reconnect_base_ms", CFG_U32, S(reconnect_base_ms), 1, 3600000, "2000" },
	{ "reconnect_cap_ms", CFG_U32, S(reconnect_cap_ms), 1, 86400000, "300000" },
	{ "stable_after_ms", CFG_U32, S(stable_after_ms), 0, 86400000, "60000" },
	{ "connect_timeout_ms", CFG_U32, S(connect_timeout_ms), 1000, 3600000, "30000" },
	{ "register_timeout_ms", CFG_U32, S(register_timeout_ms), 1000, 3600000, "30000" },
	{ "heartbeat_ms", CFG_U32, S(heartbeat_ms), 0, 86400000, "240000" },
	{ "heartbeat_timeout_ms", CFG_U32, S(heartbeat_timeout_ms), 100, 600000, "20000" },
	{ "heartbeat_adaptive", CFG_BOOL, S(heartbeat_adaptive), 0, 1, "true" },
	{ "heartbeat_min_ms", CFG_U32, S(heartbeat_min_ms), 100, 86400000, "60000" },
	{ "heartbeat_max_ms", CFG_U32, S(heartbeat_max_ms), 100, 86400000, "600000" },
	{ "heartbeat_step_ms", CFG_U32, S(heartbeat_step_ms), 1, 86400000, "30000" },
	{ "heartbeat_step_after", CFG_U32, S(heartbeat_step_after), 1, 1000, "3" },
	{ "heartbeat_backoff_after", CFG_U32, S(heartbeat_backoff_after), 1, 1000, "2" },
	{ "heartbeat_probe_after", CFG_U32, S(heartbeat_probe_after), 0, 1000000, "30" },
	{ "network", CFG_TEXT, S(network), 0, 128, "default" },
	{ "stop_timeout_ms", CFG_U32, S(stop_timeout_ms), 0, 600000, "3000" },
	{ "seen_retention_s", CFG_U32, S(seen_retention_s), 3600, 400u * 86400u, "3024000" },
	{ "seen_max_lines", CFG_U32, S(seen_max_lines), 16, 100000000, "10000" },
	{ "seen_max_ids", CFG_U32, S(seen_max_ids), 16, 100000000, "100000" },
};

#define NKEYS (sizeof keys / sizeof keys[0])

/* A key whose value is an owned string (char * at off), not a number or the tags. */
static int is_string(const struct cfg_key *k)
{
	return k->type != CFG_TAG && k->type != CFG_U32 && k->type != CFG_BOOL &&
	       k->type != CFG_LEVEL;
}

static const char *const level_names[] = { "debug", "info", "warn", "error" };

__attribute__((format(printf, 2, 3))) static void set_err(struct xpush_config *c, const char *fmt,
                                                          ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof c->last_error, fmt, ap);
	va_end(ap);
}

int cfg_text_ok(const char *s, size_t max)
{
	size_t len;

	if (!s || !*s)
		return 0;
	len = strlen(s);
	if (len > max)
		return 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7f)
			return 0;
		i += n;
	}
	return 1;
}

static int parse_bool(const char *s, uint32_t *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int string_ok(const struct cfg_key *k, const char *v)
{
	struct jid_parts p;
	size_t len = strlen(v);

	if (len == 0 || len > k->max)
		return 0;
	switch (k->type) {
	case CFG_JID:
		return jid_split(v, &p) == 0;
	case CFG_BAREJID:
		return jid_split(v, &p) == 0 && !p.resource;
	case CFG_TEXT:
	case CFG_TAG:
		return cfg_text_ok(v, k->max);
	case CFG_HOST:
		for (const char *s = v; *s; s++)
			if ((unsigned char)*s <= 0x20 || *s == '/' || *s == 0x7f)
				return 0;
		return 1;
	case CFG_PATH:
		for (const char *s = v; *s; s++)
			if ((unsigned char)*s < 0x20)
				return 0;
		return 1;
	case CFG_SECRET:
		return 1;
	default:
		return 0;
	}
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int set_one(struct xpush_config *c, const struct cfg_key *k, const char *v)
{
	char *base = (char *)c;
	uint32_t u;

	switch (k->type) {
	case CFG_U32:
		if (!v)
			v = k->def;
		if (num_parse_u32(v, k->min, k->max, &u)) {
			char range[48];
			snprintf(range, sizeof range, "%u..%u", (unsigned)k->min, (unsigned)k->max);
			set_err(c, "%s: must be an integer in %s", k->name, range);
			return XPUSH_EINVAL;
		}
		goto store;
	case CFG_BOOL:
		if (!v)
			v = k->def;
		if (parse_bool(v, &u)) {
			set_err(c, "%s: must be true or false", k->name);
			return XPUSH_EINVAL;
		}
		goto store;
	case CFG_LEVEL:
		if (!v)
			v = k->def;
		for (u = 0; u < 4; u++)
			if (strcasecmp(v, level_names[u]) == 0)
				break;
		if (u == 4) {
			set_err(c, "%s: must be one of debug, info, warn, error", k->name);
			return XPUSH_EINVAL;
		}
store:
		memcpy(base + k->off, &u, sizeof u);
		return XPUSH_OK;
	case CFG_TAG:
		if (!v) {
			for (size_t i = 0; i < c->ntags; i++) {
				free(c->tags[i]);
				c->tags[i] = NULL;
			}
			c->ntags = 0;
			return XPUSH_OK;
		}
		if (!string_ok(k, v)) {
			set_err(c, "%s: must be 1..64 bytes of printable UTF-8", k->name);
			return XPUSH_EINVAL;
		}
		for (size_t i = 0; i < c->ntags; i++)
			if (strcmp(c->tags[i], v) == 0) {
				set_err(c, "%s: duplicate tag \"%s\"", k->name, v);
				return XPUSH_EINVAL;
			}
		if (c->ntags >= CFG_MAX_TAGS) {
			set_err(c, "%s: more than 64 tags", k->name);
			return XPUSH_EINVAL;
		}
		if (!(c->tags[c->ntags] = strdup(v)))
			return XPUSH_ENOMEM;
		c->ntags++;
		return XPUSH_OK;
	default: {
		char **slot = (char **)(void *)(base + k->off);
		char *copy = NULL;

		if (!v)
			v = k->def;
		if (v) {
			if (!string_ok(k, v)) {
				char lim[32];
				snprintf(lim, sizeof lim, "%u", (unsigned)k->max);
				if (k->type == CFG_SECRET)
					set_err(c, "%s: must be 1..%s bytes", k->name, lim);
				else if (k->type == CFG_JID || k->type == CFG_BAREJID)
					set_err(c, "%s: not a valid %s", k->name,
					        k->type == CFG_BAREJID ? "bare JID" : "JID");
				else
					set_err(c, "%s: must be 1..%s bytes of printable text",
					        k->name, lim);
				return XPUSH_EINVAL;
			}
			if (!(copy = strdup(v)))
				return XPUSH_ENOMEM;
		}
		if (k->type == CFG_SECRET)
			wipe_free(*slot);
		else
			free(*slot);
		*slot = copy;
		return XPUSH_OK;
	}
	}
}

int cfg_set(struct xpush_config *c, const char *key, const char *value)
{
	if (!c || !key)
		return XPUSH_EINVAL;
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, key) == 0) {
			int rc = set_one(c, &keys[i], value);
			if (rc == XPUSH_OK) {
				c->last_error[0] = '\0';
				if (keys[i].off == S(port))
					c->port_given = value != NULL;
			} else if (rc == XPUSH_ENOMEM)
				set_err(c, "%s: out of memory", key);
			return rc;
		}
	set_err(c, "unknown key \"%s\"", key);
	return XPUSH_EINVAL;
}

int cfg_init(struct xpush_config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].def && set_one(c, &keys[i], NULL) != XPUSH_OK) {
			cfg_clear(c);
			return XPUSH_ENOMEM;
		}
	return XPUSH_OK;
}

void cfg_clear(struct xpush_config *c)
{
	char *base = (char *)c;

	if (!c)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		if (!is_string(&keys[i]))
			continue;
		char **slot = (char **)(void *)(base + keys[i].off);
		if (keys[i].type == CFG_SECRET)
			wipe_free(*slot);
		else
			free(*slot);
		*slot = NULL;
	}
	for (size_t i = 0; i < c->ntags; i++)
		free(c->tags[i]);
	c->ntags = 0;
}

int cfg_copy(struct xpush_config *dst, const struct xpush_config *src)
{
	char *dbase = (char *)dst;

	memcpy(dst, src, sizeof *dst);
	/* detach every pointer first so a failure can free what was copied */
	for (size_t i = 0; i < NKEYS; i++)
		if (is_string(&keys[i]))
			*(char **)(void *)(dbase + keys[i].off) = NULL;
	dst->ntags = 0;
	for (size_t i = 0; i < NKEYS; i++) {
		if (!is_string(&keys[i]))
			continue;
		const char *v = *(char *const *)(const void *)((const char *)src + keys[i].off);
		if (v && !(*(char **)(void *)(dbase + keys[i].off) = strdup(v)))
			goto oom;
	}
	for (size_t i = 0; i < src->ntags; i++) {
		if (!(dst->tags[i] = strdup(src->tags[i])))
			goto oom;
		dst->ntags = i + 1;
	}
	return XPUSH_OK;
oom:
	cfg_clear(dst);
	return XPUSH_ENOMEM;
}

int cfg_validate(const struct xpush_config *c, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
	} required[] = {
		{ "jid", S(jid) }, { "password", S(password) }, { "component", S(component) },
		{ "app", S(app) }, { "device", S(device) },     { "state_dir", S(state_dir) },
	};
	struct jid_parts p;

	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!*(char *const *)(const void *)((const char *)c + required[i].off)) {
			snprintf(err, errlen, "%s: required", required[i].name);
			return XPUSH_EINVAL;
		}
	if (jid_split(c->jid, &p) || !p.local) {
		snprintf(err, errlen, "jid: must be user@domain[/resource]");
		return XPUSH_EINVAL;
	}
	if (c->reconnect_cap_ms < c->reconnect_base_ms) {
		snprintf(err, errlen, "reconnect_cap_ms: must be >= reconnect_base_ms");
		return XPUSH_EINVAL;
	}
	if (c->heartbeat_max_ms < c->heartbeat_min_ms) {
		snprintf(err, errlen, "heartbeat_max_ms: must be >= heartbeat_min_ms");
		return XPUSH_EINVAL;
	}
	if (c->log_level > XPUSH_LOG_ERROR) {
		snprintf(err, errlen, "log_level: invalid");
		return XPUSH_EINVAL;
	}
	return XPUSH_OK;
}

uint32_t cfg_port(const struct xpush_config *c)
{
	if (c->port_given)
		return c->port;
	return c->direct_tls ? CFG_PORT_DIRECT_TLS : CFG_PORT_STARTTLS;
}

/* ---- public wrappers (xpush.h) ---- */

int xpush_config_new(xpush_config **out)
{
	struct xpush_config *c;

	if (!out)
		return XPUSH_EINVAL;
	*out = NULL;
	if (!(c = malloc(sizeof *c)))
		return XPUSH_ENOMEM;
	if (cfg_init(c) != XPUSH_OK) {
		free(c);
		return XPUSH_ENOMEM;
	}
	*out = c;
	return XPUSH_OK;
}

void xpush_config_free(xpush_config *cfg)
{
	if (!cfg)
		return;
	cfg_clear(cfg);
	free(cfg);
}

int xpush_config_set(xpush_config *cfg, const char *key, const char *value)
{
	return cfg_set(cfg, key, value);
}

const char *xpush_config_last_error(const xpush_config *cfg)
{
	return cfg ? cfg->last_error : "";
}

/* The callback setters: each stores one borrowed value; cfg may be NULL. */
#define CFG_SETTER(fn, type, field) \
	void fn(xpush_config *cfg, type value) \
	{ \
		if (cfg) \
			cfg->field = value; \
	}

CFG_SETTER(xpush_config_set_log_cb, xpush_log_cb, log_cb)
CFG_SETTER(xpush_config_set_notify_cb, xpush_notify_cb, notify_cb)
CFG_SETTER(xpush_config_set_retract_cb, xpush_retract_cb, retract_cb)
CFG_SETTER(xpush_config_set_event_cb, xpush_event_cb, event_cb)
CFG_SETTER(xpush_config_set_userdata, void *, userdata)
