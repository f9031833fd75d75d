/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Address decoding for the exits KVM hands to userspace: one bus for I/O
 * ports, one for MMIO.  Devices register ranges during setup; afterwards
 * the table is read-only and the vCPU threads look up without locking.
 */
#ifndef THAW_VMM_BUS_H
#define THAW_VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	/* @off is relative to the range's base; @len is 1, 2, 4 or 8. */
	void (*read)(void *dev, uint64_t off, void *data, uint32_t len);
	void (*write)(void *dev, uint64_t off, const void *data,
		      uint32_t len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *dev;
	const char *name;
};

struct bus {
	struct bus_range *ranges;	/* sorted by base, no overlap */
	unsigned int nr;
};

int bus__register(struct bus *bus, uint64_t base, uint64_t len,
		  const struct bus_ops *ops, void *dev, const char *name);
void bus__free(struct bus *bus);

/*
 * Dispatch one access.  Returns false when no device claims all of it: a
 * read then returns all ones, a write is dropped, as on real buses.
 */
bool bus__access(const struct bus *bus, uint64_t addr, void *data,
		 uint32_t len, bool is_write);

#endif
