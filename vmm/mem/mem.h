/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory: RAM regions of guest-physical space, each backed by a host
 * mapping.  Every access the VMM makes on the guest's behalf goes through
 * guest_mem__ptr(), which refuses a range that is not wholly inside one
 * region (overflow included): the guest chooses the addresses.
 *
 * A backend decides where the bytes come from: memfd (a fresh VM) now; the
 * restore path adds File (a memory file mapped private), Uffd and Thaw (the
 * module's snapshot object).  Backends differ only in how the host mapping
 * is made and released.
 */
#ifndef THAW_VMM_MEM_MEM_H
#define THAW_VMM_MEM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/thaw-object.h"
#include "vmm/config.h"

#define GUEST_MEM_MAX_REGIONS	2

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint64_t offset;		/* into the backing object */
};

struct guest_mem;
struct wset;

/* What a backend did for this VM's RAM (all zero where it cannot tell). */
struct guest_mem_stats {
	uint64_t faults;		/* page faults the backend served */
	uint64_t cow_faults;		/* of those, writes */
	uint64_t premapped;		/* pages mapped before the guest ran */
	uint64_t shared_pages;		/* pages shared with other clones now */
	uint64_t private_pages;		/* pages this VM has dirtied */
	uint64_t recorded;		/* pages in a running recording */
};

struct guest_mem_ops {
	const char *name;
	void (*release)(struct guest_mem *mem);
	/*
	 * Restore backends.  prefetch: map the working set before the vCPUs
	 * run (*pages: how many it mapped).  record: from now on remember
	 * the pages the guest touches.  touched: those pages as a working
	 * set.  Absent: -EOPNOTSUPP with a message saying why.
	 */
	int (*prefetch)(struct guest_mem *mem, const struct wset *ws,
			uint64_t *pages, char *err, size_t errlen);
	int (*record)(struct guest_mem *mem, char *err, size_t errlen);
	int (*touched)(struct guest_mem *mem, struct wset **out,
		       char *err, size_t errlen);
	/* Optional: guest_mem__wset_write() and guest_mem__stats(). */
	int (*wset_write)(struct guest_mem *mem, const char *path, char *err,
			  size_t errlen);
	int (*stats)(struct guest_mem *mem, struct guest_mem_stats *st);
	/*
	 * Rewind (vmm/snapshot/rewind.c), both optional.  can_reset: 0 when
	 * reset() can work on this RAM, else -EOPNOTSUPP and why; the
	 * machine may be running.  reset: with the vCPUs and the device loop
	 * paused, return every page written since the RAM was made (or last
	 * reset) to the snapshot's content; *pages: how many went back.
	 */
	int (*can_reset)(const struct guest_mem *mem, char *err,
			 size_t errlen);
	int (*reset)(struct guest_mem *mem, uint64_t *pages, char *err,
		     size_t errlen);
	/*
	 * Optional: the vCPUs are about to run for the first time; start
	 * what the backend does beside them (Thaw: the private 2 MiB copies
	 * of the regions the guest writes most), in threads of its own,
	 * each of which first calls @filter (its seccomp filter) if given
	 * and stops if that fails; release() waits for them.
	 */
	int (*start)(struct guest_mem *mem, int (*filter)(void));
};

struct guest_mem {
	const struct guest_mem_ops *ops;
	void *priv;			/* the backend's */
	/* MEMFILE_REGION_* flags a snapshot of this RAM needs (memfile.h). */
	uint32_t memfile_flags;
	bool recording;			/* record() was called */
	int fd;				/* backing object, -1 if none */
	uint8_t *base;			/* one host mapping for all RAM */
	uint64_t ram_size;
	size_t page_size;
	unsigned int nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
	/*
	 * Pages written since the RAM was made or last reset, one bit per
	 * 4 KiB page by offset in RAM, for a backend whose reset must be
	 * told (File): NULL unless guest_mem__track_dirty() made it.  The
	 * VMM's own writes set bits from any thread, atomically
	 * (guest_mem__mark_dirty()); the guest's come from KVM's dirty log,
	 * merged in while the machine is paused (guest_mem__merge_log()).
	 */
	uint64_t *dirty;
};

/*
 * Split @ram_size bytes of RAM around the 32-bit hole into @regions
 * (GUEST_MEM_MAX_REGIONS entries); returns how many, or -EINVAL.
 */
int guest_mem__layout(uint64_t ram_size, struct guest_mem_region *regions);

/* RAM from a memfd, optionally of 2 MiB huge pages. */
int guest_mem__new_memfd(struct guest_mem **out, uint64_t ram_size,
			 enum vm_huge_pages huge);

/*
 * Restore backends (vmm/mem/restore.c).  File: the memory file @path
 * mapped private (reads share the page cache, writes copy).  Uffd: empty
 * private RAM whose faults the handler listening on @socket_path serves
 * (Firecracker's protocol, lib/uffd.h).  -errno with a message.
 */
int guest_mem__new_file(struct guest_mem **out, const char *path,
			uint64_t ram_size, char *err, size_t errlen);
int guest_mem__new_uffd(struct guest_mem **out, const char *socket_path,
			uint64_t ram_size, char *err, size_t errlen);
/* Helpers for backends: the common part and the layout. */
struct guest_mem *guest_mem__alloc(const struct guest_mem_ops *ops,
				   uint64_t ram_size);
void guest_mem__set_base(struct guest_mem *mem, void *base);
/*
 * mmap() for guest RAM, at a 2 MiB-aligned address: KVM maps a guest page
 * with a 2 MiB entry only where the host address and the guest address
 * agree modulo 2 MiB, and every RAM region starts 2 MiB-aligned in both.
 * Every backend maps its RAM with it.  MAP_FAILED and errno on failure.
 */
void *guest_mem__mmap(uint64_t size, int prot, int flags, int fd);
void guest_mem__free(struct guest_mem *mem);

/* Host address of [gpa, gpa + len), or NULL when not all of it is RAM. */
void *guest_mem__ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copy in or out; -EFAULT when the range is not all RAM. */
int guest_mem__read(const struct guest_mem *mem, uint64_t gpa, void *buf,
		    size_t len);
int guest_mem__write(const struct guest_mem *mem, uint64_t gpa,
		     const void *buf, size_t len);

/* The end of RAM below the hole: what the boot protocol can use. */
uint64_t guest_mem__low_end(const struct guest_mem *mem);

/*
 * Write the pages this VM touched since its RAM was made (a backend
 * recording them: Thaw with record_wset) as a working-set file (lib/wset.h)
 * at @path.  -EOPNOTSUPP when the backend does not record, -EINVAL when it
 * was not asked to; -errno with a message in @err.
 */
int guest_mem__wset_write(struct guest_mem *mem, const char *path,
			  char *err, size_t errlen);
/* The backend's counters; -EOPNOTSUPP when it has none. */
int guest_mem__stats(struct guest_mem *mem, struct guest_mem_stats *st);

/*
 * Dirty pages for a rewind.  KVM's dirty log sees what the guest (and KVM
 * itself) writes, never what the VMM writes: every write the VMM makes
 * into guest RAM after a load is marked here.  The devices' writes all go
 * into the writable buffers of chains they pop and into used rings, which
 * virtq__push() marks; a device that writes guest RAM any other way calls
 * guest_mem__mark_dirty() itself (vmgenid does).  Marking is a no-op
 * unless guest_mem__track_dirty() was called.
 */
int guest_mem__track_dirty(struct guest_mem *mem);
void guest_mem__mark_dirty(const struct guest_mem *mem, const void *hva,
			   size_t len);
/* OR in KVM's dirty log (KVM_GET_DIRTY_LOG's bitmap) of region @region. */
void guest_mem__merge_log(struct guest_mem *mem, unsigned int region,
			  const uint64_t *map);
/* The backend's start (ops above), if it has one: 0 or -errno. */
int guest_mem__start(struct guest_mem *mem, int (*filter)(void));
/*
 * The backend's reset (ops above): -EOPNOTSUPP with a message when it
 * has none or cannot on this RAM.
 */
int guest_mem__can_reset(const struct guest_mem *mem, char *err,
			 size_t errlen);
int guest_mem__reset(struct guest_mem *mem, uint64_t *pages, char *err,
		     size_t errlen);

/*
 * The Thaw backend (vmm/mem/thaw.c): guest RAM is a clone of thaw.ko's
 * snapshot object for the memory file (Documentation/userspace-api/thaw.rst,
 * "Restoring guest memory with thaw").  Every thawvm restoring the same
 * memory file on this host shares one object (lib/thaw-object.h): the
 * first creates it (a copy of the file's data into pinned kernel pages),
 * the others open it.
 * Reads of RAM see the object's pages; the first write to a page gives this
 * VM a private copy.
 *
 *  @wset_path	a working-set file (lib/wset.h) of this memory file, or
 *		NULL: imported into the object and premapped into the clone
 *		in one call, before the vCPUs run.
 *  @wset	the same, already read (then @wset_path is not used).
 *  @record	record the pages this clone touches first, in order, in the
 *		module; guest_mem__wset_write() stores them (and makes them
 *		the object's working set).  A recording clone is not
 *		premapped: a premapped page is never faulted, so never
 *		recorded.
 *  @dev_path	NULL for /dev/thaw (tests point it elsewhere).
 *
 * Errors are -errno with a message in @err: -ENOENT / -ENODEV "thaw.ko is
 * not loaded" when /dev/thaw is missing; -EOPNOTSUPP when the module lacks
 * the snapshot or working-set features; -EINVAL when the memory file's size
 * is not @ram_size; the module's errnos as thaw.rst lists them.
 */
struct guest_mem_thaw_opts {
	const char *mem_path;
	const char *wset_path;
	const struct wset *wset;	/* already read: wset_path unused */
	bool record;
	bool no_huge;			/* a new object: 4 KiB pages only */
	const char *dev_path;
};

/* How the clone was made, for logs and benches. */
struct guest_mem_thaw_info {
	struct thaw_object_info obj;	/* the object it is a clone of */
	uint64_t premapped;		/* pages premapped */
	uint64_t premap_ns;
};

int guest_mem__new_thaw(struct guest_mem **out, uint64_t ram_size,
			const struct guest_mem_thaw_opts *o,
			struct guest_mem_thaw_info *info,
			char *err, size_t errlen);

/*
 * A Full snapshot's memory file was just written to @mem_path: where
 * thaw.ko is loaded and keeps unreferenced objects (its cache), make the
 * file's object now and leave it in the cache, so that the first Thaw
 * restore of the snapshot on this host finds it filled instead of reading
 * the file (Documentation/admin-guide/snapshots.rst, "The first restore").
 * Best effort: logged, never an error of the snapshot.
 */
void guest_mem__thaw_register(const char *mem_path);

#endif
