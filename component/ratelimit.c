/* ratelimit: open-addressing hash of token buckets. When the table passes
 * 3/4 load it is rebuilt without the buckets that have refilled (idle keys);
 * a rebuild costs O(capacity) and happens at most once per capacity/4 new
 * keys. */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

struct bucket {
	char *key; /* NULL = empty slot */
	uint64_t hash;
	double tokens;
	uint64_t last_ms;
};

struct ratelimit {
	struct bucket *slots;
	size_t cap, used;
	double rate_per_ms, burst;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

struct ratelimit *ratelimit_new(size_t capacity, double rate_per_s, double burst)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);

	if (!rl)
		return NULL;
	rl->cap = capacity < 16 ? 16 : capacity;
	rl->slots = calloc(rl->cap, sizeof *rl->slots);
	if (!rl->slots) {
		free(rl);
		return NULL;
	}
	rl->rate_per_ms = rate_per_s / 1000.0;
	rl->burst = burst < 1 ? 1 : burst;
	return rl;
}

void ratelimit_set_rate(struct ratelimit *rl, double rate_per_s, double burst)
{
	rl->rate_per_ms = rate_per_s / 1000.0;
	rl->burst = burst < 1 ? 1 : burst;
	/* Banked tokens above the new burst go at each bucket's next refill. */
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < rl->cap; i++)
		free(rl->slots[i].key);
	free(rl->slots);
	free(rl);
}

size_t ratelimit_tracked(const struct ratelimit *rl)
{
	return rl->used;
}

static void refill(const struct ratelimit *rl, struct bucket *b, uint64_t now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rl->rate_per_ms;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
}

static struct bucket *slot_for(struct bucket *slots, size_t cap, uint64_t h, const char *key)
{
	for (size_t i = h % cap;; i = (i + 1) % cap) {
		struct bucket *b = &slots[i];
		if (!b->key || (b->hash == h && strcmp(b->key, key) == 0))
			return b;
	}
}

/* Drop buckets that are full again (their key has been quiet long enough). */
static void compact(struct ratelimit *rl, uint64_t now_ms)
{
	struct bucket *old = rl->slots, *fresh = calloc(rl->cap, sizeof *fresh);

	if (!fresh)
		return;
	rl->used = 0;
	for (size_t i = 0; i < rl->cap; i++) {
		struct bucket *b = &old[i];
		if (!b->key)
			continue;
		refill(rl, b, now_ms);
		if (b->tokens >= rl->burst) {
			free(b->key);
			continue;
		}
		*slot_for(fresh, rl->cap, b->hash, b->key) = *b;
		rl->used++;
	}
	free(old);
	rl->slots = fresh;
}

int ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ms)
{
	uint64_t h = hash_str(key);
	struct bucket *b = slot_for(rl->slots, rl->cap, h, key);

	if (!b->key) {
		if (rl->used + 1 > rl->cap * 3 / 4) {
			compact(rl, now_ms);
			b = slot_for(rl->slots, rl->cap, h, key);
			if (rl->used + 1 > rl->cap * 3 / 4)
				return 1; /* full of active keys: fail open */
		}
		b->key = strdup(key);
		if (!b->key)
			return 1;
		b->hash = h;
		b->tokens = rl->burst;
		b->last_ms = now_ms;
		rl->used++;
	}
	refill(rl, b, now_ms);
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

int ratelimit_check(struct ratelimit *rl, const char *key, uint64_t now_ms)
{
	uint64_t h = hash_str(key);
	struct bucket *b = slot_for(rl->slots, rl->cap, h, key);

	if (!b->key)
		return 1;
	refill(rl, b, now_ms);
	return b->tokens >= 1.0;
}
