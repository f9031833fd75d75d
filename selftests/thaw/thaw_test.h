/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the thaw selftests, in the manner of the KVM selftests'
 * __vm_ioctl()/vm_ioctl(): the __ variant returns -errno, the other asserts.
 */
#ifndef THAW_SELFTEST_H
#define THAW_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/thaw.h>

#define THAW_DEV	"/dev/" THAW_DEVICE_NAME

/* Raw ioctl: 0 or -errno. */
static inline int __thaw_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* Open /dev/thaw and complete the handshake; -errno on failure. */
static inline int thaw_open_api(__u64 *features)
{
	struct thaw_api api = { .api = THAW_API_VERSION };
	int fd, ret;

	fd = open(THAW_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = __thaw_ioctl(fd, THAW_IOC_API, &api);
	if (ret) {
		close(fd);
		return ret;
	}
	if (features)
		*features = api.features;
	return fd;
}

#endif
