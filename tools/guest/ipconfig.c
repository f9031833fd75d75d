// SPDX-License-Identifier: GPL-2.0
/* The ip= boot option: see ipconfig.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tools/guest/ipconfig.h"

#define IP_FIELDS	7

/* An IPv4 address, or an empty field (0.0.0.0). */
static int addr(const char *s, struct in_addr *a)
{
	a->s_addr = 0;
	return !*s || inet_pton(AF_INET, s, a) == 1 ? 0 : -EINVAL;
}

/* The kernel's fallback for an empty netmask: the old class's. */
static struct in_addr class_mask(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);
	struct in_addr m;

	m.s_addr = htonl(h < 0x80000000u ? 0xff000000u :
			 h < 0xc0000000u ? 0xffff0000u : 0xffffff00u);
	return m;
}

static bool mask_ok(struct in_addr m)
{
	uint32_t h = ntohl(m.s_addr);

	return h && !(~h & (~h + 1));	/* ones, then zeros */
}

int ipconfig__parse_cmdline(const char *cmdline, struct ipconfig *c,
			    char *err, size_t errlen)
{
	char buf[256], *f[IP_FIELDS], *p;
	const char *s, *last = NULL;
	size_t len = 0, i;

	for (s = cmdline; (s = strstr(s, "ip=")); s += 3)
		if (s == cmdline || s[-1] == ' ' || s[-1] == '\t' ||
		    s[-1] == '\n') {
			last = s + 3;
			len = strcspn(last, " \t\n");
		}
	if (!last)
		return 0;
	if (len >= sizeof(buf)) {
		snprintf(err, errlen, "ip=: too long");
		return -EINVAL;
	}
	memcpy(buf, last, len);
	buf[len] = '\0';
	if (!strcmp(buf, "off") || !strcmp(buf, "none"))
		return 0;
	if (!strchr(buf, ':')) {
		snprintf(err, errlen,
			 "ip=%s: only the static form (ip=ADDR::GW:MASK::DEV:off)",
			 buf);
		return -EINVAL;
	}
	memset(f, 0, sizeof(f));
	for (i = 0, p = buf; i < IP_FIELDS && p; i++) {
		f[i] = p;
		p = strchr(p, ':');
		if (p)
			*p++ = '\0';
	}
	memset(c, 0, sizeof(*c));
	if (addr(f[0], &c->addr) || !c->addr.s_addr ||
	    (f[2] && addr(f[2], &c->gw)) || (f[3] && addr(f[3], &c->mask))) {
		snprintf(err, errlen, "ip=%s: not IPv4 addresses", last);
		return -EINVAL;
	}
	if (!c->mask.s_addr)
		c->mask = class_mask(c->addr);
	if (!mask_ok(c->mask)) {
		snprintf(err, errlen, "ip=: bad netmask %s", f[3]);
		return -EINVAL;
	}
	if (f[6] && *f[6] && strcmp(f[6], "off") && strcmp(f[6], "none") &&
	    strcmp(f[6], "static")) {
		snprintf(err, errlen, "ip=: autoconf `%s`: only off", f[6]);
		return -EINVAL;
	}
	if (f[5] && strlen(f[5]) >= sizeof(c->dev)) {
		snprintf(err, errlen, "ip=: device `%s` too long", f[5]);
		return -EINVAL;
	}
	snprintf(c->dev, sizeof(c->dev), "%s", f[5] && *f[5] ? f[5] : "eth0");
	return 1;
}
