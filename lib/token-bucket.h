/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A token bucket with Firecracker's TokenBucket fields: it holds up to
 * @size tokens, refills at @size tokens per @refill_time_ms, and spends a
 * @one_time_burst first.  What a guest makes the host do (serial bytes,
 * log lines) takes tokens from one; with none left it is dropped.  The
 * caller gives the time, so that the arithmetic can be tested alone; it
 * also does the locking.
 */
#ifndef THAW_LIB_TOKEN_BUCKET_H
#define THAW_LIB_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct token_bucket {
	uint64_t size;
	uint64_t refill_time_ms;
	uint64_t burst;			/* left of the one-time burst */
	uint64_t budget;		/* tokens in the bucket */
	uint64_t last_ns;		/* refilled up to here */
};

/*
 * A full bucket at @now_ns.  A @size or @refill_time_ms of 0 is no limit
 * (as in Firecracker): every take succeeds.
 */
void token_bucket__init(struct token_bucket *tb, uint64_t size,
			uint64_t one_time_burst, uint64_t refill_time_ms,
			uint64_t now_ns);
/* Take @n tokens at @now_ns: true, or false and nothing taken. */
bool token_bucket__take(struct token_bucket *tb, uint64_t n,
			uint64_t now_ns);
/* CLOCK_MONOTONIC in nanoseconds, the time the callers give. */
uint64_t token_bucket__now_ns(void);

#endif
