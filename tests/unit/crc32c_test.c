// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/crc32c.h"

/* Check values from RFC 3720, appendix B.4. */
static void rfc3720_vectors(void **state)
{
	uint8_t buf[48];

	memset(buf, 0, 32);
	assert_int_equal(crc32c(0, buf, 32), 0x8a9136aa);
	memset(buf, 0xff, 32);
	assert_int_equal(crc32c(0, buf, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		buf[i] = i;
	assert_int_equal(crc32c(0, buf, 32), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		buf[i] = 31 - i;
	assert_int_equal(crc32c(0, buf, 32), 0x113fdb5c);
}

static void check_string(void **state)
{
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c(0, "", 0), 0);
}

/* Any split of the input, at any alignment, gives the same value. */
static void incremental_and_unaligned(void **state)
{
	uint8_t buf[300];
	uint32_t whole;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = crc32c(0, buf + 1, sizeof(buf) - 1);
	for (size_t cut = 0; cut < sizeof(buf) - 1; cut += 13) {
		uint32_t c = crc32c(0, buf + 1, cut);

		c = crc32c(c, buf + 1 + cut, sizeof(buf) - 1 - cut);
		assert_int_equal(c, whole);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc3720_vectors),
		cmocka_unit_test(check_string),
		cmocka_unit_test(incremental_and_unaligned),
	};

	return cmocka_run_group_tests_name("crc32c", tests, NULL, NULL);
}
