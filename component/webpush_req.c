/* webpush_req: the Web Push request's forms (webpush_req.h). Pure. */
#include "webpush_req.h"

#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "unifiedpush.h"

enum wp_target wp_parse_path(const char *url, char token[44], int64_t *msg)
{
	const char *p, *slash;
	unsigned long long v;

	*msg = 0;
	token[0] = '\0';
	if (!url || strncmp(url, "/up/", 4) != 0)
		return WP_BAD_PATH;
	p = url + 4;
	slash = strchr(p, '/');
	if ((slash ? (size_t)(slash - p) : strlen(p)) != UP_TOKEN_LEN)
		return WP_BAD_PATH;
	memcpy(token, p, UP_TOKEN_LEN);
	token[UP_TOKEN_LEN] = '\0';
	if (!up_token_ok(token))
		return WP_BAD_PATH;
	if (!slash)
		return WP_ENDPOINT;
	if (slash[1] == '0' || num_parse_uint(slash + 1, 1, INT64_MAX, &v) < 0)
		return WP_BAD_PATH;
	*msg = (int64_t)v;
	return WP_MESSAGE;
}

long wp_parse_ttl(const char *v)
{
	uint64_t n;
	size_t len;

	if (!v)
		return WP_DEFAULT_TTL;
	len = strlen(v);
	if (len == 0 || len > 18 || strspn(v, "0123456789") != len)
		return -1;
	n = strtoull(v, NULL, 10);
	return n > (uint64_t)WP_MAX_TTL ? WP_MAX_TTL : (long)n;
}

const char *wp_parse_urgency(const char *v)
{
	if (!v || strcmp(v, "normal") == 0 || strcmp(v, "low") == 0 || strcmp(v, "very-low") == 0)
		return "normal";
	if (strcmp(v, "high") == 0)
		return "high";
	return NULL;
}

int wp_parse_topic(const char *v)
{
	size_t n;

	if (!v)
		return 0;
	n = strlen(v);
	if (n == 0 || n > WP_MAX_TOPIC)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '_'))
			return -1;
	return 1;
}

int wp_check(const char *method, enum wp_target t, long long len, const char *ttl,
             const char *urgency, const char *topic, const char **reason)
{
	if (t == WP_BAD_PATH) {
		*reason = "no such endpoint";
		return 404;
	}
	if (strcmp(method, "DELETE") == 0) {
		if (t != WP_MESSAGE) {
			*reason = "DELETE takes a message resource (the Location of a push)";
			return 405;
		}
		return 0;
	}
	if (strcmp(method, "POST") != 0) {
		*reason = "POST a message to the endpoint, DELETE a message resource";
		return 405;
	}
	if (t != WP_ENDPOINT) {
		*reason = "POST to the endpoint, not to a message resource";
		return 405;
	}
	if (len > WP_MAX_BODY) {
		*reason = "message body over 4096 bytes";
		return 413;
	}
	if (wp_parse_ttl(ttl) < 0) {
		*reason = "TTL: not a non-negative number of seconds";
		return 400;
	}
	if (!wp_parse_urgency(urgency)) {
		*reason = "Urgency: not one of very-low, low, normal, high";
		return 400;
	}
	if (wp_parse_topic(topic) < 0) {
		*reason = "Topic: not 1 to 32 characters of the base64url alphabet";
		return 400;
	}
	return 0;
}
