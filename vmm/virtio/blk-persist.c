// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk's part of a snapshot (vmm/devices.h, struct blk_state in
 * vmm/persist.h): every drive saved once its requests are answered, the
 * drives rebuilt from it at a load (with drive_overrides), their queues
 * restored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/snapfile.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"
#include "vmm/snapshot/snapshot.h"
#include "vmm/virtio/blk-int.h"

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
		blk_io__drain(b);
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
		blk__lock(b);
		b->epoch++;
		b->stalled = false;
		blk__unlock(b);
		blk_io__drain(b);
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

		blk__lock(b);
		if (virtio_mmio__live(b->vm) && b->vq->ready)
			virtio_mmio__signal(b->vm, VIRTIO_MMIO_INT_VRING);
		blk__unlock(b);
	}
	return 0;
}

/*
 * Before a rewind returns memory: every request out is answered (its
 * bytes and the used ring marked written, so the rewind returns them
 * too), none started.
 */
static void snap_quiesce(struct kvm *kvm)
{
	struct blk_set *s = kvm->blk;
	unsigned int i;

	for (i = 0; s && i < s->nr; i++) {
		struct blk *b = s->drives[i];

		blk__lock(b);
		b->stalled = false;
		blk__unlock(b);
		blk_io__drain(b);
	}
}

const struct device_snap blk__snap = {
	.section = SNAP_SEC_DEV_BLOCK(0),
	.size = sizeof(struct blk_state),
	.what = "block devices",
	.save = snap_save,
	.check = snap_check,
	.config = snap_config,
	.restore = snap_restore,
	.quiesce = snap_quiesce,
	.restored = snap_restored,
};
