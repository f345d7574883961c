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
	"  app ...      apps: add, policy, token, list, grant, revoke (who may register\n"
	"               a device, who may enqueue)\n"
	"  device unregister  remove a device from the roster\n"
	"  watch        follow deliveries live, one line per change of a ledger row\n"
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
	"      --jid JID       every device of this bare JID; repeatable: one\n"
	"                      notification per JID, in one transaction\n"
	"      --device ID     with one --jid: only this device (its install id)\n"
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
	"(created false: the --dedup key was already used by notification N). With\n"
	"several --jid: one id a line, in their order; with --json\n"
	"{\"notifications\":[{\"id\":N,\"jid\":..},...]} (--dedup and --device need one).\n" EXITS;

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
static const char app_help[] =
	"Usage: xpushctl app ACTION [OPTIONS]\n"
	"\n"
	"Apps (push.apps) and who may register a device for each, by policy:\n"
	"  open    any account of xpushd's user_domains\n"
	"  acl     the bare JIDs and domains of its access list\n"
	"  token   a device with a registration token minted with the app's secret\n"
	"          (HMAC-SHA256 over JID, app, device and expiry; docs/apps.md)\n"
	"and which producer roles may enqueue for it.\n"
	"\n"
	"  app add APP [--policy open|acl|token] [--acl ENTRY]... [--producer ROLE]...\n"
	"        add APP (default policy token: a new secret is made and printed);\n"
	"        --acl (repeatable, with --policy acl) a bare JID or a domain;\n"
	"        --producer (repeatable) a role whose members may enqueue for APP\n"
	"  app policy APP open|acl|token [--acl ENTRY]... [--rotate-secret]\n"
	"        change the policy; --acl replaces the list; token makes a secret if\n"
	"        there is none, --rotate-secret a new one (tokens of the old one fail);\n"
	"        prints new_secret when it changed. Devices registered before stay\n"
	"        registered (xpushctl device unregister removes them)\n"
	"  app token APP --jid JID --device ID [--ttl SECONDS | --expires TIME]\n"
	"        print a registration token for that device (default --ttl 86400,\n"
	"        at most 31536000); the app's own server does the same in any language\n"
	"  app list [--show-secret]\n"
	"        every app: policy, access list, producers, registered devices\n"
	"  app grant APP ROLE, app revoke APP ROLE\n"
	"        let members of ROLE enqueue for APP, or no longer (ROLE xpush_producer:\n"
	"        every producer)\n"
	"\n" COMMON "\n"
	"Output: key value lines (list: a table); with --json one object (list:\n"
	"{\"apps\":[...]}, token: {\"token\":..,\"expires\":UNIX_SECONDS}).\n"
	"Exit status: 0 ok, 1 database or runtime error, 2 usage error, 3 no such app\n"
	"or role.\n";

static const char device_help[] =
	"Usage: xpushctl device unregister --app APP --jid JID [--device ID] [OPTIONS]\n"
	"\n"
	"Unregister a device (every device of JID for APP without --device), as its\n"
	"own <unregister/> would: it gets nothing more, and its pending ledger rows\n"
	"say \"device unregistered\". The device may register again if the app's\n"
	"policy lets it.\n"
	"\n" COMMON "\n"
	"Output: the devices unregistered (id, jid, device); with --json\n"
	"{\"unregistered\":[...]}.\n" EXITS;

static const char watch_help[] =
	"Usage: xpushctl watch [--id N | --from-id N] [--app APP] [--jid JID]\n"
	"                      [--count N] [--timeout SECONDS] [--interval MS] [OPTIONS]\n"
	"\n"
	"Follow deliveries live: one line per change of a ledger row (fan-out, sent,\n"
	"acked, retried, expired, retracted...), oldest first.\n"
	"\n"
	"      --id N          notification N only (its current rows first)\n"
	"      --from-id N     notifications N and later (default: those enqueued\n"
	"                      after watch starts; it says on stderr from which id)\n"
	"      --app APP, --jid JID   only these\n"
	"      --count N       stop after N changes (exit 0)\n"
	"      --timeout S     stop after S seconds (exit 4 if --count was not reached)\n"
	"      --interval MS   poll the ledger this often (default 200, 10..60000)\n"
	"\n" COMMON "\n"
	"Output: AT id=N app=.. jid=.. device=.. state=.. attempts=N acks=N\n"
	"[retract_state=..] [last_error=..]; with --json one object per line (JSON\n"
	"Lines) with those keys.\n"
	"Exit status: 0 ok, 1 database or runtime error, 2 usage error, 4 timed out.\n";
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
	case CTL_CMD_APP:
		fputs(app_help, f);
		break;
	case CTL_CMD_DEVICE:
		fputs(device_help, f);
		break;
	case CTL_CMD_WATCH:
		fputs(watch_help, f);
		break;
	case CTL_CMD_NONE:
		fputs(tool_help, f);
		break;
	}
}
