// SPDX-License-Identifier: GPL-2.0
/* CPUID for the guest: see cpuid.h. */
#include <errno.h>
#include <string.h>

#include "vmm/config.h"
#include "vmm/x86/cpuid.h"

/* "AuthenticAMD" in EBX, EDX, ECX of leaf 0. */
#define AMD_EBX	0x68747541
#define AMD_EDX	0x69746e65
#define AMD_ECX	0x444d4163

static unsigned int order(unsigned int n)
{
	unsigned int s = 0;

	while ((1U << s) < n)
		s++;
	return s;
}

static bool is_amd(const struct kvm_cpuid2 *cpuid)
{
	unsigned int i;

	for (i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 0)
			return e->ebx == AMD_EBX && e->edx == AMD_EDX &&
				e->ecx == AMD_ECX;
	}
	return false;
}

int cpuid__filter(struct kvm_cpuid2 *cpuid, const struct cpuid_topology *t)
{
	unsigned int threads = t->smt && t->nr_cpus > 1 ? 2 : 1;
	unsigned int thread_shift = order(threads);
	unsigned int pkg_shift = order(t->nr_cpus);
	bool amd = is_amd(cpuid);
	unsigned int i;

	if (!t->nr_cpus || t->nr_cpus > VM_MAX_VCPUS || t->cpu >= t->nr_cpus)
		return -EINVAL;

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 0x1:
			e->ecx |= CPUID_LEAF1_ECX_HYPERVISOR;
			/* APIC ID, logical processors, CLFLUSH line (8 qw) */
			e->ebx = t->cpu << 24 | (1U << pkg_shift) << 16 |
				8 << 8 | (e->ebx & 0xff);
			if (t->nr_cpus > 1)
				e->edx |= CPUID_LEAF1_EDX_HTT;
			else
				e->edx &= ~CPUID_LEAF1_EDX_HTT;
			break;
		case 0x4:
			/* Cores per package; threads sharing this cache. */
			if (!(e->eax & 0x1f))
				break;
			e->eax &= 0x3ff;
			e->eax |= ((1U << pkg_shift >> thread_shift) - 1) << 26;
			if (((e->eax >> 5) & 7) >= 3)
				e->eax |= ((1U << pkg_shift) - 1) << 14;
			else
				e->eax |= (threads - 1) << 14;
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC topology: the SMT level, the core level. */
			e->edx = t->cpu;
			if (e->index == 0) {
				e->eax = thread_shift;
				e->ebx = threads;
				e->ecx = 1 << 8;
			} else if (e->index == 1) {
				e->eax = pkg_shift;
				e->ebx = t->nr_cpus;
				e->ecx = 2 << 8 | 1;
			} else {
				e->eax = 0;
				e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000008:
			if (!amd)
				break;
			/* ApicIdSize and NC: cores in the package - 1. */
			e->ecx = pkg_shift << 12 | (t->nr_cpus - 1);
			break;
		case 0x8000001e:
			if (!amd)
				break;
			e->eax = t->cpu;
			e->ebx = (threads - 1) << 8 | (t->cpu >> thread_shift);
			e->ecx = 0;
			break;
		default:
			break;
		}
	}
	return 0;
}
