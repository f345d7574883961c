/* xjid: split, compare and sanitise JIDs. Pure string code: the server has
 * already applied stringprep to what it stamps, so the device only needs
 * exact comparisons (domain case-insensitive, as DNS names are). */
#include <string.h>
#include <strings.h>

#include "xjid.h"

#define XJID_PART_MAX 1023

static int part_ok(const char *s, size_t len)
{
	if (len == 0 || len > XJID_PART_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch == 0x7f)
			return 0;
	}
	return 1;
}

int xjid_split(const char *jid, struct xjid_parts *p)
{
	const char *slash, *at, *dom;

	memset(p, 0, sizeof *p);
	if (!jid || !*jid)
		return -1;
	slash = strchr(jid, '/');
	at = memchr(jid, '@', slash ? (size_t)(slash - jid) : strlen(jid));
	dom = at ? at + 1 : jid;
	if (at) {
		p->node = jid;
		p->node_len = (size_t)(at - jid);
		if (!part_ok(p->node, p->node_len))
			return -1;
	}
	p->domain = dom;
	p->domain_len = slash ? (size_t)(slash - dom) : strlen(dom);
	if (!part_ok(p->domain, p->domain_len) || memchr(p->domain, '@', p->domain_len))
		return -1;
	if (slash) {
		p->resource = slash + 1;
		p->resource_len = strlen(slash + 1);
		/* a resource may contain spaces; only control bytes are refused */
		if (p->resource_len == 0 || p->resource_len > XJID_PART_MAX)
			return -1;
		for (size_t i = 0; i < p->resource_len; i++) {
			unsigned char ch = (unsigned char)p->resource[i];
			if (ch < 0x20 || ch == 0x7f)
				return -1;
		}
	}
	return 0;
}

int xjid_is_component(const char *from, const char *component)
{
	struct xjid_parts f, c;

	if (!from || !component || xjid_split(from, &f) || xjid_split(component, &c))
		return 0;
	if (f.resource || c.resource)
		return 0;
	if ((f.node == NULL) != (c.node == NULL))
		return 0;
	if (f.node && (f.node_len != c.node_len || memcmp(f.node, c.node, f.node_len) != 0))
		return 0;
	if (f.domain_len != c.domain_len)
		return 0;
	return strncasecmp(f.domain, c.domain, f.domain_len) == 0;
}

int xjid_domain(const char *jid, char *out, size_t outlen)
{
	struct xjid_parts p;

	if (xjid_split(jid, &p) || p.domain_len + 1 > outlen)
		return -1;
	memcpy(out, p.domain, p.domain_len);
	out[p.domain_len] = '\0';
	return 0;
}

int xjid_sanitise(const char *jid, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (!jid || !*jid || outlen == 0)
		return -1;
	for (const unsigned char *s = (const unsigned char *)jid; *s; s++) {
		unsigned char ch = *s;
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '-' || ch == '_') {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)ch;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}
