/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM Generation ID device (Microsoft's "Virtual Machine Generation ID"
 * spec, which Linux's drivers/virt/vmgenid.c follows): 16 random bytes in
 * guest memory at LAYOUT_VMGENID, described in the DSDT as Device (VGEN),
 * plus the ACPI Generic Event Device whose interrupt
 * (LAYOUT_IRQ_GED_VMGENID) makes the guest's _EVT send Notify (VGEN, 0x80).
 * On that notification Linux re-reads the ID and, if it changed, mixes it
 * into the CRNG and reseeds at once (add_vmfork_randomness(): "random: crng
 * reseeded due to virtual machine fork"), so two clones of one snapshot
 * stop sharing their random state before they run any user code.
 */
#ifndef THAW_VMM_HW_VMGENID_H
#define THAW_VMM_HW_VMGENID_H

#include <stdint.h>

#include "vmm/x86/layout.h"

struct kvm;
struct vmgenid;
struct vmgenid_state;

/*
 * vmgenid__init()/vmgenid__exit() (vmm/devices.h) make and free the live
 * object; they write nothing into the guest.
 */

/*
 * A fresh boot: write the first ID (from getrandom()) into guest memory,
 * without an interrupt (the guest reads it when its driver probes).
 * kvm__init() calls it with the ACPI tables.  0 or -errno.
 */
int vmgenid__generate(struct kvm *kvm);

/*
 * Every restore: write a new random ID into guest memory, then pulse the
 * GED's edge-triggered interrupt so the guest re-reads it and reseeds its
 * CRNG before it runs anything else.
 *
 * Call it after the restored state is loaded into KVM -- the vCPUs'
 * LAPICs (KVM_SET_LAPIC) and the irqchip (KVM_SET_IRQCHIP) -- because
 * loading them afterwards would drop the pending interrupt, and before the
 * vCPUs resume, so that the guest takes the interrupt first.  It may also
 * be called on a running machine (tests do): the guest reseeds as soon as
 * the interrupt arrives.  Thread-safe; 0 or -errno (-EFAULT: the ID's page
 * is not guest RAM; -errno of getrandom() or KVM_IRQ_LINE).
 */
int vmgenid__regenerate(struct kvm *kvm);

/* The ID now in guest memory (16 bytes); 0 or -EFAULT. */
int vmgenid__read(struct kvm *kvm, uint8_t id[LAYOUT_VMGENID_SIZE]);

/* How many IDs this machine's line has written (boot and restores). */
uint64_t vmgenid__generation(struct kvm *kvm);

#endif
