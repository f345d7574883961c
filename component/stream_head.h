/* stream_head: the head of a refused stanza, kept while the parser skips the
 * rest of it: its name, namespace and the attributes a reply needs (from,
 * to, id, type). Owns those copies and nothing else. */
#ifndef XPUSH_STREAM_HEAD_H
#define XPUSH_STREAM_HEAD_H

#include <stddef.h>

#include "stream.h"

struct stream_head {
	char *name, *ns, *from, *to, *id, *type; /* NULL: absent or too long */
};

/* Keep the head of a stanza (what was kept before is freed): ns is nslen
 * bytes; atts are name,value pairs ending with NULL (expat's or an xnode's).
 * A value longer than STREAM_HEAD_ATTR_MAX, or one that cannot be copied, is
 * kept as absent. */
void stream_head_set(struct stream_head *h, const char *ns, size_t nslen, const char *name,
                     const char *const *atts);
/* Free what is kept; the head is empty again. */
void stream_head_clear(struct stream_head *h);
/* The head as on_refused reports it (borrowed from h): an absent name or
 * namespace reads as "". */
struct stanza_head stream_head_view(const struct stream_head *h, size_t bytes);

#endif
