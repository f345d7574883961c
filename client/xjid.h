/* xjid: the device's decisions about JIDs, on the one JID reading of
 * common/jid.h: is a sender the component, and a JID's file-name-safe form.
 * Pure string code: no stringprep, no allocation. */
#ifndef XPUSH_XJID_H
#define XPUSH_XJID_H

#include <stddef.h>
#include "jid.h"

/* 1 if from is exactly the (bare) component JID: both valid JIDs (jid.h),
 * the same localpart (byte-exact), the same domainpart (ASCII
 * case-insensitive), and no resource. 0 otherwise, including from == NULL. */
int xjid_is_component(const char *from, const char *component);

/* File-name-safe form of a JID: ASCII lowercased, [a-z0-9._-] kept, every
 * other byte as %XX (injective up to case). -1 if it does not fit. */
int xjid_sanitise(const char *jid, char *out, size_t outlen);

/* Temporary: the former names, until cfg.c, account.c, client.c and
 * tests/client/test_client_config.c use jid.h (struct jid_parts, jid_split,
 * jid_domain; node is now local). Remove then. */
struct xjid_parts {
	const char *node, *domain, *resource;
	size_t node_len, domain_len, resource_len;
};

static inline int xjid_split(const char *jid, struct xjid_parts *p)
{
	struct jid_parts j;
	int rc = jid_split(jid, &j);

	p->node = j.local;
	p->node_len = j.local_len;
	p->domain = j.domain;
	p->domain_len = j.domain_len;
	p->resource = j.resource;
	p->resource_len = j.resource_len;
	return rc;
}

#define xjid_domain jid_domain

#endif
