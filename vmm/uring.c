// SPDX-License-Identifier: GPL-2.0
/* The io_uring device event loop: see uring.h. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/uring.h"

/* user_data of requests whose completion nobody waits for. */
#define URING_NO_OWNER	0

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

static void run_deferred(struct uring_loop *l)
{
	struct list_node todo, *n, *tmp;

	list__init(&todo);
	pthread_mutex_lock(&l->lock);
	list_for_each_safe(n, tmp, &l->work) {
		struct uring_work *w = container_of(n, struct uring_work, node);

		list__del(n);
		w->queued = false;
		list__add_tail(n, &todo);
	}
	pthread_mutex_unlock(&l->lock);
	list_for_each_safe(n, tmp, &todo) {
		struct uring_work *w = container_of(n, struct uring_work, node);

		list__del(n);
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

int uring__init(struct uring_loop *l, unsigned int entries)
{
	int ret;

	memset(l, 0, sizeof(*l));
	list__init(&l->work);
	pthread_mutex_init(&l->lock, NULL);
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_fd < 0)
		return -errno;
	ret = io_uring_queue_init(entries, &l->ring, 0);
	if (ret < 0) {
		close(l->wake_fd);
		l->wake_fd = -1;
		return ret;
	}
	l->ring_ok = true;
	uring__poll_init(&l->wake_poll, l->wake_fd, POLLIN, wake_fn, l);
	return uring__poll_arm(l, &l->wake_poll);
}

void uring__exit(struct uring_loop *l)
{
	if (l->ring_ok)
		io_uring_queue_exit(&l->ring);
	l->ring_ok = false;
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	l->wake_fd = -1;
	pthread_mutex_destroy(&l->lock);
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
			l->polls_completed++;
			p->fn(p, res);
		}
	}
	return 0;
}
