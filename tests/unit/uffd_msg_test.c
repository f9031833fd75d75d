// SPDX-License-Identifier: GPL-2.0
/*
 * The Uffd handshake message (Firecracker's JSON region list): what the
 * VMM sends parses back; every malformed or hostile message is refused
 * with a message and never crashes (random mutations included).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/uffd.h"

#define MB	(1ull << 20)
#define FILE_SIZE	(256 * MB)

static int parse(const char *text, struct uffd_region **r, unsigned int *n,
		 char *err)
{
	err[0] = 0;
	return uffd__parse_regions(text, strlen(text), FILE_SIZE, r, n, err,
				   256);
}

static void round_trip(void **state)
{
	const struct uffd_region in[3] = {
		{ 0x7f0000000000ull, 128 * MB, 0, 4096 },
		{ 0x7f0010000000ull, 64 * MB, 128 * MB, 4096 },
		{ 0x7f0020000000ull, 4096, 192 * MB, 4096 },
	};
	struct uffd_region *out;
	unsigned int n;
	char err[256];
	char *json = uffd__regions_to_json(in, 3);

	assert_non_null(json);
	/* Firecracker's field names, the deprecated one included. */
	assert_non_null(strstr(json, "\"base_host_virt_addr\":139637976727552"));
	assert_non_null(strstr(json, "\"page_size\":4096"));
	assert_non_null(strstr(json, "\"page_size_kib\":4096"));
	assert_non_null(strstr(json, "\"offset\":134217728"));
	assert_int_equal(0, parse(json, &out, &n, err));
	assert_int_equal(3, n);
	assert_memory_equal(in, out, sizeof(in));
	free(out);
	free(json);
}

static void accepted_variants(void **state)
{
	static const char *const ok[] = {
		/* Only the deprecated name (older Firecracker). */
		"[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0,\"page_size_kib\":4096}]",
		/* Unknown fields, whitespace, other key order. */
		"  [ {\"future\":[1,2],\"page_size\":4096,\"offset\":4096,\"size\":4096,\"base_host_virt_addr\":8192} ]\n",
		/* Huge pages. */
		"[{\"base_host_virt_addr\":2097152,\"size\":4194304,\"offset\":2097152,\"page_size\":2097152}]",
	};
	struct uffd_region *r;
	unsigned int n;
	char err[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(0, parse(ok[i], &r, &n, err));
		assert_int_equal(1, n);
		free(r);
	}
}

static void refused(void **state)
{
	static const char *const bad[] = {
		"hello",
		"{}",
		"[]",
		"[1]",
		"[null]",
		"[{}]",
		"[{\"size\":4096,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0}]",
		/* types */
		"[{\"base_host_virt_addr\":-4096,\"size\":4096,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":\"0\",\"size\":4096,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096.0,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":true,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":null,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0,\"page_size\":[4096]}]",
		/* page sizes */
		"[{\"base_host_virt_addr\":0,\"size\":8192,\"offset\":0,\"page_size\":0}]",
		"[{\"base_host_virt_addr\":0,\"size\":8192,\"offset\":0,\"page_size\":8192}]",
		"[{\"base_host_virt_addr\":0,\"size\":8192,\"offset\":0,\"page_size\":4}]",
		"[{\"base_host_virt_addr\":0,\"size\":8192,\"offset\":0,\"page_size\":4096,\"page_size_kib\":4}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0,\"page_size\":4096},"
		" {\"base_host_virt_addr\":4194304,\"size\":2097152,\"offset\":2097152,\"page_size\":2097152}]",
		/* alignment, emptiness */
		"[{\"base_host_virt_addr\":1,\"size\":4096,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4095,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":0,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":100,\"page_size\":4096}]",
		/* overflow */
		"[{\"base_host_virt_addr\":18446744073709547520,\"size\":8192,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":8192,\"offset\":18446744073709547520,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":18446744073709547520,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0,\"page_size\":99999999999999999999999}]",
		/* past the memory file */
		"[{\"base_host_virt_addr\":0,\"size\":268439552,\"offset\":0,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":268435456,\"page_size\":4096}]",
		/* overlaps */
		"[{\"base_host_virt_addr\":0,\"size\":8192,\"offset\":0,\"page_size\":4096},"
		" {\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":8192,\"page_size\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":8192,\"offset\":0,\"page_size\":4096},"
		" {\"base_host_virt_addr\":65536,\"size\":4096,\"offset\":4096,\"page_size\":4096}]",
		/* syntax */
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0,\"page_size\":4096}] x",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0,\"page_size\":4096}][]",
		"[{\"base_host_virt_addr\":0,,}]",
		"[{\"base_host_virt_addr\":0\"size\":1}]",
	};
	struct uffd_region *r = (void *)1;
	unsigned int n = 7;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(bad[i], &r, &n, err);

		if (ret != -EINVAL)
			fail_msg("message %zu: %d, expected -EINVAL: %s", i,
				 ret, bad[i]);
		assert_null(r);
		assert_int_equal(0, n);
		assert_true(strlen(err) > 0);
	}
}

static void limits(void **state)
{
	struct uffd_region *r;
	unsigned int n;
	char err[256], *msg = malloc(UFFD_MAX_MSG + 2);
	size_t len = 0;

	/* Incomplete: the caller may read more. */
	assert_int_equal(-EAGAIN, parse("[{\"base_host_virt_addr\":0", &r, &n,
					 err));
	assert_int_equal(-EAGAIN, uffd__parse_regions("", 0, FILE_SIZE, &r, &n,
						      err, sizeof(err)));
	/* Too long. */
	memset(msg, ' ', UFFD_MAX_MSG + 1);
	msg[0] = '[';
	assert_int_equal(-EINVAL, uffd__parse_regions(msg, UFFD_MAX_MSG + 1,
						      FILE_SIZE, &r, &n, err,
						      sizeof(err)));
	/* A NUL inside. */
	assert_int_equal(-EINVAL, uffd__parse_regions("[1]\0[2]", 7, FILE_SIZE,
						      &r, &n, err,
						      sizeof(err)));
	/* More regions than allowed. */
	len += (size_t)sprintf(msg + len, "[");
	for (unsigned int i = 0; i <= UFFD_MAX_REGIONS; i++)
		len += (size_t)sprintf(msg + len,
				       "%s{\"base_host_virt_addr\":%u,\"size\":4096,\"offset\":%u,\"page_size\":4096}",
				       i ? "," : "", i * 4096, i * 4096);
	sprintf(msg + len, "]");
	assert_int_equal(-EINVAL, parse(msg, &r, &n, err));
	assert_non_null(strstr(err, "regions"));
	/* Deep nesting. */
	memset(msg, '[', 5000);
	memset(msg + 5000, ']', 5000);
	msg[10000] = 0;
	assert_int_equal(-EINVAL, parse(msg, &r, &n, err));
	/* No memory file size to check against. */
	assert_int_equal(-EINVAL, uffd__parse_regions(
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0,\"page_size\":4096}]",
		70, 0, &r, &n, err, sizeof(err)));
	free(msg);
}

/* Random damage to a good message: refused or valid, never a crash. */
static void mutations(void **state)
{
	const struct uffd_region in[2] = {
		{ 0x10000000, 64 * MB, 0, 4096 },
		{ 0x20000000, 64 * MB, 64 * MB, 4096 },
	};
	char *good = uffd__regions_to_json(in, 2), *m;
	size_t len = strlen(good);
	uint64_t x = 88172645463325252ull;
	unsigned int accepted = 0;

	m = malloc(len + 1);
	for (int round = 0; round < 20000; round++) {
		struct uffd_region *r;
		unsigned int n;
		char err[256];
		size_t mlen = len;
		int ret;

		memcpy(m, good, len + 1);
		for (int k = 0; k < 1 + round % 4; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			m[x % len] = (char)(x >> 32);
		}
		if (round % 3 == 0)
			mlen = (x >> 20) % len;
		ret = uffd__parse_regions(m, mlen, FILE_SIZE, &r, &n, err,
					  sizeof(err));
		if (ret)
			continue;
		/* Whatever got through obeys the rules. */
		accepted++;
		assert_true(n >= 1 && n <= UFFD_MAX_REGIONS);
		for (unsigned int i = 0; i < n; i++) {
			assert_int_equal(0, r[i].host_addr % r[i].page_size);
			assert_true(r[i].size > 0);
			assert_true(r[i].offset + r[i].size <= FILE_SIZE);
		}
		free(r);
	}
	print_message("%u of 20000 mutated messages were still valid\n",
		      accepted);
	free(m);
	free(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(accepted_variants),
		cmocka_unit_test(refused),
		cmocka_unit_test(limits),
		cmocka_unit_test(mutations),
	};

	return cmocka_run_group_tests_name("uffd_msg", tests, NULL, NULL);
}
