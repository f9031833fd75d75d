// SPDX-License-Identifier: GPL-2.0
/*
 * Working-set files (lib/wset.h): sections of a snapfile container,
 * WSET_SEC_HEADER and WSET_SEC_PAGES, and WSET_SEC_WRITTEN (a bit per
 * entry, written only when an entry is marked; readers that predate it
 * skip it).  Dedup on record uses a bitmap of the memory's pages (4 KiB
 * per 128 MiB of RAM).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/err.h"
#include "lib/snapfile.h"
#include "lib/snaputil.h"
#include "lib/wset.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif

/* The largest memory a working set may describe: thawvm's RAM limit. */
#define WSET_MAX_MEM		(1ull << 40)

/* Header payload fields. */
#define WH_MEM_SIZE	0
#define WH_PAGE_SIZE	8
#define WH_FLAGS	12
#define WH_COUNT	16
#define WH_RSVD		24

struct wset {
	uint64_t mem_size;
	uint32_t page_size;
	uint64_t *offs;
	size_t n, cap;
	uint64_t *seen;			/* one bit per page */
	uint64_t *written;		/* one bit per entry, @cap bits */
	size_t nr_written;
};

static bool page_size_ok(uint32_t ps)
{
	return ps == 4096 || ps == (2u << 20);
}

int wset__new(uint64_t mem_size, uint32_t page_size, struct wset **out)
{
	struct wset *ws;
	uint64_t pages;

	*out = NULL;
	if (!page_size_ok(page_size) || !mem_size ||
	    !snap_aligned(mem_size, page_size) || mem_size > WSET_MAX_MEM)
		return -EINVAL;
	pages = mem_size / page_size;
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	ws->seen = calloc((pages + 63) / 64, sizeof(uint64_t));
	if (!ws->seen) {
		free(ws);
		return -ENOMEM;
	}
	ws->mem_size = mem_size;
	ws->page_size = page_size;
	*out = ws;
	return 0;
}

void wset__free(struct wset *ws)
{
	if (!ws)
		return;
	free(ws->seen);
	free(ws->offs);
	free(ws->written);
	free(ws);
}

int wset__add(struct wset *ws, uint64_t offset)
{
	uint64_t page;

	if (offset >= ws->mem_size)
		return -EINVAL;
	page = offset / ws->page_size;
	if (ws->seen[page / 64] & (1ull << (page % 64)))
		return 0;
	if (ws->n == ws->cap) {
		size_t cap = ws->cap ? ws->cap * 2 : 1024;
		uint64_t *n = realloc(ws->offs, cap * sizeof(*n));
		uint64_t *w;

		if (!n)
			return -ENOMEM;
		ws->offs = n;
		w = realloc(ws->written, cap / 8);
		if (!w)
			return -ENOMEM;
		memset(w + ws->cap / 64, 0, (cap - ws->cap) / 8);
		ws->written = w;
		ws->cap = cap;
	}
	ws->seen[page / 64] |= 1ull << (page % 64);
	ws->offs[ws->n++] = page * ws->page_size;
	return 1;
}

size_t wset__count(const struct wset *ws)
{
	return ws->n;
}

uint64_t wset__offset(const struct wset *ws, size_t i)
{
	return ws->offs[i];
}

uint32_t wset__page_size(const struct wset *ws)
{
	return ws->page_size;
}

int wset__mark_written(struct wset *ws, size_t i)
{
	if (i >= ws->n)
		return -EINVAL;
	if (!wset__written(ws, i)) {
		ws->written[i / 64] |= 1ull << (i % 64);
		ws->nr_written++;
	}
	return 0;
}

bool wset__written(const struct wset *ws, size_t i)
{
	return i < ws->n && (ws->written[i / 64] >> (i % 64) & 1);
}

size_t wset__written_count(const struct wset *ws)
{
	return ws->nr_written;
}

/* The written bits as WSET_SEC_WRITTEN lays them out: entry i is bit i % 8
 * of byte i / 8; the bits past the count are zero.
 */
static size_t written_len(size_t n)
{
	return (n + 7) / 8;
}

int wset__write(const struct wset *ws, const char *path,
		char *err, size_t errlen)
{
	struct snapfile_writer *w;
	uint8_t hdr[WSET_HEADER_SIZE] = { 0 };
	uint8_t *pages = NULL;
	int ret;

	w = snapfile__writer_new(SNAPFILE_TYPE_WSET);
	if (!w)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	pages = malloc(ws->n ? ws->n * 8 : 1);
	if (!pages) {
		ret = err__set(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ws->n; i++)
		put_le64(pages + i * 8, ws->offs[i]);
	put_le64(hdr + WH_MEM_SIZE, ws->mem_size);
	put_le32(hdr + WH_PAGE_SIZE, ws->page_size);
	put_le64(hdr + WH_COUNT, ws->n);
	ret = snapfile__add(w, WSET_SEC_HEADER, hdr, sizeof(hdr));
	if (!ret)
		ret = snapfile__add(w, WSET_SEC_PAGES, pages, ws->n * 8);
	if (!ret && ws->nr_written) {
		memset(pages, 0, written_len(ws->n));
		for (size_t i = 0; i < ws->n; i++)
			if (wset__written(ws, i))
				pages[i / 8] |= 1u << (i % 8);
		ret = snapfile__add(w, WSET_SEC_WRITTEN, pages,
				    written_len(ws->n));
	}
	if (ret) {
		err__set(err, errlen, ret, "%s: %s", path,
			 ret == -E2BIG ? "working set too large" : strerror(-ret));
		goto out;
	}
	ret = snapfile__commit(w, path, err, errlen);
out:
	free(pages);
	snapfile__writer_free(w);
	return ret;
}

/* WSET_SEC_WRITTEN, if the file has it, onto @ws's @count entries. */
static int written_from_container(const struct snapfile *f, struct wset *ws,
				  uint64_t count, char *err, size_t errlen)
{
	const uint8_t *bits;
	size_t len;

	if (snapfile__get(f, WSET_SEC_WRITTEN, (const void **)&bits, &len))
		return 0;
	if (len != written_len(count) ||
	    (count % 8 && bits[len - 1] >> (count % 8)))
		return err__set(err, errlen, -EBADMSG,
				"working set: a %zu-byte written section does not match %llu pages",
				len, (unsigned long long)count);
	for (uint64_t i = 0; i < count; i++)
		if (bits[i / 8] >> (i % 8) & 1)
			wset__mark_written(ws, i);
	return 0;
}

static int from_container(const struct snapfile *f, uint64_t expected,
			  struct wset **out, char *err, size_t errlen)
{
	const uint8_t *hdr, *pages;
	size_t hlen, plen;
	uint64_t mem_size, count;
	uint32_t page_size;
	struct wset *ws;
	int ret;

	if (snapfile__get(f, WSET_SEC_HEADER, (const void **)&hdr, &hlen) ||
	    snapfile__get(f, WSET_SEC_PAGES, (const void **)&pages, &plen))
		return err__set(err, errlen, -EBADMSG,
				"working-set file lacks its header or pages section");
	if (hlen != WSET_HEADER_SIZE)
		return err__set(err, errlen, -EBADMSG,
				"working-set header is %zu bytes, expected %d",
				hlen, WSET_HEADER_SIZE);
	mem_size = get_le64(hdr + WH_MEM_SIZE);
	page_size = get_le32(hdr + WH_PAGE_SIZE);
	count = get_le64(hdr + WH_COUNT);
	if (get_le32(hdr + WH_FLAGS) || get_le64(hdr + WH_RSVD))
		return err__set(err, errlen, -EBADMSG,
				"working-set header: flags or reserved fields are not zero");
	if (!page_size_ok(page_size))
		return err__set(err, errlen, -EBADMSG,
				"working set: page size %u is neither 4 KiB nor 2 MiB",
				page_size);
	if (!mem_size || !snap_aligned(mem_size, page_size) ||
	    mem_size > WSET_MAX_MEM)
		return err__set(err, errlen, -EBADMSG,
				"working set: bad memory size %llu",
				(unsigned long long)mem_size);
	if (expected && mem_size != expected)
		return err__set(err, errlen, -EINVAL,
				"working set is for %llu bytes of memory, this VM has %llu",
				(unsigned long long)mem_size,
				(unsigned long long)expected);
	if (count > mem_size / page_size || plen != count * 8)
		return err__set(err, errlen, -EBADMSG,
				"working set: %llu pages do not match a %zu-byte pages section",
				(unsigned long long)count, plen);
	ret = wset__new(mem_size, page_size, &ws);
	if (ret)
		return err__set(err, errlen, ret, "out of memory");
	for (uint64_t i = 0; i < count; i++) {
		uint64_t off = get_le64(pages + i * 8);

		if (!snap_aligned(off, page_size) || off >= mem_size) {
			ret = err__set(err, errlen, -EBADMSG,
				       "working set: entry %llu (0x%llx) is not a page inside the memory",
				       (unsigned long long)i,
				       (unsigned long long)off);
			goto fail;
		}
		ret = wset__add(ws, off);
		if (ret == 0) {
			ret = err__set(err, errlen, -EBADMSG,
				       "working set: page 0x%llx appears twice",
				       (unsigned long long)off);
			goto fail;
		}
		if (ret < 0) {
			err__set(err, errlen, ret, "out of memory");
			goto fail;
		}
	}
	ret = written_from_container(f, ws, count, err, errlen);
	if (ret)
		goto fail;
	*out = ws;
	return 0;
fail:
	wset__free(ws);
	return ret;
}

int wset__parse(const void *buf, size_t len, uint64_t expected_mem_size,
		struct wset **out, char *err, size_t errlen)
{
	struct snapfile *f;
	int ret;

	*out = NULL;
	ret = snapfile__parse(buf, len, SNAPFILE_TYPE_WSET, &f, err, errlen);
	if (ret)
		return ret;
	ret = from_container(f, expected_mem_size, out, err, errlen);
	snapfile__close(f);
	return ret;
}

int wset__read(const char *path, uint64_t expected_mem_size,
	       struct wset **out, char *err, size_t errlen)
{
	struct snapfile *f;
	char msg[256];
	int ret;

	*out = NULL;
	ret = snapfile__open(path, SNAPFILE_TYPE_WSET, &f, err, errlen);
	if (ret)
		return ret;
	ret = from_container(f, expected_mem_size, out, msg, sizeof(msg));
	if (ret)
		err__set(err, errlen, ret, "%s: %s", path, msg);
	snapfile__close(f);
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int wset__ranges(const struct wset *ws, enum wset_order order,
		 uint64_t max_len, struct wset_range **out, size_t *nr)
{
	const uint64_t *offs = ws->offs;
	uint64_t *sorted = NULL;
	struct wset_range *r;
	size_t n = 0;

	*out = NULL;
	*nr = 0;
	if (!ws->n)
		return 0;
	if (max_len && max_len < ws->page_size)
		return -EINVAL;
	r = malloc(ws->n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (order == WSET_SORTED) {
		sorted = malloc(ws->n * sizeof(*sorted));
		if (!sorted) {
			free(r);
			return -ENOMEM;
		}
		memcpy(sorted, ws->offs, ws->n * sizeof(*sorted));
		qsort(sorted, ws->n, sizeof(*sorted), cmp_u64);
		offs = sorted;
	}
	for (size_t i = 0; i < ws->n; i++) {
		if (n && r[n - 1].offset + r[n - 1].len == offs[i] &&
		    (!max_len || r[n - 1].len + ws->page_size <= max_len)) {
			r[n - 1].len += ws->page_size;
			continue;
		}
		r[n].offset = offs[i];
		r[n].len = ws->page_size;
		n++;
	}
	free(sorted);
	*out = r;
	*nr = n;
	return 0;
}

int wset__populate(const struct wset *ws, const void *ram, uint64_t mem_size,
		   struct wset_populate_stats *st)
{
	struct wset_range *r;
	uint64_t t0 = snap_now_ns();
	bool touch = false;
	size_t nr;
	int ret;

	memset(st, 0, sizeof(*st));
	if (mem_size != ws->mem_size)
		return -EINVAL;
	ret = wset__ranges(ws, WSET_SORTED, WSET_DEFAULT_BATCH, &r, &nr);
	if (ret)
		return ret;
	for (size_t i = 0; i < nr; i++) {
		const volatile uint8_t *p = (const uint8_t *)ram + r[i].offset;

		if (!touch) {
			st->calls++;
			if (!madvise((void *)p, r[i].len, MADV_POPULATE_READ)) {
				st->pages += r[i].len / ws->page_size;
				continue;
			}
			/* EINVAL: a kernel before 5.14; anything else is a
			 * real failure (EFAULT, ENOMEM, EHWPOISON).
			 */
			if (errno != EINVAL || i) {
				ret = -errno;
				break;
			}
			touch = true;
		}
		for (uint64_t o = 0; o < r[i].len; o += ws->page_size)
			(void)p[o];
		st->pages += r[i].len / ws->page_size;
	}
	free(r);
	st->elapsed_ns = snap_now_ns() - t0;
	return ret;
}
