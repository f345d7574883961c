/* ctl_time: ISO 8601 times given on xpushctl's command line (--expires,
 * --not-before), checked and normalised to UTC before they reach Postgres, so
 * a typo is a usage error and never depends on the session's TimeZone.
 * Pure: no I/O; reads the process's local time zone (TZ) only for a time
 * without an offset. */
#ifndef XPUSH_CTL_TIME_H
#define XPUSH_CTL_TIME_H

#include <stddef.h>

/* Accepts YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|(+|-)HH[:MM]|(+|-)HHMM],
 * years 1970..9999. Without an offset the time is local (TZ). Writes
 * "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (fraction cut to microseconds, as Postgres
 * keeps them) into out (at least 32 bytes). Returns 0, or -1 if s is not
 * such a time or out is too small. */
__attribute__((warn_unused_result)) int ctl_time_parse(const char *s, char *out, size_t outlen);

#endif
