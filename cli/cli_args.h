/* cli_args: xpush-client's command line: the usage text (--help), and the
 * options parsed and checked into libxpush's configuration and struct
 * cli_args. Every usage error comes back as one line naming the option
 * ("invalid --count: 0 (a positive integer)"); nothing here prints or exits.
 * Besides the configuration it reads --password-file, --network-file and
 * XPUSH_PASSWORD, which it removes from the environment once read (--exec
 * children never see it). Part of the xpush-client program, not of libxpush. */
#ifndef XPUSH_CLI_ARGS_H
#define XPUSH_CLI_ARGS_H

#include <stddef.h>

#include "xpush.h"

#define CLI_PROG "xpush-client"

/* What main does after cli_args_parse(). */
enum cli_args_result {
	CLI_ARGS_RUN = 0, /* run the client */
	CLI_ARGS_HELP,    /* --help: print cli_usage_text on stdout, exit 0 */
	CLI_ARGS_VERSION, /* --version: print the version, exit 0 */
	CLI_ARGS_USAGE,   /* a usage error, said in err: exit 2 */
	CLI_ARGS_NOMEM,   /* out of memory: exit 1 */
};

/* What the command line sets besides the library's configuration. Strings
 * are borrowed from argv. */
struct cli_args {
	int json;                   /* --json */
	const char *exec_cmd;       /* --exec, or NULL */
	unsigned long count;        /* --count; 0 = run until stopped */
	enum xpush_log_level level; /* --log-level (or --set log_level=); info by default */
	const char *device;         /* --device */
	const char *netfile;        /* --network-file, or NULL */
};

/* The --help text (xpush-client(1) in brief). */
extern const char cli_usage_text[];

/* Parse argv (argc entries; the strings must be writable, --set's are
 * split in place and restored, and getopt permutes argv) into cfg and *a.
 * Stops at the first error: CLI_ARGS_USAGE with err holding one line
 * without the program name, or CLI_ARGS_NOMEM. May be called again
 * (getopt is reset). */
enum cli_args_result cli_args_parse(int argc, char **argv, xpush_config *cfg, struct cli_args *a,
                                    char *err, size_t errlen);

/* The first line of path, without its line end, into buf. 0, or -1 if the
 * file cannot be read or the line is empty. */
int cli_args_read_line(const char *path, char *buf, size_t len);

/* Name of a log level as the log lines spell it ("debug".."error"). */
const char *cli_args_level_name(enum xpush_log_level level);

/* Why xpush_client_new() failed with rc, as one line for the user: the
 * library's error log line (lib_error, "" if none) says reason="key: why";
 * the key becomes the option that sets it ("invalid --port: ..."), else
 * "cannot start: ...". */
void cli_args_start_error(const char *lib_error, int rc, char *out, size_t len);

#endif
