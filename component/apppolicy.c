/* apppolicy: the registration policy of an app applied to one <register/>.
 * Owns the rules of open, acl and token, and the words of every refusal. */
#include "apppolicy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "jid.h"
#include "regtoken.h"

int apppolicy_acl_match(const char *acl, const char *bare)
{
	return jid_listed(acl, '\n', bare);
}

static void refuse(struct apppolicy_verdict *v, const char *type, const char *cond)
{
	v->allow = 0;
	v->type = type;
	v->condition = cond;
}

static void decide_token(const struct apppolicy_app *a, const struct apppolicy_req *r,
                         struct apppolicy_verdict *v)
{
	uint64_t expiry = 0;
	int rc;

	if (a->known) {
		v->allow = 1;
		return;
	}
	if (!r->token) {
		refuse(v, "auth", "not-authorized");
		snprintf(v->text, sizeof v->text,
		         "app %s requires a registration token (<token/> in <register/>)", r->app);
		return;
	}
	rc = regtoken_verify(a->secret, a->secret ? strlen(a->secret) : 0, r->token, r->bare,
	                     r->app, r->device, r->now, &expiry);
	if (rc == REGTOKEN_OK) {
		v->allow = 1;
		return;
	}
	if (rc == REGTOKEN_ERROR) {
		refuse(v, "wait", "internal-server-error");
		snprintf(v->text, sizeof v->text, "%s", regtoken_strerror(rc));
		return;
	}
	refuse(v, "auth", "not-authorized");
	if (rc == REGTOKEN_EXPIRED) {
		char when[32] = "?";
		time_t t = (time_t)expiry;
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(v->text, sizeof v->text, "%s at %s", regtoken_strerror(rc), when);
	} else {
		snprintf(v->text, sizeof v->text, "%s", regtoken_strerror(rc));
	}
}

void apppolicy_decide(const struct apppolicy_app *a, const struct apppolicy_req *r,
                      struct apppolicy_verdict *v)
{
	memset(v, 0, sizeof *v);
	if (!a->found) {
		if (r->unknown_open) {
			v->allow = 1;
			return;
		}
		refuse(v, "cancel", "item-not-found");
		snprintf(v->text, sizeof v->text,
		         "unknown app %s: this push service does not serve it", r->app);
		return;
	}
	if (a->policy && strcmp(a->policy, "open") == 0) {
		v->allow = 1;
	} else if (a->policy && strcmp(a->policy, "acl") == 0) {
		if (apppolicy_acl_match(a->acl, r->bare)) {
			v->allow = 1;
			return;
		}
		refuse(v, "auth", "forbidden");
		snprintf(v->text, sizeof v->text,
		         "%.200s may not register for app %s (not on its access list)", r->bare,
		         r->app);
	} else if (a->policy && strcmp(a->policy, "token") == 0) {
		decide_token(a, r, v);
	} else {
		refuse(v, "wait", "internal-server-error");
		snprintf(v->text, sizeof v->text, "app %s has an unknown registration policy",
		         r->app);
	}
}
