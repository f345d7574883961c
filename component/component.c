/* component: socket, XEP-0114 handshake and reconnect for xpushd.
 * States: DOWN -> CONNECTING -> OPENING (header sent) -> HANDSHAKING
 * (<handshake/> sent) -> READY. Every transition goes through set_state(),
 * which logs it. Parsing stays in stream.c, reading a stream error in
 * stanza_decode.c; this file does I/O only. */
#include "component.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handshake.h"
#include "log.h"
#include "redial.h"
#include "stanza.h"
#include "xbuf.h"

/* Reads per wakeup: a server that streams without pause must not starve the
 * loop's other sockets (Postgres, /metrics). */
#define READS_PER_WAKEUP 16
#define READ_BUF_BYTES 65536

/* Stream errors that retrying will not fix: a refused secret, an unknown
 * component name. Reconnecting would only hammer the server. */
static const char *const final_conditions[] = {
	"not-authorized",
	"host-unknown",
	"improper-addressing",
};

enum cstate { C_DOWN, C_CONNECTING, C_OPENING, C_HANDSHAKING, C_READY };
static const char *const cstate_names[] = { "down", "connecting", "opening", "handshaking",
	                                    "ready" };

struct component {
	struct loop *loop;
	char *jid, *secret, *host;
	uint16_t port;
	uint32_t handshake_timeout_ms;
	size_t max_stanza_bytes;
	struct component_events ev;
	void *ud;
	enum cstate state;
	struct loop_io io;
	struct loop_timer deadline; /* connect to handshake reply */
	struct redial redial;
	struct stream_parser *parser;
	int in_feed; /* inside stream_parser_feed: defer parser free */
	struct stream_parser *dead_parser;
	struct xbuf out;
	char stream_id[256];
	char err_condition[64];
	int final;
};

static void drop(struct component *c, const char *reason);

static int is_final(const char *condition)
{
	for (size_t i = 0; i < sizeof final_conditions / sizeof final_conditions[0]; i++)
		if (strcmp(condition, final_conditions[i]) == 0)
			return 1;
	return 0;
}

static void set_state(struct component *c, enum cstate to)
{
	if (c->state == to)
		return;
	log_debug("component state", "from=%s to=%s", cstate_names[c->state], cstate_names[to]);
	c->state = to;
}

int component_is_ready(const struct component *c)
{
	return c->state == C_READY;
}
size_t component_outbuf_len(const struct component *c)
{
	return c->out.len;
}

static void update_watch(struct component *c)
{
	uint32_t want = EPOLLIN | (c->out.len ? EPOLLOUT : 0);

	if (c->io.fd >= 0 && loop_io_update(c->loop, &c->io, want) < 0)
		drop(c, "epoll update failed");
}

static void flush_out(struct component *c)
{
	while (c->out.len) {
		ssize_t w = send(c->io.fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			drop(c, strerror(errno));
			return;
		}
		xbuf_consume(&c->out, (size_t)w);
	}
	update_watch(c);
}

static int queue_bytes(struct component *c, const char *data, size_t n)
{
	if (xbuf_append(&c->out, data, n) < 0) {
		drop(c, "out of memory");
		return -1;
	}
	flush_out(c);
	return 0;
}

int component_send(struct component *c, const char *data, size_t n)
{
	if (c->state != C_READY)
		return -1;
	return queue_bytes(c, data, n);
}

/* --- stream events ------------------------------------------------------ */

static void on_open(void *ud, const char *id, const char *from)
{
	struct component *c = ud;
	struct xbuf hs = XBUF_INIT;

	if (c->state != C_OPENING)
		return; /* dropped earlier in this same read */
	if (!id || !*id || strlen(id) >= sizeof c->stream_id) {
		/* A server refusing us (host-unknown) answers with an id-less
		 * header and a stream error: wait for the error, or the deadline. */
		log_debug("server stream header without a usable id", NULL);
		return;
	}
	memcpy(c->stream_id, id, strlen(id) + 1);
	if (handshake_element(&hs, id, c->secret) < 0) {
		xbuf_free(&hs);
		drop(c, "cannot build handshake");
		return;
	}
	set_state(c, C_HANDSHAKING);
	(void)queue_bytes(c, hs.data, hs.len);
	explicit_bzero(hs.data, hs.len);
	xbuf_free(&hs);
}

static void on_stanza(void *ud, struct xnode *st)
{
	struct component *c = ud;
	const char *condition;

	if (c->state == C_DOWN) {
		/* Dropped earlier in this same read: the rest is moot. */
		xnode_free(st);
		return;
	}
	if (stanza_decode_stream_error(st, &condition, NULL)) {
		snprintf(c->err_condition, sizeof c->err_condition, "%s",
		         condition ? condition : "undefined-condition");
		if (c->state == C_HANDSHAKING || c->state == C_OPENING)
			c->final = is_final(c->err_condition);
		xnode_free(st);
		drop(c, "stream error from server");
		return;
	}
	if (c->state == C_HANDSHAKING) {
		if (strcmp(st->name, "handshake") == 0) {
			loop_timer_disarm(&c->deadline);
			set_state(c, C_READY);
			redial_reset(&c->redial);
			log_info("component ready", "jid=%s server=%s:%u", c->jid, c->host,
			         c->port);
			if (c->ev.on_ready)
				c->ev.on_ready(c->ud);
		} else {
			log_warn("stanza before handshake ignored", "name=%s", log_q(st->name));
		}
	} else if (c->state == C_READY && c->ev.on_stanza) {
		c->ev.on_stanza(c->ud, st);
	}
	xnode_free(st);
}

/* A stanza the parser skipped: some user's, not the server's fault. */
static void on_refused(void *ud, const struct stanza_head *h, const char *reason)
{
	struct component *c = ud;

	if (c->state == C_READY) {
		if (c->ev.on_refused)
			c->ev.on_refused(c->ud, h, reason);
	} else if (c->state != C_DOWN) {
		log_warn("stanza before handshake ignored", "name=%s reason=%s", log_q(h->name),
		         log_q(reason));
	}
}

static void on_close(void *ud)
{
	struct component *c = ud;

	if (c->state != C_DOWN)
		drop(c, "server closed the stream");
}

/* --- socket ------------------------------------------------------------- */

static void on_readable(struct component *c)
{
	char buf[READ_BUF_BYTES];

	for (int i = 0; i < READS_PER_WAKEUP && c->io.fd >= 0; i++) {
		ssize_t r = recv(c->io.fd, buf, sizeof buf, 0);
		if (r == 0) {
			drop(c, "connection closed by server");
			return;
		}
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			drop(c, strerror(errno));
			return;
		}
		c->in_feed = 1;
		int rc = stream_parser_feed(c->parser, buf, (size_t)r);
		c->in_feed = 0;
		if (c->dead_parser) {
			stream_parser_free(c->dead_parser);
			c->dead_parser = NULL;
			return;
		}
		if (rc < 0) {
			char why[256];
			snprintf(why, sizeof why, "bad XML from server: %s",
			         stream_parser_error(c->parser));
			drop(c, why);
			return;
		}
	}
}

static void on_io(struct loop_io *io, uint32_t events)
{
	struct component *c = io->ud;

	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;
		struct xbuf hdr = XBUF_INIT;
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			drop(c, strerror(err));
			return;
		}
		if (handshake_stream_header(&hdr, c->jid) < 0) {
			drop(c, "out of memory");
			return;
		}
		set_state(c, C_OPENING);
		(void)queue_bytes(c, hdr.data, hdr.len);
		xbuf_free(&hdr);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(c);
	if (c->io.fd >= 0 && (events & EPOLLOUT))
		flush_out(c);
}

static void start_connect(struct component *c)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	struct stream_limits lim = { .max_stanza_bytes = c->max_stanza_bytes };
	struct stream_callbacks cb = { on_open, on_stanza, on_close, on_refused };
	char port[8];
	int fd = -1, one = 1, rc;

	c->final = 0;
	c->err_condition[0] = '\0';
	c->parser = stream_parser_new(&lim, &cb, c);
	if (!c->parser) {
		drop(c, "out of memory");
		return;
	}
	snprintf(port, sizeof port, "%u", c->port);
	rc = getaddrinfo(c->host, port, &hints, &res);
	if (rc != 0) {
		drop(c, gai_strerror(rc));
		return;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		drop(c, strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	rc = connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		drop(c, strerror(e));
		return;
	}
	if (loop_io_watch(c->loop, &c->io, fd, EPOLLOUT) < 0) {
		close(fd);
		drop(c, "epoll registration failed");
		return;
	}
	set_state(c, C_CONNECTING);
	loop_timer_arm(&c->deadline, c->handshake_timeout_ms);
}

static void on_retry(struct loop_timer *t)
{
	start_connect(t->ud);
}

static void on_deadline(struct loop_timer *t)
{
	struct component *c = t->ud;

	if (c->state != C_READY && c->state != C_DOWN)
		drop(c, "no handshake reply before the deadline");
}

/* Close everything; schedule a reconnect unless the failure is final. */
static void drop(struct component *c, const char *reason)
{
	int was = c->state, final = c->final;
	uint32_t delay = 0;

	if (c->io.fd >= 0) {
		int fd = c->io.fd;
		loop_io_unwatch(c->loop, &c->io);
		close(fd);
	}
	if (c->parser) {
		if (c->in_feed)
			c->dead_parser = c->parser;
		else
			stream_parser_free(c->parser);
		c->parser = NULL;
	}
	xbuf_reset(&c->out);
	loop_timer_disarm(&c->deadline);
	set_state(c, C_DOWN);
	if (final) {
		log_error("component connection refused", "condition=%s reason=%s server=%s:%u",
		          c->err_condition, log_q(reason), c->host, c->port);
	} else {
		delay = redial_schedule(&c->redial);
		log_warn("component connection lost", "condition=%s reason=%s retry_ms=%u",
		         c->err_condition[0] ? c->err_condition : "none", log_q(reason), delay);
	}
	if (c->ev.on_down && (was != C_DOWN || final))
		c->ev.on_down(c->ud, final, c->err_condition, reason);
}

struct component *component_new(struct loop *l, const struct component_opts *o,
                                const struct component_events *ev, void *ud)
{
	struct component *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->io.fd = -1;
	c->jid = strdup(o->jid);
	c->secret = strdup(o->secret);
	c->host = strdup(o->host);
	if (!c->jid || !c->secret || !c->host) {
		component_free(c);
		return NULL;
	}
	c->loop = l;
	c->port = o->port;
	c->handshake_timeout_ms = o->handshake_timeout_ms;
	c->max_stanza_bytes = o->max_stanza_bytes;
	c->ev = *ev;
	c->ud = ud;
	c->io = (struct loop_io){ .fd = -1, .fn = on_io, .ud = c };
	redial_init(&c->redial, l, o->reconnect_min_ms, o->reconnect_max_ms, on_retry, c);
	loop_timer_init(l, &c->deadline, on_deadline, c);
	start_connect(c);
	return c;
}

void component_close(struct component *c)
{
	static const char end[] = "</stream:stream>";

	if (c->state == C_READY) {
		(void)queue_bytes(c, end, sizeof end - 1);
		if (c->io.fd >= 0)
			shutdown(c->io.fd, SHUT_WR);
	}
}

void component_free(struct component *c)
{
	if (!c)
		return;
	if (c->loop && c->io.fd >= 0) {
		int fd = c->io.fd;
		loop_io_unwatch(c->loop, &c->io);
		close(fd);
	}
	if (c->loop) {
		redial_remove(&c->redial);
		loop_timer_remove(c->loop, &c->deadline);
	}
	stream_parser_free(c->parser);
	stream_parser_free(c->dead_parser);
	xbuf_free(&c->out);
	if (c->secret)
		explicit_bzero(c->secret, strlen(c->secret));
	free(c->secret);
	free(c->jid);
	free(c->host);
	free(c);
}
