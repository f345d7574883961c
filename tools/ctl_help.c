/* ctl_help: the help texts of xpushctl, kept next to each other so that they
 * stay consistent with one another and with xpushctl(1). Text only. */
#include "ctl_help.h"

/* clang-format off: help texts as they print */
#define COMMON \
	"Common options (before or after the command):\n" \
	"  -d, --db CONNINFO   libpq connection string or postgresql:// URI; default\n" \
	"                      $XPUSH_DB, else the PG* environment and libpq defaults\n" \
	"      --json          machine output: one JSON document on stdout\n" \
	"  -h, --help          show this help\n"

#define EXITS \
	"Exit status: 0 ok, 1 database or runtime error, 2 usage error (nothing was\n" \
	"done), 3 not found (status or retract of an unknown notification id).\n"

static const char tool_help[] =
	"Usage: xpushctl [-d CONNINFO] [--json] COMMAND [OPTIONS]\n"
	"\n"
	"Operate xpush from the command line: enqueue notifications and read the\n"
	"delivery ledger, the device roster and the queue's health in PostgreSQL.\n"
	"\n"
	"Commands:\n"
	"  send         enqueue a notification; prints its id\n"
	"  status ID    one notification and its ledger, one row per device\n"
	"  devices      list registered devices (filters: jid, alias, tag, online, app)\n"
	"  stats        queue depth, in-flight, failures, ack and failure rates\n"
	"  retract ID   cancel a notification and recall it from devices that got it\n"
	"  help [CMD]   show this help, or the help of CMD (as CMD --help)\n"
	"\n" COMMON "  -V, --version       show the version\n"
	"\n"
	"Errors are one line on stderr: \"xpushctl: COMMAND: message\"; database errors\n"
	"carry Postgres' message, SQLSTATE and constraint name.\n" EXITS "\n"
	"See xpushctl(1) and docs/xpushctl.md.\n";

static const char send_help[] =
	"Usage: xpushctl send --app APP TARGET [CONTENT] [DELIVERY] [OPTIONS]\n"
	"\n"
	"Enqueue one notification (an INSERT into push.notifications) and print its\n"
	"id. xpushd fans it out to the matching devices of APP and delivers it.\n"
	"\n"
	"Target (selectors combine with AND; at least one of the first five):\n"
	"      --jid JID       every device of this bare JID\n"
	"      --device ID     with --jid: only this device (its install id)\n"
	"      --alias A       devices registered with alias A\n"
	"      --tag T         devices with tag T; repeatable: any of them\n"
	"      --tag-all T     devices with every --tag-all tag (repeatable)\n"
	"      --broadcast     every device of APP (not with --jid/--alias/--tag/--tag-all)\n"
	"      --tag-not T     but not devices with tag T (repeatable)\n"
	"\n"
	"Content (delivered byte-exact; UTF-8, no control characters but TAB/LF/CR):\n"
	"      --app APP       application id (required)\n"
	"      --title TEXT    --body TEXT    --uri URI\n"
	"      --payload TEXT  application data, or\n"
	"      --payload-file FILE   read it from FILE ('-': stdin; at most 1 MiB)\n"
	"\n"
	"Delivery:\n"
	"      --ttl SECONDS   expire undelivered copies after this long, 0..2419200;\n"
	"                      0: now or never (devices offline at send time are\n"
	"                      skipped); default 28 days\n"
	"      --expires TIME  expire at TIME instead (ISO 8601; not with --ttl)\n"
	"      --not-before TIME  do not deliver before TIME (ISO 8601)\n"
	"      --priority P    normal (default) or high\n"
	"      --collapse KEY  a newer notification with KEY supersedes undelivered\n"
	"                      older ones with KEY on the same device\n"
	"      --dedup KEY     idempotency key per producer (the database role) and\n"
	"                      app: sending with a key this role already used for APP\n"
	"                      prints the existing id (and says so on stderr) instead\n"
	"                      of enqueuing a second notification\n"
	"\n"
	"TIME is YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|+HH:MM|-HH:MM]; without an offset it\n"
	"is local time (TZ).\n"
	"\n" COMMON "\n"
	"Output: the id on stdout; with --json {\"id\":N,\"created\":true|false}\n"
	"(created false: the --dedup key was already used by notification N).\n" EXITS;

static const char status_help[] =
	"Usage: xpushctl status [--limit N] [OPTIONS] ID\n"
	"\n"
	"Show notification ID (target, content, fan-out, effective expiry, counts per\n"
	"state) and its ledger: one row per device with state, attempts, acks,\n"
	"timestamps and last error. Ledger states: queued, sent (waiting for the\n"
	"ack), acked, expired, superseded, retracted, failed.\n"
	"\n"
	"      --limit N       show at most N ledger rows (default 1000; 0: all)\n"
	"\n" COMMON "\n"
	"Output with --json: {\"notification\":{...},\"deliveries\":[{...},...]}.\n" EXITS;

static const char devices_help[] =
	"Usage: xpushctl devices [FILTERS] [OPTIONS]\n"
	"\n"
	"List devices of the roster (push.devices) in id order. Filters combine with\n"
	"AND; unregistered devices are left out unless --all.\n"
	"\n"
	"      --jid JID       devices of this bare JID (case-insensitive)\n"
	"      --alias A       devices registered with alias A\n"
	"      --tag T         devices with tag T; repeatable: any of them\n"
	"      --app APP       devices registered for APP\n"
	"      --online        only online devices\n"
	"      --offline       only offline devices\n"
	"      --all           include unregistered devices\n"
	"      --limit N       at most N devices (default 1000; 0: all)\n"
	"\n" COMMON "\n"
	"Output with --json: {\"devices\":[{\"id\":..,\"jid\":..,\"app\":..,\"device\":..,\n"
	"\"alias\":..,\"tags\":[..],\"platform\":..,\"online\":..,\"full_jid\":..,\n"
	"\"last_seen\":..,\"registered_at\":..,\"unregistered_at\":..},...]}.\n" EXITS;

static const char stats_help[] =
	"Usage: xpushctl stats [OPTIONS]\n"
	"\n"
	"Show the health of the queue (push.queue_health) and recent rates:\n"
	"  awaiting_fanout      notifications not yet fanned out to devices\n"
	"  queued               ledger rows waiting for their device to be online\n"
	"  in_flight            sent, waiting for the device's ack\n"
	"  failed, expired      ledger rows in those final states\n"
	"  acked_last_minute, acked_last_hour    acks received in that window\n"
	"  failed_last_minute, failed_last_hour  rows that failed in that window\n"
	"  oldest_queued_age_s  age in seconds of the oldest queued row (null: none)\n"
	"  devices_online, devices_registered\n"
	"\n" COMMON "\n"
	"Output with --json: one object with exactly the keys above.\n" EXITS;

static const char retract_help[] =
	"Usage: xpushctl retract [OPTIONS] ID\n"
	"\n"
	"Retract notification ID (push.retract_own): ledger rows not yet delivered are\n"
	"cancelled (state retracted), and devices that may have shown it are sent a\n"
	"retract. Safe to run twice. A producer role (xpush_producer) may retract only\n"
	"its own notifications; another's is refused (exit 1).\n"
	"\n" COMMON "\n"
	"Output: one line; with --json {\"id\":N,\"affected\":N,\"already_retracted\":B}.\n" EXITS;
/* clang-format on */

void ctl_help_print(FILE *f, enum ctl_command cmd)
{
	switch (cmd) {
	case CTL_CMD_SEND:
		fputs(send_help, f);
		break;
	case CTL_CMD_STATUS:
		fputs(status_help, f);
		break;
	case CTL_CMD_DEVICES:
		fputs(devices_help, f);
		break;
	case CTL_CMD_STATS:
		fputs(stats_help, f);
		break;
	case CTL_CMD_RETRACT:
		fputs(retract_help, f);
		break;
	case CTL_CMD_NONE:
		fputs(tool_help, f);
		break;
	}
}
