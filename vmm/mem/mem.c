// SPDX-License-Identifier: GPL-2.0
/* Guest RAM: the layout around the 32-bit hole and the memfd backend. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/memfd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "vmm/mem/mem.h"
#include "vmm/x86/layout.h"

#define SZ_2M	(2ULL << 20)
#define BITS_TO_WORDS(n)	(((n) + 63) / 64)

int guest_mem__layout(uint64_t ram_size, struct guest_mem_region *regions)
{
	uint64_t low;

	if (!ram_size || ram_size & 0xfff ||
	    ram_size > (uint64_t)VM_MAX_MEM_MIB << 20)
		return -EINVAL;
	low = ram_size < LAYOUT_MMIO_GAP ? ram_size : LAYOUT_MMIO_GAP;
	regions[0] = (struct guest_mem_region){
		.gpa = 0, .size = low, .offset = 0,
	};
	if (low == ram_size)
		return 1;
	regions[1] = (struct guest_mem_region){
		.gpa = LAYOUT_HIGH_RAM, .size = ram_size - low, .offset = low,
	};
	return 2;
}

static void memfd_release(struct guest_mem *mem)
{
	if (mem->base)
		munmap(mem->base, mem->ram_size);
	if (mem->fd >= 0)
		close(mem->fd);
}

static const struct guest_mem_ops memfd_ops = {
	.name = "memfd",
	.release = memfd_release,
};

int guest_mem__new_memfd(struct guest_mem **out, uint64_t ram_size,
			 enum vm_huge_pages huge)
{
	unsigned int flags = MFD_CLOEXEC;
	struct guest_mem *mem;
	void *p;
	int ret, i;

	mem = calloc(1, sizeof(*mem));
	if (!mem)
		return -ENOMEM;
	mem->ops = &memfd_ops;
	mem->fd = -1;
	mem->ram_size = ram_size;
	mem->page_size = 4096;
	ret = guest_mem__layout(ram_size, mem->regions);
	if (ret < 0)
		goto err;
	mem->nr_regions = ret;

	if (huge == VM_HUGE_PAGES_2M) {
		if (ram_size % SZ_2M) {
			ret = -EINVAL;
			goto err;
		}
		flags |= MFD_HUGETLB | MFD_HUGE_2MB;
		mem->page_size = SZ_2M;
	}
	mem->fd = memfd_create("thaw-guest-ram", flags);
	if (mem->fd < 0) {
		ret = -errno;
		goto err;
	}
	if (ftruncate(mem->fd, ram_size) < 0) {
		ret = -errno;
		goto err;
	}
	/*
	 * hugetlbfs pages are reserved at mmap time: too few in the pool
	 * fails here, with a message, instead of a SIGBUS in a vCPU later.
	 */
	p = guest_mem__mmap(ram_size, PROT_READ | PROT_WRITE,
			    MAP_SHARED |
			    (huge == VM_HUGE_PAGES_2M ? 0 : MAP_NORESERVE),
			    mem->fd);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto err;
	}
	mem->base = p;
	if (huge == VM_HUGE_PAGES_TRANSPARENT &&
	    madvise(p, ram_size, MADV_HUGEPAGE) < 0)
		pr_warn("madvise(MADV_HUGEPAGE): %s", strerror(errno));
	for (i = 0; i < (int)mem->nr_regions; i++)
		mem->regions[i].hva = mem->base + mem->regions[i].offset;
	*out = mem;
	return 0;
err:
	memfd_release(mem);
	free(mem);
	return ret;
}

struct guest_mem *guest_mem__alloc(const struct guest_mem_ops *ops,
				   uint64_t ram_size)
{
	struct guest_mem *mem = calloc(1, sizeof(*mem));
	int ret;

	if (!mem)
		return NULL;
	mem->ops = ops;
	mem->fd = -1;
	mem->ram_size = ram_size;
	mem->page_size = 4096;
	ret = guest_mem__layout(ram_size, mem->regions);
	if (ret < 0) {
		free(mem);
		return NULL;
	}
	mem->nr_regions = ret;
	return mem;
}

void guest_mem__set_base(struct guest_mem *mem, void *base)
{
	unsigned int i;

	mem->base = base;
	for (i = 0; i < mem->nr_regions; i++)
		mem->regions[i].hva = mem->base + mem->regions[i].offset;
}

void *guest_mem__mmap(uint64_t size, int prot, int flags, int fd)
{
	uint64_t span = size + SZ_2M;
	uint8_t *r, *p;
	int e;

	/* Reserve a span that holds an aligned range, map into it, trim. */
	r = mmap(NULL, span, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return MAP_FAILED;
	p = (uint8_t *)(((uintptr_t)r + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
	if (mmap(p, size, prot, flags | MAP_FIXED, fd, 0) == MAP_FAILED) {
		e = errno;
		munmap(r, span);
		errno = e;
		return MAP_FAILED;
	}
	if (p > r)
		munmap(r, p - r);
	if (p + size < r + span)
		munmap(p + size, r + span - (p + size));
	return p;
}

void guest_mem__free(struct guest_mem *mem)
{
	if (!mem)
		return;
	mem->ops->release(mem);
	free(mem->dirty);
	free(mem);
}

void *guest_mem__ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		/* Written so that no sum can wrap. */
		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem__read(const struct guest_mem *mem, uint64_t gpa, void *buf,
		    size_t len)
{
	void *p = guest_mem__ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem__write(const struct guest_mem *mem, uint64_t gpa,
		     const void *buf, size_t len)
{
	void *p = guest_mem__ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

uint64_t guest_mem__low_end(const struct guest_mem *mem)
{
	return mem->regions[0].size;
}

int guest_mem__wset_write(struct guest_mem *mem, const char *path,
			  char *err, size_t errlen)
{
	if (!mem->ops->wset_write)
		return err__set(err, errlen, -EOPNOTSUPP,
				"the %s memory backend does not record working sets",
				mem->ops->name);
	return mem->ops->wset_write(mem, path, err, errlen);
}

int guest_mem__stats(struct guest_mem *mem, struct guest_mem_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!mem->ops->stats)
		return -EOPNOTSUPP;
	return mem->ops->stats(mem, st);
}

int guest_mem__track_dirty(struct guest_mem *mem)
{
	if (!mem->dirty)
		mem->dirty = calloc(BITS_TO_WORDS(mem->ram_size / 4096),
				    sizeof(uint64_t));
	return mem->dirty ? 0 : -ENOMEM;
}

static void set_bits(uint64_t *map, uint64_t first, uint64_t n)
{
	uint64_t bit, end = first + n, mask;

	for (bit = first; bit < end;) {
		mask = ~0ULL << (bit % 64);
		if (end - (bit & ~63ULL) < 64)
			mask &= ~0ULL >> (64 - end % 64);
		__atomic_fetch_or(&map[bit / 64], mask, __ATOMIC_RELAXED);
		bit = (bit & ~63ULL) + 64;
	}
}

void guest_mem__mark_dirty(const struct guest_mem *mem, const void *hva,
			   size_t len)
{
	uintptr_t p = (uintptr_t)hva, base = (uintptr_t)mem->base;
	uint64_t first, last;

	if (!mem->dirty || !len || p < base || p - base >= mem->ram_size)
		return;
	if (len > mem->ram_size - (p - base))
		len = mem->ram_size - (p - base);
	first = (p - base) / 4096;
	last = (p - base + len - 1) / 4096;
	set_bits(mem->dirty, first, last - first + 1);
}

void guest_mem__merge_log(struct guest_mem *mem, unsigned int region,
			  const uint64_t *map)
{
	const struct guest_mem_region *r;
	uint64_t i, words, off;

	if (!mem->dirty || region >= mem->nr_regions)
		return;
	r = &mem->regions[region];
	words = BITS_TO_WORDS(r->size / 4096);
	off = r->offset / 4096;
	for (i = 0; i < words; i++) {
		uint64_t w = map[i];

		if (i == words - 1 && (r->size / 4096) % 64)
			w &= ~0ULL >> (64 - (r->size / 4096) % 64);
		if (w && off % 64 == 0) {
			__atomic_fetch_or(&mem->dirty[off / 64 + i], w,
					  __ATOMIC_RELAXED);
			continue;
		}
		while (w) {
			unsigned int b = __builtin_ctzll(w);

			set_bits(mem->dirty, off + i * 64 + b, 1);
			w &= w - 1;
		}
	}
}

int guest_mem__start(struct guest_mem *mem, int (*filter)(void))
{
	return mem->ops->start ? mem->ops->start(mem, filter) : 0;
}

int guest_mem__can_reset(const struct guest_mem *mem, char *err,
			 size_t errlen)
{
	int ret = mem->ops->can_reset ? mem->ops->can_reset(mem, err, errlen) :
		  0;

	if (!ret && (!mem->ops->can_reset || !mem->ops->reset))
		ret = err__set(err, errlen, -EOPNOTSUPP,
			       "the %s memory backend cannot rewind",
			       mem->ops->name);
	return ret;
}

int guest_mem__reset(struct guest_mem *mem, uint64_t *pages, char *err,
		     size_t errlen)
{
	int ret;

	*pages = 0;
	ret = guest_mem__can_reset(mem, err, errlen);
	if (ret)
		return ret;
	return mem->ops->reset(mem, pages, err, errlen);
}
