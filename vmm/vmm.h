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

enum vmm_state {
	VMM_NOT_STARTED,	/* configuring; no vCPU has run */
	VMM_RUNNING,
	VMM_PAUSED,
	VMM_HALTED,		/* the guest powered off or reset; exiting */
};

/* Exit codes of thawvm, documented in the admin guide. */
enum vmm_exit {
	VMM_EXIT_OK = 0,		/* guest powered off */
	VMM_EXIT_ERROR = 1,		/* setup or runtime error */
	VMM_EXIT_BAD_ARGS = 2,		/* command line or config file */
	VMM_EXIT_GUEST_RESET = 3,	/* guest asked for a reset */
	VMM_EXIT_GUEST_PANIC = 4,	/* triple fault, shutdown exit */
};

struct vmm;

struct vmm *vmm__new(void);
void vmm__free(struct vmm *vmm);

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
 * The main thread calls it after starting the API, possibly before
 * vmm__start(): it then waits for a start and a halt, or for vmm__stop().
 */
int vmm__wait(struct vmm *vmm);

/* Ask the machine to stop (a signal to thawvm); vmm__wait() then returns. */
void vmm__stop(struct vmm *vmm);

/* Counters for metrics and benches; a consistent snapshot of them. */
struct vmm_counters {
	uint64_t exits;			/* every KVM_RUN return */
	uint64_t exits_io;
	uint64_t exits_mmio;
	uint64_t exits_hlt;
	uint64_t exits_other;
	uint64_t vsock_rx_packets;	/* host -> guest */
	uint64_t vsock_tx_packets;	/* guest -> host */
	uint64_t boot_timer_ns;		/* process start -> guest wrote 123
					 * to port 0x3f0; 0 until then */
	uint64_t start_ns;		/* process start -> first KVM_RUN */
};

void vmm__counters(struct vmm *vmm, struct vmm_counters *out);

#endif
