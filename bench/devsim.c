/* devsim: thousands of simulated xpush devices in one process, for the benchmarks.
 *
 * Each device is a light XMPP client on one epoll loop (libstrophe's select()
 * stops at fd 1023): STARTTLS verified against the stack's CA (SNI + host name
 * check), optional in-band account registration (XEP-0077), SASL PLAIN, resource
 * bind, then in xpush mode the urn:xpush:0 register IQ and the directed presence
 * with <device/> (docs/protocol.md). Every notification IQ (xpushd's or the
 * baseline sender's) is timestamped on receipt (CLOCK_REALTIME) and answered at
 * once with the IQ result, as libxpush does after its durable dedup write (the
 * simulator keeps no dedup store: that is the one thing it does not do).
 *
 * Control: commands on a FIFO (--ctl), one per line:
 *   connect | disconnect | kill | dump PATH | quit
 * State: one key=value line, rewritten atomically every 200 ms (--status).
 * Receipt log (dump): "t_ns kind id dev" per line; kind x = notification (id =
 * notification id), r = retract, b = baseline IQ (id = its sequence number),
 * o = device online (id = login time in microseconds). */
#include <errno.h>
#include <expat.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "devsim.h"

struct devsim S;

static void conn_close(struct conn *c, const char *why, int failed);
static void conn_flush(struct conn *c);

/* --- receipts ---------------------------------------------------------- */

void record(char kind, int64_t id, int dev, int64_t t_ns)
{
	if (S.nrecs == S.caprecs) {
		size_t cap = S.caprecs ? S.caprecs * 2 : 65536;
		struct rec *r = realloc(S.recs, cap * sizeof *r);
		if (!r) {
			fprintf(stderr, "devsim: out of memory for receipts\n");
			exit(1);
		}
		S.recs = r;
		S.caprecs = cap;
	}
	S.recs[S.nrecs++] = (struct rec){ t_ns, id, dev, kind };
}

static int dump_records(const char *path)
{
	struct bbuf b = { 0 };
	int rc;

	for (size_t i = 0; i < S.nrecs; i++)
		bbuf_printf(&b, "%lld %c %lld %d\n", (long long)S.recs[i].t_ns, S.recs[i].kind,
		            (long long)S.recs[i].id, S.recs[i].dev);
	rc = write_file_atomic(path, b.data ? b.data : "", b.len);
	bbuf_free(&b);
	if (rc == 0)
		S.nrecs = 0;
	return rc;
}

/* --- epoll interest -------------------------------------------------------- */

static void set_interest(struct conn *c)
{
	uint32_t want;
	struct epoll_event e = { 0 };

	if (c->fd < 0)
		return;
	want = EPOLLIN;
	if (c->st == C_TCP || c->out.len || c->want_write)
		want |= EPOLLOUT;
	if (want == c->ev)
		return;
	e.events = want;
	e.data.ptr = c;
	if (epoll_ctl(S.ep, c->ev ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) < 0) {
		conn_close(c, "epoll_ctl failed", 1);
		return;
	}
	c->ev = want;
}

/* --- output ------------------------------------------------------------- */

void send_str(struct conn *c, const char *s)
{
	bbuf_puts(&c->out, s);
}

void send_header(struct conn *c)
{
	bbuf_printf(&c->out,
	            "<?xml version='1.0'?><stream:stream xmlns='jabber:client'"
	            " xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>",
	            S.domain);
}

static void conn_flush(struct conn *c)
{
	c->want_write = 0;
	while (c->out.len && c->fd >= 0) {
		if (c->ssl) {
			int w = SSL_write(c->ssl, c->out.data, (int)c->out.len);
			if (w > 0) {
				bbuf_consume(&c->out, (size_t)w);
				continue;
			}
			int e = SSL_get_error(c->ssl, w);
			if (e == SSL_ERROR_WANT_WRITE) {
				c->want_write = 1;
				break;
			}
			if (e == SSL_ERROR_WANT_READ)
				break;
			conn_close(c, "TLS write failed", 1);
			return;
		}
		ssize_t w = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (w > 0) {
			bbuf_consume(&c->out, (size_t)w);
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->want_write = 1;
			break;
		}
		if (w < 0 && errno == EINTR)
			continue;
		conn_close(c, "send failed", 1);
		return;
	}
	set_interest(c);
}

/* --- connection lifecycle ----------------------------------------------- */

static void queue_connect(struct conn *c)
{
	if (c->queued || c->st != C_IDLE)
		return;
	S.pending[S.p_tail] = c->idx - S.first;
	S.p_tail = (S.p_tail + 1) % S.count;
	S.p_len++;
	c->queued = 1;
}

static void conn_close(struct conn *c, const char *why, int failed)
{
	if (c->st == C_IDLE)
		return;
	if (c->st == C_ONLINE || c->st == C_CLOSING)
		S.online--;
	else
		S.logging_in--;
	if (failed) {
		S.failures++;
		if (S.failures <= 20 || S.failures % 1000 == 0)
			fprintf(stderr, "devsim: device %d: %s (failures so far: %lld)\n", c->idx, why,
			        S.failures);
	}
	if (c->fd >= 0) {
		if (c->ev)
			epoll_ctl(S.ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	c->fd = -1;
	c->ev = 0;
	c->st = C_IDLE;
	c->dead = c->failed = c->want_write = 0;
	c->out.len = 0;
	if (c->want_online && !S.quitting) {
		if (failed && ++c->fails > 5) {
			S.gave_up++;
			c->want_online = 0;
		} else {
			queue_connect(c);
		}
	}
}

static void conn_start(struct conn *c)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)S.port) };
	int one = 1;

	inet_pton(AF_INET, S.host, &a.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c->st = C_TCP;
	S.logging_in++;
	c->t_start_ms = now_mono_ms();
	if (c->fd < 0) {
		conn_close(c, strerror(errno), 1);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
		conn_close(c, strerror(errno), 1);
		return;
	}
	c->ev = 0;
	set_interest(c);
}

static void start_pending(void)
{
	while (S.p_len > 0 && S.logging_in < S.concurrency) {
		struct conn *c = &S.c[S.pending[S.p_head]];
		S.p_head = (S.p_head + 1) % S.count;
		S.p_len--;
		c->queued = 0;
		if (c->st == C_IDLE && c->want_online)
			conn_start(c);
	}
}

static void tls_step(struct conn *c)
{
	int r = SSL_do_handshake(c->ssl);

	if (r == 1) {
		parser_reset(c);
		send_header(c);
		c->st = C_FEAT2;
		conn_flush(c);
		return;
	}
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		c->want_write = 0;
		set_interest(c);
	} else if (e == SSL_ERROR_WANT_WRITE) {
		c->want_write = 1;
		set_interest(c);
	} else {
		char why[96];
		long v = SSL_get_verify_result(c->ssl);
		snprintf(why, sizeof why, "TLS handshake failed (verify: %s)",
		         X509_verify_cert_error_string(v));
		conn_close(c, why, 1);
	}
}

static void start_tls(struct conn *c)
{
	c->ssl = SSL_new(S.tls);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) || !SSL_set_tlsext_host_name(c->ssl, S.domain) ||
	    !SSL_set1_host(c->ssl, S.domain)) {
		conn_close(c, "cannot set up TLS", 1);
		return;
	}
	SSL_set_connect_state(c->ssl);
	c->st = C_TLS;
	tls_step(c);
}

/* Feed bytes to the parser; handles stream restarts and deaths. Returns 0 to
 * keep reading, 1 when the caller must stop (closed, or TLS took over). */
static int feed(struct conn *c, const char *buf, size_t n)
{
	enum XML_Status s = XML_Parse(c->xp, buf, (int)n, XML_FALSE);

	if (c->dead) {
		int failed = c->failed;
		char why[96];
		snprintf(why, sizeof why, "%s", c->why);
		conn_close(c, why, failed);
		return 1;
	}
	if (c->restart == RS_TLS) {
		parser_reset(c);
		conn_flush(c);
		start_tls(c);
		return 1;
	}
	if (c->restart == RS_STREAM) {
		parser_reset(c);
		send_header(c);
		c->st = C_FEAT3;
		return 0;
	}
	if (s == XML_STATUS_ERROR) {
		char why[96];
		snprintf(why, sizeof why, "bad XML: %s", XML_ErrorString(XML_GetErrorCode(c->xp)));
		conn_close(c, why, 1);
		return 1;
	}
	return 0;
}

static void conn_read(struct conn *c)
{
	char buf[16384];

	for (int i = 0; i < 8 && c->fd >= 0; i++) {
		ssize_t r;
		if (c->ssl) {
			int n = SSL_read(c->ssl, buf, sizeof buf);
			if (n <= 0) {
				int e = SSL_get_error(c->ssl, n);
				if (e == SSL_ERROR_WANT_READ)
					break;
				if (e == SSL_ERROR_WANT_WRITE) {
					c->want_write = 1;
					break;
				}
				conn_close(c, e == SSL_ERROR_ZERO_RETURN ? "TLS closed" : "TLS read failed",
				           c->st != C_CLOSING);
				return;
			}
			r = n;
		} else {
			r = recv(c->fd, buf, sizeof buf, 0);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				conn_close(c, r == 0 ? "connection closed" : strerror(errno),
				           c->st != C_CLOSING);
				return;
			}
		}
		if (feed(c, buf, (size_t)r))
			return;
	}
	if (c->fd >= 0)
		conn_flush(c);
}

static void conn_io(struct conn *c, uint32_t events)
{
	if (c->st == C_TCP) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			conn_close(c, strerror(err), 1);
			return;
		}
		parser_reset(c);
		send_header(c);
		c->st = C_FEAT1;
		conn_flush(c);
		return;
	}
	if (c->st == C_TLS) {
		tls_step(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(c);
	if (c->fd >= 0 && (events & EPOLLOUT))
		conn_flush(c);
}

/* Graceful logout: the directed unavailable (as libxpush sends at stop), then
 * the stream end; the server closes, or the deadline does. */
static void conn_logout(struct conn *c)
{
	if (c->st != C_ONLINE) {
		conn_close(c, "logout while logging in", 0);
		return;
	}
	if (S.xpush_mode) {
		bbuf_puts(&c->out, "<presence type='unavailable' to='");
		bbuf_put_esc(&c->out, S.component);
		bbuf_puts(&c->out, "'/>");
	}
	bbuf_puts(&c->out, "</stream:stream>");
	c->st = C_CLOSING;
	c->close_deadline_ms = now_mono_ms() + 5000;
	conn_flush(c);
}

/* --- control -------------------------------------------------------------- */

static void write_status(void)
{
	char line[512];
	int n = snprintf(line, sizeof line,
	                 "online=%d logging_in=%d pending=%d received=%lld acks=%lld failures=%lld"
	                 " gave_up=%d server_closes=%lld logins=%lld login_us_avg=%lld records=%zu"
	                 " dumps=%d\n",
	                 S.online, S.logging_in, S.p_len, S.received, S.acks, S.failures, S.gave_up,
	                 S.server_closes, S.logins, S.logins ? S.login_us_sum / S.logins : 0,
	                 S.nrecs, S.dumps);
	if (S.status_path && n > 0)
		write_file_atomic(S.status_path, line, (size_t)n);
}

static void on_command(void *ud, char *line)
{
	(void)ud;
	if (strcmp(line, "connect") == 0) {
		for (int i = 0; i < S.count; i++) {
			S.c[i].want_online = 1;
			S.c[i].fails = 0;
			queue_connect(&S.c[i]);
		}
	} else if (strcmp(line, "disconnect") == 0 || strcmp(line, "quit") == 0) {
		S.p_head = S.p_tail = S.p_len = 0;
		for (int i = 0; i < S.count; i++) {
			S.c[i].want_online = 0;
			S.c[i].queued = 0;
			if (S.c[i].st != C_IDLE && S.c[i].st != C_CLOSING)
				conn_logout(&S.c[i]);
		}
		if (strcmp(line, "quit") == 0)
			S.quitting = 1;
	} else if (strcmp(line, "kill") == 0) {
		S.p_head = S.p_tail = S.p_len = 0;
		for (int i = 0; i < S.count; i++) {
			S.c[i].want_online = 0;
			S.c[i].queued = 0;
			conn_close(&S.c[i], "killed", 0);
		}
	} else if (strncmp(line, "dump ", 5) == 0) {
		if (dump_records(line + 5) < 0)
			fprintf(stderr, "devsim: cannot write %s: %s\n", line + 5, strerror(errno));
		S.dumps++;
	} else if (line[0]) {
		fprintf(stderr, "devsim: unknown command '%s'\n", line);
	}
	write_status();
}

static void usage(FILE *f)
{
	fprintf(f,
	"Usage: devsim --port C2S_PORT --ca CA.pem --count N [options]\n"
	"  --host ADDR          server address (127.0.0.1)\n"
	"  --domain D           XMPP domain and TLS name (xpush.test)\n"
	"  --prefix P           account names P<i> (u)\n"
	"  --first I            first device number (0)\n"
	"  --password PW        password of every account (bench)\n"
	"  --resource R         resource (sim)\n"
	"  --mode xpush|base    xpush: register + directed presence; base: bind only (xpush)\n"
	"  --component JID      xpushd's JID (push.xpush.test)\n"
	"  --app APP            app id in register/presence (bench)\n"
	"  --ibr                create each account in-band (XEP-0077) before logging in\n"
	"  --concurrency K      logins in progress at once (64)\n"
	"  --ctl FIFO           control commands: connect|disconnect|kill|dump PATH|quit\n"
	"  --status FILE        key=value status, rewritten every 200 ms\n"
	"  --out FILE           receipt log written at quit\n"
	"  --connect            connect every device at start\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", 1, NULL, 'H' }, { "port", 1, NULL, 'p' }, { "domain", 1, NULL, 'd' },
		{ "ca", 1, NULL, 'a' }, { "prefix", 1, NULL, 'P' }, { "first", 1, NULL, 'f' },
		{ "count", 1, NULL, 'n' }, { "password", 1, NULL, 'w' }, { "resource", 1, NULL, 'r' },
		{ "mode", 1, NULL, 'm' }, { "component", 1, NULL, 'C' }, { "app", 1, NULL, 'A' },
		{ "ibr", 0, NULL, 'I' }, { "concurrency", 1, NULL, 'k' }, { "ctl", 1, NULL, 'c' },
		{ "status", 1, NULL, 's' }, { "out", 1, NULL, 'o' }, { "connect", 0, NULL, 'N' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct epoll_event evs[512];
	int opt, connect_now = 0;
	int64_t last_status = 0;
	long nofile;

	S.host = "127.0.0.1";
	S.domain = "xpush.test";
	S.prefix = "u";
	S.password = "bench";
	S.resource = "sim";
	S.component = "push.xpush.test";
	S.app = "bench";
	S.concurrency = 64;
	S.xpush_mode = 1;
	S.ctl_fd = -1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': S.host = optarg; break;
		case 'p': S.port = atoi(optarg); break;
		case 'd': S.domain = optarg; break;
		case 'a': S.ca = optarg; break;
		case 'P': S.prefix = optarg; break;
		case 'f': S.first = atoi(optarg); break;
		case 'n': S.count = atoi(optarg); break;
		case 'w': S.password = optarg; break;
		case 'r': S.resource = optarg; break;
		case 'm': S.xpush_mode = strcmp(optarg, "base") != 0; break;
		case 'C': S.component = optarg; break;
		case 'A': S.app = optarg; break;
		case 'I': S.ibr = 1; break;
		case 'k': S.concurrency = atoi(optarg); break;
		case 'c': S.ctl_path = optarg; break;
		case 's': S.status_path = optarg; break;
		case 'o': S.out_path = optarg; break;
		case 'N': connect_now = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (S.port <= 0 || S.count <= 0 || !S.ca || S.concurrency <= 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	nofile = raise_nofile();
	if (nofile > 0 && nofile < S.count + 64) {
		fprintf(stderr, "devsim: open-file limit %ld is below %d devices\n", nofile, S.count);
		return 2;
	}
	S.tls = SSL_CTX_new(TLS_client_method());
	if (!S.tls || SSL_CTX_load_verify_locations(S.tls, S.ca, NULL) != 1) {
		fprintf(stderr, "devsim: cannot load CA %s\n", S.ca);
		return 2;
	}
	SSL_CTX_set_verify(S.tls, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(S.tls, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                        SSL_MODE_RELEASE_BUFFERS);
	S.c = calloc((size_t)S.count, sizeof *S.c);
	S.pending = calloc((size_t)S.count, sizeof *S.pending);
	S.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!S.c || !S.pending || S.ep < 0) {
		fprintf(stderr, "devsim: out of memory\n");
		return 1;
	}
	for (int i = 0; i < S.count; i++) {
		S.c[i].idx = S.first + i;
		S.c[i].fd = -1;
	}
	if (S.ctl_path) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
		S.ctl_fd = ctl_open(S.ctl_path);
		if (S.ctl_fd < 0 || epoll_ctl(S.ep, EPOLL_CTL_ADD, S.ctl_fd, &e) < 0) {
			fprintf(stderr, "devsim: cannot open control FIFO %s\n", S.ctl_path);
			return 2;
		}
	}
	if (connect_now)
		on_command(NULL, "connect");
	write_status();
	for (;;) {
		start_pending();
		int n = epoll_wait(S.ep, evs, 512, 50);
		if (n < 0 && errno != EINTR) {
			perror("devsim: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr) {
				if (ctl_read(S.ctl_fd, &S.ctl_pending, on_command, NULL) < 0)
					return 1;
				continue;
			}
			struct conn *c = evs[i].data.ptr;
			if (c->fd >= 0)
				conn_io(c, evs[i].events);
		}
		int64_t now = now_mono_ms();
		if (now - last_status >= 200) {
			last_status = now;
			int closing = 0;
			for (int i = 0; i < S.count; i++) {
				if (S.c[i].st != C_CLOSING)
					continue;
				if (now >= S.c[i].close_deadline_ms)
					conn_close(&S.c[i], "logout deadline", 0);
				else
					closing++;
			}
			write_status();
			if (S.quitting && !closing && S.online == 0 && S.logging_in == 0)
				break;
		}
	}
	if (S.out_path && dump_records(S.out_path) < 0)
		fprintf(stderr, "devsim: cannot write %s\n", S.out_path);
	write_status();
	SSL_CTX_free(S.tls);
	return 0;
}
