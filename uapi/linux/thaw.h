/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * thaw: snapshot memory objects and fast paths for restoring microVMs.
 *
 * This header is the whole ABI of thaw.ko.  Rules that every structure here
 * follows:
 *  - only fixed-width types; user pointers travel as __u64;
 *  - explicit padding; every "reserved" or padding field must be zero on
 *    input, otherwise the ioctl fails with -EINVAL;
 *  - every ioctl structure has a flags field; unknown flags give -EINVAL;
 *  - output fields come last;
 *  - numbers are never reused and structures only grow at the end.  The size
 *    encoded in the ioctl number is the caller's idea of the structure size:
 *    a smaller size than the first published one gives -EINVAL, a larger one
 *    is accepted if the bytes the module does not know are zero (else -E2BIG),
 *    as for openat2(2).
 *
 * Documentation/userspace-api/thaw.rst describes every ioctl.
 */
#ifndef _UAPI_LINUX_THAW_H
#define _UAPI_LINUX_THAW_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define THAW_DEVICE_NAME	"thaw"		/* /dev/thaw */
#define THAW_API_VERSION	1
#define THAW_IOCTL_MAGIC	0xB8

/*
 * Feature bits reported by THAW_IOC_API.  A caller may require features by
 * setting them on input; the handshake fails if any is not supported.
 * Bits are added as capabilities land; none is ever removed.
 */
#define THAW_FEATURE_EXTENSIBLE_IOCTLS	(1ULL << 0)	/* larger structs ok */

/**
 * struct thaw_api - API handshake, the first ioctl on a /dev/thaw fd
 * @api:      in: THAW_API_VERSION
 * @flags:    in: must be zero
 * @features: in: features the caller requires; out: every feature the
 *            module supports (THAW_FEATURE_*)
 * @reserved: in: must be zero
 */
struct thaw_api {
	__u32 api;
	__u32 flags;
	__u64 features;
	__u64 reserved[6];
};

#define THAW_API_SIZE_VER0	64	/* sizeof(struct thaw_api) in v1 */

/*
 * ioctl numbers, grouped by area:
 *   0x00-0x0f  module-wide (/dev/thaw)
 *   0x10-0x2f  snapshot objects
 *   0x30-0x4f  clone mappings
 *   0x50-0x5f  statistics
 */
#define THAW_IOC_API		_IOWR(THAW_IOCTL_MAGIC, 0x00, struct thaw_api)

#endif /* _UAPI_LINUX_THAW_H */
