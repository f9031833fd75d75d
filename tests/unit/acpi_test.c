// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI tables as the guest's firmware parser walks them: RSDP ->
 * XSDT -> FADT -> DSDT, and the MADT; signatures, lengths, checksums, the
 * hardware-reduced FADT's registers, one MADT LAPIC per vCPU, one DSDT
 * device per virtio-mmio slot, and refusals for machines we cannot
 * describe or buffers too small.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/acpi.h"
#include "vmm/layout.h"
#include "vmm/mem.h"

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
		cmocka_unit_test(in_guest_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
