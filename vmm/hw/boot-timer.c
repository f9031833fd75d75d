// SPDX-License-Identifier: GPL-2.0
/*
 * The boot timer port: the guest init writes the byte 123 to port 0x3f0
 * once it is up; the VMM logs the time since the process started and
 * keeps it for vmm__stats().  Only the first write counts.
 */
#include <errno.h>
#include <stdlib.h>

#include "lib/log.h"
#include "vmm/bus.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/x86/layout.h"

#define BOOT_TIMER_MAGIC	123

struct boot_timer {
	struct kvm *kvm;
};

static void timer_write(void *dev, uint64_t off, const void *data,
			uint32_t len)
{
	struct boot_timer *bt = dev;
	struct kvm *kvm = bt->kvm;
	uint64_t now, zero = 0;

	if (len != 1 || *(const uint8_t *)data != BOOT_TIMER_MAGIC)
		return;
	now = kvm__now_ns();
	if (!atomic_compare_exchange_strong(&kvm->stats.boot_ready_ns, &zero,
					    now))
		return;
	pr_info("guest boot time: %llu us since process start, %llu us since InstanceStart",
		(unsigned long long)(now - kvm__process_start_ns()) / 1000,
		(unsigned long long)(now - kvm->start_ns) / 1000);
}

static const struct bus_ops timer_bus_ops = {
	.write = timer_write,
};

int boot_timer__init(struct kvm *kvm, char *err, size_t errlen)
{
	struct boot_timer *bt;
	int ret;

	bt = calloc(1, sizeof(*bt));
	if (!bt)
		return -ENOMEM;
	bt->kvm = kvm;
	ret = bus__register(&kvm->pio, LAYOUT_PORT_BOOT_TIMER, 1,
			    &timer_bus_ops, bt, "boot-timer");
	if (ret) {
		free(bt);
		return ret;
	}
	kvm->boot_timer = bt;
	return 0;
}

void boot_timer__exit(struct kvm *kvm)
{
	free(kvm->boot_timer);
	kvm->boot_timer = NULL;
}
