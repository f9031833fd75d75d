// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk's data path (blk.h): the process's io_uring, restricted to
 * the drives' files, and the requests: each chain checked, then its I/O
 * queued on the ring; completions answer the guest.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#include "lib/log.h"
#include "vmm/persist.h"
#include "vmm/util.h"
#include "vmm/virtio/blk-int.h"

static struct io_uring ring;
static bool ring_ok;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;

static int ring_restrict(void)
{
	static const uint8_t ops[] = {
		IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_READ,
		IORING_OP_WRITE, IORING_OP_FSYNC, IORING_OP_FALLOCATE,
	};
	struct io_uring_restriction res[ARRAY_SIZE(ops) + 2];
	int fds[BLK_RING_FILES];
	size_t i;
	int ret;

	memset(res, 0, sizeof(res));
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	res[i].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[i].sqe_flags = IOSQE_FIXED_FILE;
	i++;
	res[i].opcode = IORING_RESTRICTION_REGISTER_OP;
	res[i].register_op = IORING_REGISTER_FILES_UPDATE;
	/* An empty table: the drives' files go in as they open. */
	for (i = 0; i < BLK_RING_FILES; i++)
		fds[i] = -1;
	ret = io_uring_register(ring.ring_fd, IORING_REGISTER_FILES, fds,
				BLK_RING_FILES);
	if (!ret)
		ret = io_uring_register(ring.ring_fd,
					IORING_REGISTER_RESTRICTIONS, res,
					ARRAY_SIZE(res));
	if (!ret)
		ret = io_uring_register(ring.ring_fd,
					IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return ret;
}

int blk__ring_init(void)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_CQSIZE,
		.cq_entries = 2 * BLK_RING_ENTRIES,
	};
	int ret = 0;

	pthread_mutex_lock(&ring_lock);
	if (ring_ok)
		goto out;
	ret = io_uring_queue_init_params(BLK_RING_ENTRIES, &ring, &p);
	if (ret < 0)
		goto out;
	ret = ring_restrict();
	if (ret < 0) {
		io_uring_queue_exit(&ring);
		goto out;
	}
	ring_ok = true;
out:
	pthread_mutex_unlock(&ring_lock);
	return ret;
}

int blk_io__set_file(unsigned int slot, int fd)
{
	int ret;

	pthread_mutex_lock(&ring_lock);
	ret = ring_ok ? io_uring_register_files_update(&ring, slot, &fd, 1) :
	      -ENODEV;
	pthread_mutex_unlock(&ring_lock);
	return ret < 0 ? ret : 0;
}

/* --- requests --- */

static void blk_break(struct blk *b, const char *why)
{
	if (b->vm)
		virtio_mmio__break(b->vm, why);
	else
		b->test_broken = true;
}

static void blk_signal(struct blk *b)
{
	if (b->vm && virtq__should_notify(b->vq))
		virtio_mmio__signal(b->vm, VIRTIO_MMIO_INT_VRING);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint64_t iov_total(const struct iovec *iov, unsigned int n)
{
	uint64_t t = 0;

	while (n--)
		t += iov[n].iov_len;
	return t;
}

static bool in_disk(const struct blk *b, uint64_t sector, uint64_t n)
{
	return sector <= b->sectors && n <= b->sectors - sector;
}

/* Answer @r now: its status, the used ring; the slot is free again. */
static void finish(struct blk *b, struct blk_req *r, uint8_t status)
{
	*r->status = status;
	virtq__push(b->vq, &r->chain,
		    status == VIRTIO_BLK_S_OK ? r->written : 1);
	r->next_free = b->free;
	b->free = r;
}

static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	return sqe;
}

/*
 * Check a popped request and queue its I/O.  1: queued; 0: answered
 * already (finish() done); -EINVAL: no status byte, the device breaks.
 */
static int prepare(struct blk *b, struct blk_req *r)
{
	struct virtq_chain *c = &r->chain;
	const struct iovec *in = &c->iov[c->nr_out];
	uint8_t hdr[BLK_HDR_SIZE], seg[BLK_SEG_SIZE];
	struct io_uring_sqe *sqe;
	struct iovec st;
	uint64_t sector, len, n;
	unsigned int nr;
	int mode;

	if (!c->in_len ||
	    iov__slice(in, c->nr_in, c->in_len - 1, 1, &st, 1) != 1)
		return -EINVAL;
	r->status = st.iov_base;
	r->written = 1;
	if (c->out_len < BLK_HDR_SIZE) {
		pr_guest_debug("virtio-blk %s: request header of %llu bytes",
			       b->drive_id, (unsigned long long)c->out_len);
		goto ioerr;
	}
	iov__to_buf(c->iov, c->nr_out, 0, hdr, sizeof(hdr));
	r->type = get32(hdr);
	sector = get64(hdr + 8);
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		len = c->in_len - 1;
		/* The used length (data and status) must fit in 32 bits. */
		if (c->out_len != BLK_HDR_SIZE || len % BLK_SECTOR_SIZE ||
		    len >= UINT32_MAX ||
		    !in_disk(b, sector, len / BLK_SECTOR_SIZE))
			goto ioerr;
		nr = iov__slice(in, c->nr_in, 0, len, r->data, BLK_QUEUE_SIZE);
		if (iov_total(r->data, nr) != len)
			goto ioerr;
		r->expect = len;
		r->written = len + 1;
		sqe = get_sqe();
		if (!sqe)
			goto ioerr;
		io_uring_prep_readv(sqe, b->slot, r->data, nr,
				    sector * BLK_SECTOR_SIZE);
		break;
	case VIRTIO_BLK_T_OUT:
		len = c->out_len - BLK_HDR_SIZE;
		if (b->flags & BLK_STATE_RO || c->in_len != 1 ||
		    len % BLK_SECTOR_SIZE ||
		    !in_disk(b, sector, len / BLK_SECTOR_SIZE))
			goto ioerr;
		nr = iov__slice(c->iov, c->nr_out, BLK_HDR_SIZE, len, r->data,
				BLK_QUEUE_SIZE);
		if (iov_total(r->data, nr) != len)
			goto ioerr;
		r->expect = len;
		sqe = get_sqe();
		if (!sqe)
			goto ioerr;
		io_uring_prep_writev(sqe, b->slot, r->data, nr,
				     sector * BLK_SECTOR_SIZE);
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Unsafe (no FLUSH offered) and read-only drives: nothing. */
		if (!(b->flags & BLK_STATE_WRITEBACK) ||
		    b->flags & BLK_STATE_RO) {
			finish(b, r, VIRTIO_BLK_S_OK);
			return 0;
		}
		r->expect = 0;
		sqe = get_sqe();
		if (!sqe)
			goto ioerr;
		io_uring_prep_fsync(sqe, b->slot, IORING_FSYNC_DATASYNC);
		break;
	case VIRTIO_BLK_T_GET_ID: {
		uint8_t id[VIRTIO_BLK_ID_BYTES] = { 0 };

		len = c->in_len - 1;
		if (c->out_len != BLK_HDR_SIZE)
			goto ioerr;
		memcpy(id, b->id, strlen(b->id));
		n = len < sizeof(id) ? len : sizeof(id);
		iov__from_buf(in, c->nr_in, 0, id, n);
		r->written = c->in_len;
		finish(b, r, VIRTIO_BLK_S_OK);
		return 0;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		uint64_t want = r->type == VIRTIO_BLK_T_DISCARD ?
				1ULL << VIRTIO_BLK_F_DISCARD :
				1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
		uint32_t flags;

		if (!(b->ops.features & want)) {
			finish(b, r, VIRTIO_BLK_S_UNSUPP);
			return 0;
		}
		/* One segment (max_*_seg is 1), nothing else writable. */
		if (c->out_len != BLK_HDR_SIZE + BLK_SEG_SIZE || c->in_len != 1)
			goto ioerr;
		iov__to_buf(c->iov, c->nr_out, BLK_HDR_SIZE, seg, sizeof(seg));
		sector = get64(seg);
		n = get32(seg + 8);
		flags = get32(seg + 12);
		if (!n || n > BLK_MAX_ZERO_SECTORS || !in_disk(b, sector, n))
			goto ioerr;
		if (r->type == VIRTIO_BLK_T_DISCARD) {
			if (flags) {
				finish(b, r, VIRTIO_BLK_S_UNSUPP);
				return 0;
			}
			mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		} else {
			if (flags & ~1u) {
				finish(b, r, VIRTIO_BLK_S_UNSUPP);
				return 0;
			}
			mode = (flags & 1 ? FALLOC_FL_PUNCH_HOLE :
				FALLOC_FL_ZERO_RANGE) | FALLOC_FL_KEEP_SIZE;
		}
		r->expect = 0;
		sqe = get_sqe();
		if (!sqe)
			goto ioerr;
		io_uring_prep_fallocate(sqe, b->slot, mode,
					sector * BLK_SECTOR_SIZE,
					n * BLK_SECTOR_SIZE);
		break;
	}
	default:
		finish(b, r, VIRTIO_BLK_S_UNSUPP);
		return 0;
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, r);
	r->epoch = b->epoch;
	b->busy++;
	return 1;
ioerr:
	finish(b, r, VIRTIO_BLK_S_IOERR);
	return 0;
}

/* Pop and start requests while slots are free.  vm->lock held. */
void blk_io__process(struct blk *b)
{
	unsigned int answered = 0, queued = 0;
	struct blk_req *r;
	int ret;

	b->stalled = false;
	while (!b->vq->broken) {
		if (b->busy >= b->depth || !b->free) {
			b->stalled = virtq__has_avail(b->vq);
			break;
		}
		r = b->free;
		ret = virtq__pop(b->vq, b->mem, &r->chain);
		if (ret < 0) {
			blk_break(b, "bad request chain");
			break;
		}
		if (!ret)
			break;
		b->free = r->next_free;
		ret = prepare(b, r);
		if (ret < 0) {
			/* Nothing to answer with: the slot goes back unused. */
			r->next_free = b->free;
			b->free = r;
			blk_break(b, "request without a status byte");
			break;
		}
		if (ret)
			queued++;
		else
			answered++;
	}
	if (queued)
		io_uring_submit(&ring);
	if (answered)
		blk_signal(b);
}

static uint8_t status_of(const struct blk_req *r, int res)
{
	if (res == -EOPNOTSUPP &&
	    (r->type == VIRTIO_BLK_T_DISCARD ||
	     r->type == VIRTIO_BLK_T_WRITE_ZEROES))
		return VIRTIO_BLK_S_UNSUPP;
	if (res < 0 || (uint64_t)res != r->expect) {
		pr_guest_debug("virtio-blk %s: request type %u: %s",
			       r->b->drive_id, r->type,
			       res < 0 ? strerror(-res) : "short transfer");
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* One completion: answer the guest unless a reset came since. */
static void complete(struct blk_req *r, int res)
{
	struct blk *b = r->b;

	blk__lock(b);
	b->busy--;
	if (r->epoch == b->epoch && !b->vq->broken &&
	    (!b->vm || virtio_mmio__live(b->vm))) {
		finish(b, r, status_of(r, res));
		blk_signal(b);
	} else {
		r->next_free = b->free;
		b->free = r;
	}
	if (b->stalled && (!b->vm || virtio_mmio__live(b->vm)))
		blk_io__process(b);
	blk__unlock(b);
}

/* Every completion there is; @wait: block for one first.  The count. */
unsigned int blk_io__reap(bool wait)
{
	struct io_uring_cqe *cqe;
	unsigned int n = 0;
	int ret;

	if (wait) {
		struct __kernel_timespec ts = { .tv_sec = 5 };

		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (ret == -ETIME)
			pr_warn("virtio-blk: requests still in flight after 5 s");
	}
	while (io_uring_peek_cqe(&ring, &cqe) == 0) {
		struct blk_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&ring, cqe);
		n++;
		if (r)
			complete(r, res);
	}
	return n;
}

/*
 * Until no request of @b is in flight, the machine paused (or no loop):
 * for a save, a restore, a swap of its file and its end.
 */
void blk_io__drain(struct blk *b)
{
	unsigned int busy;

	for (;;) {
		blk__lock(b);
		busy = b->busy;
		blk__unlock(b);
		if (!busy)
			break;
		blk_io__reap(true);
	}
}

int blk_io__ring_fd(void)
{
	return ring_ok ? ring.ring_fd : -1;
}
