// SPDX-License-Identifier: GPL-2.0
/*
 * lib/token-bucket (Firecracker's TokenBucket: the serial console's
 * rate_limiter) with a clock the test drives, and lib/log's rate limit
 * of the lines a guest can trigger.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/log.h"
#include "lib/token-bucket.h"

#define MS	1000000ull

/* Takes of one token that succeed in a row at @now. */
static int drain(struct token_bucket *tb, uint64_t now)
{
	int n = 0;

	while (n < 1000000 && token_bucket__take(tb, 1, now))
		n++;
	return n;
}

static void no_limit(void **state)
{
	struct token_bucket tb;

	token_bucket__init(&tb, 0, 0, 1000, 0);
	assert_int_equal(1000000, drain(&tb, 0));
	token_bucket__init(&tb, 10, 0, 0, 0);
	assert_true(token_bucket__take(&tb, 1ull << 40, 0));
}

static void size_then_refill(void **state)
{
	struct token_bucket tb;

	token_bucket__init(&tb, 100, 0, 1000, 5 * MS);
	assert_int_equal(100, drain(&tb, 5 * MS));
	/* Half the refill time: half the bucket. */
	assert_int_equal(50, drain(&tb, 505 * MS));
	/* Long idle: full, never more. */
	assert_int_equal(100, drain(&tb, 100000 * MS));
}

/* Calls closer together than one token's time still add up. */
static void small_steps_add_up(void **state)
{
	struct token_bucket tb;
	uint64_t t;
	int got = 0;

	token_bucket__init(&tb, 10, 0, 1000, 0);
	assert_int_equal(10, drain(&tb, 0));
	for (t = 1; t <= 1000; t++)
		got += drain(&tb, t * MS);
	assert_int_equal(10, got);
}

static void burst_first(void **state)
{
	struct token_bucket tb;

	token_bucket__init(&tb, 5, 3, 1000, 0);
	assert_int_equal(8, drain(&tb, 0));
	/* The burst does not come back. */
	assert_int_equal(5, drain(&tb, 2000 * MS));
}

static void take_many(void **state)
{
	struct token_bucket tb;

	token_bucket__init(&tb, 10, 0, 1000, 0);
	assert_false(token_bucket__take(&tb, 11, 0));
	/* A refused take takes nothing. */
	assert_true(token_bucket__take(&tb, 10, 0));
	assert_false(token_bucket__take(&tb, 1, 0));
	/* A clock that goes back adds nothing. */
	token_bucket__init(&tb, 10, 0, 1000, 500 * MS);
	assert_int_equal(10, drain(&tb, 500 * MS));
	assert_int_equal(0, drain(&tb, 100 * MS));
}

/* One log site a guest can trigger. */
static void guest_did_it(int i)
{
	pr_guest_warn("guest did it %d", i);
}

/* A site hit 100 times at once logs LOG_RATELIMIT_BURST lines. */
static void log_site_bounded(void **state)
{
	char path[] = "/tmp/thaw-ratelimit-XXXXXX", line[512];
	struct log_config lc = { .level = (char *)"Warning" };
	char err[256];
	int fd, lines = 0, said = 0;
	uint64_t missed = log__missed();
	FILE *f;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	lc.log_path = path;
	assert_int_equal(0, log__configure(&lc, err, sizeof(err)));
	for (int i = 0; i < 100; i++)
		guest_did_it(i);
	/* Below the level: not logged, and not counted either. */
	for (int i = 0; i < 100; i++)
		pr_guest_debug("quiet %d", i);
	assert_int_equal(100 - LOG_RATELIMIT_BURST, log__missed() - missed);
	/* The next line allowed says how many were left out. */
	sleep(LOG_RATELIMIT_MS / 1000 / LOG_RATELIMIT_BURST + 1);
	guest_did_it(100);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		lines += !!strstr(line, "guest did it");
		said += !!strstr(line, "90 lines of the next kind suppressed");
	}
	fclose(f);
	unlink(path);
	assert_int_equal(LOG_RATELIMIT_BURST + 1, lines);
	assert_int_equal(1, said);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_limit),
		cmocka_unit_test(size_then_refill),
		cmocka_unit_test(small_steps_add_up),
		cmocka_unit_test(burst_first),
		cmocka_unit_test(take_many),
		cmocka_unit_test(log_site_bounded),
	};

	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
