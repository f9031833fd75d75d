// SPDX-License-Identifier: GPL-2.0
/*
 * Sparse memory files through io_uring (lib/memfile.h).
 *
 * One engine serves four jobs; they differ in where the candidate pages
 * come from, what happens to a zero page and which file is written:
 *
 *   job                 candidates              zero page   target
 *   Full                fd extents / pagemap    hole        new file
 *   Diff                dirty bitmap            written     new file
 *   Diff into base      dirty bitmap            punched     the base
 *   apply a diff        the diff's extents      punched     the base
 *
 * Candidates are gathered into a bitmap per region (one bit per page: 64
 * KiB for 2 GiB of RAM), then walked run by run.  Non-zero pages are
 * joined into writes of up to MEMFILE_MAX_RUN bytes straight from guest
 * memory (no copy), up to queue_depth of them in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/memfile.h"
#include "lib/snaputil.h"

#define PAGE		MEMFILE_PAGE_SIZE
#define PM_PRESENT	(1ull << 63)
#define PM_SWAPPED	(1ull << 62)
#define SUBMIT_BATCH	16		/* SQEs queued before a submit */
#define PROGRESS_NS	200000000ull	/* redraw at most 5 times a second */
#define PROGRESS_DELAY	500000000ull	/* nothing for short writes */

enum zero_policy {
	ZERO_SKIP,			/* leave a hole */
	ZERO_WRITE,			/* write it like any page */
	ZERO_PUNCH,			/* punch a hole where data was */
};

enum source {
	SRC_DIRTY,			/* the region's dirty bitmap */
	SRC_EXTENTS,			/* what is in use: fd and/or pagemap */
};

struct req {
	const uint8_t *buf;
	uint64_t off;
	uint32_t len;
};

struct engine {
	int fd;
	const char *path;
	enum zero_policy zp;
	struct memfile_stats *st;
	char *err;
	size_t errlen;
	int error;			/* the first failure, -errno */

	bool uring;
	struct io_uring ring;
	struct req *reqs;
	unsigned int *free_slots;
	unsigned int nfree, depth, unsubmitted;

	const uint8_t *run_buf;		/* the write being gathered */
	uint64_t run_off, run_len;
	uint64_t punch_off, punch_len;	/* the hole being gathered */
	bool punch_unsupported;

	bool ring_dead;			/* waiting failed: give up */

	int pagemap_fd;			/* -1: unreadable, -2: not opened */

	bool progress;
	uint64_t t0, last_draw, total, done;
};

static const uint8_t zero_buf[MEMFILE_MAX_RUN];

static int eng_fail(struct engine *e, int ret, const char *what,
		    uint64_t off)
{
	if (!e->error) {
		e->error = ret;
		err__set(e->err, e->errlen, ret, "%s: %s at offset %llu: %s",
			 e->path, what, (unsigned long long)off,
			 strerror(-ret));
	}
	return e->error;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (unsigned int i = 0; i < PAGE / 8; i += 8)
		if (q[i] | q[i + 1] | q[i + 2] | q[i + 3] |
		    q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7])
			return false;
	return true;
}

/* Progress. */

static void progress_draw(struct engine *e, bool last)
{
	uint64_t now = snap_now_ns();

	if (!e->progress)
		return;
	if (!last && (now - e->t0 < PROGRESS_DELAY ||
		      now - e->last_draw < PROGRESS_NS))
		return;
	if (last) {
		if (e->last_draw)
			fputs("\r\033[K", stderr);
		return;
	}
	e->last_draw = now;
	fprintf(stderr, "\rmemory file: %3llu%% of %llu MiB scanned, %llu MiB written",
		(unsigned long long)(e->done * 100 / e->total),
		(unsigned long long)(e->total >> 20),
		(unsigned long long)(e->st->bytes_written >> 20));
	fflush(stderr);
}

/* Writes. */

static int sync_write(struct engine *e, const uint8_t *buf, uint64_t off,
		      uint64_t len)
{
	while (len) {
		ssize_t n = pwrite(e->fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return eng_fail(e, n < 0 ? -errno : -EIO, "write", off);
		e->st->writes++;
		e->st->bytes_written += (uint64_t)n;
		buf += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static void queue_req(struct engine *e, unsigned int slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	struct req *r = &e->reqs[slot];

	if (!sqe) {
		/* The SQ ring holds depth entries and at most depth are
		 * in flight, so it only fills with unsubmitted ones.
		 */
		io_uring_submit(&e->ring);
		e->unsubmitted = 0;
		sqe = io_uring_get_sqe(&e->ring);
	}
	io_uring_prep_write(sqe, e->fd, r->buf, r->len, r->off);
	/* A buffered write that allocates blocks or pages cannot complete
	 * without blocking: the inline attempt would fail with EAGAIN and
	 * then go to a worker anyway.  Go there directly (1.6-2x faster
	 * for scattered 4 KiB pages, measured on tmpfs and ext4).
	 */
	sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data64(sqe, slot);
	e->st->writes++;
	if (++e->unsubmitted >= SUBMIT_BATCH) {
		io_uring_submit(&e->ring);
		e->unsubmitted = 0;
	}
}

/* Reap completions: wait for at least one when @wait. */
static int reap(struct engine *e, bool wait)
{
	struct io_uring_cqe *cqe;
	int ret;

	if (wait && e->unsubmitted) {
		io_uring_submit(&e->ring);
		e->unsubmitted = 0;
	}
	for (;;) {
		if (wait)
			ret = io_uring_wait_cqe(&e->ring, &cqe);
		else
			ret = io_uring_peek_cqe(&e->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret == -EAGAIN)
			return 0;
		if (ret) {
			e->ring_dead = true;
			return eng_fail(e, ret, "io_uring wait", 0);
		}
		wait = false;

		unsigned int slot = (unsigned int)io_uring_cqe_get_data64(cqe);
		struct req *r = &e->reqs[slot];
		int res = cqe->res;

		io_uring_cqe_seen(&e->ring, cqe);
		if (res > 0 && (uint32_t)res < r->len && !e->error) {
			/* Short write: send the rest. */
			e->st->bytes_written += (uint64_t)res;
			r->buf += res;
			r->off += (uint64_t)res;
			r->len -= (uint32_t)res;
			queue_req(e, slot);
			continue;
		}
		if (res <= 0)
			eng_fail(e, res < 0 ? res : -EIO, "write", r->off);
		else
			e->st->bytes_written += (uint64_t)res;
		e->free_slots[e->nfree++] = slot;
	}
}

static int submit_write(struct engine *e, const uint8_t *buf, uint64_t off,
			uint64_t len)
{
	unsigned int slot;
	int ret;

	if (e->error)
		return e->error;
	if (!e->uring)
		return sync_write(e, buf, off, len);
	while (!e->nfree) {
		ret = reap(e, true);
		if (ret)
			return ret;
	}
	slot = e->free_slots[--e->nfree];
	e->reqs[slot] = (struct req){ .buf = buf, .off = off,
				      .len = (uint32_t)len };
	queue_req(e, slot);
	return 0;
}

static int flush_run(struct engine *e)
{
	int ret;

	if (!e->run_len)
		return e->error;
	ret = submit_write(e, e->run_buf, e->run_off, e->run_len);
	e->run_len = 0;
	return ret;
}

static int add_page(struct engine *e, const uint8_t *buf, uint64_t off)
{
	if (e->run_len && e->run_buf + e->run_len == buf &&
	    e->run_off + e->run_len == off &&
	    e->run_len + PAGE <= MEMFILE_MAX_RUN) {
		e->run_len += PAGE;
	} else {
		int ret = flush_run(e);

		if (ret)
			return ret;
		e->run_buf = buf;
		e->run_off = off;
		e->run_len = PAGE;
	}
	e->st->pages_written++;
	return 0;
}

static int flush_punch(struct engine *e)
{
	uint64_t off = e->punch_off, len = e->punch_len;

	if (!len)
		return e->error;
	e->punch_len = 0;
	if (!e->punch_unsupported &&
	    !fallocate(e->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len))
		return 0;
	if (!e->punch_unsupported && errno != EOPNOTSUPP)
		return eng_fail(e, -errno, "punching a hole", off);
	/* A file system without holes: the zeros become data. */
	e->punch_unsupported = true;
	while (len) {
		uint64_t n = len < sizeof(zero_buf) ? len : sizeof(zero_buf);
		int ret = submit_write(e, zero_buf, off, n);

		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

static int punch_page(struct engine *e, uint64_t off)
{
	e->st->pages_punched++;
	if (e->punch_len && e->punch_off + e->punch_len == off) {
		e->punch_len += PAGE;
		return 0;
	}
	int ret = flush_punch(e);

	e->punch_off = off;
	e->punch_len = PAGE;
	return ret;
}

static int engine_init(struct engine *e, int fd, const char *path,
		       enum zero_policy zp, const struct memfile_opts *o,
		       uint64_t total, struct memfile_stats *st,
		       char *err, size_t errlen)
{
	unsigned int depth = o->queue_depth ? o->queue_depth :
			     MEMFILE_QUEUE_DEPTH;

	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->path = path;
	e->zp = zp;
	e->st = st;
	e->err = err;
	e->errlen = errlen;
	e->pagemap_fd = -2;
	e->total = total;
	e->t0 = snap_now_ns();
	e->progress = !(o->flags & MEMFILE_NO_PROGRESS) &&
		      total >= MEMFILE_PROGRESS_MIN && isatty(STDERR_FILENO);
	if (depth > 4096)
		depth = 4096;
	if (o->flags & MEMFILE_SYNC_IO)
		return 0;
	e->reqs = calloc(depth, sizeof(*e->reqs));
	e->free_slots = calloc(depth, sizeof(*e->free_slots));
	if (!e->reqs || !e->free_slots)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	/* No io_uring (an old kernel, a seccomp filter, the
	 * io_uring_disabled sysctl): plain pwrite, same result.
	 */
	/* Completions are only reaped by this thread, when it waits: let
	 * the kernel defer their work to then (6.1+), else plain.
	 */
	if (io_uring_queue_init(depth, &e->ring, IORING_SETUP_SINGLE_ISSUER |
				IORING_SETUP_DEFER_TASKRUN) &&
	    io_uring_queue_init(depth, &e->ring, 0))
		return 0;
	e->uring = true;
	e->depth = depth;
	for (unsigned int i = 0; i < depth; i++)
		e->free_slots[e->nfree++] = i;
	st->used_io_uring = true;
	return 0;
}

/* Wait for every write; the engine's first error, or 0. */
static int engine_finish(struct engine *e)
{
	flush_run(e);
	flush_punch(e);
	while (e->uring && e->nfree < e->depth && !e->ring_dead)
		reap(e, true);
	progress_draw(e, true);
	return e->error;
}

static void engine_free(struct engine *e)
{
	if (e->uring)
		io_uring_queue_exit(&e->ring);
	if (e->pagemap_fd >= 0)
		close(e->pagemap_fd);
	free(e->reqs);
	free(e->free_slots);
}

/* Candidates. */

static void set_bits(uint64_t *map, uint64_t first, uint64_t end)
{
	for (uint64_t b = first; b < end; b++)
		map[b / 64] |= 1ull << (b % 64);
}

/* The pages of @r that hold data in its fd; -errno if SEEK_DATA fails. */
static int extents_from_fd(const struct memfile_region *r, uint64_t *map)
{
	uint64_t start = r->fd_offset, end = r->fd_offset + r->size;
	off_t pos = (off_t)start;

	while ((uint64_t)pos < end) {
		off_t d = lseek(r->fd, pos, SEEK_DATA), h;

		if (d < 0)
			return errno == ENXIO ? 0 : -errno;
		if ((uint64_t)d >= end)
			break;
		h = lseek(r->fd, d, SEEK_HOLE);
		if (h < 0)
			return -errno;
		if ((uint64_t)h > end)
			h = (off_t)end;
		set_bits(map, ((uint64_t)d - start) / PAGE,
			 ((uint64_t)h - start + PAGE - 1) / PAGE);
		pos = h;
	}
	return 0;
}

/* The pages of @r that this process has present or swapped out. */
static int extents_from_pagemap(struct engine *e,
				const struct memfile_region *r, uint64_t *map)
{
	uint64_t pm[512], first = (uintptr_t)r->host / PAGE;
	uint64_t pages = r->size / PAGE;

	if (e->pagemap_fd == -2)
		e->pagemap_fd = open("/proc/self/pagemap",
				     O_RDONLY | O_CLOEXEC);
	if (e->pagemap_fd < 0)
		return -ENOENT;
	for (uint64_t i = 0; i < pages; ) {
		uint64_t n = pages - i < 512 ? pages - i : 512;
		ssize_t got = pread(e->pagemap_fd, pm, n * 8,
				    (off_t)((first + i) * 8));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || got % 8)
			return got < 0 ? -errno : -EIO;
		n = (uint64_t)got / 8;
		for (uint64_t k = 0; k < n; k++)
			if (pm[k] & (PM_PRESENT | PM_SWAPPED))
				map[(i + k) / 64] |= 1ull << ((i + k) % 64);
		i += n;
	}
	return 0;
}

/* hugetlbfs has no SEEK_DATA: all of a file is "data" to it. */
static bool on_hugetlbfs(int fd)
{
	struct statfs sf;

	return !fstatfs(fd, &sf) && sf.f_type == HUGETLBFS_MAGIC;
}

static void region_candidates(struct engine *e,
			      const struct memfile_region *r, uint64_t *map)
{
	uint64_t pages = r->size / PAGE;
	bool use_fd = r->fd >= 0 && !on_hugetlbfs(r->fd);
	bool anon = !use_fd || (r->flags & MEMFILE_REGION_PRIVATE);
	int ret = 0;

	if (r->flags & MEMFILE_REGION_ALL) {
		set_bits(map, 0, pages);
		return;
	}
	/* Reading a hugetlbfs hole through the mapping would allocate a
	 * huge page: ask pagemap what this process has mapped instead. */
	if (use_fd)
		ret = extents_from_fd(r, map);
	if (!ret && anon)
		ret = extents_from_pagemap(e, r, map);
	if (ret)			/* no way to tell: look at every page */
		set_bits(map, 0, pages);
}

static int write_region(struct engine *e, const struct memfile_region *r,
			enum source src, uint64_t done_before)
{
	uint64_t pages = r->size / PAGE, words = (pages + 63) / 64;
	uint64_t *own = NULL;
	const uint64_t *map;
	int ret = 0;

	if (src == SRC_DIRTY) {
		map = r->dirty;
	} else {
		own = calloc(words, sizeof(*own));
		if (!own) {
			e->error = err__set(e->err, e->errlen, -ENOMEM,
					    "out of memory");
			return e->error;
		}
		region_candidates(e, r, own);
		map = own;
	}
	for (uint64_t w = 0; w < words && !ret; w++) {
		uint64_t bits = map[w];

		if (w == words - 1 && pages % 64)
			bits &= (1ull << (pages % 64)) - 1;
		while (bits && !ret) {
			uint64_t p = w * 64 + (uint64_t)__builtin_ctzll(bits);
			const uint8_t *buf = (const uint8_t *)r->host + p * PAGE;
			uint64_t off = r->file_offset + p * PAGE;

			bits &= bits - 1;
			e->st->pages_scanned++;
			if (e->zp != ZERO_WRITE && page_is_zero(buf)) {
				if (e->zp == ZERO_PUNCH)
					ret = punch_page(e, off);
				else
					e->st->zero_pages++;
				continue;
			}
			ret = add_page(e, buf, off);
		}
		if (e->progress && !(w & 255)) {
			e->done = done_before + w * 64 * PAGE;
			progress_draw(e, false);
		}
	}
	free(own);
	return ret ? ret : e->error;
}

/* Validation. */

static int cmp_region(const void *a, const void *b)
{
	const struct memfile_region *x = *(const struct memfile_region * const *)a;
	const struct memfile_region *y = *(const struct memfile_region * const *)b;

	return x->file_offset < y->file_offset ? -1 :
	       x->file_offset > y->file_offset;
}

static int check_regions(const struct memfile_region *regs, unsigned int nr,
			 uint64_t file_size, bool diff, char *err,
			 size_t errlen)
{
	const struct memfile_region *sorted[MEMFILE_MAX_REGIONS];

	if (!nr || nr > MEMFILE_MAX_REGIONS)
		return err__set(err, errlen, -EINVAL,
				"%u memory regions (1..%d)", nr,
				MEMFILE_MAX_REGIONS);
	if (!file_size || !snap_aligned(file_size, PAGE))
		return err__set(err, errlen, -EINVAL,
				"memory file size %llu is not a non-zero multiple of %u",
				(unsigned long long)file_size, PAGE);
	for (unsigned int i = 0; i < nr; i++) {
		const struct memfile_region *r = &regs[i];

		if (!r->host || !snap_aligned((uintptr_t)r->host, PAGE) ||
		    !r->size || !snap_aligned(r->size, PAGE) ||
		    !snap_aligned(r->file_offset, PAGE) ||
		    !snap_aligned(r->fd_offset, PAGE))
			return err__set(err, errlen, -EINVAL,
					"memory region %u is not page aligned",
					i);
		if (r->file_offset > file_size ||
		    r->size > file_size - r->file_offset)
			return err__set(err, errlen, -EINVAL,
					"memory region %u ends past the %llu-byte file",
					i, (unsigned long long)file_size);
		if (diff && !r->dirty)
			return err__set(err, errlen, -EINVAL,
					"memory region %u has no dirty bitmap",
					i);
		if (r->flags & ~(MEMFILE_REGION_PRIVATE | MEMFILE_REGION_ALL))
			return err__set(err, errlen, -EINVAL,
					"memory region %u: unknown flags", i);
		sorted[i] = r;
	}
	qsort(sorted, nr, sizeof(sorted[0]), cmp_region);
	for (unsigned int i = 1; i < nr; i++)
		if (sorted[i - 1]->file_offset + sorted[i - 1]->size >
		    sorted[i]->file_offset)
			return err__set(err, errlen, -EINVAL,
					"memory regions overlap in the file");
	return 0;
}

static int open_base(const char *path, uint64_t size, int flags,
		     char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return err__set(err, errlen, -errno, "%s: %s", path,
				strerror(errno));
	if (fstat(fd, &st)) {
		int ret = -errno;

		close(fd);
		return err__set(err, errlen, ret, "%s: %s", path,
				strerror(-ret));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err__set(err, errlen, -EINVAL, "%s: not a regular file",
				path);
	}
	if ((uint64_t)st.st_size != size) {
		close(fd);
		return err__set(err, errlen, -EINVAL,
				"%s: %llu bytes, but the memory is %llu bytes",
				path, (unsigned long long)st.st_size,
				(unsigned long long)size);
	}
	return fd;
}

int memfile__open(const char *path, uint64_t expected_size,
		  char *err, size_t errlen)
{
	if (!expected_size || !snap_aligned(expected_size, PAGE))
		return err__set(err, errlen, -EINVAL,
				"memory size %llu is not a non-zero multiple of %u",
				(unsigned long long)expected_size, PAGE);
	return open_base(path, expected_size, O_RDONLY, err, errlen);
}

static int run_engine(int fd, const char *path, enum zero_policy zp,
		      enum source src, const struct memfile_region *regs,
		      unsigned int nr, const struct memfile_opts *o,
		      struct memfile_stats *st, char *err, size_t errlen)
{
	struct engine e;
	uint64_t done = 0;
	int ret;

	for (unsigned int i = 0; i < nr; i++)
		st->mem_bytes += regs[i].size;
	ret = engine_init(&e, fd, path, zp, o, st->mem_bytes, st, err,
			  errlen);
	for (unsigned int i = 0; i < nr && !ret; i++) {
		ret = write_region(&e, &regs[i], src, done);
		done += regs[i].size;
	}
	if (!ret || e.error)
		ret = engine_finish(&e);
	else
		engine_finish(&e);
	if (!ret && fdatasync(fd))
		ret = err__set(err, errlen, -errno, "%s: fdatasync: %s", path,
			       strerror(errno));
	engine_free(&e);
	return ret;
}

int memfile__write(const char *path, const struct memfile_region *regs,
		   unsigned int nr, uint64_t file_size,
		   const struct memfile_opts *opts, struct memfile_stats *st,
		   char *err, size_t errlen)
{
	struct memfile_opts def = { .mode = MEMFILE_FULL };
	const struct memfile_opts *o = opts ? opts : &def;
	bool diff = o->mode == MEMFILE_DIFF;
	bool into = diff && (o->flags & MEMFILE_INTO_BASE);
	uint64_t t0 = snap_now_ns();
	struct memfile_stats dummy;
	char *tmp = NULL;
	int fd, ret;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (o->mode != MEMFILE_FULL && o->mode != MEMFILE_DIFF)
		return err__set(err, errlen, -EINVAL, "unknown mode %d",
				o->mode);
	if ((o->flags & MEMFILE_INTO_BASE) && !diff)
		return err__set(err, errlen, -EINVAL,
				"MEMFILE_INTO_BASE needs MEMFILE_DIFF");
	ret = check_regions(regs, nr, file_size, diff, err, errlen);
	if (ret)
		return ret;

	if (into) {
		fd = open_base(path, file_size, O_RDWR, err, errlen);
		if (fd < 0)
			return fd;
	} else {
		fd = snap_mktemp(path, &tmp);
		if (fd < 0)
			return err__set(err, errlen, fd,
					"%s: cannot create a temporary file beside it: %s",
					path, strerror(-fd));
		if (ftruncate(fd, (off_t)file_size)) {
			ret = err__set(err, errlen, -errno,
				       "%s: cannot size it to %llu bytes: %s",
				       path, (unsigned long long)file_size,
				       strerror(errno));
			goto out;
		}
	}

	ret = run_engine(fd, path,
			 into ? ZERO_PUNCH : diff ? ZERO_WRITE : ZERO_SKIP,
			 diff ? SRC_DIRTY : SRC_EXTENTS, regs, nr, o, st,
			 err, errlen);
	if (ret || into)
		goto out;
	ret = snap_publish(fd, tmp, path);
	if (ret) {
		err__set(err, errlen, ret, "%s: rename: %s", path,
			 strerror(-ret));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	ret = snap_fsync_parent(path);
	if (ret)
		err__set(err, errlen, ret, "%s: fsync of the directory: %s",
			 path, strerror(-ret));
out:
	close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	st->elapsed_ns = snap_now_ns() - t0;
	return ret;
}

int memfile__apply_diff(const char *base, const char *diff, uint64_t size,
			struct memfile_stats *st, char *err, size_t errlen)
{
	struct memfile_opts o = { .mode = MEMFILE_DIFF };
	struct memfile_region r = { .fd = -1 };
	uint64_t t0 = snap_now_ns();
	struct memfile_stats dummy;
	int bfd = -1, dfd, ret;
	void *map;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	dfd = memfile__open(diff, size, err, errlen);
	if (dfd < 0)
		return dfd;
	bfd = open_base(base, size, O_RDWR, err, errlen);
	if (bfd < 0) {
		close(dfd);
		return bfd;
	}
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, dfd, 0);
	if (map == MAP_FAILED) {
		ret = err__set(err, errlen, -errno, "%s: mmap: %s", diff,
			       strerror(errno));
		goto out;
	}
	r.host = map;
	r.size = size;
	r.fd = dfd;
	ret = run_engine(bfd, base, ZERO_PUNCH, SRC_EXTENTS, &r, 1, &o, st,
			 err, errlen);
	munmap(map, size);
out:
	close(bfd);
	close(dfd);
	st->elapsed_ns = snap_now_ns() - t0;
	return ret;
}
