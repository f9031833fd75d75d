/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver's side of one split virtqueue in guest memory, for the unit
 * tests that hand a device hostile rings (virtq_test, blk_test, net_test):
 * fresh memfd RAM, the three ring areas at fixed addresses, the queue
 * enabled as a driver would, and the two things a test then does, write
 * descriptors and offer a chain.
 */
#ifndef THAW_TESTS_UNIT_TEST_RING_H
#define THAW_TESTS_UNIT_TEST_RING_H

#include <stdint.h>

#include "vmm/mem/mem.h"
#include "vmm/virtio/queue.h"

struct test_ring {
	struct guest_mem *mem;
	struct virtq vq;
	struct virtq_desc *desc;
	uint16_t *avail;
	uint16_t *used;
};

/* @num entries at @desc, @avail and @used of @ram bytes of RAM: 0 or -1. */
static inline int test_ring__init(struct test_ring *r, uint64_t ram,
				  uint16_t num, uint64_t desc, uint64_t avail,
				  uint64_t used)
{
	if (guest_mem__new_memfd(&r->mem, ram, VM_HUGE_PAGES_NONE))
		return -1;
	r->desc = guest_mem__ptr(r->mem, desc, 16 * num);
	r->avail = guest_mem__ptr(r->mem, avail, 6 + 2 * num);
	r->used = guest_mem__ptr(r->mem, used, 6 + 8 * num);
	r->vq.num = num;
	r->vq.desc_gpa = desc;
	r->vq.avail_gpa = avail;
	r->vq.used_gpa = used;
	return virtq__enable(&r->vq, r->mem, VIRTQ_MAX_SIZE) ? -1 : 0;
}

static inline void test_ring__set_desc(struct test_ring *r, uint16_t i,
				       uint64_t addr, uint32_t len,
				       uint16_t flags, uint16_t next)
{
	r->desc[i].addr = addr;
	r->desc[i].len = len;
	r->desc[i].flags = flags;
	r->desc[i].next = next;
}

/* Offer chain @head as the driver's next available entry. */
static inline void test_ring__offer(struct test_ring *r, uint16_t head)
{
	uint16_t idx = r->avail[1];

	r->avail[2 + idx % r->vq.num] = head;
	r->avail[1] = idx + 1;
}

#endif
