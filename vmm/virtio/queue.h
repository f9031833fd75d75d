/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueues (virtio 1.x, 2.7) read from guest memory.  The guest is
 * hostile: every index, address, length and flag it wrote is checked, each
 * descriptor is copied once before it is used, and a chain that loops,
 * leaves RAM, overflows, or breaks the rules makes virtq__pop() fail and
 * the queue broken (the device then asks for a reset).  Nothing here can
 * make the VMM read or write outside guest RAM.
 */
#ifndef THAW_VMM_VIRTIO_QUEUE_H
#define THAW_VMM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct guest_mem;
struct virtq_state;

#define VIRTQ_MAX_SIZE		256	/* QueueNumMax of our devices */

#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq {
	/* Set by the driver through the transport. */
	uint16_t num;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Progress. */
	uint16_t last_avail;
	uint16_t used_idx;
	bool broken;
	/* Host views of the rings, checked by virtq__enable(). */
	const struct guest_mem *mem;	/* the RAM they are in */
	struct virtq_desc *desc;
	uint16_t *avail;		/* flags, idx, ring[num], used_event */
	uint16_t *used;			/* flags, idx, ring[num] (8 B each) */
};

/* One available buffer: readable (out) segments, then writable (in). */
struct virtq_chain {
	uint16_t head;
	unsigned int nr_out, nr_in;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* Forget everything (device reset). */
void virtq__reset(struct virtq *vq);

/*
 * QueueReady: check the size the driver chose (power of two, 1..@max) and
 * that the three rings are aligned and wholly in RAM; -EINVAL otherwise.
 */
int virtq__enable(struct virtq *vq, const struct guest_mem *mem,
		  uint16_t max);

/*
 * Take the next available chain.  1: @c holds it; 0: none available;
 * -EINVAL/-EFAULT: the guest broke the rules (the queue is now broken).
 */
int virtq__pop(struct virtq *vq, const struct guest_mem *mem,
	       struct virtq_chain *c);
/* Give back the chain just popped, unused. */
void virtq__unpop(struct virtq *vq);
/* Is a chain available (without taking it)?  false when broken. */
bool virtq__has_avail(struct virtq *vq);
/*
 * Return chain @c (as popped) with @len bytes written into its writable
 * part.  Those bytes and the used ring's entry are marked dirty in guest
 * memory (guest_mem__mark_dirty()): the VMM's writes, for a rewind.
 */
void virtq__push(struct virtq *vq, const struct virtq_chain *c,
		 uint32_t len);
/* After pushes: does the driver want an interrupt? */
bool virtq__should_notify(struct virtq *vq);

/* Copy between a flat buffer and @n iovecs, starting @off bytes in. */
size_t iov__to_buf(const struct iovec *iov, unsigned int n, size_t off,
		   void *buf, size_t len);
size_t iov__from_buf(const struct iovec *iov, unsigned int n, size_t off,
		     const void *buf, size_t len);
/*
 * Point @dst (at most @max entries) at bytes [@off, @off + @len) of @src;
 * returns the number of entries used.
 */
unsigned int iov__slice(const struct iovec *src, unsigned int n, size_t off,
			size_t len, struct iovec *dst, unsigned int max);

void virtq__save(const struct virtq *vq, struct virtq_state *st);
/* Restore, re-checking the rings against @mem; -EINVAL if they fail. */
int virtq__restore(struct virtq *vq, const struct virtq_state *st,
		   const struct guest_mem *mem, uint16_t max);

#endif
