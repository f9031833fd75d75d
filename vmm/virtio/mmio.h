/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-mmio transport, version 2 (virtio 1.x, 4.2), modern only.  A
 * device is an ops table plus its private data; the transport owns the
 * registers, the queues, one ioeventfd per queue (QueueNotify writes wake
 * the device loop without a VM exit) and one irqfd (interrupts without a
 * VMM ioctl).
 *
 * Threads: vCPU threads access the registers; the device loop runs the
 * ops' notify/activate/reset.  Both hold vm->lock while they touch the
 * transport or the queues.
 */
#ifndef THAW_VMM_VIRTIO_MMIO_H
#define THAW_VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/persist.h"
#include "vmm/uring.h"
#include "vmm/virtio/queue.h"

struct kvm;

#define VIRTIO_F_VERSION_1		32

#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

#define VIRTIO_MMIO_INT_VRING		1
#define VIRTIO_MMIO_INT_CONFIG		2

#define VIRTIO_MMIO_MAX_QUEUES		PERSIST_MAX_QUEUES

struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	uint64_t features;		/* VERSION_1 is added */
	unsigned int nr_queues;
	uint16_t queue_max;
	uint32_t config_size;
	void (*read_config)(void *dev, uint32_t off, void *data,
			    uint32_t len);
	/* Device loop, vm->lock held. */
	void (*notify)(void *dev, unsigned int queue);
	void (*activate)(void *dev);
	void (*reset)(void *dev);
};

struct virtio_mmio {
	struct kvm *kvm;
	const struct virtio_dev_ops *ops;
	void *dev;
	uint64_t base;
	unsigned int irq;
	unsigned int slot;
	pthread_mutex_t lock;		/* all but interrupt_status */
	uint32_t status;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint64_t driver_features;
	atomic_uint interrupt_status;
	uint32_t config_generation;
	bool broken;
	struct virtq vqs[VIRTIO_MMIO_MAX_QUEUES];
	int ioeventfd[VIRTIO_MMIO_MAX_QUEUES];
	struct uring_poll notify_poll[VIRTIO_MMIO_MAX_QUEUES];
	int irqfd;
	/* Status changes handed from a vCPU to the device loop. */
	struct uring_work work;
	bool work_reset, work_activate;
};

/* Take the next slot, register the MMIO range, ioeventfds and irqfd. */
int virtio_mmio__init(struct kvm *kvm, const struct virtio_dev_ops *ops,
		      void *dev, struct virtio_mmio **out);
void virtio_mmio__exit(struct virtio_mmio *vm);

/* Run the device's notify for @queue again soon, as if the guest kicked. */
void virtio_mmio__kick(struct virtio_mmio *vm, unsigned int queue);
/* Raise the interrupt for @why (VIRTIO_MMIO_INT_*): any thread. */
void virtio_mmio__signal(struct virtio_mmio *vm, uint32_t why);
/*
 * The guest broke the device's rules: set DEVICE_NEEDS_RESET, tell the
 * driver, stop processing until it resets the device.  vm->lock held.
 */
void virtio_mmio__break(struct virtio_mmio *vm, const char *why);
static inline bool virtio_mmio__live(const struct virtio_mmio *vm)
{
	return (vm->status & VIRTIO_STATUS_DRIVER_OK) && !vm->broken;
}

/* Register access, for the bus and for tests. */
void virtio_mmio__read(struct virtio_mmio *vm, uint64_t off, void *data,
		       uint32_t len);
void virtio_mmio__write(struct virtio_mmio *vm, uint64_t off,
			const void *data, uint32_t len);

void virtio_mmio__save(struct virtio_mmio *vm, struct virtio_mmio_state *st);
int virtio_mmio__restore(struct virtio_mmio *vm,
			 const struct virtio_mmio_state *st);

#endif
