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
 * restrict_ring().
 *
 * Beside it, the data ring: readv and writev on the devices' own fds (a
 * tap, say), nothing else (restricted the same way).  Its completions
 * signal an eventfd the loop polls, and run their request's callback on
 * the loop thread, or on the thread that calls uring__io_reap() while no
 * loop thread runs (a device's exit, a machine paused for a snapshot).  thawvm creates it before its seccomp filters forbid
 * io_uring_setup and keeps it for the process; uring__reset() readies it
 * for a second machine after a failed start.
 */
#ifndef THAW_VMM_URING_H
#define THAW_VMM_URING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

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

struct uring_req;
typedef void (*uring_req_fn)(struct uring_req *r, int res);

/* A data-ring request: embed it; res is the byte count or -errno. */
struct uring_req {
	uring_req_fn fn;
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
	/* The data ring; its fields: the loop thread (see above). */
	struct io_uring io_ring;
	bool io_ok;
	int io_fd;			/* eventfd: completions posted */
	struct uring_poll io_poll;
	unsigned int io_queued;		/* prepared, not yet submitted */
	uint64_t io_inflight;		/* submitted, not yet reaped */
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

/*
 * The data ring.  Queue a readv or writev of @iov (which, like @r, must
 * stay valid until @r's callback); 0, or -EBUSY when the ring is full.
 * Queued requests go to the kernel at uring__io_submit(), the loop's next
 * turn, or a reap.
 */
int uring__io_readv(struct uring_loop *l, struct uring_req *r, int fd,
		    const struct iovec *iov, unsigned int n);
int uring__io_writev(struct uring_loop *l, struct uring_req *r, int fd,
		     const struct iovec *iov, unsigned int n);
int uring__io_submit(struct uring_loop *l);
/* Cancel every request on @fd; each still completes (-ECANCELED). */
int uring__io_cancel_fd(struct uring_loop *l, int fd);
/* Run the completions there are; with @wait, wait for one first. */
int uring__io_reap(struct uring_loop *l, bool wait);

/* Run until uring__stop() from a callback; 0 or -errno. */
int uring__run(struct uring_loop *l);
void uring__stop(struct uring_loop *l);

#endif
