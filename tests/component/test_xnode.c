/* test_xnode: the stanza tree on its own, built by hand: copies, text
 * growth, accessors and freeing (the parser's trees: test_stream). */
#include "xnode.h"
#include "test.h"

#include <stdlib.h>

static void test_new_copies(void)
{
	char ns[] = "urn:xpush:0 trailing", name[] = "register";
	const char *attrs[] = { "app", "a", "device", "d", NULL };
	struct xnode *n;
	size_t bytes = 0;

	n = xnode_new(ns, 11, name, attrs, &bytes);
	CHECK(n != NULL);
	ns[0] = 'X';
	name[0] = 'X';
	CHECK_STR(n->ns, "urn:xpush:0");
	CHECK_STR(n->name, "register");
	CHECK_STR(xnode_attr(n, "app"), "a");
	CHECK_STR(xnode_attr(n, "device"), "d");
	CHECK(xnode_attr(n, "a") == NULL);  /* values are not names */
	CHECK(n->text == NULL && n->text_len == 0);
	CHECK(n->children == NULL && n->next == NULL);
	CHECK(bytes >= sizeof *n + sizeof "urn:xpush:0" + sizeof "register" + 4 * 2);
	xnode_free(n);

	n = xnode_new("", 0, "x", NULL, &bytes);
	CHECK(n != NULL);
	CHECK_STR(n->ns, "");
	CHECK(n->attrs != NULL && n->attrs[0] == NULL);
	CHECK(xnode_attr(n, "x") == NULL);
	xnode_free(n);
}

static void test_append_text(void)
{
	struct xnode *n;
	size_t bytes, cap = 0;
	char big[100];

	n = xnode_new("", 0, "t", NULL, &bytes);
	CHECK_INT(xnode_append_text(n, &cap, "", 0), 0);  /* "" for an empty element */
	CHECK_STR(n->text, "");
	CHECK_INT(cap, 1);
	xnode_free(n);

	n = xnode_new("", 0, "t", NULL, &bytes);
	cap = 0;
	CHECK_INT(xnode_append_text(n, &cap, "ab", 2), 0);
	CHECK_INT(cap, 32);
	CHECK_INT(xnode_append_text(n, &cap, "c\0d", 3), 0);  /* byte-exact, NUL too */
	CHECK_INT(n->text_len, 5);
	CHECK(memcmp(n->text, "abc\0d", 6) == 0);
	memset(big, 'x', sizeof big);
	CHECK_INT(xnode_append_text(n, &cap, big, sizeof big), 0);
	CHECK_INT(n->text_len, 105);
	CHECK_INT(cap, 128);
	CHECK_INT(n->text[105], '\0');
	xnode_free(n);
}

/* <a><b>1</b><c xmlns='u'>2</c><b>3</b></a>, linked by hand. */
static void test_children(void)
{
	struct xnode *a, *b1, *c, *b3;
	size_t bytes, cap;

	a = xnode_new("", 0, "a", NULL, &bytes);
	b1 = xnode_new("", 0, "b", NULL, &bytes);
	c = xnode_new("u", 1, "c", NULL, &bytes);
	b3 = xnode_new("", 0, "b", NULL, &bytes);
	cap = 0;
	CHECK_INT(xnode_append_text(b1, &cap, "1", 1), 0);
	cap = 0;
	CHECK_INT(xnode_append_text(c, &cap, "2", 1), 0);
	cap = 0;
	CHECK_INT(xnode_append_text(b3, &cap, "3", 1), 0);
	a->children = b1;
	b1->next = c;
	c->next = b3;
	CHECK(xnode_child(a, "b", NULL) == b1);  /* the first of its name */
	CHECK(xnode_child(a, "c", "u") == c);
	CHECK(xnode_child(a, "c", "") == NULL);
	CHECK(xnode_child(a, "d", NULL) == NULL);
	CHECK_STR(xnode_child_text(a, "b"), "1");
	CHECK_STR(xnode_child_text(a, "c"), "2");
	CHECK(xnode_child_text(a, "a") == NULL);  /* children only, not itself */
	CHECK(xnode_child(NULL, "b", NULL) == NULL);
	CHECK(xnode_child_text(NULL, "b") == NULL);
	CHECK(xnode_attr(NULL, "b") == NULL);
	xnode_free(a);  /* and every child: leak checkers see the rest */
	xnode_free(NULL);
}

TEST_MAIN(T(test_new_copies), T(test_append_text), T(test_children))
