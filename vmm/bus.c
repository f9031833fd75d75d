// SPDX-License-Identifier: GPL-2.0
/* I/O-port and MMIO address decoding: see bus.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"

int bus__register(struct bus *bus, uint64_t base, uint64_t len,
		  const struct bus_ops *ops, void *dev, const char *name)
{
	struct bus_range *r;
	unsigned int i;

	if (!len || base + len < base)
		return -EINVAL;
	for (i = 0; i < bus->nr; i++) {
		r = &bus->ranges[i];
		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
		if (r->base > base)
			break;
	}
	r = realloc(bus->ranges, (bus->nr + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	bus->ranges = r;
	memmove(&r[i + 1], &r[i], (bus->nr - i) * sizeof(*r));
	r[i] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .dev = dev, .name = name,
	};
	bus->nr++;
	return 0;
}

void bus__free(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = 0;
}

static const struct bus_range *bus__find(const struct bus *bus, uint64_t addr,
				  uint32_t len)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			if (len > r->len - (addr - r->base))
				return NULL;
			return r;
		}
	}
	return NULL;
}

bool bus__access(const struct bus *bus, uint64_t addr, void *data,
		 uint32_t len, bool is_write)
{
	const struct bus_range *r = bus__find(bus, addr, len);

	if (!r) {
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->dev, addr - r->base, data, len);
	} else {
		if (r->ops->read)
			r->ops->read(r->dev, addr - r->base, data, len);
		else
			memset(data, 0xff, len);
	}
	return true;
}
