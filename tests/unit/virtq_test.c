// SPDX-License-Identifier: GPL-2.0
/*
 * The split-virtqueue parser against a hostile driver: rings written into
 * real (memfd) guest memory the way a driver would, then every rule broken
 * one at a time: descriptor loops, next/head indices out of range, an
 * available index that jumps, addresses outside RAM or wrapping, chains
 * longer than 4 GiB, writable before readable, indirect descriptors, bad
 * ring geometry.  Each must be an error that breaks the queue, never an
 * access outside guest memory (ASan/UBSan watch).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/mem/mem.h"
#include "vmm/persist.h"
#include "vmm/virtio/queue.h"
#include "tests/unit/test-ring.h"

#define RAM		(1ULL << 20)
#define DESC		0x1000ULL
#define AVAIL		0x2000ULL
#define USED		0x3000ULL
#define BUF		0x10000ULL
#define NUM		8

struct fixture {
	struct test_ring r;
	struct virtq_chain chain;
};

static int setup_ram(void **state, uint64_t ram)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || test_ring__init(&f->r, ram, NUM, DESC, AVAIL, USED))
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_ram(state, RAM);
}

/* 8 GiB, sparse: 5 GiB above 4 GiB, room for a 4 GiB descriptor. */
static int setup_big(void **state)
{
	return setup_ram(state, 8ULL << 30);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	guest_mem__free(f->r.mem);
	free(f);
	return 0;
}

static void set_desc(struct fixture *f, uint16_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	test_ring__set_desc(&f->r, i, addr, len, flags, next);
}

static void offer(struct fixture *f, uint16_t head)
{
	test_ring__offer(&f->r, head);
}

static int pop(struct fixture *f)
{
	return virtq__pop(&f->r.vq, f->r.mem, &f->chain);
}

static void expect_broken(struct fixture *f, int err)
{
	assert_int_equal(pop(f), err);
	assert_true(f->r.vq.broken);
	/* A broken queue yields nothing more, touches nothing more. */
	assert_int_equal(pop(f), 0);
	assert_false(virtq__has_avail(&f->r.vq));
	virtq__push(&f->r.vq, &f->chain, 0);
	assert_int_equal(f->r.used[1], 0);
}

static void chain_in_and_out(void **state)
{
	struct fixture *f = *state;
	struct virtq_used_elem *used;

	assert_int_equal(pop(f), 0);			/* nothing yet */
	set_desc(f, 3, BUF, 100, VIRTQ_DESC_F_NEXT, 5);
	set_desc(f, 5, BUF + 0x1000, 0, VIRTQ_DESC_F_NEXT, 6);
	set_desc(f, 6, BUF + 0x2000, 200, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 3);
	assert_true(virtq__has_avail(&f->r.vq));
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.head, 3);
	assert_int_equal(f->chain.nr_out, 2);
	assert_int_equal(f->chain.nr_in, 1);
	assert_int_equal(f->chain.out_len, 100);
	assert_int_equal(f->chain.in_len, 200);
	assert_ptr_equal(f->chain.iov[0].iov_base,
			 guest_mem__ptr(f->r.mem, BUF, 100));
	assert_ptr_equal(f->chain.iov[2].iov_base,
			 guest_mem__ptr(f->r.mem, BUF + 0x2000, 200));
	assert_int_equal(pop(f), 0);

	virtq__push(&f->r.vq, &f->chain, 150);
	used = (struct virtq_used_elem *)(f->r.used + 2);
	assert_int_equal(f->r.used[1], 1);
	assert_int_equal(used[0].id, 3);
	assert_int_equal(used[0].len, 150);
	assert_true(virtq__should_notify(&f->r.vq));
	f->r.avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_false(virtq__should_notify(&f->r.vq));
}

/* The 16-bit indices wrap; so must we. */
static void index_wraparound(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	set_desc(f, 0, BUF, 8, 0, 0);
	f->r.vq.last_avail = f->r.vq.used_idx = 0xfffe;
	f->r.avail[1] = 0xfffe;
	for (i = 0; i < 4; i++) {
		offer(f, 0);
		assert_int_equal(pop(f), 1);
		virtq__push(&f->r.vq, &f->chain, 0);
	}
	assert_int_equal(f->r.vq.last_avail, 2);
	assert_int_equal(f->r.used[1], 2);
}

static void unpop(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 1, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 1);
	assert_int_equal(pop(f), 1);
	virtq__unpop(&f->r.vq);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.head, 1);
}

static void loop_two(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	expect_broken(f, -ELOOP);
}

static void loop_self(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 2, BUF, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	offer(f, 2);
	expect_broken(f, -ELOOP);
}

static void next_out_of_range(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, BUF, 8, VIRTQ_DESC_F_NEXT, NUM);
	offer(f, 0);
	expect_broken(f, -EINVAL);
}

static void head_out_of_range(void **state)
{
	struct fixture *f = *state;

	offer(f, 0xffff);
	expect_broken(f, -EINVAL);
}

static void avail_idx_jumps(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, BUF, 8, 0, 0);
	f->r.avail[1] = NUM + 1;			/* more than the ring holds */
	assert_false(virtq__has_avail(&f->r.vq));
	assert_true(f->r.vq.broken);
}

static void avail_idx_jumps_pop(void **state)
{
	struct fixture *f = *state;

	f->r.avail[1] = 0x8000;
	expect_broken(f, -EINVAL);
}

static void address_outside_ram(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, RAM - 10, 100, 0, 0);	/* runs off the end */
	offer(f, 0);
	expect_broken(f, -EFAULT);
}

static void address_in_the_hole(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, 0xd0000000, 4, 0, 0);	/* MMIO, not RAM */
	offer(f, 0);
	expect_broken(f, -EFAULT);
}

static void address_wraps(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, UINT64_MAX - 5, 10, 0, 0);
	offer(f, 0);
	expect_broken(f, -EFAULT);
}

static void length_overflow(void **state)
{
	struct fixture *f = *state;

	/* 4 GiB - 1 + 2 bytes in one chain: more than used.len can say. */
	set_desc(f, 0, 1ULL << 32, UINT32_MAX, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, 1ULL << 32, 2, 0, 0);
	offer(f, 0);
	expect_broken(f, -EOVERFLOW);
}

static void length_fits(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, 1ULL << 32, UINT32_MAX, 0, 0);
	offer(f, 0);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.out_len, UINT32_MAX);
}

static void write_before_read(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, BUF, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(f, 1, BUF, 8, 0, 0);
	offer(f, 0);
	expect_broken(f, -EINVAL);
}

static void indirect_refused(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, BUF, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, -EINVAL);
}

/* Every descriptor in one chain: as long as a chain may be. */
static void longest_chain(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	for (i = 0; i < NUM; i++)
		set_desc(f, i, BUF + i * 16, 16,
			 i + 1 < NUM ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	offer(f, 0);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.nr_out, NUM);
	assert_int_equal(f->chain.out_len, 16 * NUM);
}

static void bad_geometry(void **state)
{
	struct fixture *f = *state;
	struct virtq vq;

	vq = f->r.vq;
	vq.num = 0;
	assert_int_equal(virtq__enable(&vq, f->r.mem, 256), -EINVAL);
	vq.num = 6;				/* not a power of two */
	assert_int_equal(virtq__enable(&vq, f->r.mem, 256), -EINVAL);
	vq.num = 512;				/* above QueueNumMax */
	assert_int_equal(virtq__enable(&vq, f->r.mem, 256), -EINVAL);
	vq.num = 1024;
	assert_int_equal(virtq__enable(&vq, f->r.mem, 1024), -EINVAL);
	vq.num = NUM;
	vq.desc_gpa = DESC + 8;			/* misaligned */
	assert_int_equal(virtq__enable(&vq, f->r.mem, 256), -EINVAL);
	vq.desc_gpa = DESC;
	vq.used_gpa = USED + 2;
	assert_int_equal(virtq__enable(&vq, f->r.mem, 256), -EINVAL);
	vq.used_gpa = RAM - 16;			/* ring runs off RAM */
	assert_int_equal(virtq__enable(&vq, f->r.mem, 256), -EINVAL);
	vq.used_gpa = UINT64_MAX - 3;
	assert_int_equal(virtq__enable(&vq, f->r.mem, 256), -EINVAL);
	assert_false(vq.ready);
	assert_int_equal(virtq__pop(&vq, f->r.mem, &f->chain), 0);
}

static void save_restore(void **state)
{
	struct fixture *f = *state;
	struct virtq_state st;
	struct virtq vq;

	set_desc(f, 0, BUF, 8, 0, 0);
	offer(f, 0);
	assert_int_equal(pop(f), 1);
	virtq__push(&f->r.vq, &f->chain, 0);
	virtq__save(&f->r.vq, &st);
	assert_int_equal(virtq__restore(&vq, &st, f->r.mem, 256), 0);
	assert_true(vq.ready);
	assert_int_equal(vq.last_avail, 1);
	assert_int_equal(vq.used_idx, 1);
	/* A state whose rings are not in this memory is refused. */
	st.desc_gpa = RAM;
	assert_int_equal(virtq__restore(&vq, &st, f->r.mem, 256), -EINVAL);
	assert_false(vq.ready);
}

static bool page_dirty(const struct guest_mem *mem, uint64_t gpa)
{
	uint64_t pg = gpa / 4096;

	return mem->dirty[pg / 64] & (1ULL << (pg % 64));
}

static unsigned int dirty_count(const struct guest_mem *mem)
{
	unsigned int n = 0;
	uint64_t i;

	for (i = 0; i < (mem->ram_size / 4096 + 63) / 64; i++)
		n += __builtin_popcountll(mem->dirty[i]);
	return n;
}

/*
 * What the VMM writes into guest RAM is marked for a rewind: the bytes
 * of the writable part a push reports, the used ring; never the readable
 * part, never past the chain, never outside RAM.
 */
static void push_marks_dirty(void **state)
{
	struct fixture *f = *state;
	uint64_t log[(RAM / 4096 + 63) / 64] = { 0 };

	/* Without tracking, nothing to mark and nothing breaks. */
	set_desc(f, 0, BUF, 8, 0, 0);
	offer(f, 0);
	assert_int_equal(pop(f), 1);
	virtq__push(&f->r.vq, &f->chain, 0);
	assert_null(f->r.mem->dirty);

	assert_int_equal(guest_mem__track_dirty(f->r.mem), 0);
	set_desc(f, 1, BUF, 100, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 2, BUF + 0x4000, 0x1800, VIRTQ_DESC_F_WRITE |
		 VIRTQ_DESC_F_NEXT, 3);
	set_desc(f, 3, BUF + 0x9000, 0x3000, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 1);
	assert_int_equal(pop(f), 1);
	/* 0x1800 bytes in the first writable buffer, 0x10 in the second. */
	virtq__push(&f->r.vq, &f->chain, 0x1810);
	assert_false(page_dirty(f->r.mem, BUF));
	assert_true(page_dirty(f->r.mem, BUF + 0x4000));
	assert_true(page_dirty(f->r.mem, BUF + 0x5000));
	assert_true(page_dirty(f->r.mem, BUF + 0x9000));
	assert_false(page_dirty(f->r.mem, BUF + 0xa000));
	assert_true(page_dirty(f->r.mem, USED));
	assert_int_equal(dirty_count(f->r.mem), 4);

	/* A length past the chain marks the chain, no more. */
	offer(f, 3);
	assert_int_equal(pop(f), 1);
	virtq__push(&f->r.vq, &f->chain, UINT32_MAX);
	assert_true(page_dirty(f->r.mem, BUF + 0xb000));
	assert_false(page_dirty(f->r.mem, BUF + 0xc000));
	assert_int_equal(dirty_count(f->r.mem), 6);

	/* Outside RAM, or reaching past its end: clamped, never written. */
	guest_mem__mark_dirty(f->r.mem, f->r.mem->base - 4096, 8192);
	guest_mem__mark_dirty(f->r.mem, f->r.mem->base + RAM, 1);
	assert_int_equal(dirty_count(f->r.mem), 6);
	guest_mem__mark_dirty(f->r.mem, f->r.mem->base + RAM - 1, 4096);
	assert_true(page_dirty(f->r.mem, RAM - 1));
	assert_int_equal(dirty_count(f->r.mem), 7);

	/* KVM's log joins in, bit for bit. */
	log[0] = 1ULL << 7;
	log[3] = 1ULL << 63;
	guest_mem__merge_log(f->r.mem, 0, log);
	assert_true(page_dirty(f->r.mem, 7 * 4096));
	assert_int_equal(dirty_count(f->r.mem), 8);
	guest_mem__merge_log(f->r.mem, 1, log);	/* no second region */
	assert_int_equal(dirty_count(f->r.mem), 8);
}

static void iov_helpers(void **state)
{
	char a[5] = "abcde", b[3] = "fgh", out[8] = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = a, .iov_len = 5 },
		{ .iov_base = b, .iov_len = 3 },
	}, s[2];
	unsigned int n;

	assert_int_equal(iov__to_buf(iov, 2, 3, out, 4), 4);
	assert_memory_equal(out, "defg", 4);
	assert_int_equal(iov__to_buf(iov, 2, 7, out, 4), 1);
	assert_int_equal(iov__to_buf(iov, 2, 9, out, 4), 0);
	assert_int_equal(iov__from_buf(iov, 2, 4, "XYZ", 3), 3);
	assert_memory_equal(a, "abcdX", 5);
	assert_memory_equal(b, "YZh", 3);
	n = iov__slice(iov, 2, 4, 3, s, 2);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].iov_len, 1);
	assert_ptr_equal(s[0].iov_base, a + 4);
	assert_int_equal(s[1].iov_len, 2);
	assert_int_equal(iov__slice(iov, 2, 0, 8, s, 1), 1);
	assert_int_equal(iov__slice(iov, 2, 8, 8, s, 2), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(chain_in_and_out),
		T(index_wraparound),
		T(unpop),
		T(loop_two),
		T(loop_self),
		T(next_out_of_range),
		T(head_out_of_range),
		T(avail_idx_jumps),
		T(avail_idx_jumps_pop),
		T(address_outside_ram),
		T(address_in_the_hole),
		T(address_wraps),
		cmocka_unit_test_setup_teardown(length_overflow, setup_big,
						teardown),
		cmocka_unit_test_setup_teardown(length_fits, setup_big,
						teardown),
		T(write_before_read),
		T(indirect_refused),
		T(longest_chain),
		T(bad_geometry),
		T(save_restore),
		T(push_marks_dirty),
		T(iov_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
