/* main: xpushd's command line. Parses options into the config table, then
 * hands over to daemon_run() or to one of the one-shot modes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "migrate.h"

#ifndef XPUSH_VERSION
#define XPUSH_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: xpushd [-c FILE] [-o KEY=VALUE]... [--migrate | --check-config]\n"
	        "\n"
	        "xpushd is the xpush XEP-0114 external component: it keeps the device roster\n"
	        "and the delivery ledger in PostgreSQL and sends notifications that devices ack.\n"
	        "\n"
	        "Options:\n"
	        "  -c, --config FILE     read settings from FILE (key = value lines, # comments)\n"
	        "  -o, --set KEY=VALUE   override one setting (repeatable; applied after the file)\n"
	        "      --migrate         apply database migrations as migrate_conninfo's role (or\n"
	        "                        pg_conninfo's) and exit; at start xpushd applies them\n"
	        "                        itself only if migrate_conninfo is empty\n"
	        "      --check-config    validate the configuration, print it (secret hidden), exit\n"
	        "  -h, --help            show this help\n"
	        "  -V, --version         show the version\n"
	        "\n"
	        "Settings:\n");
	config_print_keys(out);
	fprintf(out,
	        "\n"
	        "The component secret is read from component_secret_file or from the environment\n"
	        "variable " CONFIG_SECRET_ENV "; it is never accepted on the command line.\n"
	        "\n"
	        "Exit status: 0 clean stop (SIGTERM/SIGINT), 1 runtime failure, 2 bad usage or\n"
	        "configuration, 3 the XMPP server refused the component (wrong secret or name).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 'o' },
		{ "migrate", no_argument, NULL, 'm' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	const char *sets[64];
	int nsets = 0, migrate_only = 0, check_only = 0, opt, rc, applied = 0;
	struct config cfg;
	struct config_source src = { NULL, sets, 0 };
	char err[1024];

	opterr = 0; /* one error line, ours, not getopt's plus ours */
	while ((opt = getopt_long(argc, argv, "c:o:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 'o':
			if (nsets == (int)(sizeof sets / sizeof sets[0])) {
				fprintf(stderr, "xpushd: error: too many -o options\n");
				return XPUSHD_EXIT_USAGE;
			}
			sets[nsets++] = optarg;
			break;
		case 'm':
			migrate_only = 1;
			break;
		case 'k':
			check_only = 1;
			break;
		case 'h':
			usage(stdout);
			return XPUSHD_EXIT_OK;
		case 'V':
			printf("xpushd %s\n", XPUSH_VERSION);
			return XPUSHD_EXIT_OK;
		default:
			fprintf(stderr,
			        "xpushd: error: bad usage: unknown or malformed option '%s'; "
			        "see xpushd --help\n",
			        argv[optind - 1]);
			return XPUSHD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xpushd: error: unexpected argument '%s'; see xpushd --help\n",
		        argv[optind]);
		return XPUSHD_EXIT_USAGE;
	}
	src.file = file;
	src.nsets = nsets;
	rc = XPUSHD_EXIT_USAGE;
	if (config_read(&cfg, &src, 0, err, sizeof err) < 0)
		goto bad;
	if (migrate_only) {
		/* Only the database matters here: the owner's, if named. */
		const char *ci = *cfg.migrate_conninfo ? cfg.migrate_conninfo : cfg.pg_conninfo;
		if (migrate_apply(ci, 0, &applied, err, sizeof err) < 0) {
			fprintf(stderr, "xpushd: error: %s\n", err);
			rc = XPUSHD_EXIT_RUNTIME;
			goto out;
		}
		printf("xpushd: schema up to date (%d migration%s applied)\n", applied,
		       applied == 1 ? "" : "s");
		rc = XPUSHD_EXIT_OK;
		goto out;
	}
	if (config_finish(&cfg, err, sizeof err) < 0)
		goto bad;
	log_set_level(cfg.log_level);
	if (check_only) {
		config_dump(&cfg, stdout);
		rc = XPUSHD_EXIT_OK;
		goto out;
	}
	/* Postgres may come up after us: wait for it with backoff (SIGTERM's
	 * default action still ends us here; no state exists yet). A failing
	 * migration is final: the daemon cannot trust the schema. With an owner
	 * named (migrate_conninfo), the runtime role only checks the schema:
	 * the owner migrates (xpushd --migrate), never the daemon. */
	for (struct backoff bo = { cfg.reconnect_min_ms, cfg.reconnect_max_ms, 0 };;) {
		int m = migrate_apply(cfg.pg_conninfo, *cfg.migrate_conninfo != '\0', &applied, err,
		                      sizeof err);
		if (m == 0)
			break;
		if (m == MIGRATE_FAILED || m == MIGRATE_OUTDATED) {
			log_error("migration failed", "error=%s", log_q(err));
			rc = XPUSHD_EXIT_RUNTIME;
			goto out;
		}
		uint32_t ms = backoff_next(&bo, (uint32_t)random());
		log_warn("postgres unreachable at start", "error=%s retry_ms=%u", log_q(err), ms);
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (applied)
		log_info("schema migrated", "applied=%d", applied);
	rc = daemon_run(&cfg, &src);
	goto out;
bad:
	fprintf(stderr, "xpushd: error: %s\n", err);
out:
	config_free(&cfg);
	return rc;
}
