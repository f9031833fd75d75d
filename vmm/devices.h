/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device registration: every device of the machine is one entry in the
 * table in vmm/devices.c, with a priority.  devices__init() runs the init
 * functions by priority and, when one fails, names it with the reason it
 * gave (its message, else its errno's) and runs the exit functions of
 * those done, in reverse; devices__exit() runs all of them in reverse.
 *
 * A device with state to keep across a snapshot also names its section of
 * the state file and how to save, check and restore it (struct
 * device_snap, beside the device's code): vmm/snapshot/ loops over the
 * table, for a load and for every rewind, so adding a device never edits
 * the snapshot code.
 */
#ifndef THAW_VMM_DEVICES_H
#define THAW_VMM_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm;
struct vm_config;
struct snapshot_load_params;

/*
 * A device's part of a snapshot: its plain-data state (vmm/persist.h) as
 * one section of the state file.  Called with the machine paused: no
 * vCPU in KVM_RUN, the device loop parked (vmm__pause()).
 */
struct device_snap {
	uint32_t section;		/* SNAP_SEC_DEV_* (lib/snapfile.h) */
	size_t size;			/* of its state struct */
	const char *what;		/* in messages: "serial port" */
	bool required;			/* refuse a snapshot without it */
	/* Fill @state (zeroed, @size bytes); false: the machine has none. */
	bool (*save)(struct kvm *kvm, void *state);
	/*
	 * Optional, before any machine exists: refuse a saved @state (NULL:
	 * the snapshot has none) that a machine configured as @cfg cannot
	 * take.  -EBADMSG with a message.
	 */
	int (*check)(const struct vm_config *cfg, const void *state,
		     char *err, size_t errlen);
	/*
	 * Optional, for a load, once every check passed and before the
	 * machine is built: add to @cfg (the snapshot's machine) what the
	 * device is built from, from its @state (NULL: none saved) and the
	 * load's overrides @p.  -errno with a message.
	 */
	int (*config)(struct vm_config *cfg, const void *state,
		      const struct snapshot_load_params *p, char *err,
		      size_t errlen);
	/*
	 * Load @state (NULL: none saved) into the device; -errno, message.
	 * Twice or more in a machine's life: after a load the device is
	 * fresh, after a rewind (vmm/snapshot/rewind.c) it has run since,
	 * so a restore replaces whatever the device holds, drops what it
	 * opened since the snapshot as a device reset would (connections,
	 * packets owed, deferred work) and drives its interrupt lines
	 * rather than trust a cached level: the irqchip was reloaded.
	 */
	int (*restore)(struct kvm *kvm, const void *state, char *err,
		       size_t errlen);
	/*
	 * Optional, before a rewind returns guest memory (the machine
	 * paused): finish the I/O the device has in flight into guest
	 * memory, so that none lands in the rewound pages.
	 */
	void (*quiesce)(struct kvm *kvm);
	/*
	 * Optional, once every device and vCPU is restored and before the
	 * vCPUs run: tell the guest what changed under it.  As often as
	 * restore.
	 */
	int (*restored)(struct kvm *kvm, char *err, size_t errlen);
};

enum device_prio {
	DEVICE_PRIO_LEGACY = 10,	/* ISA: serial, i8042, PM ports */
	DEVICE_PRIO_VIRTIO = 20,	/* virtio-mmio slots, in order */
};

struct device_init {
	const char *name;
	enum device_prio prio;
	/* 0, or -errno and why in @err; absent -> skipped */
	int (*init)(struct kvm *kvm, char *err, size_t errlen);
	void (*exit)(struct kvm *kvm);	/* safe after a failed init */
	const struct device_snap *snap;	/* NULL: nothing to save */
};

/* No more devices than this in the table (snapshot code's arrays). */
#define DEVICES_MAX	16

int devices__init(struct kvm *kvm, char *err, size_t errlen);
void devices__exit(struct kvm *kvm);

/*
 * The table in its own order, which is the order of the state file's
 * device sections and of restores: entry @i, or NULL past the end.
 */
const struct device_init *devices__get(size_t i);

/* The devices' entry points. */
int serial__init(struct kvm *kvm, char *err, size_t errlen);
void serial__exit(struct kvm *kvm);
int i8042__init(struct kvm *kvm, char *err, size_t errlen);
void i8042__exit(struct kvm *kvm);
int pm__init(struct kvm *kvm, char *err, size_t errlen);
void pm__exit(struct kvm *kvm);
int boot_timer__init(struct kvm *kvm, char *err, size_t errlen);
void boot_timer__exit(struct kvm *kvm);
int vmgenid__init(struct kvm *kvm, char *err, size_t errlen);
void vmgenid__exit(struct kvm *kvm);
int vsock__init(struct kvm *kvm, char *err, size_t errlen);
void vsock__exit(struct kvm *kvm);
int blk__init(struct kvm *kvm, char *err, size_t errlen);
void blk__exit(struct kvm *kvm);
int rng__init(struct kvm *kvm, char *err, size_t errlen);
void rng__exit(struct kvm *kvm);
int net__init(struct kvm *kvm, char *err, size_t errlen);
void net__exit(struct kvm *kvm);

/* Their snapshot sections. */
extern const struct device_snap serial__snap;
extern const struct device_snap i8042__snap;
extern const struct device_snap vmgenid__snap;
extern const struct device_snap vsock__snap;
extern const struct device_snap blk__snap;
extern const struct device_snap rng__snap;
extern const struct device_snap net__snap;
extern const struct device_snap mmds__snap;

#endif
