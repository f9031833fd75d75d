// SPDX-License-Identifier: GPL-2.0
/*
 * The restore backends of guest RAM that need no kernel module: File (the
 * memory file mapped private) and Uffd (a page-fault handler serves it).
 * The Thaw backend (thaw.ko's snapshot object) is vmm/mem/thaw.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/memfile.h"
#include "lib/uffd.h"
#include "lib/wset.h"
#include "vmm/mem/mem.h"

#define PM_PRESENT	(1ull << 63)
#define PM_SWAPPED	(1ull << 62)
#define PM_FILE		(1ull << 61)

/*
 * The pages of @mem this process has mapped: what the guest touched since
 * the load (and what a prefetch mapped), in address order.
 */
static int touched_by_pagemap(struct guest_mem *mem, struct wset **out,
			      char *err, size_t errlen)
{
	const uint64_t pages = mem->ram_size / 4096, batch = 4096;
	uint64_t *pm = NULL, i, n, j;
	struct wset *ws = NULL;
	int fd, ret;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "/proc/self/pagemap: %s",
				strerror(errno));
	}
	ret = wset__new(mem->ram_size, 4096, &ws);
	if (ret)
		goto out;
	pm = malloc(batch * sizeof(*pm));
	if (!pm) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < pages; i += n) {
		off_t at = ((uintptr_t)mem->base / 4096 + i) * sizeof(*pm);
		ssize_t got;

		n = pages - i < batch ? pages - i : batch;
		got = pread(fd, pm, n * sizeof(*pm), at);
		if (got != (ssize_t)(n * sizeof(*pm))) {
			ret = got < 0 ? -errno : -EIO;
			snprintf(err, errlen, "reading pagemap: %s",
				 strerror(-ret));
			goto out;
		}
		for (j = 0; j < n; j++) {
			if (!(pm[j] & (PM_PRESENT | PM_SWAPPED)))
				continue;
			ret = wset__add(ws, (i + j) * 4096);
			/* A private copy of the file's page: the guest wrote it. */
			if (ret > 0 && mem->fd >= 0 && !(pm[j] & PM_FILE))
				ret = wset__mark_written(ws, wset__count(ws) - 1);
			if (ret < 0)
				goto out;
		}
	}
	ret = 0;
	*out = ws;
	ws = NULL;
out:
	if (ret && !err[0])
		snprintf(err, errlen, "recording the working set: %s",
			 strerror(-ret));
	free(pm);
	wset__free(ws);
	close(fd);
	return ret;
}

/* File: the memory file mapped MAP_PRIVATE. */

static void file_release(struct guest_mem *mem)
{
	if (mem->base)
		munmap(mem->base, mem->ram_size);
	if (mem->fd >= 0)
		close(mem->fd);
}

static int file_prefetch(struct guest_mem *mem, const struct wset *ws,
			 uint64_t *pages, char *err, size_t errlen)
{
	struct wset_populate_stats st = { 0 };
	int ret;

	ret = wset__populate(ws, mem->base, mem->ram_size, &st);
	if (ret)
		return err__set(err, errlen, ret,
				"populating the working set: %s",
				strerror(-ret));
	*pages = st.pages;
	return 0;
}

/* Nothing to start: the page tables remember what the guest touched. */
static int file_record(struct guest_mem *mem, char *err, size_t errlen)
{
	return 0;
}

static int file_can_reset(const struct guest_mem *mem, char *err,
			  size_t errlen)
{
	if (!mem->dirty)
		return err__set(err, errlen, -EOPNOTSUPP,
				"this File clone was loaded without enable_rewind: File learns what the guest wrote from KVM's dirty log, which only a load with enable_rewind turns on");
	return 0;
}

/* The first bit at or after @i that is @set, or @nr. */
static uint64_t next_bit(const uint64_t *map, uint64_t nr, uint64_t i,
			 bool set)
{
	uint64_t w;

	while (i < nr) {
		w = set ? map[i / 64] : ~map[i / 64];
		w &= ~0ULL << (i % 64);
		if (w) {
			i = (i & ~63ULL) + __builtin_ctzll(w);
			return i < nr ? i : nr;
		}
		i = (i & ~63ULL) + 64;
	}
	return nr;
}

/*
 * Drop the private copies of the pages written since the load: the next
 * touch maps the memory file's page again.  In runs, so the cost follows
 * the pages written (plus a scan of the bitmap, 4 KiB per GiB of RAM).
 * A page still marked after an error was not returned.
 */
static int file_reset(struct guest_mem *mem, uint64_t *pages, char *err,
		      size_t errlen)
{
	const uint64_t nr = mem->ram_size / 4096;
	uint64_t i = 0, end, k;

	while ((i = next_bit(mem->dirty, nr, i, true)) < nr) {
		end = next_bit(mem->dirty, nr, i, false);
		if (madvise(mem->base + i * 4096, (end - i) * 4096,
			    MADV_DONTNEED) < 0)
			return err__set(err, errlen, -errno,
					"madvise(MADV_DONTNEED) of guest pages %llu-%llu: %s",
					(unsigned long long)i,
					(unsigned long long)end - 1,
					strerror(errno));
		for (k = i; k < end; k++)
			mem->dirty[k / 64] &= ~(1ULL << (k % 64));
		*pages += end - i;
		i = end;
	}
	return 0;
}

static const struct guest_mem_ops file_ops = {
	.name = "File",
	.release = file_release,
	.prefetch = file_prefetch,
	.record = file_record,
	.touched = touched_by_pagemap,
	.can_reset = file_can_reset,
	.reset = file_reset,
};

int guest_mem__new_file(struct guest_mem **out, const char *path,
			uint64_t ram_size, char *err, size_t errlen)
{
	struct guest_mem *mem;
	void *p;
	int ret;

	mem = guest_mem__alloc(&file_ops, ram_size);
	if (!mem)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	mem->memfile_flags = MEMFILE_REGION_PRIVATE;
	ret = memfile__open(path, ram_size, err, errlen);
	if (ret < 0)
		goto err;
	mem->fd = ret;
	p = guest_mem__mmap(ram_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_NORESERVE, mem->fd);
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "mapping %s: %s", path, strerror(errno));
		goto err;
	}
	guest_mem__set_base(mem, p);
	*out = mem;
	return 0;
err:
	file_release(mem);
	free(mem);
	return ret;
}

/* Uffd: anonymous private RAM, faults served by the handler. */

static void uffd_release(struct guest_mem *mem)
{
	/* Close first: the munmap then ends the handler's session. */
	if (mem->priv)
		uffd__close(mem->priv);
	if (mem->base)
		munmap(mem->base, mem->ram_size);
}

static int uffd_prefetch(struct guest_mem *mem, const struct wset *ws,
			 uint64_t *pages, char *err, size_t errlen)
{
	return err__set(err, errlen, -EOPNOTSUPP,
			"with the Uffd backend the page-fault handler prefetches the working set (thaw-uffd-handler --wset)");
}

static int uffd_record(struct guest_mem *mem, char *err, size_t errlen)
{
	return err__set(err, errlen, -EOPNOTSUPP,
			"with the Uffd backend the page-fault handler records the working set (thaw-uffd-handler --record)");
}

/*
 * MADV_DONTNEED would drop the written pages, but the next fault on each
 * goes to the handler, which served it once already and, in Firecracker's
 * protocol, is never told that a page went away: refuse rather than hope.
 */
static int uffd_can_reset(const struct guest_mem *mem, char *err,
			  size_t errlen)
{
	return err__set(err, errlen, -EOPNOTSUPP,
			"the Uffd backend cannot rewind: its page-fault handler serves each page once and is never told one went away (load with Thaw, or File and enable_rewind)");
}

static const struct guest_mem_ops uffd_ops = {
	.name = "Uffd",
	.release = uffd_release,
	.prefetch = uffd_prefetch,
	.record = uffd_record,
	.can_reset = uffd_can_reset,
};

int guest_mem__new_uffd(struct guest_mem **out, const char *socket_path,
			uint64_t ram_size, char *err, size_t errlen)
{
	struct uffd_region regs[GUEST_MEM_MAX_REGIONS];
	struct uffd_backend *b;
	struct guest_mem *mem;
	unsigned int i;
	void *p;
	int ret;

	mem = guest_mem__alloc(&uffd_ops, ram_size);
	if (!mem)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	/* Pages it has not served are in the handler's file, not here. */
	mem->memfile_flags = MEMFILE_REGION_ALL;
	p = guest_mem__mmap(ram_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "guest memory: %s", strerror(errno));
		goto err;
	}
	guest_mem__set_base(mem, p);
	for (i = 0; i < mem->nr_regions; i++)
		regs[i] = (struct uffd_region){
			.host_addr = (uintptr_t)mem->regions[i].hva,
			.size = mem->regions[i].size,
			.offset = mem->regions[i].offset,
			.page_size = 4096,
		};
	ret = uffd__connect(socket_path, regs, mem->nr_regions, &b, err,
			    errlen);
	if (ret)
		goto err;
	mem->priv = b;
	*out = mem;
	return 0;
err:
	uffd_release(mem);
	free(mem);
	return ret;
}
