// SPDX-License-Identifier: GPL-2.0
/*
 * vmm/uring: the device loop's ring takes its three opcodes and nothing
 * else, refuses every register operation, and uring__reset() leaves it
 * ready for another machine with no completion owed to the old one; the
 * data ring takes readv, writev and cancels only, and runs a request's
 * callback on the loop.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/uring.h"

/* One request of @opcode on fd 0 on @ring; its completion's result. */
static int submit_on(struct io_uring *ring, uint8_t opcode)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int res;

	assert_non_null(sqe);
	io_uring_prep_rw(opcode, sqe, 0, NULL, 0, 0);
	io_uring_sqe_set_data64(sqe, 0);
	assert_true(io_uring_submit(ring) > 0);
	assert_int_equal(io_uring_wait_cqe(ring, &cqe), 0);
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

static int submit_one(struct uring_loop *l, uint8_t opcode)
{
	return submit_on(&l->ring, opcode);
}

static void only_its_opcodes(void **state)
{
	static const uint8_t denied[] = {
		IORING_OP_NOP, IORING_OP_READ, IORING_OP_WRITE,
		IORING_OP_OPENAT, IORING_OP_CONNECT,
	};
	struct uring_loop l;
	size_t i;

	(void)state;
	if (uring__init(&l, 8) == -ENOSYS)
		skip();
	assert_true(l.ring_ok);
	for (i = 0; i < sizeof(denied); i++) {
		assert_int_equal(submit_one(&l, denied[i]), -EACCES);
		/* The wake poll went in with the first: nothing more to send. */
		uring__reset(&l);
	}
	uring__exit(&l);
}

static void no_register_op(void **state)
{
	struct uring_loop l;
	int fd = 0;

	(void)state;
	if (uring__init(&l, 8) == -ENOSYS)
		skip();
	assert_int_equal(io_uring_register_files(&l.ring, &fd, 1), -EACCES);
	assert_int_equal(io_uring_register(l.ring.ring_fd,
					   IORING_REGISTER_ENABLE_RINGS,
					   NULL, 0), -EACCES);
	uring__exit(&l);
}

static void stale_fn(struct uring_poll *p, int res)
{
	(void)p;
	fail_msg("a cancelled machine's poll completed: %d", res);
}

static void poll_fn(struct uring_poll *p, int res)
{
	assert_true(res > 0);
	uring__stop(p->arg);
}

/* A poll armed for a machine that failed to start: reset forgets it. */
static void reset_cancels(void **state)
{
	struct uring_poll old, new;
	struct uring_loop l;
	int fds[2];

	(void)state;
	if (uring__init(&l, 8) == -ENOSYS)
		skip();
	assert_int_equal(pipe(fds), 0);
	uring__poll_init(&old, fds[0], POLLIN, stale_fn, &l);
	assert_int_equal(uring__poll_arm(&l, &old), 0);
	io_uring_submit(&l.ring);
	assert_int_equal(uring__reset(&l), 0);
	assert_int_equal(l.armed, 2);		/* its own two, again */

	/* The next machine: its poll fires, the old one does not. */
	uring__poll_init(&new, fds[0], POLLIN, poll_fn, &l);
	assert_int_equal(uring__poll_arm(&l, &new), 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(uring__run(&l), 0);
	uring__exit(&l);
	close(fds[0]);
	close(fds[1]);
}

static void data_ring_opcodes(void **state)
{
	static const uint8_t denied[] = {
		IORING_OP_NOP, IORING_OP_READ, IORING_OP_WRITE,
		IORING_OP_OPENAT, IORING_OP_CONNECT, IORING_OP_POLL_ADD,
		IORING_OP_SENDMSG,
	};
	struct uring_loop l;
	size_t i;

	(void)state;
	if (uring__init(&l, 8) == -ENOSYS)
		skip();
	assert_true(l.io_ok);
	for (i = 0; i < sizeof(denied); i++)
		assert_int_equal(submit_on(&l.io_ring, denied[i]), -EACCES);
	assert_int_equal(io_uring_register_files(&l.io_ring, &l.io_fd, 1),
			 -EACCES);
	uring__exit(&l);
}

struct io_test {
	struct uring_req req;
	struct uring_loop *l;
	int res;
	char buf[8];
};

static void io_done(struct uring_req *r, int res)
{
	struct io_test *t = (struct io_test *)r;

	t->res = res;
	uring__stop(t->l);
}

/* A readv on the data ring: its callback runs on the loop. */
static void data_ring_readv(void **state)
{
	struct io_test t = { .req.fn = io_done, .res = -1 };
	struct iovec iov = { t.buf, sizeof(t.buf) };
	struct uring_loop l;
	int fds[2];

	(void)state;
	if (uring__init(&l, 8) == -ENOSYS)
		skip();
	t.l = &l;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "hello", 5), 5);
	assert_int_equal(uring__io_readv(&l, &t.req, fds[0], &iov, 1), 0);
	assert_int_equal(uring__run(&l), 0);
	assert_int_equal(t.res, 5);
	assert_memory_equal(t.buf, "hello", 5);
	assert_int_equal(l.io_inflight, 0);
	uring__exit(&l);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(only_its_opcodes),
		cmocka_unit_test(no_register_op),
		cmocka_unit_test(reset_cancels),
		cmocka_unit_test(data_ring_opcodes),
		cmocka_unit_test(data_ring_readv),
	};

	return cmocka_run_group_tests_name("uring", tests, NULL, NULL);
}
