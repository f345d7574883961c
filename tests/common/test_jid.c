/* test_jid: the one JID reading of xpushd and libxpush (common/jid.c):
 * the parts, what is refused, the sizes, and the rule the daemon's and the
 * device's former copies disagreed on (text that is not UTF-8 of XML
 * characters is no JID). The device's sender check on top: tests/client/test_xjid.c. */
#include "jid.h"
#include "test.h"

#include <string.h>

struct want {
	const char *jid;
	const char *local, *domain, *resource;  /* NULL: absent */
};

static int part_is(const char *got, size_t len, const char *want)
{
	if (!want)
		return got == NULL && len == 0;
	return got && len == strlen(want) && memcmp(got, want, len) == 0;
}

static void test_split_parts(void)
{
	static const struct want cases[] = {
		{ "alice@example.org/phone 1", "alice", "example.org", "phone 1" },
		{ "example.org", NULL, "example.org", NULL },
		{ "push.example.org/res", NULL, "push.example.org", "res" },
		{ "a@b/c@d", "a", "b", "c@d" },        /* '@' in the resource is fine */
		{ "a@b/c/d", "a", "b", "c/d" },        /* so is '/' */
		{ "\xc3\xbc@\xe6\x97\xa5/\xf0\x9f\x98\x80", "\xc3\xbc", "\xe6\x97\xa5",
		  "\xf0\x9f\x98\x80" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct jid_parts p;

		CHECK_INT(jid_split(cases[i].jid, &p), 0);
		CHECK(part_is(p.local, p.local_len, cases[i].local));
		CHECK(part_is(p.domain, p.domain_len, cases[i].domain));
		CHECK(part_is(p.resource, p.resource_len, cases[i].resource));
	}
}

/* Refused, with the parts zeroed. The first group was refused by both former
 * copies; the second only by the daemon's, and now by both. */
static void test_split_refuses(void)
{
	static const char *const cases[] = {
		"", "@example.org", "alice@", "alice@/r", "/r", "/res", "a@b/", "a@@b", "a@b@c",
		"a b@c", "a@b c", "a@b\n/r", "a@b/r\x01", "a@b/x\ny", "a\t@b", "a@b\x7f",
		/* not UTF-8 of XML 1.0 characters */
		"a@\xff", "\xff@b", "a@b/\xc3", "a@b/\xef\xbf\xbe", "\xed\xa0\x80@b",
		"a@b/\xc0\x80",
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct jid_parts p;
		int rc = jid_split(cases[i], &p);

		if (rc != -1)
			fprintf(stderr, "  case %zu accepted\n", i);
		CHECK_INT(rc, -1);
		CHECK(p.local == NULL && p.domain == NULL && p.resource == NULL);
		CHECK(p.local_len == 0 && p.domain_len == 0 && p.resource_len == 0);
	}
	{
		struct jid_parts p;

		CHECK_INT(jid_split(NULL, &p), -1);
	}
}

/* RFC 7622: each part 1..1023 bytes, whichever part it is. */
static void test_split_lengths(void)
{
	static char jid[4 * JID_PART_MAX];
	struct jid_parts p;
	const size_t lens[] = { JID_PART_MAX, JID_PART_MAX + 1 };

	for (size_t k = 0; k < 2; k++) {
		int want = lens[k] <= JID_PART_MAX ? 0 : -1;
		size_t n = lens[k];

		memset(jid, 'x', n);  /* domainpart */
		jid[n] = '\0';
		CHECK_INT(jid_split(jid, &p), want);
		memset(jid, 'x', n);  /* localpart */
		memcpy(jid + n, "@d", 3);
		CHECK_INT(jid_split(jid, &p), want);
		memcpy(jid, "a@d/", 4);  /* resourcepart */
		memset(jid + 4, 'x', n);
		jid[4 + n] = '\0';
		CHECK_INT(jid_split(jid, &p), want);
	}
	/* Three full parts: the longest JID there is. */
	memset(jid, 'x', 3 * JID_PART_MAX + 2);
	jid[JID_PART_MAX] = '@';
	jid[2 * JID_PART_MAX + 1] = '/';
	jid[3 * JID_PART_MAX + 2] = '\0';
	CHECK_INT(jid_split(jid, &p), 0);
	CHECK_INT(p.local_len + p.domain_len + p.resource_len, 3 * JID_PART_MAX);
	{
		static char bare[JID_BARE_MAX];

		CHECK_INT(jid_bare(jid, bare, sizeof bare), 0);
		CHECK_INT(strlen(bare), JID_BARE_MAX - 1);
	}
}

/* jid_bare and jid_domain agree with each other on every case. */
static void test_jid(void)
{
	static const struct { const char *jid, *bare, *domain; } cases[] = {
		{ "alice@example.org/phone", "alice@example.org", "example.org" },
		{ "alice@example.org", "alice@example.org", "example.org" },
		{ "example.org", "example.org", "example.org" },
		{ "push.example.org/res", "push.example.org", "push.example.org" },
		{ "a@b/c/d", "a@b", "b" },
		{ "a@b/c@d", "a@b", "b" },
		{ "a@b/with space", "a@b", "b" },
		{ "\xc3\xbc@\xe6\x97\xa5.example/\xf0\x9f\x98\x80", "\xc3\xbc@\xe6\x97\xa5.example",
		  "\xe6\x97\xa5.example" },
		/* malformed: NULL expected */
		{ "", NULL, NULL },
		{ "@example.org", NULL, NULL },
		{ "alice@", NULL, NULL },
		{ "alice@/r", NULL, NULL },
		{ "/r", NULL, NULL },
		{ "a@b/", NULL, NULL },
		{ "a@b@c", NULL, NULL },
		{ "a b@c", NULL, NULL },
		{ "a@b\n/r", NULL, NULL },
		{ "a@b/r\x01", NULL, NULL },
		{ "a@\xff", NULL, NULL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];
		int rb = jid_bare(cases[i].jid, out, sizeof out);

		if (cases[i].bare) {
			CHECK_INT(rb, 0);
			CHECK_STR(out, cases[i].bare);
			CHECK_INT(jid_domain(cases[i].jid, out, sizeof out), 0);
			CHECK_STR(out, cases[i].domain);
		} else {
			CHECK_INT(rb, -1);
			CHECK_INT(jid_domain(cases[i].jid, out, sizeof out), -1);
		}
		if ((rb == 0) != (cases[i].bare != NULL))
			fprintf(stderr, "  case \"%s\"\n", cases[i].jid);
	}
}

static void test_jid_sizes(void)
{
	char out[18], big[2100];

	CHECK_INT(jid_bare(NULL, out, sizeof out), -1);
	/* "alice@example.org" is 17 bytes: needs 18 with the NUL. */
	CHECK_INT(jid_bare("alice@example.org/r", out, 18), 0);
	CHECK_INT(jid_bare("alice@example.org/r", out, 17), -1);
	CHECK_INT(jid_domain("alice@example.org/r", out, 12), 0);
	CHECK_INT(jid_domain("alice@example.org/r", out, 11), -1);
	CHECK_INT(jid_bare("a@b", out, 0), -1);
	CHECK_INT(jid_bare("a@b", NULL, 10), -1);
	/* RFC 7622: a part longer than 1023 bytes is no JID. */
	memset(big, 'x', sizeof big);
	big[1024] = '\0';
	CHECK_INT(jid_domain(big, NULL, 0), -1);
	{
		char dom[1100];

		big[1023] = '\0';
		CHECK_INT(jid_domain(big, dom, sizeof dom), 0);
	}
}

/* user_domains: a comma-separated list, spaces and case ignored. */
static void test_domain_listed(void)
{
	CHECK_INT(jid_domain_listed("a@example.org/r", "example.org"), 1);
	CHECK_INT(jid_domain_listed("a@Example.ORG/r", " other.net , example.org "), 1);
	CHECK_INT(jid_domain_listed("a@example.org", "other.net,ample.org"), 0);
	CHECK_INT(jid_domain_listed("a@example.org", "example.org.evil"), 0);
	CHECK_INT(jid_domain_listed("a@example.org", ""), 0);
	CHECK_INT(jid_domain_listed("a@@example.org", "example.org"), 0);
}

/* A few JIDs read part by part. */
static void test_split_examples(void)
{
	struct jid_parts p;

	CHECK_INT(jid_split("alice@example.org/phone 1", &p), 0);
	CHECK_INT(p.local_len, 5);
	CHECK_INT(p.domain_len, 11);
	CHECK(strncmp(p.domain, "example.org", 11) == 0);
	CHECK_INT(p.resource_len, 7);
	CHECK_INT(jid_split("example.org", &p), 0);
	CHECK(p.local == NULL && p.resource == NULL);
	CHECK_INT(jid_split("a@b/c@d", &p), 0); /* '@' in the resource is fine */
	CHECK_INT(p.local_len, 1);
	CHECK_INT(p.resource_len, 3);
	CHECK_INT(jid_split("a@@b", &p), -1);
	CHECK_INT(jid_split("/res", &p), -1);
	CHECK_INT(jid_split("a@b/", &p), -1);
	CHECK_INT(jid_split("a@b/x\ny", &p), -1);
	CHECK_INT(jid_split("", &p), -1);
	CHECK_INT(jid_split(NULL, &p), -1);
}

/* jid_domain into a buffer too small for the domain. */
static void test_domain_small_buffer(void)
{
	char d[16];

	CHECK_INT(jid_domain("alice@example.org/x", d, sizeof d), 0);
	CHECK_STR(d, "example.org");
	CHECK_INT(jid_domain("alice@a-very-long-domain.example.org", d, sizeof d), -1);
	CHECK_INT(jid_domain("@x", d, sizeof d), -1);
}

/* An access list: JIDs and domains, either separator, NULL and empty refused. */
static void test_listed(void)
{
	CHECK_INT(jid_listed("bob@example.org\nother.net", '\n', "BOB@example.org"), 1);
	CHECK_INT(jid_listed("bob@example.org\nother.net", '\n', "c@other.net"), 1);
	CHECK_INT(jid_listed("bob@example.org\nother.net", '\n', "c@sub.other.net"), 0);
	CHECK_INT(jid_listed("bob@example.org , other.net", ',', "alice@example.org"), 0);
	CHECK_INT(jid_listed(" other.net ,x", ',', "c@other.net"), 1);
	CHECK_INT(jid_listed("bob@example.org", ',', "example.org"), 0);
	CHECK_INT(jid_listed("example.org", ',', "example.org"), 1);
	CHECK_INT(jid_listed("", ',', "a@example.org"), 0);
	CHECK_INT(jid_listed(NULL, ',', "a@example.org"), 0);
	CHECK_INT(jid_listed("example.org", ',', ""), 0);
}

TEST_MAIN(T(test_split_parts), T(test_split_refuses), T(test_split_lengths), T(test_jid),
	  T(test_jid_sizes), T(test_split_examples),
	  T(test_domain_small_buffer),
	  T(test_domain_listed), T(test_listed))
