/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * thaw: snapshot memory objects and fast paths for restoring microVMs.
 *
 * This header is the whole ABI of thaw.ko.  Rules that every structure here
 * follows:
 *  - only fixed-width types; user pointers travel as __u64;
 *  - explicit padding; every "reserved" or padding field must be zero on
 *    input, otherwise the ioctl fails with -EINVAL;
 *  - every ioctl structure has a flags field; unknown flags give -EINVAL;
 *  - output fields come last;
 *  - numbers are never reused and structures only grow at the end.  The size
 *    encoded in the ioctl number is the caller's idea of the structure size:
 *    a smaller size than the first published one gives -EINVAL, a larger one
 *    is accepted if the bytes the module does not know are zero (else -E2BIG),
 *    as for openat2(2).
 *
 * Documentation/userspace-api/thaw.rst describes every ioctl.
 */
#ifndef _UAPI_LINUX_THAW_H
#define _UAPI_LINUX_THAW_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define THAW_DEVICE_NAME	"thaw"		/* /dev/thaw */
#define THAW_API_VERSION	1
#define THAW_IOCTL_MAGIC	0xB8

/*
 * Feature bits reported by THAW_IOC_API.  A caller may require features by
 * setting them on input; the handshake fails if any is not supported.
 * Bits are added as capabilities land; none is ever removed.
 */
#define THAW_FEATURE_EXTENSIBLE_IOCTLS	(1ULL << 0)	/* larger structs ok */
#define THAW_FEATURE_SNAPSHOT		(1ULL << 1)	/* objects, clones */
#define THAW_FEATURE_WSET		(1ULL << 2)	/* record, premap */
#define THAW_FEATURE_RESET		(1ULL << 3)	/* O(dirty) reset */
#define THAW_FEATURE_STATS		(1ULL << 4)	/* stats, netlink */
#define THAW_FEATURE_HUGE		(1ULL << 5)	/* 2 MiB objects, PMDs */
#define THAW_FEATURE_WSET_WRITTEN	(1ULL << 6)	/* written bits */
#define THAW_FEATURE_PRIVATE_HUGE	(1ULL << 7)	/* private copies */
#define THAW_FEATURE_LAZY		(1ULL << 8)	/* filled on first use */
#define THAW_FEATURE_CACHE		(1ULL << 9)	/* unreferenced kept */
#define THAW_FEATURE_RESET_KEEP		(1ULL << 10)	/* reset in place */
#define THAW_FEATURE_COPY_ONLY		(1ULL << 11)	/* copies apart */
#define THAW_FEATURE_RESET_LATER	(1ULL << 12)	/* copies later */
#define THAW_FEATURE_OWNER		(1ULL << 13)	/* owned objects */
#define THAW_FEATURE_CACHE_DROP_OWN	(1ULL << 14)	/* drop one's own */

/**
 * struct thaw_api - API handshake, the first ioctl on a /dev/thaw fd
 * @api:      in: THAW_API_VERSION
 * @flags:    in: must be zero
 * @features: in: features the caller requires; out: every feature the
 *            module supports (THAW_FEATURE_*)
 * @reserved: in: must be zero
 */
struct thaw_api {
	__u32 api;
	__u32 flags;
	__u64 features;
	__u64 reserved[6];
};

#define THAW_API_SIZE_VER0	64	/* sizeof(struct thaw_api) in v1 */

/*
 * ioctl numbers, grouped by area:
 *   0x00-0x0f  module-wide (/dev/thaw)
 *   0x10-0x2f  snapshot objects
 *   0x30-0x4f  clone mappings
 *   0x50-0x5f  statistics
 */
#define THAW_IOC_API		_IOWR(THAW_IOCTL_MAGIC, 0x00, struct thaw_api)
#define THAW_IOC_CACHE_DROP	_IOWR(THAW_IOCTL_MAGIC, 0x01, struct thaw_cache_drop)

/* Snapshot objects (ioctls on /dev/thaw) */
#define THAW_IOC_SNAP_CREATE	_IOW(THAW_IOCTL_MAGIC, 0x10, struct thaw_snap_create)
#define THAW_IOC_SNAP_OPEN	_IOW(THAW_IOCTL_MAGIC, 0x11, struct thaw_snap_open)
/* Working set (ioctls on a snapshot fd) */
#define THAW_IOC_WSET_SET	_IOW(THAW_IOCTL_MAGIC, 0x12, struct thaw_wset_io)
#define THAW_IOC_WSET_GET	_IOWR(THAW_IOCTL_MAGIC, 0x13, struct thaw_wset_io)
/* Clone mappings (ioctls on a snapshot fd, naming the clone by address) */
#define THAW_IOC_CLONE_RECORD	_IOWR(THAW_IOCTL_MAGIC, 0x30, struct thaw_clone_op)
#define THAW_IOC_CLONE_STOP	_IOWR(THAW_IOCTL_MAGIC, 0x31, struct thaw_clone_op)
#define THAW_IOC_CLONE_PREMAP	_IOWR(THAW_IOCTL_MAGIC, 0x32, struct thaw_clone_op)
#define THAW_IOC_CLONE_RESET	_IOWR(THAW_IOCTL_MAGIC, 0x33, struct thaw_clone_op)
/* Statistics */
#define THAW_IOC_STATS		_IOWR(THAW_IOCTL_MAGIC, 0x50, struct thaw_stats)
#define THAW_IOC_SNAP_STATS	_IOWR(THAW_IOCTL_MAGIC, 0x51, struct thaw_snap_stats)
#define THAW_IOC_CLONE_STATS	_IOWR(THAW_IOCTL_MAGIC, 0x52, struct thaw_clone_stats)

/* A snapshot object's name: printable ASCII, no space, NUL-terminated. */
#define THAW_NAME_MAX		64

/**
 * struct thaw_snap_create - THAW_IOC_SNAP_CREATE: a snapshot object from a
 * memory file; returns a new file descriptor for the object
 * @fd:       in: a readable regular file or memfd holding guest memory
 * @flags:    in: THAW_SNAP_CREATE_* or zero
 * @offset:   in: where the memory starts in @fd; page aligned
 * @length:   in: bytes of memory; page aligned, non-zero, within the file
 * @name:     in: empty for an anonymous object, else a unique name under
 *            which THAW_IOC_SNAP_OPEN finds the object while it lives
 * @huge_min_pages: in: with THAW_SNAP_CREATE_HUGE, the fewest non-zero
 *            pages (1..512) a 2 MiB region needs to be stored in one
 *            2 MiB page; 0 for the module's default (huge_min_pages);
 *            without the flag, must be zero
 * @pad:      in: must be zero
 * @reserved: in: must be zero
 */
struct thaw_snap_create {
	__s32 fd;
	__u32 flags;
	__u64 offset;
	__u64 length;
	__u8 name[THAW_NAME_MAX];
	__u32 huge_min_pages;
	__u32 pad;
	__u64 reserved[3];
};

#define THAW_SNAP_CREATE_SIZE_VER0	120

/*
 * THAW_IOC_SNAP_CREATE: store the object in 2 MiB regions where dense
 * enough, and map them into clones with one PMD each (THAW_FEATURE_HUGE).
 */
#define THAW_SNAP_CREATE_HUGE		(1U << 0)

/*
 * THAW_IOC_SNAP_CREATE (THAW_FEATURE_LAZY): do not copy the file now; the
 * object keeps the file open, denies writes to it (ETXTBSY, as for a
 * running executable) and fills each 2 MiB region on its first use (a
 * fault, a premap, or a background fill started at once), then lets go of
 * the file.  A file open for writing is refused with ETXTBSY.
 */
#define THAW_SNAP_CREATE_LAZY		(1U << 1)

/* Pages in one region of a huge object (2 MiB of 4 KiB pages). */
#define THAW_REGION_PAGES		512

/**
 * struct thaw_snap_open - THAW_IOC_SNAP_OPEN: a new file descriptor for a
 * live, named snapshot object of the caller's (THAW_FEATURE_OWNER: names
 * are per owner, the creator's effective uid and user namespace)
 * @flags:     in: THAW_SNAP_OPEN_*
 * @pad:       in: must be zero
 * @name:      in: the name given at THAW_IOC_SNAP_CREATE
 * @owner_uid: in: with THAW_SNAP_OPEN_OWNER, the owner's uid in the
 *             caller's user namespace; else must be zero
 * @pad2:      in: must be zero
 * @reserved:  in: must be zero
 */
struct thaw_snap_open {
	__u32 flags;
	__u32 pad;
	__u8 name[THAW_NAME_MAX];
	__u32 owner_uid;
	__u32 pad2;
	__u64 reserved[3];
};

/*
 * THAW_IOC_SNAP_OPEN (THAW_FEATURE_OWNER): open @owner_uid's object of
 * that name, not the caller's; EPERM unless the caller is its owner or
 * has CAP_SYS_ADMIN in the owner's user namespace.
 */
#define THAW_SNAP_OPEN_OWNER		(1U << 0)

#define THAW_SNAP_OPEN_SIZE_VER0	104

/**
 * struct thaw_cache_drop - THAW_IOC_CACHE_DROP on /dev/thaw: free the
 * caller's cached objects (THAW_FEATURE_CACHE; before
 * THAW_FEATURE_CACHE_DROP_OWN, every owner's)
 * @flags:    in: THAW_CACHE_DROP_* or zero
 * @pad:      in: must be zero
 * @reserved: in: must be zero
 * @objects:  out: cached objects freed
 * @pages:    out: pinned pages they held
 */
struct thaw_cache_drop {
	__u32 flags;
	__u32 pad;
	__u64 reserved[2];
	__u64 objects;
	__u64 pages;
};

#define THAW_CACHE_DROP_SIZE_VER0	40

/* Every owner's cached objects; needs CAP_SYS_ADMIN (THAW_FEATURE_CACHE_DROP_OWN) */
#define THAW_CACHE_DROP_ALL		(1U << 0)

/**
 * struct thaw_wset_io - THAW_IOC_WSET_SET / THAW_IOC_WSET_GET: move the
 * object's working set (page indices in first-touch order) between the
 * module and userspace
 * @pages:    in: user pointer to an array of __u32 entries: page indices,
 *            with THAW_WSET_IO_WRITTEN page indices or'ed with
 *            THAW_WSET_WRITTEN
 * @count:    SET in: entries in @pages (0 clears the working set);
 *            GET in: capacity of @pages, 0 to ask only for the size;
 *            GET out: entries in the working set
 * @flags:    in: THAW_WSET_IO_WRITTEN or zero
 * @reserved: in: must be zero
 */
struct thaw_wset_io {
	__u64 pages;
	__u32 count;
	__u32 flags;
	__u64 reserved[2];
};

#define THAW_WSET_IO_SIZE_VER0		32

/*
 * THAW_IOC_WSET_GET/SET (THAW_FEATURE_WSET_WRITTEN): each entry carries,
 * in bit 31, whether the recording saw the page written; the page index is
 * in bits 0-30, so objects of more than 2^31 pages are refused.  Without
 * the flag GET returns bare page indices and SET stores no written bit.
 */
#define THAW_WSET_IO_WRITTEN		(1U << 0)
#define THAW_WSET_WRITTEN		(1U << 31)
#define THAW_WSET_PAGE_MASK		(THAW_WSET_WRITTEN - 1)

/**
 * struct thaw_clone_op - one operation on a clone mapping
 * @addr:     in: the start address of the clone (what mmap() returned) in
 *            the calling process
 * @flags:    in: THAW_CLONE_STOP_DISCARD for THAW_IOC_CLONE_STOP,
 *            THAW_CLONE_RESET_* for THAW_IOC_CLONE_RESET,
 *            THAW_CLONE_PREMAP_* for THAW_IOC_CLONE_PREMAP, else zero
 * @pad:      in: must be zero
 * @private_budget: in: with THAW_CLONE_PREMAP_BUDGET, the most private
 *            2 MiB copies the clone may hold (regions); else must be zero
 * @pad2:     in: must be zero
 * @reserved: in: must be zero
 * @count:    out: pages recorded (STOP), mapped (PREMAP) or reset (RESET);
 *            0 for RECORD
 */
struct thaw_clone_op {
	__u64 addr;
	__u32 flags;
	__u32 pad;
	__u32 private_budget;
	__u32 pad2;
	__u64 reserved[1];
	__u64 count;
};

#define THAW_CLONE_OP_SIZE_VER0		40

/* THAW_IOC_CLONE_STOP: end the recording without storing it. */
#define THAW_CLONE_STOP_DISCARD		(1U << 0)
/* THAW_IOC_CLONE_RESET: map the snapshot's pages back in at once. */
#define THAW_CLONE_RESET_REMAP		(1U << 1)
/*
 * THAW_IOC_CLONE_RESET: free the clone's private 2 MiB copies instead of
 * rewriting them with the snapshot's content (THAW_FEATURE_PRIVATE_HUGE).
 */
#define THAW_CLONE_RESET_DROP_PRIVATE	(1U << 2)
/*
 * THAW_IOC_CLONE_RESET (THAW_FEATURE_RESET_KEEP): keep the clone's private
 * 4 KiB copies and write the snapshot's content into each, in place,
 * instead of dropping them: their page table entries do not change, so
 * KVM keeps its mappings and the next write to them faults nowhere.  A
 * page kept stays counted as dirty (its next writes are not seen) and is
 * rewritten by every reset after; so the clone's private memory does not
 * shrink.  A page that cannot be kept (not mapped, shared with a forked
 * copy, in the swap cache, KSM) is dropped as without the flag; past the
 * dirty list (65536 pages) every page is.  For a clone that will be reset
 * again and again (a pristine VM per invocation).
 */
#define THAW_CLONE_RESET_KEEP		(1U << 5)
/*
 * THAW_IOC_CLONE_RESET (THAW_FEATURE_RESET_LATER): do not rewrite the
 * clone's private 2 MiB copies now; unmap each (KVM drops its entry) and
 * mark it stale.  The next fault in its region, or
 * THAW_CLONE_PREMAP_COPY_ONLY from a thread beside the vCPUs, rewrites it
 * (no allocation) and maps it again; nothing reads it stale.  A reset then
 * costs O(dirty 4 KiB pages + copies), not 2 MiB copied per copy.  Not
 * with THAW_CLONE_RESET_DROP_PRIVATE.
 */
#define THAW_CLONE_RESET_PRIVATE_LATER	(1U << 7)
/*
 * THAW_IOC_CLONE_PREMAP (THAW_FEATURE_PRIVATE_HUGE): set the clone's budget
 * of private 2 MiB copies to @private_budget before choosing its regions;
 * and copy the chosen regions now, mapped writable, before the guest runs.
 */
#define THAW_CLONE_PREMAP_BUDGET	(1U << 3)
#define THAW_CLONE_PREMAP_PRIVATE	(1U << 4)
/*
 * THAW_IOC_CLONE_PREMAP (THAW_FEATURE_COPY_ONLY), with
 * THAW_CLONE_PREMAP_PRIVATE: choose the regions and make their private
 * copies, one at a time, and map nothing else.  For a thread of the VMM
 * while the vCPUs already run, after a premap without
 * THAW_CLONE_PREMAP_PRIVATE mapped the working set read-only: the copies
 * leave the restore's path.  The copies are made last-needed first (the
 * reverse of the working set's first touches: the guest's own first
 * writes make those it needs first); the mmap lock is let go between two;
 * a fault that wants a copy being made waits for it.  @count: the pages
 * of the copies this call mapped.
 */
#define THAW_CLONE_PREMAP_COPY_ONLY	(1U << 6)

/**
 * struct thaw_stats - THAW_IOC_STATS on /dev/thaw: module-wide counts
 * @flags:        in: must be zero
 * @pad:          in: must be zero
 * @reserved:     in: must be zero
 * @snapshots:    out: live snapshot objects (an fd or a clone refers to
 *                them; cached objects are counted in @cached_objects)
 * @clones:       out: live clone mappings
 * @pinned_pages: out: pages held by all objects (data, zero page and page
 *                tables of the objects) and by the clones' private 2 MiB
 *                copies, counted against @pinned_limit
 * @pinned_limit: out: the cap on @pinned_pages (module parameter
 *                max_pinned_mb, in pages)
 * @cached_objects: out: named objects no fd or clone refers to, kept for
 *                THAW_IOC_SNAP_OPEN (not in @snapshots)
 * @cached_pages: out: pages they hold (in @pinned_pages)
 * @cache_limit:  out: the cap on @cached_pages (module parameter
 *                cache_mb, in pages)
 * @evictions:    out: cached objects freed to make room (cache limits,
 *                max_pinned_mb, max_snapshots), since the module loaded
 * @filled_fault: out: 2 MiB regions of lazy objects filled by a page
 *                fault, since the module loaded
 * @filled_premap: out: ... by THAW_IOC_CLONE_PREMAP (and a reset's remap)
 * @filled_background: out: ... by the background fill
 * @fill_waits:   out: faults and premaps that waited for a region being
 *                filled by someone else
 * @fill_errors:  out: region fills that failed (the region stays unfilled)
 */
struct thaw_stats {
	__u32 flags;
	__u32 pad;
	__u64 reserved[2];
	__u64 snapshots;
	__u64 clones;
	__u64 pinned_pages;
	__u64 pinned_limit;
	__u64 cached_objects;
	__u64 cached_pages;
	__u64 cache_limit;
	__u64 evictions;
	__u64 filled_fault;
	__u64 filled_premap;
	__u64 filled_background;
	__u64 fill_waits;
	__u64 fill_errors;
};

#define THAW_STATS_SIZE_VER0		56
#define THAW_STATS_SIZE_VER1		128	/* + the cache and the fills */

/**
 * struct thaw_snap_stats - THAW_IOC_SNAP_STATS on a snapshot fd
 * @flags:         in: must be zero
 * @pad:           in: must be zero
 * @reserved:      in: must be zero
 * @id:            out: the object's id (unique while the module is loaded)
 * @pages:         out: size of the object in pages
 * @data_pages:    out: pages held with their content, shared by every clone
 * @zero_pages:    out: all-zero pages, deduplicated to one zero page
 * @pinned_pages:  out: pages this object counts against max_pinned_mb
 * @clones:        out: live clone mappings of the object
 * @wset_pages:    out: entries in the working set
 * @faults:        out: page faults served, summed over every clone ever
 * @premapped:     out: pages premapped, summed over every clone ever
 * @private_pages: out: pages the live clones have dirtied (sum)
 * @huge_regions:  out: 2 MiB regions stored in one 2 MiB page
 * @small_regions: out: regions stored as 4 KiB pages (sparse regions, the
 *                 partial last region, fallbacks, every region of an
 *                 object created without THAW_SNAP_CREATE_HUGE)
 * @zero_regions:  out: all-zero regions, on the object's one zeroed 2 MiB
 *                 page
 * @huge_fallbacks: out: of @small_regions, those stored in 4 KiB pages
 *                 because a 2 MiB allocation failed
 * @wset_written:  out: entries of the working set marked written
 * @regions:       out: 2 MiB regions of the object (the last may be
 *                 partial)
 * @filled_regions: out: regions filled (all of them, but for a lazy
 *                 object still filling)
 * @filled_fault:  out: regions a page fault filled (lazy objects)
 * @filled_premap: out: regions a premap or a reset's remap filled
 * @filled_background: out: regions the background fill filled
 * @fill_waits:    out: faults and premaps that waited for a region being
 *                 filled
 * @fill_errors:   out: region fills that failed
 * @state:         out: THAW_SNAP_STATE_* bits
 * @pad2:          out: zero
 */
struct thaw_snap_stats {
	__u32 flags;
	__u32 pad;
	__u64 reserved[2];
	__u64 id;
	__u64 pages;
	__u64 data_pages;
	__u64 zero_pages;
	__u64 pinned_pages;
	__u64 clones;
	__u64 wset_pages;
	__u64 faults;
	__u64 premapped;
	__u64 private_pages;
	__u64 huge_regions;
	__u64 small_regions;
	__u64 zero_regions;
	__u64 huge_fallbacks;
	__u64 wset_written;
	__u64 regions;
	__u64 filled_regions;
	__u64 filled_fault;
	__u64 filled_premap;
	__u64 filled_background;
	__u64 fill_waits;
	__u64 fill_errors;
	__u32 state;
	__u32 pad2;
};

#define THAW_SNAP_STATS_SIZE_VER0	104
#define THAW_SNAP_STATS_SIZE_VER1	136	/* + the region counts */
#define THAW_SNAP_STATS_SIZE_VER2	144	/* + wset_written */
#define THAW_SNAP_STATS_SIZE_VER3	208	/* + the lazy fill */

/* Created with THAW_SNAP_CREATE_LAZY. */
#define THAW_SNAP_STATE_LAZY		(1U << 0)
/* Holds its memory file (writes to it denied): regions left to fill. */
#define THAW_SNAP_STATE_FILLING		(1U << 1)
/* No fd or clone refers to it: kept in the cache (netlink only). */
#define THAW_SNAP_STATE_CACHED		(1U << 2)

/**
 * struct thaw_clone_stats - THAW_IOC_CLONE_STATS on a snapshot fd
 * @addr:          in: the start address of the clone
 * @flags:         in: must be zero
 * @pad:           in: must be zero
 * @reserved:      in: must be zero
 * @id:            out: the clone's id
 * @pages:         out: size of the clone in pages
 * @shared_pages:  out: pages that map the snapshot's pages now
 * @zero_pages:    out: of those, pages that map the zero page
 * @private_pages: out: pages dirtied (copied on write or discarded) since
 *                 the mapping was made or last reset, and the pages
 *                 THAW_CLONE_RESET_KEEP kept
 * @faults:        out: page faults served by the module for this clone
 * @cow_faults:    out: of those, write faults (a private copy at once)
 * @premapped:     out: pages mapped by THAW_IOC_CLONE_PREMAP and
 *                 THAW_CLONE_RESET_REMAP
 * @recorded:      out: pages in the running recording (0 when not
 *                 recording)
 * @resets:        out: THAW_IOC_CLONE_RESET calls that succeeded
 * @reset_pages:   out: pages the last reset returned to the snapshot
 *                 (dropped, or rewritten in place with
 *                 THAW_CLONE_RESET_KEEP)
 * @state:         out: THAW_CLONE_STATE_* bits
 * @pad2:          out: zero
 * @pmd_maps:      out: 2 MiB regions mapped with one PMD (read faults,
 *                 premap, reset), counted each time
 * @pmd_regions:   out: regions mapped by a PMD now (their pages are in
 *                 @shared_pages)
 * @splits:        out: regions a write turned to 4 KiB pages (a PMD over
 *                 them, if any, was split); since the mapping was made
 * @private_regions: out: private 2 MiB copies the clone holds now
 * @private_made:  out: private 2 MiB copies made, since the mapping was made
 * @private_budget: out: the most private 2 MiB copies the clone may hold
 * @private_chosen: out: regions chosen for a private copy (from the
 *                 object's working set, within @private_budget)
 * @private_over_budget: out: writes into a region the working set saw
 *                 written that split it to 4 KiB because the budget was
 *                 spent
 * @private_alloc_failed: out: writes into a chosen region that split it
 *                 to 4 KiB because no 2 MiB page could be had
 * @private_refreshed: out: private 2 MiB copies rewritten after a
 *                 THAW_CLONE_RESET_PRIVATE_LATER reset, at a fault or by
 *                 THAW_CLONE_PREMAP_COPY_ONLY
 */
struct thaw_clone_stats {
	__u64 addr;
	__u32 flags;
	__u32 pad;
	__u64 reserved[2];
	__u64 id;
	__u64 pages;
	__u64 shared_pages;
	__u64 zero_pages;
	__u64 private_pages;
	__u64 faults;
	__u64 cow_faults;
	__u64 premapped;
	__u64 recorded;
	__u64 resets;
	__u64 reset_pages;
	__u32 state;
	__u32 pad2;
	__u64 pmd_maps;
	__u64 pmd_regions;
	__u64 splits;
	__u64 private_regions;
	__u64 private_made;
	__u64 private_budget;
	__u64 private_chosen;
	__u64 private_over_budget;
	__u64 private_alloc_failed;
	__u64 private_refreshed;
};

#define THAW_CLONE_STATS_SIZE_VER0	128
#define THAW_CLONE_STATS_SIZE_VER1	152	/* + the 2 MiB counts */
#define THAW_CLONE_STATS_SIZE_VER2	200	/* + the private copies */
#define THAW_CLONE_STATS_SIZE_VER3	208	/* + private_refreshed */

#define THAW_CLONE_STATE_RECORDING	(1U << 0)

/*
 * Generic netlink family "thaw" (init network namespace only; every command
 * needs CAP_NET_ADMIN).  THAW_CMD_GET_STATS answers with the module-wide
 * counts; THAW_CMD_GET_SNAPSHOT and THAW_CMD_GET_CLONE are dumps with one
 * message per live object (cached objects included, THAW_SNAP_STATE_CACHED
 * in THAW_A_SNAP_STATE).  Counters are THAW_A_* u64 attributes named as
 * in the ioctl structures above.
 */
#define THAW_GENL_NAME		"thaw"
#define THAW_GENL_VERSION	1

enum thaw_cmd {
	THAW_CMD_UNSPEC,
	THAW_CMD_GET_STATS,	/* doit: module-wide counts */
	THAW_CMD_GET_SNAPSHOT,	/* dumpit: one message per object */
	THAW_CMD_GET_CLONE,	/* dumpit: one message per clone */
	__THAW_CMD_MAX,
};
#define THAW_CMD_MAX		(__THAW_CMD_MAX - 1)

enum thaw_attr {
	THAW_A_UNSPEC,
	THAW_A_PAD,
	/* THAW_CMD_GET_STATS */
	THAW_A_SNAPSHOTS,	/* u64 */
	THAW_A_CLONES,		/* u64 */
	THAW_A_PINNED_PAGES,	/* u64 */
	THAW_A_PINNED_LIMIT,	/* u64 */
	/* THAW_CMD_GET_SNAPSHOT (THAW_A_CLONES is also set) */
	THAW_A_SNAP_ID,		/* u64 */
	THAW_A_SNAP_NAME,	/* string, absent for anonymous objects */
	THAW_A_PAGES,		/* u64 */
	THAW_A_DATA_PAGES,	/* u64 */
	THAW_A_ZERO_PAGES,	/* u64 */
	THAW_A_WSET_PAGES,	/* u64 */
	THAW_A_FAULTS,		/* u64 */
	THAW_A_PREMAPPED,	/* u64 */
	THAW_A_PRIVATE_PAGES,	/* u64 */
	/* THAW_CMD_GET_CLONE (with SNAP_ID, PAGES, ZERO_PAGES, FAULTS, ...) */
	THAW_A_CLONE_ID,	/* u64 */
	THAW_A_PID,		/* u32: the process that mapped the clone */
	THAW_A_SHARED_PAGES,	/* u64 */
	THAW_A_COW_FAULTS,	/* u64 */
	THAW_A_RECORDED,	/* u64 */
	THAW_A_RESETS,		/* u64 */
	THAW_A_RESET_PAGES,	/* u64 */
	THAW_A_STATE,		/* u32: THAW_CLONE_STATE_* */
	/* THAW_A_PINNED_PAGES is also set on THAW_CMD_GET_SNAPSHOT */
	/* THAW_CMD_GET_SNAPSHOT */
	THAW_A_HUGE_REGIONS,	/* u64 */
	THAW_A_SMALL_REGIONS,	/* u64 */
	THAW_A_ZERO_REGIONS,	/* u64 */
	THAW_A_HUGE_FALLBACKS,	/* u64 */
	/* THAW_CMD_GET_CLONE */
	THAW_A_PMD_MAPS,	/* u64 */
	THAW_A_PMD_REGIONS,	/* u64 */
	THAW_A_SPLITS,		/* u64 */
	/* THAW_CMD_GET_SNAPSHOT */
	THAW_A_WSET_WRITTEN,	/* u64 */
	/* THAW_CMD_GET_CLONE */
	THAW_A_PRIVATE_REGIONS,	/* u64 */
	THAW_A_PRIVATE_MADE,	/* u64 */
	THAW_A_PRIVATE_BUDGET,	/* u64 */
	THAW_A_PRIVATE_CHOSEN,	/* u64 */
	THAW_A_PRIVATE_OVER_BUDGET,	/* u64 */
	THAW_A_PRIVATE_ALLOC_FAILED,	/* u64 */
	/* THAW_CMD_GET_STATS */
	THAW_A_CACHED_OBJECTS,	/* u64 */
	THAW_A_CACHED_PAGES,	/* u64 */
	THAW_A_CACHE_LIMIT,	/* u64 */
	THAW_A_EVICTIONS,	/* u64 */
	/* THAW_CMD_GET_STATS and THAW_CMD_GET_SNAPSHOT */
	THAW_A_FILLED_FAULT,	/* u64 */
	THAW_A_FILLED_PREMAP,	/* u64 */
	THAW_A_FILLED_BACKGROUND,	/* u64 */
	THAW_A_FILL_WAITS,	/* u64 */
	THAW_A_FILL_ERRORS,	/* u64 */
	/* THAW_CMD_GET_SNAPSHOT */
	THAW_A_REGIONS,		/* u64 */
	THAW_A_FILLED_REGIONS,	/* u64 */
	THAW_A_SNAP_STATE,	/* u32: THAW_SNAP_STATE_* */
	/* THAW_CMD_GET_CLONE */
	THAW_A_PRIVATE_REFRESHED,	/* u64 */
	/* THAW_CMD_GET_SNAPSHOT (THAW_FEATURE_OWNER) */
	THAW_A_SNAP_OWNER_UID,	/* u32: in the reader's user namespace */
	/* THAW_CMD_GET_STATS: pinned pages held past their object's end */
	THAW_A_LINGERING_PAGES,	/* u64 */
	__THAW_A_MAX,
};
#define THAW_A_MAX		(__THAW_A_MAX - 1)

#endif /* _UAPI_LINUX_THAW_H */
