/* ctl_args: xpushctl's command line, parsed and validated into plain structs.
 * Every usage error is caught here, before any database connection, as one
 * line naming the subcommand and the option ("send: --ttl: '-5' is not a whole
 * number in 0..2419200"). No I/O besides reading --payload-file. */
#ifndef XPUSH_CTL_ARGS_H
#define XPUSH_CTL_ARGS_H

#include <stddef.h>

#define CTL_WUR __attribute__((warn_unused_result))

/* Exit status of xpushctl (also in --help and xpushctl(1)). */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_RUNTIME = 1,   /* database or other runtime error */
	CTL_EXIT_USAGE = 2,     /* bad command line */
	CTL_EXIT_NOT_FOUND = 3, /* status/retract of an unknown notification id, an unknown app */
	CTL_EXIT_TIMEOUT = 4,   /* watch --timeout ran out before --count deliveries */
};

enum ctl_command {
	CTL_CMD_NONE = 0, /* no subcommand: only --help / --version */
	CTL_CMD_SEND,
	CTL_CMD_STATUS,
	CTL_CMD_DEVICES,
	CTL_CMD_STATS,
	CTL_CMD_RETRACT,
	CTL_CMD_APP,    /* app add|policy|token|list|grant|revoke (ctl_args_app.c) */
	CTL_CMD_DEVICE, /* device unregister */
	CTL_CMD_WATCH,  /* follow deliveries live */
};

#define CTL_TTL_MAX 2419200u            /* 28 days, as schema 002's notifications_ttl_range */
#define CTL_PAYLOAD_MAX (1024u * 1024u) /* --payload-file cap */
#define CTL_TIME_LEN 40                 /* normalised ISO time, see ctl_time.h */

/* A repeatable option's values; the strings are borrowed from argv, the
 * array is owned (freed by ctl_args_free). */
struct ctl_strv {
	const char **v;
	size_t n;
};

struct ctl_send {
	const char *app;
	const char *jid; /* the first --jid; jids holds them all (one notification each) */
	struct ctl_strv jids;
	const char *device, *alias;
	struct ctl_strv tags_any, tags_all, tags_none;
	int broadcast;
	const char *title, *body, *uri;
	const char *payload; /* borrowed from argv, or payload_buf */
	size_t payload_len;
	char *payload_buf;          /* owned: read from --payload-file */
	long long ttl;              /* -1: unset */
	char expires[CTL_TIME_LEN]; /* "" unset, else normalised UTC */
	char not_before[CTL_TIME_LEN];
	const char *priority; /* "normal" (default) or "high" */
	const char *collapse, *dedup;
};

struct ctl_status {
	long long id;
	long long limit; /* ledger rows shown; 0 = all */
};

struct ctl_devices {
	const char *jid, *alias, *app;
	struct ctl_strv tags; /* any of them */
	int online;           /* -1 either, 0 offline, 1 online */
	int all;              /* include unregistered devices */
	long long limit;      /* 0 = no limit */
};

struct ctl_retract {
	long long id;
};

enum ctl_app_action {
	CTL_APP_NONE = 0,
	CTL_APP_ADD,
	CTL_APP_POLICY,
	CTL_APP_TOKEN,
	CTL_APP_LIST,
	CTL_APP_GRANT,
	CTL_APP_REVOKE,
};

#define CTL_TOKEN_TTL_DEFAULT 86400 /* app token: a day */
#define CTL_TOKEN_TTL_MAX 31536000  /* app token: a year */

struct ctl_app {
	enum ctl_app_action action;
	const char *app;
	const char *policy;         /* add (default "token"), policy: open, acl or token */
	struct ctl_strv acl;        /* --acl, repeatable: bare JIDs or domains */
	int acl_given;              /* policy: replace the list (else keep it) */
	struct ctl_strv producers;  /* add: --producer ROLE, repeatable */
	int rotate;                 /* policy: --rotate-secret */
	const char *role;           /* grant, revoke */
	const char *jid, *device;   /* token */
	long long ttl;              /* token: seconds; -1 unset */
	char expires[CTL_TIME_LEN]; /* token: "" unset, else normalised UTC */
	int show_secret;            /* list: --show-secret */
};

struct ctl_device {
	const char *app, *jid, *device; /* unregister: device NULL = every device of jid for app */
};

struct ctl_watch {
	long long id;          /* one notification (its current rows first); 0 = any */
	long long from_id;     /* notifications with id >= this; 0 = those enqueued from now */
	const char *app, *jid; /* filters */
	long long count;       /* stop after this many changes; 0 = no limit */
	long long timeout_s;   /* stop after this long; 0 = no limit */
	long long interval_ms; /* poll interval */
};

struct ctl_cmd {
	enum ctl_command cmd;
	const char *conninfo; /* -d/--db; NULL: $XPUSH_DB, then libpq's PG* defaults */
	int json;
	int help; /* print the help of cmd (or of the tool) and exit 0 */
	int version;
	struct ctl_send send;
	struct ctl_status status;
	struct ctl_devices devices;
	struct ctl_retract retract;
	struct ctl_app app;
	struct ctl_device device;
	struct ctl_watch watch;
};

/* Parse argv into *out (zeroed first). Returns 0, or -1 with a one-line
 * message in err (without the "xpushctl: " prefix). On both outcomes the
 * caller calls ctl_args_free(out). argv must outlive *out. */
CTL_WUR int ctl_args_parse(int argc, char **argv, struct ctl_cmd *out, char *err, size_t errlen);
void ctl_args_free(struct ctl_cmd *c);

/* app, device and watch: argv[0] is the subcommand (ctl_args_app.c). Same
 * contract as ctl_args_parse; *out is initialised by ctl_args_parse. */
CTL_WUR int ctl_args_app_parse(int argc, char **argv, struct ctl_cmd *out, char *err,
                               size_t errlen);

/* The name of a subcommand ("send"), or "xpushctl" for CTL_CMD_NONE. */
const char *ctl_command_name(enum ctl_command cmd);

/* Validators, exposed for the unit tests. Each returns 0 or -1. */
/* Valid UTF-8 of len bytes without C0 control bytes other than TAB, LF, CR
 * (XML 1.0 cannot carry them). On -1, *why says what is wrong (static text). */
CTL_WUR int ctl_check_text(const char *s, size_t len, const char **why);

#endif
