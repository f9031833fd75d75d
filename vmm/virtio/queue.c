// SPDX-License-Identifier: GPL-2.0
/* Split virtqueues with hostile drivers: see queue.h. */
#include <errno.h>
#include <string.h>

#include "vmm/mem/mem.h"
#include "vmm/persist.h"
#include "vmm/virtio/queue.h"

/* The rings are shared with the guest: load and store each field once. */
#define RD(p)		__atomic_load_n(&(p), __ATOMIC_RELAXED)
#define RD_ACQ(p)	__atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define WR(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define WR_REL(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

#define AVAIL_FLAGS	0
#define AVAIL_IDX	1
#define AVAIL_RING	2
#define USED_FLAGS	0
#define USED_IDX	1
#define USED_RING	2		/* in uint16_t units: 4 bytes in */

void virtq__reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

int virtq__enable(struct virtq *vq, const struct guest_mem *mem,
		  uint16_t max)
{
	uint64_t n = vq->num;

	vq->ready = false;
	if (!n || n > max || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return -EINVAL;
	vq->desc = guest_mem__ptr(mem, vq->desc_gpa, 16 * n);
	vq->avail = guest_mem__ptr(mem, vq->avail_gpa, 6 + 2 * n);
	vq->used = guest_mem__ptr(mem, vq->used_gpa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = NULL;
		vq->avail = vq->used = NULL;
		return -EINVAL;
	}
	vq->mem = mem;
	vq->broken = false;
	vq->ready = true;
	return 0;
}

static int broken(struct virtq *vq, int err)
{
	vq->broken = true;
	return err;
}

/* Available entries not yet taken; -EINVAL if the guest's idx is absurd. */
static int pending(struct virtq *vq)
{
	uint16_t idx = RD_ACQ(vq->avail[AVAIL_IDX]);
	uint16_t n = idx - vq->last_avail;

	if (n > vq->num)
		return -EINVAL;
	return n;
}

bool virtq__has_avail(struct virtq *vq)
{
	int n;

	if (!vq->ready || vq->broken)
		return false;
	n = pending(vq);
	if (n < 0) {
		broken(vq, n);
		return false;
	}
	return n > 0;
}

int virtq__pop(struct virtq *vq, const struct guest_mem *mem,
	       struct virtq_chain *c)
{
	uint16_t head, i;
	unsigned int count = 0;
	int n;

	if (!vq->ready || vq->broken)
		return 0;
	n = pending(vq);
	if (n < 0)
		return broken(vq, n);
	if (!n)
		return 0;
	head = RD(vq->avail[AVAIL_RING + vq->last_avail % vq->num]);
	if (head >= vq->num)
		return broken(vq, -EINVAL);
	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;

	for (i = head;;) {
		struct virtq_desc d;
		struct iovec *iov;
		void *p = NULL;

		/* A chain visits each descriptor at most once. */
		if (count++ >= vq->num)
			return broken(vq, -ELOOP);
		d.addr = RD(vq->desc[i].addr);
		d.len = RD(vq->desc[i].len);
		d.flags = RD(vq->desc[i].flags);
		d.next = RD(vq->desc[i].next);
		/* Not offered (VIRTIO_F_INDIRECT_DESC), so not allowed. */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return broken(vq, -EINVAL);
		if (d.len) {
			p = guest_mem__ptr(mem, d.addr, d.len);
			if (!p)
				return broken(vq, -EFAULT);
		}
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			c->in_len += d.len;
			iov = &c->iov[c->nr_out + c->nr_in++];
		} else {
			/* Readable descriptors all come first (2.7.4.2). */
			if (c->nr_in)
				return broken(vq, -EINVAL);
			c->out_len += d.len;
			iov = &c->iov[c->nr_out++];
		}
		/* used.len is 32 bits: no chain may carry more. */
		if (c->in_len > UINT32_MAX || c->out_len > UINT32_MAX)
			return broken(vq, -EOVERFLOW);
		iov->iov_base = p;
		iov->iov_len = d.len;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= vq->num)
			return broken(vq, -EINVAL);
		i = d.next;
	}
	vq->last_avail++;
	return 1;
}

void virtq__unpop(struct virtq *vq)
{
	vq->last_avail--;
}

/* The first @len bytes of @c's writable part were written: mark them. */
static void mark_written(const struct virtq *vq, const struct virtq_chain *c,
			 uint32_t len)
{
	const struct iovec *iov = &c->iov[c->nr_out];
	unsigned int i;
	size_t k;

	for (i = 0; i < c->nr_in && len; i++) {
		k = iov[i].iov_len < len ? iov[i].iov_len : len;
		guest_mem__mark_dirty(vq->mem, iov[i].iov_base, k);
		len -= k;
	}
}

void virtq__push(struct virtq *vq, const struct virtq_chain *c,
		 uint32_t len)
{
	struct virtq_used_elem *ring;
	uint16_t slot;

	if (!vq->ready || vq->broken)
		return;
	slot = vq->used_idx % vq->num;
	ring = (struct virtq_used_elem *)(vq->used + USED_RING);
	mark_written(vq, c, len);
	guest_mem__mark_dirty(vq->mem, &ring[slot], sizeof(ring[slot]));
	guest_mem__mark_dirty(vq->mem, &vq->used[USED_IDX],
			      sizeof(vq->used[USED_IDX]));
	WR(ring[slot].id, c->head);
	WR(ring[slot].len, len);
	vq->used_idx++;
	/* The element is visible before the index that publishes it. */
	WR_REL(vq->used[USED_IDX], vq->used_idx);
}

bool virtq__should_notify(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	/* Order the used idx store before reading the driver's flags. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(RD(vq->avail[AVAIL_FLAGS]) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

size_t iov__to_buf(const struct iovec *iov, unsigned int n, size_t off,
		   void *buf, size_t len)
{
	size_t done = 0, k;
	unsigned int i;

	for (i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off,
		       k);
		done += k;
		off = 0;
	}
	return done;
}

size_t iov__from_buf(const struct iovec *iov, unsigned int n, size_t off,
		     const void *buf, size_t len)
{
	size_t done = 0, k;
	unsigned int i;

	for (i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		memcpy((uint8_t *)iov[i].iov_base + off,
		       (const uint8_t *)buf + done, k);
		done += k;
		off = 0;
	}
	return done;
}

unsigned int iov__slice(const struct iovec *src, unsigned int n, size_t off,
			size_t len, struct iovec *dst, unsigned int max)
{
	unsigned int i, m = 0;
	size_t k;

	for (i = 0; i < n && len && m < max; i++) {
		if (off >= src[i].iov_len) {
			off -= src[i].iov_len;
			continue;
		}
		k = src[i].iov_len - off;
		if (k > len)
			k = len;
		dst[m].iov_base = (uint8_t *)src[i].iov_base + off;
		dst[m].iov_len = k;
		m++;
		len -= k;
		off = 0;
	}
	return m;
}

void virtq__save(const struct virtq *vq, struct virtq_state *st)
{
	memset(st, 0, sizeof(*st));
	st->desc_gpa = vq->desc_gpa;
	st->avail_gpa = vq->avail_gpa;
	st->used_gpa = vq->used_gpa;
	st->num = vq->num;
	st->last_avail = vq->last_avail;
	st->used_idx = vq->used_idx;
	st->ready = vq->ready;
}

int virtq__restore(struct virtq *vq, const struct virtq_state *st,
		   const struct guest_mem *mem, uint16_t max)
{
	virtq__reset(vq);
	vq->desc_gpa = st->desc_gpa;
	vq->avail_gpa = st->avail_gpa;
	vq->used_gpa = st->used_gpa;
	vq->num = st->num;
	vq->last_avail = st->last_avail;
	vq->used_idx = st->used_idx;
	if (!st->ready)
		return 0;
	return virtq__enable(vq, mem, max);
}
