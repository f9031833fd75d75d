/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's own ip= boot option, static form only:
 *	ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>
 * Debian's kernel has no CONFIG_IP_PNP and its virtio_net is a module,
 * so nobody else applies it: thaw-init does (system.c), once virtio_net
 * is loaded.  Pure parsing here, unit-tested in tests/ipconfig_test.c.
 */
#ifndef THAW_GUEST_IPCONFIG_H
#define THAW_GUEST_IPCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <net/if.h>
#include <netinet/in.h>

struct ipconfig {
	char dev[IFNAMSIZ];		/* default eth0 */
	struct in_addr addr;
	struct in_addr mask;		/* default: the address's class */
	struct in_addr gw;		/* 0.0.0.0: no default route */
};

/*
 * The last ip= of @cmdline (as the kernel takes the last): 1 and @c
 * filled, 0 when there is none (or ip=off/none), -EINVAL and why in
 * @err when it is malformed or asks for DHCP, which thaw-init lacks.
 */
int ipconfig__parse_cmdline(const char *cmdline, struct ipconfig *c,
			    char *err, size_t errlen);

#endif
