/* jid: the shape of a JID (jid.h). One set of rules for the daemon's view
 * of a sender and the device's view of the component; it must not compare
 * JIDs (what "the same" means is each caller's decision) or allocate. */
#include "jid.h"

#include <string.h>
#include <strings.h>

#include "utf8.h"

static int part_ok(size_t len)
{
	return len >= 1 && len <= JID_PART_MAX;
}

int jid_split(const char *jid, struct jid_parts *p)
{
	const char *slash, *at;
	size_t len, bare;

	memset(p, 0, sizeof *p);
	if (!jid)
		return -1;
	len = strlen(jid);
	if (!utf8_xml_valid(jid, len))
		return -1;
	slash = memchr(jid, '/', len);
	bare = slash ? (size_t)(slash - jid) : len;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)jid[i];

		/* XML allows TAB, LF and CR; no JID holds them. A space only
		 * in the resource. */
		if (c < 0x20 || c == 0x7f || (c == ' ' && i < bare))
			return -1;
	}
	at = memchr(jid, '@', bare);
	if (at) {
		p->local = jid;
		p->local_len = (size_t)(at - jid);
	}
	p->domain = at ? at + 1 : jid;
	p->domain_len = bare - (size_t)(p->domain - jid);
	if (slash) {
		p->resource = slash + 1;
		p->resource_len = len - bare - 1;
	}
	if ((at && !part_ok(p->local_len)) || !part_ok(p->domain_len) ||
	    memchr(p->domain, '@', p->domain_len) || (slash && !part_ok(p->resource_len))) {
		memset(p, 0, sizeof *p);
		return -1;
	}
	return 0;
}

static int copy_out(const char *s, size_t n, char *out, size_t outlen)
{
	if (!out || n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int jid_bare(const char *jid, char *out, size_t outlen)
{
	struct jid_parts p;

	if (jid_split(jid, &p) < 0)
		return -1;
	return copy_out(jid, (size_t)(p.domain - jid) + p.domain_len, out, outlen);
}

int jid_domain(const char *jid, char *out, size_t outlen)
{
	struct jid_parts p;

	if (jid_split(jid, &p) < 0)
		return -1;
	return copy_out(p.domain, p.domain_len, out, outlen);
}

/* The next entry of a list separated by sep, spaces around it trimmed: its
 * start and length; *p moves past it (NULL after the last). 0 at the end. */
static int list_next(const char **p, char sep, const char **e, size_t *len)
{
	const char *s = *p, *end;

	if (!s)
		return 0;
	end = strchr(s, sep);
	*len = end ? (size_t)(end - s) : strlen(s);
	*p = end ? end + 1 : NULL;
	while (*len && *s == ' ') {
		s++;
		(*len)--;
	}
	while (*len && s[*len - 1] == ' ')
		(*len)--;
	*e = s;
	return 1;
}

int jid_domain_listed(const char *jid, const char *domains)
{
	char dom[JID_PART_MAX + 1];
	const char *p = domains, *e;
	size_t n, len;

	if (jid_domain(jid, dom, sizeof dom) < 0)
		return 0;
	n = strlen(dom);
	while (list_next(&p, ',', &e, &len))
		if (len == n && strncasecmp(e, dom, n) == 0)
			return 1;
	return 0;
}

int jid_listed(const char *list, char sep, const char *bare)
{
	const char *p = list, *e, *at, *dom;
	size_t len;

	if (!list || !bare || !*bare)
		return 0;
	at = strchr(bare, '@');
	dom = at ? at + 1 : bare;
	while (list_next(&p, sep, &e, &len)) {
		const char *want = memchr(e, '@', len) ? bare : dom;
		if (len && strlen(want) == len && strncasecmp(e, want, len) == 0)
			return 1;
	}
	return 0;
}
