// SPDX-License-Identifier: GPL-2.0
/*
 * The boot-params builder on synthetic kernels: a bzImage header as the
 * boot protocol describes it and a minimal ELF vmlinux, loaded into a real
 * (memfd) guest memory; then every way a hostile or broken image, command
 * line or initrd can be wrong, each an error with a message.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <asm/bootparam.h>

#include "vmm/mem/mem.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/layout.h"

#define MIB		(1ULL << 20)
#define IMG_SIZE	(64 * 1024)
#define SETUP_SECTS	4

struct fixture {
	struct guest_mem *mem;
	uint8_t *owned;			/* the bzImage buffer */
	uint8_t *img;			/* what load() loads */
	size_t len;
	char err[256];
	struct boot_info info;
};

static struct setup_header *hdr(uint8_t *img)
{
	return (struct setup_header *)(img + 0x1f1);
}

/* What a 2.15 bzImage's header says, with a recognisable payload. */
static void make_bzimage(struct fixture *f)
{
	struct setup_header *h;
	size_t i;

	f->len = IMG_SIZE;
	memset(f->img, 0, IMG_SIZE);
	h = hdr(f->img);
	h->setup_sects = SETUP_SECTS;
	h->boot_flag = 0xaa55;
	h->jump = 0x66eb;			/* jmp to 0x268 */
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = XLF_KERNEL_64;
	h->cmdline_size = 2047;
	h->initrd_addr_max = 0x7fffffff;
	h->pref_address = 0x1000000;
	h->init_size = 0x800000;
	for (i = (SETUP_SECTS + 1) * 512; i < IMG_SIZE; i++)
		f->img[i] = i * 13;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->owned = f->img = calloc(1, IMG_SIZE);
	if (!f->img ||
	    guest_mem__new_memfd(&f->mem, 128 * MIB, VM_HUGE_PAGES_NONE))
		return -1;
	make_bzimage(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	guest_mem__free(f->mem);
	free(f->owned);
	free(f);
	return 0;
}

static int load(struct fixture *f, const void *initrd, size_t ilen,
		const char *cmdline)
{
	f->err[0] = '\0';
	return boot__load(f->mem, f->img, f->len, initrd, ilen, cmdline,
			  &f->info, f->err, sizeof(f->err));
}

static struct boot_params *zero_page(struct fixture *f)
{
	return guest_mem__ptr(f->mem, LAYOUT_ZERO_PAGE, sizeof(struct boot_params));
}

static void bzimage(void **state)
{
	struct fixture *f = *state;
	static const char initrd[] = "070701 an initramfs";
	const char *cmd = "console=ttyS0 root=/dev/ram";
	struct boot_params *bp;
	uint64_t *pml4, *pd;
	const uint8_t *k;

	assert_int_equal(load(f, initrd, sizeof(initrd), cmd), 0);
	assert_int_equal(f->info.kind, BOOT_BZIMAGE);
	assert_int_equal(f->info.entry, LAYOUT_KERNEL + 0x200);
	assert_int_equal(f->info.zero_page, LAYOUT_ZERO_PAGE);

	/* The protected-mode code at 1 MiB, byte for byte. */
	k = guest_mem__ptr(f->mem, LAYOUT_KERNEL, 16);
	assert_memory_equal(k, f->img + (SETUP_SECTS + 1) * 512, 16);

	bp = zero_page(f);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_true(bp->hdr.loadflags & CAN_USE_HEAP);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_string_equal(guest_mem__ptr(f->mem, LAYOUT_CMDLINE, 64), cmd);
	assert_int_equal(bp->acpi_rsdp_addr, LAYOUT_ACPI);

	/* The initrd at the top of RAM, page aligned, above the kernel. */
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(initrd));
	assert_int_equal(bp->hdr.ramdisk_image, f->info.initrd_gpa);
	assert_int_equal(f->info.initrd_gpa & 0xfff, 0);
	assert_true(f->info.initrd_gpa + sizeof(initrd) <= 128 * MIB);
	assert_true(128 * MIB - f->info.initrd_gpa < 2 * 4096);
	assert_true(f->info.initrd_gpa >= 0x1000000 + 0x800000);
	assert_memory_equal(guest_mem__ptr(f->mem, f->info.initrd_gpa,
					   sizeof(initrd)),
			    initrd, sizeof(initrd));

	/* e820: low RAM, the reserved hole with the ACPI tables, RAM. */
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[0].addr, 0);
	assert_int_equal(bp->e820_table[0].size, LAYOUT_EBDA);
	assert_int_equal(bp->e820_table[0].type, 1);
	assert_int_equal(bp->e820_table[1].type, 2);
	assert_true(bp->e820_table[1].addr <= LAYOUT_ACPI);
	assert_int_equal(bp->e820_table[2].addr, LAYOUT_KERNEL);
	assert_int_equal(bp->e820_table[2].addr + bp->e820_table[2].size,
			 128 * MIB);

	/* Identity map with 2 MiB pages; the GDT's 64-bit code segment. */
	pml4 = guest_mem__ptr(f->mem, LAYOUT_PML4, 4096);
	pd = guest_mem__ptr(f->mem, LAYOUT_PD, 4096);
	assert_int_equal(pml4[0], LAYOUT_PDPT | 3);
	assert_int_equal(pd[0], 0x83);
	assert_int_equal(pd[5], 5 * 2 * MIB | 0x83);
	assert_int_equal(*(uint64_t *)guest_mem__ptr(f->mem, LAYOUT_GDT + 16, 8),
			 0x00af9b000000ffffULL);
}

static void no_initrd(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, NULL, 0, ""), 0);
	assert_int_equal(zero_page(f)->hdr.ramdisk_image, 0);
	assert_int_equal(zero_page(f)->hdr.ramdisk_size, 0);
}

/* RAM above the 32-bit hole shows up as a second RAM range at 4 GiB. */
static void high_memory(void **state)
{
	struct fixture *f = *state;
	struct boot_params *bp;

	guest_mem__free(f->mem);
	assert_int_equal(guest_mem__new_memfd(&f->mem, 4096 * MIB,
					      VM_HUGE_PAGES_NONE), 0);
	assert_int_equal(load(f, "x", 1, "quiet"), 0);
	bp = zero_page(f);
	assert_int_equal(bp->e820_entries, 4);
	assert_int_equal(bp->e820_table[2].addr + bp->e820_table[2].size,
			 LAYOUT_MMIO_GAP);
	assert_int_equal(bp->e820_table[3].addr, LAYOUT_HIGH_RAM);
	assert_int_equal(bp->e820_table[3].size, 1024 * MIB);
	/* The initrd stays below the hole and initrd_addr_max. */
	assert_true(f->info.initrd_gpa < 0x80000000ULL);
}

static void expect_fail(struct fixture *f, const void *initrd, size_t ilen,
			const char *cmdline, const char *why)
{
	int ret = load(f, initrd, ilen, cmdline);

	if (ret != -EINVAL)
		fail_msg("expected a failure about \"%s\", got %d", why, ret);
	if (!strstr(f->err, why))
		fail_msg("error \"%s\" does not mention \"%s\"", f->err, why);
}

static void bad_bzimages(void **state)
{
	struct fixture *f = *state;

	f->len = 0x200;
	expect_fail(f, NULL, 0, "", "too small");

	make_bzimage(f);
	f->img[0x201] = 0xff;			/* header past a short file */
	f->len = 0x280;
	expect_fail(f, NULL, 0, "", "truncated");

	make_bzimage(f);
	hdr(f->img)->boot_flag = 0x1234;
	expect_fail(f, NULL, 0, "", "not a bzImage");

	make_bzimage(f);
	hdr(f->img)->header = 0;
	expect_fail(f, NULL, 0, "", "not a bzImage");

	make_bzimage(f);
	hdr(f->img)->version = 0x0209;
	expect_fail(f, NULL, 0, "", "64-bit entry");

	make_bzimage(f);
	hdr(f->img)->xloadflags = 0;
	expect_fail(f, NULL, 0, "", "64-bit entry");

	make_bzimage(f);
	hdr(f->img)->loadflags = 0;
	expect_fail(f, NULL, 0, "", "zImage");

	make_bzimage(f);
	hdr(f->img)->setup_sects = 200;		/* setup beyond the file */
	expect_fail(f, NULL, 0, "", "beyond the file");

	make_bzimage(f);
	hdr(f->img)->init_size = 0xffffffff;
	expect_fail(f, NULL, 0, "", "needs RAM");

	make_bzimage(f);
	hdr(f->img)->pref_address = 0xfffffffffffff000ULL;
	expect_fail(f, NULL, 0, "", "beyond RAM");
}

static void bad_cmdline_and_initrd(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(4096);
	void *huge = calloc(1, 120 * MIB);

	assert_non_null(big);
	assert_non_null(huge);
	memset(big, 'a', 2048);
	big[2048] = '\0';			/* the kernel takes 2047 */
	expect_fail(f, NULL, 0, big, "command line");
	big[2047] = '\0';
	assert_int_equal(load(f, NULL, 0, big), 0);

	/* An initrd that would overlap where the kernel decompresses. */
	expect_fail(f, huge, 120 * MIB, "", "initrd");
	hdr(f->img)->initrd_addr_max = 0x1000000;
	expect_fail(f, "x", 1, "", "initrd");
	free(big);
	free(huge);
}

struct elf_image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint8_t code[256];
};

static void make_elf(struct fixture *f, struct elf_image *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_type = ET_EXEC;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_entry = 0x1000000;
	e->eh.e_phoff = offsetof(struct elf_image, ph);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = 2;
	e->ph[0].p_type = PT_LOAD;
	e->ph[0].p_offset = offsetof(struct elf_image, code);
	e->ph[0].p_paddr = 0x1000000;
	e->ph[0].p_filesz = sizeof(e->code);
	e->ph[0].p_memsz = 0x2000;		/* the rest is bss */
	e->ph[1].p_type = PT_NOTE;
	memset(e->code, 0xcc, sizeof(e->code));
	f->img = (uint8_t *)e;
	f->len = sizeof(*e);
}

static void elf_vmlinux(void **state)
{
	struct fixture *f = *state;
	uint8_t *p;
	struct elf_image e;

	make_elf(f, &e);
	p = guest_mem__ptr(f->mem, 0x1000000, 0x2000);
	memset(p, 0x55, 0x2000);
	assert_int_equal(load(f, "initrd", 6, "console=ttyS0"), 0);
	assert_int_equal(f->info.kind, BOOT_ELF);
	assert_int_equal(f->info.entry, 0x1000000);
	assert_int_equal(p[0], 0xcc);
	assert_int_equal(p[255], 0xcc);
	assert_int_equal(p[256], 0);		/* bss zeroed */
	assert_int_equal(p[0x1fff], 0);
	assert_int_equal(zero_page(f)->hdr.header, 0x53726448);
	assert_true(f->info.initrd_gpa >= 0x1002000);
}

static void bad_elfs(void **state)
{
	struct fixture *f = *state;
	struct elf_image e;

	make_elf(f, &e);
	e.eh.e_machine = EM_AARCH64;
	expect_fail(f, NULL, 0, "", "x86-64");

	make_elf(f, &e);
	e.eh.e_phoff = 1ULL << 40;
	expect_fail(f, NULL, 0, "", "program headers");

	make_elf(f, &e);
	e.eh.e_phnum = 0;
	expect_fail(f, NULL, 0, "", "program headers");

	make_elf(f, &e);
	e.ph[0].p_filesz = 0x3000;		/* more file than memory */
	expect_fail(f, NULL, 0, "", "out of the file");

	make_elf(f, &e);
	e.ph[0].p_offset = UINT64_MAX - 8;	/* offset + size wraps */
	expect_fail(f, NULL, 0, "", "out of the file");

	make_elf(f, &e);
	e.ph[0].p_paddr = 128 * MIB - 0x1000;	/* runs off the end of RAM */
	e.eh.e_entry = 128 * MIB - 0x1000;
	expect_fail(f, NULL, 0, "", "not in guest RAM");

	make_elf(f, &e);
	e.ph[0].p_paddr = UINT64_MAX - 0x100;	/* address + size wraps */
	expect_fail(f, NULL, 0, "", "not in guest RAM");

	make_elf(f, &e);
	e.ph[0].p_paddr = 0x8000;		/* over the zero page */
	expect_fail(f, NULL, 0, "", "boot area");

	make_elf(f, &e);
	e.eh.e_entry = 0x2000000;
	expect_fail(f, NULL, 0, "", "entry");

	make_elf(f, &e);
	e.ph[0].p_type = PT_NOTE;
	expect_fail(f, NULL, 0, "", "no loadable segment");
}

static void too_little_ram(void **state)
{
	struct fixture *f = *state;

	guest_mem__free(f->mem);
	assert_int_equal(guest_mem__new_memfd(&f->mem, 1 * MIB,
					      VM_HUGE_PAGES_NONE), 0);
	expect_fail(f, NULL, 0, "", "too small");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bzimage, setup, teardown),
		cmocka_unit_test_setup_teardown(no_initrd, setup, teardown),
		cmocka_unit_test_setup_teardown(high_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_bzimages, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_cmdline_and_initrd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(elf_vmlinux, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_elfs, setup, teardown),
		cmocka_unit_test_setup_teardown(too_little_ram, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
