// SPDX-License-Identifier: GPL-2.0
/* The VM Generation ID device and its GED interrupt: see vmgenid.h. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/devices.h"
#include "vmm/hw/vmgenid.h"
#include "vmm/kvm.h"
#include "vmm/mem/mem.h"
#include "vmm/persist.h"

struct vmgenid {
	struct kvm *kvm;
	uint64_t gpa;
	unsigned int gsi;
	/* Serializes writers of the ID and the interrupt pulse. */
	pthread_mutex_t lock;
	uint64_t generation;		/* under lock */
};

int vmgenid__init(struct kvm *kvm, char *err, size_t errlen)
{
	struct vmgenid *v;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->kvm = kvm;
	v->gpa = LAYOUT_VMGENID;
	v->gsi = LAYOUT_IRQ_GED_VMGENID;
	pthread_mutex_init(&v->lock, NULL);
	kvm->vmgenid = v;
	return 0;
}

void vmgenid__exit(struct kvm *kvm)
{
	struct vmgenid *v = kvm->vmgenid;

	if (!v)
		return;
	pthread_mutex_destroy(&v->lock);
	free(v);
	kvm->vmgenid = NULL;
}

static int fill_random(uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = getrandom(buf + got, len - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += r;
	}
	return 0;
}

/* Under v->lock. */
static int write_id(struct vmgenid *v)
{
	uint8_t id[LAYOUT_VMGENID_SIZE], *p;
	int ret;

	p = guest_mem__ptr(v->kvm->mem, v->gpa, sizeof(id));
	if (!p)
		return -EFAULT;
	ret = fill_random(id, sizeof(id));
	if (ret)
		return ret;
	memcpy(p, id, sizeof(id));
	/* A write of ours into guest RAM: a rewind must undo it. */
	guest_mem__mark_dirty(v->kvm->mem, p, sizeof(id));
	/* The guest must see the new bytes before the interrupt. */
	atomic_thread_fence(memory_order_release);
	v->generation++;
	return 0;
}

int vmgenid__generate(struct kvm *kvm)
{
	struct vmgenid *v = kvm->vmgenid;
	int ret;

	if (!v)
		return -ENODEV;
	pthread_mutex_lock(&v->lock);
	ret = write_id(v);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int vmgenid__regenerate(struct kvm *kvm)
{
	struct vmgenid *v = kvm->vmgenid;
	int ret;

	if (!v)
		return -ENODEV;
	pthread_mutex_lock(&v->lock);
	ret = write_id(v);
	/* Edge-triggered: the rising edge is the event. */
	if (!ret)
		ret = kvm__irq_line(kvm, v->gsi, 1);
	if (!ret)
		ret = kvm__irq_line(kvm, v->gsi, 0);
	pthread_mutex_unlock(&v->lock);
	if (ret)
		pr_err("vmgenid: regenerate: %s", strerror(-ret));
	return ret;
}

int vmgenid__read(struct kvm *kvm, uint8_t id[LAYOUT_VMGENID_SIZE])
{
	struct vmgenid *v = kvm->vmgenid;

	if (!v)
		return -ENODEV;
	return guest_mem__read(kvm->mem, v->gpa, id, LAYOUT_VMGENID_SIZE);
}

uint64_t vmgenid__generation(struct kvm *kvm)
{
	struct vmgenid *v = kvm->vmgenid;
	uint64_t n;

	if (!v)
		return 0;
	pthread_mutex_lock(&v->lock);
	n = v->generation;
	pthread_mutex_unlock(&v->lock);
	return n;
}

static void vmgenid__save(struct vmgenid *v, struct vmgenid_state *st)
{
	memset(st, 0, sizeof(*st));
	st->gpa = v->gpa;
	st->gsi = v->gsi;
	pthread_mutex_lock(&v->lock);
	st->generation = v->generation;
	pthread_mutex_unlock(&v->lock);
}

static int vmgenid__restore(struct vmgenid *v, const struct vmgenid_state *st)
{
	if (st->gpa != v->gpa || st->gsi != v->gsi || st->pad)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	v->generation = st->generation;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* The snapshot's section (vmm/devices.h); snapshots before it lack it. */
static bool snap_save(struct kvm *kvm, void *state)
{
	if (!kvm->vmgenid)
		return false;
	vmgenid__save(kvm->vmgenid, state);
	return true;
}

static int snap_restore(struct kvm *kvm, const void *state, char *err,
			size_t errlen)
{
	int ret;

	if (!kvm->vmgenid || !state)
		return 0;
	ret = vmgenid__restore(kvm->vmgenid, state);
	if (ret)
		return err__set(err, errlen, ret,
				"the snapshot's VM generation ID device is not this machine's");
	return 0;
}

/*
 * Every clone starts with the snapshot's CRNG state: a new generation ID
 * makes the guest reseed before it runs anything, after the irqchip and
 * LAPICs are loaded so the interrupt stays.
 */
static int snap_restored(struct kvm *kvm, char *err, size_t errlen)
{
	int ret;

	if (!kvm->vmgenid)
		return 0;
	ret = vmgenid__regenerate(kvm);
	if (ret)
		return err__set(err, errlen, ret,
				"writing a new VM generation ID: %s",
				strerror(-ret));
	return 0;
}

const struct device_snap vmgenid__snap = {
	.section = SNAP_SEC_DEV_VMGENID,
	.size = sizeof(struct vmgenid_state),
	.what = "VM generation ID",
	.save = snap_save,
	.restore = snap_restore,
	.restored = snap_restored,
};
