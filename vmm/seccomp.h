/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libseccomp filters on every thread of thawvm.  Filters stack and threads
 * inherit them: the main thread loads the control plane's allowlist once
 * start-up is done (vmm/main.c), before it creates any thread, so every
 * later thread runs under it; the signal thread, each vCPU thread, the
 * device loop and the Thaw backend's copier then load their own, narrower
 * list on top.  The API thread (libmicrohttpd's) keeps the control plane's:
 * it builds, loads, snapshots and rewinds the machine.
 *
 * The lists were measured with strace -ff over the vmm selftests (their
 * snapshot_test.sh loads with every backend) and hold for the snapshot
 * selftests (Documentation/admin-guide/machine.rst, "seccomp").  No list
 * lets a thread map or protect memory executable; none has io_uring_setup,
 * and io_uring_register only for IORING_REGISTER_FILES_UPDATE (the control
 * plane's, to put a drive's file in the block ring's table): the device
 * loop's ring and the block ring are made at start-up and restricted
 * (vmm/uring.h, vmm/virtio/blk.h); the control plane gets EPERM for
 * io_uring_setup (lib/memfile.c then writes with pwrite), every other call
 * outside a list raises SIGSYS, whose handler names the call and the
 * thread's role and ends the process with VMM_EXIT_ERROR (vmm/exit.h).
 */
#ifndef THAW_VMM_SECCOMP_H
#define THAW_VMM_SECCOMP_H

enum seccomp_role {
	SECCOMP_CONTROL,	/* main, API: also every role below */
	SECCOMP_SIGNALS,	/* main.c's sigwait thread */
	SECCOMP_VCPU,
	SECCOMP_DEVICES,
	SECCOMP_COPIER,		/* the Thaw backend's private copies */
	SECCOMP_MMDS,		/* vmm/mmds/mmds.h: libslirp, its HTTP */
};

/* The SIGSYS handler; before the first filter.  0 or -errno. */
int seccomp__init(void);
/* Filter the calling thread, and the threads it creates; 0 or -errno. */
int seccomp__apply(enum seccomp_role role);

#endif
