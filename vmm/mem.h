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
#ifndef THAW_VMM_MEM_H
#define THAW_VMM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"

#define GUEST_MEM_MAX_REGIONS	2

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint64_t offset;		/* into the backing object */
};

struct guest_mem;

struct guest_mem_ops {
	const char *name;
	void (*release)(struct guest_mem *mem);
};

struct guest_mem {
	const struct guest_mem_ops *ops;
	int fd;				/* backing object, -1 if none */
	uint8_t *base;			/* one host mapping for all RAM */
	uint64_t ram_size;
	size_t page_size;
	unsigned int nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/*
 * Split @ram_size bytes of RAM around the 32-bit hole into @regions
 * (GUEST_MEM_MAX_REGIONS entries); returns how many, or -EINVAL.
 */
int guest_mem__layout(uint64_t ram_size, struct guest_mem_region *regions);

/* RAM from a memfd, optionally of 2 MiB huge pages. */
int guest_mem__new_memfd(struct guest_mem **out, uint64_t ram_size,
			 enum vm_huge_pages huge);
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

#endif
