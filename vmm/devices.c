// SPDX-License-Identifier: GPL-2.0
/* The machine's devices and their init/exit order: see devices.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/util.h"

/*
 * Init order is by priority; the table's own order is the snapshot's
 * (vsock's section comes before vmgenid's, and its transport reset before
 * the new generation ID).
 */
static const struct device_init device_table[] = {
	{ "serial", DEVICE_PRIO_LEGACY, serial__init, serial__exit,
	  &serial__snap },
	{ "i8042", DEVICE_PRIO_LEGACY, i8042__init, i8042__exit,
	  &i8042__snap },
	{ "acpi-pm", DEVICE_PRIO_LEGACY, pm__init, pm__exit, NULL },
	{ "boot-timer", DEVICE_PRIO_LEGACY, boot_timer__init,
	  boot_timer__exit, NULL },
	{ "virtio-vsock", DEVICE_PRIO_VIRTIO, vsock__init, vsock__exit,
	  &vsock__snap },
	{ "vmgenid", DEVICE_PRIO_LEGACY, vmgenid__init, vmgenid__exit,
	  &vmgenid__snap },
	{ "virtio-blk", DEVICE_PRIO_VIRTIO, blk__init, blk__exit, &blk__snap },
	{ "virtio-rng", DEVICE_PRIO_VIRTIO, rng__init, rng__exit, &rng__snap },
	{ "virtio-net", DEVICE_PRIO_VIRTIO, net__init, net__exit,
	  &net__snap },
	/* Served on virtio-net's interfaces, which net__init() starts. */
	{ "mmds", DEVICE_PRIO_VIRTIO, NULL, NULL, &mmds__snap },
};

#define NR_DEVICES ARRAY_SIZE(device_table)
_Static_assert(NR_DEVICES <= DEVICES_MAX, "raise DEVICES_MAX");

const struct device_init *devices__get(size_t i)
{
	return i < NR_DEVICES ? &device_table[i] : NULL;
}

static int by_prio(const void *a, const void *b)
{
	const struct device_init *const *x = a, *const *y = b;

	if ((*x)->prio != (*y)->prio)
		return (*x)->prio < (*y)->prio ? -1 : 1;
	/* Equal priorities keep the table's order. */
	return *x < *y ? -1 : *x > *y;
}

static void sorted(const struct device_init **order)
{
	size_t i;

	for (i = 0; i < NR_DEVICES; i++)
		order[i] = &device_table[i];
	qsort(order, NR_DEVICES, sizeof(order[0]), by_prio);
}

int devices__init(struct kvm *kvm, char *err, size_t errlen)
{
	const struct device_init *order[NR_DEVICES];
	char why[256];
	size_t i;
	int ret;

	sorted(order);
	for (i = 0; i < NR_DEVICES; i++) {
		if (!order[i]->init)
			continue;
		why[0] = '\0';
		ret = order[i]->init(kvm, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "device %s: %s", order[i]->name,
				 why[0] ? why : strerror(-ret));
			pr_err("%s", err);
			while (i--)
				if (order[i]->exit)
					order[i]->exit(kvm);
			return ret;
		}
	}
	return 0;
}

void devices__exit(struct kvm *kvm)
{
	const struct device_init *order[NR_DEVICES];
	size_t i;

	sorted(order);
	for (i = NR_DEVICES; i--;)
		if (order[i]->exit)
			order[i]->exit(kvm);
}
