/* ctl_args: parse xpushctl's global options, the subcommand and its options
 * into struct ctl_cmd, and reject every usage error with one line naming the
 * subcommand and the option. Owns the validation rules that mirror schema
 * 002's constraints (TTL range, non-empty keys, target required). Must not
 * print, exit or touch the database; the only I/O is reading --payload-file. */
#include "ctl_args.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#include "ctl_time.h"
#include "num.h"

#define LIMIT_MAX 100000000ull

static const char *const cmd_names[] = {
	[CTL_CMD_NONE] = "xpushctl",   [CTL_CMD_SEND] = "send",     [CTL_CMD_STATUS] = "status",
	[CTL_CMD_DEVICES] = "devices", [CTL_CMD_STATS] = "stats",   [CTL_CMD_RETRACT] = "retract",
	[CTL_CMD_APP] = "app",         [CTL_CMD_DEVICE] = "device", [CTL_CMD_WATCH] = "watch",
};

const char *ctl_command_name(enum ctl_command cmd)
{
	return (unsigned)cmd < sizeof cmd_names / sizeof cmd_names[0] ? cmd_names[cmd] : "?";
}

struct pctx {
	struct ctl_cmd *c;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int bad(struct pctx *x, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (x->c->cmd == CTL_CMD_NONE)
		snprintf(x->err, x->errlen, "%s", msg);
	else
		snprintf(x->err, x->errlen, "%s: %s", ctl_command_name(x->c->cmd), msg);
	return -1;
}

int ctl_check_text(const char *s, size_t len, const char **why)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0) {
			*why = "is not valid UTF-8";
			return -1;
		}
		if (cp == 0) {
			*why = "contains a NUL byte";
			return -1;
		}
		if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') {
			*why = "contains a control character that XML cannot carry";
			return -1;
		}
		i += n;
	}
	return 0;
}

/* A text option: valid, and non-empty unless empty_ok. */
static int text_arg(struct pctx *x, const char *opt, const char *v, int empty_ok)
{
	const char *why;

	if (!empty_ok && *v == '\0')
		return bad(x, "%s: must not be empty", opt);
	if (ctl_check_text(v, strlen(v), &why) < 0)
		return bad(x, "%s: the value %s", opt, why);
	return 0;
}

/* A single-valued option given once. */
static int once(struct pctx *x, const char *opt, const char **slot, const char *v, int empty_ok)
{
	if (*slot)
		return bad(x, "%s given twice", opt);
	if (text_arg(x, opt, v, empty_ok) < 0)
		return -1;
	*slot = v;
	return 0;
}

static int strv_push(struct pctx *x, const char *opt, struct ctl_strv *sv, const char *v)
{
	const char **nv;

	if (text_arg(x, opt, v, 0) < 0)
		return -1;
	nv = realloc(sv->v, (sv->n + 1) * sizeof *nv);
	if (!nv)
		return bad(x, "out of memory");
	sv->v = nv;
	sv->v[sv->n++] = v;
	return 0;
}

static int id_arg(struct pctx *x, const char *v, long long *out)
{
	unsigned long long u;

	if (num_parse_uint(v, 1, INT64_MAX, &u) < 0)
		return bad(x, "'%.60s' is not a notification id (a whole number in 1..%lld)", v,
		           (long long)INT64_MAX);
	*out = (long long)u;
	return 0;
}

static int limit_arg(struct pctx *x, const char *v, long long *out)
{
	unsigned long long u;

	if (num_parse_uint(v, 0, LIMIT_MAX, &u) < 0)
		return bad(x, "--limit: '%.60s' is not a whole number in 0..%llu", v, LIMIT_MAX);
	*out = (long long)u;
	return 0;
}

static int time_arg(struct pctx *x, const char *opt, char *slot, const char *v)
{
	if (*slot)
		return bad(x, "%s given twice", opt);
	if (ctl_time_parse(v, slot, CTL_TIME_LEN) < 0) {
		*slot = '\0';
		return bad(x,
		           "%s: '%.60s' is not an ISO 8601 time "
		           "(YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|+HH:MM])",
		           opt, v);
	}
	return 0;
}

static int read_payload_file(struct pctx *x, struct ctl_send *s, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t n = 0, cap = 4096;
	char *buf = NULL;
	const char *why;
	int rc = -1;

	if (!f)
		return bad(x, "--payload-file: %.200s: %s", path, strerror(errno));
	for (;;) {
		if (n == cap || !buf) {
			char *nb;
			if (buf)
				cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				bad(x, "out of memory");
				goto out;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > CTL_PAYLOAD_MAX) {
			bad(x, "--payload-file: %.200s: larger than %u bytes", path,
			    CTL_PAYLOAD_MAX);
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		bad(x, "--payload-file: %.200s: read error", path);
		goto out;
	}
	buf[n] = '\0';
	if (ctl_check_text(buf, n, &why) < 0) {
		bad(x, "--payload-file: %.200s %s", path, why);
		goto out;
	}
	s->payload_buf = buf;
	s->payload = buf;
	s->payload_len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (f != stdin)
		fclose(f);
	return rc;
}

enum {
	O_JSON = 256,
	O_APP,
	O_JID,
	O_DEVICE,
	O_ALIAS,
	O_TAG,
	O_TAG_ALL,
	O_TAG_NOT,
	O_BROADCAST,
	O_TITLE,
	O_BODY,
	O_URI,
	O_PAYLOAD,
	O_PAYLOAD_FILE,
	O_TTL,
	O_EXPIRES,
	O_NOT_BEFORE,
	O_PRIORITY,
	O_COLLAPSE,
	O_DEDUP,
	O_LIMIT,
	O_ONLINE,
	O_OFFLINE,
	O_ALL,
	O_VERSION,
};

#define COMMON_OPTS \
	{ "db", required_argument, NULL, 'd' }, { "json", no_argument, NULL, O_JSON }, \
	{ \
		"help", no_argument, NULL, 'h' \
	}

static const struct option send_opts[] = {
	COMMON_OPTS,
	{ "app", required_argument, NULL, O_APP },
	{ "jid", required_argument, NULL, O_JID },
	{ "device", required_argument, NULL, O_DEVICE },
	{ "alias", required_argument, NULL, O_ALIAS },
	{ "tag", required_argument, NULL, O_TAG },
	{ "tag-all", required_argument, NULL, O_TAG_ALL },
	{ "tag-not", required_argument, NULL, O_TAG_NOT },
	{ "broadcast", no_argument, NULL, O_BROADCAST },
	{ "title", required_argument, NULL, O_TITLE },
	{ "body", required_argument, NULL, O_BODY },
	{ "uri", required_argument, NULL, O_URI },
	{ "payload", required_argument, NULL, O_PAYLOAD },
	{ "payload-file", required_argument, NULL, O_PAYLOAD_FILE },
	{ "ttl", required_argument, NULL, O_TTL },
	{ "expires", required_argument, NULL, O_EXPIRES },
	{ "not-before", required_argument, NULL, O_NOT_BEFORE },
	{ "priority", required_argument, NULL, O_PRIORITY },
	{ "collapse", required_argument, NULL, O_COLLAPSE },
	{ "dedup", required_argument, NULL, O_DEDUP },
	{ NULL, 0, NULL, 0 },
};

static const struct option status_opts[] = {
	COMMON_OPTS,
	{ "limit", required_argument, NULL, O_LIMIT },
	{ NULL, 0, NULL, 0 },
};

static const struct option devices_opts[] = {
	COMMON_OPTS,
	{ "jid", required_argument, NULL, O_JID },
	{ "alias", required_argument, NULL, O_ALIAS },
	{ "tag", required_argument, NULL, O_TAG },
	{ "app", required_argument, NULL, O_APP },
	{ "online", no_argument, NULL, O_ONLINE },
	{ "offline", no_argument, NULL, O_OFFLINE },
	{ "all", no_argument, NULL, O_ALL },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ NULL, 0, NULL, 0 },
};

static const struct option plain_opts[] = {
	COMMON_OPTS,
	{ NULL, 0, NULL, 0 },
};

static int send_opt(struct pctx *x, int o, const char *v)
{
	struct ctl_send *s = &x->c->send;
	unsigned long long u;

	switch (o) {
	case O_APP:
		return once(x, "--app", &s->app, v, 0);
	case O_JID:
		if (strchr(v, '/'))
			return bad(x, "--jid: '%.60s' must be a bare JID (no /resource)", v);
		if (strv_push(x, "--jid", &s->jids, v) < 0)
			return -1;
		s->jid = s->jids.v[0];
		return 0;
	case O_DEVICE:
		return once(x, "--device", &s->device, v, 0);
	case O_ALIAS:
		return once(x, "--alias", &s->alias, v, 0);
	case O_TAG:
		return strv_push(x, "--tag", &s->tags_any, v);
	case O_TAG_ALL:
		return strv_push(x, "--tag-all", &s->tags_all, v);
	case O_TAG_NOT:
		return strv_push(x, "--tag-not", &s->tags_none, v);
	case O_BROADCAST:
		s->broadcast = 1;
		return 0;
	case O_TITLE:
		return once(x, "--title", &s->title, v, 1);
	case O_BODY:
		return once(x, "--body", &s->body, v, 1);
	case O_URI:
		return once(x, "--uri", &s->uri, v, 1);
	case O_PAYLOAD:
		if (s->payload)
			return bad(x, s->payload_buf
			                      ? "--payload and --payload-file exclude each other"
			                      : "--payload given twice");
		if (text_arg(x, "--payload", v, 1) < 0)
			return -1;
		s->payload = v;
		s->payload_len = strlen(v);
		return 0;
	case O_PAYLOAD_FILE:
		if (s->payload)
			return bad(x, s->payload_buf
			                      ? "--payload-file given twice"
			                      : "--payload and --payload-file exclude each other");
		return read_payload_file(x, s, v);
	case O_TTL:
		if (s->ttl >= 0)
			return bad(x, "--ttl given twice");
		if (num_parse_uint(v, 0, CTL_TTL_MAX, &u) < 0)
			return bad(x, "--ttl: '%.60s' is not a whole number in 0..%u", v,
			           CTL_TTL_MAX);
		s->ttl = (long long)u;
		return 0;
	case O_EXPIRES:
		return time_arg(x, "--expires", s->expires, v);
	case O_NOT_BEFORE:
		return time_arg(x, "--not-before", s->not_before, v);
	case O_PRIORITY:
		if (strcmp(v, "normal") != 0 && strcmp(v, "high") != 0)
			return bad(x, "--priority: '%.60s' is not normal or high", v);
		s->priority = v;
		return 0;
	case O_COLLAPSE:
		return once(x, "--collapse", &s->collapse, v, 0);
	case O_DEDUP:
		return once(x, "--dedup", &s->dedup, v, 0);
	}
	return bad(x, "internal error: option %d", o);
}

static int send_check(struct pctx *x)
{
	const struct ctl_send *s = &x->c->send;
	int narrow = s->jid || s->alias || s->tags_any.n || s->tags_all.n;

	if (!s->app)
		return bad(x, "--app is required");
	if (!narrow && !s->broadcast)
		return bad(x, "no target: give --jid, --alias, --tag, --tag-all or --broadcast");
	if (s->broadcast && narrow)
		return bad(x,
		           "--broadcast cannot be combined with --jid, --alias, --tag or --tag-all "
		           "(--tag-not narrows a broadcast)");
	if (s->device && !s->jid)
		return bad(x, "--device needs --jid");
	if (s->jids.n > 1 && s->device)
		return bad(x, "--device needs exactly one --jid");
	if (s->jids.n > 1 && s->dedup)
		return bad(x, "--dedup needs exactly one --jid (a key names one notification)");
	if (s->ttl >= 0 && *s->expires)
		return bad(x, "--ttl and --expires exclude each other");
	return 0;
}

static int devices_opt(struct pctx *x, int o, const char *v)
{
	struct ctl_devices *d = &x->c->devices;

	switch (o) {
	case O_JID:
		return once(x, "--jid", &d->jid, v, 0);
	case O_ALIAS:
		return once(x, "--alias", &d->alias, v, 0);
	case O_TAG:
		return strv_push(x, "--tag", &d->tags, v);
	case O_APP:
		return once(x, "--app", &d->app, v, 0);
	case O_ONLINE:
	case O_OFFLINE:
		if (d->online >= 0 && d->online != (o == O_ONLINE))
			return bad(x, "--online and --offline exclude each other");
		d->online = o == O_ONLINE;
		return 0;
	case O_ALL:
		d->all = 1;
		return 0;
	case O_LIMIT:
		return limit_arg(x, v, &d->limit);
	}
	return bad(x, "internal error: option %d", o);
}

/* Parse one subcommand's options and operands; argv[0] is the subcommand. */
static int parse_sub(struct pctx *x, int argc, char **argv)
{
	struct ctl_cmd *c = x->c;
	const struct option *opts = plain_opts;
	const char *operand = NULL;
	int o;

	switch (c->cmd) {
	case CTL_CMD_SEND:
		opts = send_opts;
		break;
	case CTL_CMD_STATUS:
		opts = status_opts;
		break;
	case CTL_CMD_DEVICES:
		opts = devices_opts;
		break;
	default:
		break;
	}
	optind = 0; /* reinitialise GNU getopt; options and operands may mix */
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			c->conninfo = optarg;
			continue;
		case O_JSON:
			c->json = 1;
			continue;
		case 'h':
			c->help = 1;
			continue;
		case ':':
			return bad(x, "%s needs a value (see xpushctl %s --help)", argv[optind - 1],
			           ctl_command_name(c->cmd));
		case '?':
			if (optopt > 0 && optopt < 256)
				return bad(x, "unknown option '-%c' (see xpushctl %s --help)",
				           optopt, ctl_command_name(c->cmd));
			return bad(x,
			           "unknown or malformed option '%.60s' (see xpushctl %s --help)",
			           argv[optind - 1], ctl_command_name(c->cmd));
		}
		int rc = 0;
		if (c->cmd == CTL_CMD_SEND)
			rc = send_opt(x, o, optarg);
		else if (c->cmd == CTL_CMD_DEVICES)
			rc = devices_opt(x, o, optarg);
		else if (c->cmd == CTL_CMD_STATUS && o == O_LIMIT)
			rc = limit_arg(x, optarg, &c->status.limit);
		if (rc < 0)
			return -1;
	}
	if (c->help)
		return 0;
	for (int i = optind; i < argc; i++) {
		if (operand || (c->cmd != CTL_CMD_STATUS && c->cmd != CTL_CMD_RETRACT))
			return bad(x, "unexpected argument '%.60s' (see xpushctl %s --help)",
			           argv[i], ctl_command_name(c->cmd));
		operand = argv[i];
	}
	switch (c->cmd) {
	case CTL_CMD_SEND:
		return send_check(x);
	case CTL_CMD_STATUS:
		if (!operand)
			return bad(x, "missing notification id (see xpushctl status --help)");
		return id_arg(x, operand, &c->status.id);
	case CTL_CMD_RETRACT:
		if (!operand)
			return bad(x, "missing notification id (see xpushctl retract --help)");
		return id_arg(x, operand, &c->retract.id);
	default:
		return 0;
	}
}

static enum ctl_command find_cmd(const char *name)
{
	for (size_t i = 1; i < sizeof cmd_names / sizeof cmd_names[0]; i++)
		if (strcmp(cmd_names[i], name) == 0)
			return (enum ctl_command)i;
	return CTL_CMD_NONE;
}

int ctl_args_parse(int argc, char **argv, struct ctl_cmd *out, char *err, size_t errlen)
{
	static const struct option global_opts[] = {
		COMMON_OPTS,
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct pctx x = { out, err, errlen };
	int o;

	memset(out, 0, sizeof *out);
	out->send.ttl = -1;
	out->send.priority = "normal";
	out->status.limit = 1000;
	out->devices.online = -1;
	out->devices.limit = 1000;
	out->app.ttl = -1;
	out->watch.interval_ms = 200;
	*err = '\0';

	optind = 0;
	opterr = 0;
	/* '+': stop at the subcommand; its own options are parsed by parse_sub. */
	while ((o = getopt_long(argc, argv, "+:d:hV", global_opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			out->conninfo = optarg;
			break;
		case O_JSON:
			out->json = 1;
			break;
		case 'h':
			out->help = 1;
			break;
		case 'V':
		case O_VERSION:
			out->version = 1;
			break;
		case ':':
			return bad(&x, "%s needs a value (see xpushctl --help)", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 256)
				return bad(&x, "unknown option '-%c' (see xpushctl --help)",
				           optopt);
			return bad(&x, "unknown or malformed option '%.60s' (see xpushctl --help)",
			           argv[optind - 1]);
		}
	}
	if (out->help || out->version)
		return 0;
	if (optind >= argc)
		return bad(&x,
		           "missing subcommand: send, status, devices, stats, retract, app, device "
		           "or watch (see xpushctl --help)");
	if (strcmp(argv[optind], "help") == 0) {
		/* "xpushctl help [SUBCOMMAND]" is "xpushctl [SUBCOMMAND] --help". */
		out->help = 1;
		if (optind + 1 < argc) {
			out->cmd = find_cmd(argv[optind + 1]);
			if (out->cmd == CTL_CMD_NONE)
				return bad(&x, "help: unknown subcommand '%.60s'",
				           argv[optind + 1]);
		}
		return 0;
	}
	out->cmd = find_cmd(argv[optind]);
	if (out->cmd == CTL_CMD_NONE)
		return bad(&x, "unknown subcommand '%.60s' (see xpushctl --help)", argv[optind]);
	if (out->cmd == CTL_CMD_APP || out->cmd == CTL_CMD_DEVICE || out->cmd == CTL_CMD_WATCH)
		return ctl_args_app_parse(argc - optind, argv + optind, out, err, errlen);
	return parse_sub(&x, argc - optind, argv + optind);
}

void ctl_args_free(struct ctl_cmd *c)
{
	free(c->send.tags_any.v);
	free(c->send.tags_all.v);
	free(c->send.tags_none.v);
	free(c->send.payload_buf);
	free(c->devices.tags.v);
	free(c->send.jids.v);
	free(c->app.acl.v);
	free(c->app.producers.v);
	memset(c, 0, sizeof *c);
}
