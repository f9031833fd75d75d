// SPDX-License-Identifier: GPL-2.0
/* thaw-init's ip= parser: the kernel's static form and what it refuses. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/guest/ipconfig.h"

static char err[160];

static const char *ip(struct in_addr a)
{
	static char s[4][INET_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return inet_ntop(AF_INET, &a, s[i], sizeof(s[i]));
}

static void static_form(void **state)
{
	struct ipconfig c;

	(void)state;
	assert_int_equal(ipconfig__parse_cmdline(
		"console=ttyS0 ip=172.16.0.2::172.16.0.1:255.255.255.0::eth0:off quiet",
		&c, err, sizeof(err)), 1);
	assert_string_equal(ip(c.addr), "172.16.0.2");
	assert_string_equal(ip(c.gw), "172.16.0.1");
	assert_string_equal(ip(c.mask), "255.255.255.0");
	assert_string_equal(c.dev, "eth0");
	/* The last one wins; defaults for the rest. */
	assert_int_equal(ipconfig__parse_cmdline(
		"ip=1.2.3.4::::::off ip=10.0.0.5:", &c, err, sizeof(err)), 1);
	assert_string_equal(ip(c.mask), "255.0.0.0");
	assert_int_equal(c.gw.s_addr, 0);
	assert_string_equal(c.dev, "eth0");
}

static void none(void **state)
{
	struct ipconfig c;

	(void)state;
	assert_int_equal(ipconfig__parse_cmdline("console=ttyS0", &c, err,
						 sizeof(err)), 0);
	assert_int_equal(ipconfig__parse_cmdline("ip=off", &c, err,
						 sizeof(err)), 0);
	assert_int_equal(ipconfig__parse_cmdline("vip=1.2.3.4:", &c, err,
						 sizeof(err)), 0);
}

static void refused(void **state)
{
	static const char *const bad[] = {
		"ip=dhcp", "ip=1.2.3:", "ip=1.2.3.4::1.2.3.999",
		"ip=1.2.3.4:::255.0.255.0", "ip=1.2.3.4::::::dhcp",
		"ip=1.2.3.4:::::a-device-name-too-long:off", "ip=:::::eth0:off",
	};
	struct ipconfig c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(ipconfig__parse_cmdline(bad[i], &c, err,
							 sizeof(err)), -EINVAL);
		assert_true(err[0]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(static_form),
		cmocka_unit_test(none),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests_name("ipconfig", tests, NULL, NULL);
}
