/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Saved state of every part of the machine, as plain data: no pointers, no
 * file descriptors, fixed-size fields, so a snapshot can write it as it is
 * and a restore can read it into a freshly built machine.  Each live object
 * has a save() that fills its struct and a restore() that takes the struct
 * plus the live resources; they sit beside the device they belong to.
 *
 * Call them only while the machine is paused (vmm__pause()): then no vCPU
 * is inside KVM_RUN and the device loop is parked.
 */
#ifndef THAW_VMM_PERSIST_H
#define THAW_VMM_PERSIST_H

#include <stdint.h>

#include <linux/kvm.h>

#include "vmm/config.h"

#define PERSIST_MAX_MSRS	256
#define PERSIST_MAX_QUEUES	4
#define PERSIST_I8042_QUEUE	16

/* One vCPU (vmm/kvm-state.c). */
struct kvm_cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	uint32_t nr_msrs;
	uint32_t pad;
	struct kvm_msr_entry msrs[PERSIST_MAX_MSRS];
};

/* The VM: in-kernel irqchip, PIT and kvmclock (vmm/kvm-state.c). */
struct kvm_vm_state {
	struct kvm_irqchip pic_master;
	struct kvm_irqchip pic_slave;
	struct kvm_irqchip ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/*
 * vmm/snapshot/snapshot.c, SNAP_SEC_VM_CONFIG: what the machine to restore
 * into looks like (the fuzzer's corpus maker writes one too).
 */
#define SNAP_CFG_SMT		(1u << 0)
#define SNAP_CFG_VSOCK		(1u << 1)
#define SNAP_CFG_DIRTY		(1u << 2)
#define SNAP_CFG_HUGE_2M	(1u << 3)

struct snap_vm_config {
	uint32_t vcpu_count;
	uint32_t flags;			/* SNAP_CFG_* */
	uint64_t mem_size_mib;
	uint32_t guest_cid;
	uint32_t reserved;
	char uds_path[104];		/* NUL-terminated; vsock-uds.h */
};

/* SNAP_SEC_IRQCHIP */
struct snap_irqchip {
	struct kvm_irqchip chip[3];	/* PIC master, PIC slave, IOAPIC */
};

/* vmm/hw/serial.c */
struct serial_state {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	uint8_t thr_ipending;
	uint8_t pad[6];
};

/* vmm/hw/i8042.c */
struct i8042_state {
	uint8_t status, ctr, outport, pending_cmd;
	uint8_t kbd_pending_cmd, irq_level;
	uint8_t qhead, qlen;
	uint8_t queue[PERSIST_I8042_QUEUE];
};

/* vmm/virtio/queue.c */
struct virtq_state {
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t num, last_avail, used_idx;
	uint8_t ready, pad;
};

/* vmm/virtio/mmio.c: the transport, the same for every device. */
struct virtio_mmio_state {
	uint32_t status;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint64_t driver_features;
	uint32_t interrupt_status;
	uint32_t config_generation;
	uint32_t nr_queues;
	uint32_t broken;
	struct virtq_state vqs[PERSIST_MAX_QUEUES];
};

/*
 * vmm/hw/vmgenid.c.  The ID itself lives in guest memory (the memory file
 * has it); a restore checks the address and interrupt against the machine
 * it builds and then writes a new ID (vmgenid__regenerate()).
 */
struct vmgenid_state {
	uint64_t gpa;			/* where the 16-byte ID is */
	uint32_t gsi;			/* the GED's interrupt */
	uint32_t pad;			/* zero */
	uint64_t generation;		/* IDs written so far */
};

/*
 * vmm/virtio/vsock.c.  Connections are not saved: a restored guest gets a
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET and reconnects, as on Firecracker.
 */
struct vsock_state {
	uint64_t guest_cid;
	struct virtio_mmio_state mmio;
};

/*
 * vmm/virtio/blk.c, SNAP_SEC_DEV_BLOCK(0): every drive, in the machine's
 * order (the guest's vda, vdb, ...).  A load rebuilds the drives from it
 * (path_on_host reopened, or the load's drive_overrides) and refuses a
 * backing file whose size is not the saved one.  No request is in flight
 * in a snapshot: the save waits for them.
 */
#define PERSIST_DRIVE_ID	72	/* VM_DRIVE_ID_MAX + NUL, padded */
#define PERSIST_DRIVE_PATH	4096	/* PATH_MAX */
#define PERSIST_PARTUUID	40

#define BLK_STATE_RO		(1u << 0)
#define BLK_STATE_ROOT		(1u << 1)
#define BLK_STATE_WRITEBACK	(1u << 2)
#define BLK_STATE_ASYNC		(1u << 3)
#define BLK_STATE_DIRECT	(1u << 4)
#define BLK_STATE_FLAGS		0x1fu

struct blk_drive_state {
	char drive_id[PERSIST_DRIVE_ID];	/* NUL-terminated */
	char path[PERSIST_DRIVE_PATH];		/* NUL-terminated */
	char partuuid[PERSIST_PARTUUID];	/* "" for none */
	uint64_t sectors;			/* the guest's capacity */
	uint64_t features;			/* offered, VERSION_1 aside */
	uint32_t flags;				/* BLK_STATE_* */
	uint32_t pad;				/* zero */
	struct virtio_mmio_state mmio;
};

struct blk_state {
	uint32_t nr_drives;			/* 1..VM_MAX_DRIVES */
	uint32_t pad;
	struct blk_drive_state drives[VM_MAX_DRIVES];
};

/* vmm/virtio/rng.c, SNAP_SEC_DEV_RNG(0). */
struct rng_state {
	struct virtio_mmio_state mmio;
};

/*
 * vmm/virtio/net.c: every interface, in the machine's order (which is its
 * virtio-mmio slots').  Frames in flight are not saved (the network
 * drops them); tx chains the tap had not finished with are, by head, and
 * a restore hands them back to the guest as sent.
 */
#define PERSIST_NET_TX_SLOTS	32

struct net_iface_state {
	char iface_id[VM_NET_ID_MAX];	/* NUL-terminated */
	char host_dev_name[VM_NET_DEV_MAX];
	uint8_t guest_mac[6];
	uint8_t has_mac;
	uint8_t pad;
	uint32_t nr_tx_inflight;
	uint64_t features;		/* what the device offered */
	uint16_t tx_inflight[PERSIST_NET_TX_SLOTS];	/* chain heads */
	struct virtio_mmio_state mmio;
};

struct net_state {
	uint32_t nr_ifaces;
	uint32_t pad;
	struct net_iface_state iface[VM_MAX_NET_IFACES];
};

/*
 * vmm/mmds/persist.c, SNAP_SEC_DEV_MMDS: MMDS's configuration, so that a
 * clone serves MMDS where its snapshot did.  Not the data store (host
 * state, PUT again by the clone's orchestrator) nor the session tokens
 * (a clone's guest gets new ones), as Firecracker.
 */
struct mmds_state {
	uint32_t version;		/* 1 or 2 */
	uint32_t ipv4;			/* network order */
	uint8_t imds_compat;
	uint8_t pad[3];			/* zero */
	uint32_t nr_ifaces;		/* 1..VM_MAX_NET_IFACES */
	char ifaces[VM_MAX_NET_IFACES][VM_NET_ID_MAX];	/* NUL-terminated */
};

#endif
