// SPDX-License-Identifier: GPL-2.0
/* The Linux x86 64-bit boot protocol: see boot.h. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asm/bootparam.h>

#include "lib/err.h"
#include "vmm/mem/mem.h"
#include "vmm/util.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/layout.h"

#define SETUP_HDR_OFFSET	0x1f1
#define SETUP_HDR_MAGIC		0x53726448	/* "HdrS" */
#define BOOT_FLAG		0xaa55
#define MIN_PROTOCOL		0x020c		/* XLF_KERNEL_64 */
#define E820_RAM		1
#define E820_RESERVED		2
#define LOADER_UNDEFINED	0xff
#define PAGE_PRESENT_RW		0x3ULL
#define PAGE_PSE		0x80ULL
#define SZ_1G			(1ULL << 30)
#define SZ_2M			(2ULL << 20)

static void setup_gdt_and_page_tables(struct guest_mem *mem)
{
	static const uint64_t gdt[] = {
		0,
		0,
		0x00af9b000000ffffULL,	/* 0x10: 64-bit code, DPL 0 */
		0x00cf93000000ffffULL,	/* 0x18: flat data */
	};
	uint64_t *pml4 = guest_mem__ptr(mem, LAYOUT_PML4, 4096);
	uint64_t *pdpt = guest_mem__ptr(mem, LAYOUT_PDPT, 4096);
	uint64_t *pd = guest_mem__ptr(mem, LAYOUT_PD, 4096 * LAYOUT_PD_PAGES);
	unsigned int i;

	guest_mem__write(mem, LAYOUT_GDT, gdt, sizeof(gdt));
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | PAGE_PRESENT_RW;
	for (i = 0; i < LAYOUT_PD_PAGES; i++)
		pdpt[i] = (LAYOUT_PD + i * 4096ULL) | PAGE_PRESENT_RW;
	for (i = 0; i < 512 * LAYOUT_PD_PAGES; i++)
		pd[i] = (i * SZ_2M) | PAGE_PRESENT_RW | PAGE_PSE;
}

static void add_e820(struct boot_params *bp, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

static void setup_e820(struct boot_params *bp, const struct guest_mem *mem)
{
	uint64_t low_end = guest_mem__low_end(mem);

	add_e820(bp, 0, LAYOUT_EBDA, E820_RAM);
	add_e820(bp, LAYOUT_EBDA, LAYOUT_KERNEL - LAYOUT_EBDA, E820_RESERVED);
	add_e820(bp, LAYOUT_KERNEL, low_end - LAYOUT_KERNEL, E820_RAM);
	if (mem->nr_regions > 1)
		add_e820(bp, mem->regions[1].gpa, mem->regions[1].size,
			 E820_RAM);
}

static int load_bzimage(struct guest_mem *mem, const uint8_t *img,
			size_t len, struct boot_params *bp,
			struct boot_info *info, char *err, size_t errlen)
{
	struct setup_header hdr;
	size_t hdr_end, setup_size, code_len;
	uint64_t need;
	void *dst;

	if (len < 0x202 + 2 + 4 + 2)
		return err__set(err, errlen, -EINVAL,
				"kernel image too small (%zu bytes)", len);
	hdr_end = 0x202 + img[0x201];
	if (hdr_end > len)
		return err__set(err, errlen, -EINVAL,
				"bzImage setup header truncated");
	memset(&hdr, 0, sizeof(hdr));
	memcpy(&hdr, img + SETUP_HDR_OFFSET,
	       hdr_end - SETUP_HDR_OFFSET < sizeof(hdr) ?
	       hdr_end - SETUP_HDR_OFFSET : sizeof(hdr));
	if (hdr.boot_flag != BOOT_FLAG || hdr.header != SETUP_HDR_MAGIC)
		return err__set(err, errlen, -EINVAL,
				"not a bzImage (no boot flag or HdrS magic)");
	if (hdr.version < MIN_PROTOCOL || !(hdr.xloadflags & XLF_KERNEL_64))
		return err__set(err, errlen, -EINVAL,
				"kernel boot protocol %u.%02u has no 64-bit entry (need 2.12 and XLF_KERNEL_64)",
				hdr.version >> 8, hdr.version & 0xff);
	if (!(hdr.loadflags & LOADED_HIGH))
		return err__set(err, errlen, -EINVAL,
				"zImage (loaded low) not supported");
	setup_size = ((size_t)(hdr.setup_sects ? hdr.setup_sects : 4) + 1) * 512;
	if (setup_size >= len)
		return err__set(err, errlen, -EINVAL,
				"bzImage: setup (%zu bytes) beyond the file (%zu)",
				setup_size, len);
	code_len = len - setup_size;
	/* The decompressor runs at max(load address, pref_address). */
	if (hdr.pref_address > guest_mem__low_end(mem))
		return err__set(err, errlen, -EINVAL,
				"kernel prefers %#llx, beyond RAM",
				(unsigned long long)hdr.pref_address);
	need = hdr.pref_address > LAYOUT_KERNEL ? hdr.pref_address :
		LAYOUT_KERNEL;
	need += hdr.init_size > code_len ? hdr.init_size : code_len;
	if (need < LAYOUT_KERNEL || need > guest_mem__low_end(mem))
		return err__set(err, errlen, -EINVAL,
				"kernel needs RAM up to %#llx, the machine has %#llx below 3 GiB",
				(unsigned long long)need,
				(unsigned long long)guest_mem__low_end(mem));
	dst = guest_mem__ptr(mem, LAYOUT_KERNEL, code_len);
	if (!dst)
		return err__set(err, errlen, -EINVAL,
				"kernel does not fit in RAM");
	memcpy(dst, img + setup_size, code_len);

	bp->hdr = hdr;
	info->kind = BOOT_BZIMAGE;
	info->entry = LAYOUT_KERNEL + 0x200;	/* startup_64 */
	info->kernel_end = need;
	return 0;
}

static int load_elf(struct guest_mem *mem, const uint8_t *img, size_t len,
		    struct boot_params *bp, struct boot_info *info,
		    char *err, size_t errlen)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	uint64_t end = 0;
	bool entry_ok = false;
	unsigned int i, loaded = 0;

	if (len < sizeof(*eh))
		return err__set(err, errlen, -EINVAL, "ELF header truncated");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC)
		return err__set(err, errlen, -EINVAL,
				"not an x86-64 ELF executable");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || !eh->e_phnum ||
	    eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return err__set(err, errlen, -EINVAL,
				"ELF program headers out of the file");

	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset)
			return err__set(err, errlen, -EINVAL,
					"ELF segment %u: sizes or offset out of the file",
					i);
		if (ph.p_paddr < LAYOUT_KERNEL)
			return err__set(err, errlen, -EINVAL,
					"ELF segment %u at %#llx overlaps the boot area below 1 MiB",
					i, (unsigned long long)ph.p_paddr);
		dst = guest_mem__ptr(mem, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return err__set(err, errlen, -EINVAL,
					"ELF segment %u [%#llx +%#llx] is not in guest RAM",
					i, (unsigned long long)ph.p_paddr,
					(unsigned long long)ph.p_memsz);
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > end)
			end = ph.p_paddr + ph.p_memsz;
		if (eh->e_entry >= ph.p_paddr &&
		    eh->e_entry - ph.p_paddr < ph.p_memsz)
			entry_ok = true;
		loaded++;
	}
	if (!loaded)
		return err__set(err, errlen, -EINVAL,
				"ELF has no loadable segment");
	if (!entry_ok)
		return err__set(err, errlen, -EINVAL,
				"ELF entry %#llx is not inside a loaded segment (need a physical entry, as vmlinux has)",
				(unsigned long long)eh->e_entry);

	/* What a bzImage's header would have told the kernel. */
	bp->hdr.boot_flag = BOOT_FLAG;
	bp->hdr.header = SETUP_HDR_MAGIC;
	bp->hdr.version = MIN_PROTOCOL;
	bp->hdr.loadflags = LOADED_HIGH;
	bp->hdr.kernel_alignment = 0x1000000;
	bp->hdr.cmdline_size = LAYOUT_CMDLINE_MAX - 1;
	info->kind = BOOT_ELF;
	info->entry = eh->e_entry;
	info->kernel_end = end;
	return 0;
}

static int load_initrd(struct guest_mem *mem, const void *initrd,
		       size_t len, struct boot_params *bp,
		       struct boot_info *info, char *err, size_t errlen)
{
	uint64_t top = guest_mem__low_end(mem), gpa;
	void *dst;

	/* The kernel wants it below initrd_addr_max (2.03+). */
	if (bp->hdr.initrd_addr_max && top > bp->hdr.initrd_addr_max + 1ULL)
		top = bp->hdr.initrd_addr_max + 1ULL;
	if (len > top || ((top - len) & ~0xfffULL) < info->kernel_end)
		return err__set(err, errlen, -EINVAL,
				"initrd (%zu bytes) does not fit between the kernel's end %#llx and %#llx",
				len, (unsigned long long)info->kernel_end,
				(unsigned long long)top);
	gpa = (top - len) & ~0xfffULL;
	dst = guest_mem__ptr(mem, gpa, len);
	if (!dst)
		return err__set(err, errlen, -EINVAL,
				"initrd is not in guest RAM");
	memcpy(dst, initrd, len);
	bp->hdr.ramdisk_image = gpa;
	bp->hdr.ramdisk_size = len;
	bp->ext_ramdisk_image = gpa >> 32;
	bp->ext_ramdisk_size = (uint64_t)len >> 32;
	info->initrd_gpa = gpa;
	info->initrd_size = len;
	return 0;
}

int boot__load(struct guest_mem *mem, const void *kernel, size_t kernel_len,
	       const void *initrd, size_t initrd_len, const char *cmdline,
	       struct boot_info *info, char *err, size_t errlen)
{
	const uint8_t *img = kernel;
	struct boot_params *bp;
	size_t cmdlen = strlen(cmdline);
	uint32_t cmdmax;
	int ret;

	memset(info, 0, sizeof(*info));
	if (guest_mem__low_end(mem) < 2 * LAYOUT_KERNEL)
		return err__set(err, errlen, -EINVAL,
				"guest RAM too small to boot");
	bp = guest_mem__ptr(mem, LAYOUT_ZERO_PAGE, sizeof(*bp));
	if (!bp)
		return err__set(err, errlen, -EINVAL,
				"no RAM for the zero page");
	memset(bp, 0, sizeof(*bp));

	if (kernel_len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG))
		ret = load_elf(mem, img, kernel_len, bp, info, err, errlen);
	else
		ret = load_bzimage(mem, img, kernel_len, bp, info, err,
				   errlen);
	if (ret)
		return ret;

	cmdmax = LAYOUT_CMDLINE_MAX - 1;
	if (bp->hdr.cmdline_size && bp->hdr.cmdline_size < cmdmax)
		cmdmax = bp->hdr.cmdline_size;
	if (cmdlen > cmdmax)
		return err__set(err, errlen, -EINVAL,
				"command line is %zu bytes, the kernel takes at most %u",
				cmdlen, cmdmax);
	guest_mem__write(mem, LAYOUT_CMDLINE, cmdline, cmdlen + 1);

	if (initrd) {
		ret = load_initrd(mem, initrd, initrd_len, bp, info, err,
				  errlen);
		if (ret)
			return ret;
	}

	bp->hdr.type_of_loader = LOADER_UNDEFINED;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.cmd_line_ptr = LAYOUT_CMDLINE;
	bp->ext_cmd_line_ptr = 0;
	bp->acpi_rsdp_addr = LAYOUT_ACPI;
	setup_e820(bp, mem);
	setup_gdt_and_page_tables(mem);
	info->zero_page = LAYOUT_ZERO_PAGE;
	return 0;
}

static int map_file(const char *path, const char *what, void **p,
		    size_t *len, char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "%s %s: %s", what, path,
				strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !st.st_size) {
		close(fd);
		return err__set(err, errlen, -EINVAL,
				"%s %s: not a non-empty regular file", what,
				path);
	}
	*len = st.st_size;
	*p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	ret = -errno;
	close(fd);
	if (*p == MAP_FAILED)
		return err__set(err, errlen, ret, "%s %s: mmap: %s", what, path,
				strerror(-ret));
	return 0;
}

int boot__load_files(struct guest_mem *mem, const char *kernel_path,
		     const char *initrd_path, const char *cmdline,
		     struct boot_info *info, char *err, size_t errlen)
{
	void *kernel = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	int ret;

	ret = map_file(kernel_path, "kernel", &kernel, &klen, err, errlen);
	if (ret)
		return ret;
	if (initrd_path) {
		ret = map_file(initrd_path, "initrd", &initrd, &ilen, err,
			       errlen);
		if (ret)
			goto out;
	}
	ret = boot__load(mem, kernel, klen, initrd, ilen, cmdline, info, err,
			 errlen);
	if (initrd)
		munmap(initrd, ilen);
out:
	munmap(kernel, klen);
	return ret;
}
