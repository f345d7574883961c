/* xjid: the few JID operations the device needs. Pure string code: no
 * stringprep, no allocation. A JID is [node@]domain[/resource]. */
#ifndef XPUSH_XJID_H
#define XPUSH_XJID_H

#include <stddef.h>

struct xjid_parts {
	const char *node, *domain, *resource; /* point into the JID; NULL if absent */
	size_t node_len, domain_len, resource_len;
};

/* Split and check jid: non-empty domain; node/resource non-empty when their
 * separator is present; each part at most 1023 bytes; no whitespace or
 * control bytes. Returns 0, or -1 if malformed. */
int xjid_split(const char *jid, struct xjid_parts *p);

/* 1 if from is exactly the (bare) component JID: same node (byte-exact),
 * same domain (ASCII case-insensitive), and no resource. 0 otherwise,
 * including from == NULL or malformed. */
int xjid_is_component(const char *from, const char *component);

/* Domain part of jid into out (NUL-terminated). -1 if malformed or too long. */
int xjid_domain(const char *jid, char *out, size_t outlen);

/* File-name-safe form of a JID: ASCII lowercased, [a-z0-9._-] kept, every
 * other byte as %XX (injective up to case). -1 if it does not fit. */
int xjid_sanitise(const char *jid, char *out, size_t outlen);

#endif
