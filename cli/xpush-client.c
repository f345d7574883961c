/* xpush-client: a command-line device on libxpush. It logs in, registers as
 * --app/--device, prints one stdout line per displayed notification, logs
 * key=value lines with fixed event names on stderr, optionally runs a command
 * per notification, and exits with a code that tells why (see --help).
 * Other tests drive it, so its interface (options, events, exit codes) is a
 * contract: change it only together with them.
 * Uses only the public API of libxpush. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cli_args.h"
#include "cli_exec.h"
#include "cli_format.h"
#include "xpush.h"

#define PROG CLI_PROG
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_AUTH 3
#define EXIT_TLS 4

struct cli {
	struct cli_args o; /* the command line */
	int starting;      /* inside xpush_client_new: keep the error */
	char start_error[512];
	unsigned long acked; /* displayed and acked */
	int stopping;
	xpush_client *client;
};

static xpush_client *volatile g_client;
static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_netchg;

static void lib_log(void *ud, enum xpush_log_level level, const char *msg)
{
	struct cli *cli = ud;

	if (cli->starting && level == XPUSH_LOG_ERROR) {
		snprintf(cli->start_error, sizeof cli->start_error, "%s", msg);
		return;
	}
	fprintf(stderr, PROG " level=%s %s\n", cli_args_level_name(level), msg);
}

/* One stderr event line, filtered by --log-level. extra may be NULL. */
static void ev_line(struct cli *cli, enum xpush_log_level level, const char *event,
                    const char *extra)
{
	if (level < cli->o.level)
		return;
	fprintf(stderr, PROG " level=%s event=%s%s%s\n", cli_args_level_name(level), event,
	        extra && *extra ? " " : "", extra ? extra : "");
}

/* ev_line with extra formatted into buf (len bytes: a longer text is cut). */
__attribute__((format(printf, 6, 7))) static void ev_linef(struct cli *cli,
                                                           enum xpush_log_level level,
                                                           const char *event, char *buf, size_t len,
                                                           const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	ev_line(cli, level, event, buf);
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
	char x[4200];

	switch (ev->state) {
	case XPUSH_STATE_CONNECTED:
	case XPUSH_STATE_REGISTERED:
	case XPUSH_STATE_ONLINE:
		ev_linef(cli, XPUSH_LOG_INFO, xpush_state_name(ev->state), x, sizeof x,
		         "jid=%s device=%s", ev->jid, cli->o.device);
		break;
	case XPUSH_STATE_CONNECTING:
		ev_line(cli, XPUSH_LOG_DEBUG, "connecting", NULL);
		break;
	case XPUSH_STATE_ACCOUNT_SETUP:
		ev_linef(cli, XPUSH_LOG_INFO, "account_setup", x, sizeof x, "jid=%s", ev->jid);
		break;
	case XPUSH_STATE_DISCONNECTED:
		ev_linef(cli, XPUSH_LOG_WARN, "disconnected", x, sizeof x, "reason=%s jid=%s",
		         quoted(&q, ev->reason), ev->jid);
		break;
	case XPUSH_STATE_WAITING:
		ev_linef(cli, XPUSH_LOG_INFO, "reconnecting", x, sizeof x, "delay_ms=%u",
		         (unsigned)ev->delay_ms);
		break;
	case XPUSH_STATE_STOPPED:
		ev_linef(cli, XPUSH_LOG_INFO, "stopped", x, sizeof x, "jid=%s", ev->jid);
		break;
	case XPUSH_STATE_FAILED:
		ev_linef(cli, XPUSH_LOG_ERROR,
		         ev->error == XPUSH_EAUTH  ? "auth_failed"
		         : ev->error == XPUSH_ETLS ? "tls_failed"
		                                   : "failed",
		         x, sizeof x, "reason=%s jid=%s", quoted(&q, ev->reason), ev->jid);
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
	char x[600];

	switch (ev->type) {
	case XPUSH_EVENT_STATE:
		on_state(cli, ev);
		break;
	case XPUSH_EVENT_DUPLICATE:
		ev_linef(cli, XPUSH_LOG_INFO, "duplicate", x, sizeof x, "id=%s%s", ev->id,
		         ev->retracted ? " retracted=1" : "");
		break;
	case XPUSH_EVENT_RETRACT_ACKED:
		ev_linef(cli, XPUSH_LOG_INFO, "retract_acked", x, sizeof x, "id=%s duplicate=%d",
		         ev->id, ev->duplicate);
		break;
	case XPUSH_EVENT_ACKED:
		ev_linef(cli, XPUSH_LOG_INFO, "acked", x, sizeof x, "id=%s", ev->id);
		if (!ev->duplicate && cli->o.count && ++cli->acked >= cli->o.count &&
		    !cli->stopping) {
			cli->stopping = 1;
			xpush_client_stop(cli->client);
		}
		break;
	case XPUSH_EVENT_REFUSED:
		ev_linef(cli, XPUSH_LOG_WARN, "refused", x, sizeof x, "from=%s id=%s",
		         quoted(&q, ev->from), ev->id ? ev->id : "-");
		break;
	default:
		break;
	}
	cbuf_free(&q);
}

/* Write b (one formatted line) to stdout and flush it; a failure is an
 * output_failed event for id. Frees b. */
static void print_line(struct cli *cli, struct cbuf *b, const char *id)
{
	char x[200];

	if (b->oom || fwrite(b->p, 1, b->len, stdout) != b->len || fflush(stdout) != 0) {
		ev_linef(cli, XPUSH_LOG_ERROR, "output_failed", x, sizeof x, "id=%s reason=%s", id,
		         b->oom ? "\"out of memory\"" : "\"stdout write failed\"");
		clearerr(stdout);
	}
	cbuf_free(b);
}

static void on_notify(void *ud, const struct xpush_notification *n)
{
	struct cli *cli = ud;
	struct cbuf b = { 0 };
	char x[200];

	if (n->maybe_shown)
		ev_linef(cli, XPUSH_LOG_INFO, "redisplay", x, sizeof x, "id=%s", n->id);
	if (cli->o.json)
		cli_format_json(&b, n);
	else
		cli_format_human(&b, n);
	print_line(cli, &b, n->id);
	if (cli->o.exec_cmd) {
		int status;
		const char *fail = cli_exec_run(cli->o.exec_cmd, n, &status);
		if (fail)
			ev_linef(cli, XPUSH_LOG_WARN, "exec_failed", x, sizeof x,
			         "id=%s reason=\"%s\" status=%d", n->id, fail,
			         WIFEXITED(status)     ? WEXITSTATUS(status)
			         : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
			                               : status);
	}
}

/* A retract: one stdout line (the app would remove the notification here). */
static void on_retract(void *ud, const struct xpush_retract *r)
{
	struct cli *cli = ud;
	struct cbuf b = { 0 };
	char x[200];

	ev_linef(cli, XPUSH_LOG_INFO, "retract", x, sizeof x, "id=%s seen=%d", r->id, r->seen);
	if (cli->o.json)
		cli_format_retract_json(&b, r);
	else
		cli_format_retract_human(&b, r);
	print_line(cli, &b, r->id);
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

static void network_signal(struct cli *cli)
{
	char key[256], x[320];

	if (!cli->o.netfile) {
		ev_line(cli, XPUSH_LOG_INFO, "network_changed", NULL);
		xpush_client_network_changed(cli->client);
		return;
	}
	if (cli_args_read_line(cli->o.netfile, key, sizeof key) < 0) {
		ev_line(cli, XPUSH_LOG_WARN, "network_change_ignored",
		        "reason=\"cannot read a key from --network-file\"");
		return;
	}
	if (xpush_client_set_network(cli->client, key) != XPUSH_OK) {
		ev_line(cli, XPUSH_LOG_WARN, "network_change_ignored",
		        "reason=\"invalid network key\"");
		return;
	}
	ev_linef(cli, XPUSH_LOG_INFO, "network_changed", x, sizeof x, "network=%s", key);
}

int main(int argc, char **argv)
{
	struct cli cli;
	xpush_config *cfg;
	struct sigaction sa;
	char err[512], why[600];
	int rc;

	memset(&cli, 0, sizeof cli);
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
	switch (cli_args_parse(argc, argv, cfg, &cli.o, err, sizeof err)) {
	case CLI_ARGS_RUN:
		break;
	case CLI_ARGS_HELP:
		fputs(cli_usage_text, stdout);
		return 0;
	case CLI_ARGS_VERSION:
		printf(PROG " %s (libxpush %s)\n", XPUSH_VERSION_STRING, xpush_version());
		return 0;
	case CLI_ARGS_USAGE:
		fprintf(stderr, PROG ": %s (try --help)\n", err);
		return EXIT_USAGE;
	default:
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_RUNTIME;
	}
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
		cli_args_start_error(cli.start_error, rc, why, sizeof why);
		fprintf(stderr, PROG ": %s\n", why);
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
	case XPUSH_OK:
		return 0;
	case XPUSH_EAUTH:
		return EXIT_AUTH;
	case XPUSH_ETLS:
		return EXIT_TLS;
	default:
		return EXIT_RUNTIME;
	}
}
