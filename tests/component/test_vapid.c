/* Unit tests for component/vapid: RFC 8292 tokens made here with OpenSSL (a
 * fresh P-256 key each run) and judged by vapid_check: a valid one, and one
 * wrong in each way (another key, aud, exp, alg, form). No sockets. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "vapid.h"

#define ORIGIN "https://push.example.org"
#define NOW 1800000000LL

static void b64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
		             (i + 2 < n ? in[i + 2] : 0);
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = a[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
}

static EVP_PKEY *newkey(char k[VAPID_KEY_B64_MAX + 1])
{
	EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char pt[65];
	size_t n = 0;

	CHECK(p != NULL);
	CHECK(EVP_PKEY_get_octet_string_param(p, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &n) == 1);
	CHECK_INT(n, 65);
	b64url(pt, 65, k);
	return p;
}

/* "vapid t=<header.claims.sig>, k=<k>" signed by key, claims as given. */
static void token(EVP_PKEY *key, const char *alg, const char *claims, const char *k, char *out,
                  size_t len)
{
	char hdr[64], h64[128], c64[512], input[1024], s64[128];
	unsigned char der[128], raw[64];
	const unsigned char *dp = der;
	size_t dl = sizeof der;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *sig;

	snprintf(hdr, sizeof hdr, "{\"typ\":\"JWT\",\"alg\":\"%s\"}", alg);
	b64url((const unsigned char *)hdr, strlen(hdr), h64);
	b64url((const unsigned char *)claims, strlen(claims), c64);
	snprintf(input, sizeof input, "%s.%s", h64, c64);
	CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1);
	CHECK(EVP_DigestSign(md, der, &dl, (const unsigned char *)input, strlen(input)) == 1);
	sig = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
	CHECK(sig != NULL);
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
	b64url(raw, 64, s64);
	snprintf(out, len, "vapid t=%s.%s, k=%s", input, s64, k);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
}

static const char *judge(const char *hdr, char k[VAPID_KEY_B64_MAX + 1])
{
	const char *why = "?";

	return vapid_check(hdr, ORIGIN, NOW, k, &why) == 0 ? "ok" : why;
}

static void tokens(void)
{
	char k1[VAPID_KEY_B64_MAX + 1], k2[VAPID_KEY_B64_MAX + 1], got[VAPID_KEY_B64_MAX + 1];
	char h[2048], claims[256];
	EVP_PKEY *p1 = newkey(k1), *p2 = newkey(k2);

	snprintf(claims, sizeof claims,
	         "{\"aud\":\"" ORIGIN "\",\"exp\":%lld,\"sub\":\"mailto:ops@example.org\"}",
	         NOW + 43200);
	token(p1, "ES256", claims, k1, h, sizeof h);
	CHECK_STR(judge(h, got), "ok");
	CHECK_STR(got, k1);
	CHECK_INT(strlen(k1), 87);
	CHECK_INT(vapid_key_ok(k1), 1);
	/* signed by another key than k names */
	token(p2, "ES256", claims, k1, h, sizeof h);
	CHECK_STR(judge(h, got), "Authorization: the JWT's signature is not ES256 by k");
	/* another origin */
	snprintf(claims, sizeof claims, "{\"aud\":\"https://evil.example\",\"exp\":%lld}",
	         NOW + 600);
	token(p1, "ES256", claims, k1, h, sizeof h);
	CHECK_STR(judge(h, got), "Authorization: the JWT's aud is not this endpoint's origin");
	/* expired; more than 24 hours ahead; no exp */
	snprintf(claims, sizeof claims, "{\"aud\":\"" ORIGIN "\",\"exp\":%lld}", NOW - 1);
	token(p1, "ES256", claims, k1, h, sizeof h);
	CHECK_STR(judge(h, got), "Authorization: the JWT's exp is not within the next 24 hours");
	snprintf(claims, sizeof claims, "{\"aud\":\"" ORIGIN "\",\"exp\":%lld}", NOW + 2 * 86400);
	token(p1, "ES256", claims, k1, h, sizeof h);
	CHECK_STR(judge(h, got), "Authorization: the JWT's exp is not within the next 24 hours");
	token(p1, "ES256", "{\"aud\":\"" ORIGIN "\"}", k1, h, sizeof h);
	CHECK_STR(judge(h, got), "Authorization: the JWT's exp is not within the next 24 hours");
	/* alg none (or anything but ES256) */
	snprintf(claims, sizeof claims, "{\"aud\":\"" ORIGIN "\",\"exp\":%lld}", NOW + 600);
	token(p1, "none", claims, k1, h, sizeof h);
	CHECK_STR(judge(h, got), "Authorization: the JWT's alg is not ES256");
	/* forms */
	CHECK_STR(judge("Bearer abc", got), "Authorization: not vapid t=<JWT>, k=<key>");
	CHECK_STR(judge("vapid t=a.b.c", got), "Authorization: not vapid t=<JWT>, k=<key>");
	CHECK_STR(judge("vapid t=a.b.c, k=abc", got),
	          "Authorization: k is not a P-256 public key (base64url, 65 bytes uncompressed)");
	snprintf(h, sizeof h, "vapid t=abc, k=%s", k1);
	CHECK_STR(judge(h, got), "Authorization: t is not a JWT");
	snprintf(h, sizeof h, "vapid t=a.b.c.d, k=%s", k1);
	CHECK_STR(judge(h, got), "Authorization: t is not a JWT");
	CHECK_STR(judge(NULL, got), "Authorization: not vapid t=<JWT>, k=<key>");
	EVP_PKEY_free(p1);
	EVP_PKEY_free(p2);
}

static void origins(void)
{
	char o[128];

	CHECK_INT(vapid_origin("https://push.example.org/up/x", o, sizeof o), 0);
	CHECK_STR(o, "https://push.example.org");
	CHECK_INT(vapid_origin("http://127.0.0.1:8081", o, sizeof o), 0);
	CHECK_STR(o, "http://127.0.0.1:8081");
	CHECK_INT(vapid_origin("ftp://x", o, sizeof o), -1);
	CHECK_INT(vapid_origin("https://", o, sizeof o), -1);
	CHECK_INT(vapid_key_ok("abc"), 0);
	CHECK_INT(vapid_key_ok(NULL), 0);
}

TEST_MAIN(T(tokens), T(origins))
