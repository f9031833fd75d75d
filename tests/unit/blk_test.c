// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-blk device against a hostile driver: requests written into
 * real (memfd) guest memory, served by the device's io_uring path on a
 * real file, and every rule broken one at a time: a chain outside RAM, no
 * status byte, a header too short, data that is not whole sectors or does
 * not match its direction, sectors past the end (and past 2^64), a write
 * to a read-only drive, unknown types.  Each gets IOERR/UNSUPP or breaks
 * the device; none touches the file or memory it should not (ASan/UBSan
 * watch).  Good requests, many in flight, move the right bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/mem/mem.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/queue.h"
#include "tests/unit/test-ring.h"

#define RAM		(1ULL << 20)
#define DESC		0x1000ULL
#define AVAIL		0x3000ULL
#define USED		0x4000ULL
#define HDR		0x10000ULL	/* 64 headers of 16 bytes */
#define STATUS		0x11000ULL	/* 64 status bytes */
#define DATA		0x20000ULL	/* 8 KiB per request slot */
#define NUM		128
#define SECTORS		2048ULL		/* a 1 MiB disk */

struct fixture {
	struct test_ring r;
	int fd;
	struct blk *b;
	uint16_t next_desc;
};

static int setup_drive(void **state, bool ro, bool async)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[] = "/tmp/blk_test.XXXXXX";
	uint8_t sector[512];
	uint64_t i;

	if (!f || test_ring__init(&f->r, RAM, NUM, DESC, AVAIL, USED))
		return -1;
	f->fd = mkstemp(path);
	if (f->fd < 0)
		return -1;
	unlink(path);
	/* Sector n holds the byte n & 0xff, 512 times. */
	for (i = 0; i < SECTORS; i++) {
		memset(sector, (int)(i & 0xff), sizeof(sector));
		if (pwrite(f->fd, sector, sizeof(sector), (off_t)(i * 512)) !=
		    (ssize_t)sizeof(sector))
			return -1;
	}
	f->b = blk__test_new(f->r.mem, &f->r.vq, f->fd, SECTORS, ro, async);
	if (!f->b) {
		/* io_uring refused here (a sandbox): no test can run. */
		fprintf(stderr, "# blk__test_new failed: no io_uring?\n");
		return -1;
	}
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_drive(state, false, true);
}

static int setup_ro(void **state)
{
	return setup_drive(state, true, true);
}

static int setup_sync(void **state)
{
	return setup_drive(state, false, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	blk__test_free(f->b);
	close(f->fd);
	guest_mem__free(f->r.mem);
	free(f);
	return 0;
}

static uint16_t desc(struct fixture *f, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	uint16_t i = f->next_desc++ % NUM;

	test_ring__set_desc(&f->r, i, addr, len, flags, 0);
	return i;
}

static void link_desc(struct fixture *f, uint16_t a, uint16_t b)
{
	f->r.desc[a].flags |= VIRTQ_DESC_F_NEXT;
	f->r.desc[a].next = b;
}

static void offer(struct fixture *f, uint16_t head)
{
	test_ring__offer(&f->r, head);
}

static void put_hdr(struct fixture *f, unsigned int slot, uint32_t type,
		    uint64_t sector)
{
	uint8_t *h = guest_mem__ptr(f->r.mem, HDR + 16 * slot, 16);

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
}

static uint8_t *status(struct fixture *f, unsigned int slot)
{
	return guest_mem__ptr(f->r.mem, STATUS + slot, 1);
}

static uint8_t *data(struct fixture *f, unsigned int slot)
{
	return guest_mem__ptr(f->r.mem, DATA + 0x2000ULL * slot, 0x2000);
}

/* A request: header, data (@len bytes, @write: device-readable), status. */
static void request(struct fixture *f, unsigned int slot, uint32_t type,
		    uint64_t sector, uint32_t len, bool dev_reads)
{
	uint16_t h, d, s;

	put_hdr(f, slot, type, sector);
	*status(f, slot) = 0xff;
	h = desc(f, HDR + 16 * slot, 16, 0);
	s = desc(f, STATUS + slot, 1, VIRTQ_DESC_F_WRITE);
	if (len) {
		d = desc(f, DATA + 0x2000ULL * slot, len,
			 dev_reads ? 0 : VIRTQ_DESC_F_WRITE);
		link_desc(f, h, d);
		link_desc(f, d, s);
	} else {
		link_desc(f, h, s);
	}
	offer(f, h);
}

static struct virtq_used_elem *used_elem(struct fixture *f, uint16_t i)
{
	return (struct virtq_used_elem *)(f->r.used + 2) + i % NUM;
}

static void read_ok(void **state)
{
	struct fixture *f = *state;
	uint8_t want[1024];

	request(f, 0, VIRTIO_BLK_T_IN, 7, 1024, false);
	blk__test_notify(f->b);
	assert_int_equal(f->r.used[1], 1);
	assert_int_equal(*status(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(used_elem(f, 0)->len, 1025);
	memset(want, 7, 512);
	memset(want + 512, 8, 512);
	assert_memory_equal(data(f, 0), want, sizeof(want));
	assert_false(blk__test_broken(f->b));
}

static void write_ok(void **state)
{
	struct fixture *f = *state;
	uint8_t got[512];

	memset(data(f, 1), 0xab, 512);
	request(f, 1, VIRTIO_BLK_T_OUT, 100, 512, true);
	blk__test_notify(f->b);
	assert_int_equal(*status(f, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(used_elem(f, 0)->len, 1);
	assert_int_equal(pread(f->fd, got, 512, 100 * 512), 512);
	assert_memory_equal(got, data(f, 1), 512);
}

/* 32 reads at once, each of its own sectors. */
static void many_in_flight(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	for (i = 0; i < 32; i++)
		request(f, i, VIRTIO_BLK_T_IN, 64 * i, 4096, false);
	blk__test_notify(f->b);
	assert_int_equal(f->r.used[1], 32);
	for (i = 0; i < 32; i++) {
		assert_int_equal(*status(f, i), VIRTIO_BLK_S_OK);
		assert_int_equal(data(f, i)[0], (64 * i) & 0xff);
		assert_int_equal(data(f, i)[4095], (64 * i + 7) & 0xff);
	}
}

static void expect_status(struct fixture *f, unsigned int slot, uint8_t st)
{
	blk__test_notify(f->b);
	assert_false(blk__test_broken(f->b));
	assert_int_equal(*status(f, slot), st);
	assert_int_equal(used_elem(f, (uint16_t)(f->r.used[1] - 1))->len, 1);
}

static void not_whole_sectors(void **state)
{
	struct fixture *f = *state;

	request(f, 0, VIRTIO_BLK_T_IN, 0, 100, false);
	expect_status(f, 0, VIRTIO_BLK_S_IOERR);
	request(f, 1, VIRTIO_BLK_T_OUT, 0, 513, true);
	expect_status(f, 1, VIRTIO_BLK_S_IOERR);
}

/* Data in the wrong direction: a read whose buffer the device may not write. */
static void wrong_direction(void **state)
{
	struct fixture *f = *state;
	uint8_t before[512], after[512];

	assert_int_equal(pread(f->fd, before, 512, 0), 512);
	request(f, 0, VIRTIO_BLK_T_IN, 0, 512, true);
	expect_status(f, 0, VIRTIO_BLK_S_IOERR);
	request(f, 1, VIRTIO_BLK_T_OUT, 0, 512, false);
	expect_status(f, 1, VIRTIO_BLK_S_IOERR);
	assert_int_equal(pread(f->fd, after, 512, 0), 512);
	assert_memory_equal(before, after, 512);
}

static void past_the_end(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	request(f, 0, VIRTIO_BLK_T_IN, SECTORS - 1, 1024, false);
	expect_status(f, 0, VIRTIO_BLK_S_IOERR);
	request(f, 1, VIRTIO_BLK_T_OUT, SECTORS, 512, true);
	expect_status(f, 1, VIRTIO_BLK_S_IOERR);
	/* sector + count wraps around 2^64 */
	request(f, 2, VIRTIO_BLK_T_OUT, UINT64_MAX, 512, true);
	expect_status(f, 2, VIRTIO_BLK_S_IOERR);
	request(f, 3, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, 512, false);
	expect_status(f, 3, VIRTIO_BLK_S_IOERR);
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, SECTORS * 512);
}

static void short_header(void **state)
{
	struct fixture *f = *state;
	uint16_t h, s;

	put_hdr(f, 0, VIRTIO_BLK_T_OUT, 0);
	*status(f, 0) = 0xff;
	h = desc(f, HDR, 8, 0);
	s = desc(f, STATUS, 1, VIRTQ_DESC_F_WRITE);
	link_desc(f, h, s);
	offer(f, h);
	expect_status(f, 0, VIRTIO_BLK_S_IOERR);
}

/* No writable byte for the status: nothing to answer with. */
static void no_status(void **state)
{
	struct fixture *f = *state;
	uint16_t h, d;

	put_hdr(f, 0, VIRTIO_BLK_T_OUT, 0);
	h = desc(f, HDR, 16, 0);
	d = desc(f, DATA, 512, 0);
	link_desc(f, h, d);
	offer(f, h);
	blk__test_notify(f->b);
	assert_true(blk__test_broken(f->b));
	assert_int_equal(f->r.used[1], 0);
}

static void outside_ram(void **state)
{
	struct fixture *f = *state;
	uint16_t h, d, s;

	put_hdr(f, 0, VIRTIO_BLK_T_IN, 0);
	h = desc(f, HDR, 16, 0);
	d = desc(f, RAM - 256, 512, VIRTQ_DESC_F_WRITE);
	s = desc(f, STATUS, 1, VIRTQ_DESC_F_WRITE);
	link_desc(f, h, d);
	link_desc(f, d, s);
	offer(f, h);
	blk__test_notify(f->b);
	assert_true(blk__test_broken(f->b));
	assert_int_equal(f->r.used[1], 0);
}

static void read_only(void **state)
{
	struct fixture *f = *state;
	uint8_t before[512], after[512];

	assert_int_equal(pread(f->fd, before, 512, 0), 512);
	memset(data(f, 0), 0x5a, 512);
	request(f, 0, VIRTIO_BLK_T_OUT, 0, 512, true);
	expect_status(f, 0, VIRTIO_BLK_S_IOERR);
	request(f, 1, VIRTIO_BLK_T_DISCARD, 0, 16, true);
	expect_status(f, 1, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(pread(f->fd, after, 512, 0), 512);
	assert_memory_equal(before, after, 512);
	/* Reads still work. */
	request(f, 2, VIRTIO_BLK_T_IN, 3, 512, false);
	blk__test_notify(f->b);
	assert_int_equal(*status(f, 2), VIRTIO_BLK_S_OK);
	assert_int_equal(data(f, 2)[0], 3);
}

static void get_id_flush_unknown(void **state)
{
	struct fixture *f = *state;

	request(f, 0, VIRTIO_BLK_T_GET_ID, 0, 20, false);
	blk__test_notify(f->b);
	assert_int_equal(*status(f, 0), VIRTIO_BLK_S_OK);
	assert_memory_equal(data(f, 0), "test_drive\0", 11);
	request(f, 1, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	blk__test_notify(f->b);
	assert_int_equal(*status(f, 1), VIRTIO_BLK_S_OK);
	request(f, 2, 77, 0, 0, false);
	expect_status(f, 2, VIRTIO_BLK_S_UNSUPP);
}

static void put_seg(struct fixture *f, unsigned int slot, uint64_t sector,
		    uint32_t n, uint32_t flags)
{
	uint8_t *p = data(f, slot);

	memcpy(p, &sector, 8);
	memcpy(p + 8, &n, 4);
	memcpy(p + 12, &flags, 4);
}

static void write_zeroes_and_discard(void **state)
{
	struct fixture *f = *state;
	uint8_t got[1024], zero[1024] = { 0 };

	put_seg(f, 0, 10, 2, 0);
	request(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, true);
	blk__test_notify(f->b);
	if (*status(f, 0) == VIRTIO_BLK_S_UNSUPP)
		skip();		/* the file system has no fallocate modes */
	assert_int_equal(*status(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(pread(f->fd, got, 1024, 10 * 512), 1024);
	assert_memory_equal(got, zero, 1024);
	/* Past the end, or two segments, or a reserved flag. */
	put_seg(f, 1, SECTORS - 1, 2, 0);
	request(f, 1, VIRTIO_BLK_T_DISCARD, 0, 16, true);
	expect_status(f, 1, VIRTIO_BLK_S_IOERR);
	request(f, 2, VIRTIO_BLK_T_DISCARD, 0, 32, true);
	expect_status(f, 2, VIRTIO_BLK_S_IOERR);
	put_seg(f, 3, 0, 1, 1);
	request(f, 3, VIRTIO_BLK_T_DISCARD, 0, 16, true);
	expect_status(f, 3, VIRTIO_BLK_S_UNSUPP);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(read_ok),
		T(write_ok),
		T(many_in_flight),
		cmocka_unit_test_setup_teardown(many_in_flight, setup_sync,
						teardown),
		T(not_whole_sectors),
		T(wrong_direction),
		T(past_the_end),
		T(short_header),
		T(no_status),
		T(outside_ram),
		cmocka_unit_test_setup_teardown(read_only, setup_ro, teardown),
		T(get_id_flush_unknown),
		T(write_zeroes_and_discard),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
