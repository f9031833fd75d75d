/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linux x86 64-bit boot protocol (Documentation/arch/x86/boot.rst in the
 * kernel): load a bzImage or an ELF vmlinux and the initramfs into guest
 * RAM, write the zero page (boot_params: setup header, e820 map, command
 * line, initrd, RSDP address), a flat GDT and identity page tables for the
 * first 4 GiB, and say where the BSP starts.
 */
#ifndef THAW_VMM_X86_BOOT_H
#define THAW_VMM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct vm_config;

/*
 * The command line when the config gives none: a serial console, no PCI
 * probe, reset on panic, the i8042 without the probes a microVM lacks.
 */
#define BOOT_DEFAULT_CMDLINE \
	"console=ttyS0 reboot=k panic=1 pci=off quiet no_timer_check " \
	"tsc=reliable i8042.noaux i8042.nomux i8042.dumbkbd"

enum boot_kernel_kind {
	BOOT_BZIMAGE,
	BOOT_ELF,
};

struct boot_info {
	enum boot_kernel_kind kind;
	uint64_t entry;			/* 64-bit entry point (RIP) */
	uint64_t zero_page;		/* RSI */
	uint64_t kernel_end;		/* first byte above the kernel */
	uint64_t initrd_gpa;
	uint64_t initrd_size;
};

/*
 * Everything from images in host memory.  @initrd may be NULL.  On error
 * returns -errno and writes why into @err.
 */
int boot__load(struct guest_mem *mem, const void *kernel, size_t kernel_len,
	       const void *initrd, size_t initrd_len, const char *cmdline,
	       struct boot_info *info, char *err, size_t errlen);

/* The same from the files the config names (boot_source). */
int boot__load_files(struct guest_mem *mem, const char *kernel_path,
		     const char *initrd_path, const char *cmdline,
		     struct boot_info *info, char *err, size_t errlen);

#endif
