/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The working set: the guest pages first touched after a restore, in
 * touch order, as offsets into the memory file, and which of them were
 * written (the thaw module records it: THAW_WSET_IO_WRITTEN).  Stored in a
 * snapfile container of type SNAPFILE_TYPE_WSET
 * (Documentation/snapshot-format.rst); the written bits in an optional
 * section, so that files without it read as sets with no page written.
 *
 * How to use -- recording (the Uffd handler; later the thaw module):
 *
 *	struct wset *ws;
 *	wset__new(mem_size, page_size, &ws);
 *	wset__add(ws, offset);		(per first touch; repeats ignored)
 *	wset__write(ws, "/snap/wset", err, sizeof(err));
 *	wset__free(ws);
 *
 * How to use -- prefetch on restore (File backend), before vCPUs run:
 *
 *	ret = wset__read("/snap/wset", mem_size, &ws, err, sizeof(err));
 *	ret = wset__ranges(ws, WSET_SORTED, WSET_DEFAULT_BATCH, &r, &nr);
 *	for each r[i]: madvise(ram + r[i].offset, r[i].len,
 *			       MADV_POPULATE_READ)
 *	(or wset__populate(ws, ram, mem_size, &st) does exactly that)
 *
 * wset__read() validates everything (the container's checks, then: page
 * size, memory size against @expected_mem_size, each offset aligned and
 * inside the memory, no duplicates) before returning.  Errors are -errno
 * with a message, as in lib/snapfile.h; a missing file is -ENOENT.
 */
#ifndef THAW_LIB_WSET_H
#define THAW_LIB_WSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WSET_HEADER_SIZE	32
#define WSET_DEFAULT_BATCH	(2u << 20)	/* bytes per populate call */

struct wset;

/* @page_size: 4096 or 2 MiB; @mem_size a non-zero multiple of it. */
int wset__new(uint64_t mem_size, uint32_t page_size, struct wset **out);
void wset__free(struct wset *ws);
/* Append a first touch at byte @offset (rounded down to its page).
 * 1 if added, 0 if the page was already in the set, -EINVAL if out of
 * range, -ENOMEM.
 */
int wset__add(struct wset *ws, uint64_t offset);

size_t wset__count(const struct wset *ws);
/* The i-th page offset in touch order. */
uint64_t wset__offset(const struct wset *ws, size_t i);
uint32_t wset__page_size(const struct wset *ws);

/* Entry @i (< wset__count()) was written; 0, or -EINVAL. */
int wset__mark_written(struct wset *ws, size_t i);
bool wset__written(const struct wset *ws, size_t i);
/* Entries marked written. */
size_t wset__written_count(const struct wset *ws);

/* Atomic write of the set (lib/snapfile.h's commit). */
int wset__write(const struct wset *ws, const char *path,
		char *err, size_t errlen);
/* @expected_mem_size 0: accept any. */
int wset__read(const char *path, uint64_t expected_mem_size,
	       struct wset **out, char *err, size_t errlen);
int wset__parse(const void *buf, size_t len, uint64_t expected_mem_size,
		struct wset **out, char *err, size_t errlen);

struct wset_range {
	uint64_t offset;		/* bytes, into the memory file */
	uint64_t len;
};

enum wset_order {
	WSET_SORTED,		/* by offset: fewest, largest ranges */
	WSET_TOUCH_ORDER,	/* keep touch order; join only pages touched
				 * one after the other at adjacent offsets
				 */
};

/* Coalesce into ranges of at most @max_len bytes (0: no limit).  *@out is
 * malloc'd (NULL when the set is empty).
 */
int wset__ranges(const struct wset *ws, enum wset_order order,
		 uint64_t max_len, struct wset_range **out, size_t *nr);

struct wset_populate_stats {
	uint64_t pages;
	uint64_t calls;			/* madvise calls */
	uint64_t elapsed_ns;
};

/*
 * Populate the working set in @ram (the mapping of the whole memory file,
 * @mem_size bytes) with MADV_POPULATE_READ in sorted batches of
 * WSET_DEFAULT_BATCH; kernels before 5.14 read one byte per page instead.
 */
int wset__populate(const struct wset *ws, const void *ram, uint64_t mem_size,
		   struct wset_populate_stats *st);

#endif
