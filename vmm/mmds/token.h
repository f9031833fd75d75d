/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MMDS version 2's session tokens: the guest asks for one (PUT
 * /latest/api/token with X-metadata-token-ttl-seconds) and shows it with
 * every GET (X-metadata-token).  A token is 32 random bytes (getrandom)
 * in hex, kept in a bounded table with its expiry; a new token in a full
 * table takes the place of an expired one, else of the one that expires
 * first.  The table lives in the process, not in guest memory or a
 * snapshot: a restored clone starts with none.
 * Not locked: the MMDS thread alone uses it (mmds_tokens__clear() runs
 * with that thread stopped or paused).
 */
#ifndef THAW_VMM_MMDS_TOKEN_H
#define THAW_VMM_MMDS_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#define MMDS_TOKEN_TTL_MIN	1
#define MMDS_TOKEN_TTL_MAX	21600	/* 6 hours, as Firecracker and EC2 */
#define MMDS_TOKEN_LEN		64	/* hex characters */
#define MMDS_TOKENS_MAX		256

struct mmds_token {
	char text[MMDS_TOKEN_LEN + 1];
	uint64_t expires_ns;		/* 0: free */
};

struct mmds_tokens {
	struct mmds_token t[MMDS_TOKENS_MAX];
};

/*
 * A new token valid for @ttl_s seconds from @now_ns (monotonic) into
 * @out (MMDS_TOKEN_LEN + 1 bytes): 0, -EINVAL (@ttl_s out of range) or
 * -errno from getrandom().
 */
int mmds_tokens__new(struct mmds_tokens *t, uint32_t ttl_s, uint64_t now_ns,
		     char *out);
/* Is @text a token of the table that has not expired at @now_ns? */
bool mmds_tokens__valid(struct mmds_tokens *t, const char *text,
			uint64_t now_ns);
void mmds_tokens__clear(struct mmds_tokens *t);

#endif
