/* test_client_api: the public client API without a server: validation,
 * stop before run, the reconnect loop against a closed port (backoff delays,
 * events), stop while waiting, re-entrancy refusal, the state-dir lock, and
 * a peer that accepts TCP and never answers the TLS handshake (bounded by
 * connect_timeout_ms; xpush_client_stop() from another thread ends it). */
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "xpush.h"

struct rec {
	int nstates;
	enum xpush_state states[64];
	uint32_t delays[64];
	int errors[64];
	char last_log[512];
	int reentry_rc;
	xpush_client *client;
};

static char dir[128];

static void on_log(void *ud, enum xpush_log_level level, const char *msg)
{
	struct rec *r = ud;

	if (level >= XPUSH_LOG_WARN)
		snprintf(r->last_log, sizeof r->last_log, "%s", msg);
}

static void on_event(void *ud, const struct xpush_event *ev)
{
	struct rec *r = ud;

	if (ev->type != XPUSH_EVENT_STATE || r->nstates >= 64)
		return;
	r->states[r->nstates] = ev->state;
	r->delays[r->nstates] = ev->delay_ms;
	r->errors[r->nstates] = ev->error;
	r->nstates++;
	if (r->client && ev->state == XPUSH_STATE_WAITING)
		r->reentry_rc = xpush_client_run_once(r->client, 0);
}

static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("bind");
		exit(2);
	}
	port = ntohs(a.sin_port);
	close(fd); /* nothing listens there now: connect is refused */
	return port;
}

/* A port whose kernel completes TCP handshakes that nobody ever accepts or
 * answers: a silent peer. *fd gets the listener. */
static int silent_port(int *fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(*fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(*fd, 16) < 0 ||
	    getsockname(*fd, (struct sockaddr *)&a, &len) < 0) {
		perror("listen");
		exit(2);
	}
	return ntohs(a.sin_port);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static xpush_config *base_config(struct rec *r, int port)
{
	xpush_config *cfg = NULL;
	char p[16];

	snprintf(p, sizeof p, "%d", port);
	CHECK_INT(xpush_config_new(&cfg), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "jid", "alice@xpush.test/t"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "password", "pw"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "component", "push.xpush.test"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "app", "com.example"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "device", "dev1"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "state_dir", dir), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "host", "127.0.0.1"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "port", p), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "reconnect_base_ms", "100"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "reconnect_cap_ms", "200"), XPUSH_OK);
	xpush_config_set_log_cb(cfg, on_log);
	xpush_config_set_event_cb(cfg, on_event);
	xpush_config_set_userdata(cfg, r);
	return cfg;
}

static void test_validation(void)
{
	struct rec r;
	xpush_config *cfg;
	xpush_client *c = (xpush_client *)&r;

	memset(&r, 0, sizeof r);
	cfg = base_config(&r, 5222);
	CHECK_INT(xpush_config_set(cfg, "device", NULL), XPUSH_OK);
	CHECK_INT(xpush_client_new(cfg, &c), XPUSH_EINVAL);
	CHECK(c == NULL);
	CHECK(strstr(r.last_log, "device: required") != NULL);
	CHECK_INT(xpush_config_set(cfg, "device", "dev1"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "ca_file", "/nonexistent/ca.pem"), XPUSH_OK);
	CHECK_INT(xpush_client_new(cfg, &c), XPUSH_EINVAL);
	CHECK(strstr(r.last_log, "ca_file") != NULL);
	CHECK_INT(xpush_client_new(NULL, &c), XPUSH_EINVAL);
	CHECK_INT(xpush_client_new(cfg, NULL), XPUSH_EINVAL);
	xpush_config_free(cfg);
	xpush_client_free(NULL);
	CHECK_INT(xpush_client_run_once(NULL, 0), XPUSH_EINVAL);
}

static void test_stop_before_run(void)
{
	struct rec r;
	xpush_config *cfg;
	xpush_client *c = NULL;

	memset(&r, 0, sizeof r);
	cfg = base_config(&r, 5222);
	CHECK_INT(xpush_client_new(cfg, &c), XPUSH_OK);
	xpush_config_free(cfg); /* the client has its own copy */
	CHECK_INT(xpush_client_state(c), XPUSH_STATE_IDLE);
	xpush_client_stop(c);
	CHECK_INT(xpush_client_run(c), XPUSH_OK);
	CHECK_INT(xpush_client_state(c), XPUSH_STATE_STOPPED);
	CHECK_INT(r.nstates, 1);
	CHECK_INT(r.states[0], XPUSH_STATE_STOPPED);
	CHECK_INT(xpush_client_run_once(c, 0), XPUSH_OK); /* stays stopped */
	xpush_client_free(c);
}

static void test_reconnect_loop(void)
{
	struct rec r;
	xpush_config *cfg;
	xpush_client *c = NULL, *c2 = NULL;
	int waits = 0, rc = 1;

	memset(&r, 0, sizeof r);
	cfg = base_config(&r, closed_port());
	CHECK_INT(xpush_client_new(cfg, &c), XPUSH_OK);
	/* the state dir is locked by c */
	CHECK_INT(xpush_client_new(cfg, &c2), XPUSH_EBUSY);
	xpush_config_free(cfg);
	r.client = c;
	for (int i = 0; i < 400 && waits < 3; i++) {
		rc = xpush_client_run_once(c, 50);
		CHECK_INT(rc, 1);
		waits = 0;
		for (int k = 0; k < r.nstates; k++)
			waits += r.states[k] == XPUSH_STATE_WAITING;
	}
	CHECK_INT(waits, 3);
	CHECK_INT(r.reentry_rc, XPUSH_ESTATE);
	/* connecting -> disconnected -> waiting, again and again */
	CHECK_INT(r.states[0], XPUSH_STATE_CONNECTING);
	CHECK_INT(r.states[1], XPUSH_STATE_DISCONNECTED);
	CHECK_INT(r.errors[1], XPUSH_ECONN);
	CHECK_INT(r.states[2], XPUSH_STATE_WAITING);
	CHECK_INT(r.states[3], XPUSH_STATE_CONNECTING);
	for (int k = 0; k < r.nstates; k++)
		if (r.states[k] == XPUSH_STATE_WAITING)
			CHECK(r.delays[k] >= 50 && r.delays[k] <= 200);
	CHECK(strlen(xpush_client_last_reason(c)) > 0);
	/* stop while waiting or connecting: stopped within the stop timeout */
	xpush_client_stop(c);
	for (int i = 0; i < 200 && rc == 1; i++)
		rc = xpush_client_run_once(c, 50);
	CHECK_INT(rc, XPUSH_OK);
	CHECK_INT(xpush_client_state(c), XPUSH_STATE_STOPPED);
	xpush_client_free(c);
}

static void test_network_changed_skips_wait(void)
{
	struct rec r;
	xpush_config *cfg;
	xpush_client *c = NULL;
	int connecting = 0;

	memset(&r, 0, sizeof r);
	cfg = base_config(&r, closed_port());
	CHECK_INT(xpush_config_set(cfg, "reconnect_base_ms", "60000"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "reconnect_cap_ms", "60000"), XPUSH_OK);
	CHECK_INT(xpush_client_new(cfg, &c), XPUSH_OK);
	xpush_config_free(cfg);
	for (int i = 0; i < 100 && xpush_client_state(c) != XPUSH_STATE_WAITING; i++)
		xpush_client_run_once(c, 50);
	CHECK_INT(xpush_client_state(c), XPUSH_STATE_WAITING);
	xpush_client_network_changed(c); /* a 30-60 s wait becomes "now" */
	for (int i = 0; i < 4; i++)
		xpush_client_run_once(c, 50);
	for (int k = 0; k < r.nstates; k++)
		connecting += r.states[k] == XPUSH_STATE_CONNECTING;
	CHECK_INT(connecting, 2);
	xpush_client_free(c);
}

static char netlog[2048];

static void on_log_net(void *ud, enum xpush_log_level level, const char *msg)
{
	size_t n = strlen(netlog);

	(void)ud;
	(void)level;
	if (strstr(msg, "topic=heartbeat msg=network ") && n + strlen(msg) + 2 < sizeof netlog)
		snprintf(netlog + n, sizeof netlog - n, "%s\n", msg);
}

static void *set_network_thread(void *arg)
{
	CHECK_INT(xpush_client_set_network(arg, "wifi:home"), XPUSH_OK);
	return NULL;
}

/* xpush_client_set_network from another thread: the key's learned interval
 * (read from state_dir/heartbeat.tab) is selected and the wait becomes now. */
static void test_set_network(void)
{
	struct rec r;
	xpush_config *cfg;
	xpush_client *c = NULL;
	pthread_t th;
	char path[256], big[200];
	FILE *f;
	int connecting = 0;

	snprintf(path, sizeof path, "%s/heartbeat.tab", dir);
	f = fopen(path, "w");
	fputs("wifi:home\tv1 420000 420000 450000 0 0 0 3 0 hold\t1700000000\n", f);
	fclose(f);
	memset(&r, 0, sizeof r);
	netlog[0] = '\0';
	cfg = base_config(&r, closed_port());
	CHECK_INT(xpush_config_set(cfg, "reconnect_base_ms", "60000"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "reconnect_cap_ms", "60000"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "network", "cell:460-00"), XPUSH_OK);
	xpush_config_set_log_cb(cfg, on_log_net);
	CHECK_INT(xpush_client_new(cfg, &c), XPUSH_OK);
	xpush_config_free(cfg);
	CHECK(strstr(netlog, "network=\"cell:460-00\" known=0 interval_ms=60000 ") != NULL);
	CHECK_INT(xpush_client_set_network(NULL, "x"), XPUSH_EINVAL);
	CHECK_INT(xpush_client_set_network(c, "tab\there"), XPUSH_EINVAL);
	memset(big, 'k', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK_INT(xpush_client_set_network(c, big), XPUSH_EINVAL);
	for (int i = 0; i < 100 && xpush_client_state(c) != XPUSH_STATE_WAITING; i++)
		xpush_client_run_once(c, 50);
	CHECK_INT(xpush_client_state(c), XPUSH_STATE_WAITING);
	CHECK_INT(pthread_create(&th, NULL, set_network_thread, c), 0);
	pthread_join(th, NULL);
	for (int i = 0; i < 4; i++)
		xpush_client_run_once(c, 50);
	CHECK(strstr(netlog, "network=\"wifi:home\" known=1 interval_ms=420000 phase=hold") != NULL);
	for (int k = 0; k < r.nstates; k++)
		connecting += r.states[k] == XPUSH_STATE_CONNECTING;
	CHECK_INT(connecting, 2); /* the 60 s wait became now */
	xpush_client_free(c);
	unlink(path);
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof dir, "/tmp/test_client_api.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

static void cleanup(void)
{
	char cmd[200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
}

struct guard {
	int listener;
	atomic_int done;
};

/* Without the bound, the client would never return: close the peer after
 * 8 s so the test fails on its timings instead of hanging. */
static void *guard_main(void *arg)
{
	struct guard *g = arg;

	for (int i = 0; i < 800 && !atomic_load(&g->done); i++)
		usleep(10 * 1000);
	close(g->listener);
	return NULL;
}

static void *stop_later(void *arg)
{
	usleep(300 * 1000);
	xpush_client_stop(arg);
	return NULL;
}

/* Direct TLS to a peer that never answers the ClientHello: libstrophe's
 * handshake blocks inside xpush_client_run_once(); the attempt still ends at
 * connect_timeout_ms (transient: reconnect), and a stop from another thread
 * ends a stalled handshake at once even with a long connect timeout. */
static void test_silent_handshake(void)
{
	struct rec r;
	xpush_config *cfg;
	xpush_client *c = NULL;
	struct guard g;
	pthread_t gthr, sthr;
	uint64_t t0, t1 = 0;
	int port = silent_port(&g.listener), rc = 1, disc = -1;

	atomic_init(&g.done, 0);
	CHECK_INT(pthread_create(&gthr, NULL, guard_main, &g), 0);
	memset(&r, 0, sizeof r);
	cfg = base_config(&r, port);
	CHECK_INT(xpush_config_set(cfg, "direct_tls", "true"), XPUSH_OK);
	CHECK_INT(xpush_config_set(cfg, "connect_timeout_ms", "1000"), XPUSH_OK);
	CHECK_INT(xpush_client_new(cfg, &c), XPUSH_OK);
	xpush_config_free(cfg);
	t0 = mono_ms();
	for (int i = 0; i < 100 && disc < 0 && mono_ms() - t0 < 8000; i++) {
		CHECK_INT(xpush_client_run_once(c, 100), 1);
		for (int k = 0; k < r.nstates; k++)
			if (r.states[k] == XPUSH_STATE_DISCONNECTED && disc < 0) {
				disc = k;
				t1 = mono_ms();
			}
	}
	CHECK(disc >= 0);
	if (disc >= 0) {
		/* connect_timeout_ms=1000; the upper bound is loose (sanitizers, a
		 * loaded machine): without the watchdog the handshake never ends */
		CHECK(t1 - t0 >= 900 && t1 - t0 < 6000);
		CHECK_INT(r.errors[disc], XPUSH_ECONN);   /* transient, not a TLS failure */
		CHECK(strstr(xpush_client_last_reason(c), "TLS handshake stalled") != NULL);
	}
	xpush_client_free(c);

	/* default timeout (30 s): only the stop can end the stalled handshake */
	memset(&r, 0, sizeof r);
	cfg = base_config(&r, port);
	CHECK_INT(xpush_config_set(cfg, "direct_tls", "true"), XPUSH_OK);
	CHECK_INT(xpush_client_new(cfg, &c), XPUSH_OK);
	xpush_config_free(cfg);
	CHECK_INT(pthread_create(&sthr, NULL, stop_later, c), 0);
	t0 = mono_ms();
	rc = xpush_client_run(c);
	t1 = mono_ms();
	CHECK_INT(rc, XPUSH_OK);
	CHECK(t1 - t0 < 10000);  /* the stop, not connect_timeout_ms (30 s) */
	CHECK_INT(xpush_client_state(c), XPUSH_STATE_STOPPED);
	pthread_join(sthr, NULL);
	xpush_client_free(c);
	atomic_store(&g.done, 1);
	pthread_join(gthr, NULL);
}

TEST_MAIN(T(setup), T(test_validation), T(test_stop_before_run), T(test_reconnect_loop),
	  T(test_network_changed_skips_wait), T(test_set_network), T(test_silent_handshake),
	  T(cleanup))
