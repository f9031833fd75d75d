// SPDX-License-Identifier: GPL-2.0
/*
 * The hardware-reduced ACPI registers the FADT points at: SLEEP_CONTROL
 * (the guest writes SLP_TYP of \_S5_ with SLP_EN to power off),
 * SLEEP_STATUS (always "woken") and the reset register.  Their writes end
 * the machine with the matching exit code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vmm/bus.h"
#include "vmm/devices.h"
#include "vmm/exit.h"
#include "vmm/kvm.h"
#include "vmm/x86/layout.h"

#define SLP_EN		0x20
#define SLP_TYP_SHIFT	2
#define SLP_TYP_MASK	0x1c
#define WAK_STS		0x80

struct pm {
	struct kvm *kvm;
};

static void pm_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	memset(data, 0, len);
	if (off == LAYOUT_PM_SLEEP_STS - LAYOUT_PORT_PM)
		*(uint8_t *)data = WAK_STS;
}

static void pm_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct pm *pm = dev;
	uint8_t v = *(const uint8_t *)data;

	switch (off + LAYOUT_PORT_PM) {
	case LAYOUT_PM_SLEEP_CTL:
		if (!(v & SLP_EN))
			break;
		if (((v & SLP_TYP_MASK) >> SLP_TYP_SHIFT) ==
		    LAYOUT_PM_S5_TYPE) {
			pr_guest_info("guest powered off");
			kvm__halt(pm->kvm, VMM_EXIT_OK);
		} else {
			pr_guest_warn("guest asked for sleep type %u: ignored",
				(v & SLP_TYP_MASK) >> SLP_TYP_SHIFT);
		}
		break;
	case LAYOUT_PM_RESET:
		if (v == LAYOUT_PM_RESET_VALUE) {
			pr_guest_info("guest reset through the ACPI reset register");
			kvm__halt(pm->kvm, VMM_EXIT_GUEST_RESET);
		}
		break;
	default:
		break;
	}
}

static const struct bus_ops pm_bus_ops = {
	.read = pm_read,
	.write = pm_write,
};

int pm__init(struct kvm *kvm, char *err, size_t errlen)
{
	struct pm *pm;
	int ret;

	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pm->kvm = kvm;
	ret = bus__register(&kvm->pio, LAYOUT_PORT_PM, LAYOUT_PM_PORTS,
			    &pm_bus_ops, pm, "acpi-pm");
	if (ret) {
		free(pm);
		return ret;
	}
	kvm->pm = pm;
	return 0;
}

void pm__exit(struct kvm *kvm)
{
	free(kvm->pm);
	kvm->pm = NULL;
}
