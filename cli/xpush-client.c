/* xpush-client: a command-line device on libxpush. It logs in, registers as
 * --app/--device, prints one stdout line per displayed notification, logs
 * key=value lines with fixed event names on stderr, optionally runs a command
 * per notification, and exits with a code that tells why (see --help).
 * Other tests drive it, so its interface (options, events, exit codes) is a
 * contract: change it only together with them.
 * Uses only the public API of libxpush. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_exec.h"
#include "cli_format.h"
#include "xpush.h"

#define PROG "xpush-client"
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_AUTH 3
#define EXIT_TLS 4

struct cli {
	int starting;               /* inside xpush_client_new: keep the error */
	char start_error[512];
	int json;
	const char *exec_cmd;
	unsigned long count;        /* 0 = run until stopped */
	unsigned long acked;        /* displayed and acked */
	int stopping;
	enum xpush_log_level level;
	const char *device;
	xpush_client *client;
};

static xpush_client *volatile g_client;
static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_netchg;
static const char *g_netfile;

static const char usage_text[] =
"NAME\n"
"    xpush-client - an xpush device on the command line\n"
"\n"
"SYNOPSIS\n"
"    xpush-client --jid JID --component COMPONENT_JID --app APP --device DEVICE_ID\n"
"                 --state-dir DIR [--host HOST] [--port PORT] [--direct-tls]\n"
"                 [--ca-file CA.pem] [--password-file FILE] [--alias A]\n"
"                 [--tag T]... [--platform P] [--json] [--exec CMD] [--count N]\n"
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
"                          heartbeat_step_ms (docs/heartbeat.md)\n""    --help                print this text and exit\n"
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

__attribute__((format(printf, 1, 2), noreturn))
static void usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s (try --help)\n", msg);
	exit(EXIT_USAGE);
}

static const char *level_name(enum xpush_log_level l)
{
	static const char *const n[] = { "debug", "info", "warn", "error" };
	return (unsigned)l < 4 ? n[l] : "info";
}

static void lib_log(void *ud, enum xpush_log_level level, const char *msg)
{
	struct cli *cli = ud;

	if (cli->starting && level == XPUSH_LOG_ERROR) {
		snprintf(cli->start_error, sizeof cli->start_error, "%s", msg);
		return;
	}
	fprintf(stderr, PROG " level=%s %s\n", level_name(level), msg);
}

/* One stderr event line, filtered by --log-level. extra may be NULL. */
static void ev_line(struct cli *cli, enum xpush_log_level level, const char *event,
                    const char *extra)
{
	if (level < cli->level)
		return;
	fprintf(stderr, PROG " level=%s event=%s%s%s\n", level_name(level), event,
		extra && *extra ? " " : "", extra ? extra : "");
}

static char *quoted(struct cbuf *b, const char *s)
{
	b->len = 0;
	cli_quote_c(b, s ? s : "");
	return b->oom ? (char *)"\"?\"" : b->p;
}

static void on_state(struct cli *cli, const struct xpush_event *ev)
{
	struct cbuf q = { 0 };
	char extra[4200];

	switch (ev->state) {
	case XPUSH_STATE_CONNECTED:
	case XPUSH_STATE_REGISTERED:
	case XPUSH_STATE_ONLINE:
		snprintf(extra, sizeof extra, "jid=%s device=%s", ev->jid, cli->device);
		ev_line(cli, XPUSH_LOG_INFO, xpush_state_name(ev->state), extra);
		break;
	case XPUSH_STATE_CONNECTING:
		ev_line(cli, XPUSH_LOG_DEBUG, "connecting", NULL);
		break;
	case XPUSH_STATE_ACCOUNT_SETUP:
		snprintf(extra, sizeof extra, "jid=%s", ev->jid);
		ev_line(cli, XPUSH_LOG_INFO, "account_setup", extra);
		break;
	case XPUSH_STATE_DISCONNECTED:
		snprintf(extra, sizeof extra, "reason=%s jid=%s", quoted(&q, ev->reason), ev->jid);
		ev_line(cli, XPUSH_LOG_WARN, "disconnected", extra);
		break;
	case XPUSH_STATE_WAITING:
		snprintf(extra, sizeof extra, "delay_ms=%u", (unsigned)ev->delay_ms);
		ev_line(cli, XPUSH_LOG_INFO, "reconnecting", extra);
		break;
	case XPUSH_STATE_STOPPED:
		snprintf(extra, sizeof extra, "jid=%s", ev->jid);
		ev_line(cli, XPUSH_LOG_INFO, "stopped", extra);
		break;
	case XPUSH_STATE_FAILED:
		snprintf(extra, sizeof extra, "reason=%s jid=%s", quoted(&q, ev->reason), ev->jid);
		ev_line(cli, XPUSH_LOG_ERROR,
			ev->error == XPUSH_EAUTH ? "auth_failed" :
			ev->error == XPUSH_ETLS ? "tls_failed" : "failed", extra);
		break;
	default:
		break;
	}
	cbuf_free(&q);
}

static void on_event(void *ud, const struct xpush_event *ev)
{
	struct cli *cli = ud;
	struct cbuf q = { 0 };
	char extra[600];

	switch (ev->type) {
	case XPUSH_EVENT_STATE:
		on_state(cli, ev);
		break;
	case XPUSH_EVENT_DUPLICATE:
		snprintf(extra, sizeof extra, "id=%s%s", ev->id, ev->retracted ? " retracted=1" : "");
		ev_line(cli, XPUSH_LOG_INFO, "duplicate", extra);
		break;
	case XPUSH_EVENT_RETRACT_ACKED:
		snprintf(extra, sizeof extra, "id=%s duplicate=%d", ev->id, ev->duplicate);
		ev_line(cli, XPUSH_LOG_INFO, "retract_acked", extra);
		break;
	case XPUSH_EVENT_ACKED:
		snprintf(extra, sizeof extra, "id=%s", ev->id);
		ev_line(cli, XPUSH_LOG_INFO, "acked", extra);
		if (!ev->duplicate && cli->count && ++cli->acked >= cli->count && !cli->stopping) {
			cli->stopping = 1;
			xpush_client_stop(cli->client);
		}
		break;
	case XPUSH_EVENT_REFUSED:
		snprintf(extra, sizeof extra, "from=%s id=%s", quoted(&q, ev->from),
			 ev->id ? ev->id : "-");
		ev_line(cli, XPUSH_LOG_WARN, "refused", extra);
		break;
	default:
		break;
	}
	cbuf_free(&q);
}

static void on_notify(void *ud, const struct xpush_notification *n)
{
	struct cli *cli = ud;
	struct cbuf b = { 0 };

	if (n->maybe_shown) {
		char extra[200];
		snprintf(extra, sizeof extra, "id=%s", n->id);
		ev_line(cli, XPUSH_LOG_INFO, "redisplay", extra);
	}
	if (cli->json)
		cli_format_json(&b, n);
	else
		cli_format_human(&b, n);
	if (b.oom || fwrite(b.p, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
		char extra[200];
		snprintf(extra, sizeof extra, "id=%s reason=%s", n->id,
			 b.oom ? "\"out of memory\"" : "\"stdout write failed\"");
		ev_line(cli, XPUSH_LOG_ERROR, "output_failed", extra);
		clearerr(stdout);
	}
	cbuf_free(&b);
	if (cli->exec_cmd) {
		int status;
		const char *fail = cli_exec_run(cli->exec_cmd, n, &status);
		if (fail) {
			char extra[200];
			snprintf(extra, sizeof extra, "id=%s reason=\"%s\" status=%d", n->id, fail,
				 WIFEXITED(status) ? WEXITSTATUS(status) :
				 WIFSIGNALED(status) ? 128 + WTERMSIG(status) : status);
			ev_line(cli, XPUSH_LOG_WARN, "exec_failed", extra);
		}
	}
}

/* A retract: one stdout line (the app would remove the notification here). */
static void on_retract(void *ud, const struct xpush_retract *r)
{
	struct cli *cli = ud;
	struct cbuf b = { 0 };
	char extra[200];

	snprintf(extra, sizeof extra, "id=%s seen=%d", r->id, r->seen);
	ev_line(cli, XPUSH_LOG_INFO, "retract", extra);
	if (cli->json)
		cli_format_retract_json(&b, r);
	else
		cli_format_retract_human(&b, r);
	if (b.oom || fwrite(b.p, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
		snprintf(extra, sizeof extra, "id=%s reason=%s", r->id,
			 b.oom ? "\"out of memory\"" : "\"stdout write failed\"");
		ev_line(cli, XPUSH_LOG_ERROR, "output_failed", extra);
		clearerr(stdout);
	}
	cbuf_free(&b);
}

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
	if (g_client)
		xpush_client_stop(g_client);
}

static void on_netsig(int sig)
{
	(void)sig;
	g_netchg = 1; /* handled by the loop in main: reading a file is no handler's job */
}

/* The first line of --network-file into buf; 0, or -1 if unreadable or empty. */
static int read_network_file(char *buf, size_t len)
{
	FILE *f = fopen(g_netfile, "re");

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? 0 : -1;
}

static void network_signal(struct cli *cli)
{
	char key[256], extra[320];

	if (!g_netfile) {
		ev_line(cli, XPUSH_LOG_INFO, "network_changed", NULL);
		xpush_client_network_changed(cli->client);
		return;
	}
	if (read_network_file(key, sizeof key) < 0) {
		snprintf(extra, sizeof extra, "reason=\"cannot read a key from --network-file\"");
		ev_line(cli, XPUSH_LOG_WARN, "network_change_ignored", extra);
		return;
	}
	if (xpush_client_set_network(cli->client, key) != XPUSH_OK) {
		snprintf(extra, sizeof extra, "reason=\"invalid network key\"");
		ev_line(cli, XPUSH_LOG_WARN, "network_change_ignored", extra);
		return;
	}
	snprintf(extra, sizeof extra, "network=%s", key);
	ev_line(cli, XPUSH_LOG_INFO, "network_changed", extra);
}

/* First line of path, without the line end. */
static char *read_password_file(const char *path)
{
	char buf[4097];
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *pw;

	if (fd < 0)
		usage_error("--password-file: cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		usage_error("--password-file: %s is a directory, not a file", path);
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			explicit_bzero(buf, sizeof buf);
			usage_error("--password-file: cannot read %s: %s", path, strerror(errno));
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
		usage_error("--password-file: %s has an empty first line", path);
	pw = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	if (!pw) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(EXIT_RUNTIME);
	}
	return pw;
}

static void set_or_die(xpush_config *cfg, const char *key, const char *value, const char *opt)
{
	int rc = xpush_config_set(cfg, key, value);

	if (rc == XPUSH_ENOMEM) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(EXIT_RUNTIME);
	}
	if (rc != XPUSH_OK) {
		const char *why = xpush_config_last_error(cfg);
		const char *colon = strchr(why, ':');
		fprintf(stderr, PROG ": invalid %s:%s (try --help)\n", opt, colon ? colon + 1 : " bad value");
		exit(EXIT_USAGE);
	}
}

enum {
	OPT_JID = 1000, OPT_HOST, OPT_PORT, OPT_CA, OPT_COMPONENT, OPT_APP, OPT_DEVICE, OPT_STATE,
	OPT_PWFILE, OPT_ALIAS, OPT_TAG, OPT_PLATFORM, OPT_JSON, OPT_EXEC, OPT_COUNT, OPT_REGACCT,
	OPT_LOGLEVEL, OPT_SET, OPT_HELP, OPT_VERSION, OPT_NETWORK, OPT_NETFILE, OPT_DIRECT_TLS,
};

static const struct option longopts[] = {
	{ "jid", required_argument, NULL, OPT_JID },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "ca-file", required_argument, NULL, OPT_CA },
	{ "component", required_argument, NULL, OPT_COMPONENT },
	{ "app", required_argument, NULL, OPT_APP },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "state-dir", required_argument, NULL, OPT_STATE },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "alias", required_argument, NULL, OPT_ALIAS },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "exec", required_argument, NULL, OPT_EXEC },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "register-account", no_argument, NULL, OPT_REGACCT },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "set", required_argument, NULL, OPT_SET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "network-file", required_argument, NULL, OPT_NETFILE },
	{ "direct-tls", no_argument, NULL, OPT_DIRECT_TLS },
	{ NULL, 0, NULL, 0 },
};

/* Option value -> config key. */
static const struct { int opt; const char *key; const char *name; } keymap[] = {
	{ OPT_JID, "jid", "--jid" }, { OPT_HOST, "host", "--host" }, { OPT_PORT, "port", "--port" },
	{ OPT_CA, "ca_file", "--ca-file" }, { OPT_COMPONENT, "component", "--component" },
	{ OPT_APP, "app", "--app" }, { OPT_DEVICE, "device", "--device" },
	{ OPT_STATE, "state_dir", "--state-dir" }, { OPT_ALIAS, "alias", "--alias" },
	{ OPT_TAG, "tag", "--tag" }, { OPT_PLATFORM, "platform", "--platform" },
	{ OPT_LOGLEVEL, "log_level", "--log-level" }, { OPT_NETWORK, "network", "--network" },
};

/* One line naming the option: the library says reason="key: why". */
static void start_failed(const struct cli *cli, int rc)
{
	const char *r = strstr(cli->start_error, "reason=\"");
	char why[512];
	size_t n;

	if (!r) {
		fprintf(stderr, PROG ": cannot start: %s\n", xpush_strerror(rc));
		return;
	}
	snprintf(why, sizeof why, "%s", r + 8);
	n = strlen(why);
	if (n && why[n - 1] == '"')
		why[n - 1] = '\0';
	for (size_t i = 0; i < sizeof keymap / sizeof keymap[0]; i++) {
		size_t kl = strlen(keymap[i].key);
		if (strncmp(why, keymap[i].key, kl) == 0 && why[kl] == ':') {
			fprintf(stderr, PROG ": invalid %s:%s\n", keymap[i].name, why + kl + 1);
			return;
		}
	}
	fprintf(stderr, PROG ": cannot start: %s\n", why);
}

static void parse_args(int argc, char **argv, xpush_config *cfg, struct cli *cli)
{
	const char *pwfile = NULL, *ca = NULL;
	int seen_req[5] = { 0 }; /* jid component app device state-dir */
	static const char *const req_names[5] = { "--jid", "--component", "--app", "--device",
						   "--state-dir" };
	char *pw;
	int opt, network_given = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		size_t i;

		switch (opt) {
		case OPT_HELP:
			fputs(usage_text, stdout);
			exit(0);
		case OPT_VERSION:
			printf(PROG " %s (libxpush %s)\n", XPUSH_VERSION_STRING, xpush_version());
			exit(0);
		case OPT_JSON:
			cli->json = 1;
			continue;
		case OPT_EXEC:
			if (!*optarg)
				usage_error("invalid --exec: empty command");
			cli->exec_cmd = optarg;
			continue;
		case OPT_COUNT: {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || v > 1000000000 || optarg[0] == '-')
				usage_error("invalid --count: %s (a positive integer)", optarg);
			cli->count = v;
			continue;
		}
		case OPT_REGACCT:
			set_or_die(cfg, "register_account", "true", "--register-account");
			continue;
		case OPT_DIRECT_TLS:
			set_or_die(cfg, "direct_tls", "true", "--direct-tls");
			continue;
		case OPT_PWFILE:
			pwfile = optarg;
			continue;
		case OPT_NETFILE:
			g_netfile = optarg;
			continue;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				usage_error("invalid --set: %s (expected KEY=VALUE)", optarg);
			*eq = '\0';
			if (strcmp(optarg, "password") == 0)
				usage_error("invalid --set: the password comes from --password-file or XPUSH_PASSWORD");
			if (xpush_config_set(cfg, optarg, eq + 1) != XPUSH_OK)
				usage_error("invalid --set: %s", xpush_config_last_error(cfg));
			if (strcmp(optarg, "log_level") == 0)
				for (int l = 0; l < 4; l++)
					if (strcmp(eq + 1, level_name((enum xpush_log_level)l)) == 0)
						cli->level = (enum xpush_log_level)l;
			*eq = '=';
			continue;
		}
		case ':':
			usage_error("option %s requires an argument", argv[optind - 1]);
			break;
		case '?':
			usage_error("unknown option %s", argv[optind - 1]);
			break;
		default:
			break;
		}
		for (i = 0; i < sizeof keymap / sizeof keymap[0]; i++)
			if (keymap[i].opt == opt)
				break;
		if (i == sizeof keymap / sizeof keymap[0])
			usage_error("unknown option %s", argv[optind - 1]);
		set_or_die(cfg, keymap[i].key, optarg, keymap[i].name);
		switch (opt) {
		case OPT_JID: seen_req[0] = 1; break;
		case OPT_COMPONENT: seen_req[1] = 1; break;
		case OPT_APP: seen_req[2] = 1; break;
		case OPT_DEVICE: seen_req[3] = 1; cli->device = optarg; break;
		case OPT_STATE: seen_req[4] = 1; break;
		case OPT_CA: ca = optarg; break;
		case OPT_NETWORK: network_given = 1; break;
		case OPT_LOGLEVEL:
			for (int l = 0; l < 4; l++)
				if (strcmp(optarg, level_name((enum xpush_log_level)l)) == 0)
					cli->level = (enum xpush_log_level)l;
			break;
		default: break;
		}
	}
	if (g_netfile && !network_given) {
		char key[256];
		if (read_network_file(key, sizeof key) < 0)
			usage_error("--network-file: cannot read a key from %s", g_netfile);
		set_or_die(cfg, "network", key, "--network-file");
	}
	if (optind < argc)
		usage_error("unexpected argument %s", argv[optind]);
	for (int i = 0; i < 5; i++)
		if (!seen_req[i])
			usage_error("missing required option %s", req_names[i]);
	if (ca && access(ca, R_OK) != 0)
		usage_error("invalid --ca-file: cannot read %s", ca);
	if (pwfile) {
		pw = read_password_file(pwfile);
	} else {
		const char *env = getenv("XPUSH_PASSWORD");
		if (!env || !*env)
			usage_error("missing password: use --password-file FILE or XPUSH_PASSWORD");
		pw = strdup(env);
		if (!pw) {
			fprintf(stderr, PROG ": out of memory\n");
			exit(EXIT_RUNTIME);
		}
	}
	/* never hand the password to --exec children */
	unsetenv("XPUSH_PASSWORD");
	set_or_die(cfg, "password", pw, pwfile ? "--password-file" : "XPUSH_PASSWORD");
	explicit_bzero(pw, strlen(pw));
	free(pw);
}

int main(int argc, char **argv)
{
	struct cli cli;
	xpush_config *cfg;
	struct sigaction sa;
	int rc;

	memset(&cli, 0, sizeof cli);
	cli.level = XPUSH_LOG_INFO;
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the signal must interrupt the wait */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_netsig;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_signal;
	if (xpush_config_new(&cfg) != XPUSH_OK) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_RUNTIME;
	}
	parse_args(argc, argv, cfg, &cli);
	xpush_config_set_log_cb(cfg, lib_log);
	xpush_config_set_event_cb(cfg, on_event);
	xpush_config_set_notify_cb(cfg, on_notify);
	xpush_config_set_retract_cb(cfg, on_retract);
	xpush_config_set_userdata(cfg, &cli);

	cli.starting = 1;
	rc = xpush_client_new(cfg, &cli.client);
	cli.starting = 0;
	xpush_config_free(cfg);
	if (rc != XPUSH_OK) {
		start_failed(&cli, rc);
		return rc == XPUSH_EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	}
	g_client = cli.client;
	if (g_stop) /* a signal came before the client existed */
		xpush_client_stop(cli.client);

	/* xpush_client_run() with a look at SIGUSR1 between slices (the signal
	 * interrupts the wait, so a network change is handled at once) */
	while ((rc = xpush_client_run_once(cli.client, 200)) == 1) {
		if (g_netchg) {
			g_netchg = 0;
			network_signal(&cli);
		}
	}

	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	g_client = NULL;
	xpush_client_free(cli.client);
	fflush(stdout);
	switch (rc) {
	case XPUSH_OK: return 0;
	case XPUSH_EAUTH: return EXIT_AUTH;
	case XPUSH_ETLS: return EXIT_TLS;
	default: return EXIT_RUNTIME;
	}
}
