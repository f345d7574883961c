/* cli_args: xpush-client's usage text and command line (see cli_args.h).
 * Owns the option table, the mapping of options to libxpush's keys, the
 * required options and the reading of the password and the network key.
 * Must not print or exit: main does, from what it returns. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_args.h"
#include "num.h"

/* clang-format off: the help text as it prints */
const char cli_usage_text[] =
	"NAME\n"
	"    xpush-client - an xpush device on the command line\n"
	"\n"
	"SYNOPSIS\n"
	"    xpush-client --jid JID --component COMPONENT_JID --app APP --device DEVICE_ID\n"
	"                 --state-dir DIR [--host HOST] [--port PORT] [--direct-tls]\n"
	"                 [--ca-file CA.pem] [--password-file FILE] [--alias A]\n"
	"                 [--tag T]... [--platform P] [--register-token T] [--json]\n"
	"                 [--exec CMD] [--count N]\n"
	"                 [--register-account] [--log-level debug|info|warn|error]\n"
	"                 [--set KEY=VALUE]... [--network KEY] [--network-file FILE]\n"
	"                 [--help] [--version]\n"
	"\n"
	"DESCRIPTION\n"
	"    Logs in to an XMPP server as JID over TLS (STARTTLS is mandatory, or\n"
	"    direct TLS with --direct-tls; the server certificate is verified),\n"
	"    registers the device with the xpush component, and receives its\n"
	"    notifications. Each notification is recorded\n"
	"    durably in the state directory, displayed once (one line on stdout), and\n"
	"    then acknowledged; a redelivered notification is acknowledged again but\n"
	"    not displayed again. A retract (the producer withdrew notification N)\n"
	"    prints one line, is recorded in the state directory and acknowledged; a\n"
	"    copy of N arriving after its retract is acknowledged but not displayed.\n"
	"    A notification with a collapse key replaces the displayed one with the\n"
	"    same key (its line shows collapse=KEY). Lost connections are\n"
	"    re-established with capped, jittered exponential backoff. Authentication\n"
	"    and TLS failures (certificate, STARTTLS missing or refused, a peer that\n"
	"    does not speak TLS) are final: the program exits instead of retrying.\n"
	"\n"
	"OPTIONS\n"
	"    --jid JID             account, user@domain[/resource]\n"
	"    --host HOST           connect to HOST instead of resolving the JID's domain\n"
	"    --port PORT           TCP port (default 5222; 5223 with --direct-tls)\n"
	"    --direct-tls          TLS from the first byte (XEP-0368) to the server's\n"
	"                          direct-TLS port instead of STARTTLS: nothing is\n"
	"                          parsed before the certificate is verified (on a\n"
	"                          hostile network a STARTTLS device can be stalled\n"
	"                          by a pre-TLS DOCTYPE). Recommended where the server\n"
	"                          offers it; never falls back to STARTTLS\n"
	"    --ca-file FILE        trust the CA certificate(s) in FILE (PEM) in addition\n"
	"                          to the system store\n"
	"    --component JID       the xpush component, e.g. push.example.org; only\n"
	"                          notifications from exactly this JID are accepted\n"
	"    --app APP             application id the device registers for\n"
	"    --device ID           stable installation id of this device\n"
	"    --state-dir DIR       durable state (the de-duplication log); created if\n"
	"                          missing; one running client per DIR and component\n"
	"    --password-file FILE  read the password from the first line of FILE\n"
	"    --alias A             register this alias\n"
	"    --tag T               register tag T (repeatable)\n"
	"    --platform P          register platform P (e.g. linux)\n"
	"    --register-token T    the registration token the app's own server issued\n"
	"                          this device (apps whose policy is token, docs/apps.md)\n"
	"    --json                print notifications as JSON objects, one per line\n"
	"    --exec CMD            run CMD with /bin/sh -c for each displayed\n"
	"                          notification, before it is acknowledged; its stdout\n"
	"                          goes to stderr; a failure is logged and the\n"
	"                          notification still counts as displayed\n"
	"    --count N             exit 0 once N notifications were displayed and acked\n"
	"    --register-account    if login fails, create the account in-band\n"
	"                          (XEP-0077) once and log in again\n"
	"    --log-level LEVEL     debug, info (default), warn or error\n"
	"    --network KEY         the network the device is on (e.g. wifi:HomeSSID,\n"
	"                          cell:460-00): the heartbeat interval is learned and\n"
	"                          remembered per key (default: \"default\")\n"
	"    --network-file FILE   read the network key from the first line of FILE at\n"
	"                          start (unless --network is given) and at every\n"
	"                          SIGUSR1\n"
	"    --set KEY=VALUE       advanced: set any libxpush configuration key, e.g.\n"
	"                          heartbeat_ms=60000, reconnect_base_ms=500,\n"
	"                          reconnect_cap_ms, stable_after_ms, connect_timeout_ms,\n"
	"                          register_timeout_ms, heartbeat_timeout_ms,\n"
	"                          stop_timeout_ms, seen_retention_s, seen_max_lines,\n"
	"                          seen_max_ids,\n"
	"                          heartbeat_adaptive, heartbeat_min_ms, heartbeat_max_ms,\n"
	"                          heartbeat_step_ms (docs/heartbeat.md)\n"
	"    --help                print this text and exit\n"
	"    --version             print the version and exit\n"
	"\n"
	"ENVIRONMENT\n"
	"    XPUSH_PASSWORD        the password, unless --password-file is given (it is\n"
	"                          never taken from the command line, which ps shows);\n"
	"                          removed from the environment of --exec commands\n"
	"    For --exec: XPUSH_ID, XPUSH_APP, XPUSH_TITLE, XPUSH_BODY, XPUSH_URI and\n"
	"    XPUSH_PAYLOAD hold the notification's fields (unset when absent).\n"
	"\n"
	"OUTPUT\n"
	"    stdout, one line per displayed notification, flushed at once:\n"
	"      notification id=42 app=com.example title=\"..\" body=\"..\" uri=\"..\" collapse=KEY\n"
	"    (absent fields omitted; C-style escapes for \\\", \\\\ and control bytes), or\n"
	"    with --json:\n"
	"      {\"id\":\"42\",\"app\":\"..\",\"priority\":\"normal\",\"collapse\":\"..\",\n"
	"       \"title\":\"..\",\"body\":\"..\",\"uri\":\"..\",\"payload\":\"..\"}\n"
	"    and one line per retract (the first time it is seen):\n"
	"      retract id=42\n"
	"    or with --json (the \"event\" key tells it apart from a notification):\n"
	"      {\"event\":\"retract\",\"id\":\"42\"}\n"
	"    stderr, key=value log lines such as\n"
	"      xpush-client level=info event=online jid=alice@example.org/res device=dev1\n"
	"    with these events: connected (TLS session up), registered, online,\n"
	"    duplicate id=N [retracted=1: a late copy after its retract], acked id=N,\n"
	"    redisplay id=N (the process died while N was being displayed: it is\n"
	"    printed again), retract id=N seen=0|1 (seen=1: N had been displayed),\n"
	"    retract_acked id=N duplicate=0|1, disconnected reason=\"..\",\n"
	"    reconnecting delay_ms=N, auth_failed, tls_failed reason=\"..\", refused,\n"
	"    stopped.\n"
	"\n"
	"EXIT STATUS\n"
	"    0  stopped by SIGTERM/SIGINT, or --count reached\n"
	"    1  runtime failure\n"
	"    2  usage error (bad or missing option)\n"
	"    3  authentication failed\n"
	"    4  TLS failed: certificate not verified, STARTTLS missing or refused,\n"
	"       or no TLS on the --direct-tls port\n"
	"\n"
	"SIGNALS\n"
	"    SIGTERM, SIGINT: send unavailable presence, close the stream, exit 0.\n"
	"    SIGUSR1: the network changed: reconnect at once, on the key read from\n"
	"    --network-file (logged as event=network_changed network=KEY), or on the\n"
	"    same key without --network-file.\n"
	"\n"
	"FILES\n"
	"    DIR/seen-<component>.log   ids already displayed or retracted (kept 35 days)\n"
	"    DIR/seen-<component>.lock  held while running\n"
	"    DIR/heartbeat.tab          heartbeat interval learned per network key\n"
	"\n"
	"EXAMPLE\n"
	"    XPUSH_PASSWORD=secret xpush-client --jid alice@example.org --direct-tls \\\n"
	"        --component push.example.org --app com.example.news --device 6f1c \\\n"
	"        --state-dir ~/.local/state/xpush --json\n";
/* clang-format on */


/* Where the error line goes while parsing. */
struct pctx {
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static enum cli_args_result bad(struct pctx *x,
                                                                      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return CLI_ARGS_USAGE;
}

const char *cli_args_level_name(enum xpush_log_level l)
{
	static const char *const n[] = { "debug", "info", "warn", "error" };
	return (unsigned)l < 4 ? n[l] : "info";
}

/* The level named by s exactly ("debug".."error"), else *level unchanged. */
static void take_level(const char *s, enum xpush_log_level *level)
{
	for (int l = 0; l < 4; l++)
		if (strcmp(s, cli_args_level_name((enum xpush_log_level)l)) == 0)
			*level = (enum xpush_log_level)l;
}

int cli_args_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? 0 : -1;
}

/* The first line of path, without the line end, into *out (caller wipes and
 * frees). */
static enum cli_args_result read_password_file(struct pctx *x, const char *path, char **out)
{
	char buf[4097];
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return bad(x, "--password-file: cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return bad(x, "--password-file: %s is a directory, not a file", path);
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			explicit_bzero(buf, sizeof buf);
			close(fd);
			return bad(x, "--password-file: cannot read %s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof buf - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0])
		return bad(x, "--password-file: %s has an empty first line", path);
	*out = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return *out ? CLI_ARGS_RUN : CLI_ARGS_NOMEM;
}

/* Set a library key from the option opt. */
static enum cli_args_result set_key(struct pctx *x, xpush_config *cfg, const char *key,
                                    const char *value, const char *opt)
{
	int rc = xpush_config_set(cfg, key, value);
	const char *why, *colon;

	if (rc == XPUSH_ENOMEM)
		return CLI_ARGS_NOMEM;
	if (rc == XPUSH_OK)
		return CLI_ARGS_RUN;
	why = xpush_config_last_error(cfg);
	colon = strchr(why, ':');
	return bad(x, "invalid %s:%s", opt, colon ? colon + 1 : " bad value");
}

enum {
	OPT_JID = 1000,
	OPT_HOST,
	OPT_PORT,
	OPT_CA,
	OPT_COMPONENT,
	OPT_APP,
	OPT_DEVICE,
	OPT_STATE,
	OPT_PWFILE,
	OPT_ALIAS,
	OPT_TAG,
	OPT_PLATFORM,
	OPT_JSON,
	OPT_EXEC,
	OPT_COUNT,
	OPT_REGACCT,
	OPT_LOGLEVEL,
	OPT_SET,
	OPT_HELP,
	OPT_VERSION,
	OPT_NETWORK,
	OPT_NETFILE,
	OPT_DIRECT_TLS,
	OPT_REGTOKEN,
};

/* One row per option: its id, its name, whether it takes a value, and the
 * library key it sets (an option without a value sets it to "true"), or
 * NULL when cli_args_parse handles it itself. */
static const struct cli_opt {
	int id;
	const char *name;
	int has_arg;
	const char *key;
} opts[] = {
	{ OPT_JID, "jid", required_argument, "jid" },
	{ OPT_HOST, "host", required_argument, "host" },
	{ OPT_PORT, "port", required_argument, "port" },
	{ OPT_CA, "ca-file", required_argument, "ca_file" },
	{ OPT_COMPONENT, "component", required_argument, "component" },
	{ OPT_APP, "app", required_argument, "app" },
	{ OPT_DEVICE, "device", required_argument, "device" },
	{ OPT_STATE, "state-dir", required_argument, "state_dir" },
	{ OPT_PWFILE, "password-file", required_argument, NULL },
	{ OPT_ALIAS, "alias", required_argument, "alias" },
	{ OPT_TAG, "tag", required_argument, "tag" },
	{ OPT_PLATFORM, "platform", required_argument, "platform" },
	{ OPT_JSON, "json", no_argument, NULL },
	{ OPT_EXEC, "exec", required_argument, NULL },
	{ OPT_COUNT, "count", required_argument, NULL },
	{ OPT_REGACCT, "register-account", no_argument, "register_account" },
	{ OPT_LOGLEVEL, "log-level", required_argument, "log_level" },
	{ OPT_SET, "set", required_argument, NULL },
	{ OPT_HELP, "help", no_argument, NULL },
	{ OPT_VERSION, "version", no_argument, NULL },
	{ OPT_NETWORK, "network", required_argument, "network" },
	{ OPT_NETFILE, "network-file", required_argument, NULL },
	{ OPT_DIRECT_TLS, "direct-tls", no_argument, "direct_tls" },
	{ OPT_REGTOKEN, "register-token", required_argument, "register_token" },
};

#define NOPTS (sizeof opts / sizeof opts[0])

static const struct cli_opt *opt_by_id(int id)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].id == id)
			return &opts[i];
	return NULL;
}

/* Set the library key of option o from its value (NULL: no value). */
static enum cli_args_result set_opt(struct pctx *x, xpush_config *cfg, const struct cli_opt *o,
                                    const char *value)
{
	char flag[40];

	snprintf(flag, sizeof flag, "--%s", o->name);
	return set_key(x, cfg, o->key, value ? value : "true", flag);
}

void cli_args_start_error(const char *lib_error, int rc, char *out, size_t len)
{
	const char *r = strstr(lib_error, "reason=\"");
	char why[512];
	size_t n;

	if (!r) {
		snprintf(out, len, "cannot start: %s", xpush_strerror(rc));
		return;
	}
	snprintf(why, sizeof why, "%s", r + 8);
	n = strlen(why);
	if (n && why[n - 1] == '"')
		why[n - 1] = '\0';
	for (size_t i = 0; i < NOPTS; i++) {
		size_t kl = opts[i].key ? strlen(opts[i].key) : 0;
		if (kl && strncmp(why, opts[i].key, kl) == 0 && why[kl] == ':') {
			snprintf(out, len, "invalid --%s:%s", opts[i].name, why + kl + 1);
			return;
		}
	}
	snprintf(out, len, "cannot start: %s", why);
}

/* --set KEY=VALUE: any library key but the password. */
static enum cli_args_result set_any(struct pctx *x, xpush_config *cfg, struct cli_args *a,
                                    char *arg)
{
	char *eq = strchr(arg, '=');
	enum cli_args_result rc = CLI_ARGS_RUN;

	if (!eq || eq == arg)
		return bad(x, "invalid --set: %s (expected KEY=VALUE)", arg);
	*eq = '\0';
	if (strcmp(arg, "password") == 0)
		rc = bad(
			x,
			"invalid --set: the password comes from --password-file or XPUSH_PASSWORD");
	else if (xpush_config_set(cfg, arg, eq + 1) != XPUSH_OK)
		rc = bad(x, "invalid --set: %s", xpush_config_last_error(cfg));
	else if (strcmp(arg, "log_level") == 0)
		take_level(eq + 1, &a->level);
	*eq = '=';
	return rc;
}

/* The password: from --password-file, else XPUSH_PASSWORD (then removed
 * from the environment). */
static enum cli_args_result set_password(struct pctx *x, xpush_config *cfg, const char *pwfile)
{
	enum cli_args_result rc;
	char *pw = NULL;

	if (pwfile) {
		if ((rc = read_password_file(x, pwfile, &pw)) != CLI_ARGS_RUN)
			return rc;
	} else {
		const char *env = getenv("XPUSH_PASSWORD");
		if (!env || !*env)
			return bad(x,
			           "missing password: use --password-file FILE or XPUSH_PASSWORD");
		if (!(pw = strdup(env)))
			return CLI_ARGS_NOMEM;
	}
	/* never hand the password to --exec children */
	unsetenv("XPUSH_PASSWORD");
	rc = set_key(x, cfg, "password", pw, pwfile ? "--password-file" : "XPUSH_PASSWORD");
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return rc;
}

enum cli_args_result cli_args_parse(int argc, char **argv, xpush_config *cfg, struct cli_args *a,
                                    char *err, size_t errlen)
{
	static const char *const req_names[5] = { "--jid", "--component", "--app", "--device",
		                                  "--state-dir" };
	static struct option longopts[NOPTS + 1];
	struct pctx x = { err, errlen };
	const char *pwfile = NULL, *ca = NULL;
	const struct cli_opt *o;
	int seen_req[5] = { 0 }; /* jid component app device state-dir */
	int opt, network_given = 0;
	enum cli_args_result rc;

	for (size_t i = 0; i < NOPTS; i++) {
		longopts[i].name = opts[i].name;
		longopts[i].has_arg = opts[i].has_arg;
		longopts[i].val = opts[i].id;
	}
	memset(a, 0, sizeof *a);
	a->level = XPUSH_LOG_INFO;
	err[0] = '\0';
	optind = 0; /* glibc: start over (a test parses more than one command line) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_HELP:
			return CLI_ARGS_HELP;
		case OPT_VERSION:
			return CLI_ARGS_VERSION;
		case OPT_JSON:
			a->json = 1;
			continue;
		case OPT_EXEC:
			if (!*optarg)
				return bad(&x, "invalid --exec: empty command");
			a->exec_cmd = optarg;
			continue;
		case OPT_COUNT: {
			unsigned long long v;
			if (num_parse_uint(optarg, 1, 1000000000, &v) < 0)
				return bad(&x, "invalid --count: %s (a positive integer)", optarg);
			a->count = (unsigned long)v;
			continue;
		}
		case OPT_PWFILE:
			pwfile = optarg;
			continue;
		case OPT_NETFILE:
			a->netfile = optarg;
			continue;
		case OPT_SET:
			if ((rc = set_any(&x, cfg, a, optarg)))
				return rc;
			continue;
		case ':':
			return bad(&x, "option %s requires an argument", argv[optind - 1]);
		case '?':
			return bad(&x, "unknown option %s", argv[optind - 1]);
		default:
			break;
		}
		if (!(o = opt_by_id(opt)) || !o->key)
			return bad(&x, "unknown option %s", argv[optind - 1]);
		if ((rc = set_opt(&x, cfg, o, o->has_arg == no_argument ? NULL : optarg)))
			return rc;
		switch (opt) {
		case OPT_JID:
			seen_req[0] = 1;
			break;
		case OPT_COMPONENT:
			seen_req[1] = 1;
			break;
		case OPT_APP:
			seen_req[2] = 1;
			break;
		case OPT_DEVICE:
			seen_req[3] = 1;
			a->device = optarg;
			break;
		case OPT_STATE:
			seen_req[4] = 1;
			break;
		case OPT_CA:
			ca = optarg;
			break;
		case OPT_NETWORK:
			network_given = 1;
			break;
		case OPT_LOGLEVEL:
			take_level(optarg, &a->level);
			break;
		default:
			break;
		}
	}
	if (a->netfile && !network_given) {
		char key[256];
		if (cli_args_read_line(a->netfile, key, sizeof key) < 0)
			return bad(&x, "--network-file: cannot read a key from %s", a->netfile);
		if ((rc = set_key(&x, cfg, "network", key, "--network-file")))
			return rc;
	}
	if (optind < argc)
		return bad(&x, "unexpected argument %s", argv[optind]);
	for (int i = 0; i < 5; i++)
		if (!seen_req[i])
			return bad(&x, "missing required option %s", req_names[i]);
	if (ca && access(ca, R_OK) != 0)
		return bad(&x, "invalid --ca-file: cannot read %s", ca);
	return set_password(&x, cfg, pwfile);
}
