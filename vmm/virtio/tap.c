// SPDX-License-Identifier: GPL-2.0
/* Host tap devices: see tap.h. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "lib/err.h"
#include "vmm/virtio/tap.h"

#define TUN_PATH	"/dev/net/tun"

bool tap__name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return !strpbrk(name, "/ \t\n:");
}

int tap__open(const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, ret, hdr = TAP_VNET_HDR_LEN;

	if (!tap__name_ok(name))
		return err__set(err, errlen, -EINVAL,
				"host_dev_name `%s` is not an interface name",
				name ? name : "");
	fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err__set(err, errlen, -errno, "tap %s: %s: %s", name,
				TUN_PATH, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		if (ret == -EPERM)
			err__set(err, errlen, ret,
				 "tap %s does not exist, or is not ours to attach to (`ip tuntap add %s mode tap user <uid>`)",
				 name, name);
		else
			err__set(err, errlen, ret, "tap %s: attaching: %s",
				 name, strerror(-ret));
		goto err;
	}
	/*
	 * Ours can only be a tap someone made persistent: one TUNSETIFF
	 * just created (we may have CAP_NET_ADMIN) is not, and goes away
	 * with the fd.
	 */
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		ret = err__set(err, errlen, -errno, "tap %s: TUNGETIFF: %s",
			       name, strerror(errno));
		goto err;
	}
	if (!(ifr.ifr_flags & IFF_PERSIST)) {
		ret = err__set(err, errlen, -ENODEV,
			       "tap %s does not exist (create it with `ip tuntap add %s mode tap`)",
			       name, name);
		goto err;
	}
	if (!(ifr.ifr_flags & IFF_VNET_HDR)) {
		ret = err__set(err, errlen, -EOPNOTSUPP,
			       "tap %s: no virtio-net header support", name);
		goto err;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		ret = err__set(err, errlen, -errno,
			       "tap %s: TUNSETVNETHDRSZ %d: %s", name, hdr,
			       strerror(errno));
		goto err;
	}
	/* Nothing offloaded until the guest's driver says what it takes. */
	if (tap__set_offloads(fd, 0) < 0) {
		ret = err__set(err, errlen, -errno,
			       "tap %s: TUNSETOFFLOAD: %s", name,
			       strerror(errno));
		goto err;
	}
	return fd;
err:
	close(fd);
	return ret;
}

int tap__check(const char *name, char *err, size_t errlen)
{
	int fd = tap__open(name, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int tap__set_offloads(int fd, unsigned int flags)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

unsigned int tap__probe_offloads(int fd, unsigned int want)
{
	const unsigned int tries[] = {
		want, want & ~TUN_F_UFO, want & TUN_F_CSUM, 0,
	};
	unsigned int i;

	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (!tap__set_offloads(fd, tries[i])) {
			tap__set_offloads(fd, 0);
			return tries[i];
		}
	return 0;
}
