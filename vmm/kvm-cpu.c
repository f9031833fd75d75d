// SPDX-License-Identifier: GPL-2.0
/* vCPUs: setup for the 64-bit Linux entry, thread, and the exit loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/exit.h"
#include "vmm/kvm-cpu.h"
#include "vmm/kvm.h"
#include "vmm/seccomp.h"
#include "vmm/util.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/cpuid.h"
#include "vmm/x86/layout.h"

#define KICK_SIGNAL		(SIGRTMIN + 1)

#define MSR_IA32_TSC		0x10
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MISC_ENABLE_FAST_STRING	1
#define MTRR_ENABLE_WB		((1 << 11) | 6)

#define X86_CR0_PE		(1ULL << 0)
#define X86_CR0_ET		(1ULL << 4)
#define X86_CR0_PG		(1ULL << 31)
#define X86_CR4_PAE		(1ULL << 5)
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)

#define APIC_LVT_LINT0		0x350
#define APIC_LVT_LINT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

static void kick_handler(int sig)
{
}

int kvm_cpu__init_signal(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int kvm_cpu__init(struct kvm *kvm, unsigned int id, struct kvm_cpu **out)
{
	struct kvm_cpu *cpu;
	int ret;

	cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return -ENOMEM;
	cpu->kvm = kvm;
	cpu->id = id;
	cpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, id);
	if (cpu->fd < 0) {
		ret = -errno;
		free(cpu);
		return ret;
	}
	cpu->run = mmap(NULL, kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
			MAP_SHARED, cpu->fd, 0);
	if (cpu->run == MAP_FAILED) {
		ret = -errno;
		close(cpu->fd);
		free(cpu);
		return ret;
	}
	*out = cpu;
	return 0;
}

void kvm_cpu__free(struct kvm_cpu *cpu)
{
	if (!cpu)
		return;
	munmap(cpu->run, cpu->kvm->vcpu_mmap_size);
	close(cpu->fd);
	free(cpu);
}

static int setup_cpuid(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;
	struct cpuid_topology t = {
		.cpu = cpu->id,
		.nr_cpus = kvm->nr_cpus,
		.smt = kvm->cfg->machine.smt,
	};
	size_t size = sizeof(*kvm->cpuid) +
		kvm->cpuid->nent * sizeof(kvm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int ret;

	if (!c)
		return -ENOMEM;
	memcpy(c, kvm->cpuid, size);
	ret = cpuid__filter(c, &t);
	if (!ret && ioctl(cpu->fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}

static int setup_msrs(struct kvm_cpu *cpu)
{
	static const struct { uint32_t index; uint64_t data; } init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WB },
	};
	const unsigned int n = ARRAY_SIZE(init);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[ARRAY_SIZE(init)];
	} msrs;
	unsigned int i;
	int ret;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = n;
	for (i = 0; i < n; i++) {
		msrs.e[i].index = init[i].index;
		msrs.e[i].data = init[i].data;
	}
	ret = ioctl(cpu->fd, KVM_SET_MSRS, &msrs);
	if (ret < 0)
		return -errno;
	if ((unsigned int)ret != n) {
		pr_err("vCPU %u: KVM_SET_MSRS set %d of %u (MSR %#x refused)",
		       cpu->id, ret, n, msrs.e[ret].index);
		return -EINVAL;
	}
	return 0;
}

static void lvt_set_mode(struct kvm_lapic_state *l, int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, l->regs + reg, 4);
	v = (v & ~0x700U) | mode << 8;
	memcpy(l->regs + reg, &v, 4);
}

static int setup_lapic(struct kvm_cpu *cpu)
{
	struct kvm_lapic_state l;

	if (ioctl(cpu->fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	/* Virtual-wire mode: the PIC through LINT0, NMIs through LINT1. */
	lvt_set_mode(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lvt_set_mode(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(cpu->fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

static int setup_fpu(struct kvm_cpu *cpu)
{
	struct kvm_fpu fpu = {
		.fcw = 0x37f,
		.mxcsr = 0x1f80,
	};

	return ioctl(cpu->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = 0,
		.s = 1,
		.l = 0,
		.g = 1,
	};
}

/* 64-bit mode, paging on the boot identity map, RSI = zero page. */
static int setup_boot_regs(struct kvm_cpu *cpu, const struct boot_info *b)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = b->entry,
		.rsi = b->zero_page,
		.rflags = 0x2,
	};

	if (ioctl(cpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	flat_segment(&sregs.cs, 0x10, 0xb);
	sregs.cs.l = 1;
	flat_segment(&sregs.ds, 0x18, 0x3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.ss.db = 1;
	sregs.tr = (struct kvm_segment){
		.selector = 0x20, .limit = 0x67, .type = 0xb, .present = 1,
	};
	sregs.gdt.base = LAYOUT_GDT;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr3 = LAYOUT_PML4;
	sregs.cr4 = X86_CR4_PAE;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(cpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(cpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int kvm_cpu__setup(struct kvm_cpu *cpu, const struct boot_info *boot)
{
	int ret;

	ret = setup_cpuid(cpu);
	if (ret)
		return ret;
	ret = setup_msrs(cpu);
	if (ret)
		return ret;
	ret = setup_lapic(cpu);
	if (ret)
		return ret;
	ret = setup_fpu(cpu);
	if (ret)
		return ret;
	/* The APs wait for the guest's INIT-SIPI in the in-kernel LAPIC. */
	if (cpu->id == 0)
		return setup_boot_regs(cpu, boot);
	return 0;
}

void kvm_cpu__kick(struct kvm_cpu *cpu)
{
	cpu->run->immediate_exit = 1;
	if (cpu->started)
		pthread_kill(cpu->thread, KICK_SIGNAL);
}

static void handle_io(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		if (!bus__access(&cpu->kvm->pio, run->io.port, data,
				 run->io.size, is_write))
			kvm__count(cpu->kvm, io_unhandled);
	}
}

static void handle_mmio(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;

	if (run->mmio.len > sizeof(run->mmio.data))
		return;
	if (!bus__access(&cpu->kvm->mmio, run->mmio.phys_addr,
			 run->mmio.data, run->mmio.len, run->mmio.is_write))
		kvm__count(cpu->kvm, io_unhandled);
}

static void handle_system_event(struct kvm_cpu *cpu)
{
	switch (cpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		kvm__halt(cpu->kvm, VMM_EXIT_OK);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		kvm__halt(cpu->kvm, VMM_EXIT_GUEST_RESET);
		break;
	default:
		pr_err("vCPU %u: system event %u", cpu->id,
		       cpu->run->system_event.type);
		kvm__halt(cpu->kvm, VMM_EXIT_GUEST_PANIC);
		break;
	}
}

static void *cpu_thread(void *arg)
{
	struct kvm_cpu *cpu = arg;
	struct kvm *kvm = cpu->kvm;
	struct kvm_run *run = cpu->run;
	uint64_t zero = 0;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", cpu->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (!kvm->cfg->no_seccomp && seccomp__apply(SECCOMP_VCPU)) {
		kvm__halt(kvm, VMM_EXIT_ERROR);
		return NULL;
	}

	if (cpu->id == 0)
		atomic_compare_exchange_strong(&kvm->stats.first_run_ns, &zero,
					       kvm__now_ns());
	while (!kvm__stopping(kvm)) {
		if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				kvm__count(kvm, exits_intr);
				if (kvm__park(kvm, cpu))
					break;
				continue;
			}
			pr_err("vCPU %u: KVM_RUN: %s", cpu->id,
			       strerror(errno));
			kvm__halt(kvm, VMM_EXIT_ERROR);
			break;
		}
		kvm_cpu__note_exit(cpu);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			kvm__count(kvm, exits_io);
			handle_io(cpu);
			break;
		case KVM_EXIT_MMIO:
			kvm__count(kvm, exits_mmio);
			handle_mmio(cpu);
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC; nothing to do. */
			kvm__count(kvm, exits_hlt);
			break;
		case KVM_EXIT_INTR:
			kvm__count(kvm, exits_intr);
			if (kvm__park(kvm, cpu))
				goto out;
			break;
		case KVM_EXIT_SHUTDOWN:
			/* Triple fault: the guest cannot go on. */
			kvm__count(kvm, exits_shutdown);
			kvm_cpu__dump(cpu, "triple fault (shutdown exit)");
			kvm__halt(kvm, VMM_EXIT_GUEST_PANIC);
			goto out;
		case KVM_EXIT_SYSTEM_EVENT:
			kvm__count(kvm, exits_system_event);
			handle_system_event(cpu);
			goto out;
		case KVM_EXIT_FAIL_ENTRY:
			kvm__count(kvm, exits_other);
			pr_err("vCPU %u: entry failed, reason %#llx", cpu->id,
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			kvm_cpu__dump(cpu, "entry failed");
			kvm__halt(kvm, VMM_EXIT_ERROR);
			goto out;
		case KVM_EXIT_INTERNAL_ERROR:
			kvm__count(kvm, exits_other);
			pr_err("vCPU %u: KVM internal error, suberror %u",
			       cpu->id, run->internal.suberror);
			kvm_cpu__dump(cpu, "KVM internal error");
			kvm__halt(kvm, VMM_EXIT_ERROR);
			goto out;
		default:
			kvm__count(kvm, exits_other);
			pr_err("vCPU %u: unexpected exit reason %u", cpu->id,
			       run->exit_reason);
			kvm__halt(kvm, VMM_EXIT_ERROR);
			goto out;
		}
	}
out:
	return NULL;
}

int kvm_cpu__start(struct kvm_cpu *cpu)
{
	int ret;

	ret = pthread_create(&cpu->thread, NULL, cpu_thread, cpu);
	if (ret)
		return -ret;
	cpu->started = true;
	return 0;
}
