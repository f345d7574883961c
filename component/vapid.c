/* vapid: the VAPID header and its ES256 JWT (vapid.h). */
#include "vapid.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"

/* The DER of a P-256 SubjectPublicKeyInfo up to its 65-byte point. */
static const unsigned char spki_p256[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
	                                   0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
	                                   0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00 };

static EVP_PKEY *key_from(const char *k)
{
	unsigned char der[sizeof spki_p256 + 65], pt[66];
	const unsigned char *p = der;

	if (!k || b64_decode(B64_URL, 0, k, strlen(k), pt, sizeof pt) != 65 || pt[0] != 0x04)
		return NULL;
	memcpy(der, spki_p256, sizeof spki_p256);
	memcpy(der + sizeof spki_p256, pt, 65);
	return d2i_PUBKEY(NULL, &p, (long)sizeof der);
}

int vapid_key_ok(const char *s)
{
	EVP_PKEY *k = s && strlen(s) <= VAPID_KEY_B64_MAX ? key_from(s) : NULL;

	EVP_PKEY_free(k);
	return k != NULL;
}

int vapid_origin(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (!p || !(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0))
		return -1;
	p += 3;
	n = (size_t)(p - url) + strcspn(p, "/?#");
	if (n + 1 > len || n == (size_t)(p - url))
		return -1;
	memcpy(out, url, n);
	out[n] = '\0';
	return 0;
}

/* The value of parameter name= in "vapid t=..., k=..." (up to ',' or end,
 * spaces trimmed) into out; -1 if absent or too long. */
static int param(const char *h, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (const char *p = h; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ",");
		if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t v = n - nl - 1;
			while (v && p[nl + 1 + v - 1] == ' ')
				v--;
			if (v == 0 || v >= len)
				return -1;
			memcpy(out, p + nl + 1, v);
			out[v] = '\0';
			return 0;
		}
		p += n;
	}
	return -1;
}

/* The string or number value of "key" in a flat JSON object (no escapes
 * allowed in the value): its start and length; -1 if absent. */
static int json_field(const char *js, const char *key, const char **v, size_t *vl, int *str)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\"", key);
	p = strstr(js, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ')
		p++;
	if (*p == '"') {
		*str = 1;
		*v = ++p;
		*vl = strcspn(p, "\"\\");
		return p[*vl] == '"' ? 0 : -1;
	}
	*str = 0;
	*v = p;
	*vl = strspn(p, "0123456789");
	return *vl ? 0 : -1;
}

static int verify(const char *k, const char *input, size_t inlen, const unsigned char sig[64])
{
	EVP_PKEY *key = key_from(k);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *der = NULL;
	int derlen, ok = 0;

	if (key && md && es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL; /* owned by es now */
		derlen = i2d_ECDSA_SIG(es, &der);
		ok = derlen > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		     EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)input,
		                      inlen) == 1;
	}
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return ok;
}

int vapid_check(const char *hdr, const char *origin, int64_t now, char k[VAPID_KEY_B64_MAX + 1],
                const char **reason)
{
	char t[2048], js[1024];
	const char *d1, *d2, *v;
	size_t vl;
	int str;
	long n;
	unsigned char sig[65];
	int64_t exp = 0;

	*reason = "Authorization: not vapid t=<JWT>, k=<key>";
	if (!hdr || strncasecmp(hdr, "vapid ", 6) != 0 || param(hdr + 6, "t", t, sizeof t) < 0 ||
	    param(hdr + 6, "k", k, VAPID_KEY_B64_MAX + 1) < 0)
		return -1;
	*reason = "Authorization: k is not a P-256 public key (base64url, 65 bytes uncompressed)";
	if (!vapid_key_ok(k))
		return -1;
	*reason = "Authorization: t is not a JWT";
	d1 = strchr(t, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '.'))
		return -1;
	n = b64_decode(B64_URL, 0, t, (size_t)(d1 - t), (unsigned char *)js, sizeof js - 1);
	if (n < 0)
		return -1;
	js[n] = '\0';
	*reason = "Authorization: the JWT's alg is not ES256";
	if (json_field(js, "alg", &v, &vl, &str) < 0 || !str || vl != 5 ||
	    strncmp(v, "ES256", 5) != 0)
		return -1;
	*reason = "Authorization: the JWT's signature is not ES256 by k";
	if (b64_decode(B64_URL, 0, d2 + 1, strlen(d2 + 1), sig, sizeof sig) != 64 ||
	    !verify(k, t, (size_t)(d2 - t), sig))
		return -1;
	*reason = "Authorization: the JWT's claims are not JSON";
	n = b64_decode(B64_URL, 0, d1 + 1, (size_t)(d2 - d1 - 1), (unsigned char *)js,
	               sizeof js - 1);
	if (n < 0)
		return -1;
	js[n] = '\0';
	*reason = "Authorization: the JWT's aud is not this endpoint's origin";
	if (json_field(js, "aud", &v, &vl, &str) < 0 || !str || vl != strlen(origin) ||
	    strncmp(v, origin, vl) != 0)
		return -1;
	*reason = "Authorization: the JWT's exp is not within the next 24 hours";
	if (json_field(js, "exp", &v, &vl, &str) < 0 || str || vl > 12)
		return -1;
	for (size_t i = 0; i < vl; i++)
		exp = exp * 10 + (v[i] - '0');
	if (exp <= now || exp > now + VAPID_MAX_EXP_S)
		return -1;
	*reason = NULL;
	return 0;
}
