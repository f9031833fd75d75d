/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The snapshot container: a versioned, checksummed file of sections.  The
 * state file (vCPUs, VM, devices) and the working-set file (lib/wset.h) are
 * both containers; Documentation/snapshot-format.rst gives the layout byte
 * by byte.
 *
 * How to use -- writing (PUT /snapshot/create):
 *
 *	struct snapfile_writer *w = snapfile__writer_new(SNAPFILE_TYPE_STATE);
 *	snapfile__add(w, SNAP_SEC_VCPU(0), &vcpu0, sizeof(vcpu0));
 *	snapfile__add(w, SNAP_SEC_DEV_VSOCK(0), buf, len);  (copied)
 *	ret = snapfile__commit(w, "/snap/state", err, sizeof(err));
 *	snapfile__writer_free(w);
 *
 * snapfile__commit() writes an unnamed file beside @path, fsyncs it and
 * renames it over @path: readers see the old file or the whole new one,
 * and a failure or a kill half way leaves nothing behind.
 *
 * How to use -- reading (PUT /snapshot/load), before touching the VM:
 *
 *	struct snapfile *f;
 *	ret = snapfile__open("/snap/state", SNAPFILE_TYPE_STATE, &f, err, len);
 *	if (ret) refuse the load with @err;
 *	ret = snapfile__get(f, SNAP_SEC_VCPU(0), &buf, &len);  (-ENOENT: absent)
 *	...validate and apply each payload...
 *	snapfile__close(f);
 *
 * snapfile__open() reads and validates the whole file before it returns:
 * magic, type, major version, header and section checksums, bounds,
 * duplicate ids, padding, truncation and trailing bytes.  A section id
 * that this build does not know is skipped, unless the writer flagged it
 * SNAPFILE_SEC_MANDATORY, which makes the file unreadable here.  Payloads
 * stay valid until snapfile__close() and are 8-byte aligned; their content
 * is the caller's to validate (this layer only vouches that they are the
 * bytes that were written).
 *
 * Errors are -errno with a message in @err (@errlen bytes, may be 0):
 *	-EBADMSG	corrupt: checksum, bounds, truncation, garbage
 *	-EPROTONOSUPPORT  another major format version, another file type,
 *			unknown header flags or an unknown mandatory section
 *	-EFBIG		larger than SNAPFILE_MAX_SIZE
 *	-ENOMEM, or open/read/write errors (-ENOENT, -EACCES, -ENOSPC, ...)
 */
#ifndef THAW_LIB_SNAPFILE_H
#define THAW_LIB_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define SNAPFILE_MAGIC		"THAWSNAP"	/* 8 bytes, no NUL */
#define SNAPFILE_MAJOR		1	/* a reader refuses any other major */
#define SNAPFILE_MINOR		0	/* newer minors only add sections */

#define SNAPFILE_HEADER_SIZE	64
#define SNAPFILE_SECTION_SIZE	32	/* section header; payload follows */
#define SNAPFILE_MAX_SECTIONS	4096
#define SNAPFILE_MAX_SIZE	(256ull << 20)

/* What a container holds: the reader is told which type it expects. */
enum snapfile_type {
	SNAPFILE_TYPE_STATE = 1,	/* the VM's state file */
	SNAPFILE_TYPE_WSET = 2,		/* a working-set file (wset.h) */
};

/* Section flags. */
#define SNAPFILE_SEC_MANDATORY	(1u << 0)	/* unknown id: refuse */

/*
 * Section ids of the state file.  Ids are never renumbered nor reused; a
 * new kind of state gets a new id here and in snapfile.c's table.  The
 * payloads are plain little-endian data produced by each part's persist
 * code; only SNAP_SEC_MANIFEST's layout is defined here.
 */
enum snap_section_id {
	SNAP_SEC_MANIFEST	= 0x0001,	/* struct snap_manifest */
	SNAP_SEC_VM_CONFIG	= 0x0002,	/* machine config (vCPUs, RAM) */
	SNAP_SEC_MEMORY		= 0x0003,	/* guest RAM layout: regions,
						 * their guest addresses and
						 * memory-file offsets
						 */

	SNAP_SEC_KVM_VM		= 0x0010,	/* VM-wide KVM state (TSS,
						 * identity map, caps used)
						 */
	SNAP_SEC_IRQCHIP	= 0x0011,	/* PIC master/slave, IOAPIC */
	SNAP_SEC_PIT		= 0x0012,	/* KVM_GET_PIT2 */
	SNAP_SEC_CLOCK		= 0x0013,	/* KVM_GET_CLOCK (kvmclock) */

	/* vCPU n: regs, sregs, fpu, xsave, xcrs, MSRs, LAPIC, events,
	 * mp_state, debugregs, as the vCPU persist code lays them out.
	 */
	SNAP_SEC_VCPU_BASE	= 0x0100,	/* ..0x01ff */

	/* Devices: kind in bits 4..11, instance in bits 0..3. */
	SNAP_SEC_DEV_BASE	= 0x1000,
	SNAP_SEC_MMIO_BUS	= 0x1000,	/* virtio-mmio slots, IRQs */
	SNAP_SEC_DEV_SERIAL_BASE = 0x1010,
	SNAP_SEC_DEV_VSOCK_BASE	= 0x1020,
	SNAP_SEC_DEV_RNG_BASE	= 0x1030,
	SNAP_SEC_DEV_BLOCK_BASE	= 0x1040,
	SNAP_SEC_DEV_NET_BASE	= 0x1050,
	SNAP_SEC_DEV_BALLOON	= 0x1060,
	SNAP_SEC_DEV_VMGENID	= 0x1070,
	SNAP_SEC_DEV_I8042	= 0x1080,
	SNAP_SEC_DEV_RTC	= 0x1090,	/* CMOS / RTC */
	SNAP_SEC_ACPI		= 0x10a0,	/* ACPI PM / GED state */
	SNAP_SEC_DEV_MMDS	= 0x10c0,	/* MMDS's configuration */

	SNAP_SEC_GUEST		= 0x2000,	/* guest-init handshake state */

	/* 0x8000..0xffff: experiments; never mandatory, never merged. */
	SNAP_SEC_EXPERIMENT_BASE = 0x8000,
};

#define SNAP_MAX_VCPU_SECTIONS	0x100
#define SNAP_SEC_VCPU(n)	(SNAP_SEC_VCPU_BASE + (n))
#define SNAP_SEC_DEV_SERIAL(i)	(SNAP_SEC_DEV_SERIAL_BASE + (i))
#define SNAP_SEC_DEV_VSOCK(i)	(SNAP_SEC_DEV_VSOCK_BASE + (i))
#define SNAP_SEC_DEV_RNG(i)	(SNAP_SEC_DEV_RNG_BASE + (i))
#define SNAP_SEC_DEV_BLOCK(i)	(SNAP_SEC_DEV_BLOCK_BASE + (i))
#define SNAP_SEC_DEV_NET(i)	(SNAP_SEC_DEV_NET_BASE + (i))
#define SNAP_MAX_DEV_INSTANCES	16

/* Section ids of a working-set file (lib/wset.c lays them out). */
enum wset_section_id {
	WSET_SEC_HEADER		= 0x0001,
	WSET_SEC_PAGES		= 0x0002,
	WSET_SEC_WRITTEN	= 0x0003,	/* optional: written bits */
};

/* The files of a snapshot directory (thawctl's convention). */
#define SNAP_DIR_STATE		"state"
#define SNAP_DIR_MEMORY		"memory"
#define SNAP_DIR_WSET		"wset"

/*
 * SNAP_SEC_MANIFEST: what a restore checks before anything else.  Encoded
 * little-endian in SNAP_MANIFEST_SIZE bytes (see the documentation).
 */
#define SNAP_MANIFEST_SIZE	64
#define SNAP_MANIFEST_DIFF	(1u << 0)	/* the memory file is a diff:
						 * apply it over its base
						 */
struct snap_manifest {
	uint64_t mem_size;		/* guest RAM = memory file size */
	uint32_t page_size;		/* 4096, or 2 MiB with huge pages */
	uint32_t vcpu_count;
	uint32_t flags;			/* SNAP_MANIFEST_* */
	uint64_t created_ns;		/* CLOCK_REALTIME at creation */
	char vmm_version[24];		/* NUL-terminated */
};

void snap_manifest__encode(const struct snap_manifest *m,
			   uint8_t out[SNAP_MANIFEST_SIZE]);
/* Checks sizes, flags and reserved bytes; -EBADMSG with a message. */
int snap_manifest__decode(const void *buf, size_t len,
			  struct snap_manifest *m, char *err, size_t errlen);

/* Writer. */
struct snapfile_writer;

struct snapfile_writer *snapfile__writer_new(enum snapfile_type type);
/* Copies @len bytes of @buf as a mandatory section; -EEXIST: duplicate id,
 * -EINVAL: @type has no such id, -E2BIG: the file would exceed
 * SNAPFILE_MAX_SIZE or SNAPFILE_MAX_SECTIONS.
 */
int snapfile__add(struct snapfile_writer *w, uint32_t id,
		  const void *buf, size_t len);
/* The same with explicit SNAPFILE_SEC_* flags (0: an older reader that
 * does not know @id may skip it).  Any id is accepted here.
 */
int snapfile__add_flags(struct snapfile_writer *w, uint32_t id,
			uint32_t flags, const void *buf, size_t len);
/* The whole file as bytes (malloc'd, *len set): for tests and tools. */
int snapfile__serialize(struct snapfile_writer *w, uint8_t **out,
			size_t *len);
/* Atomic write: an unnamed file in @path's directory (O_TMPFILE, else a
 * named temporary), fsync, rename, fsync of the directory.  On error
 * nothing is left and @path is untouched.
 */
int snapfile__commit(struct snapfile_writer *w, const char *path,
		     char *err, size_t errlen);
void snapfile__writer_free(struct snapfile_writer *w);

/* Reader. */
struct snapfile;

int snapfile__open(const char *path, enum snapfile_type type,
		   struct snapfile **out, char *err, size_t errlen);
/* Validate bytes already in memory; they are copied. */
int snapfile__parse(const void *buf, size_t len, enum snapfile_type type,
		    struct snapfile **out, char *err, size_t errlen);
/* 0 and the payload, or -ENOENT. */
int snapfile__get(const struct snapfile *f, uint32_t id,
		  const void **buf, size_t *len);
void snapfile__version(const struct snapfile *f, uint16_t *major,
		       uint16_t *minor);
void snapfile__close(struct snapfile *f);

/* The registry: a section's name, or NULL if this build does not know it. */
const char *snapfile__id_name(enum snapfile_type type, uint32_t id);

#endif
