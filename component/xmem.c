/* xmem: expat's allocations, counted per parser. Each block carries a small
 * header naming the counter it was charged to and its size, so that realloc
 * and free adjust the right counter by the right amount. It must not fail
 * differently from malloc: a failed allocation changes no counter. */
#include "xmem.h"

#include <stdlib.h>

struct mm_hdr {
	struct xmem_count *owner;
	size_t size;
};
#define MM_ALIGN _Alignof(max_align_t)
#define MM_HDR ((sizeof(struct mm_hdr) + MM_ALIGN - 1) / MM_ALIGN * MM_ALIGN)

static __thread struct xmem_count *mm_owner;

struct xmem_count *xmem_charge(struct xmem_count *c)
{
	struct xmem_count *prev = mm_owner;

	mm_owner = c;
	return prev;
}

static void mm_account(struct xmem_count *c, size_t add, size_t sub)
{
	if (!c)
		return;
	c->now = c->now + add - sub;
	if (c->now > c->peak)
		c->peak = c->now;
}

static void *mm_malloc(size_t size)
{
	struct mm_hdr *h = malloc(MM_HDR + size);

	if (!h)
		return NULL;
	h->owner = mm_owner;
	h->size = size;
	mm_account(h->owner, size, 0);
	return (char *)h + MM_HDR;
}

static void mm_free(void *ptr)
{
	struct mm_hdr *h;

	if (!ptr)
		return;
	h = (struct mm_hdr *)(void *)((char *)ptr - MM_HDR);
	mm_account(h->owner, 0, h->size);
	free(h);
}

static void *mm_realloc(void *ptr, size_t size)
{
	struct mm_hdr *h, *n;
	size_t old;

	if (!ptr)
		return mm_malloc(size);
	h = (struct mm_hdr *)(void *)((char *)ptr - MM_HDR);
	old = h->size;
	n = realloc(h, MM_HDR + size);
	if (!n)
		return NULL;
	n->size = size;
	mm_account(n->owner, size, old);
	return (char *)n + MM_HDR;
}

const XML_Memory_Handling_Suite xmem_suite = { mm_malloc, mm_realloc, mm_free };
