/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libseccomp filters for the machine's own threads: each vCPU thread and
 * the device loop load, for themselves only, an allowlist of the system
 * calls their role makes (measured with strace over the vmm selftests);
 * anything else raises SIGSYS, whose handler names the call and ends the
 * process with VMM_EXIT_ERROR (vmm/exit.h).  The control plane's threads
 * are not filtered here.
 */
#ifndef THAW_VMM_SECCOMP_H
#define THAW_VMM_SECCOMP_H

enum seccomp_role {
	SECCOMP_VCPU,
	SECCOMP_DEVICES,
	SECCOMP_COPIER,		/* the Thaw backend's private copies */
};

/* Once per process, before the first filtered thread starts. */
int seccomp__init(void);
/* Filter the calling thread; 0 or -errno. */
int seccomp__apply(enum seccomp_role role);

#endif
