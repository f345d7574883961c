/* xpushctl: the operator's command-line tool. Owns the flow of one run:
 * parse (ctl_args), connect and query (ctl_sql), write (ctl_out), and map
 * every outcome to one exit status and at most one error line on stderr.
 * Holds no SQL and no escaping of its own. */
#include <stdio.h>
#include <stdlib.h>

#include "ctl_app.h"
#include "ctl_args.h"
#include "ctl_help.h"
#include "ctl_out.h"
#include "ctl_sql.h"

#ifndef XPUSH_VERSION
#define XPUSH_VERSION "0.1.0"
#endif

#define ERRLEN 2048

struct run {
	const struct ctl_cmd *cmd;
	struct ctl_db *db;
	char err[ERRLEN];
};

static int fail(const struct ctl_cmd *c, int code, const char *msg)
{
	fprintf(stderr, "xpushctl: %s: %s\n", ctl_command_name(c->cmd), msg);
	return code;
}

static int sql_fail(struct run *r, int rc, long long id)
{
	char msg[64];

	if (rc == CTL_SQL_NOT_FOUND) {
		snprintf(msg, sizeof msg, "no notification with id %lld", id);
		return fail(r->cmd, CTL_EXIT_NOT_FOUND, msg);
	}
	return fail(r->cmd, CTL_EXIT_RUNTIME, r->err);
}

/* send to several JIDs: one notification each, all in one transaction (all
 * enqueued or none); prints one id a line, or {"notifications":[...]}. */
static int cmd_send_many(struct run *r)
{
	const struct ctl_send *s = &r->cmd->send;
	struct ctl_send one = *s;
	struct ctl_rows *tx = NULL;
	long long *ids = calloc(s->jids.n, sizeof *ids);

	if (!ids)
		return fail(r->cmd, CTL_EXIT_RUNTIME, "out of memory");
	if (ctl_sql_query(r->db, "BEGIN", 0, NULL, &tx, r->err, sizeof r->err) < 0)
		goto failed;
	ctl_rows_free(tx);
	for (size_t i = 0; i < s->jids.n; i++) {
		struct ctl_send_result res = { 0, 0 };
		one.jid = s->jids.v[i];
		if (ctl_sql_send(r->db, &one, &res, r->err, sizeof r->err) < 0)
			goto failed;
		ids[i] = res.id;
	}
	if (ctl_sql_query(r->db, "COMMIT", 0, NULL, &tx, r->err, sizeof r->err) < 0)
		goto failed;
	ctl_rows_free(tx);
	if (r->cmd->json)
		fputs("{\"notifications\":[", stdout);
	for (size_t i = 0; i < s->jids.n; i++) {
		if (!r->cmd->json) {
			printf("%lld\n", ids[i]);
			continue;
		}
		printf("%s{\"id\":%lld,\"jid\":", i ? "," : "", ids[i]);
		ctl_out_json_str(stdout, s->jids.v[i]);
		putchar('}');
	}
	if (r->cmd->json)
		fputs("]}\n", stdout);
	free(ids);
	return CTL_EXIT_OK;
failed:
	free(ids);
	return fail(r->cmd, CTL_EXIT_RUNTIME, r->err);
}

static int cmd_send(struct run *r)
{
	const struct ctl_send *s = &r->cmd->send;
	struct ctl_send_result res = { 0, 0 };
	int rc;

	if (s->jids.n > 1)
		return cmd_send_many(r);
	rc = ctl_sql_send(r->db, s, &res, r->err, sizeof r->err);
	if (rc < 0)
		return sql_fail(r, rc, 0);
	if (r->cmd->json) {
		printf("{\"id\":%lld,\"created\":%s", res.id, res.created ? "true" : "false");
		if (s->dedup) {
			fputs(",\"dedup_key\":", stdout);
			ctl_out_json_str(stdout, s->dedup);
		}
		fputs("}\n", stdout);
	} else {
		printf("%lld\n", res.id);
	}
	if (!res.created) {
		fprintf(stderr, "xpushctl: send: dedup key '");
		ctl_out_text(stderr, s->dedup);
		fprintf(stderr, "' of app '");
		ctl_out_text(stderr, s->app);
		fprintf(stderr, "' was already used by notification %lld; nothing new enqueued\n",
		        res.id);
	}
	return CTL_EXIT_OK;
}

static int cmd_status(struct run *r)
{
	const struct ctl_status *st = &r->cmd->status;
	struct ctl_rows *n = NULL, *l = NULL;
	int rc = ctl_sql_status(r->db, st->id, st->limit, &n, &l, r->err, sizeof r->err);

	if (rc < 0)
		return sql_fail(r, rc, st->id);
	const char *total = ctl_rows_get(n, 0, ctl_rows_col(n, "deliveries_total"));
	if (r->cmd->json) {
		fputs("{\"notification\":", stdout);
		ctl_out_json_object(stdout, n, 0);
		fputs(",\"deliveries\":", stdout);
		ctl_out_json_array(stdout, l);
		fputs("}\n", stdout);
	} else {
		ctl_out_record(stdout, n, 0);
		putchar('\n');
		if (l->nrows == 0)
			puts(ctl_rows_get(n, 0, ctl_rows_col(n, "fanned_out_at"))
			             ? "(no ledger rows: no device matched at fan-out)"
			             : "(no ledger rows yet: not fanned out)");
		else
			ctl_out_table(stdout, l);
		if (total && strtoll(total, NULL, 10) > l->nrows)
			printf("(%d of %s ledger rows shown; --limit 0 shows all)\n", l->nrows,
			       total);
	}
	ctl_rows_free(n);
	ctl_rows_free(l);
	return CTL_EXIT_OK;
}

static int cmd_devices(struct run *r)
{
	struct ctl_rows *d = NULL;
	int rc = ctl_sql_devices(r->db, &r->cmd->devices, &d, r->err, sizeof r->err);

	if (rc < 0)
		return sql_fail(r, rc, 0);
	if (r->cmd->json) {
		fputs("{\"devices\":", stdout);
		ctl_out_json_array(stdout, d);
		fputs("}\n", stdout);
	} else if (d->nrows == 0) {
		puts("(no devices match)");
	} else {
		ctl_out_table(stdout, d);
	}
	ctl_rows_free(d);
	return CTL_EXIT_OK;
}

static int cmd_stats(struct run *r)
{
	struct ctl_rows *s = NULL;
	int rc = ctl_sql_stats(r->db, &s, r->err, sizeof r->err);

	if (rc < 0)
		return sql_fail(r, rc, 0);
	if (r->cmd->json) {
		ctl_out_json_object(stdout, s, 0);
		putchar('\n');
	} else {
		ctl_out_record(stdout, s, 0);
	}
	ctl_rows_free(s);
	return CTL_EXIT_OK;
}

static int cmd_retract(struct run *r)
{
	long long id = r->cmd->retract.id, affected = 0;
	int already = 0;
	int rc = ctl_sql_retract(r->db, id, &affected, &already, r->err, sizeof r->err);

	if (rc < 0)
		return sql_fail(r, rc, id);
	if (r->cmd->json)
		printf("{\"id\":%lld,\"affected\":%lld,\"already_retracted\":%s}\n", id, affected,
		       already ? "true" : "false");
	else
		printf("notification %lld %s: %lld ledger row%s affected\n", id,
		       already ? "was already retracted" : "retracted", affected,
		       affected == 1 ? "" : "s");
	return CTL_EXIT_OK;
}

/* "app add", "device unregister", "watch": how errors name the command. */
static const char *app_what(const struct ctl_cmd *c)
{
	static const char *const names[] = {
		[CTL_APP_ADD] = "app add",     [CTL_APP_POLICY] = "app policy",
		[CTL_APP_TOKEN] = "app token", [CTL_APP_LIST] = "app list",
		[CTL_APP_GRANT] = "app grant", [CTL_APP_REVOKE] = "app revoke",
	};
	if (c->cmd == CTL_CMD_DEVICE)
		return "device unregister";
	if (c->cmd == CTL_CMD_WATCH)
		return "watch";
	return c->app.action > CTL_APP_NONE && c->app.action <= CTL_APP_REVOKE
	               ? names[c->app.action]
	               : "app";
}

int main(int argc, char **argv)
{
	struct ctl_cmd cmd;
	struct run r = { &cmd, NULL, "" };
	int code;

	if (ctl_args_parse(argc, argv, &cmd, r.err, sizeof r.err) < 0) {
		fprintf(stderr, "xpushctl: %s\n", r.err);
		ctl_args_free(&cmd);
		return CTL_EXIT_USAGE;
	}
	if (cmd.help || cmd.version) {
		if (cmd.help)
			ctl_help_print(stdout, cmd.cmd);
		else
			printf("xpushctl %s\n", XPUSH_VERSION);
		ctl_args_free(&cmd);
		return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_RUNTIME;
	}
	const char *conninfo = cmd.conninfo;
	if (!conninfo) {
		conninfo = getenv("XPUSH_DB");
		if (conninfo && !*conninfo)
			conninfo = NULL;
	}
	if (ctl_db_open(conninfo, &r.db, r.err, sizeof r.err) < 0) {
		code = fail(&cmd, CTL_EXIT_RUNTIME, r.err);
		goto out;
	}
	switch (cmd.cmd) {
	case CTL_CMD_SEND:
		code = cmd_send(&r);
		break;
	case CTL_CMD_STATUS:
		code = cmd_status(&r);
		break;
	case CTL_CMD_DEVICES:
		code = cmd_devices(&r);
		break;
	case CTL_CMD_STATS:
		code = cmd_stats(&r);
		break;
	case CTL_CMD_RETRACT:
		code = cmd_retract(&r);
		break;
	case CTL_CMD_APP:
	case CTL_CMD_DEVICE:
	case CTL_CMD_WATCH:
		code = ctl_app_run(r.db, &cmd, app_what(&cmd));
		break;
	default:
		code = fail(&cmd, CTL_EXIT_USAGE, "no command");
		break;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (code == CTL_EXIT_OK)
			code = fail(&cmd, CTL_EXIT_RUNTIME, "cannot write the output");
	}
out:
	ctl_db_close(r.db);
	ctl_args_free(&cmd);
	return code;
}
