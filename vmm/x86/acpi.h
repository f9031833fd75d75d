/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ACPI tables of the machine: RSDP, XSDT, a hardware-reduced FADT whose
 * sleep control/status and reset registers reach the VMM (vmm/hw/pm.c), a MADT
 * (LAPICs, IOAPIC, overrides, LINT1 NMI) and a DSDT describing COM1, the
 * i8042 keyboard, one LNRO0005 device per virtio-mmio slot, \_S5_ and,
 * when asked, a VM Generation ID device (VGEN) with the Generic Event
 * Device (GED0, ACPI0013) whose interrupt makes the guest re-read it.
 */
#ifndef THAW_VMM_X86_ACPI_H
#define THAW_VMM_X86_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/x86/aml.h"
#include "vmm/x86/layout.h"

struct guest_mem;

struct acpi_virtio_slot {
	uint64_t base;
	uint32_t size;
	uint32_t irq;
};

/*
 * The VM generation ID (vmm/hw/vmgenid.c): 16 bytes at @gpa (8-byte aligned,
 * not crossing a page), announced by a Notify(VGEN, 0x80) that the GED's
 * _EVT method sends when interrupt @gsi fires.
 */
struct acpi_vmgenid {
	uint64_t gpa;
	uint32_t gsi;
};

struct acpi_machine {
	unsigned int nr_cpus;
	unsigned int nr_virtio;
	struct acpi_virtio_slot virtio[LAYOUT_VIRTIO_SLOTS];
	bool has_vmgenid;
	struct acpi_vmgenid vmgenid;
};

/* The ACPI names the guest sees, for tests and the docs. */
#define ACPI_VMGENID_PATH	"\\_SB_.VGEN"
#define ACPI_VMGENID_NOTIFY	0x80	/* "the ID changed": re-read ADDR */

/* Device (VGEN) and Device (GED0), into a \_SB_ scope body. */
int acpi__vmgenid_aml(struct aml *out, const struct acpi_vmgenid *v);

#define ACPI_HEADER_SIZE	36
#define ACPI_RSDP_SIZE		36
#define ACPI_FADT_SIZE		276

/* The DSDT's AML body (without the table header). */
int acpi__dsdt_aml(struct aml *out, const struct acpi_machine *m);

/*
 * Build every table into @buf, which the guest will see at @gpa; the RSDP
 * comes first, at @gpa.  Returns the bytes used or -errno (-ENOSPC, -EINVAL
 * for more CPUs or slots than the machine has).
 */
long acpi__build_tables(uint8_t *buf, size_t size, uint64_t gpa,
			const struct acpi_machine *m);

/* Build them into guest memory at LAYOUT_ACPI. */
int acpi__setup(struct guest_mem *mem, const struct acpi_machine *m);

/* Sum of bytes, for checksums (a valid table sums to 0). */
uint8_t acpi__checksum(const void *p, size_t len);

#endif
