// SPDX-License-Identifier: GPL-2.0
#include <time.h>

#include "lib/token-bucket.h"

#define NS_PER_MS	1000000u

void token_bucket__init(struct token_bucket *tb, uint64_t size,
			uint64_t one_time_burst, uint64_t refill_time_ms,
			uint64_t now_ns)
{
	tb->size = size;
	tb->refill_time_ms = refill_time_ms;
	tb->burst = one_time_burst;
	tb->budget = size;
	tb->last_ns = now_ns;
}

/*
 * Add what the time since @last_ns earned.  @last_ns moves on only by the
 * time the tokens added stand for, so that calls closer together than one
 * token's time still add up.
 */
static void refill(struct token_bucket *tb, uint64_t now_ns)
{
	unsigned __int128 period = (unsigned __int128)tb->refill_time_ms *
				   NS_PER_MS;
	unsigned __int128 tokens;
	uint64_t elapsed;

	if (now_ns <= tb->last_ns)
		return;
	elapsed = now_ns - tb->last_ns;
	if (elapsed >= period) {
		tb->budget = tb->size;
		tb->last_ns = now_ns;
		return;
	}
	tokens = (unsigned __int128)elapsed * tb->size / period;
	if (!tokens)
		return;
	tb->last_ns += (uint64_t)(tokens * period / tb->size);
	if (tokens >= tb->size - tb->budget)
		tb->budget = tb->size;
	else
		tb->budget += (uint64_t)tokens;
}

bool token_bucket__take(struct token_bucket *tb, uint64_t n, uint64_t now_ns)
{
	uint64_t from_burst;

	if (!tb->size || !tb->refill_time_ms)
		return true;
	refill(tb, now_ns);
	from_burst = n < tb->burst ? n : tb->burst;
	if (n - from_burst > tb->budget)
		return false;
	tb->burst -= from_burst;
	tb->budget -= n - from_burst;
	return true;
}

uint64_t token_bucket__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
