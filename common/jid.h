/* jid: the one reading of a JID, [localpart@]domainpart[/resourcepart]
 * (RFC 7622 section 3), for xpushd and libxpush alike. Pure string code: no
 * allocation and no stringprep (the server has applied it to every JID it
 * stamps), so the structure and the bytes no JID may hold are checked. */
#ifndef XPUSH_JID_H
#define XPUSH_JID_H

#include <stddef.h>

/* RFC 7622 section 3: each part is 1 to 1023 bytes. */
#define JID_PART_MAX 1023
/* The longest bare JID, localpart@domainpart, with its NUL. */
#define JID_BARE_MAX (2 * JID_PART_MAX + 2)

struct jid_parts {
	const char *local, *domain, *resource; /* into the JID; NULL if absent */
	size_t local_len, domain_len, resource_len;
};

/* Split jid: the first '/' ends the bare JID (a resource may hold '/' and
 * '@'), and in the bare JID an '@' ends the localpart. A JID is
 *   - valid UTF-8 of XML 1.0 characters (utf8.h) without C0 controls or DEL;
 *   - a domainpart of 1..1023 bytes, without '@' or space;
 *   - with an '@', a localpart of 1..1023 bytes, without space;
 *   - with a '/', a resourcepart of 1..1023 bytes (spaces allowed).
 * Returns 0 with *p filled, or -1 if jid is NULL or malformed (*p zeroed). */
int jid_split(const char *jid, struct jid_parts *p);
/* The bare JID (localpart@domainpart) of jid into out, NUL-terminated. 0, or
 * -1 if jid is malformed or out is NULL or too small (out then unchanged). */
int jid_bare(const char *jid, char *out, size_t outlen);
/* The domainpart of jid into out, likewise. */
int jid_domain(const char *jid, char *out, size_t outlen);
/* 1 if jid's domainpart is one of domains (comma-separated, spaces around a
 * name ignored, ASCII case-insensitive), else 0 (also for a malformed jid). */
int jid_domain_listed(const char *jid, const char *domains);
/* 1 if the bare JID bare is on list (entries separated by sep, spaces around
 * an entry ignored, ASCII case-insensitive): an entry with '@' is one bare
 * JID, one without is a domain (its JIDs, not its subdomains'). 0 for NULL
 * or empty arguments. */
int jid_listed(const char *list, char sep, const char *bare);

#endif
