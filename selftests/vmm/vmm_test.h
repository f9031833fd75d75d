/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the vmm selftests. */
#ifndef THAW_VMM_SELFTEST_H
#define THAW_VMM_SELFTEST_H

#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/*
 * A "kernel" for machines whose guest is not Linux: an ELF with @code at
 * 16 MiB, entered in 64-bit mode with interrupts off (so HLT halts for
 * good).  0 or -1.
 */
static inline int write_test_kernel(const char *path, const void *code,
				    size_t len)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
		uint8_t code[64];
	} k = {
		.eh = {
			.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
				     ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
			.e_type = ET_EXEC,
			.e_machine = EM_X86_64,
			.e_version = EV_CURRENT,
			.e_entry = 0x1000000,
			.e_phoff = sizeof(Elf64_Ehdr),
			.e_ehsize = sizeof(Elf64_Ehdr),
			.e_phentsize = sizeof(Elf64_Phdr),
			.e_phnum = 1,
		},
		.ph = {
			.p_type = PT_LOAD,
			.p_offset = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr),
			.p_paddr = 0x1000000,
			.p_filesz = 64,
			.p_memsz = 4096,
		},
	};
	int fd;

	if (len > sizeof(k.code))
		return -1;
	memcpy(k.code, code, len);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, &k, sizeof(k)) != sizeof(k)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* hlt; jmp back */
static const uint8_t code_hlt[] = { 0xf4, 0xeb, 0xfd };

#endif
