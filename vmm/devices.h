/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device registration: every device of the machine is one entry in the
 * table in vmm/devices.c, with a priority.  devices__init() runs the init
 * functions by priority and, when one fails, names it and runs the exit
 * functions of those done, in reverse; devices__exit() runs all of them in
 * reverse.
 */
#ifndef THAW_VMM_DEVICES_H
#define THAW_VMM_DEVICES_H

#include <stddef.h>

struct kvm;

enum device_prio {
	DEVICE_PRIO_LEGACY = 10,	/* ISA: serial, i8042, PM ports */
	DEVICE_PRIO_VIRTIO = 20,	/* virtio-mmio slots, in order */
};

struct device_init {
	const char *name;
	enum device_prio prio;
	int (*init)(struct kvm *kvm);	/* 0 or -errno; absent -> skipped */
	void (*exit)(struct kvm *kvm);	/* safe after a failed init */
};

int devices__init(struct kvm *kvm, char *err, size_t errlen);
void devices__exit(struct kvm *kvm);

/* The devices' entry points. */
int serial__init(struct kvm *kvm);
void serial__exit(struct kvm *kvm);
int i8042__init(struct kvm *kvm);
void i8042__exit(struct kvm *kvm);
int pm__init(struct kvm *kvm);
void pm__exit(struct kvm *kvm);
int boot_timer__init(struct kvm *kvm);
void boot_timer__exit(struct kvm *kvm);
int vmgenid__init(struct kvm *kvm);
void vmgenid__exit(struct kvm *kvm);
int vsock__init(struct kvm *kvm);
void vsock__exit(struct kvm *kvm);

#endif
