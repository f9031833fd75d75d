/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Ethernet frames MMDS takes from a guest's interface, without the
 * device: which frames are MMDS's, finishing a checksum the guest left
 * to the device, and the gratuitous ARP that tells libslirp who sent a
 * frame.  Pure, for the unit tests.
 */
#ifndef THAW_VMM_MMDS_FRAME_H
#define THAW_VMM_MMDS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETH_HDR			14
#define MMDS_ARP_FRAME		42	/* Ethernet + ARP for IPv4 */
/* The bytes of a frame that say whether it is MMDS's. */
#define MMDS_FRAME_PEEK		MMDS_ARP_FRAME

/*
 * Is the frame (its first @len bytes, at most MMDS_FRAME_PEEK needed)
 * for MMDS at @ip (network order): an IPv4 packet to @ip, or an ARP
 * packet (request or reply) whose target is @ip?
 */
bool mmds__frame_for(const uint8_t *f, size_t len, uint32_t ip);

/*
 * The guest asked the device for a checksum (virtio-net's NEEDS_CSUM):
 * the 16-bit ones' complement sum of @f[@start..@len), put at @start +
 * @off.  false when they do not fit the frame.
 */
bool mmds__csum_complete(uint8_t *f, size_t len, uint16_t start,
			 uint16_t off);

/*
 * Of an IPv4 frame @f (@len bytes, at least 34): its sender's MAC and
 * address into @mac and *@ip (network order); false for another frame.
 */
bool mmds__frame_sender(const uint8_t *f, size_t len, uint8_t *mac,
			uint32_t *ip);

/* Is @f (@len bytes) an IPv4 TCP SYN, a new connection's first? */
bool mmds__frame_is_syn(const uint8_t *f, size_t len);

/* A gratuitous ARP request from @mac at @ip into @out (42 bytes). */
void mmds__garp(uint8_t *out, const uint8_t *mac, uint32_t ip);

#endif
