/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk's insides, shared by its three files: blk.c (the device, its
 * drives, their files), blk-io.c (the data ring and the requests) and
 * blk-persist.c (the snapshot section).  Not for other code: blk.h is the
 * device's face.
 */
#ifndef THAW_VMM_VIRTIO_BLK_INT_H
#define THAW_VMM_VIRTIO_BLK_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/config.h"
#include "vmm/uring.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/mmio.h"
#include "vmm/virtio/queue.h"

#define BLK_HDR_SIZE		16
#define BLK_SEG_SIZE		16	/* a discard/write-zeroes segment */
#define BLK_CONFIG_SIZE		60
#define BLK_RING_ENTRIES	256
/* The ring's file table: a slot per drive of the machine. */
#define BLK_RING_FILES		VM_MAX_DRIVES
/* At most this many bytes in one discard or write-zeroes request. */
#define BLK_MAX_ZERO_SECTORS	(1u << 22)

struct blk_req {
	struct blk *b;
	struct blk_req *next_free;
	uint32_t epoch;			/* the drive's at submission */
	uint32_t type;
	uint64_t expect;		/* bytes a READV/WRITEV must move */
	uint8_t *status;		/* in guest memory */
	uint32_t written;		/* used length on success */
	struct virtq_chain chain;
	struct iovec data[BLK_QUEUE_SIZE];
};

struct blk {
	struct kvm *kvm;		/* NULL in the unit tests */
	struct virtio_mmio *vm;		/* NULL in the unit tests */
	const struct guest_mem *mem;
	struct virtq *vq;
	struct virtio_dev_ops ops;	/* per drive: its features */
	unsigned int slot;		/* in the ring's file table */
	char id[VIRTIO_BLK_ID_BYTES + 1];
	char drive_id[VM_DRIVE_ID_MAX + 1];
	char *path;
	char *partuuid;
	int fd;
	uint64_t sectors;
	uint32_t flags;			/* BLK_STATE_* */
	/* Under vm->lock: */
	uint32_t epoch;			/* bumped by a device reset */
	unsigned int depth;		/* slots usable: 1 for Sync */
	unsigned int busy;		/* requests in flight */
	bool stalled;			/* chains wait for a slot */
	bool test_broken;
	struct blk_req *free;
	struct blk_req *reqs;
};

/* The machine's drives (kvm->blk) and the poll on the ring's fd. */
struct blk_set {
	struct kvm *kvm;
	unsigned int nr;
	struct blk *drives[VM_MAX_DRIVES];
	struct uring_poll poll;
};

static inline void blk__lock(struct blk *b)
{
	if (b->vm)
		pthread_mutex_lock(&b->vm->lock);
}

static inline void blk__unlock(struct blk *b)
{
	if (b->vm)
		pthread_mutex_unlock(&b->vm->lock);
}

/* blk-io.c.  Put @fd (-1: none) in slot @slot of the ring's file table. */
int blk_io__set_file(unsigned int slot, int fd);
/* The ring's fd, for the device loop's poll. */
int blk_io__ring_fd(void);
/* Pop and start @b's requests while it has slots.  vm->lock held. */
void blk_io__process(struct blk *b);
/* Answer every completion there is (@wait: block for one first). */
unsigned int blk_io__reap(bool wait);
/* Until no request of @b is in flight: the device loop parked or gone. */
void blk_io__drain(struct blk *b);

#endif
