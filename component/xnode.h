/* xnode: the stanza tree. One element: its name, namespace, attributes, the
 * character data directly inside it and its children. The stream parser
 * builds trees (stream.c), the stanza decoder reads them (stanza.h); the tree
 * knows neither. Pure: no I/O, no expat. */
#ifndef XPUSH_XNODE_H
#define XPUSH_XNODE_H

#include <stddef.h>

/* Names are local names; ns is the namespace URI ("" if none). attrs is a
 * NULL-terminated array of name,value pairs (names local; an attribute with
 * a namespace prefix is kept as "nsuri name"). text holds the concatenated
 * character data directly inside this element ("" once the element is
 * complete and has none). Every string and node is owned by the tree. */
struct xnode {
	char *name;
	char *ns;
	char **attrs;
	char *text;
	size_t text_len;
	struct xnode *children; /* first child */
	struct xnode *next;     /* next sibling */
};

/* A new element without children or text: ns (nslen bytes, need not be
 * NUL-terminated), name and attrs (NULL-terminated name,value pairs; NULL
 * for none) are copied. *bytes is set to what was allocated. NULL on
 * allocation failure. */
struct xnode *xnode_new(const char *ns, size_t nslen, const char *name, const char *const *attrs,
                        size_t *bytes);
/* Append len bytes of s to n's text, kept NUL-terminated. *cap is the size of
 * the block behind n->text, kept by the caller (0 while n->text is NULL);
 * it grows by doubling, from 32 bytes (1 for an empty append, which gives a
 * node without text ""). 0, or -1 on allocation failure (n unchanged). */
__attribute__((warn_unused_result)) int xnode_append_text(struct xnode *n, size_t *cap,
                                                          const char *s, size_t len);
/* Frees the whole tree: n, its children and its later siblings. NULL is
 * fine. Iterative over siblings; it recurses once per level of depth, which
 * the parser bounds. */
void xnode_free(struct xnode *n);

/* Borrowed results; NULL if absent (or n is NULL). ns NULL matches any
 * namespace. */
const char *xnode_attr(const struct xnode *n, const char *name);
const struct xnode *xnode_child(const struct xnode *n, const char *name, const char *ns);
/* Text of child `name` (any ns), or NULL. */
const char *xnode_child_text(const struct xnode *n, const char *name);

#endif
