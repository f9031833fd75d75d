/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What thaw-init reads in the kernel's log (/dev/kmsg), as pure logic:
 * whether a record says the kernel has just been restored as a new VM.
 */
#ifndef THAW_GUEST_KMSG_H
#define THAW_GUEST_KMSG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Is @rec (one read() of /dev/kmsg, @len bytes: "PRI,SEQ,USEC,FLAGS;TEXT"
 * and continuation lines) the kernel's own record of a VM fork, the CRNG
 * reseed its vmgenid driver triggers when the VM generation ID changes?
 * Records that user space wrote (facility other than 0) never are.
 */
bool kmsg__is_vmfork(const char *rec, size_t len);

#endif
