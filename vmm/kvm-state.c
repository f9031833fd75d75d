// SPDX-License-Identifier: GPL-2.0
/*
 * Everything KVM keeps for a vCPU (registers, special registers, FPU,
 * XSAVE, XCRs, MSRs, LAPIC, pending events, MP state) and for the VM
 * (PIC, IOAPIC, PIT, kvmclock), read into and written from the plain
 * structs of vmm/persist.h.  Only while the machine is paused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "vmm/kvm-cpu.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"

/* The MSRs KVM can save for this vCPU: KVM_GET_MSR_INDEX_LIST. */
static int msr_index_list(struct kvm *kvm, uint32_t *idx, uint32_t *n)
{
	struct kvm_msr_list *l;
	int ret = 0;

	l = calloc(1, sizeof(*l) + PERSIST_MAX_MSRS * sizeof(uint32_t));
	if (!l)
		return -ENOMEM;
	l->nmsrs = PERSIST_MAX_MSRS;
	if (ioctl(kvm->sys_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		ret = -errno;
	} else {
		*n = l->nmsrs;
		memcpy(idx, l->indices, l->nmsrs * sizeof(uint32_t));
	}
	free(l);
	return ret;
}

static int get_msrs(struct kvm_cpu *cpu, struct kvm_cpu_state *st)
{
	uint32_t idx[PERSIST_MAX_MSRS], n = 0, i, done = 0;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[PERSIST_MAX_MSRS];
	} *m;
	int ret;

	ret = msr_index_list(cpu->kvm, idx, &n);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/*
	 * KVM_GET_MSRS stops at the first MSR it cannot read: skip that one
	 * and go on with the rest.
	 */
	for (i = 0; i < n;) {
		unsigned int k, batch = n - i;

		m->hdr.nmsrs = batch;
		for (k = 0; k < batch; k++) {
			m->e[k].index = idx[i + k];
			m->e[k].data = 0;
		}
		ret = ioctl(cpu->fd, KVM_GET_MSRS, m);
		if (ret < 0) {
			ret = -errno;
			goto out;
		}
		memcpy(&st->msrs[done], m->e, ret * sizeof(m->e[0]));
		done += ret;
		i += ret + 1;
	}
	st->nr_msrs = done;
	ret = 0;
out:
	free(m);
	return ret;
}

int kvm_cpu__save_state(struct kvm_cpu *cpu, struct kvm_cpu_state *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	/* Events first: KVM may fold pending state into them. */
	if (ioctl(cpu->fd, KVM_GET_VCPU_EVENTS, &st->events) < 0 ||
	    ioctl(cpu->fd, KVM_GET_MP_STATE, &st->mp_state) < 0 ||
	    ioctl(cpu->fd, KVM_GET_REGS, &st->regs) < 0 ||
	    ioctl(cpu->fd, KVM_GET_SREGS, &st->sregs) < 0 ||
	    ioctl(cpu->fd, KVM_GET_FPU, &st->fpu) < 0 ||
	    ioctl(cpu->fd, KVM_GET_XSAVE, &st->xsave) < 0 ||
	    ioctl(cpu->fd, KVM_GET_XCRS, &st->xcrs) < 0 ||
	    ioctl(cpu->fd, KVM_GET_LAPIC, &st->lapic) < 0)
		return -errno;
	ret = get_msrs(cpu, st);
	if (ret)
		pr_err("vCPU %u: saving MSRs: %s", cpu->id, strerror(-ret));
	return ret;
}

int kvm_cpu__restore_state(struct kvm_cpu *cpu,
			   const struct kvm_cpu_state *st)
{
	/* The values at RESET (SDM 17.2: DR6 0xffff0ff0, DR7 0x400). */
	struct kvm_debugregs debugregs = { .dr6 = 0xffff0ff0, .dr7 = 0x400 };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[PERSIST_MAX_MSRS];
	} *m;
	int ret;

	if (st->nr_msrs > PERSIST_MAX_MSRS)
		return -EINVAL;
	/* Special registers before the MSRs and LAPIC that depend on them. */
	if (ioctl(cpu->fd, KVM_SET_SREGS, &st->sregs) < 0 ||
	    ioctl(cpu->fd, KVM_SET_REGS, &st->regs) < 0 ||
	    ioctl(cpu->fd, KVM_SET_XSAVE, &st->xsave) < 0 ||
	    ioctl(cpu->fd, KVM_SET_XCRS, &st->xcrs) < 0 ||
	    ioctl(cpu->fd, KVM_SET_FPU, &st->fpu) < 0 ||
	    ioctl(cpu->fd, KVM_SET_LAPIC, &st->lapic) < 0)
		return -errno;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->hdr.nmsrs = st->nr_msrs;
	memcpy(m->e, st->msrs, st->nr_msrs * sizeof(m->e[0]));
	ret = ioctl(cpu->fd, KVM_SET_MSRS, m);
	free(m);
	if (ret < 0)
		return -errno;
	if ((uint32_t)ret != st->nr_msrs) {
		pr_err("vCPU %u: KVM_SET_MSRS took %d of %u MSRs", cpu->id, ret,
		       st->nr_msrs);
		return -EINVAL;
	}
	if (ioctl(cpu->fd, KVM_SET_MP_STATE, &st->mp_state) < 0 ||
	    ioctl(cpu->fd, KVM_SET_VCPU_EVENTS, &st->events) < 0)
		return -errno;
	/*
	 * The state file has no debug registers: a restore gives what a
	 * fresh vCPU has, and a rewind drops breakpoints the guest set since.
	 */
	if (ioctl(cpu->fd, KVM_SET_DEBUGREGS, &debugregs) < 0)
		return -errno;
	return 0;
}

int kvm__save_state(struct kvm *kvm, struct kvm_vm_state *st)
{
	memset(st, 0, sizeof(*st));
	st->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	st->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	st->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	if (ioctl(kvm->vm_fd, KVM_GET_IRQCHIP, &st->pic_master) < 0 ||
	    ioctl(kvm->vm_fd, KVM_GET_IRQCHIP, &st->pic_slave) < 0 ||
	    ioctl(kvm->vm_fd, KVM_GET_IRQCHIP, &st->ioapic) < 0 ||
	    ioctl(kvm->vm_fd, KVM_GET_PIT2, &st->pit) < 0 ||
	    ioctl(kvm->vm_fd, KVM_GET_CLOCK, &st->clock) < 0)
		return -errno;
	return 0;
}

int kvm__restore_state(struct kvm *kvm, const struct kvm_vm_state *st)
{
	struct kvm_clock_data clock = {
		.clock = st->clock.clock,
	};

	if (st->pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER ||
	    st->pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
	    st->ioapic.chip_id != KVM_IRQCHIP_IOAPIC)
		return -EINVAL;
	if (ioctl(kvm->vm_fd, KVM_SET_IRQCHIP, &st->pic_master) < 0 ||
	    ioctl(kvm->vm_fd, KVM_SET_IRQCHIP, &st->pic_slave) < 0 ||
	    ioctl(kvm->vm_fd, KVM_SET_IRQCHIP, &st->ioapic) < 0 ||
	    ioctl(kvm->vm_fd, KVM_SET_PIT2, &st->pit) < 0 ||
	    ioctl(kvm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return -errno;
	return 0;
}
