// SPDX-License-Identifier: GPL-2.0
/*
 * One VM's session: receive the handshake (the JSON regions and the
 * userfaultfd), prefetch the working set in touch order, then serve
 * faults from the memory file until the VM goes away.
 *
 * The peer is not trusted: the message is validated by
 * uffd__parse_regions(), the fd must be a userfaultfd, a fault outside
 * the announced regions ends the session, and nothing the peer sends can
 * make this process read outside the memory file mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/snaputil.h"
#include "lib/uffd.h"
#include "lib/wset.h"
#include "tools/uffd-handler/handler.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif

#define EVENT_BATCH	64
#define PREFETCH_RUN	(256u << 10)	/* bytes per prefetch ioctl */
#define MAX_GARBAGE	(1u << 20)	/* bytes a VMM may send after the
					 * handshake before we hang up
					 */
#define MAX_RETRIES	4096		/* faults parked on EAGAIN */

struct session {
	struct handler *h;
	unsigned int id;
	int conn, uffd, pidfd;
	pid_t pid;
	struct uffd_region *reg;
	unsigned int nreg;
	uint64_t ps;			/* page size of every region */
	uint64_t *removed;		/* bit per page of the memory file */
	uint64_t *unmapped;		/* bit per page of the memory file */
	uint64_t mapped_pages;		/* region pages not yet unmapped */
	const uint8_t *zero;		/* ps bytes of zeros */
	bool recording;
	uint64_t garbage;
	uint64_t retry[MAX_RETRIES];	/* fault addresses to serve again */
	unsigned int nretry;
	struct vm_stats st;
};

const char *serve__end_name(enum session_end end)
{
	switch (end) {
	case END_REFUSED:
		return "refused";
	case END_ERROR:
		return "error";
	case END_VMM_EXIT:
		return "VMM exited";
	case END_UNMAPPED:
		return "memory unmapped";
	case END_HANGUP:
		return "VMM closed the socket";
	case END_STOP:
		return "handler stopping";
	}
	return "?";
}

static void slog(const struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void slog(const struct session *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "thaw-uffd-handler: vm %u: %s\n", s->id, msg);
}

static bool test_bit(const uint64_t *map, uint64_t b)
{
	return map[b / 64] & (1ull << (b % 64));
}

static bool set_bit(uint64_t *map, uint64_t b)
{
	bool old = test_bit(map, b);

	map[b / 64] |= 1ull << (b % 64);
	return !old;
}

/* Does the memory file hold data anywhere in [off, off + len)? */
static bool has_data(const struct memsrc *m, uint64_t off, uint64_t len)
{
	for (uint64_t p = off / 4096; p < (off + len) / 4096; p++)
		if (test_bit(m->data, p))
			return true;
	return false;
}

/* The region holding host address @addr, or NULL. */
static const struct uffd_region *find_host(const struct session *s,
					   uint64_t addr)
{
	for (unsigned int i = 0; i < s->nreg; i++)
		if (addr >= s->reg[i].host_addr &&
		    addr - s->reg[i].host_addr < s->reg[i].size)
			return &s->reg[i];
	return NULL;
}

/* The region holding memory-file offset @off, or NULL. */
static const struct uffd_region *find_off(const struct session *s,
					  uint64_t off)
{
	for (unsigned int i = 0; i < s->nreg; i++)
		if (off >= s->reg[i].offset &&
		    off - s->reg[i].offset < s->reg[i].size)
			return &s->reg[i];
	return NULL;
}

static void record(struct session *s, uint64_t off, uint64_t len)
{
	if (!s->recording)
		return;
	pthread_mutex_lock(&s->h->lock);
	for (uint64_t o = off; o < off + len; o += s->ps)
		wset__add(s->h->record, o);
	pthread_mutex_unlock(&s->h->lock);
}

/*
 * Place [dst, dst + len), memory-file offset @off, as data or as zeros.
 * Returns the bytes placed (> 0), or -errno: -EEXIST (the first page is
 * there already), -EAGAIN (the mappings are changing), -ESRCH (the VMM is
 * gone), -ENOENT (no longer mapped).
 */
static int64_t place(struct session *s, uint64_t dst, uint64_t off,
		     uint64_t len, bool data, bool wake)
{
	uint64_t mode = wake ? 0 : UFFDIO_COPY_MODE_DONTWAKE;
	int64_t done;
	int ret;

	if (!data && s->ps == UFFD_PAGE_4K) {
		struct uffdio_zeropage z = {
			.range = { .start = dst, .len = len },
			.mode = wake ? 0 : UFFDIO_ZEROPAGE_MODE_DONTWAKE,
		};

		ret = ioctl(s->uffd, UFFDIO_ZEROPAGE, &z);
		done = z.zeropage;
	} else {
		/* Huge pages have no zero-page ioctl: copy zeros. */
		struct uffdio_copy c = {
			.dst = dst, .len = len, .mode = mode,
			.src = (uintptr_t)(data ? s->h->mem.map + off : s->zero),
		};

		if (!data && len > s->ps)
			return -EINVAL;	/* s->zero holds one page */
		ret = ioctl(s->uffd, UFFDIO_COPY, &c);
		done = c.copy;
	}
	if (done > 0) {
		if (data)
			s->st.pages_copied += (uint64_t)done / s->ps;
		else
			s->st.zero_pages += (uint64_t)done / s->ps;
		return done;
	}
	return ret ? -errno : -EIO;
}

static void wake(struct session *s, uint64_t addr)
{
	struct uffdio_range r = { .start = addr, .len = s->ps };

	ioctl(s->uffd, UFFDIO_WAKE, &r);
}

/*
 * Serve one fault at page address @addr.  0 when served or dropped, 1 when
 * it must be retried, -errno to end the session.
 */
static int serve_fault(struct session *s, uint64_t addr)
{
	const struct uffd_region *r = find_host(s, addr);
	uint64_t off;
	int64_t ret;
	bool data;

	if (!r) {
		slog(s, "fault at 0x%llx outside every announced region",
		     (unsigned long long)addr);
		return -EFAULT;
	}
	off = r->offset + (addr - r->host_addr);
	data = !test_bit(s->removed, off / s->ps) &&
	       has_data(&s->h->mem, off, s->ps);
	/* Record before placing: the VMM may go on (and a SIGUSR1 may
	 * write the record) as soon as the page is there.
	 */
	record(s, off, s->ps);
	ret = place(s, addr, off, s->ps, data, true);
	if (ret > 0)
		return 0;
	switch (ret) {
	case -EEXIST:
		s->st.already_present++;
		wake(s, addr);
		return 0;
	case -EAGAIN:
		s->st.retries++;
		return 1;
	case -ENOENT:
		return 0;	/* unmapped meanwhile */
	default:
		return (int)ret;
	}
}

static void mark_range(struct session *s, uint64_t start, uint64_t end,
		       bool unmap)
{
	/* Only the part inside the regions: the range may be huge. */
	for (unsigned int i = 0; i < s->nreg; i++) {
		const struct uffd_region *r = &s->reg[i];
		uint64_t lo = start > r->host_addr ? start : r->host_addr;
		uint64_t hi = r->host_addr + r->size;

		if (end < hi)
			hi = end;
		for (uint64_t a = lo & ~(s->ps - 1); a < hi; a += s->ps) {
			uint64_t page = (r->offset + (a - r->host_addr)) / s->ps;

			if (unmap) {
				if (set_bit(s->unmapped, page))
					s->mapped_pages--;
			} else if (set_bit(s->removed, page)) {
				s->st.removed++;
			}
		}
	}
}

/* Prefetch the working set, in touch order, before serving faults. */
static int prefetch(struct session *s)
{
	const struct wset *ws = s->h->prefetch;
	struct wset_range *rg;
	size_t nr;
	int ret;

	if (!ws)
		return 0;
	if (wset__page_size(ws) != s->ps) {
		slog(s, "working set has %u-byte pages, the VM %llu: no prefetch",
		     wset__page_size(ws), (unsigned long long)s->ps);
		return 0;
	}
	ret = wset__ranges(ws, WSET_TOUCH_ORDER, PREFETCH_RUN, &rg, &nr);
	if (ret)
		return ret;
	for (size_t i = 0; i < nr; i++) {
		uint64_t off = rg[i].offset, end = off + rg[i].len;

		while (off < end) {
			const struct uffd_region *r = find_off(s, off);
			uint64_t len = s->ps, dst;
			bool data;
			int64_t n;

			if (!r) {
				off += s->ps;
				continue;
			}
			data = has_data(&s->h->mem, off, s->ps);
			/* Grow while the region, and data-or-hole, last. */
			while (off + len < end &&
			       off + len - r->offset < r->size &&
			       (data || s->ps == UFFD_PAGE_4K) &&
			       has_data(&s->h->mem, off + len, s->ps) == data)
				len += s->ps;
			dst = r->host_addr + (off - r->offset);
			n = place(s, dst, off, len, data, true);
			if (n > 0) {
				s->st.prefetched += (uint64_t)n / s->ps;
				record(s, off, (uint64_t)n);
				off += (uint64_t)n;
				continue;
			}
			if (n == -ESRCH) {
				ret = -ESRCH;
				goto out;
			}
			/* EEXIST: touched already; EAGAIN, ENOENT: the
			 * mappings are changing.  Faults will do.
			 */
			if (n == -EEXIST)
				s->st.already_present++;
			off += s->ps;
		}
	}
out:
	free(rg);
	return ret;
}

/* Read and serve what the userfaultfd has; -errno or 1 to end. */
static int drain_uffd(struct session *s, enum session_end *end)
{
	struct uffd_msg msg[EVENT_BATCH];
	ssize_t n;
	int ret;

	for (;;) {
		n = read(s->uffd, msg, sizeof(msg));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0 || n % (ssize_t)sizeof(msg[0])) {
			*end = END_ERROR;
			return n < 0 ? -errno : -EIO;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(msg[0]); i++) {
			struct uffd_msg *m = &msg[i];
			uint64_t addr;

			switch (m->event) {
			case UFFD_EVENT_PAGEFAULT:
				s->st.faults++;
				addr = m->arg.pagefault.address & ~(s->ps - 1);
				ret = serve_fault(s, addr);
				if (ret == 1 && s->nretry < MAX_RETRIES) {
					s->retry[s->nretry++] = addr;
				} else if (ret == 1) {
					slog(s, "too many faults to retry");
					*end = END_ERROR;
					return -EAGAIN;
				} else if (ret < 0) {
					*end = ret == -ESRCH ? END_VMM_EXIT :
					       END_ERROR;
					return ret;
				}
				break;
			case UFFD_EVENT_REMOVE:
				mark_range(s, m->arg.remove.start,
					   m->arg.remove.end, false);
				break;
			case UFFD_EVENT_UNMAP:
				mark_range(s, m->arg.remove.start,
					   m->arg.remove.end, true);
				if (!s->mapped_pages) {
					*end = END_UNMAPPED;
					return 1;
				}
				break;
			default:
				slog(s, "ignoring userfaultfd event %u",
				     m->event);
				break;
			}
		}
	}
}

static int serve_retries(struct session *s, enum session_end *end)
{
	unsigned int n = s->nretry;

	s->nretry = 0;
	for (unsigned int i = 0; i < n; i++) {
		int ret = serve_fault(s, s->retry[i]);

		if (ret == 1) {
			s->retry[s->nretry++] = s->retry[i];
		} else if (ret < 0) {
			*end = ret == -ESRCH ? END_VMM_EXIT : END_ERROR;
			return ret;
		}
	}
	return 0;
}

/* The VMM says nothing after the handshake; drain what it sends anyway. */
static int drain_conn(struct session *s, enum session_end *end)
{
	char buf[4096];
	ssize_t n = recv(s->conn, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		*end = END_HANGUP;
		return 1;
	}
	s->garbage += (uint64_t)n;
	if (s->garbage > MAX_GARBAGE) {
		slog(s, "the VMM keeps sending data after the handshake");
		*end = END_ERROR;
		return -EPROTO;
	}
	return 0;
}

static enum session_end serve_loop(struct session *s)
{
	enum session_end end = END_ERROR;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = s->uffd, .events = POLLIN },
			{ .fd = s->h->stop_fd, .events = POLLIN },
			/* Without a pidfd the socket tells us the VMM left;
			 * with one, the socket may close early (Firecracker
			 * closes it after the handshake).
			 */
			{ .fd = s->pidfd >= 0 ? s->pidfd : s->conn,
			  .events = POLLIN | POLLRDHUP },
		};
		int ret;

		if (s->pidfd < 0 && s->conn < 0)
			p[2].fd = -1;
		ret = poll(p, 3, s->nretry ? 1 : -1);
		if (ret < 0 && errno != EINTR) {
			slog(s, "poll: %s", strerror(errno));
			return END_ERROR;
		}
		if (ret < 0)
			continue;
		if (p[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			ret = drain_uffd(s, &end);
			if (ret)
				return end;
		}
		if (p[0].revents & (POLLERR | POLLHUP))
			return END_VMM_EXIT;
		if (s->nretry && serve_retries(s, &end))
			return end;
		if (p[1].revents & POLLIN)
			return END_STOP;
		if (p[2].revents && s->pidfd >= 0)
			return END_VMM_EXIT;
		if (p[2].revents && drain_conn(s, &end))
			return end;
	}
}

static bool is_userfaultfd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT;	/* no /proc: let the ioctls judge */
	link[n] = 0;
	return !strcmp(link, "anon_inode:[userfaultfd]");
}

/*
 * Receive the one message: JSON and exactly one fd, within the handshake
 * time.  The JSON may arrive in pieces; it is parsed as it grows.
 */
static int handshake(struct session *s)
{
	struct handler *h = s->h;
	uint64_t deadline = snap_now_ns() + (uint64_t)h->handshake_ms * 1000000;
	size_t len = 0, cap = UFFD_MAX_MSG;
	char *buf = malloc(cap + 1);
	char err[256] = "";
	int ret = -EPROTO, extra = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		char cbuf[CMSG_SPACE(8 * sizeof(int))];
		struct iovec iov = { .iov_base = buf + len,
				     .iov_len = cap - len };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct pollfd p = { .fd = s->conn, .events = POLLIN };
		uint64_t now = snap_now_ns();
		ssize_t n;

		if (now >= deadline ||
		    poll(&p, 1, (int)((deadline - now) / 1000000) + 1) == 0) {
			slog(s, "refused: no complete handshake within %d ms",
			     h->handshake_ms);
			ret = -ETIMEDOUT;
			break;
		}
		n = recvmsg(s->conn, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			slog(s, "refused: recvmsg: %s", strerror(errno));
			ret = -errno;
			break;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c)) {
			int nfd, fd;

			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int k = 0; k < nfd; k++) {
				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int),
				       sizeof(int));
				if (s->uffd < 0) {
					s->uffd = fd;
				} else {
					close(fd);
					extra++;
				}
			}
		}
		if (mh.msg_flags & MSG_CTRUNC || extra) {
			slog(s, "refused: more than one file descriptor (this handler speaks the single-userfaultfd protocol)");
			break;
		}
		if (!n) {
			slog(s, "refused: the VMM closed the socket after %zu bytes",
			     len);
			break;
		}
		len += (size_t)n;
		ret = uffd__parse_regions(buf, len, h->mem.size, &s->reg,
					  &s->nreg, err, sizeof(err));
		if (ret == -EAGAIN && len < cap)
			continue;
		if (ret) {
			slog(s, "refused: %s", err);
			ret = -EPROTO;
		}
		break;
	}
	free(buf);
	if (ret)
		return ret;
	if (s->uffd < 0) {
		slog(s, "refused: the message carried no userfaultfd");
		return -EPROTO;
	}
	if (!is_userfaultfd(s->uffd)) {
		slog(s, "refused: the file descriptor is not a userfaultfd");
		return -EPROTO;
	}
	return 0;
}

static int session_setup(struct session *s)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uint64_t pages;
	int fl;

	s->ps = s->reg[0].page_size;
	if (!snap_aligned(s->h->mem.size, s->ps)) {
		slog(s, "refused: the memory file is not a whole number of %llu-byte pages",
		     (unsigned long long)s->ps);
		return -EPROTO;
	}
	pages = s->h->mem.size / s->ps;
	s->removed = calloc((pages + 63) / 64, sizeof(uint64_t));
	s->unmapped = calloc((pages + 63) / 64, sizeof(uint64_t));
	if (!s->removed || !s->unmapped)
		return -ENOMEM;
	for (unsigned int i = 0; i < s->nreg; i++)
		s->mapped_pages += s->reg[i].size / s->ps;
	if (s->ps != UFFD_PAGE_4K) {
		s->zero = mmap(NULL, s->ps, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s->zero == MAP_FAILED) {
			s->zero = NULL;
			return -ENOMEM;
		}
	}
	fl = fcntl(s->uffd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(s->uffd, F_SETFL, fl | O_NONBLOCK);
	if (!getsockopt(s->conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen) &&
	    cred.pid > 0) {
		s->pid = cred.pid;
		s->pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
	}

	if (s->h->record_path) {
		pthread_mutex_lock(&s->h->lock);
		if (!s->h->record_claimed &&
		    !wset__new(s->h->mem.size, (uint32_t)s->ps,
			       &s->h->record)) {
			s->h->record_claimed = true;
			s->recording = true;
		}
		pthread_mutex_unlock(&s->h->lock);
	}
	return 0;
}

void serve__session(struct handler *h, int conn, unsigned int id,
		    struct session_result *res)
{
	struct session *s = calloc(1, sizeof(*s));
	int ret;

	memset(res, 0, sizeof(*res));
	res->end = END_REFUSED;
	if (!s) {
		close(conn);
		return;
	}
	s->h = h;
	s->id = id;
	s->conn = conn;
	s->uffd = -1;
	s->pidfd = -1;

	ret = handshake(s);
	if (!ret)
		ret = session_setup(s);
	if (ret)
		goto out;
	res->end = END_ERROR;
	ret = prefetch(s);
	if (ret == -ESRCH)
		res->end = END_VMM_EXIT;
	else if (ret)
		slog(s, "prefetch: %s", strerror(-ret));
	else
		res->end = serve_loop(s);
out:
	res->pid = s->pid;
	res->recorded = s->recording;
	res->st = s->st;
	if (s->zero)
		munmap((void *)s->zero, s->ps);
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->uffd >= 0)
		close(s->uffd);
	close(s->conn);
	free(s->removed);
	free(s->unmapped);
	free(s->reg);
	free(s);
}
