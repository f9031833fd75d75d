/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM's configuration as plain data: what the API (PUT /boot-source,
 * /machine-config, /vsock, /logger, /metrics) and --config-file fill in, and
 * what the machine is built from.  Field names follow Firecracker's API.
 * Strings are owned (malloc'd) and freed by vm_config__free().
 */
#ifndef THAW_VMM_CONFIG_H
#define THAW_VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define VM_MAX_VCPUS		32
#define VM_MAX_MEM_MIB		(1024 * 1024)

enum vm_huge_pages {
	VM_HUGE_PAGES_NONE,
	VM_HUGE_PAGES_2M,
	VM_HUGE_PAGES_TRANSPARENT,
};

struct vm_boot_source {
	char *kernel_image_path;	/* bzImage or ELF vmlinux */
	char *initrd_path;		/* NULL: none */
	char *boot_args;		/* NULL: the default command line */
	/*
	 * Also describe the virtio-mmio devices with virtio_mmio.device= on
	 * the command line, for kernels built with
	 * CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES (not Debian's: ACPI covers it).
	 */
	bool virtio_mmio_cmdline;
};

struct vm_machine_config {
	uint32_t vcpu_count;		/* 1..VM_MAX_VCPUS */
	uint64_t mem_size_mib;
	bool smt;
	bool track_dirty_pages;
	enum vm_huge_pages huge_pages;
};

struct vm_vsock_config {
	bool present;
	uint32_t guest_cid;		/* >= 3 */
	char *uds_path;			/* host side: Firecracker's protocol */
};

struct vm_logger_config {
	bool present;
	char *log_path;
	char *level;			/* Error, Warning, Info, Debug, Trace */
	bool show_level;
	bool show_log_origin;
};

struct vm_metrics_config {
	bool present;
	char *metrics_path;
};

struct vm_config {
	bool has_boot_source;
	struct vm_boot_source boot_source;
	struct vm_machine_config machine;
	struct vm_vsock_config vsock;
	struct vm_logger_config logger;
	struct vm_metrics_config metrics;
	char *serial_out_path;		/* NULL: the console goes to stdout */
	/*
	 * Do not load the seccomp filters of the vCPU and device threads
	 * (vmm/seccomp.h), as Firecracker's --no-seccomp.
	 */
	bool no_seccomp;
};

/* Firecracker's defaults: 1 vCPU, 128 MiB, no SMT, no dirty tracking. */
void vm_config__init(struct vm_config *cfg);
void vm_config__free(struct vm_config *cfg);

#endif
