/* apppolicy: may this account register this device for this app? The
 * decision alone, pure (no SQL, no sockets, the time is the caller's): the
 * registrar reads the app's row from push.apps and asks here. Policies and
 * their errors: docs/apps.md. */
#ifndef XPUSH_APPPOLICY_H
#define XPUSH_APPPOLICY_H

#include <stddef.h>
#include <stdint.h>

/* The app's row as push.apps holds it (strings borrowed). */
struct apppolicy_app {
	int found;          /* 0: no row for this app */
	const char *policy; /* "open", "acl" or "token" */
	const char *acl;    /* entries separated by '\n' (bare JIDs or domains); may be NULL */
	const char *secret; /* token policy: the HMAC key; may be NULL */
	int known;          /* the device is registered already (not unregistered) */
};

struct apppolicy_req {
	const char *bare, *app, *device; /* server-stamped bare JID, from <register/> */
	const char *token;               /* <token/> of <register/>, NULL if absent */
	uint64_t now;                    /* Unix seconds */
	int unknown_open;                /* unknown_apps = open: an app without a row is open */
};

struct apppolicy_verdict {
	int allow;
	/* When refused: the stanza error's type and condition, and its text. */
	const char *type, *condition;
	char text[400];
};

/* Decide. Policy open: allowed. acl: allowed if the bare JID or its domain
 * is on the list. token: allowed if the device is registered already (a
 * token is for enrolment: an active device registers again at every session
 * without one), else only with a valid token for (bare, app, device). */
void apppolicy_decide(const struct apppolicy_app *a, const struct apppolicy_req *r,
                      struct apppolicy_verdict *v);

/* 1 if bare (a bare JID) is on acl ('\n'-separated entries): an entry with
 * '@' matches that bare JID, one without matches every JID of that domain
 * (and the domain itself); ASCII letters compare case-insensitively. */
int apppolicy_acl_match(const char *acl, const char *bare);

#endif
