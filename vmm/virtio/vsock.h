/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-vsock (virtio 1.x, 5.10): the device (rx, tx, event queues, the
 * packet header) in vmm/virtio/vsock.c, the host side in vmm/virtio/vsock-uds.c
 * (Firecracker's Unix-socket protocol).  The device parses and checks what
 * the guest sends and frames what goes back; the backend keeps the
 * connections, their credit, and the host sockets.
 */
#ifndef THAW_VMM_VIRTIO_VSOCK_H
#define THAW_VMM_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct kvm;
struct vsock;
struct vsock_state;

#define VIRTIO_ID_VSOCK			19
#define VSOCK_CID_HOST			2
#define VSOCK_TYPE_STREAM		1
#define VSOCK_HDR_SIZE			44

#define VSOCK_OP_REQUEST		1
#define VSOCK_OP_RESPONSE		2
#define VSOCK_OP_RST			3
#define VSOCK_OP_SHUTDOWN		4
#define VSOCK_OP_RW			5
#define VSOCK_OP_CREDIT_UPDATE		6
#define VSOCK_OP_CREDIT_REQUEST		7

#define VSOCK_SHUTDOWN_RCV		1
#define VSOCK_SHUTDOWN_SEND		2

#define VSOCK_EVENT_TRANSPORT_RESET	0

/* The packet header in host byte order. */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
};

/* Wire format <-> struct vsock_hdr. */
void vsock__hdr_decode(const uint8_t *raw, struct vsock_hdr *h);
void vsock__hdr_encode(const struct vsock_hdr *h, uint8_t *raw);

/*
 * Device loop, without the transport lock: move what the backend has for
 * the guest into the rx queue.  The backend calls it from its poll
 * callbacks, never from inside its recv() or fill().
 */
void vsock__rx_pump(struct vsock *v);
void vsock__save(struct vsock *v, struct vsock_state *st);
/* On a fresh machine or one that ran, paused: see struct device_snap. */
int vsock__restore(struct vsock *v, const struct vsock_state *st);

/*
 * The host side of the device, behind an ops table: where the guest's
 * connections go and the host's come from.  vmm/virtio/vsock-uds.c
 * (Firecracker's Unix-socket protocol) is the one backend today; a kernel
 * backend plugs in the same way.  Every call but create() gets the
 * backend's own pointer.
 */
struct vsock_backend_ops {
	const char *name;
	/* -errno, and why in @err (uds_path in use, say). */
	int (*create)(struct kvm *kvm, struct vsock *dev, uint64_t guest_cid,
		      const char *uds_path, void **out, char *err,
		      size_t errlen);
	/* The loop is gone or never ran: free everything. */
	void (*free)(void *b);
	/* Start taking host connections (the loop is about to run). */
	int (*start)(void *b);
	/* A packet from the guest, already checked against the chain's size. */
	void (*recv)(void *b, const struct vsock_hdr *h,
		     const struct iovec *payload, unsigned int n);
	/* Is there something for the guest? */
	bool (*pending)(void *b);
	/*
	 * Build the next packet for the guest: fills @h and writes up to
	 * @cap payload bytes into @buf.  @cap is 0 for a buffer with room
	 * for the header only: a control packet then.  Returns 1, or 0 if
	 * there was nothing after all.
	 */
	int (*fill)(void *b, struct vsock_hdr *h, const struct iovec *buf,
		    unsigned int n, uint32_t cap);
	/*
	 * The driver reset the device, or a restore: drop every connection
	 * and every packet owed to the guest.  Device loop, or any thread
	 * while the machine is paused (the loop parked).
	 */
	void (*reset)(void *b);
	/* The guest's CID from now on (a restore may give a new one). */
	void (*set_cid)(void *b, uint64_t guest_cid);
};

extern const struct vsock_backend_ops vsock_uds_ops;

#endif
