// SPDX-License-Identifier: GPL-2.0
/*
 * Rewind: a machine loaded from a snapshot goes back to it in place, in
 * the same process, at a cost that follows what it dirtied.  Memory: the
 * backend drops the pages written since the load or the last rewind
 * (Thaw: THAW_IOC_CLONE_RESET, the module's own record; File: KVM's dirty
 * log and the VMM's own marks, then MADV_DONTNEED); clean pages keep their
 * host mappings and KVM its second-level ones.  State: the image the load
 * parsed and kept, applied again as the load applied it (vCPUs, irqchip,
 * PIT, kvmclock, every device, then a transport reset and a new VM
 * generation ID).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/mem/mem.h"
#include "vmm/snapshot/snapshot.h"
#include "vmm/virtio/blk.h"

int snapshot__can_rewind(struct kvm *kvm, char *err, size_t errlen)
{
	const char *id = blk__writable(kvm);

	/*
	 * The guest's caches of a disk go back with its memory, the disk
	 * does not: the file system would be corrupted.
	 */
	if (id)
		return err__set(err, errlen, -EOPNOTSUPP,
				"drive %s is writable: a rewind returns memory, not disks (make it read-only to rewind)",
				id);
	return guest_mem__can_reset(kvm->mem, err, errlen);
}

/*
 * Fetch (and so clear) KVM's dirty log of every slot: what the guest wrote
 * joins the RAM's own bitmap (kvm__get_dirty_log()).
 */
static int collect_guest_writes(struct kvm *kvm, char *err, size_t errlen)
{
	const struct guest_mem *mem = kvm->mem;
	uint64_t *map;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < mem->nr_regions && !ret; i++) {
		map = calloc((mem->regions[i].size / 4096 + 63) / 64,
			     sizeof(*map));
		if (!map)
			return err__set(err, errlen, -ENOMEM, "out of memory");
		ret = kvm__get_dirty_log(kvm, i, map);
		free(map);
		if (ret)
			err__set(err, errlen, ret, "KVM_GET_DIRTY_LOG: %s",
				 strerror(-ret));
	}
	return ret;
}

int snapshot__rewind(const struct snapshot_image *img, struct kvm *kvm,
		     bool clock_realtime, struct snapshot_rewind_stats *st,
		     char *err, size_t errlen)
{
	uint64_t t0, t1;
	int ret;

	const struct device_init *d;
	size_t i;

	st->backend = kvm->mem->ops->name;
	t0 = kvm__now_ns();
	for (i = 0; (d = devices__get(i)); i++)
		if (d->snap && d->snap->quiesce)
			d->snap->quiesce(kvm);
	if (kvm->mem->dirty) {
		ret = collect_guest_writes(kvm, err, errlen);
		if (ret)
			return ret;
	}
	ret = guest_mem__reset(kvm->mem, &st->pages, err, errlen);
	if (ret)
		return ret;
	t1 = kvm__now_ns();
	st->memory_ns = t1 - t0;
	ret = snapshot__apply(img, kvm, clock_realtime, err, errlen);
	st->state_ns = kvm__now_ns() - t1;
	if (!ret)
		pr_info("rewind: %s: %llu pages back to the snapshot in %llu us, state in %llu us",
			st->backend, (unsigned long long)st->pages,
			(unsigned long long)(st->memory_ns / 1000),
			(unsigned long long)(st->state_ns / 1000));
	return ret;
}
