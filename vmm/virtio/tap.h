/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host tap devices for virtio-net: attach to a tap that already exists (by
 * name, as Firecracker's host_dev_name) with a 12-byte virtio-net header
 * on every frame (struct virtio_net_hdr_v1, VIRTIO_NET_F_MRG_RXBUF's size,
 * which virtio 1.x always uses), and set which offloads the tap may hand
 * us.  A tap that does not exist is an error, never created: TUNSETIFF
 * would make a new, transient one, which is detected and refused.
 */
#ifndef THAW_VMM_VIRTIO_TAP_H
#define THAW_VMM_VIRTIO_TAP_H

#include <stdbool.h>
#include <stddef.h>

#define TAP_VNET_HDR_LEN	12

/* A name the kernel could take: 1 to IFNAMSIZ-1 bytes, no '/' or space. */
bool tap__name_ok(const char *name);
/*
 * The tap @name, attached, non-blocking, with the vnet header: an fd, or
 * -errno and why in @err.
 */
int tap__open(const char *name, char *err, size_t errlen);
/* Attach and let go: 0 if tap__open() would work now. */
int tap__check(const char *name, char *err, size_t errlen);
/*
 * Of the TUN_F_* offloads in @want, those the tap takes (tried as a
 * whole, then without UFO, then checksum-only, then none).
 */
unsigned int tap__probe_offloads(int fd, unsigned int want);
/* TUNSETOFFLOAD: what the tap may hand us from now on; 0 or -errno. */
int tap__set_offloads(int fd, unsigned int flags);

#endif
