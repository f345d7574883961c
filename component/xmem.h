/* xmem: an expat memory suite that counts the bytes each parser holds, for
 * the memory bounds of stream.h and the tests that prove them. Pure
 * bookkeeping around malloc: no I/O, no parsing. */
#ifndef XPUSH_XMEM_H
#define XPUSH_XMEM_H

#include <expat.h>
#include <stddef.h>

struct xmem_count {
	size_t now;  /* bytes expat holds */
	size_t peak; /* the most it has held */
};

/* Give this to XML_ParserCreate_MM. */
extern const XML_Memory_Handling_Suite xmem_suite;

/* Expat's suite has no user pointer, so the counter to charge is set around
 * every call into expat: allocations on this thread go to c (NULL: to no
 * counter) until the next call, which gets back the counter set before.
 * Every block remembers the counter it was charged to, so freeing it credits
 * that one, whichever is set. A counter must outlive its parser's blocks. */
struct xmem_count *xmem_charge(struct xmem_count *c);

#endif
