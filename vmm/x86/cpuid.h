/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPUID a vCPU sees: KVM_GET_SUPPORTED_CPUID, with the hypervisor bit
 * set (the guest then finds KVM's leaves at 0x40000000 and uses kvmclock),
 * and the topology (APIC IDs, logical/core counts) of an N-vCPU machine.
 */
#ifndef THAW_VMM_X86_CPUID_H
#define THAW_VMM_X86_CPUID_H

#include <stdbool.h>

#include <linux/kvm.h>

#define CPUID_LEAF1_ECX_HYPERVISOR	(1U << 31)
#define CPUID_LEAF1_EDX_HTT		(1U << 28)
#define CPUID_KVM_SIGNATURE		0x40000000

struct cpuid_topology {
	unsigned int cpu;		/* this vCPU's index = APIC ID */
	unsigned int nr_cpus;
	bool smt;			/* two threads per core */
};

/* Rewrite @cpuid in place for vCPU @t->cpu; -EINVAL on a bad topology. */
int cpuid__filter(struct kvm_cpuid2 *cpuid, const struct cpuid_topology *t);

#endif
