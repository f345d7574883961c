/* test_stanza_decode: the urn:xpush:0 protocol, read. Stanzas are parsed from
 * real bytes by the stream parser (never hand-built trees), decoded, and
 * checked, as are the ids of acks and retracts. */
#include "stanza_helpers.h"

/* --- decode: classification ---------------------------------------------- */

static void test_decode_kinds(void)
{
	static const struct { const char *xml; enum stanza_kind kind; } cases[] = {
		{ "<handshake/>", STANZA_HANDSHAKE },
		{ "<iq type='get' id='p' " DEV "><ping xmlns='urn:xmpp:ping'/></iq>", STANZA_PING },
		{ "<iq type='get' id='d' " DEV "><query xmlns='http://jabber.org/protocol/disco#info'/>"
		  "</iq>", STANZA_DISCO_INFO },
		{ "<iq type='get' id='d' " DEV "><query xmlns='http://jabber.org/protocol/disco#info'"
		  " node='x'/></iq>", STANZA_IQ_UNKNOWN },
		{ "<iq type='get' id='v' " DEV "><query xmlns='jabber:iq:version'/></iq>",
		  STANZA_IQ_UNKNOWN },
		{ "<iq type='set' id='s' " DEV "><query xmlns='jabber:iq:roster'/></iq>",
		  STANZA_IQ_UNKNOWN },
		{ "<iq type='set' id='s' " DEV "><register xmlns='jabber:iq:register'/></iq>",
		  STANZA_IQ_UNKNOWN },
		{ "<iq type='set' id='s' " DEV "><ping xmlns='urn:xpush:0'/></iq>", STANZA_IQ_UNKNOWN },
		{ "<iq type='get' id='e' " DEV "/>", STANZA_IQ_UNKNOWN },
		{ "<iq id='notype' " DEV "><ping xmlns='urn:xmpp:ping'/></iq>", STANZA_OTHER },
		{ "<iq type='bogus' id='b' " DEV "/>", STANZA_OTHER },
		{ "<iq type='result' id='xp.42.7' " DEV "/>", STANZA_ACK },
		{ "<iq type='result' id='r1' " DEV "/>", STANZA_OTHER },
		{ "<iq type='result' id='xp.42' " DEV "/>", STANZA_OTHER },
		{ "<iq type='result' " DEV "/>", STANZA_OTHER },
		{ "<iq type='error' id='xp.1.2' " DEV "/>", STANZA_NACK },
		{ "<iq type='error' id='other' " DEV "/>", STANZA_OTHER },
		{ "<presence " DEV "/>", STANZA_PRESENCE },
		{ "<presence type='unavailable' " DEV "/>", STANZA_UNAVAILABLE },
		{ "<presence type='subscribe' " DEV "/>", STANZA_OTHER },
		{ "<presence type='probe' " DEV "/>", STANZA_OTHER },
		{ "<presence type='error' " DEV "/>", STANZA_OTHER },
		{ "<message " DEV "><body>hi</body></message>", STANZA_OTHER },
		{ "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
		  "</stream:error>", STANZA_STREAM_ERROR },
		/* Lenient about the stanza namespace servers use, strict otherwise. */
		{ "<iq xmlns='jabber:client' type='get' id='p' " DEV "><ping xmlns='urn:xmpp:ping'/>"
		  "</iq>", STANZA_PING },
		{ "<presence xmlns='jabber:server' type='unavailable' " DEV "/>", STANZA_UNAVAILABLE },
		{ "<iq xmlns='urn:evil' type='get' id='p' " DEV "><ping xmlns='urn:xmpp:ping'/></iq>",
		  STANZA_OTHER },
		{ "<stream:features/>", STANZA_OTHER },
		{ "<handshake xmlns='urn:x'/>", STANZA_OTHER },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct xnode *st = parse(cases[i].xml);
		struct stanza_in in;
		char err[128];
		int rc;

		CHECK(st != NULL);
		rc = stanza_decode(st, NULL, &in, err, sizeof err);
		CHECK_INT(rc, 0);
		CHECK_INT(in.kind, cases[i].kind);
		if (rc != 0 || in.kind != cases[i].kind)
			fprintf(stderr, "  case %zu: %s -> kind %d (%s)\n", i, cases[i].xml, in.kind, err);
		xnode_free(st);
	}
}

static void test_decode_attrs(void)
{
	struct xnode *st = parse("<iq type='get' id='p1' " DEV "><ping xmlns='urn:xmpp:ping'/></iq>");
	struct stanza_in in;

	CHECK_INT(stanza_decode(st, NULL, &in, NULL, 0), 0);
	CHECK_STR(in.from, "alice@example.org/phone");
	CHECK_STR(in.to, "push.example.org");
	CHECK_STR(in.id, "p1");
	CHECK_STR(in.type, "get");
	xnode_free(st);
}

static void test_decode_register(void)
{
	struct xnode *st = parse("<iq type='set' to='push.example.org' id='r1'"
		" from='alice@example.org/phone'>"
		"<register xmlns='urn:xpush:0' app='com.example.news' device='6f1c-42'>"
		"<alias>alice</alias><tag>sports</tag><tag>news &amp; weather</tag>"
		"<platform>android</platform><future xmlns='urn:xpush:0'>x</future>"
		"<token>v1.1893456000.abc</token>"
		"<tag xmlns='urn:other'>ignored</tag></register></iq>");
	struct stanza_in in;
	char err[128];

	CHECK_INT(stanza_decode(st, NULL, &in, err, sizeof err), 0);
	CHECK_INT(in.kind, STANZA_REGISTER);
	CHECK_STR(in.id, "r1");
	CHECK_STR(in.from, "alice@example.org/phone");
	CHECK_STR(in.app, "com.example.news");
	CHECK_STR(in.device, "6f1c-42");
	CHECK_STR(in.alias, "alice");
	CHECK_STR(in.platform, "android");
	CHECK_STR(in.reg_token, "v1.1893456000.abc");
	CHECK_INT(in.ntags, 2);
	CHECK_STR(in.tags[0], "sports");
	CHECK_STR(in.tags[1], "news & weather");
	CHECK_STR(err, "");
	xnode_free(st);

	/* Minimal: no alias, no tags, no platform. */
	st = parse("<iq type='set' id='r2' " DEV "><register xmlns='urn:xpush:0' app='a'"
	           " device='d'/></iq>");
	CHECK_INT(stanza_decode(st, NULL, &in, err, sizeof err), 0);
	CHECK_INT(in.kind, STANZA_REGISTER);
	CHECK(in.alias == NULL);
	CHECK(in.platform == NULL);
	CHECK(in.reg_token == NULL);
	CHECK_INT(in.ntags, 0);
	xnode_free(st);

	/* The forms allow every app id character, and right-to-left letters, CJK,
	 * emoji (with a zero-width joiner) and SQL/XML metacharacters in
	 * identifiers: only controls and bidirectional formatting are refused. */
	st = parse("<iq type='set' id='r3' " DEV "><register xmlns='urn:xpush:0'"
	           " app='Com.Example-1_x' device='\xd7\x90-1'><alias>\xd7\x90\xd7\x91 "
	           "\xe6\x97\xa5 \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb</alias>"
	           "<tag>x' OR '1'='1</tag><tag>&lt;b&gt;</tag></register></iq>");
	CHECK_INT(stanza_decode(st, NULL, &in, err, sizeof err), 0);
	CHECK_INT(in.kind, STANZA_REGISTER);
	CHECK_STR(in.app, "Com.Example-1_x");
	CHECK_STR(in.device, "\xd7\x90-1");
	CHECK_STR(in.alias, "\xd7\x90\xd7\x91 \xe6\x97\xa5 \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb");
	CHECK_INT(in.ntags, 2);
	CHECK_STR(err, "");
	xnode_free(st);
}

static void test_decode_unregister_and_presence(void)
{
	struct xnode *st;
	struct stanza_in in;
	char err[128];

	st = parse("<iq type='set' id='u1' " DEV "><unregister xmlns='urn:xpush:0' app='a'"
	           " device='d'/></iq>");
	CHECK_INT(stanza_decode(st, NULL, &in, err, sizeof err), 0);
	CHECK_INT(in.kind, STANZA_UNREGISTER);
	CHECK_STR(in.app, "a");
	CHECK_STR(in.device, "d");
	xnode_free(st);

	st = parse("<presence " DEV "><device xmlns='urn:xpush:0' app='com.x' device='d1'/>"
	           "</presence>");
	CHECK_INT(stanza_decode(st, NULL, &in, err, sizeof err), 0);
	CHECK_INT(in.kind, STANZA_PRESENCE);
	CHECK_STR(in.app, "com.x");
	CHECK_STR(in.device, "d1");
	xnode_free(st);

	st = parse("<presence " DEV "><priority>5</priority></presence>");
	CHECK_INT(stanza_decode(st, NULL, &in, err, sizeof err), 0);
	CHECK_INT(in.kind, STANZA_PRESENCE);
	CHECK(in.app == NULL);
	CHECK(in.device == NULL);
	xnode_free(st);
}

static void test_decode_nack_and_stream_error(void)
{
	struct xnode *st;
	struct stanza_in in;

	st = parse("<iq type='error' id='xp.42.7' from='alice@example.org/phone'>"
	           "<error type='cancel'><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>gone"
	           "</text><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
	           "</error></iq>");
	CHECK_INT(stanza_decode(st, NULL, &in, NULL, 0), 0);
	CHECK_INT(in.kind, STANZA_NACK);
	CHECK_INT(in.notif_id, 42);
	CHECK_INT(in.device_row, 7);
	CHECK_STR(in.error_condition, "service-unavailable");
	CHECK_STR(in.error_text, "gone");
	xnode_free(st);

	st = parse("<iq type='result' id='xp.9223372036854775807.1' from='a@b/c'/>");
	CHECK_INT(stanza_decode(st, NULL, &in, NULL, 0), 0);
	CHECK_INT(in.kind, STANZA_ACK);
	CHECK(in.notif_id == INT64_MAX);
	CHECK_INT(in.device_row, 1);
	xnode_free(st);

	st = parse("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
	           "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new"
	           " connection</text></stream:error>");
	CHECK_INT(stanza_decode(st, NULL, &in, NULL, 0), 0);
	CHECK_INT(in.kind, STANZA_STREAM_ERROR);
	CHECK_STR(in.error_condition, "conflict");
	CHECK_STR(in.error_text, "Replaced by new connection");
	xnode_free(st);

	st = parse("<stream:error/>");
	CHECK_INT(stanza_decode(st, NULL, &in, NULL, 0), 0);
	CHECK_INT(in.kind, STANZA_STREAM_ERROR);
	CHECK(in.error_condition == NULL);
	CHECK(in.error_text == NULL);
	xnode_free(st);
}

#define STREAMS_ERR "xmlns='urn:ietf:params:xml:ns:xmpp-streams'"

/* The one reading of the server's <stream:error/>: the component's
 * connection (final or not) and stanza_decode both go through it. */
static void test_stream_error(void)
{
	static const struct { const char *xml; int is; const char *cond, *text; } cases[] = {
		{ "<stream:error><text " STREAMS_ERR ">t</text><not-authorized " STREAMS_ERR "/>"
		  "</stream:error>", 1, "not-authorized", "t" },
		{ "<stream:error><host-unknown xmlns='urn:other'/><host-unknown " STREAMS_ERR "/>"
		  "<conflict " STREAMS_ERR "/></stream:error>", 1, "host-unknown", NULL },
		{ "<stream:error><text " STREAMS_ERR "/></stream:error>", 1, NULL, "" },
		{ "<stream:error><text>t</text><x/></stream:error>", 1, NULL, NULL },
		{ "<stream:error/>", 1, NULL, NULL },
		{ "<stream:features/>", 0, NULL, NULL },
		{ "<error/>", 0, NULL, NULL },  /* jabber:component:accept */
		{ "<error xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", 0, NULL, NULL },
		{ "<iq type='error' id='x'><error type='cancel'><conflict " STREAMS_ERR "/></error>"
		  "</iq>", 0, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct xnode *st = parse(cases[i].xml);
		const char *cond = "x", *text = "x";
		struct stanza_in in;
		int is = stanza_decode_stream_error(st, &cond, &text);

		if (is != cases[i].is)
			fprintf(stderr, "  case %zu\n", i);
		CHECK_INT(is, cases[i].is);
		CHECK(cases[i].cond ? cond && strcmp(cond, cases[i].cond) == 0 : cond == NULL);
		CHECK(cases[i].text ? text && strcmp(text, cases[i].text) == 0 : text == NULL);
		CHECK_INT(stanza_decode_stream_error(st, NULL, NULL), is);
		CHECK_INT(stanza_decode(st, NULL, &in, NULL, 0), 0);
		CHECK_INT(in.kind == STANZA_STREAM_ERROR, is);
		if (is) {
			CHECK(in.error_condition == cond);
			CHECK(in.error_text == text);
		}
		xnode_free(st);
	}
	CHECK_INT(stanza_decode_stream_error(NULL, NULL, NULL), 0);
}

/* --- decode: protocol and limit violations ------------------------------- */

static const char alias129[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static void test_decode_violations(void)
{
	static const struct stanza_limits tight = { 4, 2, 3, 5, 5, 3 };
	static const struct {
		const char *body;   /* inside the register/unregister iq, or a full presence */
		const struct stanza_limits *lim;
		enum stanza_kind kind;
		const char *err;
	} cases[] = {
		{ "<register xmlns='urn:xpush:0' device='d'/>", NULL, STANZA_REGISTER, "missing app" },
		{ "<register xmlns='urn:xpush:0' app='a'/>", NULL, STANZA_REGISTER, "missing device" },
		{ "<register xmlns='urn:xpush:0' app='' device='d'/>", NULL, STANZA_REGISTER,
		  "empty app" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><alias/></register>", NULL,
		  STANZA_REGISTER, "empty alias" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><alias>x</alias><alias>y</alias>"
		  "</register>", NULL, STANZA_REGISTER, "more than one alias" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><platform>x</platform>"
		  "<platform>y</platform></register>", NULL, STANZA_REGISTER,
		  "more than one platform" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><token>x</token>"
		  "<token>y</token></register>", NULL, STANZA_REGISTER, "more than one token" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><token/></register>", NULL,
		  STANZA_REGISTER, "empty token" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><tag>x</tag><tag>y</tag>"
		  "<tag>x</tag></register>", NULL, STANZA_REGISTER, "duplicate tag 'x'" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><tag>a&#9;b</tag></register>",
		  NULL, STANZA_REGISTER, "tag contains a control character" },
		{ "<register xmlns='urn:xpush:0' app='a&#10;' device='d'/>", NULL, STANZA_REGISTER,
		  "app contains a control character" },
		{ "<register xmlns='urn:xpush:0' app='abcdef' device='d'/>", &tight, STANZA_REGISTER,
		  "app longer than 5 bytes" },
		{ "<register xmlns='urn:xpush:0' app='a' device='abcdef'/>", &tight, STANZA_REGISTER,
		  "device longer than 5 bytes" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><alias>abcde</alias></register>",
		  &tight, STANZA_REGISTER, "alias longer than 4 bytes (max_alias_bytes)" },
		/* Limits are in bytes, not characters: 2 CJK characters are 6 bytes. */
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><alias>\xe6\x97\xa5\xe6\x9c\xac"
		  "</alias></register>", &tight, STANZA_REGISTER, "alias longer than 4 bytes (max_alias_bytes)" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><tag>abcd</tag></register>",
		  &tight, STANZA_REGISTER, "tag longer than 3 bytes (max_tag_bytes)" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><tag>a</tag><tag>b</tag>"
		  "<tag>c</tag></register>", &tight, STANZA_REGISTER, "more than 2 tags (max_tags)" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><platform>ios16</platform>"
		  "</register>", &tight, STANZA_REGISTER, "platform longer than 3 bytes" },
		/* The forms of schema 006: app a reverse-DNS id; device, alias and tags
		 * without C1 controls or bidirectional formatting characters. */
		{ "<register xmlns='urn:xpush:0' app=' org.example ' device='d'/>", NULL,
		  STANZA_REGISTER, "app may hold only A-Z a-z 0-9 . _ - (a reverse-DNS id)" },
		{ "<register xmlns='urn:xpush:0' app='org/example' device='d'/>", NULL,
		  STANZA_REGISTER, "app may hold only A-Z a-z 0-9 . _ - (a reverse-DNS id)" },
		{ "<register xmlns='urn:xpush:0' app='org.\xc3\xa9xample' device='d'/>", NULL,
		  STANZA_REGISTER, "app may hold only A-Z a-z 0-9 . _ - (a reverse-DNS id)" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d\xe2\x80\xae" "1'/>", NULL,
		  STANZA_REGISTER, "device contains a bidirectional formatting character" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><alias>evil\xe2\x80\xaegnp.exe"
		  "</alias></register>", NULL, STANZA_REGISTER,
		  "alias contains a bidirectional formatting character" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><alias>a\xe2\x80\x8f</alias>"
		  "</register>", NULL, STANZA_REGISTER,
		  "alias contains a bidirectional formatting character" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><alias>a\xc2\x85" "b</alias>"
		  "</register>", NULL, STANZA_REGISTER, "alias contains a control character" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><tag>x\xe2\x81\xa6y</tag>"
		  "</register>", NULL, STANZA_REGISTER,
		  "tag contains a bidirectional formatting character" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><tag>\xd8\x9c</tag>"
		  "<tag>\xd8\x9c</tag></register>", NULL, STANZA_REGISTER,
		  "tag contains a bidirectional formatting character" },
		{ "<register xmlns='urn:xpush:0' app='a' device='d'><tag>\xc2\x9b" "2J</tag>"
		  "</register>", NULL, STANZA_REGISTER, "tag contains a control character" },
		{ "<register xmlns='urn:xpush:0' app='up.bK3sdmrbtj3bf6XA2S12b8jJUA5TT1dhPEyeoZfVSRM"
		  ".EtD_1XPLmoIph7W73CZ_uyv6FAnhEAXY1GySHX17vAw' device='d'/>", NULL, STANZA_REGISTER,
		  "app: the form up.<id>.<id> is reserved for UnifiedPush" },
		{ "<unregister xmlns='urn:xpush:0' app='a'/>", NULL, STANZA_UNREGISTER,
		  "missing device" },
		{ "<unregister xmlns='urn:xpush:0' device='d'/>", NULL, STANZA_UNREGISTER,
		  "missing app" },
		{ "<presence " DEV "><device xmlns='urn:xpush:0' app='a'/></presence>", NULL,
		  STANZA_PRESENCE, "missing device" },
		{ "<presence to='push.example.org'/>", NULL, STANZA_PRESENCE, "missing from" },
		{ "<presence from='@example.org/x'/>", NULL, STANZA_PRESENCE,
		  "from is not a valid JID" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char xml[1024], err[128];
		struct stanza_in in;
		struct xnode *st;
		int rc;

		if (strncmp(cases[i].body, "<presence", 9) == 0)
			snprintf(xml, sizeof xml, "%s", cases[i].body);
		else
			snprintf(xml, sizeof xml, "<iq type='set' id='q%zu' " DEV ">%s</iq>", i,
			         cases[i].body);
		st = parse(xml);
		CHECK(st != NULL);
		rc = stanza_decode(st, cases[i].lim, &in, err, sizeof err);
		CHECK_INT(rc, -1);
		CHECK_INT(in.kind, cases[i].kind);
		CHECK_STR(err, cases[i].err);
		CHECK(strchr(err, '\n') == NULL);
		/* Nothing half-decoded leaks out of a refused request. */
		CHECK(in.app == NULL && in.device == NULL && in.alias == NULL && in.ntags == 0);
		if (in.kind == STANZA_REGISTER || in.kind == STANZA_UNREGISTER) {
			char want_id[16];

			snprintf(want_id, sizeof want_id, "q%zu", i);
			CHECK_STR(in.id, want_id);
		}
		xnode_free(st);
	}
}

static void test_decode_default_limits(void)
{
	struct xbuf xml = XBUF_INIT;
	struct stanza_in in;
	struct xnode *st;
	char err[128];

	/* Alias of 129 bytes against the default 128. */
	CHECK_INT(xbuf_printf(&xml, "<iq type='set' id='r' " DEV "><register xmlns='urn:xpush:0'"
	                      " app='a' device='d'><alias>%s</alias></register></iq>", alias129), 0);
	st = parse(xml.data);
	CHECK_INT(stanza_decode(st, NULL, &in, err, sizeof err), -1);
	CHECK_STR(err, "alias longer than 128 bytes (max_alias_bytes)");
	xnode_free(st);

	/* Exactly 128 passes. */
	xbuf_reset(&xml);
	CHECK_INT(xbuf_printf(&xml, "<iq type='set' id='r' " DEV "><register xmlns='urn:xpush:0'"
	                      " app='a' device='d'><alias>%.128s</alias></register></iq>",
	                      alias129), 0);
	st = parse(xml.data);
	CHECK_INT(stanza_decode(st, NULL, &in, err, sizeof err), 0);
	CHECK_INT(strlen(in.alias), 128);
	xnode_free(st);

	/* 64 tags pass, 65 do not. */
	for (int n = 64; n <= 65; n++) {
		xbuf_reset(&xml);
		CHECK_INT(xbuf_puts(&xml, "<iq type='set' id='r' " DEV "><register"
		                    " xmlns='urn:xpush:0' app='a' device='d'>"), 0);
		for (int i = 0; i < n; i++)
			CHECK_INT(xbuf_printf(&xml, "<tag>t%d</tag>", i), 0);
		CHECK_INT(xbuf_puts(&xml, "</register></iq>"), 0);
		st = parse(xml.data);
		CHECK_INT(stanza_decode(st, NULL, &in, err, sizeof err), n == 64 ? 0 : -1);
		CHECK_STR(err, n == 64 ? "" : "more than 64 tags (max_tags)");
		if (n == 64)
			CHECK_STR(in.tags[63], "t63");
		xnode_free(st);
	}

	/* A configured limit above STANZA_MAX_TAGS is clamped to it. */
	{
		struct stanza_limits huge = { .max_tags = 10000 };

		xbuf_reset(&xml);
		CHECK_INT(xbuf_puts(&xml, "<iq type='set' id='r' " DEV "><register"
		                    " xmlns='urn:xpush:0' app='a' device='d'>"), 0);
		for (int i = 0; i <= STANZA_MAX_TAGS; i++)
			CHECK_INT(xbuf_printf(&xml, "<tag>t%d</tag>", i), 0);
		CHECK_INT(xbuf_puts(&xml, "</register></iq>"), 0);
		st = parse(xml.data);
		CHECK_INT(stanza_decode(st, &huge, &in, err, sizeof err), -1);
		CHECK_STR(err, "more than 256 tags (max_tags)");
		xnode_free(st);
	}
	xbuf_free(&xml);
}

/* --- ack ids ------------------------------------------------------------- */

/* The notification form of stanza_decode_iq_ref only (token ignored); the
 * outputs may be NULL and are untouched on failure. */
static int ack_id(const char *iq_id, int64_t *notif_id, int64_t *device_row)
{
	struct iq_ref r;

	if (stanza_decode_iq_ref(iq_id, &r) < 0 || r.retract || r.probe)
		return -1;
	if (notif_id)
		*notif_id = r.notif_id;
	if (device_row)
		*device_row = r.device_row;
	return 0;
}

static void test_ack_id_parse(void)
{
	static const struct { const char *id; int rc; int64_t n, d; } cases[] = {
		{ "xp.42.7", 0, 42, 7 },
		{ "xp.0.0", 0, 0, 0 },
		{ "xp.1.9223372036854775807", 0, 1, INT64_MAX },
		{ "xp.9223372036854775807.9223372036854775807", 0, INT64_MAX, INT64_MAX },
		{ "xp.", -1, 0, 0 },
		{ "xp.1", -1, 0, 0 },
		{ "xp.1.", -1, 0, 0 },
		{ "xp..1", -1, 0, 0 },
		{ "xp.-1.2", -1, 0, 0 },
		{ "xp.1.-2", -1, 0, 0 },
		{ "xp.+1.2", -1, 0, 0 },
		{ "xp.1.2x", -1, 0, 0 },
		{ "xp.1.2.3", 0, 1, 2 },
		{ "xp.1.2.03", -1, 0, 0 },
		{ "xp.1.2.", -1, 0, 0 },
		{ "xp.1.2.3.4", -1, 0, 0 },
		{ "xr.1.2.3", -1, 0, 0 },
		{ "xp.1 .2", -1, 0, 0 },
		{ "xp. 1.2", -1, 0, 0 },
		{ "xp.01.2", -1, 0, 0 },
		{ "xp.1.02", -1, 0, 0 },
		{ "xp.9223372036854775808.1", -1, 0, 0 },
		{ "xp.1.9223372036854775808", -1, 0, 0 },
		{ "xp.99999999999999999999999.1", -1, 0, 0 },
		{ "XP.1.2", -1, 0, 0 },
		{ "xq.1.2", -1, 0, 0 },
		{ "", -1, 0, 0 },
		{ "x", -1, 0, 0 },
		{ "r1", -1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t n = -5, d = -5;
		int rc = ack_id(cases[i].id, &n, &d);

		CHECK_INT(rc, cases[i].rc);
		if (rc != cases[i].rc)
			fprintf(stderr, "  case \"%s\"\n", cases[i].id);
		if (cases[i].rc == 0) {
			CHECK(n == cases[i].n);
			CHECK(d == cases[i].d);
		} else {
			CHECK(n == -5 && d == -5);  /* outputs untouched on failure */
		}
	}
	CHECK_INT(ack_id(NULL, NULL, NULL), -1);
	CHECK_INT(ack_id("xp.3.4", NULL, NULL), 0);
}

static void test_iq_ref_parse(void)
{
	struct iq_ref r;

	CHECK_INT(stanza_decode_iq_ref("xr.5.6.7", &r), 0);
	CHECK(r.retract == 1 && r.notif_id == 5 && r.device_row == 6 && r.token == 7);
	CHECK_INT(stanza_decode_iq_ref("xp.5.6", &r), 0);
	CHECK(r.retract == 0 && r.token == 0);
	CHECK_INT(stanza_decode_iq_ref("xp.5.6.9223372036854775807", &r), 0);
	CHECK(r.token == INT64_MAX);
	CHECK_INT(stanza_decode_iq_ref("xr.5.6.9223372036854775808", &r), -1);
	CHECK_INT(stanza_decode_iq_ref("xs.5.6.7", &r), -1);
	CHECK_INT(stanza_decode_iq_ref(NULL, &r), -1);
}

TEST_MAIN(
	T(test_iq_ref_parse),
	T(test_decode_kinds),
	T(test_decode_attrs),
	T(test_decode_register),
	T(test_decode_unregister_and_presence),
	T(test_decode_nack_and_stream_error),
	T(test_stream_error),
	T(test_decode_violations),
	T(test_decode_default_limits),
	T(test_ack_id_parse),
)
