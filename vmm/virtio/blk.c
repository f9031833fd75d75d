// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-blk device: see blk.h.  A virtio-mmio device per drive, its
 * configuration space, its backing file (opened, locked, swapped); the
 * requests are blk-io.c's, the snapshot section blk-persist.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "lib/err.h"
#include "lib/log.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"
#include "vmm/virtio/blk-int.h"

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
		blk_io__process(dev);
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
	blk__lock(b);
	b->epoch++;
	b->stalled = false;
	blk__unlock(b);
	blk_io__drain(b);
	if (b->fd >= 0) {
		blk_io__set_file(b->slot, -1);
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
	ret = blk_io__set_file(slot, b->fd);
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

/* Device loop: the ring has completions. */
static void ring_poll_fn(struct uring_poll *p, int res)
{
	struct blk_set *s = p->arg;

	(void)res;
	blk_io__reap(false);
	uring__poll_arm(s->kvm->loop, p);
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
	uring__poll_init(&s->poll, blk_io__ring_fd(), POLLIN, ring_poll_fn, s);
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

const char *blk__writable(struct kvm *kvm)
{
	struct blk_set *s = kvm->blk;
	unsigned int i;

	for (i = 0; s && i < s->nr; i++)
		if (!(s->drives[i]->flags & BLK_STATE_RO))
			return s->drives[i]->drive_id;
	return NULL;
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
	blk__lock(b);
	/* Requests in flight hold the old file; new ones get this one. */
	ret = blk_io__set_file(b->slot, fd);
	if (ret) {
		blk__unlock(b);
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
	blk__unlock(b);
	close(old);
	pr_info("drive %s: now %s (%llu sectors)", id, path,
		(unsigned long long)sectors);
	return 0;
}

/* For the unit tests. */

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
	if (blk_io__set_file(0, fd)) {
		drive_free(b);
		return NULL;
	}
	return b;
}

void blk__test_notify(struct blk *b)
{
	blk_io__process(b);
	blk_io__drain(b);
}

bool blk__test_broken(const struct blk *b)
{
	return b->test_broken;
}

void blk__test_free(struct blk *b)
{
	blk_io__set_file(0, -1);
	drive_free(b);
}
