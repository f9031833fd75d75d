// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI tables as the guest's firmware parser walks them: RSDP ->
 * XSDT -> FADT -> DSDT, and the MADT; signatures, lengths, checksums, the
 * hardware-reduced FADT's registers, one MADT LAPIC per vCPU, one DSDT
 * device per virtio-mmio slot, the VM generation ID device and its GED
 * byte for byte, refusals for machines we cannot describe or buffers too
 * small, and, where Debian's iasl is installed, the whole DSDT through
 * ACPICA's disassembler and back, byte for byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/mem/mem.h"
#include "vmm/x86/acpi.h"
#include "vmm/x86/layout.h"

#define BASE	0xe0000ULL
#define SIZE	0x20000

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static const uint8_t *at(const uint8_t *buf, uint64_t gpa)
{
	assert_true(gpa >= BASE && gpa < BASE + SIZE);
	return buf + (gpa - BASE);
}

static const uint8_t *check_table(const uint8_t *buf, uint64_t gpa,
				  const char *sig)
{
	const uint8_t *t = at(buf, gpa);
	uint32_t len = get32(t + 4);

	assert_memory_equal(t, sig, 4);
	assert_true(len >= ACPI_HEADER_SIZE);
	assert_true(gpa + len <= BASE + SIZE);
	assert_int_equal(acpi__checksum(t, len), 0);
	return t;
}

static size_t count(const uint8_t *p, size_t len, const char *s)
{
	size_t n = 0, k = strlen(s), i;

	for (i = 0; i + k <= len; i++)
		n += !memcmp(p + i, s, k);
	return n;
}

static void walk(const struct acpi_machine *m)
{
	uint8_t *buf = calloc(1, SIZE);
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt, *e, *end;
	unsigned int lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	long used;

	assert_non_null(buf);
	used = acpi__build_tables(buf, SIZE, BASE, m);
	assert_true(used > 0 && used <= SIZE);

	rsdp = buf;
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(acpi__checksum(rsdp, 20), 0);
	assert_int_equal(acpi__checksum(rsdp, ACPI_RSDP_SIZE), 0);

	xsdt = check_table(buf, get64(rsdp + 24), "XSDT");
	assert_int_equal(get32(xsdt + 4), ACPI_HEADER_SIZE + 16);
	fadt = check_table(buf, get64(xsdt + 36), "FACP");
	madt = check_table(buf, get64(xsdt + 44), "APIC");

	/* FADT: hardware-reduced, sleep and reset registers in I/O space. */
	assert_int_equal(get32(fadt + 4), ACPI_FADT_SIZE);
	assert_true(get32(fadt + 112) & (1U << 20));
	assert_int_equal(fadt[244], 1);			/* SystemIO */
	assert_int_equal(get64(fadt + 248), LAYOUT_PM_SLEEP_CTL);
	assert_int_equal(get64(fadt + 260), LAYOUT_PM_SLEEP_STS);
	assert_int_equal(get64(fadt + 120), LAYOUT_PM_RESET);
	assert_int_equal(fadt[128], LAYOUT_PM_RESET_VALUE);
	assert_int_equal(get32(fadt + 40), get64(fadt + 140));
	dsdt = check_table(buf, get64(fadt + 140), "DSDT");

	/* MADT: one enabled LAPIC per vCPU, the IOAPIC, overrides, NMI. */
	assert_int_equal(get32(madt + 36), LAYOUT_LAPIC);
	end = madt + get32(madt + 4);
	for (e = madt + 44; e < end; e += e[1]) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[3], lapics);
			assert_int_equal(get32(e + 4) & 1, 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(get32(e + 4), LAYOUT_IOAPIC);
			ioapics++;
			break;
		case 2:
			isos++;
			break;
		case 4:
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_ptr_equal(e, end);
	assert_int_equal(lapics, m->nr_cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 2);
	assert_int_equal(nmis, 1);

	/* DSDT: the devices, by their ids. */
	assert_int_equal(count(dsdt, get32(dsdt + 4), "LNRO0005"),
			 m->nr_virtio);
	assert_int_equal(count(dsdt, get32(dsdt + 4), "_S5_"), 1);
	assert_int_equal(count(dsdt, get32(dsdt + 4), "COM1"), 1);
	assert_int_equal(count(dsdt, get32(dsdt + 4), "PS2K"), 1);
	free(buf);
}

static struct acpi_machine machine(unsigned int cpus, unsigned int slots)
{
	struct acpi_machine m = { .nr_cpus = cpus, .nr_virtio = slots };
	unsigned int i;

	for (i = 0; i < slots; i++) {
		m.virtio[i].base = LAYOUT_VIRTIO_MMIO + i * LAYOUT_VIRTIO_STRIDE;
		m.virtio[i].size = LAYOUT_VIRTIO_SIZE;
		m.virtio[i].irq = layout_virtio_irqs[i];
	}
	return m;
}

static void one_cpu_one_slot(void **state)
{
	struct acpi_machine m = machine(1, 1);

	walk(&m);
}

static void largest_machine(void **state)
{
	struct acpi_machine m = machine(32, LAYOUT_VIRTIO_SLOTS);

	walk(&m);
}

static void no_devices(void **state)
{
	struct acpi_machine m = machine(2, 0);

	walk(&m);
}

/* The virtio device's resources, as the DSDT carries them. */
static void virtio_resources(void **state)
{
	struct acpi_machine m = machine(1, 1);
	static const uint8_t mem[] = {
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0,
		0x00, 0x02, 0x00, 0x00,
		0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00,
	};
	struct aml a;
	size_t i;
	int found = 0;

	aml__init(&a);
	assert_int_equal(acpi__dsdt_aml(&a, &m), 0);
	for (i = 0; i + sizeof(mem) <= a.len; i++)
		found += !memcmp(a.data + i, mem, sizeof(mem));
	assert_int_equal(found, 1);
	aml__free(&a);
}

/*
 * What iasl -oa compiles from:
 *	Device (VGEN) {
 *		Name (_HID, "THAW0001")
 *		Name (_CID, "VM_Gen_Counter")
 *		Name (_DDN, "VM_Gen_Counter")
 *		Name (ADDR, Package (0x02) { 0x000FF000, Zero })
 *	}
 *	Device (GED0) {
 *		Name (_HID, "ACPI0013")
 *		Name (_UID, Zero)
 *		Name (_CRS, ResourceTemplate () {
 *			Interrupt (ResourceConsumer, Edge, ActiveHigh,
 *				   Exclusive, ,, ) { 0x00000010 } })
 *		Method (_EVT, 1, Serialized) {
 *			If ((Arg0 == 0x10)) { Notify (\_SB.VGEN, 0x80) }
 *		}
 *	}
 */
static const uint8_t vmgenid_ged_aml[] = {
	0x5b, 0x82, 0x4d, 0x04, 'V', 'G', 'E', 'N',
	0x08, '_', 'H', 'I', 'D', 0x0d, 'T', 'H', 'A', 'W', '0', '0', '0', '1',
	0x00,
	0x08, '_', 'C', 'I', 'D', 0x0d, 'V', 'M', '_', 'G', 'e', 'n', '_',
	'C', 'o', 'u', 'n', 't', 'e', 'r', 0x00,
	0x08, '_', 'D', 'D', 'N', 0x0d, 'V', 'M', '_', 'G', 'e', 'n', '_',
	'C', 'o', 'u', 'n', 't', 'e', 'r', 0x00,
	0x08, 'A', 'D', 'D', 'R', 0x12, 0x08, 0x02,
	0x0c, 0x00, 0xf0, 0x0f, 0x00, 0x00,
	0x5b, 0x82, 0x49, 0x04, 'G', 'E', 'D', '0',
	0x08, '_', 'H', 'I', 'D', 0x0d, 'A', 'C', 'P', 'I', '0', '0', '1', '3',
	0x00,
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x0e, 0x0a, 0x0b,
	0x89, 0x06, 0x00, 0x03, 0x01, 0x10, 0x00, 0x00, 0x00,
	0x79, 0x00,
	0x14, 0x19, '_', 'E', 'V', 'T', 0x09,
	0xa0, 0x12, 0x93, 0x68, 0x0a, 0x10,
	0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'V', 'G', 'E', 'N', 0x0a, 0x80,
};

static const struct acpi_vmgenid layout_vmgenid = {
	.gpa = LAYOUT_VMGENID,
	.gsi = LAYOUT_IRQ_GED_VMGENID,
};

static void vmgenid_device(void **state)
{
	struct acpi_vmgenid v = layout_vmgenid;
	struct aml a;

	aml__init(&a);
	assert_int_equal(acpi__vmgenid_aml(&a, &v), 0);
	assert_int_equal(a.len, sizeof(vmgenid_ged_aml));
	assert_memory_equal(a.data, vmgenid_ged_aml, sizeof(vmgenid_ged_aml));
	aml__free(&a);

	/* Above 4 GiB the high half goes into ADDR's second element. */
	v.gpa = 0x5123456780ULL;
	aml__init(&a);
	assert_int_equal(acpi__vmgenid_aml(&a, &v), 0);
	assert_memory_equal(a.data + 70, ((const uint8_t[]){
		0x12, 0x09, 0x02, 0x0c, 0x80, 0x67, 0x45, 0x23,
		0x0a, 0x51 }), 10);
	aml__free(&a);
}

/* The spec wants the ID 8-byte aligned and inside one page. */
static void vmgenid_refused(void **state)
{
	static const uint64_t bad[] = {
		0xff004, 0xffff8, 0xffff0 + 8, UINT64_MAX - 7,
	};
	struct acpi_machine m = machine(1, 1);
	struct acpi_vmgenid v = layout_vmgenid;
	uint8_t *buf = calloc(1, SIZE);
	struct aml a;
	size_t i;

	assert_non_null(buf);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v.gpa = bad[i];
		aml__init(&a);
		assert_int_equal(acpi__vmgenid_aml(&a, &v), -EINVAL);
		aml__free(&a);
		m.has_vmgenid = true;
		m.vmgenid = v;
		assert_int_equal(acpi__build_tables(buf, SIZE, BASE, &m),
				 -EINVAL);
	}
	/* The last 16 bytes of a page are fine. */
	v.gpa = 0xffff0;
	aml__init(&a);
	assert_int_equal(acpi__vmgenid_aml(&a, &v), 0);
	aml__free(&a);
	free(buf);
}

/* The DSDT carries VGEN and GED0 only when the machine has them. */
static void vmgenid_in_dsdt(void **state)
{
	struct acpi_machine m = machine(2, 3);
	struct aml a;
	size_t i;
	int found = 0;

	aml__init(&a);
	assert_int_equal(acpi__dsdt_aml(&a, &m), 0);
	assert_int_equal(count(a.data, a.len, "VGEN"), 0);
	assert_int_equal(count(a.data, a.len, "ACPI0013"), 0);
	aml__free(&a);

	m.has_vmgenid = true;
	m.vmgenid = layout_vmgenid;
	aml__init(&a);
	assert_int_equal(acpi__dsdt_aml(&a, &m), 0);
	for (i = 0; i + sizeof(vmgenid_ged_aml) <= a.len; i++)
		found += !memcmp(a.data + i, vmgenid_ged_aml,
				 sizeof(vmgenid_ged_aml));
	assert_int_equal(found, 1);
	aml__free(&a);
	walk(&m);
}

static int run(const char *cmd)
{
	int ret = system(cmd);

	return ret == -1 ? -1 : WEXITSTATUS(ret);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = malloc(SIZE);
	FILE *f = fopen(path, "rb");

	assert_non_null(buf);
	assert_non_null(f);
	*len = fread(buf, 1, SIZE, f);
	fclose(f);
	return buf;
}

/*
 * ACPICA (the interpreter the guest kernel runs) through iasl: the DSDT
 * disassembles without complaint, and compiling the listing back without
 * optimizations gives the same AML, byte for byte after the header.
 */
static void dsdt_through_iasl(void **state)
{
	struct acpi_machine m = machine(2, 2);
	char dir[] = "/tmp/thaw-acpi-XXXXXX", cmd[512], path[128];
	uint8_t *buf = calloc(1, SIZE), *again;
	const uint8_t *dsdt;
	size_t len;
	FILE *f;

	if (run("command -v iasl >/dev/null 2>&1")) {
		free(buf);
		skip();
	}
	m.has_vmgenid = true;
	m.vmgenid = layout_vmgenid;
	assert_non_null(buf);
	assert_true(acpi__build_tables(buf, SIZE, BASE, &m) > 0);
	dsdt = at(buf, get64(at(buf, get64(at(buf, get64(buf + 24)) + 36)) +
			     140));
	assert_memory_equal(dsdt, "DSDT", 4);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dsdt.aml", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(dsdt, 1, get32(dsdt + 4), f), get32(dsdt + 4));
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && iasl -d dsdt.aml >log 2>&1 && mv dsdt.dsl re.dsl && "
		 "iasl -oa re.dsl >>log 2>&1 && ! grep -q -i -E '(error|warning)[ ]' log",
		 dir);
	assert_int_equal(run(cmd), 0);
	snprintf(path, sizeof(path), "%s/re.aml", dir);
	again = slurp(path, &len);
	assert_int_equal(len, get32(dsdt + 4));
	assert_memory_equal(again + ACPI_HEADER_SIZE, dsdt + ACPI_HEADER_SIZE,
			    len - ACPI_HEADER_SIZE);
	free(again);
	free(buf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(run(cmd), 0);
}

static void refused(void **state)
{
	uint8_t *buf = calloc(1, SIZE);
	struct acpi_machine m;

	assert_non_null(buf);
	m = machine(0, 1);
	assert_int_equal(acpi__build_tables(buf, SIZE, BASE, &m), -EINVAL);
	m = machine(33, 1);
	assert_int_equal(acpi__build_tables(buf, SIZE, BASE, &m), -EINVAL);
	m = machine(1, 1);
	m.nr_virtio = LAYOUT_VIRTIO_SLOTS + 1;
	assert_int_equal(acpi__build_tables(buf, SIZE, BASE, &m), -EINVAL);
	m = machine(1, 1);
	m.virtio[0].base = 1ULL << 32;		/* Memory32Fixed cannot */
	assert_int_equal(acpi__build_tables(buf, SIZE, BASE, &m), -EINVAL);
	m = machine(32, 8);
	assert_int_equal(acpi__build_tables(buf, 200, BASE, &m), -ENOSPC);
	free(buf);
}

/* Into guest memory, where the guest looks for them. */
static void in_guest_memory(void **state)
{
	struct acpi_machine m = machine(4, 2);
	struct guest_mem *mem;
	const uint8_t *p;

	assert_int_equal(guest_mem__new_memfd(&mem, 16 << 20,
					      VM_HUGE_PAGES_NONE), 0);
	assert_int_equal(acpi__setup(mem, &m), 0);
	p = guest_mem__ptr(mem, LAYOUT_ACPI, 8);
	assert_memory_equal(p, "RSD PTR ", 8);
	guest_mem__free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_cpu_one_slot),
		cmocka_unit_test(largest_machine),
		cmocka_unit_test(no_devices),
		cmocka_unit_test(virtio_resources),
		cmocka_unit_test(refused),
		cmocka_unit_test(vmgenid_device),
		cmocka_unit_test(vmgenid_refused),
		cmocka_unit_test(vmgenid_in_dsdt),
		cmocka_unit_test(dsdt_through_iasl),
		cmocka_unit_test(in_guest_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
