/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine: a KVM VM with its in-kernel irqchip (PIC, IOAPIC, LAPICs)
 * and PIT, guest RAM, the I/O-port and MMIO buses, the devices, the vCPUs
 * and the io_uring device loop, plus the run control that pauses, resumes
 * and halts them together.
 */
#ifndef THAW_VMM_KVM_H
#define THAW_VMM_KVM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/config.h"
#include "vmm/uring.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/layout.h"

struct guest_mem;
struct kvm_cpu;
struct serial;
struct i8042;
struct pm;
struct boot_timer;
struct virtio_mmio;
struct vsock;
struct net;
struct vmgenid;
struct blk_set;
struct rng;

/* Counters: relaxed atomics, read by vmm__stats(). */
struct kvm_counters {
	atomic_uint_fast64_t exits_io;
	atomic_uint_fast64_t exits_mmio;
	atomic_uint_fast64_t exits_hlt;
	atomic_uint_fast64_t exits_intr;
	atomic_uint_fast64_t exits_shutdown;
	atomic_uint_fast64_t exits_system_event;
	atomic_uint_fast64_t exits_other;
	atomic_uint_fast64_t io_unhandled;
	atomic_uint_fast64_t vsock_rx_packets;	/* device -> guest */
	atomic_uint_fast64_t vsock_tx_packets;	/* guest -> device */
	atomic_uint_fast64_t vsock_rx_bytes;
	atomic_uint_fast64_t vsock_tx_bytes;
	atomic_uint_fast64_t vsock_conns;
	atomic_uint_fast64_t vsock_rsts;
	atomic_uint_fast64_t net_rx_packets;	/* tap -> guest */
	atomic_uint_fast64_t net_tx_packets;	/* guest -> tap */
	atomic_uint_fast64_t net_rx_bytes;
	atomic_uint_fast64_t net_tx_bytes;
	atomic_uint_fast64_t net_rx_dropped;	/* no fit, reset, snapshot */
	atomic_uint_fast64_t net_tx_dropped;	/* the tap refused it */
	atomic_uint_fast64_t uart_write_count;	/* bytes the guest sent */
	atomic_uint_fast64_t uart_flush_count;	/* write(2)s of them */
	atomic_uint_fast64_t uart_missed_write_count;	/* output full/gone */
	atomic_uint_fast64_t uart_rate_limiter_dropped_bytes;
	atomic_uint_fast64_t first_run_ns;	/* monotonic; 0 = not yet */
	atomic_uint_fast64_t boot_ready_ns;	/* guest wrote 123 to 0x3f0 */
};

/*
 * Run control.  Members (every vCPU thread and the device loop) call
 * kvm__park() at safe points: between KVM_RUNs, between loop iterations.
 */
struct kvm_runctl {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause_req;			/* under lock */
	atomic_bool stop;		/* written under lock */
	int exit_code;			/* under lock; first halt wins */
	unsigned int members;		/* under lock */
	unsigned int parked;		/* under lock */
};

struct kvm {
	int sys_fd;
	int vm_fd;
	int vcpu_mmap_size;
	const struct vm_config *cfg;
	struct guest_mem *mem;
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID */
	unsigned int nr_cpus;
	struct kvm_cpu *cpus[VM_MAX_VCPUS];
	struct bus pio;
	struct bus mmio;
	/*
	 * The device loop: the caller's (set before kvm__init(), kept by the
	 * caller, as thawvm does so that no ring is created under seccomp)
	 * or, when NULL, own_loop, created and closed with the machine.
	 */
	struct uring_loop *loop;
	struct uring_loop own_loop;
	bool loop_ok;
	pthread_t loop_thread;
	bool loop_started;
	bool mem_started;		/* guest_mem__start() done */
	struct boot_info boot;
	char cmdline[LAYOUT_CMDLINE_MAX];

	struct serial *serial;
	struct i8042 *i8042;
	struct pm *pm;
	struct boot_timer *boot_timer;
	struct vmgenid *vmgenid;
	struct vsock *vsock;
	struct blk_set *blk;		/* vmm/virtio/blk.c: the drives */
	struct rng *rng;		/* vmm/virtio/rng.c */
	struct net *net;		/* vmm/virtio/net.c */
	unsigned int nr_virtio;
	struct virtio_mmio *virtio[LAYOUT_VIRTIO_SLOTS];

	struct kvm_runctl rc;
	struct kvm_counters stats;
	uint64_t start_ns;		/* vmm__start(), monotonic */
};

/* Monotonic nanoseconds, and those of the process start. */
uint64_t kvm__now_ns(void);
uint64_t kvm__process_start_ns(void);

/* A ring for struct kvm's loop, before the machine exists. */
int kvm__loop_init(struct uring_loop *l);

/*
 * Create the VM, RAM, irqchip, PIT, devices, ACPI tables, load the kernel
 * and create the vCPUs.  Nothing runs yet.  -errno with a message in @err.
 */
int kvm__init(struct kvm *kvm, const struct vm_config *cfg, char *err,
	      size_t errlen);
/*
 * The machine around @mem for a restore: no firmware, no kernel; the caller
 * restores the snapshot's state into it.  The machine owns @mem from this
 * call on, also when it fails (kvm__exit() frees it).
 */
int kvm__init_restore(struct kvm *kvm, const struct vm_config *cfg,
		      struct guest_mem *mem, char *err, size_t errlen);
/* Start the vCPU threads and the device loop. */
int kvm__run(struct kvm *kvm, char *err, size_t errlen);
/* The same, but paused: no guest instruction runs until kvm__resume(). */
int kvm__run_paused(struct kvm *kvm, char *err, size_t errlen);
/* Stop everything (if running), join the threads, free all. */
void kvm__exit(struct kvm *kvm);

/*
 * KVM_GET_DIRTY_LOG of memory slot @slot (guest RAM region @slot) into
 * @map, which KVM then clears; what it held is also kept in the RAM's own
 * dirty bitmap, when it has one, for a rewind (guest_mem__merge_log()).
 */
int kvm__get_dirty_log(struct kvm *kvm, unsigned int slot, uint64_t *map);
int kvm__irq_line(struct kvm *kvm, unsigned int gsi, int level);
int kvm__irqfd(struct kvm *kvm, int fd, unsigned int gsi, bool assign);
int kvm__ioeventfd(struct kvm *kvm, int fd, uint64_t addr, uint32_t len,
		   uint64_t datamatch, bool assign);

/* vmm/kvm-state.c: the in-kernel irqchip, PIT and clock. */
struct kvm_vm_state;
int kvm__save_state(struct kvm *kvm, struct kvm_vm_state *st);
int kvm__restore_state(struct kvm *kvm, const struct kvm_vm_state *st);

/* Run control: see struct kvm_runctl. */
bool kvm__park(struct kvm *kvm, struct kvm_cpu *cpu);
int kvm__pause(struct kvm *kvm);
void kvm__resume(struct kvm *kvm);
void kvm__halt(struct kvm *kvm, int exit_code);
int kvm__wait(struct kvm *kvm);
static inline bool kvm__stopping(struct kvm *kvm)
{
	return atomic_load_explicit(&kvm->rc.stop, memory_order_relaxed);
}

#define kvm__count(kvm, field) \
	atomic_fetch_add_explicit(&(kvm)->stats.field, 1, memory_order_relaxed)
#define kvm__count_n(kvm, field, n) \
	atomic_fetch_add_explicit(&(kvm)->stats.field, n, memory_order_relaxed)

#endif
