/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-net (virtio 1.x, 5.1) on a host tap: queue 0 rx, 1 tx, one
 * virtio-mmio device per configured interface (vm_config's net[]).
 *
 * The data path is the device loop's data ring (vmm/uring.h): tx chains
 * go to the tap as they are, a copy of their header in front (writev, up
 * to NET_TX_SLOTS in flight); frames from the tap land in host buffers
 * (readv, NET_RX_SLOTS of them in flight) and are copied into the guest's
 * rx buffers, merged over several when the driver took
 * VIRTIO_NET_F_MRG_RXBUF.  Host buffers rather than reads straight into
 * guest memory: a read in flight then never holds a guest buffer, so a
 * pause, a snapshot or a reset has nothing half-written to undo, and
 * merging costs nothing more (the driver posts page-sized buffers, not
 * 64 KiB ones for every frame).
 *
 * A frame responder (MMDS's 169.254.169.254, to come) has one place on
 * each side: tx_process() in net.c holds every frame the guest sends,
 * checked, before it goes to the tap, and could answer it instead; its
 * answers would go into a free host rx buffer and the rx FIFO, where
 * frames from the tap wait for guest buffers.
 */
#ifndef THAW_VMM_VIRTIO_NET_H
#define THAW_VMM_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct guest_mem;
struct virtq;
struct virtq_chain;

#define VIRTIO_ID_NET			1

#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15

#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80

/* struct virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers; little-endian. */
#define NET_HDR_LEN			12
#define NET_HDR_NUM_BUFFERS		10
/* The largest frame either way: 64 KiB of IP plus an Ethernet header. */
#define NET_MAX_FRAME			(65536 + 14)
#define NET_MAX_PKT			(NET_HDR_LEN + NET_MAX_FRAME)

/* Most rx buffers one frame may be merged over. */
#define NET_RX_MAX_BUFS			64

/*
 * A tx chain from the guest (@features: the driver's): 0, with its header
 * copied to @hdr, and @iov (@max entries) holding @hdr then the frame's
 * bytes in guest memory, *@n of them; or -EINVAL and *@why: a header
 * shorter than NET_HDR_LEN, a frame over NET_MAX_FRAME, writable
 * descriptors, an offload the driver did not negotiate.
 */
int net__tx_parse(const struct virtq_chain *c, uint64_t features,
		  uint8_t *hdr, struct iovec *iov, unsigned int max,
		  unsigned int *n, const char **why);

/*
 * Put @pkt (@len bytes: the tap's header, then the frame) into rx queue
 * @vq: 1: done, its chains pushed; 0: the guest has no room for it now
 * (nothing taken); -EMSGSIZE: it cannot fit the guest's buffers (no
 * MRG_RXBUF and a chain too short, or more than @max_chains needed), it
 * is to be dropped, nothing taken; -EINVAL (and *@why): a chain broke the
 * rules (read-only, shorter than a header, or the queue's own checks),
 * the device must break.  @chains: room for @max_chains chains.
 */
int net__rx_place(struct virtq *vq, const struct guest_mem *mem, bool mrg,
		  uint8_t *pkt, size_t len, struct virtq_chain *chains,
		  unsigned int max_chains, const char **why);

#endif
