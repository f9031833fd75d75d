/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshot create and load for the machine: which state goes into which
 * section of the state file (lib/snapfile.h), the memory file
 * (lib/memfile.h), and the restore backends' RAM (vmm/mem/mem.h).
 *
 * Create (the machine paused):
 *	snapshot__save(kvm, &params, err, errlen);
 *
 * Load, in a process that has no machine yet:
 *	struct snapshot_image *img;
 *	snapshot__read(path, &img, err, errlen);   every check, nothing built
 *	snapshot__config(img, &cfg);               the machine to build
 *	snapshot__open_memory(img, &load, &mem, err, errlen);  the backend
 *	kvm__init_restore(kvm, &cfg, mem, ...);
 *	snapshot__apply(img, kvm, clock_realtime, err, errlen);  the state
 *	(img kept for rewinds)
 *
 * Rewind, in place (vmm/snapshot/rewind.c):
 *	snapshot__can_rewind(kvm, err, errlen);   before pausing
 *	(pause)
 *	snapshot__rewind(img, kvm, clock_realtime, &st, err, errlen);
 *	snapshot__free(img);                      with the machine
 */
#ifndef THAW_VMM_SNAPSHOT_SNAPSHOT_H
#define THAW_VMM_SNAPSHOT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"

struct kvm;
struct guest_mem;

/* The API's bodies (vmm/config.c parses them; strings are owned). */
struct snapshot_create_params {
	char *snapshot_path;
	char *mem_file_path;
	bool diff;			/* only the pages dirtied since the
					 * last snapshot (or load)
					 */
};

enum mem_backend_type {
	MEM_BACKEND_FILE,
	MEM_BACKEND_UFFD,
	MEM_BACKEND_THAW,
};

struct snapshot_load_params {
	char *snapshot_path;
	enum mem_backend_type backend;
	char *backend_path;		/* File, Thaw: the memory file;
					 * Uffd: the handler's socket
					 */
	bool resume_vm;
	bool track_dirty_pages;
	bool clock_realtime;
	char *vsock_uds_path;		/* NULL: the snapshot's */
	uint32_t vsock_cid;		/* 0: the snapshot's */
	char *wset_path;		/* NULL: no prefetch */
	bool record_wset;
	bool enable_rewind;		/* File: KVM's dirty log from the
					 * start; Uffd: refused
					 */
	/* drive_overrides (our extension): a drive's new path_on_host. */
	unsigned int nr_drive_overrides;
	struct snapshot_drive_override {
		char *drive_id;
		char *path_on_host;
	} drive_overrides[VM_MAX_DRIVES];
	/* network_overrides: another tap for a saved interface. */
	unsigned int nr_net_overrides;
	struct snapshot_net_override {
		char iface_id[VM_NET_ID_MAX];
		char host_dev_name[VM_NET_DEV_MAX];
	} net_overrides[VM_MAX_NET_IFACES];
};

/* PUT /snapshot/rewind (our extension). */
struct snapshot_rewind_params {
	bool resume_vm;			/* default true */
	uint32_t vsock_cid;		/* 0: keep the VM's */
	bool clock_realtime_set;	/* else as the load had it */
	bool clock_realtime;
};

/* What a rewind did, for the API's answer, the log and the metrics. */
struct snapshot_rewind_stats {
	const char *backend;		/* the memory backend's name */
	uint64_t pages;			/* pages returned to the snapshot */
	uint64_t pause_ns;		/* stopping the vCPUs (vmm.c) */
	uint64_t memory_ns;		/* returning them */
	uint64_t state_ns;		/* vCPUs, irqchip, clock, devices */
};

struct snapshot_image;

int snapshot__save(struct kvm *kvm, const struct snapshot_create_params *p,
		   char *err, size_t errlen);

int snapshot__read(const char *path, struct snapshot_image **out,
		   char *err, size_t errlen);
/* The same checks on a state file's bytes (copied): for tests and fuzzing. */
int snapshot__parse(const void *buf, size_t len,
		    struct snapshot_image **out, char *err, size_t errlen);
/* The configuration of the machine to build, with @p's overrides. */
int snapshot__config(const struct snapshot_image *img,
		     const struct snapshot_load_params *p,
		     struct vm_config *cfg, char *err, size_t errlen);
/* RAM from the chosen backend, with the working set mapped if asked. */
int snapshot__open_memory(const struct snapshot_image *img,
			  const struct snapshot_load_params *p,
			  struct guest_mem **out, char *err, size_t errlen);
/*
 * Load the image's state into @kvm: the VM's, every vCPU's, every
 * device's (struct device_snap's restore, then restored), kvmclock
 * stepped by the time since the snapshot with @clock_realtime.  On a
 * fresh machine (a load) or on one that ran since (a rewind).
 */
int snapshot__apply(const struct snapshot_image *img, struct kvm *kvm,
		    bool clock_realtime, char *err, size_t errlen);
void snapshot__free(struct snapshot_image *img);

/*
 * Rewind (vmm/snapshot/rewind.c): return a machine loaded from @img to
 * it, in place.  can_rewind: 0, or -EOPNOTSUPP with why its memory
 * backend cannot (the machine may run).  rewind: the machine paused;
 * memory first (only the pages written since the load or the last
 * rewind), then snapshot__apply().  An error leaves the machine half
 * rewound: the caller stops it.
 */
int snapshot__can_rewind(struct kvm *kvm, char *err, size_t errlen);
int snapshot__rewind(const struct snapshot_image *img, struct kvm *kvm,
		     bool clock_realtime, struct snapshot_rewind_stats *st,
		     char *err, size_t errlen);

/* After a load: the working set as the backend knows it, to a file. */
int snapshot__save_wset(struct kvm *kvm, const char *path,
			char *err, size_t errlen);

#endif
