/* xnode: the stanza tree's memory and its accessors. What xnode_new and
 * xnode_append_text allocate, xnode_free frees; nothing else allocates or
 * frees a node or its strings. It must not parse: building a tree from bytes
 * is the stream parser's job. */
#include "xnode.h"

#include <stdlib.h>
#include <string.h>

struct xnode *xnode_new(const char *ns, size_t nslen, const char *name, const char *const *attrs,
                        size_t *bytes)
{
	struct xnode *n = calloc(1, sizeof *n);
	size_t count = 0;

	if (!n)
		return NULL;
	n->ns = strndup(ns, nslen);
	n->name = strdup(name);
	if (!n->ns || !n->name)
		goto fail;
	while (attrs && attrs[count])
		count++;
	n->attrs = calloc(count + 1, sizeof *n->attrs);
	if (!n->attrs)
		goto fail;
	*bytes = sizeof *n + nslen + 1 + strlen(name) + 1 + (count + 1) * sizeof *n->attrs;
	for (size_t i = 0; i < count; i++) {
		n->attrs[i] = strdup(attrs[i]);
		if (!n->attrs[i])
			goto fail;
		*bytes += strlen(attrs[i]) + 1;
	}
	return n;
fail:
	xnode_free(n);
	return NULL;
}

int xnode_append_text(struct xnode *n, size_t *cap, const char *s, size_t len)
{
	size_t need = n->text_len + len + 1;

	if (need > *cap) {
		size_t c = *cap ? *cap : len ? 32 : 1;
		char *t;

		while (c < need)
			c *= 2;
		t = realloc(n->text, c);
		if (!t)
			return -1;
		n->text = t;
		*cap = c;
	}
	memcpy(n->text + n->text_len, s, len);
	n->text_len += len;
	n->text[n->text_len] = '\0';
	return 0;
}

void xnode_free(struct xnode *n)
{
	while (n) {
		struct xnode *next = n->next;

		xnode_free(n->children);
		if (n->attrs)
			for (char **a = n->attrs; *a; a++)
				free(*a);
		free(n->attrs);
		free(n->name);
		free(n->ns);
		free(n->text);
		free(n);
		n = next;
	}
}

const char *xnode_attr(const struct xnode *n, const char *name)
{
	if (!n || !n->attrs)
		return NULL;
	for (char **a = n->attrs; a[0]; a += 2)
		if (strcmp(a[0], name) == 0)
			return a[1];
	return NULL;
}

const struct xnode *xnode_child(const struct xnode *n, const char *name, const char *ns)
{
	if (!n)
		return NULL;
	for (const struct xnode *c = n->children; c; c = c->next)
		if (strcmp(c->name, name) == 0 && (!ns || strcmp(c->ns, ns) == 0))
			return c;
	return NULL;
}

const char *xnode_child_text(const struct xnode *n, const char *name)
{
	const struct xnode *c = xnode_child(n, name, NULL);

	return c ? c->text : NULL;
}
