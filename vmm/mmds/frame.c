// SPDX-License-Identifier: GPL-2.0
/* The frames MMDS takes from a guest: see frame.h. */
#include <string.h>

#include "vmm/mmds/frame.h"

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_ARP		0x0806
#define IPV4_DST		(ETH_HDR + 16)
#define IPV4_SRC		(ETH_HDR + 12)
#define ARP_TARGET_IP		(ETH_HDR + 24)

static uint16_t be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

bool mmds__frame_for(const uint8_t *f, size_t len, uint32_t ip)
{
	if (len < ETH_HDR)
		return false;
	switch (be16(f + 12)) {
	case ETHERTYPE_IPV4:
		return len >= IPV4_DST + 4 && (f[ETH_HDR] >> 4) == 4 &&
		       !memcmp(f + IPV4_DST, &ip, 4);
	case ETHERTYPE_ARP:
		/* Ethernet, IPv4: 6-byte and 4-byte addresses. */
		return len >= MMDS_ARP_FRAME && be16(f + ETH_HDR) == 1 &&
		       be16(f + ETH_HDR + 2) == ETHERTYPE_IPV4 &&
		       f[ETH_HDR + 4] == 6 && f[ETH_HDR + 5] == 4 &&
		       !memcmp(f + ARP_TARGET_IP, &ip, 4);
	default:
		return false;
	}
}

bool mmds__csum_complete(uint8_t *f, size_t len, uint16_t start,
			 uint16_t off)
{
	uint32_t sum = 0;
	size_t i;

	if (start >= len || (size_t)off + 2 > len - start)
		return false;
	for (i = start; i + 1 < len; i += 2)
		sum += be16(f + i);
	if (i < len)
		sum += f[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	f[start + off] = sum >> 8;
	f[start + off + 1] = sum;
	return true;
}

bool mmds__frame_sender(const uint8_t *f, size_t len, uint8_t *mac,
			uint32_t *ip)
{
	if (len < IPV4_DST + 4 || be16(f + 12) != ETHERTYPE_IPV4)
		return false;
	memcpy(mac, f + 6, 6);
	memcpy(ip, f + IPV4_SRC, 4);
	return true;
}

bool mmds__frame_is_syn(const uint8_t *f, size_t len)
{
	size_t ihl;

	if (len < ETH_HDR + 20 || be16(f + 12) != ETHERTYPE_IPV4 ||
	    (f[ETH_HDR] >> 4) != 4 || f[ETH_HDR + 9] != 6)
		return false;
	ihl = (f[ETH_HDR] & 15) * 4;
	if (ihl < 20 || len < ETH_HDR + ihl + 14)
		return false;
	/* TCP's flags: SYN without ACK. */
	return (f[ETH_HDR + ihl + 13] & 0x12) == 0x02;
}

void mmds__garp(uint8_t *out, const uint8_t *mac, uint32_t ip)
{
	uint8_t *a = out + ETH_HDR;

	memset(out, 0xff, 6);
	memcpy(out + 6, mac, 6);
	out[12] = ETHERTYPE_ARP >> 8;
	out[13] = ETHERTYPE_ARP & 0xff;
	a[0] = 0;
	a[1] = 1;			/* Ethernet */
	a[2] = ETHERTYPE_IPV4 >> 8;
	a[3] = ETHERTYPE_IPV4 & 0xff;
	a[4] = 6;
	a[5] = 4;
	a[6] = 0;
	a[7] = 1;			/* request */
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, &ip, 4);		/* sender: the guest */
	memset(a + 18, 0, 6);
	memcpy(a + 24, &ip, 4);		/* target: itself */
}
