/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thawvm's exit codes, documented in the admin guide: what the process
 * returns, and what the machine halts with (kvm__halt()).  A header of its
 * own so that the devices and the vCPU loop need not see the control
 * plane's vmm.h.
 */
#ifndef THAW_VMM_EXIT_H
#define THAW_VMM_EXIT_H

enum vmm_exit {
	VMM_EXIT_OK = 0,		/* guest powered off */
	VMM_EXIT_ERROR = 1,		/* setup or runtime error */
	VMM_EXIT_BAD_ARGS = 2,		/* command line or config file */
	VMM_EXIT_GUEST_RESET = 3,	/* guest asked for a reset */
	VMM_EXIT_GUEST_PANIC = 4,	/* triple fault, shutdown exit */
};

#endif
