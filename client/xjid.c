/* xjid: compare and sanitise JIDs; their shape is common/jid.c's. Pure
 * string code: the server has already applied stringprep to what it stamps,
 * so the device only needs exact comparisons (domain case-insensitive, as
 * DNS names are). It must not loosen the sender check: notify.c and
 * retract.c display nothing unless it says 1. */
#include <string.h>
#include <strings.h>

#include "xjid.h"

int xjid_is_component(const char *from, const char *component)
{
	struct jid_parts f, c;

	if (!from || !component || jid_split(from, &f) || jid_split(component, &c))
		return 0;
	if (f.resource || c.resource)
		return 0;
	if ((f.local == NULL) != (c.local == NULL))
		return 0;
	if (f.local && (f.local_len != c.local_len || memcmp(f.local, c.local, f.local_len) != 0))
		return 0;
	if (f.domain_len != c.domain_len)
		return 0;
	return strncasecmp(f.domain, c.domain, f.domain_len) == 0;
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
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
		    ch == '-' || ch == '_') {
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
