/* SPDX-License-Identifier: GPL-2.0 */
/* One vCPU: its fd, its kvm_run page, its thread and its exit loop. */
#ifndef THAW_VMM_KVM_CPU_H
#define THAW_VMM_KVM_CPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

struct kvm;
struct boot_info;
struct kvm_cpu_state;

/* One exit, as kept for the dump of a dying vCPU. */
struct kvm_cpu_exit {
	uint64_t ns;		/* kvm__now_ns() when KVM_RUN returned */
	uint64_t addr;		/* port or guest physical address */
	uint32_t reason;	/* KVM_EXIT_* */
	uint32_t write;
};

#define KVM_CPU_LAST_EXITS	16

struct kvm_cpu {
	struct kvm *kvm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	/* Written and read by the vCPU's own thread only. */
	uint64_t nr_exits;
	struct kvm_cpu_exit last_exits[KVM_CPU_LAST_EXITS];
};

int kvm_cpu__init(struct kvm *kvm, unsigned int id, struct kvm_cpu **out);
void kvm_cpu__free(struct kvm_cpu *cpu);
/* CPUID, MSRs, LAPIC LINT0/1, FPU; for the BSP also the boot registers. */
int kvm_cpu__setup(struct kvm_cpu *cpu, const struct boot_info *boot);
int kvm_cpu__start(struct kvm_cpu *cpu);
/* Make the vCPU leave KVM_RUN soon (caller holds the runctl lock). */
void kvm_cpu__kick(struct kvm_cpu *cpu);
/* The signal kvm_cpu__kick() uses; blocked nowhere, handled by nothing. */
int kvm_cpu__init_signal(void);

/* vmm/kvm-cpu-dump.c: from the vCPU's thread, after KVM_RUN returned. */
void kvm_cpu__note_exit(struct kvm_cpu *cpu);
/* Log @why, the last exits, registers and pending events. */
void kvm_cpu__dump(struct kvm_cpu *cpu, const char *why);

/* vmm/kvm-state.c: everything KVM keeps for a vCPU. */
int kvm_cpu__save_state(struct kvm_cpu *cpu, struct kvm_cpu_state *st);
int kvm_cpu__restore_state(struct kvm_cpu *cpu,
			   const struct kvm_cpu_state *st);

#endif
