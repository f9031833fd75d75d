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
 * the guest's credit allows, and hand it on only in rx buffers the guest
 * posted with room past the header; a header-only buffer carries a
 * control packet.
 *
 * The data moves on the loop's socket ring (vmm/uring.h), through host
 * buffers, one send and one recv per connection at most:
 *
 *  - guest -> host: a packet's payload goes straight from the chain to
 *    the host socket, an IORING_OP_SENDMSG with MSG_DONTWAIT answered at
 *    submission (uring__sock_sendmsg_now()), when nothing waits before it;
 *    what the socket does not take now is copied into the connection's
 *    buffer, and the chain goes back to the guest.  An IORING_OP_SENDMSG
 *    then writes the buffer, waiting in the kernel while the socket is
 *    full; what the guest sends meanwhile queues behind it, in order.
 *  - host -> guest: an IORING_OP_RECV of at most the guest's credit (and
 *    RX_BUF_SIZE) into the connection's rx buffer, waiting in the kernel
 *    for data; what it got goes into the guest's rx buffers as they come,
 *    and the next recv starts once all of it went.
 *
 * No request in flight points into guest memory: a chain is never held
 * for a host socket (one slow host program cannot take the guest's tx
 * ring from the other connections), and a pause, a snapshot, a rewind or
 * a device reset finds nothing in flight that reads or writes the
 * guest's pages.
 * A request in flight belongs to its connection, which stays allocated
 * until its completion (a reset cancels them).
 *
 * Everything here runs on the device loop thread, or on another while the
 * loop is parked or gone (reset, free).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
/* One recv's most: what one rx packet of ours carries (vsock.c). */
#define RX_BUF_SIZE		(64 * 1024)
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
#define PEND_SHUTDOWN		0x10	/* the host's EOF, after its data */

struct conn;

/* A request of a connection's on the socket ring. */
struct conn_req {
	struct uring_req req;
	struct conn *c;
	bool busy;			/* submitted, not completed */
};

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
	/*
	 * host -> guest: rbuf[roff, rlen) came from the host socket and is
	 * not yet the guest's; readable: the host has data (there, or a
	 * poll said so while the guest's credit was 0).
	 */
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	bool readable, host_eof, credit_requested;
	uint8_t *rbuf;
	uint32_t roff, rlen;
	struct conn_req recv;
	/*
	 * guest -> host: buf holds rx_cnt - fwd_cnt bytes, from buf_head;
	 * the first send.len of them are in flight when send.busy.
	 */
	uint32_t rx_cnt, fwd_cnt, last_fwd_cnt_sent;
	uint8_t *buf;
	uint32_t buf_head, buf_len;
	struct conn_req send;
	struct msghdr msg;
	struct iovec siov[2];
	bool peer_no_send, peer_no_recv, host_wr_shut, close_when_flushed;
	char line[HANDSHAKE_MAX];
	uint32_t line_len;
	/* Readiness, for the handshake and for a ring answer of EAGAIN. */
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

static void update_io(struct conn *c);
static void conn_init(struct conn *c, struct vsock_uds *b, int fd);

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
	return c->state == CONN_ESTABLISHED && c->rlen > c->roff &&
		!c->peer_no_recv && peer_credit(c) > 0;
}

/* The host has data and the guest no room: ask for credit, once. */
static void want_credit(struct conn *c)
{
	if (c->readable && !peer_credit(c) && !c->credit_requested &&
	    c->state == CONN_ESTABLISHED) {
		c->pending |= PEND_CREDIT_REQUEST;
		c->credit_requested = true;
	}
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

/*
 * A connection's buffers are mappings of their own, not malloc()'s: a
 * free() that shrinks a thread's malloc heap makes glibc open
 * /proc/sys/vm/overcommit_memory, a call the device loop's seccomp filter
 * denies (it killed thawvm in selftests/vmm/boot_test with 64 KiB rx
 * buffers from the heap).
 */
static void *buf_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void buf_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

static void maybe_free(struct conn *c)
{
	if (!c->dead || c->busy || c->pin.armed || c->pout.armed ||
	    c->recv.busy || c->send.busy)
		return;
	list__del(&c->anode);
	close(c->fd);
	buf_free(c->buf, CONN_BUF_ALLOC);
	buf_free(c->rbuf, RX_BUF_SIZE);
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
	/* Each completes (-ECANCELED, or what it did first) and frees @c. */
	if (c->recv.busy || c->send.busy)
		uring__sock_cancel_fd(b->kvm->loop, c->fd);
	maybe_free(c);
}

static void maybe_credit_update(struct conn *c)
{
	uint32_t unacked = c->rx_cnt - c->last_fwd_cnt_sent;

	if (c->fwd_cnt != c->last_fwd_cnt_sent &&
	    unacked > CONN_BUF_ALLOC / 2)
		c->pending |= PEND_CREDIT_UPDATE;
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

/* The buffered guest data to the host socket, if no send is in flight. */
static void start_send(struct conn *c)
{
	uint32_t first;
	unsigned int n = 1;
	int ret;

	if (c->dead || c->send.busy || c->pout.armed || !c->buf_len)
		return;
	first = CONN_BUF_ALLOC - c->buf_head;
	if (first > c->buf_len)
		first = c->buf_len;
	c->siov[0].iov_base = c->buf + c->buf_head;
	c->siov[0].iov_len = first;
	if (first < c->buf_len) {
		c->siov[1].iov_base = c->buf;
		c->siov[1].iov_len = c->buf_len - first;
		n = 2;
	}
	memset(&c->msg, 0, sizeof(c->msg));
	c->msg.msg_iov = c->siov;
	c->msg.msg_iovlen = n;
	ret = uring__sock_sendmsg(c->b->kvm->loop, &c->send.req, c->fd,
				  &c->msg, MSG_NOSIGNAL);
	if (ret) {
		pr_warn("vsock: socket ring full: connection %u reset",
			c->local_port);
		kill_conn(c, true);
		return;
	}
	c->send.busy = true;
}

/* The host socket took @res bytes of the buffer (or failed). */
static void send_done(struct uring_req *r, int res)
{
	struct conn_req *q = container_of(r, struct conn_req, req);
	struct conn *c = q->c;
	struct vsock_uds *b = c->b;

	q->busy = false;
	c->busy++;
	if (c->dead)
		goto out;
	if (res == -EAGAIN || res == -EWOULDBLOCK) {
		/* Not waited for in the kernel: wait for room here. */
		uring__poll_arm(b->kvm->loop, &c->pout);
		goto out;
	}
	if (res < 0 || (uint32_t)res > c->buf_len) {
		kill_conn(c, true);
		goto pump;
	}
	c->buf_head = (c->buf_head + res) % CONN_BUF_ALLOC;
	c->buf_len -= res;
	c->fwd_cnt += res;
	maybe_credit_update(c);
	if (after_flush(c)) {
		mark_ready(c);
		update_io(c);
	}
pump:
	vsock__rx_pump(b->dev);
out:
	c->busy--;
	maybe_free(c);
}

/*
 * Guest data: straight from the chain to the host socket if nothing waits
 * before it and the socket takes it now (the chain goes back at once, so
 * nothing may read it later), the rest into the buffer, to be sent.
 */
static bool deliver(struct conn *c, const struct iovec *iov, unsigned int n,
		    uint32_t len)
{
	uint32_t off = 0, tail, k;
	struct msghdr m = {
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = n,
	};
	int w;

	if (!c->buf_len && !c->send.busy && !c->pout.armed) {
		w = uring__sock_sendmsg_now(c->b->kvm->loop, c->fd, &m,
					    MSG_NOSIGNAL);
		if (w < 0 && w != -EAGAIN && w != -EBUSY) {
			kill_conn(c, true);
			return false;
		}
		if (w > 0) {
			off = w;
			c->fwd_cnt += w;
		}
	}
	if (off == len)
		goto out;
	if (!c->buf) {
		c->buf = buf_alloc(CONN_BUF_ALLOC);
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
out:
	maybe_credit_update(c);
	return true;
}

/* Does @c want the host's next bytes (credit aside)? */
static bool wants_recv(const struct conn *c)
{
	return c->state == CONN_ESTABLISHED && !c->host_eof &&
		!c->peer_no_recv && c->rlen == c->roff;
}

/* A recv of what the guest's credit allows, when all before it went. */
static void start_recv(struct conn *c)
{
	uint32_t len = peer_credit(c);
	int ret;

	if (c->dead || c->recv.busy || c->pin.armed || !wants_recv(c) ||
	    !len)
		return;
	if (len > RX_BUF_SIZE)
		len = RX_BUF_SIZE;
	if (!c->rbuf) {
		c->rbuf = buf_alloc(RX_BUF_SIZE);
		if (!c->rbuf) {
			kill_conn(c, true);
			return;
		}
	}
	ret = uring__sock_recv(c->b->kvm->loop, &c->recv.req, c->fd, c->rbuf,
			       len, 0);
	if (ret) {
		pr_warn("vsock: socket ring full: connection %u reset",
			c->local_port);
		kill_conn(c, true);
		return;
	}
	c->recv.busy = true;
	c->readable = false;
}

static void recv_done(struct uring_req *r, int res)
{
	struct conn_req *q = container_of(r, struct conn_req, req);
	struct conn *c = q->c;
	struct vsock_uds *b = c->b;

	q->busy = false;
	c->busy++;
	if (c->dead)
		goto out;
	if (res == -EAGAIN || res == -EWOULDBLOCK) {
		uring__poll_arm(b->kvm->loop, &c->pin);
		goto out;
	}
	if (res < 0) {
		kill_conn(c, true);
	} else if (res == 0) {
		/* The host will send no more (the rx buffer is empty). */
		c->host_eof = true;
		if (!c->peer_no_recv)
			c->pending |= PEND_SHUTDOWN;
	} else {
		c->roff = 0;
		c->rlen = res;
		c->readable = true;
	}
	if (!c->dead) {
		mark_ready(c);
		update_io(c);
	}
	vsock__rx_pump(b->dev);
out:
	c->busy--;
	maybe_free(c);
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
	conn_init(c, b, fd);
	c->state = CONN_ESTABLISHED;
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->pending = PEND_RESPONSE;
	kvm__count(b->kvm, vsock_conns);
	hash_conn(c);
	mark_ready(c);
	update_io(c);
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
	update_io(c);
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
	uint16_t op = 0;
	uint32_t flags = 0, len = 0;

	if (c->pending & PEND_REQUEST) {
		c->pending &= ~PEND_REQUEST;
		op = VSOCK_OP_REQUEST;
	} else if (c->pending & PEND_RESPONSE) {
		c->pending &= ~PEND_RESPONSE;
		op = VSOCK_OP_RESPONSE;
	} else if (can_send_data(c) && cap) {
		len = c->rlen - c->roff;
		if (len > peer_credit(c))
			len = peer_credit(c);
		if (len > cap)
			len = cap;
		iov__from_buf(buf, n, 0, c->rbuf + c->roff, len);
		op = VSOCK_OP_RW;
		c->tx_cnt += len;
		c->roff += len;
		if (c->roff == c->rlen) {
			c->roff = c->rlen = 0;
			c->readable = false;
		}
	} else if (c->pending & PEND_SHUTDOWN) {
		/* Set only with the rx buffer empty: no data after it. */
		c->pending &= ~PEND_SHUTDOWN;
		if (c->peer_no_send) {
			c->close_when_flushed = true;
			if (!after_flush(c))
				return 0;
		}
		op = VSOCK_OP_SHUTDOWN;
		flags = VSOCK_SHUTDOWN_SEND;
	}
	if (!op && (c->pending & PEND_CREDIT_UPDATE)) {
		op = VSOCK_OP_CREDIT_UPDATE;
	} else if (!op && (c->pending & PEND_CREDIT_REQUEST)) {
		c->pending &= ~PEND_CREDIT_REQUEST;
		op = VSOCK_OP_CREDIT_REQUEST;
	} else if (!op && !cap && can_send_data(c)) {
		/*
		 * Data to send, but the buffer holds a header only: the
		 * data waits for a buffer with room, and this one goes back
		 * with our credit, a packet any driver takes, rather than
		 * block the ring.  (The host's EOF is a recv of 0 bytes
		 * asked for at least 1: never this buffer's doing.)
		 */
		op = VSOCK_OP_CREDIT_UPDATE;
	}
	want_credit(c);
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
	update_io(c);
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
		/* Data (or its end): a recv, or a credit request first. */
		c->readable = true;
		want_credit(c);
		mark_ready(c);
	}
	update_io(c);
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
	if (res < 0)
		kill_conn(c, true);
	else
		update_io(c);
	vsock__rx_pump(b->dev);
out:
	c->busy--;
	maybe_free(c);
}

/*
 * Start what @c can do now: the handshake's poll, the send of what the
 * guest sent, the recv of what the host sends, or a poll that tells
 * whether the host has data while the guest's credit is 0 (a credit
 * request then, as the spec asks).
 */
static void update_io(struct conn *c)
{
	struct uring_loop *l = c->b->kvm->loop;

	if (c->dead)
		return;
	/* A failed start kills @c: freed here, callers leave it alone. */
	c->busy++;
	if (c->state == CONN_HANDSHAKE)
		uring__poll_arm(l, &c->pin);
	else
		start_send(c);
	if (c->dead || !wants_recv(c))
		goto out;
	if (peer_credit(c))
		start_recv(c);
	else if (!c->readable)
		uring__poll_arm(l, &c->pin);
out:
	c->busy--;
	maybe_free(c);
}

static void conn_init(struct conn *c, struct vsock_uds *b, int fd)
{
	c->b = b;
	c->fd = fd;
	c->recv.c = c->send.c = c;
	c->recv.req.fn = recv_done;
	c->send.req.fn = send_done;
	uring__poll_init(&c->pin, fd, POLLIN, pin_fn, c);
	uring__poll_init(&c->pout, fd, POLLOUT, pout_fn, c);
	list__add_tail(&c->anode, &b->all);
	b->nr_conns++;
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
		conn_init(c, b, fd);
		c->state = CONN_HANDSHAKE;
		update_io(c);
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

static bool any_in_flight(struct vsock_uds *b)
{
	struct list_node *n, *t;

	list_for_each_safe(n, t, &b->all) {
		struct conn *c = container_of(n, struct conn, anode);

		if (c->recv.busy || c->send.busy)
			return true;
	}
	return false;
}

/*
 * The loop is gone: no poll will ever complete.  The socket ring's
 * requests are cancelled and waited for here (their buffers are ours to
 * free only then), then everything goes.
 */
static void uds_free(void *priv)
{
	struct vsock_uds *b = priv;
	struct list_node *n, *t;
	struct uring_loop *l;

	if (!b)
		return;
	l = b->kvm->loop;
	list_for_each_safe(n, t, &b->all) {
		struct conn *c = container_of(n, struct conn, anode);

		c->dead = true;
		if (c->recv.busy || c->send.busy) {
			shutdown(c->fd, SHUT_RDWR);
			uring__sock_cancel_fd(l, c->fd);
		}
	}
	while (any_in_flight(b))
		if (uring__sock_reap(l, true) < 0)
			break;
	if (any_in_flight(b)) {
		/* The kernel may still write them: leak, do not free. */
		pr_err("vsock: socket requests stuck; leaking their connections");
		return;
	}
	list_for_each_safe(n, t, &b->all) {
		struct conn *c = container_of(n, struct conn, anode);

		close(c->fd);
		buf_free(c->buf, CONN_BUF_ALLOC);
		buf_free(c->rbuf, RX_BUF_SIZE);
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
