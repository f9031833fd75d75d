// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID filtering: the hypervisor bit, APIC IDs and topology leaves for
 * each vCPU of an N-vCPU machine, on an Intel-like and an AMD-like table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/x86/cpuid.h"

struct table {
	struct kvm_cpuid2 c;
	struct kvm_cpuid_entry2 e[8];
};

static void make(struct table *t, bool amd)
{
	memset(t, 0, sizeof(*t));
	t->c.nent = 7;
	t->e[0].function = 0;
	if (amd) {
		t->e[0].ebx = 0x68747541;	/* "Auth" */
		t->e[0].edx = 0x69746e65;	/* "enti" */
		t->e[0].ecx = 0x444d4163;	/* "cAMD" */
	} else {
		t->e[0].ebx = 0x756e6547;	/* "Genu" */
	}
	t->e[1].function = 1;
	t->e[1].ebx = 0xff0000aa;
	t->e[2].function = 0xb;
	t->e[2].index = 0;
	t->e[3].function = 0xb;
	t->e[3].index = 1;
	t->e[4].function = 0xb;
	t->e[4].index = 2;
	t->e[5].function = 0x80000008;
	t->e[5].ecx = 0xffffffff;
	t->e[6].function = 4;
	t->e[6].eax = 0x3 << 5 | 1;		/* L3, data */
}

static void one_of_four(void **state)
{
	struct cpuid_topology topo = { .cpu = 3, .nr_cpus = 4 };
	struct table t;

	make(&t, true);
	assert_int_equal(cpuid__filter(&t.c, &topo), 0);
	assert_true(t.e[1].ecx & CPUID_LEAF1_ECX_HYPERVISOR);
	assert_true(t.e[1].edx & CPUID_LEAF1_EDX_HTT);
	assert_int_equal(t.e[1].ebx >> 24, 3);		/* APIC ID */
	assert_int_equal((t.e[1].ebx >> 16) & 0xff, 4);
	assert_int_equal(t.e[1].ebx & 0xff, 0xaa);	/* brand index kept */
	assert_int_equal(t.e[2].ebx, 1);		/* SMT level */
	assert_int_equal(t.e[2].ecx, 1 << 8);
	assert_int_equal(t.e[3].eax, 2);		/* core level shift */
	assert_int_equal(t.e[3].ebx, 4);
	assert_int_equal(t.e[3].ecx, 2 << 8 | 1);
	assert_int_equal(t.e[4].ecx, 2);		/* invalid level */
	assert_int_equal(t.e[2].edx, 3);		/* x2APIC ID */
	assert_int_equal(t.e[5].ecx & 0xff, 3);		/* AMD NC */
	assert_int_equal((t.e[5].ecx >> 12) & 0xf, 2);
	assert_int_equal(t.e[6].eax >> 26, 3);		/* cores - 1 */
	assert_int_equal((t.e[6].eax >> 14) & 0xfff, 3); /* L3 shared */
}

static void single_cpu(void **state)
{
	struct cpuid_topology topo = { .cpu = 0, .nr_cpus = 1 };
	struct table t;

	make(&t, false);
	t.e[1].edx = CPUID_LEAF1_EDX_HTT;
	assert_int_equal(cpuid__filter(&t.c, &topo), 0);
	assert_false(t.e[1].edx & CPUID_LEAF1_EDX_HTT);
	assert_int_equal(t.e[1].ebx >> 24, 0);
	/* Intel: the AMD leaf is left alone. */
	assert_int_equal(t.e[5].ecx, 0xffffffff);
}

static void smt_pairs(void **state)
{
	struct cpuid_topology topo = { .cpu = 5, .nr_cpus = 8, .smt = true };
	struct table t;

	make(&t, false);
	assert_int_equal(cpuid__filter(&t.c, &topo), 0);
	assert_int_equal(t.e[2].eax, 1);		/* 2 threads */
	assert_int_equal(t.e[2].ebx, 2);
	assert_int_equal(t.e[3].eax, 3);
	assert_int_equal(t.e[3].ebx, 8);
	assert_int_equal(t.e[6].eax >> 26, 3);		/* 4 cores */
}

static void bad_topology(void **state)
{
	struct cpuid_topology topo = { .cpu = 4, .nr_cpus = 4 };
	struct table t;

	make(&t, true);
	assert_int_equal(cpuid__filter(&t.c, &topo), -EINVAL);
	topo.cpu = 0;
	topo.nr_cpus = 0;
	assert_int_equal(cpuid__filter(&t.c, &topo), -EINVAL);
	topo.nr_cpus = 1000;
	assert_int_equal(cpuid__filter(&t.c, &topo), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_of_four),
		cmocka_unit_test(single_cpu),
		cmocka_unit_test(smt_pairs),
		cmocka_unit_test(bad_topology),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
