// SPDX-License-Identifier: GPL-2.0
/* ACPI tables built in guest memory: see acpi.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/config.h"
#include "vmm/mem/mem.h"
#include "vmm/x86/acpi.h"
#include "vmm/x86/layout.h"

#define ACPI_OEM_ID		"THAW  "
#define ACPI_OEM_TABLE_ID	"THAWVM  "
#define ACPI_CREATOR_ID		"THAW"

/* FADT fields (ACPI 6.x, table 5.9) and flags. */
#define FADT_DSDT		40
#define FADT_SCI_INT		46
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR_VERSION	131
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL	244
#define FADT_SLEEP_STATUS	256
#define FADT_HYPERVISOR_ID	268
#define FADT_F_RESET_REG_SUP	(1U << 10)
#define FADT_F_HW_REDUCED	(1U << 20)
#define IAPC_8042		(1U << 1)
#define IAPC_NO_VGA		(1U << 2)
#define IAPC_NO_MSI		(1U << 3)
#define IAPC_NO_ASPM		(1U << 4)
#define IAPC_NO_CMOS_RTC	(1U << 5)

#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1

#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_ISO		2
#define MADT_LAPIC_NMI		4
#define MADT_PCAT_COMPAT	1
#define MPS_ACTIVE_HIGH		0x1
#define MPS_EDGE		0x4
#define MPS_LEVEL		0xc

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

uint8_t acpi__checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

static void table_header(uint8_t *t, const char *sig, uint32_t len,
			 uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	t[9] = 0;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put32(t + 24, 1);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put32(t + 32, 1);
}

static void table_finish(uint8_t *t, uint32_t len)
{
	t[9] = -acpi__checksum(t, len);
}

static void gas_io(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = 8;			/* bit width */
	p[2] = 0;			/* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put64(p + 4, port);
}

/*
 * Device (VGEN) {
 *	Name (_HID, "THAW0001")		ours;
 *	Name (_CID, "VM_Gen_Counter")	the spec's id, which Linux's driver
 *					binds as "VM_GEN_COUNTER" (ACPICA
 *					upper-cases _HID and _CID strings);
 *	Name (_DDN, "VM_Gen_Counter")
 *	Name (ADDR, Package () { low, high })  the ID's guest address
 * }
 * Device (GED0) {
 *	Name (_HID, "ACPI0013")
 *	Name (_UID, 0)
 *	Name (_CRS, ResourceTemplate () {
 *		Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { gsi } })
 *	Method (_EVT, 1, Serialized) {
 *		If (LEqual (Arg0, gsi)) { Notify (\_SB_.VGEN, 0x80) } }
 * }
 * ADDR is a plain Package: the guest evaluates it once, at probe.  The GED
 * calls _EVT with the interrupt number, so one device can serve more
 * events later, each on its own interrupt.
 */
int acpi__vmgenid_aml(struct aml *out, const struct acpi_vmgenid *v)
{
	struct aml dev, res, pkg, tmp, arg, num, pred, body, method;
	int ret;

	if (v->gpa % 8 || v->gpa > UINT64_MAX - 16 ||
	    v->gpa / 4096 != (v->gpa + 15) / 4096)
		return -EINVAL;
	aml__init(&dev);
	aml__init(&res);
	aml__init(&pkg);
	aml__init(&tmp);
	aml__init(&arg);
	aml__init(&num);
	aml__init(&pred);
	aml__init(&body);
	aml__init(&method);

	aml__name_string_value(&dev, "_HID", "THAW0001");
	aml__name_string_value(&dev, "_CID", "VM_Gen_Counter");
	aml__name_string_value(&dev, "_DDN", "VM_Gen_Counter");
	aml__integer(&pkg, v->gpa & 0xffffffff);
	aml__integer(&pkg, v->gpa >> 32);
	aml__package(&tmp, 2, &pkg);
	aml__name(&dev, "ADDR", &tmp);
	aml__device(out, "VGEN", &dev);
	aml__free(&dev);

	aml__name_string_value(&dev, "_HID", "ACPI0013");
	aml__name_integer(&dev, "_UID", 0);
	aml__res_ext_irq(&res, v->gsi, true, false, false);
	aml__name_resources(&dev, "_CRS", &res);
	aml__arg(&arg, 0);
	aml__integer(&num, v->gsi);
	aml__lequal(&pred, &arg, &num);
	aml__notify(&body, ACPI_VMGENID_PATH, ACPI_VMGENID_NOTIFY);
	aml__if(&method, &pred, &body);
	aml__method(&dev, "_EVT", 1, true, &method);
	aml__device(out, "GED0", &dev);

	ret = aml__error(out);
	aml__free(&dev);
	aml__free(&res);
	aml__free(&pkg);
	aml__free(&tmp);
	aml__free(&arg);
	aml__free(&num);
	aml__free(&pred);
	aml__free(&body);
	aml__free(&method);
	return ret;
}

/*
 * One device per virtio-mmio slot, COM1, the i8042 keyboard, the VM
 * generation ID and its GED if asked; \_S5_.
 */
int acpi__dsdt_aml(struct aml *out, const struct acpi_machine *m)
{
	struct aml sb, dev, res, pkg;
	char name[12];
	unsigned int i;
	int ret;

	aml__init(&sb);
	aml__init(&dev);
	aml__init(&res);
	aml__init(&pkg);

	aml__name_eisaid(&dev, "_HID", "PNP0501");
	aml__name_integer(&dev, "_UID", 1);
	aml__res_io(&res, LAYOUT_PORT_COM1, 8);
	aml__res_irq(&res, LAYOUT_IRQ_COM1);
	aml__name_resources(&dev, "_CRS", &res);
	aml__device(&sb, "COM1", &dev);
	aml__free(&dev);
	aml__free(&res);

	aml__name_eisaid(&dev, "_HID", "PNP0303");
	aml__res_io(&res, LAYOUT_PORT_I8042_DATA, 1);
	aml__res_io(&res, LAYOUT_PORT_I8042_CMD, 1);
	aml__res_irq(&res, LAYOUT_IRQ_I8042);
	aml__name_resources(&dev, "_CRS", &res);
	aml__device(&sb, "PS2K", &dev);
	aml__free(&dev);
	aml__free(&res);

	for (i = 0; i < m->nr_virtio; i++) {
		const struct acpi_virtio_slot *s = &m->virtio[i];

		if (s->base > UINT32_MAX) {
			aml__free(&sb);
			return -EINVAL;
		}
		aml__name_string_value(&dev, "_HID", "LNRO0005");
		aml__name_integer(&dev, "_UID", i);
		aml__name_integer(&dev, "_CCA", 1);	/* cache coherent */
		aml__res_mem32_fixed(&res, s->base, s->size, true);
		aml__res_ext_irq(&res, s->irq, true, false, false);
		aml__name_resources(&dev, "_CRS", &res);
		snprintf(name, sizeof(name), "V%03u", i % 1000);
		aml__device(&sb, name, &dev);
		aml__free(&dev);
		aml__free(&res);
	}
	if (m->has_vmgenid) {
		ret = acpi__vmgenid_aml(&sb, &m->vmgenid);
		if (ret) {
			aml__free(&sb);
			return ret;
		}
	}
	aml__scope(out, "\\_SB_", &sb);

	/* SLP_TYPa, SLP_TYPb: what the guest writes to SLEEP_CONTROL. */
	aml__integer(&pkg, LAYOUT_PM_S5_TYPE);
	aml__integer(&pkg, 0);
	aml__integer(&pkg, 0);
	aml__integer(&pkg, 0);
	aml__package(&dev, 4, &pkg);
	aml__name(out, "\\_S5_", &dev);

	ret = aml__error(out);
	aml__free(&sb);
	aml__free(&dev);
	aml__free(&pkg);
	return ret;
}

static void build_fadt(uint8_t *t, uint64_t dsdt)
{
	memset(t, 0, ACPI_FADT_SIZE);
	table_header(t, "FACP", ACPI_FADT_SIZE, 6);
	put32(t + FADT_DSDT, dsdt);
	put16(t + FADT_SCI_INT, LAYOUT_IRQ_SCI);
	put16(t + FADT_IAPC_BOOT_ARCH, IAPC_8042 | IAPC_NO_VGA |
	      IAPC_NO_MSI | IAPC_NO_ASPM | IAPC_NO_CMOS_RTC);
	put32(t + FADT_FLAGS, FADT_F_HW_REDUCED | FADT_F_RESET_REG_SUP);
	gas_io(t + FADT_RESET_REG, LAYOUT_PM_RESET);
	t[FADT_RESET_VALUE] = LAYOUT_PM_RESET_VALUE;
	t[FADT_MINOR_VERSION] = 5;
	put64(t + FADT_X_DSDT, dsdt);
	gas_io(t + FADT_SLEEP_CONTROL, LAYOUT_PM_SLEEP_CTL);
	gas_io(t + FADT_SLEEP_STATUS, LAYOUT_PM_SLEEP_STS);
	memcpy(t + FADT_HYPERVISOR_ID, "THAWTHAW", 8);
	table_finish(t, ACPI_FADT_SIZE);
}

static size_t madt_size(const struct acpi_machine *m)
{
	return ACPI_HEADER_SIZE + 8 + m->nr_cpus * 8 + 12 + 2 * 10 + 6;
}

static void build_madt(uint8_t *t, const struct acpi_machine *m)
{
	size_t len = madt_size(m);
	uint8_t *e = t + ACPI_HEADER_SIZE + 8;
	unsigned int i;

	memset(t, 0, len);
	table_header(t, "APIC", len, 5);
	put32(t + ACPI_HEADER_SIZE, LAYOUT_LAPIC);
	put32(t + ACPI_HEADER_SIZE + 4, MADT_PCAT_COMPAT);
	for (i = 0; i < m->nr_cpus; i++, e += 8) {
		e[0] = MADT_LAPIC;
		e[1] = 8;
		e[2] = i;		/* ACPI processor UID */
		e[3] = i;		/* APIC ID */
		put32(e + 4, 1);	/* enabled */
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = 0;			/* KVM's IOAPIC ID register reads 0 */
	put32(e + 4, LAYOUT_IOAPIC);
	put32(e + 8, 0);		/* GSI base */
	e += 12;
	/* The PIT's IRQ 0 is wired to IOAPIC pin 2 (vmm/kvm.c's routing). */
	e[0] = MADT_ISO;
	e[1] = 10;
	e[2] = 0;
	e[3] = 0;
	put32(e + 4, 2);
	put16(e + 8, MPS_ACTIVE_HIGH | MPS_EDGE);
	e += 10;
	/* The SCI: level-triggered, active high, as KVM's IOAPIC drives it. */
	e[0] = MADT_ISO;
	e[1] = 10;
	e[2] = 0;
	e[3] = LAYOUT_IRQ_SCI;
	put32(e + 4, LAYOUT_IRQ_SCI);
	put16(e + 8, MPS_ACTIVE_HIGH | MPS_LEVEL);
	e += 10;
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = 0xff;			/* all processors */
	put16(e + 3, MPS_ACTIVE_HIGH | MPS_EDGE);
	e[5] = 1;			/* LINT1 */
	table_finish(t, len);
}

static size_t align16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

long acpi__build_tables(uint8_t *buf, size_t size, uint64_t gpa,
			const struct acpi_machine *m)
{
	size_t rsdp = 0, xsdt, fadt, madt, dsdt, end, dsdt_len;
	struct aml aml;
	uint8_t *t;
	int ret;

	if (!m->nr_cpus || m->nr_cpus > VM_MAX_VCPUS ||
	    m->nr_virtio > LAYOUT_VIRTIO_SLOTS)
		return -EINVAL;
	aml__init(&aml);
	ret = acpi__dsdt_aml(&aml, m);
	if (ret) {
		aml__free(&aml);
		return ret;
	}
	dsdt_len = ACPI_HEADER_SIZE + aml.len;
	xsdt = align16(rsdp + ACPI_RSDP_SIZE);
	fadt = align16(xsdt + ACPI_HEADER_SIZE + 2 * 8);
	madt = align16(fadt + ACPI_FADT_SIZE);
	dsdt = align16(madt + madt_size(m));
	end = dsdt + dsdt_len;
	if (end > size || dsdt_len > UINT32_MAX) {
		aml__free(&aml);
		return -ENOSPC;
	}
	memset(buf, 0, end);

	t = buf + dsdt;
	table_header(t, "DSDT", dsdt_len, 6);
	memcpy(t + ACPI_HEADER_SIZE, aml.data, aml.len);
	table_finish(t, dsdt_len);
	aml__free(&aml);

	build_fadt(buf + fadt, gpa + dsdt);
	build_madt(buf + madt, m);

	t = buf + xsdt;
	table_header(t, "XSDT", ACPI_HEADER_SIZE + 2 * 8, 1);
	put64(t + ACPI_HEADER_SIZE, gpa + fadt);
	put64(t + ACPI_HEADER_SIZE + 8, gpa + madt);
	table_finish(t, ACPI_HEADER_SIZE + 2 * 8);

	t = buf + rsdp;
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, ACPI_OEM_ID, 6);
	t[15] = 2;			/* revision: ACPI 2.0+, has XSDT */
	put32(t + 16, 0);		/* no RSDT */
	put32(t + 20, ACPI_RSDP_SIZE);
	put64(t + 24, gpa + xsdt);
	t[8] = -acpi__checksum(t, 20);
	t[32] = -acpi__checksum(t, ACPI_RSDP_SIZE);
	return end;
}

int acpi__setup(struct guest_mem *mem, const struct acpi_machine *m)
{
	uint8_t *p = guest_mem__ptr(mem, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	long ret;

	if (!p)
		return -EFAULT;
	ret = acpi__build_tables(p, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, m);
	return ret < 0 ? ret : 0;
}
