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
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"

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

/*
 * A virtio-blk drive (PUT /drives/{drive_id}, the `drives` section):
 * vmm/virtio/blk.c.  At most VM_MAX_DRIVES; the root device is the first
 * drive the guest sees (/dev/vda) and adds root= to the command line.
 */
#define VM_MAX_DRIVES		4
#define VM_DRIVE_ID_MAX		64	/* characters, [A-Za-z0-9_] */

enum vm_cache_type {
	VM_CACHE_UNSAFE,		/* no flush offered (Firecracker's default) */
	VM_CACHE_WRITEBACK,		/* flush offered, fdatasync() */
};

struct vm_drive_config {
	char *drive_id;
	char *path_on_host;
	char *partuuid;			/* NULL: root=/dev/vda */
	bool is_root_device;
	bool is_read_only;
	bool io_async;			/* io_engine Async (else Sync) */
	bool direct_io;			/* our extension: O_DIRECT */
	enum vm_cache_type cache_type;
};

/* virtio-rng (PUT /entropy, the `entropy` section): vmm/virtio/rng.c. */
struct vm_entropy_config {
	bool present;
};

/*
 * PUT /network-interfaces/{iface_id}: a virtio-net device on a host tap
 * that exists already.  Fixed-size, so a vm_config copies as it is.
 */
#define VM_MAX_NET_IFACES	4
#define VM_NET_ID_MAX		64	/* iface_id, NUL included */
#define VM_NET_DEV_MAX		16	/* IFNAMSIZ */

struct vm_net_config {
	char iface_id[VM_NET_ID_MAX];
	char host_dev_name[VM_NET_DEV_MAX];
	bool has_mac;			/* else the guest picks one */
	uint8_t guest_mac[6];
};

/*
 * PUT /mmds/config, the `mmds-config` section: MMDS (vmm/mmds/mmds.h) on
 * the interfaces it names.  Fixed-size, like the interfaces.
 */
struct vm_mmds_config {
	bool present;
	unsigned int version;		/* 1 or 2 */
	uint32_t ipv4;			/* network order */
	bool imds_compat;
	unsigned int nr_ifaces;
	char ifaces[VM_MAX_NET_IFACES][VM_NET_ID_MAX];
};

struct vm_metrics_config {
	bool present;
	char *metrics_path;
};

/*
 * Firecracker's TokenBucket (the serial section's rate_limiter, in bytes):
 * @size tokens refilled every @refill_time ms, @one_time_burst spent
 * first; a @size or @refill_time of 0 is no limit (lib/token-bucket.h).
 */
struct vm_token_bucket {
	bool present;
	uint64_t size;
	uint64_t one_time_burst;
	uint64_t refill_time;		/* ms */
};

struct vm_config {
	bool has_boot_source;
	struct vm_boot_source boot_source;
	struct vm_machine_config machine;
	struct vm_vsock_config vsock;
	unsigned int nr_net;
	struct vm_net_config net[VM_MAX_NET_IFACES];
	struct vm_mmds_config mmds;
	struct log_config logger;	/* lib/log.h */
	struct vm_metrics_config metrics;
	char *serial_out_path;		/* NULL: the console goes to stdout */
	struct vm_token_bucket serial_rate_limiter;
	unsigned int nr_drives;
	struct vm_drive_config drives[VM_MAX_DRIVES];
	struct vm_entropy_config entropy;
	/*
	 * Do not load the seccomp filters of the vCPU and device threads
	 * (vmm/seccomp.h), as Firecracker's --no-seccomp.
	 */
	bool no_seccomp;
};

/* Firecracker's defaults: 1 vCPU, 128 MiB, no SMT, no dirty tracking. */
void vm_config__init(struct vm_config *cfg);
void vm_config__free(struct vm_config *cfg);
/* A deep copy; 0 or -ENOMEM (then @dst holds nothing). */
int vm_config__copy(struct vm_config *dst, const struct vm_config *src);

/*
 * JSON (vmm/config.c, json-c).  Every parser validates the whole section
 * before changing @cfg: on error @cfg is untouched, the return value is
 * -EINVAL and @err holds a message fit for the API's fault_message.
 */
struct json_object;

/* Strict parse of a whole document; NULL with a message on error. */
struct json_object *vm_config__parse_json(const char *text, size_t len,
					  char *err, size_t errlen);
int vm_config__parse_boot_source(struct vm_config *cfg,
				 struct json_object *obj,
				 char *err, size_t errlen);
/* @partial: PATCH semantics (only present fields change). */
int vm_config__parse_machine(struct vm_config *cfg, struct json_object *obj,
			     bool partial, char *err, size_t errlen);
int vm_config__parse_vsock(struct vm_config *cfg, struct json_object *obj,
			   char *err, size_t errlen);
/*
 * PUT /network-interfaces/@id (@id: the path's), and each entry of the
 * config file's `network-interfaces`: a new interface or, for an @id
 * there already, its replacement.  Not a tap check (vmm/virtio/tap.h).
 */
int vm_config__parse_net(struct vm_config *cfg, const char *id,
			 struct json_object *obj, char *err, size_t errlen);
/* "02:fc:00:00:00:05" to 6 bytes; 0 or -EINVAL. */
int vm_config__parse_mac(const char *s, uint8_t *mac);
int vm_config__parse_logger(struct vm_config *cfg, struct json_object *obj,
			    char *err, size_t errlen);
int vm_config__parse_metrics(struct vm_config *cfg, struct json_object *obj,
			     char *err, size_t errlen);
int vm_config__parse_serial(struct vm_config *cfg, struct json_object *obj,
			    char *err, size_t errlen);
/*
 * PUT /drives/{@id} (@id NULL: the config file's `drives` entries): add
 * or replace a drive.  Checks that path_on_host opens as asked.
 */
int vm_config__parse_drive(struct vm_config *cfg, struct json_object *obj,
			   const char *id, char *err, size_t errlen);
/* PATCH /drives/{@id}: the new path_on_host into *@path (owned). */
int vm_config__parse_drive_patch(struct json_object *obj, const char *id,
				 char **path, char *err, size_t errlen);
/* Drive @id's configuration, or NULL. */
struct vm_drive_config *vm_config__drive(struct vm_config *cfg,
					 const char *id);
/* Deep-copy @src's drives into @dst (whose pointers are @src's). */
int vm_config__copy_drives(struct vm_config *dst,
			   const struct vm_config *src);
/*
 * PUT /mmds/config: version, the interfaces (configured already) that
 * serve MMDS, its address, imds_compat.
 */
int vm_config__parse_mmds(struct vm_config *cfg, struct json_object *obj,
			  char *err, size_t errlen);
int vm_config__parse_entropy(struct vm_config *cfg, struct json_object *obj,
			     char *err, size_t errlen);
/* Firecracker's --config-file document. */
int vm_config__parse_file(struct vm_config *cfg, const char *text,
			  size_t len, char *err, size_t errlen);

/*
 * PUT /snapshot/create, /snapshot/load and /snapshot/rewind bodies
 * (vmm/snapshot/snapshot.h).  A rewind's body has nothing to free; on an
 * error *@p is untouched.
 */
struct snapshot_create_params;
struct snapshot_load_params;
struct snapshot_rewind_params;
int vm_config__parse_snapshot_create(struct snapshot_create_params *p,
				     struct json_object *obj,
				     char *err, size_t errlen);
int vm_config__parse_snapshot_load(struct snapshot_load_params *p,
				   struct json_object *obj,
				   char *err, size_t errlen);
int vm_config__parse_snapshot_rewind(struct snapshot_rewind_params *p,
				     struct json_object *obj,
				     char *err, size_t errlen);
void snapshot_create_params__free(struct snapshot_create_params *p);
void snapshot_load_params__free(struct snapshot_load_params *p);

/* GET /machine-config and GET /vm/config bodies (new references). */
struct json_object *vm_config__machine_to_json(const struct vm_config *cfg);
struct json_object *vm_config__to_json(const struct vm_config *cfg);

#endif
