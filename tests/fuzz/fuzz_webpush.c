/* fuzz_webpush: libFuzzer target for what a Web Push request's bytes reach
 * before the database (component/webpush_req.c, component/vapid.c) and for
 * a distributor's UnifiedPush IQ (component/unifiedpush.c up_decode, through
 * the real stream parser). Besides crashes and sanitizer reports it traps on
 * broken properties:
 *   - a refusal is a known status with a one-line, non-empty reason;
 *   - a path accepted as an endpoint names a token of the documented form;
 *   - a VAPID header accepted yields a key vapid_key_ok accepts;
 *   - a UnifiedPush request accepted yields an app name up_app_parse reads
 *     back to the same application and instance.
 * The input is newline-separated fields: url, method, TTL, Urgency, Topic,
 * Authorization, then the rest as XML of one <iq/>. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "unifiedpush.h"
#include "vapid.h"
#include "webpush_req.h"

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(const char *s)
{
	ASSERT(s && *s && !strchr(s, '\n') && !strchr(s, '\r'));
}

struct first { struct xnode *st; };

static void on_stanza(void *ud, struct xnode *st)
{
	struct first *f = ud;

	if (!f->st)
		f->st = st;
	else
		xnode_free(st);
}

static void iq(const char *xml, size_t n)
{
	static const char hdr[] = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'"
	                          " xmlns='jabber:component:accept' from='p' id='a'>";
	struct stream_callbacks cb = { .on_stanza = on_stanza };
	struct first f = { NULL };
	struct stream_parser *p = stream_parser_new(NULL, &cb, &f);
	struct up_req rq;
	char err[160] = "", a[UP_ID_B64_LEN + 1], i[UP_ID_B64_LEN + 1];

	if (!p)
		return;
	if (stream_parser_feed(p, hdr, sizeof hdr - 1) == 0)
		(void)stream_parser_feed(p, xml, n);
	if (f.st) {
		int rc = up_decode(f.st, &rq, err, sizeof err);
		if (rc < 0)
			one_line(err);
		if (rc == 0 && rq.kind != UP_NONE) {
			ASSERT(up_app_parse(rq.app, a, i) == 0);
			ASSERT(strcmp(a, rq.application) == 0 && strcmp(i, rq.instance) == 0);
		}
		xnode_free(f.st);
	}
	stream_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *f[6] = { 0 }, *rest, *p;
	char tok[44], k[VAPID_KEY_B64_MAX + 1];
	const char *why = NULL;
	int64_t msg;
	int code;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	for (int n = 0; n < 6; n++) {
		f[n] = p;
		p = strchr(p, '\n');
		if (!p) {
			p = f[n] + strlen(f[n]);
			break;
		}
		*p++ = '\0';
	}
	rest = p;
	enum wp_target t = wp_parse_path(f[0], tok, &msg);
	if (t != WP_BAD_PATH)
		ASSERT(up_token_ok(tok));
	code = wp_check(f[1] ? f[1] : "POST", t, (long long)strlen(rest), f[2], f[3], f[4], &why);
	ASSERT(code == 0 || code == 400 || code == 404 || code == 405 || code == 413);
	if (code)
		one_line(why);
	if (vapid_check(f[5], "https://push.example.org", 1800000000LL, k, &why) == 0)
		ASSERT(vapid_key_ok(k));
	else
		one_line(why);
	iq(rest, strlen(rest));
	free(buf);
	return 0;
}
