/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The memory file: guest RAM as a sparse raw file, zero pages left as
 * holes, written through io_uring.  The file's bytes at a region's
 * file_offset are that region's RAM; its size is the whole RAM.
 *
 * How to use -- Full snapshot of a paused VM:
 *
 *	struct memfile_region r = {
 *		.host = ram, .size = ram_size, .file_offset = 0,
 *		.fd = memfd, .fd_offset = 0,	(or .fd = -1: anonymous RAM)
 *	};
 *	struct memfile_opts o = { .mode = MEMFILE_FULL };
 *	ret = memfile__write("/snap/memory", &r, 1, ram_size, &o, &st,
 *			     err, sizeof(err));
 *
 * Which pages are looked at, so that the time grows with the pages in use
 * and not with the RAM size:
 *   - .fd >= 0, shared mapping (a memfd): the fd's data extents
 *     (SEEK_DATA/SEEK_HOLE); on hugetlbfs, which has no SEEK_DATA, the
 *     pages mapped in this process (pagemap) instead;
 *   - .fd < 0 (anonymous RAM): the pages /proc/self/pagemap shows present
 *     or swapped; when pagemap cannot be read, every page;
 *   - MEMFILE_REGION_PRIVATE (a MAP_PRIVATE file mapping, e.g. RAM of a
 *     VM restored with the File backend): both of the above.
 * Each candidate page that is all zero is skipped (stays a hole); the rest
 * go out in runs of up to MEMFILE_MAX_RUN bytes, many writes in flight.
 *
 * Diff snapshot: .mode = MEMFILE_DIFF and each region's .dirty bitmap
 * (KVM_GET_DIRTY_LOG's layout: bit i of 64-bit word i/64 = page i of the
 * region).  Without MEMFILE_INTO_BASE the result is a new sparse file with
 * only the dirty pages, zero or not, at their offsets (Firecracker's Diff
 * file: a hole there means "unchanged"); memfile__apply_diff() merges it
 * into its base.  With MEMFILE_INTO_BASE @path is the existing base file
 * (of exactly @file_size bytes) and the dirty pages are written into it in
 * place, dirty zero pages punched back to holes; not atomic.
 *
 * Restore: fd = memfile__open(path, expected_size, err, errlen) checks
 * that the file is a regular file of exactly the RAM size.
 *
 * Progress: when stderr is a terminal and the RAM is at least
 * MEMFILE_PROGRESS_MIN bytes, a one-line progress meter is drawn there.
 *
 * Errors are -errno with a message in @err.  Full and Diff files are
 * written to an unnamed file beside @path and renamed into place: on error
 * (or if the process is killed) @path is untouched and nothing is left.
 */
#ifndef THAW_LIB_MEMFILE_H
#define THAW_LIB_MEMFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMFILE_PAGE_SIZE	4096u
#define MEMFILE_MAX_RUN		(1u << 20)	/* bytes per write */
#define MEMFILE_QUEUE_DEPTH	64		/* writes in flight */
#define MEMFILE_PROGRESS_MIN	(256ull << 20)
#define MEMFILE_MAX_REGIONS	64

/* Region flags. */
#define MEMFILE_REGION_PRIVATE	(1u << 0)	/* MAP_PRIVATE of .fd */
/*
 * Look at every page: RAM whose untouched pages are not in this process
 * (a Uffd or Thaw restore serves them on a fault), so neither pagemap nor
 * the fd can tell what is in use; reading the page brings it in.
 */
#define MEMFILE_REGION_ALL	(1u << 1)

struct memfile_region {
	const void *host;		/* page aligned */
	uint64_t size;			/* a multiple of MEMFILE_PAGE_SIZE */
	uint64_t file_offset;		/* page aligned, within the file */
	int fd;				/* backing file or memfd, or -1 */
	uint64_t fd_offset;		/* where .host starts in .fd */
	uint32_t flags;			/* MEMFILE_REGION_* */
	const uint64_t *dirty;		/* MEMFILE_DIFF: size/4096 bits */
};

enum memfile_mode {
	MEMFILE_FULL,
	MEMFILE_DIFF,
};

/* Option flags. */
#define MEMFILE_INTO_BASE	(1u << 0)	/* DIFF: update @path in place */
#define MEMFILE_NO_PROGRESS	(1u << 1)	/* never draw progress */
#define MEMFILE_SYNC_IO		(1u << 2)	/* pwrite instead of io_uring
						 * (for comparison)
						 */

struct memfile_opts {
	enum memfile_mode mode;
	uint32_t flags;			/* MEMFILE_* option flags */
	unsigned int queue_depth;	/* 0: MEMFILE_QUEUE_DEPTH */
};

/* What a write did; every field counts this call only. */
struct memfile_stats {
	uint64_t mem_bytes;		/* RAM covered by the regions */
	uint64_t pages_scanned;		/* candidate pages looked at */
	uint64_t pages_written;		/* pages that became data */
	uint64_t zero_pages;		/* zero candidates left as holes */
	uint64_t pages_punched;		/* INTO_BASE: dirty zero pages */
	uint64_t writes;		/* write requests (SQEs or pwrites) */
	uint64_t bytes_written;
	uint64_t elapsed_ns;
	bool used_io_uring;
};

/*
 * Write @nr regions of guest RAM to the memory file @path of @file_size
 * bytes.  Regions may not overlap in the file nor reach past @file_size.
 * The RAM must not change during the call (the VM is paused).
 */
int memfile__write(const char *path, const struct memfile_region *regs,
		   unsigned int nr, uint64_t file_size,
		   const struct memfile_opts *opts, struct memfile_stats *st,
		   char *err, size_t errlen);

/*
 * Merge the Diff file @diff into its base @base in place: the diff's data
 * pages overwrite the base's, zero ones become holes.  Both must be
 * exactly @size bytes.
 */
int memfile__apply_diff(const char *base, const char *diff, uint64_t size,
			struct memfile_stats *st, char *err, size_t errlen);

/*
 * Open a memory file for restore (O_RDONLY, O_CLOEXEC): a regular file of
 * exactly @expected_size bytes, a multiple of the page size.  The fd, or
 * -errno (-EINVAL for a wrong size or type) with a message.
 */
int memfile__open(const char *path, uint64_t expected_size,
		  char *err, size_t errlen);

#endif
