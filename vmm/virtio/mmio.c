// SPDX-License-Identifier: GPL-2.0
/* The virtio-mmio transport, version 2: see mmio.h. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/bus.h"
#include "vmm/kvm.h"
#include "vmm/mem/mem.h"
#include "vmm/virtio/mmio.h"
#include "vmm/x86/layout.h"

/* Register offsets (virtio 1.x, 4.2.2). */
#define REG_MAGIC		0x000
#define REG_VERSION		0x004
#define REG_DEVICE_ID		0x008
#define REG_VENDOR_ID		0x00c
#define REG_DEVICE_FEATURES	0x010
#define REG_DEVICE_FEATURES_SEL	0x014
#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM_MAX	0x034
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_QUEUE_NOTIFY	0x050
#define REG_INTERRUPT_STATUS	0x060
#define REG_INTERRUPT_ACK	0x064
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DESC_HIGH	0x084
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DRIVER_HIGH	0x094
#define REG_QUEUE_DEVICE_LOW	0x0a0
#define REG_QUEUE_DEVICE_HIGH	0x0a4
#define REG_CONFIG_GENERATION	0x0fc
#define REG_CONFIG		0x100

#define MMIO_MAGIC		0x74726976	/* "virt" */
#define MMIO_VERSION		2
#define MMIO_VENDOR		0x57414854	/* "THAW" */

static uint64_t offered(const struct virtio_mmio *vm)
{
	return vm->ops->features | 1ULL << VIRTIO_F_VERSION_1;
}

static struct virtq *sel_queue(struct virtio_mmio *vm)
{
	if (vm->queue_sel >= vm->ops->nr_queues)
		return NULL;
	return &vm->vqs[vm->queue_sel];
}

void virtio_mmio__signal(struct virtio_mmio *vm, uint32_t why)
{
	uint64_t one = 1;

	atomic_fetch_or(&vm->interrupt_status, why);
	if (write(vm->irqfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_guest_warn("%s: irqfd: %s", vm->ops->name, strerror(errno));
}

void virtio_mmio__kick(struct virtio_mmio *vm, unsigned int queue)
{
	uint64_t one = 1;

	if (queue < vm->ops->nr_queues &&
	    write(vm->ioeventfd[queue], &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		pr_guest_warn("%s: ioeventfd: %s", vm->ops->name, strerror(errno));
}

void virtio_mmio__break(struct virtio_mmio *vm, const char *why)
{
	if (vm->broken)
		return;
	pr_guest_warn("%s: %s: device needs a reset", vm->ops->name, why);
	vm->broken = true;
	vm->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vm->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_mmio__signal(vm, VIRTIO_MMIO_INT_CONFIG);
}

/* Device loop: status changes the vCPU side could not act on itself. */
static void transport_work(struct uring_work *w)
{
	struct virtio_mmio *vm = container_of(w, struct virtio_mmio, work);
	unsigned int q;

	pthread_mutex_lock(&vm->lock);
	if (vm->work_reset) {
		vm->work_reset = false;
		if (vm->ops->reset)
			vm->ops->reset(vm->dev);
	}
	if (vm->work_activate) {
		vm->work_activate = false;
		if (virtio_mmio__live(vm)) {
			if (vm->ops->activate)
				vm->ops->activate(vm->dev);
			/* Kicks written before DRIVER_OK are not lost. */
			for (q = 0; q < vm->ops->nr_queues; q++)
				if (virtio_mmio__live(vm) && vm->vqs[q].ready)
					vm->ops->notify(vm->dev, q);
		}
	}
	pthread_mutex_unlock(&vm->lock);
}

static void reset_transport(struct virtio_mmio *vm)
{
	unsigned int q;

	vm->status = 0;
	vm->device_features_sel = 0;
	vm->driver_features_sel = 0;
	vm->queue_sel = 0;
	vm->driver_features = 0;
	vm->broken = false;
	atomic_store(&vm->interrupt_status, 0);
	for (q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		virtq__reset(&vm->vqs[q]);
	vm->work_reset = true;
	vm->work_activate = false;
	uring__defer(vm->kvm->loop, &vm->work);
}

static void write_status(struct virtio_mmio *vm, uint32_t v)
{
	uint32_t old = vm->status;

	if (!v) {
		reset_transport(vm);
		return;
	}
	v &= 0xff;
	if ((v & VIRTIO_STATUS_FEATURES_OK) &&
	    !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* Only what was offered, and never without VERSION_1. */
		if ((vm->driver_features & ~offered(vm)) ||
		    !(vm->driver_features & 1ULL << VIRTIO_F_VERSION_1))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) &&
	    !(v & VIRTIO_STATUS_FEATURES_OK))
		v &= ~VIRTIO_STATUS_DRIVER_OK;
	vm->status = v | (old & VIRTIO_STATUS_NEEDS_RESET);
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		vm->work_activate = true;
		uring__defer(vm->kvm->loop, &vm->work);
	}
}

static void write_queue_ready(struct virtio_mmio *vm, struct virtq *vq,
			      uint32_t v)
{
	if (!v) {
		vq->ready = false;
		return;
	}
	if (vq->ready)
		return;
	if (virtq__enable(vq, vm->kvm->mem, vm->ops->queue_max))
		virtio_mmio__break(vm, "queue rings invalid");
}

static void set_low(uint64_t *r, uint32_t v)
{
	*r = (*r & ~0xffffffffULL) | v;
}

static void set_high(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffULL) | (uint64_t)v << 32;
}

void virtio_mmio__read(struct virtio_mmio *vm, uint64_t off, void *data,
		       uint32_t len)
{
	struct virtq *vq;
	uint32_t v = 0;

	memset(data, 0, len);
	if (off >= REG_CONFIG) {
		off -= REG_CONFIG;
		if (len <= vm->ops->config_size &&
		    off <= vm->ops->config_size - len &&
		    vm->ops->read_config) {
			pthread_mutex_lock(&vm->lock);
			vm->ops->read_config(vm->dev, off, data, len);
			pthread_mutex_unlock(&vm->lock);
		}
		return;
	}
	/* Registers are 32 bits wide and read 32 bits at a time. */
	if (len != 4 || (off & 3))
		return;
	pthread_mutex_lock(&vm->lock);
	vq = sel_queue(vm);
	switch (off) {
	case REG_MAGIC:
		v = MMIO_MAGIC;
		break;
	case REG_VERSION:
		v = MMIO_VERSION;
		break;
	case REG_DEVICE_ID:
		v = vm->ops->device_id;
		break;
	case REG_VENDOR_ID:
		v = MMIO_VENDOR;
		break;
	case REG_DEVICE_FEATURES:
		if (vm->device_features_sel < 2)
			v = offered(vm) >> (32 * vm->device_features_sel);
		break;
	case REG_QUEUE_NUM_MAX:
		v = vq ? vm->ops->queue_max : 0;
		break;
	case REG_QUEUE_READY:
		v = vq ? vq->ready : 0;
		break;
	case REG_INTERRUPT_STATUS:
		v = atomic_load(&vm->interrupt_status);
		break;
	case REG_STATUS:
		v = vm->status;
		break;
	case REG_CONFIG_GENERATION:
		v = vm->config_generation;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&vm->lock);
	memcpy(data, &v, 4);
}

void virtio_mmio__write(struct virtio_mmio *vm, uint64_t off,
			const void *data, uint32_t len)
{
	struct virtq *vq;
	uint32_t v;

	/* The config space of our devices is read-only. */
	if (off >= REG_CONFIG || len != 4 || (off & 3))
		return;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&vm->lock);
	vq = sel_queue(vm);
	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		vm->device_features_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		if (vm->status & VIRTIO_STATUS_FEATURES_OK)
			break;
		if (vm->driver_features_sel == 0)
			set_low(&vm->driver_features, v);
		else if (vm->driver_features_sel == 1)
			set_high(&vm->driver_features, v);
		break;
	case REG_DRIVER_FEATURES_SEL:
		vm->driver_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		vm->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
		if (vq && !vq->ready)
			vq->num = v > 0xffff ? 0 : v;
		break;
	case REG_QUEUE_READY:
		if (vq)
			write_queue_ready(vm, vq, v);
		break;
	case REG_QUEUE_NOTIFY:
		/* Only values no ioeventfd matched get here: ignore. */
		break;
	case REG_INTERRUPT_ACK:
		atomic_fetch_and(&vm->interrupt_status, ~v);
		break;
	case REG_STATUS:
		write_status(vm, v);
		break;
	case REG_QUEUE_DESC_LOW:
		if (vq && !vq->ready)
			set_low(&vq->desc_gpa, v);
		break;
	case REG_QUEUE_DESC_HIGH:
		if (vq && !vq->ready)
			set_high(&vq->desc_gpa, v);
		break;
	case REG_QUEUE_DRIVER_LOW:
		if (vq && !vq->ready)
			set_low(&vq->avail_gpa, v);
		break;
	case REG_QUEUE_DRIVER_HIGH:
		if (vq && !vq->ready)
			set_high(&vq->avail_gpa, v);
		break;
	case REG_QUEUE_DEVICE_LOW:
		if (vq && !vq->ready)
			set_low(&vq->used_gpa, v);
		break;
	case REG_QUEUE_DEVICE_HIGH:
		if (vq && !vq->ready)
			set_high(&vq->used_gpa, v);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&vm->lock);
}

static void bus_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	virtio_mmio__read(dev, off, data, len);
}

static void bus_write(void *dev, uint64_t off, const void *data,
		      uint32_t len)
{
	virtio_mmio__write(dev, off, data, len);
}

static const struct bus_ops virtio_mmio_bus_ops = {
	.read = bus_read,
	.write = bus_write,
};

/* Device loop: the guest wrote QueueNotify (through the ioeventfd). */
static void notify_fn(struct uring_poll *p, int res)
{
	struct virtio_mmio *vm = p->arg;
	unsigned int q = p - vm->notify_poll;
	uint64_t v;

	if (res < 0)
		return;
	if (read(p->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("%s: ioeventfd: %s", vm->ops->name, strerror(errno));
	pthread_mutex_lock(&vm->lock);
	if (virtio_mmio__live(vm) && vm->vqs[q].ready)
		vm->ops->notify(vm->dev, q);
	pthread_mutex_unlock(&vm->lock);
	uring__poll_arm(vm->kvm->loop, p);
}

int virtio_mmio__init(struct kvm *kvm, const struct virtio_dev_ops *ops,
		      void *dev, struct virtio_mmio **out)
{
	struct virtio_mmio *vm;
	unsigned int q;
	int ret;

	if (kvm->nr_virtio >= LAYOUT_VIRTIO_SLOTS ||
	    ops->nr_queues > VIRTIO_MMIO_MAX_QUEUES ||
	    ops->queue_max > VIRTQ_MAX_SIZE)
		return -ENOSPC;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->kvm = kvm;
	vm->ops = ops;
	vm->dev = dev;
	vm->slot = kvm->nr_virtio;
	vm->base = LAYOUT_VIRTIO_MMIO + vm->slot * LAYOUT_VIRTIO_STRIDE;
	vm->irq = layout_virtio_irqs[vm->slot];
	vm->work.fn = transport_work;
	pthread_mutex_init(&vm->lock, NULL);
	vm->irqfd = -1;
	for (q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		vm->ioeventfd[q] = -1;

	vm->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->irqfd < 0) {
		ret = -errno;
		goto err;
	}
	ret = kvm__irqfd(kvm, vm->irqfd, vm->irq, true);
	if (ret)
		goto err;
	for (q = 0; q < ops->nr_queues; q++) {
		vm->ioeventfd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vm->ioeventfd[q] < 0) {
			ret = -errno;
			goto err;
		}
		ret = kvm__ioeventfd(kvm, vm->ioeventfd[q],
				     vm->base + REG_QUEUE_NOTIFY, 4, q, true);
		if (ret)
			goto err;
		uring__poll_init(&vm->notify_poll[q], vm->ioeventfd[q], POLLIN,
				 notify_fn, vm);
		ret = uring__poll_arm(kvm->loop, &vm->notify_poll[q]);
		if (ret)
			goto err;
	}
	ret = bus__register(&kvm->mmio, vm->base, LAYOUT_VIRTIO_SIZE,
			    &virtio_mmio_bus_ops, vm, ops->name);
	if (ret)
		goto err;
	kvm->virtio[kvm->nr_virtio++] = vm;
	*out = vm;
	return 0;
err:
	/*
	 * The VM and the loop go away with the failed machine: closing the
	 * fds is all the cleanup they need.
	 */
	virtio_mmio__exit(vm);
	return ret;
}

void virtio_mmio__exit(struct virtio_mmio *vm)
{
	unsigned int q;

	if (!vm)
		return;
	for (q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		if (vm->ioeventfd[q] >= 0)
			close(vm->ioeventfd[q]);
	if (vm->irqfd >= 0)
		close(vm->irqfd);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

void virtio_mmio__save(struct virtio_mmio *vm, struct virtio_mmio_state *st)
{
	unsigned int q;

	pthread_mutex_lock(&vm->lock);
	memset(st, 0, sizeof(*st));
	st->status = vm->status;
	st->device_features_sel = vm->device_features_sel;
	st->driver_features_sel = vm->driver_features_sel;
	st->queue_sel = vm->queue_sel;
	st->driver_features = vm->driver_features;
	st->interrupt_status = atomic_load(&vm->interrupt_status);
	st->config_generation = vm->config_generation;
	st->nr_queues = vm->ops->nr_queues;
	st->broken = vm->broken;
	for (q = 0; q < vm->ops->nr_queues; q++)
		virtq__save(&vm->vqs[q], &st->vqs[q]);
	pthread_mutex_unlock(&vm->lock);
}

int virtio_mmio__restore(struct virtio_mmio *vm,
			 const struct virtio_mmio_state *st)
{
	unsigned int q;
	int ret = 0;

	if (st->nr_queues != vm->ops->nr_queues)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	vm->status = st->status & 0xff;
	vm->device_features_sel = st->device_features_sel;
	vm->driver_features_sel = st->driver_features_sel;
	vm->queue_sel = st->queue_sel;
	vm->driver_features = st->driver_features & offered(vm);
	atomic_store(&vm->interrupt_status, st->interrupt_status & 3);
	vm->config_generation = st->config_generation;
	vm->broken = st->broken;
	/*
	 * Status changes of the machine that ran (a rewind) are not the
	 * snapshot's: a deferred reset or activation finds nothing to do.
	 */
	vm->work_reset = false;
	vm->work_activate = false;
	for (q = 0; q < vm->ops->nr_queues && !ret; q++)
		ret = virtq__restore(&vm->vqs[q], &st->vqs[q], vm->kvm->mem,
				     vm->ops->queue_max);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}
