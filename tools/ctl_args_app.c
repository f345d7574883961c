/* ctl_args_app: the command lines of `xpushctl app ...`, `xpushctl device
 * unregister` and `xpushctl watch`, parsed and validated into struct ctl_cmd
 * (ctl_args.h) before any connection is made. Owns their options and the
 * rules that mirror schema 010 (policies, the forms of app ids, roles and ACL
 * entries are checked again by the database). No I/O. */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_args.h"
#include "ctl_time.h"
#include "num.h"
#include "utf8.h"

#define WATCH_COUNT_MAX 100000000ull
#define WATCH_TIMEOUT_MAX 31536000ull
#define WATCH_INTERVAL_MIN 10ull
#define WATCH_INTERVAL_MAX 60000ull

struct actx {
	struct ctl_cmd *c;
	char *err;
	size_t errlen;
	const char *what; /* "app add", "device unregister", "watch" */
};

__attribute__((format(printf, 2, 3))) static int bad(struct actx *x, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s: %s", x->what, msg);
	return -1;
}

/* Non-empty UTF-8 without control characters (ids, JIDs, role names). */
static int ident_arg(struct actx *x, const char *opt, const char *v)
{
	size_t len = strlen(v);

	if (!*v)
		return bad(x, "%s: must not be empty", opt);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(v + i, len - i, &cp);
		if (n == 0)
			return bad(x, "%s: the value is not valid UTF-8", opt);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return bad(x, "%s: the value contains a control character", opt);
		i += n;
	}
	return 0;
}

static int once(struct actx *x, const char *opt, const char **slot, const char *v)
{
	if (*slot)
		return bad(x, "%s given twice", opt);
	if (ident_arg(x, opt, v) < 0)
		return -1;
	*slot = v;
	return 0;
}

static int push(struct actx *x, const char *opt, struct ctl_strv *sv, const char *v)
{
	const char **nv;

	if (ident_arg(x, opt, v) < 0)
		return -1;
	nv = realloc(sv->v, (sv->n + 1) * sizeof *nv);
	if (!nv)
		return bad(x, "out of memory");
	sv->v = nv;
	sv->v[sv->n++] = v;
	return 0;
}

/* An app id as schema 006 has it: 1-128 bytes of A-Z a-z 0-9 . _ - */
static int app_arg(struct actx *x, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 128 ||
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	              "0123456789._-") != n)
		return bad(x, "'%.60s' is not an app id (1-128 bytes of A-Z a-z 0-9 . _ -)", v);
	return 0;
}

static int policy_arg(struct actx *x, const char *v)
{
	if (strcmp(v, "open") != 0 && strcmp(v, "acl") != 0 && strcmp(v, "token") != 0)
		return bad(x, "'%.60s' is not a policy: open, acl or token", v);
	return 0;
}

static int uint_arg(struct actx *x, const char *opt, const char *v, unsigned long long min,
                    unsigned long long max, long long *out)
{
	unsigned long long u;

	if (num_parse_uint(v, min, max, &u) < 0)
		return bad(x, "%s: '%.60s' is not a whole number in %llu..%llu", opt, v, min, max);
	*out = (long long)u;
	return 0;
}

enum {
	A_JSON = 300,
	A_POLICY,
	A_ACL,
	A_PRODUCER,
	A_ROTATE,
	A_JID,
	A_DEVICE,
	A_APP,
	A_TTL,
	A_EXPIRES,
	A_SHOW_SECRET,
	A_ID,
	A_FROM_ID,
	A_COUNT,
	A_TIMEOUT,
	A_INTERVAL,
};

static const struct option opts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, A_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ "policy", required_argument, NULL, A_POLICY },
	{ "acl", required_argument, NULL, A_ACL },
	{ "producer", required_argument, NULL, A_PRODUCER },
	{ "rotate-secret", no_argument, NULL, A_ROTATE },
	{ "jid", required_argument, NULL, A_JID },
	{ "device", required_argument, NULL, A_DEVICE },
	{ "app", required_argument, NULL, A_APP },
	{ "ttl", required_argument, NULL, A_TTL },
	{ "expires", required_argument, NULL, A_EXPIRES },
	{ "show-secret", no_argument, NULL, A_SHOW_SECRET },
	{ "id", required_argument, NULL, A_ID },
	{ "from-id", required_argument, NULL, A_FROM_ID },
	{ "count", required_argument, NULL, A_COUNT },
	{ "timeout", required_argument, NULL, A_TIMEOUT },
	{ "interval", required_argument, NULL, A_INTERVAL },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int o)
{
	for (const struct option *p = opts; p->name; p++)
		if (p->val == o)
			return p->name;
	return "?";
}

/* Which options each action takes (a bit per option, A_x - A_JSON). */
#define B(o) (1u << ((o)-A_JSON))
static unsigned allowed(const struct ctl_cmd *c)
{
	if (c->cmd == CTL_CMD_DEVICE)
		return B(A_APP) | B(A_JID) | B(A_DEVICE);
	if (c->cmd == CTL_CMD_WATCH)
		return B(A_ID) | B(A_FROM_ID) | B(A_APP) | B(A_JID) | B(A_COUNT) | B(A_TIMEOUT) |
		       B(A_INTERVAL);
	switch (c->app.action) {
	case CTL_APP_ADD:
		return B(A_POLICY) | B(A_ACL) | B(A_PRODUCER);
	case CTL_APP_POLICY:
		return B(A_ACL) | B(A_ROTATE);
	case CTL_APP_TOKEN:
		return B(A_JID) | B(A_DEVICE) | B(A_TTL) | B(A_EXPIRES);
	case CTL_APP_LIST:
		return B(A_SHOW_SECRET);
	default:
		return 0;
	}
}

static int opt_value(struct actx *x, int o, const char *v)
{
	struct ctl_app *a = &x->c->app;
	struct ctl_device *d = &x->c->device;
	struct ctl_watch *w = &x->c->watch;
	int dev = x->c->cmd == CTL_CMD_DEVICE, watch = x->c->cmd == CTL_CMD_WATCH;

	switch (o) {
	case A_POLICY:
		if (a->policy)
			return bad(x, "--policy given twice");
		if (policy_arg(x, v) < 0)
			return -1;
		a->policy = v;
		return 0;
	case A_ACL:
		a->acl_given = 1;
		if (strchr(v, '/'))
			return bad(x,
			           "--acl: '%.60s' must be a bare JID or a domain (no /resource)",
			           v);
		return push(x, "--acl", &a->acl, v);
	case A_PRODUCER:
		return push(x, "--producer", &a->producers, v);
	case A_ROTATE:
		a->rotate = 1;
		return 0;
	case A_JID:
		if (strchr(v, '/'))
			return bad(x, "--jid: '%.60s' must be a bare JID (no /resource)", v);
		return once(x, "--jid", dev ? &d->jid : watch ? &w->jid : &a->jid, v);
	case A_DEVICE:
		return once(x, "--device", dev ? &d->device : &a->device, v);
	case A_APP:
		if (app_arg(x, v) < 0)
			return -1;
		return once(x, "--app", dev ? &d->app : &w->app, v);
	case A_TTL:
		if (a->ttl >= 0)
			return bad(x, "--ttl given twice");
		return uint_arg(x, "--ttl", v, 1, CTL_TOKEN_TTL_MAX, &a->ttl);
	case A_EXPIRES:
		if (*a->expires)
			return bad(x, "--expires given twice");
		if (ctl_time_parse(v, a->expires, CTL_TIME_LEN) < 0) {
			*a->expires = '\0';
			return bad(x, "--expires: '%.60s' is not an ISO 8601 time", v);
		}
		return 0;
	case A_SHOW_SECRET:
		a->show_secret = 1;
		return 0;
	case A_ID:
		return uint_arg(x, "--id", v, 1, INT64_MAX, &w->id);
	case A_FROM_ID:
		return uint_arg(x, "--from-id", v, 1, INT64_MAX, &w->from_id);
	case A_COUNT:
		return uint_arg(x, "--count", v, 1, WATCH_COUNT_MAX, &w->count);
	case A_TIMEOUT:
		return uint_arg(x, "--timeout", v, 1, WATCH_TIMEOUT_MAX, &w->timeout_s);
	case A_INTERVAL:
		return uint_arg(x, "--interval", v, WATCH_INTERVAL_MIN, WATCH_INTERVAL_MAX,
		                &w->interval_ms);
	}
	return bad(x, "internal error: option %d", o);
}

/* After the options: operands and the rules between options. */
static int check(struct actx *x, char **ops, int nops)
{
	struct ctl_cmd *c = x->c;
	struct ctl_app *a = &c->app;
	int want = c->cmd == CTL_CMD_APP && a->action != CTL_APP_LIST
	                   ? (a->action == CTL_APP_POLICY || a->action == CTL_APP_GRANT ||
	                      a->action == CTL_APP_REVOKE)
	                             ? 2
	                             : 1
	                   : 0;

	if (nops != want) {
		if (nops > want)
			return bad(x, "unexpected argument '%.60s' (see xpushctl %s --help)",
			           ops[want], c->cmd == CTL_CMD_APP ? "app" : x->what);
		return bad(x, "missing %s (see xpushctl %s --help)",
		           nops == 0                     ? "app id"
		           : a->action == CTL_APP_POLICY ? "policy: open, acl or token"
		                                         : "role",
		           c->cmd == CTL_CMD_APP ? "app" : x->what);
	}
	if (c->cmd == CTL_CMD_DEVICE) {
		if (!c->device.app || !c->device.jid)
			return bad(x, "--app and --jid are required");
		return 0;
	}
	if (c->cmd == CTL_CMD_WATCH) {
		if (c->watch.id && c->watch.from_id)
			return bad(x, "--id and --from-id exclude each other");
		return 0;
	}
	if (want >= 1) {
		if (app_arg(x, ops[0]) < 0)
			return -1;
		a->app = ops[0];
	}
	switch (a->action) {
	case CTL_APP_ADD:
		if (!a->policy)
			a->policy = "token";
		if (a->acl.n && strcmp(a->policy, "acl") != 0)
			return bad(x, "--acl needs --policy acl");
		return 0;
	case CTL_APP_POLICY:
		if (policy_arg(x, ops[1]) < 0)
			return -1;
		a->policy = ops[1];
		if (a->acl_given && strcmp(a->policy, "acl") != 0)
			return bad(x, "--acl needs the policy acl");
		if (a->rotate && strcmp(a->policy, "token") != 0)
			return bad(x, "--rotate-secret needs the policy token");
		return 0;
	case CTL_APP_TOKEN:
		if (!a->jid || !a->device)
			return bad(x, "--jid and --device are required");
		if (a->ttl >= 0 && *a->expires)
			return bad(x, "--ttl and --expires exclude each other");
		if (a->ttl < 0 && !*a->expires)
			a->ttl = CTL_TOKEN_TTL_DEFAULT;
		return 0;
	case CTL_APP_GRANT:
	case CTL_APP_REVOKE:
		if (ident_arg(x, "role", ops[1]) < 0)
			return -1;
		if (strlen(ops[1]) > 63)
			return bad(x, "role: '%.70s' is longer than 63 bytes", ops[1]);
		a->role = ops[1];
		return 0;
	default:
		return 0;
	}
}

static const char *const actions[] = {
	[CTL_APP_ADD] = "add",   [CTL_APP_POLICY] = "policy", [CTL_APP_TOKEN] = "token",
	[CTL_APP_LIST] = "list", [CTL_APP_GRANT] = "grant",   [CTL_APP_REVOKE] = "revoke",
};

/* argv[0] is "app", "device" or "watch"; for app and device argv[1] is the
 * action. */
static int pick_action(struct actx *x, int argc, char **argv, int *first)
{
	struct ctl_cmd *c = x->c;
	static char what[24];

	*first = 1;
	if (c->cmd == CTL_CMD_WATCH) {
		x->what = "watch";
		return 0;
	}
	x->what = c->cmd == CTL_CMD_APP ? "app" : "device";
	if (argc < 2 || argv[1][0] == '-') {
		/* "app --help" and "device --help" work without an action. */
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
				c->help = 1;
				return 0;
			}
		return bad(x, c->cmd == CTL_CMD_APP
		                      ? "missing action: add, policy, token, list, grant or revoke"
		                      : "missing action: unregister");
	}
	if (c->cmd == CTL_CMD_DEVICE) {
		if (strcmp(argv[1], "unregister") != 0)
			return bad(x, "unknown action '%.60s': unregister", argv[1]);
		x->what = "device unregister";
	} else {
		for (size_t i = 1; i < sizeof actions / sizeof actions[0]; i++)
			if (strcmp(actions[i], argv[1]) == 0)
				c->app.action = (enum ctl_app_action)i;
		if (c->app.action == CTL_APP_NONE)
			return bad(
				x,
				"unknown action '%.60s': add, policy, token, list, grant or revoke",
				argv[1]);
		snprintf(what, sizeof what, "app %s", actions[c->app.action]);
		x->what = what;
	}
	*first = 2;
	return 0;
}

int ctl_args_app_parse(int argc, char **argv, struct ctl_cmd *out, char *err, size_t errlen)
{
	struct actx x = { out, err, errlen, "" };
	char **ops;
	int first, nops = 0, o;

	if (pick_action(&x, argc, argv, &first) < 0 || out->help)
		return out->help ? 0 : -1;
	ops = calloc((size_t)argc, sizeof *ops);
	if (!ops)
		return bad(&x, "out of memory");
	/* getopt sees the arguments after the action, with argv[first - 1] as its argv[0]. */
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc - first + 1, argv + first - 1, "-:d:h", opts, NULL)) != -1) {
		int rc = 0;
		switch (o) {
		case 1:
			ops[nops++] = optarg;
			continue;
		case 'd':
			out->conninfo = optarg;
			continue;
		case A_JSON:
			out->json = 1;
			continue;
		case 'h':
			out->help = 1;
			continue;
		case ':':
			rc = bad(&x, "%s needs a value (see xpushctl %s --help)",
			         argv[first - 1 + optind - 1],
			         out->cmd == CTL_CMD_WATCH ? "watch"
			         : out->cmd == CTL_CMD_APP ? "app"
			                                   : "device");
			break;
		case '?':
			rc = bad(&x, "unknown or malformed option '%.60s'",
			         argv[first - 1 + optind - 1]);
			break;
		default:
			if (!(allowed(out) & B(o)))
				rc = bad(&x, "option '--%s' does not apply here", opt_name(o));
			else
				rc = opt_value(&x, o, optarg);
		}
		if (rc < 0) {
			free(ops);
			return -1;
		}
	}
	o = out->help ? 0 : check(&x, ops, nops);
	free(ops);
	return o;
}
