/* handshake: the bytes xpushd sends to open an XEP-0114 session, the stream
 * header and the <handshake/> digest. It owns the digest rule (lowercase hex
 * SHA-1 of stream id then secret, XEP-0114 section 3) and nothing else: the
 * secret is never logged or kept here. */
#include "handshake.h"
#include "stream.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

int handshake_digest(const char *stream_id, const char *secret, char out[41])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (!stream_id || !secret)
		return -1;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
	     EVP_DigestUpdate(ctx, stream_id, strlen(stream_id)) &&
	     EVP_DigestUpdate(ctx, secret, strlen(secret)) && EVP_DigestFinal_ex(ctx, md, &mdlen) &&
	     mdlen == 20;
	EVP_MD_CTX_free(ctx);
	if (ok) {
		for (unsigned i = 0; i < 20; i++) {
			out[2 * i] = hex[md[i] >> 4];
			out[2 * i + 1] = hex[md[i] & 0xf];
		}
		out[40] = '\0';
	}
	OPENSSL_cleanse(md, sizeof md);
	return ok ? 0 : -1;
}

int handshake_stream_header(struct xbuf *b, const char *component_jid)
{
	size_t orig = b->len;
	int rc;

	if (!component_jid)
		return -2;
	rc = xbuf_puts(b, "<?xml version='1.0'?><stream:stream"
	                  " xmlns='" COMPONENT_NS "' xmlns:stream='" STREAM_NS "' to='");
	if (!rc)
		rc = xbuf_escape(b, component_jid, strlen(component_jid));
	if (!rc)
		rc = xbuf_puts(b, "'>");
	if (rc)
		xbuf_truncate(b, orig);
	return rc;
}

int handshake_element(struct xbuf *b, const char *stream_id, const char *secret)
{
	char digest[41];
	int rc;

	if (handshake_digest(stream_id, secret, digest) < 0)
		return -1;
	/* The digest is plain hex: nothing to escape. */
	rc = xbuf_printf(b, "<handshake>%s</handshake>", digest);
	/* The digest proves the secret; do not leave it on the stack. */
	OPENSSL_cleanse(digest, sizeof digest);
	return rc;
}
