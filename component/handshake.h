/* handshake: the XEP-0114 opening: stream header and <handshake/> digest. */
#ifndef XPUSH_HANDSHAKE_H
#define XPUSH_HANDSHAKE_H

#include "xbuf.h"

/* hex(SHA-1(stream_id || secret)) into out (41 bytes incl. NUL). 0 or -1. */
__attribute__((warn_unused_result)) int handshake_digest(const char *stream_id, const char *secret,
                                                         char out[41]);

/* Append the opening <stream:stream ... to='jid'> (with XML declaration).
 * 0, -1 on allocation failure, -2 if jid is NULL or not valid XML text; the
 * buffer is unchanged on error. */
__attribute__((warn_unused_result)) int handshake_stream_header(struct xbuf *b,
                                                                const char *component_jid);

/* Append <handshake>digest</handshake>. 0 or -1. */
__attribute__((warn_unused_result)) int handshake_element(struct xbuf *b, const char *stream_id,
                                                          const char *secret);

#endif
