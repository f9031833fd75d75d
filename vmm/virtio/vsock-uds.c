// SPDX-License-Identifier: GPL-2.0
/*
 * The host side of virtio-vsock, Firecracker's Unix-socket protocol:
 *
 *  - host -> guest: a host program connects to uds_path and writes
 *    "CONNECT <port>\n"; the VMM sends the guest a REQUEST from a fresh host
 *    port to <port>; on the guest's RESPONSE the host program reads
 *    "OK <host port>\n" and the socket carries the stream; on RST it is
 *    closed.
 *  - guest -> host: a guest connection to CID 2 port P is a connection to
 *    the Unix socket <uds_path>_<P>; if nothing listens there, RST.
 *
 * Credit (virtio 1.x, 5.10.6.3): we advertise CONN_BUF_ALLOC bytes per
 * connection and buffer at most that much of what the guest sent and the
 * host socket has not taken yet; a guest that sends beyond its credit is
 * reset.  Towards the guest we read from the host socket only as much as
 * the guest's credit allows and only into rx buffers it posted with room
 * past the header; a header-only buffer carries a control packet.
 *
 * Everything here runs on the device loop thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/unix-sock.h"
#include "vmm/kvm.h"
#include "vmm/list.h"
#include "vmm/uring.h"
#include "vmm/virtio/queue.h"
#include "vmm/virtio/vsock.h"

#define CONN_BUF_ALLOC		(128 * 1024)
#define MAX_CONNS		512
#define HASH_BUCKETS		256
#define RST_QUEUE		64
#define HANDSHAKE_MAX		32
#define HOST_PORT_FIRST		49152
#define LISTEN_BACKLOG		128

enum conn_state {
	CONN_HANDSHAKE,		/* accepted, waiting for "CONNECT <port>\n" */
	CONN_CONNECTING,	/* REQUEST queued or sent, no RESPONSE yet */
	CONN_ESTABLISHED,
};

/* Control packets a connection owes the guest. */
#define PEND_REQUEST		0x01
#define PEND_RESPONSE		0x02
#define PEND_CREDIT_UPDATE	0x04
#define PEND_CREDIT_REQUEST	0x08

struct conn {
	struct vsock_uds *b;
	struct list_node anode;		/* b->all */
	struct list_node hnode;		/* b->hash[], once ports are known */
	struct list_node rnode;		/* b->ready: owes the guest a packet */
	bool hashed, on_ready, dead;
	unsigned int busy;		/* a callback of ours is running */
	enum conn_state state;
	int fd;
	uint32_t local_port, peer_port;
	uint32_t pending;
	/* host -> guest */
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	bool readable, host_eof, credit_requested;
	/* guest -> host: buf holds rx_cnt - fwd_cnt bytes */
	uint32_t rx_cnt, fwd_cnt, last_fwd_cnt_sent;
	uint8_t *buf;
	uint32_t buf_head, buf_len;
	bool peer_no_send, peer_no_recv, host_wr_shut, close_when_flushed;
	char line[HANDSHAKE_MAX];
	uint32_t line_len;
	struct uring_poll pin, pout;
};

struct vsock_uds {
	struct kvm *kvm;
	struct vsock *dev;
	uint64_t guest_cid;
	char *path;
	struct unix_sock_id id;		/* the socket file we bound at path */
	int listen_fd;
	struct uring_poll listen_poll;
	struct list_node all;
	struct list_node hash[HASH_BUCKETS];
	struct list_node ready;
	unsigned int nr_conns;
	uint32_t next_port;
	struct { uint32_t local, peer; } rst[RST_QUEUE];
	unsigned int rst_head, rst_len;
};

static void update_polls(struct conn *c);

static struct list_node *bucket(struct vsock_uds *b, uint32_t local,
				uint32_t peer)
{
	return &b->hash[(local * 2654435761U ^ peer) % HASH_BUCKETS];
}

static struct conn *find(struct vsock_uds *b, uint32_t local, uint32_t peer)
{
	struct list_node *h = bucket(b, local, peer), *n, *t;

	list_for_each_safe(n, t, h) {
		struct conn *c = container_of(n, struct conn, hnode);

		if (c->local_port == local && c->peer_port == peer)
			return c;
	}
	return NULL;
}

static void hash_conn(struct conn *c)
{
	list__add_tail(&c->hnode, bucket(c->b, c->local_port, c->peer_port));
	c->hashed = true;
}

static void queue_rst(struct vsock_uds *b, uint32_t local, uint32_t peer)
{
	unsigned int i;

	/* Full: drop it; the guest's connect or close times out instead. */
	if (b->rst_len == RST_QUEUE)
		return;
	i = (b->rst_head + b->rst_len++) % RST_QUEUE;
	b->rst[i].local = local;
	b->rst[i].peer = peer;
}

static uint32_t peer_credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 :
		c->peer_buf_alloc - in_flight;
}

static bool can_send_data(const struct conn *c)
{
	return c->state == CONN_ESTABLISHED && c->readable && !c->host_eof &&
		!c->peer_no_recv && peer_credit(c) > 0;
}

static void mark_ready(struct conn *c)
{
	if (c->dead || c->on_ready)
		return;
	if (c->pending || can_send_data(c)) {
		list__add_tail(&c->rnode, &c->b->ready);
		c->on_ready = true;
	}
}

static void unready(struct conn *c)
{
	if (c->on_ready) {
		list__del(&c->rnode);
		c->on_ready = false;
	}
}

static void maybe_free(struct conn *c)
{
	if (!c->dead || c->busy || c->pin.armed || c->pout.armed)
		return;
	list__del(&c->anode);
	close(c->fd);
	free(c->buf);
	c->b->nr_conns--;
	free(c);
}

/* Tear down; queue an RST for the guest if it knows the connection. */
static void kill_conn(struct conn *c, bool rst)
{
	struct vsock_uds *b = c->b;

	if (c->dead)
		return;
	if (rst && c->state == CONN_ESTABLISHED) {
		queue_rst(b, c->local_port, c->peer_port);
		kvm__count(b->kvm, vsock_rsts);
	} else if (rst && c->state == CONN_CONNECTING &&
		   !(c->pending & PEND_REQUEST)) {
		queue_rst(b, c->local_port, c->peer_port);
		kvm__count(b->kvm, vsock_rsts);
	}
	unready(c);
	if (c->hashed) {
		list__del(&c->hnode);
		c->hashed = false;
	}
	c->dead = true;
	/* The host program sees the end now, not when the polls return. */
	shutdown(c->fd, SHUT_RDWR);
	uring__poll_cancel(b->kvm->loop, &c->pin);
	uring__poll_cancel(b->kvm->loop, &c->pout);
	maybe_free(c);
}

static void maybe_credit_update(struct conn *c)
{
	uint32_t unacked = c->rx_cnt - c->last_fwd_cnt_sent;

	if (c->fwd_cnt != c->last_fwd_cnt_sent &&
	    unacked > CONN_BUF_ALLOC / 2)
		c->pending |= PEND_CREDIT_UPDATE;
}

static ssize_t send_iov(int fd, const struct iovec *iov, unsigned int n)
{
	struct msghdr msg = {
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = n,
	};
	ssize_t w;

	w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return w;
}

/* After the host took everything: finish closes the guest asked for. */
static bool after_flush(struct conn *c)
{
	if (c->buf_len)
		return true;
	if (c->close_when_flushed) {
		kill_conn(c, true);
		return false;
	}
	if (c->peer_no_send && !c->host_wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->host_wr_shut = true;
	}
	return true;
}

/* Write buffered guest data to the host; false if @c is gone. */
static bool flush(struct conn *c)
{
	struct iovec iov[2];
	unsigned int n = 1;
	uint32_t first;
	ssize_t w;

	if (!c->buf_len)
		return after_flush(c);
	first = CONN_BUF_ALLOC - c->buf_head;
	if (first > c->buf_len)
		first = c->buf_len;
	iov[0].iov_base = c->buf + c->buf_head;
	iov[0].iov_len = first;
	if (first < c->buf_len) {
		iov[1].iov_base = c->buf;
		iov[1].iov_len = c->buf_len - first;
		n = 2;
	}
	w = send_iov(c->fd, iov, n);
	if (w < 0) {
		kill_conn(c, true);
		return false;
	}
	c->buf_head = (c->buf_head + w) % CONN_BUF_ALLOC;
	c->buf_len -= w;
	c->fwd_cnt += w;
	maybe_credit_update(c);
	return after_flush(c);
}

/* Guest data: straight to the host socket, the rest into the buffer. */
static bool deliver(struct conn *c, const struct iovec *iov, unsigned int n,
		    uint32_t len)
{
	uint32_t off = 0, tail, k;
	ssize_t w;

	if (!c->buf_len) {
		w = send_iov(c->fd, iov, n);
		if (w < 0) {
			kill_conn(c, true);
			return false;
		}
		off = w;
		c->fwd_cnt += w;
	}
	if (off < len) {
		if (!c->buf) {
			c->buf = malloc(CONN_BUF_ALLOC);
			if (!c->buf) {
				kill_conn(c, true);
				return false;
			}
		}
		/* The credit check guaranteed the room. */
		while (off < len) {
			tail = (c->buf_head + c->buf_len) % CONN_BUF_ALLOC;
			k = CONN_BUF_ALLOC - tail;
			if (k > len - off)
				k = len - off;
			iov__to_buf(iov, n, off, c->buf + tail, k);
			c->buf_len += k;
			off += k;
		}
	}
	maybe_credit_update(c);
	return true;
}

static void guest_connect(struct vsock_uds *b, const struct vsock_hdr *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct conn *c;
	int fd, n;

	if (b->nr_conns >= MAX_CONNS)
		goto refuse;
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", b->path,
		     h->dst_port);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		goto refuse;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto refuse;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		pr_guest_debug("vsock: guest connect to %s: %s",
			       sa.sun_path, strerror(errno));
		close(fd);
		goto refuse;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		goto refuse;
	}
	c->b = b;
	c->fd = fd;
	c->state = CONN_ESTABLISHED;
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->pending = PEND_RESPONSE;
	uring__poll_init(&c->pin, fd, POLLIN, NULL, c);
	uring__poll_init(&c->pout, fd, POLLOUT, NULL, c);
	list__add_tail(&c->anode, &b->all);
	b->nr_conns++;
	kvm__count(b->kvm, vsock_conns);
	hash_conn(c);
	mark_ready(c);
	update_polls(c);
	return;
refuse:
	queue_rst(b, h->dst_port, h->src_port);
	kvm__count(b->kvm, vsock_rsts);
}

static void uds_recv(void *priv, const struct vsock_hdr *h,
		     const struct iovec *payload, unsigned int n)
{
	struct vsock_uds *b = priv;
	struct conn *c;

	if (h->dst_cid != VSOCK_CID_HOST)
		return;
	if (h->type != VSOCK_TYPE_STREAM) {
		if (h->op != VSOCK_OP_RST)
			queue_rst(b, h->dst_port, h->src_port);
		return;
	}
	c = find(b, h->dst_port, h->src_port);
	if (!c) {
		if (h->op == VSOCK_OP_REQUEST)
			guest_connect(b, h);
		else if (h->op != VSOCK_OP_RST)
			queue_rst(b, h->dst_port, h->src_port);
		return;
	}
	/* Every packet carries the guest's credit. */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	if (peer_credit(c))
		c->credit_requested = false;

	switch (h->op) {
	case VSOCK_OP_RESPONSE: {
		char ok[24];
		int len;

		if (c->state != CONN_CONNECTING ||
		    (c->pending & PEND_REQUEST)) {
			kill_conn(c, true);
			return;
		}
		c->state = CONN_ESTABLISHED;
		len = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);
		if (send(c->fd, ok, len, MSG_NOSIGNAL | MSG_DONTWAIT) != len) {
			kill_conn(c, true);
			return;
		}
		break;
	}
	case VSOCK_OP_RST:
		kill_conn(c, false);
		return;
	case VSOCK_OP_SHUTDOWN:
		if (h->flags & VSOCK_SHUTDOWN_SEND)
			c->peer_no_send = true;
		if (h->flags & VSOCK_SHUTDOWN_RCV)
			c->peer_no_recv = true;
		/* Both ways closed: flush, then answer with RST. */
		if ((c->peer_no_send && c->peer_no_recv) ||
		    (c->peer_no_send && c->host_eof))
			c->close_when_flushed = true;
		if (!after_flush(c))
			return;
		break;
	case VSOCK_OP_RW:
		if (c->state != CONN_ESTABLISHED || c->peer_no_send ||
		    h->len > CONN_BUF_ALLOC - (c->rx_cnt - c->fwd_cnt)) {
			kill_conn(c, true);
			return;
		}
		c->rx_cnt += h->len;
		if (!deliver(c, payload, n, h->len))
			return;
		break;
	case VSOCK_OP_CREDIT_UPDATE:
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		c->pending |= PEND_CREDIT_UPDATE;
		break;
	default:
		/* REQUEST on a live connection, or an unknown op. */
		kill_conn(c, true);
		return;
	}
	mark_ready(c);
	update_polls(c);
}

static bool uds_pending(void *priv)
{
	struct vsock_uds *b = priv;

	return b->rst_len || !list__empty(&b->ready);
}

static void fill_hdr(struct vsock_uds *b, struct vsock_hdr *h, uint32_t local,
		     uint32_t peer, uint16_t op)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VSOCK_CID_HOST;
	h->dst_cid = b->guest_cid;
	h->src_port = local;
	h->dst_port = peer;
	h->type = VSOCK_TYPE_STREAM;
	h->op = op;
}

/* The next packet @c owes the guest: 1 if built, 0 if none (@c may die). */
static int conn_fill(struct conn *c, struct vsock_hdr *h,
		     const struct iovec *buf, unsigned int n, uint32_t cap)
{
	struct iovec iov[VIRTQ_MAX_SIZE];
	uint16_t op = 0;
	uint32_t flags = 0, len = 0, max;
	unsigned int m;
	ssize_t r;

	if (c->pending & PEND_REQUEST) {
		c->pending &= ~PEND_REQUEST;
		op = VSOCK_OP_REQUEST;
	} else if (c->pending & PEND_RESPONSE) {
		c->pending &= ~PEND_RESPONSE;
		op = VSOCK_OP_RESPONSE;
	} else if (can_send_data(c) && cap) {
		max = peer_credit(c);
		if (max > cap)
			max = cap;
		m = iov__slice(buf, n, 0, max, iov, VIRTQ_MAX_SIZE);
		r = readv(c->fd, iov, m);
		if (r > 0) {
			op = VSOCK_OP_RW;
			len = r;
			c->tx_cnt += r;
		} else if (r == 0) {
			/* The host will send no more. */
			c->host_eof = true;
			c->readable = false;
			if (c->peer_no_send) {
				c->close_when_flushed = true;
				if (!after_flush(c))
					return 0;
			}
			op = VSOCK_OP_SHUTDOWN;
			flags = VSOCK_SHUTDOWN_SEND;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->readable = false;
		} else {
			kill_conn(c, true);
			return 0;
		}
	}
	if (!op && (c->pending & PEND_CREDIT_UPDATE)) {
		op = VSOCK_OP_CREDIT_UPDATE;
	} else if (!op && (c->pending & PEND_CREDIT_REQUEST)) {
		c->pending &= ~PEND_CREDIT_REQUEST;
		op = VSOCK_OP_CREDIT_REQUEST;
	} else if (!op && !cap && can_send_data(c)) {
		/*
		 * Data to send, but the buffer holds a header only.  A read
		 * into nothing would return 0 and look like the host's EOF:
		 * the data stays in the socket for a buffer with room, and
		 * this one goes back with our credit, a packet any driver
		 * takes, rather than block the ring.
		 */
		op = VSOCK_OP_CREDIT_UPDATE;
	}
	if (c->readable && !peer_credit(c) && !c->credit_requested &&
	    c->state == CONN_ESTABLISHED) {
		c->pending |= PEND_CREDIT_REQUEST;
		c->credit_requested = true;
	}
	if (op) {
		fill_hdr(c->b, h, c->local_port, c->peer_port, op);
		h->len = len;
		h->flags = flags;
		/* Every packet tells the guest our credit. */
		h->buf_alloc = CONN_BUF_ALLOC;
		h->fwd_cnt = c->fwd_cnt;
		c->last_fwd_cnt_sent = c->fwd_cnt;
		c->pending &= ~PEND_CREDIT_UPDATE;
	}
	mark_ready(c);
	update_polls(c);
	return op ? 1 : 0;
}

static int uds_fill(void *priv, struct vsock_hdr *h, const struct iovec *buf,
		    unsigned int n, uint32_t cap)
{
	struct vsock_uds *b = priv;
	struct conn *c;
	unsigned int i;

	for (;;) {
		if (b->rst_len) {
			i = b->rst_head;
			b->rst_head = (b->rst_head + 1) % RST_QUEUE;
			b->rst_len--;
			fill_hdr(b, h, b->rst[i].local, b->rst[i].peer,
				 VSOCK_OP_RST);
			return 1;
		}
		if (list__empty(&b->ready))
			return 0;
		c = container_of(b->ready.next, struct conn, rnode);
		unready(c);
		if (conn_fill(c, h, buf, n, cap))
			return 1;
	}
}

static void handshake(struct conn *c)
{
	struct vsock_uds *b = c->b;
	unsigned long port;
	char *end, ch;
	ssize_t r;

	/* Byte by byte: nothing after the line may be taken from the host. */
	for (;;) {
		r = recv(c->fd, &ch, 1, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			kill_conn(c, false);
			return;
		}
		if (ch == '\n')
			break;
		if (c->line_len == HANDSHAKE_MAX - 1) {
			kill_conn(c, false);
			return;
		}
		c->line[c->line_len++] = ch;
	}
	c->line[c->line_len] = '\0';
	if (strncmp(c->line, "CONNECT ", 8) || c->line[8] < '0' ||
	    c->line[8] > '9') {
		pr_debug("vsock: bad CONNECT line \"%s\"", c->line);
		kill_conn(c, false);
		return;
	}
	errno = 0;
	port = strtoul(c->line + 8, &end, 10);
	if (*end || errno || port > UINT32_MAX) {
		kill_conn(c, false);
		return;
	}
	c->peer_port = port;
	do {
		c->local_port = b->next_port++;
		if (b->next_port < HOST_PORT_FIRST)
			b->next_port = HOST_PORT_FIRST;
	} while (find(b, c->local_port, c->peer_port));
	c->state = CONN_CONNECTING;
	c->pending = PEND_REQUEST;
	kvm__count(b->kvm, vsock_conns);
	hash_conn(c);
	mark_ready(c);
}

static void pin_fn(struct uring_poll *p, int res)
{
	struct conn *c = p->arg;
	struct vsock_uds *b = c->b;

	c->busy++;
	if (c->dead)
		goto out;
	if (res < 0) {
		kill_conn(c, true);
	} else if (c->state == CONN_HANDSHAKE) {
		handshake(c);
	} else {
		c->readable = true;
		mark_ready(c);
	}
	update_polls(c);
	vsock__rx_pump(b->dev);
out:
	c->busy--;
	maybe_free(c);
}

static void pout_fn(struct uring_poll *p, int res)
{
	struct conn *c = p->arg;
	struct vsock_uds *b = c->b;

	c->busy++;
	if (c->dead)
		goto out;
	if (res < 0) {
		kill_conn(c, true);
	} else if (flush(c)) {
		mark_ready(c);
		update_polls(c);
	}
	vsock__rx_pump(b->dev);
out:
	c->busy--;
	maybe_free(c);
}

static void update_polls(struct conn *c)
{
	struct uring_loop *l = c->b->kvm->loop;
	bool want_in;

	if (c->dead)
		return;
	c->pin.fn = pin_fn;
	c->pout.fn = pout_fn;
	want_in = c->state == CONN_HANDSHAKE ||
		(c->state == CONN_ESTABLISHED && !c->readable &&
		 !c->host_eof && !c->peer_no_recv && peer_credit(c) > 0);
	if (want_in)
		uring__poll_arm(l, &c->pin);
	if (c->buf_len)
		uring__poll_arm(l, &c->pout);
}

static void listen_fn(struct uring_poll *p, int res)
{
	struct vsock_uds *b = p->arg;
	struct conn *c;
	int fd;

	for (;;) {
		fd = accept4(b->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		if (b->nr_conns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->b = b;
		c->fd = fd;
		c->state = CONN_HANDSHAKE;
		uring__poll_init(&c->pin, fd, POLLIN, pin_fn, c);
		uring__poll_init(&c->pout, fd, POLLOUT, pout_fn, c);
		list__add_tail(&c->anode, &b->all);
		b->nr_conns++;
		update_polls(c);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
		pr_warn("vsock: accept on %s: %s", b->path, strerror(errno));
	uring__poll_arm(b->kvm->loop, &b->listen_poll);
	vsock__rx_pump(b->dev);
}

static void uds_reset(void *priv)
{
	struct vsock_uds *b = priv;
	struct list_node *n, *t;

	list_for_each_safe(n, t, &b->all)
		kill_conn(container_of(n, struct conn, anode), false);
	b->rst_len = 0;
}

static void uds_set_cid(void *priv, uint64_t guest_cid)
{
	struct vsock_uds *b = priv;

	b->guest_cid = guest_cid;
}

static int uds_create(struct kvm *kvm, struct vsock *dev, uint64_t guest_cid,
		      const char *uds_path, void **out, char *err,
		      size_t errlen)
{
	struct vsock_uds *b;
	unsigned int i;
	int ret;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->kvm = kvm;
	b->dev = dev;
	b->guest_cid = guest_cid;
	b->listen_fd = -1;
	b->next_port = HOST_PORT_FIRST;
	list__init(&b->all);
	list__init(&b->ready);
	for (i = 0; i < HASH_BUCKETS; i++)
		list__init(&b->hash[i]);
	b->path = strdup(uds_path);
	if (!b->path) {
		ret = -ENOMEM;
		goto err;
	}
	/*
	 * A stale socket (a killed VMM's) is replaced; one another VMM
	 * listens on is its guest's, never ours to take.
	 */
	ret = unix_sock__listen("uds_path", uds_path, LISTEN_BACKLOG, &b->id,
				err, errlen);
	if (ret < 0)
		goto err;
	b->listen_fd = ret;
	uring__poll_init(&b->listen_poll, b->listen_fd, POLLIN, listen_fn, b);
	*out = b;
	return 0;
err:
	free(b->path);
	free(b);
	return ret;
}

static int uds_start(void *priv)
{
	struct vsock_uds *b = priv;

	return uring__poll_arm(b->kvm->loop, &b->listen_poll);
}

/* The loop is gone: no poll will ever complete, free everything. */
static void uds_free(void *priv)
{
	struct vsock_uds *b = priv;
	struct list_node *n, *t;

	if (!b)
		return;
	list_for_each_safe(n, t, &b->all) {
		struct conn *c = container_of(n, struct conn, anode);

		close(c->fd);
		free(c->buf);
		free(c);
	}
	if (b->listen_fd >= 0) {
		unix_sock__unlink(b->path, &b->id);
		close(b->listen_fd);
	}
	free(b->path);
	free(b);
}

const struct vsock_backend_ops vsock_uds_ops = {
	.name = "uds",
	.create = uds_create,
	.free = uds_free,
	.start = uds_start,
	.recv = uds_recv,
	.pending = uds_pending,
	.fill = uds_fill,
	.reset = uds_reset,
	.set_cid = uds_set_cid,
};
