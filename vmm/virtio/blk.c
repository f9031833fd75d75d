// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-blk device: see blk.h.  Queue 0 only (no multiqueue); each
 * drive has BLK_QUEUE_SIZE request slots, a slot holds one popped chain
 * and the iovecs of its data while its I/O is in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>
#include <liburing.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"
#include "vmm/snapshot/snapshot.h"
#include "vmm/util.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/mmio.h"

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

static int ring_set_file(unsigned int slot, int fd)
{
	int ret;

	pthread_mutex_lock(&ring_lock);
	ret = ring_ok ? io_uring_register_files_update(&ring, slot, &fd, 1) :
	      -ENODEV;
	pthread_mutex_unlock(&ring_lock);
	return ret < 0 ? ret : 0;
}

/* --- requests --- */

static void lock(struct blk *b)
{
	if (b->vm)
		pthread_mutex_lock(&b->vm->lock);
}

static void unlock(struct blk *b)
{
	if (b->vm)
		pthread_mutex_unlock(&b->vm->lock);
}

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

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
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
static void process(struct blk *b)
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

	lock(b);
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
		process(b);
	unlock(b);
}

/* Every completion there is; @wait: block for one first.  The count. */
static unsigned int reap(bool wait)
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

/* Device loop: the ring has completions. */
static void ring_poll_fn(struct uring_poll *p, int res)
{
	struct blk_set *s = p->arg;

	(void)res;
	reap(false);
	uring__poll_arm(s->kvm->loop, p);
}

/*
 * Until no request of @b is in flight, the machine paused (or no loop):
 * for a save, a restore, a swap of its file and its end.
 */
static void drain(struct blk *b)
{
	unsigned int busy;

	for (;;) {
		lock(b);
		busy = b->busy;
		unlock(b);
		if (!busy)
			break;
		reap(true);
	}
}

/* --- the virtio device --- */

static void read_config(void *dev, uint32_t off, void *data, uint32_t len)
{
	struct blk *b = dev;
	uint8_t cfg[BLK_CONFIG_SIZE] = { 0 };

	put64(cfg, b->sectors);
	put32(cfg + 12, BLK_QUEUE_SIZE - 2);		/* seg_max */
	put32(cfg + 36, BLK_MAX_ZERO_SECTORS);		/* max_discard_sectors */
	put32(cfg + 40, 1);				/* max_discard_seg */
	put32(cfg + 44, 1);				/* discard alignment */
	put32(cfg + 48, BLK_MAX_ZERO_SECTORS);		/* max_write_zeroes_sectors */
	put32(cfg + 52, 1);				/* max_write_zeroes_seg */
	cfg[56] = 1;					/* write_zeroes_may_unmap */
	memcpy(data, cfg + off, len);
}

static void notify(void *dev, unsigned int q)
{
	if (q == 0)
		process(dev);
}

/* Device loop, vm->lock held: requests in flight are not answered. */
static void reset(void *dev)
{
	struct blk *b = dev;

	b->epoch++;
	b->stalled = false;
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.config_size = BLK_CONFIG_SIZE,
	.read_config = read_config,
	.notify = notify,
	.reset = reset,
};

/* Open @path as @b uses it; the size in sectors into *@sectors. */
static int open_backing(const struct blk *b, const char *path, int *fdp,
			uint64_t *sectors, char *err, size_t errlen)
{
	bool ro = b->flags & BLK_STATE_RO;
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	uint64_t size;
	struct stat st;
	int fd, ret;

	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		  (b->flags & BLK_STATE_DIRECT ? O_DIRECT : 0));
	if (fd < 0)
		return err__set(err, errlen, -errno,
				"drive %s: cannot open %s%s: %s", b->drive_id,
				path, ro ? "" : " for writing", strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto err;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			ret = -errno;
			goto err;
		}
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		ret = -EINVAL;
		goto err;
	}
	/*
	 * A writable disk is this machine's alone: a second thawvm (a clone
	 * loaded without its own drive_overrides path) is refused.
	 */
	if (!ro && fcntl(fd, F_OFD_SETLK, &lk) < 0) {
		ret = errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
		close(fd);
		if (ret == -EBUSY)
			return err__set(err, errlen, ret,
					"drive %s: %s is open for writing by another thawvm: a writable disk cannot be shared (give each clone its own copy with drive_overrides, or make the drive read-only)",
					b->drive_id, path);
		return err__set(err, errlen, ret, "drive %s: locking %s: %s",
				b->drive_id, path, strerror(-ret));
	}
	if (size % BLK_SECTOR_SIZE)
		pr_warn("drive %s: %s is not a whole number of 512-byte sectors: the last %llu bytes are not seen",
			b->drive_id, path,
			(unsigned long long)(size % BLK_SECTOR_SIZE));
	*fdp = fd;
	*sectors = size / BLK_SECTOR_SIZE;
	return 0;
err:
	close(fd);
	return err__set(err, errlen, ret,
			"drive %s: %s is not a file or a block device%s%s",
			b->drive_id, path, ret == -EINVAL ? "" : ": ",
			ret == -EINVAL ? "" : strerror(-ret));
}

static uint32_t drive_flags(const struct vm_drive_config *d)
{
	return (d->is_read_only ? BLK_STATE_RO : 0) |
	       (d->is_root_device ? BLK_STATE_ROOT : 0) |
	       (d->cache_type == VM_CACHE_WRITEBACK ? BLK_STATE_WRITEBACK : 0) |
	       (d->io_async ? BLK_STATE_ASYNC : 0) |
	       (d->direct_io ? BLK_STATE_DIRECT : 0);
}

static uint64_t drive_features(uint32_t flags, bool regular)
{
	uint64_t f = 1ULL << VIRTIO_BLK_F_SEG_MAX;

	if (flags & BLK_STATE_RO)
		return f | 1ULL << VIRTIO_BLK_F_RO;
	if (flags & BLK_STATE_WRITEBACK)
		f |= 1ULL << VIRTIO_BLK_F_FLUSH;
	/* fallocate() punches and zeroes ranges of files, not of devices. */
	if (regular)
		f |= 1ULL << VIRTIO_BLK_F_DISCARD |
		     1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	return f;
}

static struct blk *drive_new(const struct guest_mem *mem, unsigned int slot,
			     const char *drive_id, uint32_t flags)
{
	struct blk *b = calloc(1, sizeof(*b));
	unsigned int i;

	if (!b)
		return NULL;
	b->reqs = calloc(BLK_QUEUE_SIZE, sizeof(*b->reqs));
	if (!b->reqs) {
		free(b);
		return NULL;
	}
	for (i = 0; i < BLK_QUEUE_SIZE; i++) {
		b->reqs[i].b = b;
		b->reqs[i].next_free = i + 1 < BLK_QUEUE_SIZE ?
				       &b->reqs[i + 1] : NULL;
	}
	b->free = b->reqs;
	b->mem = mem;
	b->slot = slot;
	b->fd = -1;
	b->flags = flags;
	b->depth = flags & BLK_STATE_ASYNC ? BLK_QUEUE_SIZE : 1;
	snprintf(b->drive_id, sizeof(b->drive_id), "%s", drive_id);
	snprintf(b->id, sizeof(b->id), "%s", drive_id);
	b->ops = blk_ops;
	return b;
}

static void drive_free(struct blk *b)
{
	if (!b)
		return;
	/* No request answered or started from here: wait for those out. */
	lock(b);
	b->epoch++;
	b->stalled = false;
	unlock(b);
	drain(b);
	if (b->fd >= 0) {
		ring_set_file(b->slot, -1);
		close(b->fd);
	}
	if (b->vm)
		virtio_mmio__exit(b->vm);
	free(b->path);
	free(b->partuuid);
	free(b->reqs);
	free(b);
}

static int drive_init(struct kvm *kvm, unsigned int slot,
		      const struct vm_drive_config *d, struct blk **out,
		      char *err, size_t errlen)
{
	struct stat st;
	struct blk *b;
	int ret;

	b = drive_new(kvm->mem, slot, d->drive_id, drive_flags(d));
	if (!b)
		return -ENOMEM;
	b->kvm = kvm;
	b->path = strdup(d->path_on_host);
	b->partuuid = d->partuuid ? strdup(d->partuuid) : NULL;
	if (!b->path || (d->partuuid && !b->partuuid)) {
		ret = -ENOMEM;
		goto err;
	}
	ret = open_backing(b, b->path, &b->fd, &b->sectors, err, errlen);
	if (ret)
		goto err;
	ret = fstat(b->fd, &st) < 0 ? -errno : 0;
	if (ret)
		goto err;
	b->ops.features = drive_features(b->flags, S_ISREG(st.st_mode));
	ret = ring_set_file(slot, b->fd);
	if (ret) {
		err__set(err, errlen, ret,
			 "drive %s: the I/O ring does not take its file: %s",
			 b->drive_id, strerror(-ret));
		goto err;
	}
	ret = virtio_mmio__init(kvm, &b->ops, b, &b->vm);
	if (ret) {
		err__set(err, errlen, ret, "drive %s: %s", b->drive_id,
			 ret == -ENOSPC ? "no virtio-mmio slot left" :
			 strerror(-ret));
		b->vm = NULL;
		goto err;
	}
	b->vq = &b->vm->vqs[0];
	*out = b;
	return 0;
err:
	drive_free(b);
	return ret;
}

int blk__init(struct kvm *kvm, char *err, size_t errlen)
{
	const struct vm_config *cfg = kvm->cfg;
	struct blk_set *s;
	unsigned int i, n = 0, pass;
	int ret;

	if (!cfg->nr_drives)
		return 0;
	ret = blk__ring_init();
	if (ret)
		return err__set(err, errlen, ret,
				"the block I/O ring: %s (made at start-up: io_uring_setup is not allowed later)",
				strerror(-ret));
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->kvm = kvm;
	kvm->blk = s;
	/* The root device first, as Firecracker: the guest's /dev/vda. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < cfg->nr_drives; i++) {
			const struct vm_drive_config *d = &cfg->drives[i];

			if (d->is_root_device != !pass)
				continue;
			ret = drive_init(kvm, n, d, &s->drives[n], err, errlen);
			if (ret)
				return ret;	/* blk__exit() frees the rest */
			s->nr = ++n;
		}
	uring__poll_init(&s->poll, ring.ring_fd, POLLIN, ring_poll_fn, s);
	return uring__poll_arm(kvm->loop, &s->poll);
}

void blk__exit(struct kvm *kvm)
{
	struct blk_set *s = kvm->blk;
	unsigned int i;

	if (!s)
		return;
	/* The loop is stopped: completions are reaped here. */
	for (i = 0; i < s->nr; i++)
		drive_free(s->drives[i]);
	free(s);
	kvm->blk = NULL;
}

static struct blk *find(struct kvm *kvm, const char *id)
{
	struct blk_set *s = kvm->blk;
	unsigned int i;

	for (i = 0; s && i < s->nr; i++)
		if (!strcmp(s->drives[i]->drive_id, id))
			return s->drives[i];
	return NULL;
}

int blk__swap(struct kvm *kvm, const char *id, const char *path, char *err,
	      size_t errlen)
{
	struct blk *b = find(kvm, id);
	uint64_t sectors;
	char *copy;
	int fd, old, ret;

	if (!b)
		return err__set(err, errlen, -ENOENT,
				"drives: the microVM has no drive %s", id);
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	ret = open_backing(b, path, &fd, &sectors, err, errlen);
	if (ret) {
		free(copy);
		return ret;
	}
	lock(b);
	/* Requests in flight hold the old file; new ones get this one. */
	ret = ring_set_file(b->slot, fd);
	if (ret) {
		unlock(b);
		close(fd);
		free(copy);
		return err__set(err, errlen, ret, "drive %s: %s", id,
				strerror(-ret));
	}
	old = b->fd;
	b->fd = fd;
	free(b->path);
	b->path = copy;
	b->sectors = sectors;
	b->vm->config_generation++;
	if (b->vm->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_mmio__signal(b->vm, VIRTIO_MMIO_INT_CONFIG);
	unlock(b);
	close(old);
	pr_info("drive %s: now %s (%llu sectors)", id, path,
		(unsigned long long)sectors);
	return 0;
}

/* --- the snapshot's block section --- */

static bool snap_save(struct kvm *kvm, void *state)
{
	struct blk_set *s = kvm->blk;
	struct blk_state *st = state;
	unsigned int i;

	if (!s)
		return false;
	st->nr_drives = s->nr;
	for (i = 0; i < s->nr; i++) {
		struct blk *b = s->drives[i];
		struct blk_drive_state *d = &st->drives[i];

		/* Every request answered before the rings are saved. */
		drain(b);
		snprintf(d->drive_id, sizeof(d->drive_id), "%s", b->drive_id);
		snprintf(d->path, sizeof(d->path), "%s", b->path);
		if (b->partuuid)
			snprintf(d->partuuid, sizeof(d->partuuid), "%s",
				 b->partuuid);
		d->sectors = b->sectors;
		d->features = b->ops.features;
		d->flags = b->flags;
		virtio_mmio__save(b->vm, &d->mmio);
	}
	return true;
}

static bool str_ok(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

static int snap_check(const struct vm_config *cfg, const void *state,
		      char *err, size_t errlen)
{
	const struct blk_state *st = state;
	unsigned int i, j;

	(void)cfg;
	if (!st)
		return 0;
	if (!st->nr_drives || st->nr_drives > VM_MAX_DRIVES || st->pad)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: %u drives", st->nr_drives);
	for (i = 0; i < st->nr_drives; i++) {
		const struct blk_drive_state *d = &st->drives[i];

		if (!str_ok(d->drive_id, sizeof(d->drive_id)) ||
		    !d->drive_id[0] || strlen(d->drive_id) > VM_DRIVE_ID_MAX ||
		    !str_ok(d->path, sizeof(d->path)) || !d->path[0] ||
		    !str_ok(d->partuuid, sizeof(d->partuuid)) ||
		    d->flags & ~BLK_STATE_FLAGS || d->pad ||
		    d->mmio.nr_queues != 1)
			return err__set(err, errlen, -EBADMSG,
					"snapshot: drive %u's state is malformed",
					i);
		for (j = 0; j < i; j++)
			if (!strcmp(st->drives[j].drive_id, d->drive_id))
				return err__set(err, errlen, -EBADMSG,
						"snapshot: drive %s twice",
						d->drive_id);
	}
	return 0;
}

/* The snapshot's drives, with the load's drive_overrides. */
static int snap_config(struct vm_config *cfg, const void *state,
		       const struct snapshot_load_params *p, char *err,
		       size_t errlen)
{
	const struct blk_state *st = state;
	unsigned int i, j;

	for (j = 0; j < p->nr_drive_overrides; j++) {
		for (i = 0; st && i < st->nr_drives; i++)
			if (!strcmp(st->drives[i].drive_id,
				    p->drive_overrides[j].drive_id))
				break;
		if (!st || i == st->nr_drives)
			return err__set(err, errlen, -EINVAL,
					"drive_overrides: the snapshot has no drive %s",
					p->drive_overrides[j].drive_id);
	}
	if (!st)
		return 0;
	for (i = 0; i < st->nr_drives; i++) {
		const struct blk_drive_state *d = &st->drives[i];
		struct vm_drive_config *c = &cfg->drives[i];
		const char *path = d->path;

		for (j = 0; j < p->nr_drive_overrides; j++)
			if (!strcmp(d->drive_id, p->drive_overrides[j].drive_id))
				path = p->drive_overrides[j].path_on_host;
		cfg->nr_drives = i + 1;
		c->drive_id = strdup(d->drive_id);
		c->path_on_host = strdup(path);
		c->partuuid = d->partuuid[0] ? strdup(d->partuuid) : NULL;
		if (!c->drive_id || !c->path_on_host ||
		    (d->partuuid[0] && !c->partuuid))
			return err__set(err, errlen, -ENOMEM, "out of memory");
		c->is_read_only = d->flags & BLK_STATE_RO;
		c->is_root_device = d->flags & BLK_STATE_ROOT;
		c->cache_type = d->flags & BLK_STATE_WRITEBACK ?
				VM_CACHE_WRITEBACK : VM_CACHE_UNSAFE;
		c->io_async = d->flags & BLK_STATE_ASYNC;
		c->direct_io = d->flags & BLK_STATE_DIRECT;
	}
	return 0;
}

static int snap_restore(struct kvm *kvm, const void *state, char *err,
			size_t errlen)
{
	const struct blk_state *st = state;
	struct blk_set *s = kvm->blk;
	unsigned int i;
	int ret;

	if (!st && !s)
		return 0;
	if (!st || !s || st->nr_drives != s->nr)
		return err__set(err, errlen, -EINVAL,
				"snapshot: the drives do not match the machine's");
	for (i = 0; i < s->nr; i++) {
		const struct blk_drive_state *d = &st->drives[i];
		struct blk *b = s->drives[i];

		if (strcmp(d->drive_id, b->drive_id))
			return err__set(err, errlen, -EINVAL,
					"snapshot: drive %u is %s, the machine's %s",
					i, d->drive_id, b->drive_id);
		if (d->sectors != b->sectors)
			return err__set(err, errlen, -EINVAL,
					"drive %s: %s has %llu sectors, the snapshot's disk %llu",
					b->drive_id, b->path,
					(unsigned long long)b->sectors,
					(unsigned long long)d->sectors);
		if (d->features != b->ops.features)
			return err__set(err, errlen, -EINVAL,
					"drive %s: %s offers other features than the snapshot's disk (a file and a device?)",
					b->drive_id, b->path);
		/* What a run since (a rewind) left in flight is not answered. */
		lock(b);
		b->epoch++;
		b->stalled = false;
		unlock(b);
		drain(b);
		ret = virtio_mmio__restore(b->vm, &d->mmio);
		if (ret)
			return err__set(err, errlen, ret,
					"restoring drive %s: %s", b->drive_id,
					strerror(-ret));
	}
	return 0;
}

/*
 * The save waited for the requests in flight after the irqchip was saved:
 * an interrupt they raised is not in the snapshot.  Raise it again (the
 * driver finds nothing new if it had seen them all).
 */
static int snap_restored(struct kvm *kvm, char *err, size_t errlen)
{
	struct blk_set *s = kvm->blk;
	unsigned int i;

	(void)err;
	(void)errlen;
	for (i = 0; s && i < s->nr; i++) {
		struct blk *b = s->drives[i];

		lock(b);
		if (virtio_mmio__live(b->vm) && b->vq->ready)
			virtio_mmio__signal(b->vm, VIRTIO_MMIO_INT_VRING);
		unlock(b);
	}
	return 0;
}

const struct device_snap blk__snap = {
	.section = SNAP_SEC_DEV_BLOCK(0),
	.size = sizeof(struct blk_state),
	.what = "block devices",
	.save = snap_save,
	.check = snap_check,
	.config = snap_config,
	.restore = snap_restore,
	.restored = snap_restored,
};

/* --- unit tests --- */

struct blk *blk__test_new(const struct guest_mem *mem, struct virtq *vq,
			  int fd, uint64_t sectors, bool ro, bool async)
{
	struct stat st;
	struct blk *b;

	if (blk__ring_init() || fstat(fd, &st))
		return NULL;
	b = drive_new(mem, 0, "test_drive",
		      (ro ? BLK_STATE_RO : 0) | (async ? BLK_STATE_ASYNC : 0) |
		      BLK_STATE_WRITEBACK);
	if (!b)
		return NULL;
	b->vq = vq;
	b->sectors = sectors;
	b->ops.features = drive_features(b->flags, S_ISREG(st.st_mode));
	if (ring_set_file(0, fd)) {
		drive_free(b);
		return NULL;
	}
	return b;
}

void blk__test_notify(struct blk *b)
{
	process(b);
	drain(b);
}

bool blk__test_broken(const struct blk *b)
{
	return b->test_broken;
}

void blk__test_free(struct blk *b)
{
	ring_set_file(0, -1);
	drive_free(b);
}
