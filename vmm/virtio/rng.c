// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng (virtio 1.x, 5.4), the entropy device: one queue of
 * device-writable buffers, each filled from getrandom().  A chain with a
 * readable part breaks the device; at most RNG_MAX_BYTES go into one
 * buffer and RNG_BUDGET buffers are served per pass.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"
#include "vmm/virtio/mmio.h"

#define VIRTIO_ID_RNG		4
#define RNG_QUEUE_SIZE		64
#define RNG_MAX_BYTES		4096
#define RNG_BUDGET		64

struct rng {
	struct kvm *kvm;
	struct virtio_mmio *vm;
	struct virtq_chain chain;
	uint8_t buf[RNG_MAX_BYTES];
};

/* Device loop, vm->lock held. */
static void notify(void *dev, unsigned int q)
{
	struct rng *r = dev;
	struct virtq *vq = &r->vm->vqs[0];
	struct virtq_chain *c = &r->chain;
	unsigned int done;
	size_t len;
	ssize_t got;
	int ret = 0;

	(void)q;
	for (done = 0; done < RNG_BUDGET; done++) {
		ret = virtq__pop(vq, r->kvm->mem, c);
		if (ret <= 0)
			break;
		if (c->nr_out) {
			ret = -EINVAL;
			break;
		}
		len = c->in_len < RNG_MAX_BYTES ? c->in_len : RNG_MAX_BYTES;
		got = getrandom(r->buf, len, GRND_NONBLOCK);
		if (got < 0)
			got = 0;
		iov__from_buf(c->iov, c->nr_in, 0, r->buf, (size_t)got);
		virtq__push(vq, c, (uint32_t)got);
	}
	if (ret < 0)
		virtio_mmio__break(r->vm, "bad request chain");
	if (done && virtq__should_notify(vq))
		virtio_mmio__signal(r->vm, VIRTIO_MMIO_INT_VRING);
	if (done == RNG_BUDGET)
		virtio_mmio__kick(r->vm, 0);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_max = RNG_QUEUE_SIZE,
	.notify = notify,
};

int rng__init(struct kvm *kvm, char *err, size_t errlen)
{
	struct rng *r;
	int ret;

	if (!kvm->cfg->entropy.present)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->kvm = kvm;
	ret = virtio_mmio__init(kvm, &rng_ops, r, &r->vm);
	if (ret) {
		free(r);
		return err__set(err, errlen, ret, "%s",
				ret == -ENOSPC ? "no virtio-mmio slot left" :
				strerror(-ret));
	}
	kvm->rng = r;
	return 0;
}

void rng__exit(struct kvm *kvm)
{
	struct rng *r = kvm->rng;

	if (!r)
		return;
	virtio_mmio__exit(r->vm);
	free(r);
	kvm->rng = NULL;
}

static bool snap_save(struct kvm *kvm, void *state)
{
	struct rng_state *st = state;

	if (!kvm->rng)
		return false;
	virtio_mmio__save(kvm->rng->vm, &st->mmio);
	return true;
}

static int snap_check(const struct vm_config *cfg, const void *state,
		      char *err, size_t errlen)
{
	const struct rng_state *st = state;

	(void)cfg;
	if (st && st->mmio.nr_queues != 1)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: the entropy device's state is malformed");
	return 0;
}

static int snap_config(struct vm_config *cfg, const void *state,
		       const struct snapshot_load_params *p, char *err,
		       size_t errlen)
{
	(void)p;
	(void)err;
	(void)errlen;
	cfg->entropy.present = state != NULL;
	return 0;
}

static int snap_restore(struct kvm *kvm, const void *state, char *err,
			size_t errlen)
{
	const struct rng_state *st = state;
	int ret;

	if (!kvm->rng || !st)
		return 0;
	ret = virtio_mmio__restore(kvm->rng->vm, &st->mmio);
	if (ret)
		return err__set(err, errlen, ret,
				"restoring the entropy device: %s",
				strerror(-ret));
	return 0;
}

const struct device_snap rng__snap = {
	.section = SNAP_SEC_DEV_RNG(0),
	.size = sizeof(struct rng_state),
	.what = "entropy device",
	.save = snap_save,
	.check = snap_check,
	.config = snap_config,
	.restore = snap_restore,
};
