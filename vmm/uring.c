// SPDX-License-Identifier: GPL-2.0
/* The io_uring device event loop: see uring.h. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/uring.h"
#include "vmm/util.h"

/* user_data of requests whose completion nobody waits for. */
#define URING_NO_OWNER	0
/* user_data of uring__reset()'s cancel request. */
#define URING_RESET	1

static struct io_uring_sqe *get_sqe(struct uring_loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) {
		/* Full: hand what is queued to the kernel and retry. */
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

void uring__poll_init(struct uring_poll *p, int fd, uint32_t mask,
		      uring_poll_fn fn, void *arg)
{
	p->fd = fd;
	p->mask = mask;
	p->fn = fn;
	p->arg = arg;
	p->armed = false;
}

int uring__poll_arm(struct uring_loop *l, struct uring_poll *p)
{
	struct io_uring_sqe *sqe;

	if (p->armed)
		return 0;
	sqe = get_sqe(l);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, p->fd, p->mask);
	io_uring_sqe_set_data(sqe, p);
	p->armed = true;
	l->armed++;
	return 0;
}

int uring__poll_cancel(struct uring_loop *l, struct uring_poll *p)
{
	struct io_uring_sqe *sqe;

	if (!p->armed)
		return 0;
	sqe = get_sqe(l);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_remove(sqe, (uint64_t)(uintptr_t)p);
	io_uring_sqe_set_data64(sqe, URING_NO_OWNER);
	return 0;
}

/*
 * The work queued so far, each once.  A work stays marked queued until
 * it is off our list: a uring__defer() from another thread in between
 * (a vCPU resetting a device again) finds it queued and leaves it, and
 * one after it puts it back on l->work, never on two lists at once.
 */
static void run_deferred(struct uring_loop *l)
{
	struct list_node todo, *n, *tmp;

	list__init(&todo);
	pthread_mutex_lock(&l->lock);
	list_for_each_safe(n, tmp, &l->work) {
		list__del(n);
		list__add_tail(n, &todo);
	}
	pthread_mutex_unlock(&l->lock);
	list_for_each_safe(n, tmp, &todo) {
		struct uring_work *w = container_of(n, struct uring_work, node);

		pthread_mutex_lock(&l->lock);
		list__del(n);
		w->queued = false;
		pthread_mutex_unlock(&l->lock);
		w->fn(w);
	}
}

static void wake_fn(struct uring_poll *p, int res)
{
	struct uring_loop *l = p->arg;
	uint64_t v;

	if (read(l->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("event loop: eventfd read: %s", strerror(errno));
	run_deferred(l);
	if (l->on_wake)
		l->on_wake(l->wake_arg);
	if (!l->stop)
		uring__poll_arm(l, &l->wake_poll);
}

/*
 * Only @ops, and no register operation once enabled: a thread that gets
 * hold of a ring cannot open, read, write or connect through it what the
 * seccomp filters deny it directly.
 */
static int restrict_ring(struct io_uring *ring, const uint8_t *ops,
			 size_t n)
{
	struct io_uring_restriction res[8];
	size_t i;
	int ret;

	if (n > ARRAY_SIZE(res))
		return -EINVAL;
	memset(res, 0, sizeof(res));
	for (i = 0; i < n; i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	/*
	 * The raw call: Debian 12's liburing.so.2.3 declares but does not
	 * export io_uring_register_restrictions() and io_uring_enable_rings().
	 */
	ret = io_uring_register(ring->ring_fd, IORING_REGISTER_RESTRICTIONS,
				res, n);
	if (!ret)
		ret = io_uring_register(ring->ring_fd,
					IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return ret;
}

/* The loop's ring: polls on fds, their removal, cancels. */
static const uint8_t loop_ops[] = {
	IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE, IORING_OP_ASYNC_CANCEL,
};
/* The data ring: vectored reads and writes on device fds, cancels. */
static const uint8_t io_ops[] = {
	IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_ASYNC_CANCEL,
};

static void io_fn(struct uring_poll *p, int res)
{
	struct uring_loop *l = p->arg;
	uint64_t v;

	if (read(l->io_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("event loop: data ring eventfd read: %s",
			strerror(errno));
	uring__io_reap(l, false);
	if (!l->stop)
		uring__poll_arm(l, &l->io_poll);
}

/* The data ring, its completions signalled on an eventfd (io_fn()). */
static int io_init(struct uring_loop *l, unsigned int entries)
{
	struct io_uring_params params = { .flags = IORING_SETUP_R_DISABLED };
	int ret;

	l->io_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->io_fd < 0)
		return -errno;
	ret = io_uring_queue_init_params(entries, &l->io_ring, &params);
	if (ret < 0)
		return ret;
	l->io_ok = true;
	ret = io_uring_register_eventfd(&l->io_ring, l->io_fd);
	if (ret < 0)
		return ret;
	return restrict_ring(&l->io_ring, io_ops, ARRAY_SIZE(io_ops));
}

static void loop_reinit(struct uring_loop *l)
{
	list__init(&l->work);
	l->on_wake = NULL;
	l->wake_arg = NULL;
	l->stop = false;
	l->armed = 0;
	uring__poll_init(&l->wake_poll, l->wake_fd, POLLIN, wake_fn, l);
	uring__poll_init(&l->io_poll, l->io_fd, POLLIN, io_fn, l);
}

/* Both polls of the loop's own: the wake eventfd, the data ring's. */
static int arm_own(struct uring_loop *l)
{
	return uring__poll_arm(l, &l->wake_poll) ?:
	       uring__poll_arm(l, &l->io_poll);
}

int uring__init(struct uring_loop *l, unsigned int entries)
{
	struct io_uring_params params = { .flags = IORING_SETUP_R_DISABLED };
	int ret;

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->io_fd = -1;
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_fd < 0)
		return -errno;
	ret = io_uring_queue_init_params(entries, &l->ring, &params);
	if (ret < 0) {
		close(l->wake_fd);
		l->wake_fd = -1;
		return ret;
	}
	l->ring_ok = true;
	ret = restrict_ring(&l->ring, loop_ops, ARRAY_SIZE(loop_ops));
	if (ret < 0)
		return ret;
	ret = io_init(l, entries);
	if (ret < 0)
		return ret;
	loop_reinit(l);
	return arm_own(l);
}

int uring__reset(struct uring_loop *l)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	bool cancelled = false;
	uint64_t v;
	int ret;

	if (!l->ring_ok)
		return -EINVAL;
	sqe = get_sqe(l);
	if (!sqe)
		return -EBUSY;
	/* Whatever is queued goes in first, then is cancelled with the rest. */
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, URING_RESET);
	ret = io_uring_submit(&l->ring);
	if (ret < 0)
		goto dead;
	/*
	 * The cancel's answer, then every owned poll's: nothing may come
	 * later.  A poll the cancel missed would wait forever: a second's
	 * silence gives the ring up instead.
	 */
	while (!cancelled || l->armed) {
		struct __kernel_timespec ts = { .tv_sec = 1 };

		ret = io_uring_wait_cqe_timeout(&l->ring, &cqe, &ts);
		if (ret == -EINTR)
			continue;
		if (ret < 0)
			goto dead;
		while (io_uring_peek_cqe(&l->ring, &cqe) == 0) {
			uint64_t data = io_uring_cqe_get_data64(cqe);

			io_uring_cqe_seen(&l->ring, cqe);
			if (data == URING_RESET)
				cancelled = true;
			else if (data != URING_NO_OWNER)
				l->armed--;
		}
	}
	if (read(l->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("event loop: eventfd read: %s", strerror(errno));
	loop_reinit(l);
	return arm_own(l);
dead:
	/* Polls may still complete into freed owners: never use it again. */
	pr_err("event loop: reset: %s", strerror(-ret));
	io_uring_queue_exit(&l->ring);
	l->ring_ok = false;
	return ret;
}

void uring__exit(struct uring_loop *l)
{
	if (l->ring_ok)
		io_uring_queue_exit(&l->ring);
	l->ring_ok = false;
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	l->wake_fd = -1;
	if (l->io_ok)
		io_uring_queue_exit(&l->io_ring);
	l->io_ok = false;
	if (l->io_fd >= 0)
		close(l->io_fd);
	l->io_fd = -1;
	pthread_mutex_destroy(&l->lock);
}

static struct io_uring_sqe *io_sqe(struct uring_loop *l)
{
	struct io_uring_sqe *sqe;

	if (!l->io_ok)
		return NULL;
	sqe = io_uring_get_sqe(&l->io_ring);
	if (!sqe && uring__io_submit(l) >= 0)
		sqe = io_uring_get_sqe(&l->io_ring);
	if (sqe)
		l->io_queued++;
	return sqe;
}

int uring__io_readv(struct uring_loop *l, struct uring_req *r, int fd,
		    const struct iovec *iov, unsigned int n)
{
	struct io_uring_sqe *sqe = io_sqe(l);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_readv(sqe, fd, iov, n, 0);
	io_uring_sqe_set_data(sqe, r);
	l->io_inflight++;
	return 0;
}

int uring__io_writev(struct uring_loop *l, struct uring_req *r, int fd,
		     const struct iovec *iov, unsigned int n)
{
	struct io_uring_sqe *sqe = io_sqe(l);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_writev(sqe, fd, iov, n, 0);
	io_uring_sqe_set_data(sqe, r);
	l->io_inflight++;
	return 0;
}

int uring__io_submit(struct uring_loop *l)
{
	int ret;

	if (!l->io_ok)
		return -EINVAL;
	if (!l->io_queued)
		return 0;
	do {
		ret = io_uring_submit(&l->io_ring);
	} while (ret == -EINTR);
	if (ret >= 0)
		l->io_queued = 0;
	return ret < 0 ? ret : 0;
}

int uring__io_cancel_fd(struct uring_loop *l, int fd)
{
	struct io_uring_sqe *sqe = io_sqe(l);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data(sqe, NULL);
	return uring__io_submit(l);
}

int uring__io_reap(struct uring_loop *l, bool wait)
{
	struct io_uring_cqe *cqe;
	int ret;

	ret = uring__io_submit(l);
	if (ret < 0)
		return ret;
	if (wait && l->io_inflight) {
		do {
			ret = io_uring_wait_cqe(&l->io_ring, &cqe);
		} while (ret == -EINTR);
		if (ret < 0)
			return ret;
	}
	while (io_uring_peek_cqe(&l->io_ring, &cqe) == 0) {
		struct uring_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&l->io_ring, cqe);
		if (!r)
			continue;	/* a cancel's own answer */
		l->io_inflight--;
		r->fn(r, res);
	}
	return 0;
}

void uring__defer(struct uring_loop *l, struct uring_work *w)
{
	pthread_mutex_lock(&l->lock);
	if (!w->queued) {
		w->queued = true;
		list__add_tail(&w->node, &l->work);
	}
	pthread_mutex_unlock(&l->lock);
	uring__wake(l);
}

void uring__wake(struct uring_loop *l)
{
	uint64_t one = 1;

	if (write(l->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("event loop: eventfd write: %s", strerror(errno));
}

void uring__stop(struct uring_loop *l)
{
	l->stop = true;
}

int uring__run(struct uring_loop *l)
{
	struct io_uring_cqe *cqe;
	int ret;

	while (!l->stop) {
		/* What the callbacks queued on the data ring goes in too. */
		uring__io_submit(l);
		ret = io_uring_submit_and_wait(&l->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY &&
		    ret != -EAGAIN) {
			pr_err("event loop: io_uring_submit_and_wait: %s",
			       strerror(-ret));
			return ret;
		}
		while (!l->stop && io_uring_peek_cqe(&l->ring, &cqe) == 0) {
			struct uring_poll *p = io_uring_cqe_get_data(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&l->ring, cqe);
			if (!p)
				continue;
			p->armed = false;
			l->armed--;
			l->polls_completed++;
			p->fn(p, res);
		}
	}
	return 0;
}
