/* devsim_xmpp: a simulated device's XMPP stream: expat callbacks, login, register, acks. */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "devsim.h"

static void fail(struct conn *c, const char *why)
{
	snprintf(c->why, sizeof c->why, "%s", why);
	c->dead = 1;
	c->failed = 1;
	XML_StopParser(c->xp, XML_FALSE);
}

static void go_online(struct conn *c)
{
	int64_t us = (now_mono_ms() - c->t_start_ms) * 1000;

	c->st = C_ONLINE;
	c->fails = 0;
	S.logging_in--;
	S.online++;
	S.logins++;
	S.login_us_sum += us;
	record('o', us, c->idx, now_real_ns());
}

static void send_auth(struct conn *c)
{
	char user[64], raw[256], b64[400];
	int n = snprintf(user, sizeof user, "%s%d", S.prefix, c->idx);
	size_t pl = strlen(S.password);

	if (n < 0 || (size_t)n + pl + 2 > sizeof raw) {
		fail(c, "credentials too long");
		return;
	}
	raw[0] = '\0';
	memcpy(raw + 1, user, (size_t)n);
	raw[n + 1] = '\0';
	memcpy(raw + n + 2, S.password, pl);
	b64_encode((unsigned char *)raw, (size_t)n + 2 + pl, b64);
	bbuf_printf(&c->out, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>",
	            b64);
	c->st = C_AUTH;
}

static void send_ibr(struct conn *c)
{
	bbuf_printf(&c->out,
	            "<iq type='set' id='ibr'><query xmlns='jabber:iq:register'><username>%s%d</username>"
	            "<password>", S.prefix, c->idx);
	bbuf_put_esc(&c->out, S.password);
	bbuf_puts(&c->out, "</password></query></iq>");
	c->st = C_IBR;
}

static void send_register(struct conn *c)
{
	bbuf_puts(&c->out, "<iq type='set' id='xreg' to='");
	bbuf_put_esc(&c->out, S.component);
	bbuf_puts(&c->out, "'><register xmlns='urn:xpush:0' app='");
	bbuf_put_esc(&c->out, S.app);
	bbuf_printf(&c->out, "' device='d%d'><platform>devsim</platform></register></iq>", c->idx);
	c->st = C_REG;
}

static void send_presence(struct conn *c)
{
	bbuf_puts(&c->out, "<presence to='");
	bbuf_put_esc(&c->out, S.component);
	bbuf_puts(&c->out, "'><device xmlns='urn:xpush:0' app='");
	bbuf_put_esc(&c->out, S.app);
	bbuf_printf(&c->out, "' device='d%d'/></presence>", c->idx);
}

static void reply_result(struct conn *c)
{
	bbuf_puts(&c->out, "<iq type='result' to='");
	bbuf_put_esc(&c->out, c->from);
	bbuf_puts(&c->out, "' id='");
	bbuf_put_esc(&c->out, c->id);
	bbuf_puts(&c->out, "'/>");
}

/* An IQ set or get while online: notifications and retracts are recorded and
 * acked; pings answered; anything else refused (RFC 6120: every IQ gets a reply). */
static void handle_online_iq(struct conn *c, int64_t t_ns)
{
	if (strcmp(c->type, "set") == 0 && strcmp(c->child_ns, "urn:xpush:0") == 0 &&
	    (strcmp(c->child, "notification") == 0 || strcmp(c->child, "retract") == 0)) {
		char kind = 'x';
		const char *p = c->id;
		if (strncmp(p, "xp.", 3) == 0) {
			p += 3;
		} else if (strncmp(p, "xr.", 3) == 0) {
			kind = 'r';
			p += 3;
		} else if (strncmp(p, "b.", 2) == 0) {
			kind = 'b';
			p += 2;
		}
		record(kind, strtoll(p, NULL, 10), c->idx, t_ns);
		S.received++;
		reply_result(c);
		S.acks++;
		return;
	}
	if (strcmp(c->type, "get") == 0 && strcmp(c->child, "ping") == 0) {
		reply_result(c);
		return;
	}
	bbuf_puts(&c->out, "<iq type='error' to='");
	bbuf_put_esc(&c->out, c->from);
	bbuf_puts(&c->out, "' id='");
	bbuf_put_esc(&c->out, c->id);
	bbuf_puts(&c->out, "'><error type='cancel'><service-unavailable"
	                   " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
}

static void stanza_done(struct conn *c)
{
	int is_iq = strcmp(c->name, "iq") == 0;
	int64_t t_ns = now_real_ns();

	if (strcmp(c->name, "error") == 0) {
		fail(c, "stream error from server");
		return;
	}
	switch (c->st) {
	case C_FEAT1:
		if (strcmp(c->name, "features") != 0)
			return;
		if (!(c->feat & FEAT_TLS)) {
			fail(c, "server offers no STARTTLS");
			return;
		}
		send_str(c, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
		c->st = C_PROCEED;
		return;
	case C_PROCEED:
		if (strcmp(c->name, "proceed") != 0) {
			fail(c, "STARTTLS refused");
			return;
		}
		c->restart = RS_TLS;
		XML_StopParser(c->xp, XML_FALSE);
		return;
	case C_FEAT2:
		if (strcmp(c->name, "features") != 0)
			return;
		if (S.ibr)
			send_ibr(c);
		else
			send_auth(c);
		return;
	case C_IBR:
		if (!is_iq || strcmp(c->id, "ibr") != 0)
			return;
		if (strcmp(c->type, "result") == 0 || strcmp(c->err_cond, "conflict") == 0)
			send_auth(c);
		else
			fail(c, c->err_cond[0] ? c->err_cond : "in-band registration refused");
		return;
	case C_AUTH:
		if (strcmp(c->name, "success") == 0) {
			c->restart = RS_STREAM;
			XML_StopParser(c->xp, XML_FALSE);
		} else if (strcmp(c->name, "failure") == 0) {
			fail(c, "SASL authentication failed");
		}
		return;
	case C_FEAT3:
		if (strcmp(c->name, "features") != 0)
			return;
		if (!(c->feat & FEAT_BIND)) {
			fail(c, "no resource binding offered");
			return;
		}
		bbuf_puts(&c->out, "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
		                   "<resource>");
		bbuf_put_esc(&c->out, S.resource);
		bbuf_puts(&c->out, "</resource></bind></iq>");
		c->st = C_BIND;
		return;
	case C_BIND:
		if (!is_iq || strcmp(c->id, "bind") != 0)
			return;
		if (strcmp(c->type, "result") != 0) {
			fail(c, "bind refused");
			return;
		}
		if (S.xpush_mode)
			send_register(c);
		else
			go_online(c);
		return;
	case C_REG:
		if (is_iq && strcmp(c->id, "xreg") == 0) {
			if (strcmp(c->type, "result") != 0) {
				fail(c, "xpush register refused");
				return;
			}
			send_presence(c);
			go_online(c);
			return;
		}
		/* Pending notifications may arrive before our register reply. */
		if (is_iq && (strcmp(c->type, "set") == 0 || strcmp(c->type, "get") == 0))
			handle_online_iq(c, t_ns);
		return;
	case C_ONLINE:
	case C_CLOSING:
		if (is_iq && (strcmp(c->type, "set") == 0 || strcmp(c->type, "get") == 0))
			handle_online_iq(c, t_ns);
		return;
	default:
		return;
	}
}

static const char *local_name(const char *n)
{
	const char *p = strrchr(n, ':');
	return p ? p + 1 : n;
}

static void copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct conn *c = ud;
	const char *ln = local_name(name);

	c->depth++;
	if (c->depth == 2) {
		copy(c->name, sizeof c->name, ln);
		c->type[0] = c->id[0] = c->from[0] = c->child[0] = c->child_ns[0] = c->err_cond[0] = '\0';
		if (strcmp(ln, "features") == 0)
			c->feat = 0;
		for (int i = 0; atts[i]; i += 2) {
			if (strcmp(atts[i], "type") == 0)
				copy(c->type, sizeof c->type, atts[i + 1]);
			else if (strcmp(atts[i], "id") == 0)
				copy(c->id, sizeof c->id, atts[i + 1]);
			else if (strcmp(atts[i], "from") == 0)
				copy(c->from, sizeof c->from, atts[i + 1]);
		}
	} else if (c->depth == 3) {
		c->in_error = strcmp(ln, "error") == 0;
		if (strcmp(c->name, "features") == 0) {
			if (strcmp(ln, "starttls") == 0)
				c->feat |= FEAT_TLS;
			else if (strcmp(ln, "mechanisms") == 0)
				c->feat |= FEAT_MECH;
			else if (strcmp(ln, "bind") == 0)
				c->feat |= FEAT_BIND;
		}
		if (!c->child[0] && strcmp(ln, "error") != 0) {
			copy(c->child, sizeof c->child, ln);
			for (int i = 0; atts[i]; i += 2)
				if (strcmp(atts[i], "xmlns") == 0)
					copy(c->child_ns, sizeof c->child_ns, atts[i + 1]);
		}
	} else if (c->depth == 4 && c->in_error && !c->err_cond[0] && strcmp(ln, "text") != 0) {
		copy(c->err_cond, sizeof c->err_cond, ln);
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct conn *c = ud;

	(void)name;
	if (c->depth == 2)
		stanza_done(c);
	else if (c->depth == 1 && !c->dead) {
		/* The server closed the stream. */
		c->dead = 1;
		if (c->st != C_CLOSING) {
			c->failed = 1;
			snprintf(c->why, sizeof c->why, "server closed the stream");
			S.server_closes++;
		}
		XML_StopParser(c->xp, XML_FALSE);
	}
	c->depth--;
}

void parser_reset(struct conn *c)
{
	if (!c->xp) {
		c->xp = XML_ParserCreate(NULL);
		if (!c->xp) {
			fprintf(stderr, "devsim: out of memory (expat)\n");
			exit(1);
		}
	} else {
		XML_ParserReset(c->xp, NULL);
	}
	XML_SetUserData(c->xp, c);
	XML_SetElementHandler(c->xp, on_start, on_end);
	c->depth = 0;
	c->restart = RS_NONE;
}
