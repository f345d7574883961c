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

#endif
