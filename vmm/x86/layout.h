/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine's guest-physical memory map and interrupt assignments: the one
 * place every part (boot, ACPI, devices) takes them from.
 * Documentation/admin-guide/machine.rst describes the same map.
 */
#ifndef THAW_VMM_X86_LAYOUT_H
#define THAW_VMM_X86_LAYOUT_H

/* Below 1 MiB: what the Linux boot protocol and the kernel look at. */
#define LAYOUT_GDT		0x500ULL	/* 4 entries, 64-bit flat */
#define LAYOUT_ZERO_PAGE	0x7000ULL	/* struct boot_params */
#define LAYOUT_PML4		0x9000ULL	/* boot page tables: */
#define LAYOUT_PDPT		0xa000ULL	/*   identity map of the */
#define LAYOUT_PD		0xb000ULL	/*   first 4 GiB, 2 MiB pages */
#define LAYOUT_PD_PAGES		4
#define LAYOUT_CMDLINE		0x20000ULL
#define LAYOUT_CMDLINE_MAX	4096		/* with the NUL */
#define LAYOUT_EBDA		0x9fc00ULL	/* RAM ends here below 1 MiB */
#define LAYOUT_ACPI		0xe0000ULL	/* RSDP then the tables */
#define LAYOUT_ACPI_SIZE	0x1f000ULL	/* e820-reserved, as is: */
#define LAYOUT_VMGENID		0xff000ULL	/* VM generation ID's page */
#define LAYOUT_VMGENID_SIZE	16
#define LAYOUT_KERNEL		0x100000ULL	/* bzImage protected-mode code */

/* The 32-bit hole: no RAM from 3 GiB to 4 GiB; RAM above 3 GiB moves up. */
#define LAYOUT_MMIO_GAP		0xc0000000ULL
#define LAYOUT_MMIO_GAP_SIZE	0x40000000ULL
#define LAYOUT_HIGH_RAM		0x100000000ULL
#define LAYOUT_VIRTIO_MMIO	0xd0000000ULL	/* slot i at + i * stride */
#define LAYOUT_VIRTIO_STRIDE	0x1000ULL
#define LAYOUT_VIRTIO_SIZE	0x200ULL	/* registers + config */
#define LAYOUT_VIRTIO_SLOTS	8
#define LAYOUT_IDENTITY_MAP	0xfeffc000ULL	/* KVM: 1 page (Intel) */
#define LAYOUT_TSS		0xfeffd000ULL	/* KVM: 3 pages (Intel) */
#define LAYOUT_IOAPIC		0xfec00000ULL
#define LAYOUT_LAPIC		0xfee00000ULL

/* I/O ports. */
#define LAYOUT_PORT_I8042_DATA	0x60
#define LAYOUT_PORT_I8042_CMD	0x64
#define LAYOUT_PORT_COM1	0x3f8
#define LAYOUT_PORT_BOOT_TIMER	0x3f0		/* guest writes 123: init up */
#define LAYOUT_PORT_PM		0x600		/* ACPI sleep ctl/status, reset */
#define LAYOUT_PM_SLEEP_CTL	(LAYOUT_PORT_PM + 0)
#define LAYOUT_PM_SLEEP_STS	(LAYOUT_PORT_PM + 1)
#define LAYOUT_PM_RESET		(LAYOUT_PORT_PM + 2)
#define LAYOUT_PM_PORTS		3
#define LAYOUT_PM_RESET_VALUE	0x01
#define LAYOUT_PM_S5_TYPE	5		/* SLP_TYP of \_S5_ */

/*
 * Interrupts (ISA numbers, routed to the same IOAPIC pin and, below 16, the
 * PIC; IRQ 0 goes to IOAPIC pin 2 as on a PC).  The virtio-mmio slots use
 * ISA numbers so that virtio_mmio.device= works with the same numbers.
 */
#define LAYOUT_IRQ_I8042	1
#define LAYOUT_IRQ_COM1		4
#define LAYOUT_IRQ_SCI		9
#define LAYOUT_IOAPIC_PINS	24
/*
 * The ACPI Generic Event Device's interrupt: IOAPIC-only (no PIC, no ISA
 * legacy), edge-triggered, active high; its _EVT method tells which event.
 */
#define LAYOUT_IRQ_GED_VMGENID	16

static const unsigned int layout_virtio_irqs[LAYOUT_VIRTIO_SLOTS] = {
	5, 6, 7, 10, 11, 12, 14, 15,
};

#endif
