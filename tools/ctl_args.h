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
	CTL_EXIT_NOT_FOUND = 3, /* status/retract of an unknown notification id */
};

enum ctl_command {
	CTL_CMD_NONE = 0, /* no subcommand: only --help / --version */
	CTL_CMD_SEND,
	CTL_CMD_STATUS,
	CTL_CMD_DEVICES,
	CTL_CMD_STATS,
	CTL_CMD_RETRACT,
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
	const char *jid, *device, *alias;
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
};

/* Parse argv into *out (zeroed first). Returns 0, or -1 with a one-line
 * message in err (without the "xpushctl: " prefix). On both outcomes the
 * caller calls ctl_args_free(out). argv must outlive *out. */
CTL_WUR int ctl_args_parse(int argc, char **argv, struct ctl_cmd *out, char *err, size_t errlen);
void ctl_args_free(struct ctl_cmd *c);

/* The name of a subcommand ("send"), or "xpushctl" for CTL_CMD_NONE. */
const char *ctl_command_name(enum ctl_command cmd);

/* Validators, exposed for the unit tests. Each returns 0 or -1. */
/* Valid UTF-8 of len bytes without C0 control bytes other than TAB, LF, CR
 * (XML 1.0 cannot carry them). On -1, *why says what is wrong (static text). */
CTL_WUR int ctl_check_text(const char *s, size_t len, const char **why);

#endif
