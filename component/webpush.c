/* webpush: the Web Push endpoint's listener, its thread and its Postgres
 * session (webpush.h). What a request means is webpush_req.c's; this file
 * reads the request, asks the database and writes the answer. Everything
 * here runs on libmicrohttpd's thread, which alone touches pg and rl. */
#include "webpush.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "log.h"
#include "monotime.h"
#include "ratelimit.h"
#include "unifiedpush.h"
#include "vapid.h"
#include "webpush_req.h"

struct webpush {
	struct MHD_Daemon *mhd;
	char *conninfo, *base;
	char origin[512]; /* of base: the aud of a VAPID token */
	PGconn *pg;
	struct ratelimit *rl;
	unsigned retry_after_s;
};

/* One request: its VAPID verdict and its body so far. */
struct wp_conn {
	const char *vapid_why;               /* why its Authorization failed; NULL if it did not */
	char vapid_k[VAPID_KEY_B64_MAX + 1]; /* the key of a valid token; "" if none */
	size_t len;
	int too_big;
	unsigned char body[WP_MAX_BODY];
};

static void wp_log(const char *level, const char *msg)
{
	fprintf(stderr, "xpushd level=%s msg=\"web push: %s\"\n", level, msg);
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned code, const char *text,
                              const char *const *hdrs)
{
	char body[256];
	int n = text ? snprintf(body, sizeof body, "%s\n", text) : 0;
	struct MHD_Response *r = MHD_create_response_from_buffer((size_t)n, body,
	                                                         MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	if (text)
		MHD_add_response_header(r, "Content-Type", "text/plain");
	for (; hdrs && hdrs[0]; hdrs += 2)
		MHD_add_response_header(r, hdrs[0], hdrs[1]);
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static PGconn *pg(struct webpush *w)
{
	if (w->pg && PQstatus(w->pg) == CONNECTION_OK)
		return w->pg;
	if (w->pg)
		PQfinish(w->pg);
	const char *k[] = { "dbname", "application_name", "connect_timeout", NULL };
	const char *v[] = { w->conninfo, "xpushd-http", "5", NULL };
	w->pg = PQconnectdbParams(k, v, 1);
	if (PQstatus(w->pg) != CONNECTION_OK) {
		wp_log("warn", "cannot connect to Postgres");
		PQfinish(w->pg);
		w->pg = NULL;
	}
	return w->pg;
}

/* One statement; a result of TUPLES_OK or NULL (503: the caller answers). */
static PGresult *run(struct webpush *w, const char *sql, int n, const char *const *p,
                     const char **why)
{
	PGconn *c = pg(w);
	PGresult *r;

	*why = "database unavailable, retry";
	if (!c)
		return NULL;
	r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		return r;
	if (PQstatus(c) == CONNECTION_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		/* A constraint (a limit of push.limits) refused the push. */
		*why = state && strncmp(state, "23", 2) == 0 ? "refused by the ledger's limits"
		                                             : "database error";
		wp_log("warn", *why);
	}
	PQclear(r);
	return NULL;
}

static enum MHD_Result post(struct webpush *w, struct MHD_Connection *c, const char *token,
                            const struct wp_conn *x)
{
	const char *ttl_h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "TTL");
	const char *urg = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Urgency");
	const char *topic = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Topic");
	char b64[(WP_MAX_BODY + 2) / 3 * 4 + 1], ttl[24], loc[640], id[24];
	long kept = wp_parse_ttl(ttl_h);
	const char *p[6], *why;
	PGresult *r;
	int status;

	up_b64_encode(x->body, x->len, b64);
	snprintf(ttl, sizeof ttl, "%ld", kept);
	p[0] = token;
	p[1] = b64;
	p[2] = ttl;
	p[3] = wp_parse_urgency(urg);
	p[4] = topic;
	p[5] = x->vapid_k[0] ? x->vapid_k : NULL;
	r = run(w, "SELECT status, id FROM push.up_enqueue($1, $2, $3::int, $4, $5, $6)", 6, p,
	        &why);
	if (!r) {
		const char *h[] = { "Retry-After", "5", NULL };
		return answer(c, strncmp(why, "refused", 7) == 0 ? 400 : 503, why, h);
	}
	status = atoi(PQgetvalue(r, 0, 0));
	snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	if (status == 404)
		return answer(c, 404, "no such endpoint (unknown or expired)", NULL);
	if (status == 410)
		return answer(c, 410, "endpoint unregistered", NULL);
	if (status == 401) {
		const char *h[] = { "WWW-Authenticate", "vapid", NULL };
		return answer(c, 401,
		              x->vapid_why ? x->vapid_why
		                           : "this endpoint takes only requests with a VAPID token "
		                             "(Authorization: vapid t=..., k=...)",
		              h);
	}
	if (status == 403)
		return answer(c, 403,
		              "the VAPID key is not the one this endpoint was registered with",
		              NULL);
	snprintf(loc, sizeof loc, "%s/up/%s/%s", w->base, token, id);
	const char *h[] = { "Location", loc, "TTL", ttl, NULL };
	return answer(c, 201, NULL, h);
}

static enum MHD_Result cancel(struct webpush *w, struct MHD_Connection *c, const char *token,
                              int64_t msg)
{
	char id[24];
	const char *p[2] = { token, id }, *why;
	PGresult *r;
	int status;

	snprintf(id, sizeof id, "%lld", (long long)msg);
	r = run(w, "SELECT push.up_cancel($1, $2::bigint)", 2, p, &why);
	if (!r) {
		const char *h[] = { "Retry-After", "5", NULL };
		return answer(c, 503, why, h);
	}
	status = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return status == 204 ? answer(c, 204, NULL, NULL) : answer(c, 404, "no such message", NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
	struct webpush *w = cls;
	struct wp_conn *x = *req_cls;
	char token[44];
	int64_t msg;
	enum wp_target t = wp_parse_path(url, token, &msg);

	(void)version;
	if (!x) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		const char *why = NULL;
		long long len = cl ? strtoll(cl, NULL, 10) : -1;
		int code;

		if (strcmp(method, "GET") == 0 && t == WP_ENDPOINT)
			/* UnifiedPush's discovery: this is a push server. */
			return answer(c, 200, "{\"unifiedpush\":{\"version\":1}}", NULL);
		code = wp_check(method, t, len,
		                MHD_lookup_connection_value(c, MHD_HEADER_KIND, "TTL"),
		                MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Urgency"),
		                MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Topic"), &why);
		if (code)
			return answer(c, (unsigned)code, why, NULL);
		if (!ratelimit_take(w->rl, token, monotime_ms())) {
			char ra[16];
			snprintf(ra, sizeof ra, "%u", w->retry_after_s);
			const char *h[] = { "Retry-After", ra, NULL };
			return answer(c, 429, "too many requests for this endpoint", h);
		}
		x = calloc(1, sizeof *x);
		if (!x)
			return MHD_NO;
		*req_cls = x;
		{
			const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			                                               "Authorization");
			/* A token is verified here; whether the endpoint needs one, and
			 * for which key, the database says (push.up_enqueue). */
			if (auth && vapid_check(auth, w->origin, (int64_t)time(NULL), x->vapid_k,
			                        &x->vapid_why) < 0)
				x->vapid_k[0] = '\0';
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (x->len + *upload_size > WP_MAX_BODY)
			x->too_big = 1;
		else
			memcpy(x->body + x->len, upload, *upload_size);
		if (!x->too_big)
			x->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	if (x->too_big)
		return answer(c, 413, "message body over 4096 bytes", NULL);
	if (strcmp(method, "DELETE") == 0)
		return cancel(w, c, token, msg);
	return post(w, c, token, x);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*req_cls);
	*req_cls = NULL;
}

struct webpush *webpush_start(struct loop *l, const struct config *cfg, const char *base,
                              const char **err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(cfg->http_port) };
	struct webpush *w;
	unsigned conns = 1000;

	(void)l;
	*err = NULL;
	if (inet_pton(AF_INET, cfg->http_address, &sin.sin_addr) != 1) {
		*err = "http_address: not an IPv4 address";
		return NULL;
	}
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
		*err = "http_public_url: must start with http:// or https://";
		return NULL;
	}
	w = calloc(1, sizeof *w);
	if (w && vapid_origin(base, w->origin, sizeof w->origin) < 0) {
		free(w);
		*err = "http_public_url: not an http(s) URL with a host";
		return NULL;
	}
	if (!w || !(w->conninfo = strdup(cfg->pg_conninfo)) || !(w->base = strdup(base)) ||
	    !(w->rl = ratelimit_new(65536, cfg->http_rate_per_endpoint, cfg->http_rate_burst))) {
		webpush_stop(w);
		*err = "out of memory";
		return NULL;
	}
	w->retry_after_s = 1;
	/* At most 1000 connections, and never more than half the descriptors
	 * left after 64 for the rest of xpushd (the component, Postgres, the
	 * metrics): a flood of connections must not starve the loop of fds. */
	{
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
			conns = rl.rlim_cur > 64 + 2 * 16 ? (unsigned)((rl.rlim_cur - 64) / 2) : 16;
		if (conns > 1000)
			conns = 1000;
	}
	w->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, cfg->http_port,
		NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
		MHD_OPTION_CONNECTION_LIMIT, conns, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)cfg->http_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_END);
	if (!w->mhd) {
		webpush_stop(w);
		*err = "http_port: cannot listen (in use?)";
		return NULL;
	}
	/* Still the main thread: log.c may be used here (not from the HTTP thread). */
	log_info("web push connection limit", "max=%u", conns);
	return w;
}

void webpush_stop(struct webpush *w)
{
	if (!w)
		return;
	if (w->mhd)
		MHD_stop_daemon(w->mhd); /* joins the thread: pg is ours again */
	if (w->pg)
		PQfinish(w->pg);
	ratelimit_free(w->rl);
	free(w->conninfo);
	free(w->base);
	free(w);
}
