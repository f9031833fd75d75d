/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between the control plane (vmm/api.c: the HTTP API and
 * --config-file) and the machine (vmm/kvm.c and the devices).
 *
 * Threads: the API runs on its own thread and calls only the functions
 * below; each takes vmm->lock itself.  The machine's threads (one per vCPU,
 * one io_uring device loop) never call into the API.
 */
#ifndef THAW_VMM_VMM_H
#define THAW_VMM_VMM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"
#include "vmm/exit.h"

enum vmm_state {
	VMM_NOT_STARTED,	/* configuring; no vCPU has run */
	VMM_RUNNING,
	VMM_PAUSED,
	VMM_HALTED,		/* the guest powered off or reset; exiting */
};

struct vmm;

struct vmm *vmm__new(void);
void vmm__free(struct vmm *vmm);
/* --no-seccomp: no filter on the machine's threads, whatever builds it. */
void vmm__no_seccomp(struct vmm *vmm);

/* The configuration is copied; it may be changed until vmm__start(). */
enum vmm_state vmm__state(struct vmm *vmm);

/*
 * Build the machine from @cfg and run it (InstanceStart).  Returns 0 or
 * -errno, with a message for the API's fault_message in @err (size @errlen).
 */
int vmm__start(struct vmm *vmm, const struct vm_config *cfg,
	       char *err, size_t errlen);
int vmm__pause(struct vmm *vmm, char *err, size_t errlen);
int vmm__resume(struct vmm *vmm, char *err, size_t errlen);
int vmm__send_ctrl_alt_del(struct vmm *vmm, char *err, size_t errlen);

/*
 * Block until the guest halts; returns the thawvm exit code (enum vmm_exit).
 * The main thread calls it after starting the API.
 */
int vmm__wait(struct vmm *vmm);

/*
 * Snapshots (vmm/snapshot/snapshot.h has the parameters).  create: the
 * VM paused.  load: only before anything started; on success the machine
 * runs (or is paused, without resume_vm) and *@cfg_out (initialized by the
 * caller) is the configuration it was built with.  wset: write the
 * working set a load with record_wset has seen so far.
 */
struct snapshot_create_params;
struct snapshot_load_params;
int vmm__snapshot_create(struct vmm *vmm,
			 const struct snapshot_create_params *p,
			 char *err, size_t errlen);
int vmm__snapshot_load(struct vmm *vmm, const struct snapshot_load_params *p,
		       struct vm_config *cfg_out, char *err, size_t errlen);
int vmm__snapshot_wset(struct vmm *vmm, const char *path, char *err,
		       size_t errlen);
/*
 * Rewind a machine a load built to its snapshot, in place: refused (the
 * machine untouched) when it was not loaded, is not running or paused, or
 * its memory backend cannot; else paused (if it ran), rewound, and
 * resumed with resume_vm.  An error after the pause stops the machine.
 * *@st says what the rewind did.
 */
struct snapshot_rewind_params;
struct snapshot_rewind_stats;
int vmm__snapshot_rewind(struct vmm *vmm,
			 const struct snapshot_rewind_params *p,
			 struct snapshot_rewind_stats *st, char *err,
			 size_t errlen);

/*
 * PATCH /drives/{@id}: the running (or paused) machine's drive reads and
 * writes @path from now on.  -errno with a message.
 */
int vmm__drive_update(struct vmm *vmm, const char *id, const char *path,
		      char *err, size_t errlen);

/*
 * Ask the machine to stop (thawvm got a signal): a running guest halts with
 * VMM_EXIT_OK; before vmm__start(), vmm__wait() returns VMM_EXIT_OK and
 * later starts are refused.
 */
void vmm__stop(struct vmm *vmm);

/*
 * Counters and boot timestamps, for metrics and tools/bench/boot.  Times
 * are microseconds since the process started (a constructor in vmm/kvm.c
 * records it before main()); 0 means "not yet".
 */
struct vmm_stats {
	uint64_t exits_io;		/* KVM_EXIT_IO: port I/O */
	uint64_t exits_mmio;		/* KVM_EXIT_MMIO */
	uint64_t exits_hlt;
	uint64_t exits_intr;		/* KVM_RUN interrupted (pause, kick) */
	uint64_t exits_shutdown;	/* triple faults */
	uint64_t exits_system_event;
	uint64_t exits_other;
	uint64_t io_unhandled;		/* accesses no device claimed */
	uint64_t vsock_rx_packets;	/* device -> guest */
	uint64_t vsock_tx_packets;	/* guest -> device */
	uint64_t vsock_rx_bytes;	/* payload bytes */
	uint64_t vsock_tx_bytes;
	uint64_t vsock_conns;		/* connections opened, both ways */
	uint64_t vsock_rsts;		/* RSTs sent to the guest */
	uint64_t net_rx_packets;	/* every interface: tap -> guest */
	uint64_t net_tx_packets;	/* guest -> tap */
	uint64_t net_rx_bytes;
	uint64_t net_tx_bytes;
	uint64_t net_rx_dropped;
	uint64_t net_tx_dropped;
	/* Serial output (vmm/hw/serial.c), Firecracker's uart metrics. */
	uint64_t uart_write_count;	/* bytes the guest sent */
	uint64_t uart_flush_count;	/* write(2)s of them */
	uint64_t uart_missed_write_count;	/* dropped: output full or gone */
	uint64_t uart_rate_limiter_dropped_bytes;
	uint64_t log_missed_count;	/* rate-limited log lines left out */
	uint64_t start_us;		/* vmm__start() called */
	uint64_t first_run_us;		/* the boot vCPU entered the guest */
	uint64_t boot_ready_us;		/* the guest wrote 123 to port 0x3f0 */
	uint64_t rewinds;		/* PUT /snapshot/rewind done */
	uint64_t rewind_pages;		/* pages they returned, in all */
	uint64_t rewind_last_us;	/* the last one, pause to resume */
};

/* Any time after vmm__new(); all zero before vmm__start(). */
void vmm__stats(struct vmm *vmm, struct vmm_stats *out);

/*
 * The machine (vmm/kvm.h), for the snapshot code and the selftests: NULL
 * before vmm__start(), valid until vmm__free().
 */
struct kvm *vmm__machine(struct vmm *vmm);

#endif
