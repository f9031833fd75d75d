/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device event loop: one thread, one io_uring.  File descriptors are
 * watched with one-shot IORING_OP_POLL_ADD requests that the owner re-arms
 * when it wants more; other threads talk to the loop only through
 * uring__defer() and uring__wake(), which write an eventfd the loop polls.
 *
 * Lifetime rule: a struct uring_poll stays allocated while it is armed.
 * uring__poll_cancel() makes the pending poll complete (res -ECANCELED, or
 * a real result if it raced) and only then may its owner free it.
 *
 * The ring is created disabled, restricted to the opcodes above (poll add,
 * poll remove, cancel) and to no register operation, then enabled: see
 * restrict_ring().  thawvm creates it before its seccomp filters forbid
 * io_uring_setup and keeps it for the process; uring__reset() readies it
 * for a second machine after a failed start.
 */
#ifndef THAW_VMM_URING_H
#define THAW_VMM_URING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "vmm/list.h"

struct uring_poll;
typedef void (*uring_poll_fn)(struct uring_poll *p, int res);

struct uring_poll {
	int fd;
	uint32_t mask;			/* POLLIN, POLLOUT, ... */
	uring_poll_fn fn;		/* res: revents or -errno */
	void *arg;
	bool armed;			/* loop thread only */
};

struct uring_work {
	struct list_node node;
	void (*fn)(struct uring_work *w);
	bool queued;			/* under the loop's lock */
};

struct uring_loop {
	struct io_uring ring;
	bool ring_ok;
	int wake_fd;
	struct uring_poll wake_poll;
	void (*on_wake)(void *arg);	/* loop thread, after deferred work */
	void *wake_arg;
	pthread_mutex_t lock;		/* protects work */
	struct list_node work;
	bool stop;			/* loop thread only */
	unsigned int armed;		/* polls with an owner; loop thread only */
	uint64_t polls_completed;	/* loop thread only */
};

int uring__init(struct uring_loop *l, unsigned int entries);
/*
 * No thread runs the loop: cancel every request, wait for every owned poll
 * to complete, forget the deferred work; the ring is as uring__init() left
 * it.  On failure the ring is closed and later calls fail.
 */
int uring__reset(struct uring_loop *l);
void uring__exit(struct uring_loop *l);

/* Loop thread (or before uring__run()). */
void uring__poll_init(struct uring_poll *p, int fd, uint32_t mask,
		      uring_poll_fn fn, void *arg);
int uring__poll_arm(struct uring_loop *l, struct uring_poll *p);
int uring__poll_cancel(struct uring_loop *l, struct uring_poll *p);

/* Any thread. */
void uring__defer(struct uring_loop *l, struct uring_work *w);
void uring__wake(struct uring_loop *l);

/* Run until uring__stop() from a callback; 0 or -errno. */
int uring__run(struct uring_loop *l);
void uring__stop(struct uring_loop *l);

#endif
