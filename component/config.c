/* config: one table row per key; parsing, validation and defaults.
 * Owns no global state: every function works on the struct it is given. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "num.h"

enum ctype { CT_STR, CT_U32, CT_LEVEL };

struct ckey {
	const char *name;
	enum ctype type;
	size_t off;
	const char *def;   /* NULL: no default (required or derived) */
	uint32_t min, max; /* CT_U32 bounds */
	const char *help;
};

/* A row per key: the field's name is the key, so they cannot drift apart. */
#define KEY(f, type, def, min, max, help) \
	{ \
#f, type, offsetof(struct config, f), def, min, max, help \
	}
#define STR(f, def, help) KEY(f, CT_STR, def, 0, 0, help)
#define U32(f, def, min, max, help) KEY(f, CT_U32, def, min, max, help)
#define LEVEL(f, def, help) KEY(f, CT_LEVEL, def, 0, 0, help)
static const struct ckey keys[] = {
	STR(component_jid, NULL,
	    "JID of this component as configured on the XMPP server (required)"),
	STR(component_secret_file, NULL,
	    "file holding the component secret (or env " CONFIG_SECRET_ENV ")"),
	STR(server_host, "127.0.0.1", "XMPP server host for the component connection"),
	U32(server_port, "5347", 1, 65535, "XMPP server component port"),
	STR(pg_conninfo, "", "libpq connection string; empty uses the PG* environment"),
	STR(migrate_conninfo, "",
	    "libpq connection string of the schema owner, for --migrate (empty: pg_conninfo); when "
	    "set, xpushd itself never migrates and refuses to start on an old schema"),
	STR(instance_id, NULL,
	    "stable name of this instance in the ledger (default component_jid@hostname)"),
	U32(scan_interval_ms, "10000", 100, 3600000,
	    "slow periodic scan for work missed by NOTIFY"),
	U32(ack_timeout_ms, "30000", 100, 3600000,
	    "a sent notification not acked within this is sent again"),
	U32(batch_size, "256", 1, 10000, "rows claimed or fanned out per query"),
	U32(fanout_chunk, "1000", 1, 100000,
	    "devices expanded per notification per fan-out query (broadcasts take many)"),
	U32(device_window, "16", 1, 5000, "notifications in flight (sent, not acked) per device"),
	U32(max_attempts, "10", 1, 1000, "sends without an ack before a delivery is marked failed"),
	U32(reconnect_min_ms, "500", 10, 600000,
	    "first reconnect delay (XMPP and Postgres), jittered"),
	U32(reconnect_max_ms, "30000", 10, 3600000, "reconnect delay cap"),
	U32(handshake_timeout_ms, "10000", 100, 600000,
	    "a component connection not accepted within this (TCP, stream, handshake) is dropped"),
	U32(max_stanza_bytes, "65536", 1024, 16777216,
	    "largest stanza parsed; a larger one is skipped and refused to its sender"),
	U32(max_outbuf_bytes, "1048576", 4096, 268435456,
	    "stop claiming while this much is queued for the server"),
	STR(user_domains, NULL,
	    "comma-separated domains whose users may use this component (default: the parent domain "
	    "of component_jid); stanzas from other domains are refused"),
	U32(max_alias_bytes, "128", 1, 1024, "longest alias a device may register"),
	U32(max_tags, "64", 1, 256, "most tags a device may register"),
	U32(max_tag_bytes, "64", 1, 1024, "longest tag a device may register"),
	U32(max_devices_per_jid, "20", 1, 100000, "registered devices per account (across apps)"),
	STR(unknown_apps, "refuse",
	    "refuse or open: may a device register for an app that push.apps does not hold "
	    "(xpushctl app add)"),
	U32(rate_per_jid, "20", 1, 1000000,
	    "stanzas per second one account may send to xpushd (sustained); more are refused"),
	U32(rate_burst, "100", 1, 1000000,
	    "stanzas one account may send at once before rate_per_jid applies"),
	U32(rate_table_size, "65536", 16, 16777216,
	    "accounts tracked by the rate limiter (memory bound; idle ones are dropped)"),
	U32(max_db_queue, "10000", 100, 10000000,
	    "queries waiting for Postgres before device requests are refused (wait, retry)"),
	STR(metrics_address, "127.0.0.1",
	    "address of the Prometheus /metrics endpoint (keep it on loopback)"),
	U32(metrics_port, "0", 0, 65535, "port of the /metrics endpoint; 0 = no endpoint"),
	U32(metrics_refresh_ms, "10000", 1000, 3600000,
	    "how often queue and device gauges are read from Postgres"),
	STR(unifiedpush_acl, NULL,
	    "comma-separated bare JIDs and domains that may register UnifiedPush endpoints "
	    "(default: user_domains)"),
	U32(unifiedpush_lifetime_s, "604800", 60, 31536000,
	    "an endpoint token expires this long after its last registration (renewal)"),
	STR(http_address, "127.0.0.1",
	    "address of the Web Push endpoint (put a TLS reverse proxy in front of it)"),
	U32(http_port, "0", 0, 65535, "port of the Web Push endpoint; 0 = none"),
	STR(http_public_url, NULL,
	    "the endpoint's public origin as app servers reach it, e.g. https://push.example.org "
	    "(default: http://http_address:http_port)"),
	U32(http_rate_per_endpoint, "10", 1, 1000000,
	    "Web Push requests per second one endpoint token may take (sustained); more get 429"),
	U32(http_rate_burst, "50", 1, 1000000, "Web Push requests one endpoint may make at once"),
	U32(http_timeout_s, "10", 1, 3600,
	    "a Web Push connection idle this long (a slow request) is closed"),
	STR(console_address, "127.0.0.1",
	    "address of the web console (keep it on loopback or behind a TLS proxy)"),
	U32(console_port, "0", 0, 65535, "port of the web console; 0 = no console"),
	STR(console_token_file, "",
	    "file whose first line is the console's admin token (required with console_port)"),
	STR(console_viewer_token_file, "",
	    "file whose first line is the console's read-only token (optional)"),
	LEVEL(log_level, "info", "debug, info, warn or error"),
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const struct ckey *key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int set_key(struct config *c, const struct ckey *k, const char *value, char *err,
                   size_t errlen)
{
	char *base = (char *)c;

	switch (k->type) {
	case CT_STR: {
		char *dup = strdup(value);
		if (!dup) {
			snprintf(err, errlen, "%s: out of memory", k->name);
			return -1;
		}
		char **slot = (char **)(base + k->off);
		free(*slot);
		*slot = dup;
		return 0;
	}
	case CT_U32:
		if (num_parse_u32(value, k->min, k->max, (uint32_t *)(base + k->off)) < 0) {
			snprintf(err, errlen, "%s: '%.40s' is not a whole number in %u..%u",
			         k->name, value, k->min, k->max);
			return -1;
		}
		return 0;
	case CT_LEVEL:
		if (log_level_parse(value, (enum log_level *)(base + k->off)) < 0) {
			snprintf(err, errlen, "%s: '%.40s' is not one of debug, info, warn, error",
			         k->name, value);
			return -1;
		}
		return 0;
	}
	return -1;
}

int config_init(struct config *c)
{
	char err[128];

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].def && set_key(c, &keys[i], keys[i].def, err, sizeof err) < 0)
			return -1;
	return 0;
}

/* Errors are one line ("xpushd: error: ..."), but they quote the operator's
 * bytes (keys, values, paths), which may hold CR, LF or terminal escapes:
 * show those as '?'. */
static int one_line(char *err, size_t errlen)
{
	if (err && errlen)
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	return -1;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
	const struct ckey *k = key_find(key);

	if (!k) {
		if (strcmp(key, "component_secret") == 0)
			snprintf(err, errlen,
			         "component_secret: not accepted inline; use "
			         "component_secret_file or " CONFIG_SECRET_ENV);
		else
			snprintf(err, errlen, "%.60s: unknown key (see xpushd --help)", key);
		return one_line(err, errlen);
	}
	if (set_key(c, k, value, err, errlen) < 0)
		return one_line(err, errlen);
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int config_set_pair(struct config *c, const char *pair, char *err, size_t errlen)
{
	char buf[4096];
	char *eq;

	if (strlen(pair) >= sizeof buf) {
		snprintf(err, errlen, "option too long: %.40s...", pair);
		return one_line(err, errlen);
	}
	memcpy(buf, pair, strlen(pair) + 1);
	eq = strchr(buf, '=');
	if (!eq) {
		snprintf(err, errlen, "%.60s: expected key=value", pair);
		return one_line(err, errlen);
	}
	*eq = '\0';
	return config_set(c, trim(buf), trim(eq + 1), err, errlen);
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[4096], sub[512];
	int lineno = 0, rc = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return one_line(err, errlen);
	}
	errno = 0;
	while (fgets(line, sizeof line, f)) {
		char *s, *eq;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			rc = -1;
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		if (config_set(c, trim(s), trim(eq + 1), sub, sizeof sub) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, sub);
			rc = -1;
			break;
		}
	}
	/* A read error (EISDIR for a directory, EIO) is not the end of the
	 * file: settings after it would silently keep their defaults. */
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
		rc = -1;
	}
	fclose(f);
	return rc < 0 ? one_line(err, errlen) : 0;
}

static int load_secret(struct config *c, char *err, size_t errlen)
{
	const char *env = getenv(CONFIG_SECRET_ENV);
	char buf[1024];
	size_t n = 0;

	if (c->component_secret_file) {
		FILE *f = fopen(c->component_secret_file, "r");
		if (!f) {
			snprintf(err, errlen, "component_secret_file: %s: %s",
			         c->component_secret_file, strerror(errno));
			return -1;
		}
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
	} else if (env) {
		n = strlen(env);
		if (n >= sizeof buf)
			n = sizeof buf - 1;
		memcpy(buf, env, n);
		buf[n] = '\0';
	} else {
		snprintf(err, errlen,
		         "component_secret_file: required (or set " CONFIG_SECRET_ENV ")");
		return -1;
	}
	if (n < CONFIG_SECRET_MIN || strlen(buf) != n) {
		snprintf(err, errlen,
		         "component_secret_file: secret must be at least %d bytes without NUL",
		         CONFIG_SECRET_MIN);
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	free(c->component_secret);
	c->component_secret = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	if (!c->component_secret) {
		snprintf(err, errlen, "component_secret_file: out of memory");
		return -1;
	}
	return 0;
}

static int finish(struct config *c, char *err, size_t errlen);

int config_finish(struct config *c, char *err, size_t errlen)
{
	return finish(c, err, errlen) < 0 ? one_line(err, errlen) : 0;
}

static int finish(struct config *c, char *err, size_t errlen)
{
	if (!c->component_jid || !*c->component_jid) {
		snprintf(err, errlen, "component_jid: required");
		return -1;
	}
	if (strchr(c->component_jid, '@') || strchr(c->component_jid, '/') ||
	    strchr(c->component_jid, ' ') || strlen(c->component_jid) > 1023) {
		snprintf(err, errlen, "component_jid: '%.60s' is not a domain JID",
		         c->component_jid);
		return -1;
	}
	if (!*c->server_host) {
		snprintf(err, errlen, "server_host: required");
		return -1;
	}
	if (c->reconnect_min_ms > c->reconnect_max_ms) {
		snprintf(err, errlen, "reconnect_max_ms: must be >= reconnect_min_ms");
		return -1;
	}
	if (!c->user_domains || !*c->user_domains) {
		const char *dot = strchr(c->component_jid, '.');
		free(c->user_domains);
		c->user_domains = strdup(dot && dot[1] ? dot + 1 : c->component_jid);
		if (!c->user_domains) {
			snprintf(err, errlen, "user_domains: out of memory");
			return -1;
		}
	}
	if (c->http_public_url && *c->http_public_url &&
	    strncmp(c->http_public_url, "http://", 7) != 0 &&
	    strncmp(c->http_public_url, "https://", 8) != 0) {
		snprintf(err, errlen, "http_public_url: must start with http:// or https://");
		return -1;
	}
	if (c->console_port && !*c->console_token_file) {
		snprintf(err, errlen, "console_token_file: required with console_port");
		return -1;
	}
	if (strcmp(c->unknown_apps, "refuse") != 0 && strcmp(c->unknown_apps, "open") != 0) {
		snprintf(err, errlen, "unknown_apps: '%.40s' is not refuse or open",
		         c->unknown_apps);
		return -1;
	}
	if (c->rate_burst < 1 || c->rate_per_jid < 1) {
		snprintf(err, errlen, "rate_per_jid: must be positive");
		return -1;
	}
	if (!c->instance_id || !*c->instance_id) {
		char host[256] = "localhost";
		size_t n;
		gethostname(host, sizeof host - 1);
		host[sizeof host - 1] = '\0';
		n = strlen(c->component_jid) + strlen(host) + 2;
		free(c->instance_id);
		c->instance_id = malloc(n);
		if (!c->instance_id) {
			snprintf(err, errlen, "instance_id: out of memory");
			return -1;
		}
		snprintf(c->instance_id, n, "%s@%s", c->component_jid, host);
	}
	return load_secret(c, err, errlen);
}

void config_free(struct config *c)
{
	if (c->component_secret)
		explicit_bzero(c->component_secret, strlen(c->component_secret));
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == CT_STR)
			free(*(char **)((char *)c + keys[i].off));
	free(c->component_secret);
	memset(c, 0, sizeof *c);
}

int config_read(struct config *c, const struct config_source *src, int fin, char *err,
                size_t errlen)
{
	if (config_init(c) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (src->file && config_load_file(c, src->file, err, errlen) < 0)
		return -1;
	for (int i = 0; i < src->nsets; i++)
		if (config_set_pair(c, src->sets[i], err, errlen) < 0)
			return -1;
	return fin ? config_finish(c, err, errlen) : 0;
}

size_t config_key_count(void)
{
	return NKEYS;
}

const char *config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

int config_key_same(const struct config *a, const struct config *b, size_t i)
{
	const struct ckey *k = &keys[i];
	const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;

	switch (k->type) {
	case CT_STR: {
		const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;
		return strcmp(sa ? sa : "", sb ? sb : "") == 0;
	}
	case CT_U32:
		return *(const uint32_t *)pa == *(const uint32_t *)pb;
	case CT_LEVEL:
		return *(const enum log_level *)pa == *(const enum log_level *)pb;
	}
	return 0;
}

int config_key_copy(struct config *dst, const struct config *src, size_t i)
{
	char v[32], err[64];
	const struct ckey *k = &keys[i];

	if (k->type == CT_STR) {
		const char *sv = *(char *const *)((const char *)src + k->off);
		return set_key(dst, k, sv ? sv : "", err, sizeof err);
	}
	config_key_text(src, i, v, sizeof v);
	return set_key(dst, k, v, err, sizeof err);
}

void config_key_text(const struct config *c, size_t i, char *buf, size_t len)
{
	const struct ckey *k = &keys[i];
	const char *p = (const char *)c + k->off;

	switch (k->type) {
	case CT_STR:
		snprintf(buf, len, "%s", *(char *const *)p ? *(char *const *)p : "");
		break;
	case CT_U32:
		snprintf(buf, len, "%u", *(const uint32_t *)p);
		break;
	case CT_LEVEL:
		snprintf(buf, len, "%s", log_level_name(*(const enum log_level *)p));
		break;
	}
}

void config_print_keys(FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++)
		fprintf(out, "  %-22s %s%s%s%s\n", keys[i].name, keys[i].help,
		        keys[i].def ? " [default: " : "", keys[i].def ? keys[i].def : "",
		        keys[i].def ? "]" : "");
}

void config_dump(const struct config *c, FILE *out)
{
	const char *base = (const char *)c;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct ckey *k = &keys[i];
		switch (k->type) {
		case CT_STR: {
			const char *v = *(char *const *)(base + k->off);
			fprintf(out, "%s = %s\n", k->name, v ? v : "");
			break;
		}
		case CT_U32:
			fprintf(out, "%s = %u\n", k->name, *(const uint32_t *)(base + k->off));
			break;
		case CT_LEVEL:
			fprintf(out, "%s = %s\n", k->name,
			        log_level_name(*(const enum log_level *)(base + k->off)));
			break;
		}
	}
	fprintf(out, "component_secret = %s\n", c->component_secret ? "(set)" : "(unset)");
}
