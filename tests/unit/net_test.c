// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net's frame logic (vmm/virtio/net-rxtx.c) against a hostile
 * driver: rings in real (memfd) guest memory, then tx chains with a short
 * header, an oversized frame, writable descriptors, offloads never
 * negotiated; rx with no buffers, buffers too small, read-only or outside
 * RAM; merged buffers and their num_buffers.  Each must be refused or
 * waited out, never a copy outside guest memory (ASan/UBSan watch).
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
#include "vmm/virtio/net.h"
#include "vmm/virtio/queue.h"
#include "tests/unit/test-ring.h"

#define RAM		(1ULL << 20)
#define DESC		0x1000ULL
#define AVAIL		0x2000ULL
#define USED		0x3000ULL
#define BUF		0x10000ULL
#define NUM		8
#define F(bit)		(1ULL << (bit))

struct fixture {
	struct test_ring r;
	struct virtq_chain chain;
	struct virtq_chain chains[NET_RX_MAX_BUFS];
	uint8_t hdr[NET_HDR_LEN];
	struct iovec iov[VIRTQ_MAX_SIZE + 1];
	uint8_t pkt[NET_MAX_PKT];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || test_ring__init(&f->r, RAM, NUM, DESC, AVAIL, USED))
		return -1;
	*state = f;
	return 0;
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

static uint8_t *gpa(struct fixture *f, uint64_t addr, size_t len)
{
	return guest_mem__ptr(f->r.mem, addr, len);
}

/* A tx chain: header descriptor @hlen bytes, then a frame of @flen. */
static int tx(struct fixture *f, uint32_t hlen, uint32_t flen,
	      uint64_t features, unsigned int *n, const char **why)
{
	int ret;

	set_desc(f, 0, BUF, hlen, flen ? VIRTQ_DESC_F_NEXT : 0, 1);
	set_desc(f, 1, BUF + 0x1000, flen, 0, 0);
	offer(f, 0);
	ret = virtq__pop(&f->r.vq, f->r.mem, &f->chain);
	assert_int_equal(ret, 1);
	return net__tx_parse(&f->chain, features, f->hdr, f->iov,
			     VIRTQ_MAX_SIZE + 1, n, why);
}

static void tx_frame(void **state)
{
	struct fixture *f = *state;
	uint8_t *h = gpa(f, BUF, NET_HDR_LEN);
	const char *why;
	unsigned int n;

	memset(h, 0, NET_HDR_LEN);
	h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	assert_int_equal(tx(f, NET_HDR_LEN, 100, F(VIRTIO_NET_F_CSUM), &n,
			    &why), 0);
	assert_int_equal(n, 2);
	/* The tap gets the checked copy, not guest memory. */
	assert_ptr_equal(f->iov[0].iov_base, f->hdr);
	assert_int_equal(f->iov[0].iov_len, NET_HDR_LEN);
	assert_ptr_equal(f->iov[1].iov_base, gpa(f, BUF + 0x1000, 100));
	assert_int_equal(f->iov[1].iov_len, 100);
}

static void tx_header_too_short(void **state)
{
	struct fixture *f = *state;
	const char *why;
	unsigned int n;

	assert_int_equal(tx(f, 8, 0, 0, &n, &why), -EINVAL);
	assert_non_null(strstr(why, "shorter than the virtio-net header"));
}

static void tx_oversized(void **state)
{
	struct fixture *f = *state;
	const char *why;
	unsigned int n;

	assert_int_equal(tx(f, NET_HDR_LEN, NET_MAX_FRAME, 0, &n, &why), 0);
	assert_int_equal(tx(f, NET_HDR_LEN, NET_MAX_FRAME + 1, 0, &n, &why),
			 -EINVAL);
	assert_non_null(strstr(why, "larger than 64 KiB"));
}

static void tx_writable(void **state)
{
	struct fixture *f = *state;
	const char *why;
	unsigned int n;

	set_desc(f, 0, BUF, NET_HDR_LEN, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF + 0x1000, 100, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq__pop(&f->r.vq, f->r.mem, &f->chain), 1);
	assert_int_equal(net__tx_parse(&f->chain, 0, f->hdr, f->iov,
				       VIRTQ_MAX_SIZE + 1, &n, &why), -EINVAL);
	assert_non_null(strstr(why, "device-writable"));
}

static void tx_offloads_not_negotiated(void **state)
{
	struct fixture *f = *state;
	uint8_t *h = gpa(f, BUF, NET_HDR_LEN);
	const char *why;
	unsigned int n;

	memset(h, 0, NET_HDR_LEN);
	h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	assert_int_equal(tx(f, NET_HDR_LEN, 60, 0, &n, &why), -EINVAL);
	h[0] = 0;
	h[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_int_equal(tx(f, NET_HDR_LEN, 60, F(VIRTIO_NET_F_HOST_TSO6), &n,
			    &why), -EINVAL);
	assert_int_equal(tx(f, NET_HDR_LEN, 60, F(VIRTIO_NET_F_HOST_TSO4), &n,
			    &why), 0);
	h[1] = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(tx(f, NET_HDR_LEN, 60, F(VIRTIO_NET_F_HOST_TSO4), &n,
			    &why), -EINVAL);
	h[1] = 42;
	assert_int_equal(tx(f, NET_HDR_LEN, 60, ~0ULL, &n, &why), -EINVAL);
}

/* A frame of @len bytes after a header, with a recognisable pattern. */
static size_t frame(struct fixture *f, size_t len)
{
	size_t i;

	memset(f->pkt, 0, NET_HDR_LEN);
	for (i = 0; i < len; i++)
		f->pkt[NET_HDR_LEN + i] = (uint8_t)(i * 7);
	return NET_HDR_LEN + len;
}

static int rx(struct fixture *f, bool mrg, size_t len, unsigned int max,
	      const char **why)
{
	return net__rx_place(&f->r.vq, f->r.mem, mrg, f->pkt, len, f->chains, max,
			     why);
}

static void rx_no_buffers(void **state)
{
	struct fixture *f = *state;
	const char *why;

	assert_int_equal(rx(f, true, frame(f, 60), NET_RX_MAX_BUFS, &why), 0);
	assert_int_equal(f->r.used[1], 0);
	/* One buffer of three needed: nothing is taken, until there are. */
	set_desc(f, 0, BUF, 1000, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(rx(f, true, frame(f, 2500), NET_RX_MAX_BUFS, &why), 0);
	assert_int_equal(f->r.used[1], 0);
	assert_true(virtq__has_avail(&f->r.vq));
	set_desc(f, 1, BUF + 0x1000, 1000, VIRTQ_DESC_F_WRITE, 0);
	set_desc(f, 2, BUF + 0x2000, 1000, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 1);
	offer(f, 2);
	assert_int_equal(rx(f, true, frame(f, 2500), NET_RX_MAX_BUFS, &why), 1);
	assert_int_equal(f->r.used[1], 3);
}

static void rx_merged(void **state)
{
	struct fixture *f = *state;
	struct virtq_used_elem *used = (void *)(f->r.used + 2);
	size_t len = frame(f, 2500);
	uint8_t *b0 = gpa(f, BUF, 1000), *b2 = gpa(f, BUF + 0x2000, 1000);
	const char *why;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		set_desc(f, i, BUF + 0x1000 * i, 1000, VIRTQ_DESC_F_WRITE, 0);
		offer(f, i);
	}
	assert_int_equal(rx(f, true, len, NET_RX_MAX_BUFS, &why), 1);
	assert_int_equal(f->r.used[1], 3);
	assert_int_equal(used[0].len, 1000);
	assert_int_equal(used[1].len, 1000);
	assert_int_equal(used[2].len, len - 2000);
	assert_int_equal(b0[NET_HDR_NUM_BUFFERS], 3);
	assert_int_equal(b0[NET_HDR_NUM_BUFFERS + 1], 0);
	assert_memory_equal(b0 + NET_HDR_LEN, f->pkt + NET_HDR_LEN,
			    1000 - NET_HDR_LEN);
	assert_memory_equal(b2, f->pkt + 2000, len - 2000);
}

static void rx_unmerged_too_small(void **state)
{
	struct fixture *f = *state;
	const char *why;

	set_desc(f, 0, BUF, 100, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(rx(f, false, frame(f, 500), NET_RX_MAX_BUFS, &why),
			 -EMSGSIZE);
	/* The buffer stays the guest's, for a frame that fits. */
	assert_int_equal(f->r.used[1], 0);
	assert_int_equal(rx(f, false, frame(f, 60), NET_RX_MAX_BUFS, &why), 1);
	assert_int_equal(f->r.used[1], 1);
	assert_int_equal(gpa(f, BUF, 100)[NET_HDR_NUM_BUFFERS], 1);
}

static void rx_too_many_buffers(void **state)
{
	struct fixture *f = *state;
	const char *why;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		set_desc(f, i, BUF + 0x1000 * i, 100, VIRTQ_DESC_F_WRITE, 0);
		offer(f, i);
	}
	assert_int_equal(rx(f, true, frame(f, 300), 2, &why), -EMSGSIZE);
	assert_int_equal(f->r.used[1], 0);
	assert_int_equal(rx(f, true, frame(f, 300), 4, &why), 1);
}

static void rx_read_only(void **state)
{
	struct fixture *f = *state;
	const char *why;

	set_desc(f, 0, BUF, 1000, 0, 0);
	offer(f, 0);
	assert_int_equal(rx(f, true, frame(f, 60), NET_RX_MAX_BUFS, &why),
			 -EINVAL);
	assert_non_null(strstr(why, "device-readable"));
}

static void rx_shorter_than_header(void **state)
{
	struct fixture *f = *state;
	const char *why;

	set_desc(f, 0, BUF, NET_HDR_LEN - 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(rx(f, true, frame(f, 60), NET_RX_MAX_BUFS, &why),
			 -EINVAL);
	assert_non_null(strstr(why, "shorter than the virtio-net header"));
}

static void rx_outside_memory(void **state)
{
	struct fixture *f = *state;
	const char *why;

	set_desc(f, 0, RAM - 100, 1000, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(rx(f, true, frame(f, 60), NET_RX_MAX_BUFS, &why),
			 -EINVAL);
	assert_true(f->r.vq.broken);
	assert_int_equal(f->r.used[1], 0);
}

static void tx_outside_memory(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, RAM - 4, NET_HDR_LEN, 0, 0);
	offer(f, 0);
	assert_true(virtq__pop(&f->r.vq, f->r.mem, &f->chain) < 0);
	assert_true(f->r.vq.broken);
}

static void rx_frame_sizes(void **state)
{
	struct fixture *f = *state;
	const char *why;

	set_desc(f, 0, BUF, 0x10000, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(rx(f, true, NET_HDR_LEN - 1, 4, &why), -EMSGSIZE);
	assert_int_equal(rx(f, true, NET_MAX_PKT + 1, 4, &why), -EMSGSIZE);
	assert_int_equal(f->r.used[1], 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(tx_frame),
		T(tx_header_too_short),
		T(tx_oversized),
		T(tx_writable),
		T(tx_offloads_not_negotiated),
		T(tx_outside_memory),
		T(rx_no_buffers),
		T(rx_merged),
		T(rx_unmerged_too_small),
		T(rx_too_many_buffers),
		T(rx_read_only),
		T(rx_shorter_than_header),
		T(rx_outside_memory),
		T(rx_frame_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
