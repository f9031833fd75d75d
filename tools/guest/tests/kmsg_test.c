// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel log records thaw-init acts on (tools/guest/kmsg.c): the VM
 * fork the vmgenid driver logs, and what must not pass for one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/guest/kmsg.h"

static bool is_vmfork(const char *rec)
{
	return kmsg__is_vmfork(rec, strlen(rec));
}

static void vmfork(void **state)
{
	/* as Linux 6.1 logs it, with and without a dictionary after it */
	assert_true(is_vmfork(
		"5,1234,98765432,-;random: crng reseeded due to virtual machine fork\n"));
	assert_true(is_vmfork(
		"5,1,2,-,caller=T7;random: crng reseeded due to virtual machine fork\n"
		" SUBSYSTEM=acpi\n"));
	assert_true(is_vmfork(
		"6,99,1,c;random: crng reseeded due to virtual machine fork"));
}

static void not_vmfork(void **state)
{
	static const char *const recs[] = {
		"",
		"5,1,2,-;random: crng init done\n",
		"6,2,3,-;virtio_mmio: probe\n",
		/* written from user space (facility 1): anyone with /dev/kmsg */
		"13,5,6,-;random: crng reseeded due to virtual machine fork\n",
		"12,5,6,-;random: crng reseeded due to virtual machine fork\n",
		/* no header, or a broken one */
		"random: crng reseeded due to virtual machine fork\n",
		";random: crng reseeded due to virtual machine fork\n",
		"x,1,2,-;random: crng reseeded due to virtual machine fork\n",
		"99999,1,2,-;random: crng reseeded due to virtual machine fork\n",
		"5,1,2,-\n",
		/* the text in a dictionary line, not in the message */
		"5,1,2,-;other\n X=crng reseeded due to virtual machine fork\n",
		"5,1,2,-;crng reseeded due to virtual machine",
	};

	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		if (is_vmfork(recs[i]))
			fail_msg("taken for a VM fork: %s", recs[i]);
	/* a length that stops short of the text */
	assert_false(kmsg__is_vmfork(
		"5,1,2,-;random: crng reseeded due to virtual machine fork", 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vmfork),
		cmocka_unit_test(not_vmfork),
	};

	return cmocka_run_group_tests_name("guest_kmsg", tests, NULL, NULL);
}
