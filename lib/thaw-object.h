/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thaw.ko's snapshot object for a memory file, as thawvm's Thaw backend
 * (vmm/mem/thaw.c) and thawctl hold use it: the sequence is the one
 * Documentation/userspace-api/thaw.rst gives ("Restoring guest memory with
 * thaw").  Every process on this host that asks for the same memory file
 * gets one object, found by a name derived from the file's identity
 * (thaw_object__name()): the first creates it, the others open it.  Where
 * the module offers it (THAW_FEATURE_LAZY) the object is created lazily:
 * at once, its regions read from the file on first use or in the
 * background, with writes to the file refused meanwhile; else (or when the
 * file is open for writing) by a copy of the file's data into pinned
 * kernel pages.  Where the module keeps unreferenced objects
 * (THAW_FEATURE_CACHE), an object outlives its last clone in the module's
 * cache until room is needed, and the next restore opens it again.
 *
 * Errors are -errno with a message in @err: -ENOENT / -ENODEV "thaw.ko is
 * not loaded" when the device is missing; -EOPNOTSUPP when the module lacks
 * the snapshot or working-set features; -EINVAL when the memory file's size
 * is not the one expected; the module's errnos as thaw.rst lists them.
 */
#ifndef THAW_LIB_THAW_OBJECT_H
#define THAW_LIB_THAW_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THAW_DEV_PATH		"/dev/thaw"

struct wset;

/* How the object was found, for logs and benches. */
struct thaw_object_info {
	bool created;			/* this call created the object */
	bool lazy;			/* ... lazily (THAW_SNAP_CREATE_LAZY) */
	uint64_t create_ns;		/* time spent creating it */
	uint64_t wset_pages;		/* working-set pages imported */
	uint64_t object_id;
	char name[64];			/* the object's name */
};

/* thaw_object__for_file() @flags */
#define THAW_OBJECT_NO_HUGE	(1U << 0)	/* 4 KiB pages only, if created */
#define THAW_OBJECT_EAGER	(1U << 1)	/* copy the file now, if created */

/*
 * The object for the memory file @mem_path (@size bytes), opened or
 * created (with 2 MiB regions where the module offers them, unless @flags
 * has THAW_OBJECT_NO_HUGE), with the working set @ws (or, when @ws is NULL, the one read
 * from @wset_path, if any) imported.  Every file is checked before the
 * module is asked anything.  Opens thaw.ko's device @dev_path (NULL:
 * THAW_DEV_PATH) into *@dev, with the features it offers in *@features
 * (the caller closes it, also on error when it is >= 0); returns the
 * object's fd.
 */
int thaw_object__for_file(const char *mem_path, uint64_t size,
			  unsigned int flags,
			  const struct wset *ws, const char *wset_path,
			  const char *dev_path, int *dev, uint64_t *features,
			  struct thaw_object_info *info, char *err,
			  size_t errlen);

/*
 * Register the object for the memory file @mem_path in the module's cache
 * (a snapshot was just written): open it, or create it whole now (a copy
 * of the file), and let it go, so that the first restore finds it.  0;
 * -EOPNOTSUPP (with the reason) where the module keeps no unreferenced
 * object (no THAW_FEATURE_CACHE, or cache_mb 0); else as
 * thaw_object__for_file().
 */
int thaw_object__register(const char *mem_path, const char *dev_path,
			  struct thaw_object_info *info, char *err,
			  size_t errlen);

/*
 * Hold the object for the memory file @mem_path without a clone, so that
 * it outlives the clones: each later restore of that file on this host
 * opens it instead of copying the file into the module again.  A worker
 * host keeps one holder per hot snapshot (thawctl hold); where the module
 * has a cache this is optional: a held object is never evicted.  The object is
 * created if no one has it; @wset_path, when given, becomes its working
 * set.  Returns the object's fd (closing it lets go).
 */
int thaw_object__hold(const char *mem_path, const char *wset_path,
		      const char *dev_path, struct thaw_object_info *info,
		      char *err, size_t errlen);

/*
 * Free the caller's objects in the module's cache, or with @all every
 * owner's (THAW_IOC_CACHE_DROP; @all needs CAP_SYS_ADMIN): their number and
 * pinned pages in *@objects and *@pages.  0, or -errno: -EOPNOTSUPP where
 * the module has no cache, or can only drop all and @all is false; -EPERM.
 */
int thaw_object__drop_cache(const char *dev_path, bool all,
			    uint64_t *objects, uint64_t *pages, char *err,
			    size_t errlen);

/*
 * The object name for a memory file: its device, inode, size and ctime,
 * so that a file written anew gets a new object.  @name has 64 bytes.
 * 0 or -errno (fstat).
 */
int thaw_object__name(int fd, char name[64]);

#endif
