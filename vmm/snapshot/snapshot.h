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
 *	snapshot__apply(img, kvm, err, errlen);    the saved state
 *	snapshot__free(img);
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
};

struct snapshot_image;

int snapshot__save(struct kvm *kvm, const struct snapshot_create_params *p,
		   char *err, size_t errlen);

int snapshot__read(const char *path, struct snapshot_image **out,
		   char *err, size_t errlen);
/* The configuration of the machine to build, with @p's overrides. */
int snapshot__config(const struct snapshot_image *img,
		     const struct snapshot_load_params *p,
		     struct vm_config *cfg, char *err, size_t errlen);
/* RAM from the chosen backend, with the working set mapped if asked. */
int snapshot__open_memory(const struct snapshot_image *img,
			  const struct snapshot_load_params *p,
			  struct guest_mem **out, char *err, size_t errlen);
int snapshot__apply(const struct snapshot_image *img, struct kvm *kvm,
		    const struct snapshot_load_params *p,
		    char *err, size_t errlen);
void snapshot__free(struct snapshot_image *img);

/* After a load: the working set as the backend knows it, to a file. */
int snapshot__save_wset(struct kvm *kvm, const char *path,
			char *err, size_t errlen);

#endif
