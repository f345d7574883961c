/* basesend: the benchmarks' baseline sender, a minimal XEP-0114 component with no
 * database. It sends devices (devsim --mode base) the same notification IQ that
 * xpushd sends (same element, attributes and text, so the same bytes on the wire)
 * and counts their IQ-result acks: what the XMPP server routes when nothing but
 * the server is in the way.
 *
 *   window mode (default): --per-device M notifications to each of --count devices,
 *     at most --window unacked per device (xpushd's device_window), as fast as acks
 *     come back: throughput.
 *   rate mode (--rate R --total K): K notifications, one every 1/R s, to devices in
 *     turn: latency at a given load.
 *
 * Log (--out): "seq dev t_send_ns t_ack_ns" per notification (t_ack_ns 0 if none).
 * Summary on stdout: key=value. */
#include <arpa/inet.h>
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

struct msg {
	int64_t t_send, t_ack;
	int32_t dev;
};

static struct {
	const char *host, *jid, *secret, *domain, *prefix, *resource, *out_path, *title, *body;
	int port, first, count, per_device, window;
	double rate;
	long total;
	int fd, ep, depth, ready, closed;
	XML_Parser xp;
	struct bbuf out;
	char name[24], type[12], id[96];
	struct msg *m;
	long nmsg, sent, acked, errors;
	int *next_k, *inflight;   /* per device: messages sent so far, unacked */
	char created[32];
} B;

static void die(const char *what)
{
	fprintf(stderr, "basesend: %s\n", what);
	exit(1);
}

static void flush_out(void)
{
	while (B.out.len) {
		ssize_t w = send(B.fd, B.out.data, B.out.len, MSG_NOSIGNAL);
		if (w > 0) {
			bbuf_consume(&B.out, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		die("send to the server failed");
	}
	struct epoll_event e = { .events = EPOLLIN | (B.out.len ? EPOLLOUT : 0) };
	epoll_ctl(B.ep, EPOLL_CTL_MOD, B.fd, &e);
}

/* The same stanza xpushd's stanza_encode_notification() writes. */
static void send_msg(long seq, int dev)
{
	char to[128];

	snprintf(to, sizeof to, "%s%d@%s/%s", B.prefix, dev, B.domain, B.resource);
	bbuf_printf(&B.out, "<iq type='set' from='%s' to='%s' id='b.%ld.%d.1'>", B.jid, to, seq, dev);
	bbuf_printf(&B.out, "<notification xmlns='urn:xpush:0' id='%ld' app='bench' priority='normal'"
	                    " created='%s'><title>", seq, B.created);
	bbuf_put_esc(&B.out, B.title);
	bbuf_puts(&B.out, "</title><body>");
	bbuf_put_esc(&B.out, B.body);
	bbuf_puts(&B.out, "</body></notification></iq>");
	B.m[seq].dev = dev;
	B.m[seq].t_send = now_real_ns();
	B.sent++;
}

/* Window mode: top up one device's window. */
static void fill_window(int i)
{
	while (B.inflight[i] < B.window && B.next_k[i] < B.per_device) {
		long seq = (long)i * B.per_device + B.next_k[i];
		B.next_k[i]++;
		B.inflight[i]++;
		send_msg(seq, B.first + i);
	}
}

static void on_ack(long seq, int ok)
{
	if (seq < 0 || seq >= B.nmsg || B.m[seq].t_ack)
		return;
	if (!ok) {
		B.errors++;
		if (B.errors <= 10)
			fprintf(stderr, "basesend: error reply for %ld (device offline?)\n", seq);
	}
	B.m[seq].t_ack = now_real_ns();
	B.acked++;
	if (B.rate <= 0) {
		int i = B.m[seq].dev - B.first;
		B.inflight[i]--;
		fill_window(i);
	}
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)ud;
	B.depth++;
	if (B.depth == 1) {
		for (int i = 0; atts[i]; i += 2) {
			if (strcmp(atts[i], "id") == 0) {
				/* <handshake>hex(SHA1(id + secret))</handshake> */
				unsigned char h[SHA_DIGEST_LENGTH];
				char hex[2 * SHA_DIGEST_LENGTH + 1];
				struct bbuf s = { 0 };
				bbuf_puts(&s, atts[i + 1]);
				bbuf_puts(&s, B.secret);
				SHA1((unsigned char *)s.data, s.len, h);
				for (int k = 0; k < SHA_DIGEST_LENGTH; k++)
					snprintf(hex + 2 * k, 3, "%02x", h[k]);
				bbuf_printf(&B.out, "<handshake>%s</handshake>", hex);
				bbuf_free(&s);
			}
		}
	} else if (B.depth == 2) {
		const char *p = strrchr(name, ':');
		snprintf(B.name, sizeof B.name, "%s", p ? p + 1 : name);
		B.type[0] = B.id[0] = '\0';
		for (int i = 0; atts[i]; i += 2) {
			if (strcmp(atts[i], "type") == 0)
				snprintf(B.type, sizeof B.type, "%s", atts[i + 1]);
			else if (strcmp(atts[i], "id") == 0)
				snprintf(B.id, sizeof B.id, "%s", atts[i + 1]);
		}
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	(void)ud;
	(void)name;
	if (B.depth == 2) {
		if (strcmp(B.name, "handshake") == 0) {
			B.ready = 1;
		} else if (strcmp(B.name, "error") == 0) {
			die("stream error from the server (wrong secret or component name?)");
		} else if (strcmp(B.name, "iq") == 0 && strncmp(B.id, "b.", 2) == 0) {
			on_ack(strtol(B.id + 2, NULL, 10), strcmp(B.type, "result") == 0);
		}
	} else if (B.depth == 1) {
		B.closed = 1;
	}
	B.depth--;
}

static void read_server(void)
{
	char buf[65536];

	for (int i = 0; i < 16; i++) {
		ssize_t r = recv(B.fd, buf, sizeof buf, 0);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("the server closed the connection");
		if (XML_Parse(B.xp, buf, (int)r, XML_FALSE) == XML_STATUS_ERROR)
			die("bad XML from the server");
		if (B.closed)
			die("the server closed the stream");
	}
}

static char *read_secret(const char *path)
{
	static char s[512];
	FILE *f = fopen(path, "r");

	if (!f || !fgets(s, sizeof s, f))
		die("cannot read the secret file");
	fclose(f);
	s[strcspn(s, "\r\n")] = '\0';
	return s;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", 1, NULL, 'H' }, { "port", 1, NULL, 'p' }, { "jid", 1, NULL, 'j' },
		{ "secret-file", 1, NULL, 'S' }, { "domain", 1, NULL, 'd' }, { "prefix", 1, NULL, 'P' },
		{ "first", 1, NULL, 'f' }, { "count", 1, NULL, 'n' }, { "resource", 1, NULL, 'r' },
		{ "per-device", 1, NULL, 'M' }, { "window", 1, NULL, 'W' }, { "rate", 1, NULL, 'R' },
		{ "total", 1, NULL, 'T' }, { "out", 1, NULL, 'o' }, { "title", 1, NULL, 't' },
		{ "body", 1, NULL, 'b' }, { NULL, 0, NULL, 0 },
	};
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct epoll_event e = { .events = EPOLLOUT | EPOLLIN }, evs[4];
	int opt, one = 1;
	int64_t t0 = 0, t_end = 0, next_due = 0, interval_ns = 0, deadline_ms;
	time_t now;

	B.host = "127.0.0.1";
	B.jid = "push2.xpush.test";
	B.domain = "xpush.test";
	B.prefix = "u";
	B.resource = "sim";
	B.per_device = 10;
	B.window = 16;
	B.title = "Bench";
	B.body = "benchmark notification body";
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': B.host = optarg; break;
		case 'p': B.port = atoi(optarg); break;
		case 'j': B.jid = optarg; break;
		case 'S': B.secret = read_secret(optarg); break;
		case 'd': B.domain = optarg; break;
		case 'P': B.prefix = optarg; break;
		case 'f': B.first = atoi(optarg); break;
		case 'n': B.count = atoi(optarg); break;
		case 'r': B.resource = optarg; break;
		case 'M': B.per_device = atoi(optarg); break;
		case 'W': B.window = atoi(optarg); break;
		case 'R': B.rate = atof(optarg); break;
		case 'T': B.total = atol(optarg); break;
		case 'o': B.out_path = optarg; break;
		case 't': B.title = optarg; break;
		case 'b': B.body = optarg; break;
		default: return 2;
		}
	}
	if (!B.port || !B.secret || B.count <= 0 || B.window <= 0 ||
	    (B.rate > 0 && B.total <= 0)) {
		fprintf(stderr, "usage: basesend --port COMPONENT_PORT --secret-file F --count N"
		                " [--jid J] [--per-device M --window W | --rate R --total K] [--out F]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	now = time(NULL);
	strftime(B.created, sizeof B.created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	B.nmsg = B.rate > 0 ? B.total : (long)B.count * B.per_device;
	B.m = calloc((size_t)B.nmsg, sizeof *B.m);
	B.next_k = calloc((size_t)B.count, sizeof *B.next_k);
	B.inflight = calloc((size_t)B.count, sizeof *B.inflight);
	if (!B.m || !B.next_k || !B.inflight)
		die("out of memory");

	B.xp = XML_ParserCreate(NULL);
	XML_SetElementHandler(B.xp, on_start, on_end);
	a.sin_port = htons((uint16_t)B.port);
	inet_pton(AF_INET, B.host, &a.sin_addr);
	B.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (B.fd < 0 || connect(B.fd, (struct sockaddr *)&a, sizeof a) < 0)
		die("cannot connect to the component port");
	setsockopt(B.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (fcntl(B.fd, F_SETFL, fcntl(B.fd, F_GETFL) | O_NONBLOCK) < 0)
		die("cannot make the socket non-blocking");
	B.ep = epoll_create1(EPOLL_CLOEXEC);
	epoll_ctl(B.ep, EPOLL_CTL_ADD, B.fd, &e);
	bbuf_printf(&B.out, "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept'"
	                    " xmlns:stream='http://etherx.jabber.org/streams' to='%s'>", B.jid);
	flush_out();
	deadline_ms = now_mono_ms() + 10000;
	while (!B.ready) {
		int n = epoll_wait(B.ep, evs, 4, 100);
		if (n > 0 && (evs[0].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			read_server();
		flush_out();
		if (now_mono_ms() > deadline_ms)
			die("no handshake within 10 s");
	}

	t0 = now_real_ns();
	if (B.rate > 0) {
		interval_ns = (int64_t)(1e9 / B.rate);
		next_due = t0;
	} else {
		for (int i = 0; i < B.count; i++)
			fill_window(i);
	}
	flush_out();
	/* Bounded: 10 minutes at most, and 60 s without an ack ends it. */
	deadline_ms = now_mono_ms() + 600000;
	int64_t progress_ms = now_mono_ms();
	long last_acked = 0;
	while (B.acked < B.nmsg && now_mono_ms() < deadline_ms &&
	       now_mono_ms() - progress_ms < 60000) {
		if (B.acked != last_acked) {
			last_acked = B.acked;
			progress_ms = now_mono_ms();
		}
		int timeout = 100;
		if (B.rate > 0 && B.sent < B.nmsg) {
			int64_t now_ns = now_real_ns();
			while (B.sent < B.nmsg && now_ns >= next_due) {
				send_msg(B.sent, B.first + (int)(B.sent % B.count));
				next_due += interval_ns;
			}
			int64_t wait_ns = next_due - now_real_ns();
			timeout = wait_ns <= 0 ? 0 : (int)(wait_ns / 1000000);
			flush_out();
		}
		int n = epoll_wait(B.ep, evs, 4, timeout);
		if (n > 0 && (evs[0].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			read_server();
		flush_out();
	}
	t_end = now_real_ns();
	bbuf_puts(&B.out, "</stream:stream>");
	flush_out();

	if (B.out_path) {
		FILE *f = fopen(B.out_path, "w");
		if (!f)
			die("cannot write the log");
		for (long i = 0; i < B.nmsg; i++)
			fprintf(f, "%ld %d %lld %lld\n", i, B.m[i].dev, (long long)B.m[i].t_send,
			        (long long)B.m[i].t_ack);
		fclose(f);
	}
	printf("sent=%ld acked=%ld errors=%ld start_ns=%lld end_ns=%lld seconds=%.3f rate=%.1f\n",
	       B.sent, B.acked, B.errors, (long long)t0, (long long)t_end, (t_end - t0) / 1e9,
	       B.acked / ((t_end - t0) / 1e9));
	close(B.fd);
	return B.acked == B.nmsg ? 0 : 1;
}
