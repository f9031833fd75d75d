// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net frames against the guest's chains, without the device: what
 * a tx chain must look like, where an rx frame goes.  Pure queue logic,
 * so the hostile-ring unit tests (tests/unit/net_test.c) drive it as the
 * device does.
 */
#include <errno.h>
#include <string.h>

#include "vmm/virtio/net.h"
#include "vmm/virtio/queue.h"

static bool has(uint64_t features, unsigned int bit)
{
	return features & (1ULL << bit);
}

/* Does the header ask only for what the driver negotiated? */
static const char *hdr_refused(const uint8_t *hdr, uint64_t features)
{
	uint8_t flags = hdr[0], gso = hdr[1];

	if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !has(features, VIRTIO_NET_F_CSUM))
		return "tx header asks for a checksum offload not negotiated";
	if (gso & VIRTIO_NET_HDR_GSO_ECN)
		return "tx header asks for ECN segmentation, not offered";
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return NULL;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return has(features, VIRTIO_NET_F_HOST_TSO4) ? NULL :
		       "tx header asks for TSO4, not negotiated";
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return has(features, VIRTIO_NET_F_HOST_TSO6) ? NULL :
		       "tx header asks for TSO6, not negotiated";
	case VIRTIO_NET_HDR_GSO_UDP:
		return has(features, VIRTIO_NET_F_HOST_UFO) ? NULL :
		       "tx header asks for UFO, not negotiated";
	default:
		return "tx header has an unknown gso_type";
	}
}

int net__tx_parse(const struct virtq_chain *c, uint64_t features,
		  uint8_t *hdr, struct iovec *iov, unsigned int max,
		  unsigned int *n, const char **why)
{
	uint64_t frame;

	*why = NULL;
	if (c->nr_in)
		*why = "tx chain with device-writable descriptors";
	else if (c->out_len < NET_HDR_LEN)
		*why = "tx chain shorter than the virtio-net header";
	else if (c->out_len - NET_HDR_LEN > NET_MAX_FRAME)
		*why = "tx frame larger than 64 KiB plus its Ethernet header";
	if (*why)
		return -EINVAL;
	frame = c->out_len - NET_HDR_LEN;
	/* One copy of the header: what is checked is what the tap gets. */
	iov__to_buf(c->iov, c->nr_out, 0, hdr, NET_HDR_LEN);
	*why = hdr_refused(hdr, features);
	if (*why)
		return -EINVAL;
	iov[0].iov_base = hdr;
	iov[0].iov_len = NET_HDR_LEN;
	*n = 1 + iov__slice(c->iov, c->nr_out, NET_HDR_LEN, frame, iov + 1,
			    max - 1);
	return 0;
}

/* Every popped chain back, newest first: the guest sees nothing taken. */
static void unpop(struct virtq *vq, unsigned int k)
{
	while (k--)
		virtq__unpop(vq);
}

int net__rx_place(struct virtq *vq, const struct guest_mem *mem, bool mrg,
		  uint8_t *pkt, size_t len, struct virtq_chain *chains,
		  unsigned int max_chains, const char **why)
{
	unsigned int k = 0, i;
	uint32_t used[NET_RX_MAX_BUFS];
	size_t off = 0, room;
	int ret;

	*why = NULL;
	if (len < NET_HDR_LEN || len > NET_MAX_PKT)
		return -EMSGSIZE;
	if (max_chains > NET_RX_MAX_BUFS)
		max_chains = NET_RX_MAX_BUFS;
	while (off < len) {
		if (k == max_chains || (!mrg && k == 1)) {
			unpop(vq, k);
			return -EMSGSIZE;
		}
		ret = virtq__pop(vq, mem, &chains[k]);
		if (ret < 0) {
			*why = "bad rx chain";
			return -EINVAL;
		}
		if (!ret) {
			unpop(vq, k);
			return 0;
		}
		if (chains[k].nr_out) {
			*why = "rx chain with device-readable descriptors";
			return -EINVAL;
		}
		if (chains[k].in_len < NET_HDR_LEN) {
			*why = "rx buffer shorter than the virtio-net header";
			return -EINVAL;
		}
		room = chains[k].in_len < len - off ? chains[k].in_len :
		       len - off;
		if (!mrg && room < len) {
			unpop(vq, 1);
			return -EMSGSIZE;
		}
		iov__from_buf(chains[k].iov + chains[k].nr_out, chains[k].nr_in,
			      0, pkt + off, room);
		used[k++] = room;
		off += room;
	}
	/* num_buffers: how many chains the frame took (1 without merging). */
	pkt[NET_HDR_NUM_BUFFERS] = k;
	pkt[NET_HDR_NUM_BUFFERS + 1] = k >> 8;
	iov__from_buf(chains[0].iov, chains[0].nr_in, NET_HDR_NUM_BUFFERS,
		      pkt + NET_HDR_NUM_BUFFERS, 2);
	for (i = 0; i < k; i++)
		virtq__push(vq, &chains[i], used[i]);
	return 1;
}
