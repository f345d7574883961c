/* stream_head: the head of a refused stanza (stream_head.h). */
#include "stream_head.h"

#include <stdlib.h>
#include <string.h>

/* A copy of s, or NULL if absent or too long to be useful (a JID is at most
 * 3071 bytes; a longer id cannot be answered anyway). */
static char *dup_short(const char *s, size_t n)
{
	return s && n <= STREAM_HEAD_ATTR_MAX ? strndup(s, n) : NULL;
}

void stream_head_clear(struct stream_head *h)
{
	free(h->name);
	free(h->ns);
	free(h->from);
	free(h->to);
	free(h->id);
	free(h->type);
	*h = (struct stream_head){ 0 };
}

void stream_head_set(struct stream_head *h, const char *ns, size_t nslen, const char *name,
                     const char *const *atts)
{
	stream_head_clear(h);
	h->ns = dup_short(ns, nslen);
	h->name = dup_short(name, strlen(name));
	for (const char *const *a = atts; a && a[0]; a += 2) {
		char **slot = strcmp(a[0], "from") == 0   ? &h->from
		              : strcmp(a[0], "to") == 0   ? &h->to
		              : strcmp(a[0], "id") == 0   ? &h->id
		              : strcmp(a[0], "type") == 0 ? &h->type
		                                          : NULL;
		if (slot && !*slot)
			*slot = dup_short(a[1], strlen(a[1]));
	}
}

struct stanza_head stream_head_view(const struct stream_head *h, size_t bytes)
{
	return (struct stanza_head){
		.name = h->name ? h->name : "",
		.ns = h->ns ? h->ns : "",
		.from = h->from,
		.to = h->to,
		.id = h->id,
		.type = h->type,
		.bytes = bytes,
	};
}
