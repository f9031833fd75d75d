// SPDX-License-Identifier: GPL-2.0
/*
 * What a vCPU was doing when its guest died: the last exits it took (kept
 * by the exit loop in a small ring) and the registers, control and segment
 * registers and pending events KVM reports afterwards.
 *
 * On AMD, KVM re-initializes a vCPU at a shutdown exit (the VMCB is
 * undefined after one, shutdown_interception() in arch/x86/kvm/svm/svm.c),
 * so the registers read then are INIT's, not the guest's: the dump says
 * so, and the exits ring and the guest's console are what is left.  On
 * Intel the registers are the guest's at the triple fault.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "vmm/kvm-cpu.h"
#include "vmm/kvm.h"

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO:		return "io";
	case KVM_EXIT_MMIO:		return "mmio";
	case KVM_EXIT_HLT:		return "hlt";
	case KVM_EXIT_INTR:		return "intr";
	case KVM_EXIT_SHUTDOWN:		return "shutdown";
	case KVM_EXIT_SYSTEM_EVENT:	return "system-event";
	case KVM_EXIT_FAIL_ENTRY:	return "fail-entry";
	case KVM_EXIT_INTERNAL_ERROR:	return "internal-error";
	default:			return "other";
	}
}

void kvm_cpu__note_exit(struct kvm_cpu *cpu)
{
	const struct kvm_run *run = cpu->run;
	struct kvm_cpu_exit *e;

	e = &cpu->last_exits[cpu->nr_exits++ % KVM_CPU_LAST_EXITS];
	e->ns = kvm__now_ns();
	e->reason = run->exit_reason;
	e->write = 0;
	e->addr = 0;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		e->addr = run->io.port;
		e->write = run->io.direction == KVM_EXIT_IO_OUT;
		break;
	case KVM_EXIT_MMIO:
		e->addr = run->mmio.phys_addr;
		e->write = run->mmio.is_write;
		break;
	}
}

static void dump_exits(const struct kvm_cpu *cpu)
{
	uint64_t n = cpu->nr_exits, first, i, now = kvm__now_ns();
	const struct kvm_cpu_exit *e;

	first = n > KVM_CPU_LAST_EXITS ? n - KVM_CPU_LAST_EXITS : 0;
	pr_err("vCPU %u: its last %" PRIu64 " of %" PRIu64 " exits, oldest first:",
	       cpu->id, n - first, n);
	for (i = first; i < n; i++) {
		e = &cpu->last_exits[i % KVM_CPU_LAST_EXITS];
		if (e->reason == KVM_EXIT_IO || e->reason == KVM_EXIT_MMIO)
			pr_err("  exit %" PRIu64 ": %s %s %#" PRIx64 " (%.3f ms before)",
			       i + 1, exit_name(e->reason),
			       e->write ? "write" : "read", e->addr,
			       (now - e->ns) / 1e6);
		else
			pr_err("  exit %" PRIu64 ": %s (reason %u, %.3f ms before)",
			       i + 1, exit_name(e->reason), e->reason,
			       (now - e->ns) / 1e6);
	}
}

static void dump_segment(const char *name, const struct kvm_segment *s)
{
	pr_err("  %-4s sel 0x%04x base 0x%016llx limit 0x%08x type %u s %u dpl %u p %u l %u db %u g %u",
	       name, s->selector, (unsigned long long)s->base, s->limit,
	       s->type, s->s, s->dpl, s->present, s->l, s->db, s->g);
}

void kvm_cpu__dump(struct kvm_cpu *cpu, const char *why)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs sr;
	struct kvm_regs r;

	pr_err("vCPU %u: %s", cpu->id, why);
	dump_exits(cpu);
	if (ioctl(cpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(cpu->fd, KVM_GET_SREGS, &sr) < 0) {
		pr_err("vCPU %u: registers unavailable: %s", cpu->id,
		       strerror(errno));
		return;
	}
	if (r.rip == 0xfff0 && sr.cs.selector == 0xf000 &&
	    sr.cs.base == 0xffff0000)
		pr_err("vCPU %u: KVM re-initialized the vCPU at this exit (AMD does at a shutdown): the registers below are INIT's, not the guest's",
		       cpu->id);
	pr_err("  rip 0x%016llx rsp 0x%016llx rflags 0x%08llx",
	       r.rip, r.rsp, r.rflags);
	pr_err("  rax 0x%016llx rbx 0x%016llx rcx 0x%016llx rdx 0x%016llx",
	       r.rax, r.rbx, r.rcx, r.rdx);
	pr_err("  rsi 0x%016llx rdi 0x%016llx rbp 0x%016llx r8  0x%016llx",
	       r.rsi, r.rdi, r.rbp, r.r8);
	pr_err("  r9  0x%016llx r10 0x%016llx r11 0x%016llx r12 0x%016llx",
	       r.r9, r.r10, r.r11, r.r12);
	pr_err("  r13 0x%016llx r14 0x%016llx r15 0x%016llx",
	       r.r13, r.r14, r.r15);
	pr_err("  cr0 %#llx cr2 %#llx cr3 %#llx cr4 %#llx cr8 %#llx efer %#llx apic_base %#llx",
	       sr.cr0, sr.cr2, sr.cr3, sr.cr4, sr.cr8, sr.efer, sr.apic_base);
	dump_segment("cs", &sr.cs);
	dump_segment("ss", &sr.ss);
	dump_segment("ds", &sr.ds);
	dump_segment("es", &sr.es);
	dump_segment("fs", &sr.fs);
	dump_segment("gs", &sr.gs);
	dump_segment("tr", &sr.tr);
	dump_segment("ldt", &sr.ldt);
	pr_err("  gdt base %#llx limit %#x  idt base %#llx limit %#x",
	       (unsigned long long)sr.gdt.base, sr.gdt.limit,
	       (unsigned long long)sr.idt.base, sr.idt.limit);
	if (ioctl(cpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0) {
		pr_err("vCPU %u: events unavailable: %s", cpu->id,
		       strerror(errno));
		return;
	}
	pr_err("  events: exception %s (last nr %u, error code %s %#x); interrupt %s nr %u soft %u shadow %#x; nmi %s pending %u masked %u; smi pending %u smm %u",
	       ev.exception.injected ? "injected" :
	       ev.exception.pending ? "pending" : "none",
	       ev.exception.nr, ev.exception.has_error_code ? "yes" : "no",
	       ev.exception.error_code,
	       ev.interrupt.injected ? "injected" : "none",
	       ev.interrupt.nr, ev.interrupt.soft, ev.interrupt.shadow,
	       ev.nmi.injected ? "injected" : "none", ev.nmi.pending,
	       ev.nmi.masked, ev.smi.pending, ev.smi.smm);
}
