// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-net device on a host tap: see net.h.  Everything below runs
 * with the interface's transport lock (vm->lock) held: notify, activate
 * and reset come with it, the data ring's and the polls' callbacks take
 * it.  Chains go through net__tx_parse() and net__rx_place()
 * (net-rxtx.c), which check everything the guest wrote.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/list.h"
#include "vmm/mmds/mmds.h"
#include "vmm/persist.h"
#include "vmm/snapshot/snapshot.h"
#include "vmm/virtio/mmio.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/tap.h"

#define NET_QUEUE_RX		0
#define NET_QUEUE_TX		1
#define NET_NR_QUEUES		2
#define NET_QUEUE_SIZE		256
/* Host rx buffers (reads in flight) and tx writes in flight. */
#define NET_RX_SLOTS		8
#define NET_TX_SLOTS		PERSIST_NET_TX_SLOTS

#define F(bit)			(1ULL << (bit))
/* Whatever the tap, the guest may hand us these. */
#define NET_HOST_FEATURES	(F(VIRTIO_NET_F_CSUM) | \
				 F(VIRTIO_NET_F_HOST_TSO4) | \
				 F(VIRTIO_NET_F_HOST_TSO6) | \
				 F(VIRTIO_NET_F_MRG_RXBUF))
/* Every feature a device of ours may offer (a snapshot's are checked). */
#define NET_ALL_FEATURES	(NET_HOST_FEATURES | F(VIRTIO_NET_F_MAC) | \
				 F(VIRTIO_NET_F_HOST_UFO) | \
				 F(VIRTIO_NET_F_GUEST_CSUM) | \
				 F(VIRTIO_NET_F_GUEST_TSO4) | \
				 F(VIRTIO_NET_F_GUEST_TSO6) | \
				 F(VIRTIO_NET_F_GUEST_UFO))

struct net_dev;

enum rx_state { RX_IDLE, RX_READING, RX_FULL };

/* A host buffer a tap read fills; then it waits for guest buffers. */
struct rx_slot {
	struct uring_req req;
	struct net_dev *n;
	enum rx_state state;
	uint32_t gen;
	uint32_t len;
	struct iovec iov;
	uint8_t *buf;			/* NET_MAX_PKT bytes */
};

/* A tx chain on its way to the tap. */
struct tx_slot {
	struct uring_req req;
	struct net_dev *n;
	bool busy;			/* popped, not yet pushed */
	bool retry;			/* the tap said EAGAIN: on tx_poll */
	uint32_t gen;
	unsigned int niov;
	uint8_t hdr[NET_HDR_LEN];	/* the checked copy the tap gets */
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SIZE + 1];
};

struct net_dev {
	struct kvm *kvm;
	struct virtio_mmio *vm;
	struct virtio_dev_ops ops;	/* features depend on the tap */
	struct vm_net_config cfg;
	int tap;
	unsigned int tap_offloads;	/* TUN_F_* the tap takes */
	/*
	 * Bumped by a reset and a restore: a request that completes with
	 * an older one belongs to rings the guest has since dropped.
	 */
	uint32_t gen;
	struct uring_poll rx_poll, tx_poll;
	struct rx_slot rx[NET_RX_SLOTS];
	unsigned int fifo[NET_RX_SLOTS], fifo_head, fifo_len;
	bool rx_error;			/* the tap failed a read: stop */
	struct tx_slot tx[NET_TX_SLOTS];
	unsigned int tx_busy;
	bool tx_full;			/* every slot busy: resume on a done */
	unsigned int inflight;		/* data-ring requests */
	bool exiting;
	struct mmds_if *mmds;		/* NULL: MMDS is not on this one */
	struct virtq_chain rx_chains[NET_RX_MAX_BUFS];
};

struct net {
	unsigned int nr;
	struct net_dev *dev[VM_MAX_NET_IFACES];
};

static struct uring_loop *loop(struct net_dev *n)
{
	return n->kvm->loop;
}

static struct virtq *vq(struct net_dev *n, unsigned int q)
{
	return &n->vm->vqs[q];
}

static bool acked(struct net_dev *n, unsigned int bit)
{
	return n->vm->driver_features & F(bit);
}

/* The guest's offloads, as the tap knows them. */
static unsigned int guest_offloads(struct net_dev *n)
{
	unsigned int f = 0;

	if (!acked(n, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	f |= TUN_F_CSUM;
	if (acked(n, VIRTIO_NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (acked(n, VIRTIO_NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	if (acked(n, VIRTIO_NET_F_GUEST_UFO))
		f |= TUN_F_UFO;
	return f & n->tap_offloads;
}

static uint64_t features_for(unsigned int tap, bool has_mac)
{
	uint64_t f = NET_HOST_FEATURES;

	if (has_mac)
		f |= F(VIRTIO_NET_F_MAC);
	if (tap & TUN_F_UFO)
		f |= F(VIRTIO_NET_F_HOST_UFO);
	if (!(tap & TUN_F_CSUM))
		return f;
	f |= F(VIRTIO_NET_F_GUEST_CSUM);
	if (tap & TUN_F_TSO4)
		f |= F(VIRTIO_NET_F_GUEST_TSO4);
	if (tap & TUN_F_TSO6)
		f |= F(VIRTIO_NET_F_GUEST_TSO6);
	if (tap & TUN_F_UFO)
		f |= F(VIRTIO_NET_F_GUEST_UFO);
	return f;
}

static void set_offloads(struct net_dev *n)
{
	int ret = tap__set_offloads(n->tap, guest_offloads(n));

	if (ret)
		pr_warn("net %s: TUNSETOFFLOAD: %s", n->cfg.iface_id,
			strerror(-ret));
}

static void read_config(void *dev, uint32_t off, void *data, uint32_t len)
{
	struct net_dev *n = dev;
	/* mac[6], then status (VIRTIO_NET_S_LINK_UP), not offered. */
	uint8_t cfg[8] = { 0 };

	memcpy(cfg, n->cfg.guest_mac, 6);
	cfg[6] = 1;
	memcpy(data, cfg + off, len);
}

/* Reads into every idle host buffer. */
static void rx_submit(struct net_dev *n)
{
	struct rx_slot *s;
	unsigned int i;

	if (!virtio_mmio__live(n->vm) || n->exiting || n->rx_error)
		return;
	for (i = 0; i < NET_RX_SLOTS; i++) {
		s = &n->rx[i];
		if (s->state != RX_IDLE)
			continue;
		s->iov.iov_base = s->buf;
		s->iov.iov_len = NET_MAX_PKT;
		if (uring__io_readv(loop(n), &s->req, n->tap, &s->iov, 1))
			break;
		s->state = RX_READING;
		s->gen = n->gen;
		n->inflight++;
	}
	uring__io_submit(loop(n));
}

static void rx_drop_all(struct net_dev *n)
{
	while (n->fifo_len) {
		n->rx[n->fifo[n->fifo_head]].state = RX_IDLE;
		n->fifo_head = (n->fifo_head + 1) % NET_RX_SLOTS;
		n->fifo_len--;
		kvm__count(n->kvm, net_rx_dropped);
	}
}

/*
 * MMDS's frames into the guest's buffers: how many went in; -1 when the
 * guest broke the rules (the device is broken).
 */
static int rx_deliver_mmds(struct net_dev *n, bool mrg)
{
	const char *why;
	uint8_t *pkt;
	size_t len;
	int ret, done = 0;

	while (n->mmds && virtio_mmio__live(n->vm) &&
	       (pkt = mmds__if_peek(n->mmds, &len))) {
		ret = net__rx_place(vq(n, NET_QUEUE_RX), n->kvm->mem, mrg, pkt,
				    len, n->rx_chains, NET_RX_MAX_BUFS, &why);
		if (!ret)
			break;		/* until the guest posts buffers */
		if (ret == -EINVAL) {
			virtio_mmio__break(n->vm, why);
			return -1;
		}
		mmds__if_pop(n->mmds);
		if (ret == 1)
			done++;
	}
	return done;
}

/* Frames waiting in host buffers into the guest's, in order. */
static void rx_deliver(struct net_dev *n)
{
	bool mrg = acked(n, VIRTIO_NET_F_MRG_RXBUF);
	unsigned int done = 0, freed = 0;
	struct rx_slot *s;
	const char *why;
	int ret;

	while (n->fifo_len && virtio_mmio__live(n->vm)) {
		s = &n->rx[n->fifo[n->fifo_head]];
		ret = net__rx_place(vq(n, NET_QUEUE_RX), n->kvm->mem, mrg,
				    s->buf, s->len, n->rx_chains,
				    NET_RX_MAX_BUFS, &why);
		if (!ret)
			break;		/* until the guest posts buffers */
		if (ret == -EINVAL) {
			virtio_mmio__break(n->vm, why);
			rx_drop_all(n);
			return;
		}
		if (ret == 1) {
			kvm__count(n->kvm, net_rx_packets);
			kvm__count_n(n->kvm, net_rx_bytes,
				     s->len - NET_HDR_LEN);
			done++;
		} else {
			kvm__count(n->kvm, net_rx_dropped);
		}
		s->state = RX_IDLE;
		freed++;
		n->fifo_head = (n->fifo_head + 1) % NET_RX_SLOTS;
		n->fifo_len--;
	}
	ret = rx_deliver_mmds(n, mrg);
	if (ret < 0) {
		rx_drop_all(n);
		return;
	}
	done += ret;
	if (done && virtq__should_notify(vq(n, NET_QUEUE_RX)))
		virtio_mmio__signal(n->vm, VIRTIO_MMIO_INT_VRING);
	if (freed)
		rx_submit(n);
}

/* The device loop: MMDS has frames for the guest. */
static void mmds_deliver(void *arg)
{
	struct net_dev *n = arg;

	pthread_mutex_lock(&n->vm->lock);
	if (!n->exiting)
		rx_deliver(n);
	pthread_mutex_unlock(&n->vm->lock);
}

static void rx_read_done(struct uring_req *r, int res)
{
	struct rx_slot *s = container_of(r, struct rx_slot, req);
	struct net_dev *n = s->n;

	pthread_mutex_lock(&n->vm->lock);
	n->inflight--;
	s->state = RX_IDLE;
	if (n->exiting)
		goto out;
	if (res > 0 && s->gen == n->gen && virtio_mmio__live(n->vm)) {
		s->state = RX_FULL;
		s->len = res;
		n->fifo[(n->fifo_head + n->fifo_len) % NET_RX_SLOTS] =
			s - n->rx;
		n->fifo_len++;
		rx_deliver(n);
	} else if (res == -EAGAIN) {
		/* The tap is empty: wait for it (loop thread). */
		uring__poll_arm(loop(n), &n->rx_poll);
	} else if (res > 0) {
		kvm__count(n->kvm, net_rx_dropped);
	} else if (res < 0 && res != -ECANCELED && !n->rx_error) {
		pr_warn("net %s: reading tap %s: %s; receiving stops",
			n->cfg.iface_id, n->cfg.host_dev_name, strerror(-res));
		n->rx_error = true;
	}
out:
	pthread_mutex_unlock(&n->vm->lock);
}

static void rx_poll_fn(struct uring_poll *p, int res)
{
	struct net_dev *n = p->arg;

	if (res < 0)
		return;
	pthread_mutex_lock(&n->vm->lock);
	rx_submit(n);
	pthread_mutex_unlock(&n->vm->lock);
}

static int tx_submit(struct net_dev *n, struct tx_slot *s)
{
	int ret = uring__io_writev(loop(n), &s->req, n->tap, s->iov, s->niov);

	if (!ret)
		n->inflight++;
	return ret;
}

/* Chains from the guest to the tap, as many as there are free slots. */
static void tx_process(struct net_dev *n)
{
	struct virtq *q = vq(n, NET_QUEUE_TX);
	struct tx_slot *s = NULL;
	unsigned int i, answered = 0;
	const char *why;
	int ret;

	while (n->tx_busy < NET_TX_SLOTS) {
		for (i = 0; i < NET_TX_SLOTS; i++)
			if (!n->tx[i].busy)
				break;
		s = &n->tx[i];
		ret = virtq__pop(q, n->kvm->mem, &s->chain);
		if (ret < 0) {
			virtio_mmio__break(n->vm, "bad tx chain");
			break;
		}
		if (!ret)
			break;
		ret = net__tx_parse(&s->chain, n->vm->driver_features, s->hdr,
				    s->iov, VIRTQ_MAX_SIZE + 1, &s->niov, &why);
		if (ret) {
			virtio_mmio__break(n->vm, why);
			break;
		}
		/* MMDS's frames never reach the tap. */
		if (n->mmds && mmds__if_take(n->mmds, s->hdr, s->iov + 1,
					     s->niov - 1,
					     s->chain.out_len - NET_HDR_LEN)) {
			virtq__push(q, &s->chain, 0);
			answered++;
			continue;
		}
		if (tx_submit(n, s)) {
			/* The ring is full: this chain waits for the next kick. */
			virtq__unpop(q);
			virtio_mmio__kick(n->vm, NET_QUEUE_TX);
			break;
		}
		s->busy = true;
		s->retry = false;
		s->gen = n->gen;
		n->tx_busy++;
	}
	n->tx_full = n->tx_busy == NET_TX_SLOTS;
	if (answered && virtq__should_notify(q))
		virtio_mmio__signal(n->vm, VIRTIO_MMIO_INT_VRING);
	uring__io_submit(loop(n));
}

static void tx_write_done(struct uring_req *r, int res)
{
	struct tx_slot *s = container_of(r, struct tx_slot, req);
	struct net_dev *n = s->n;
	struct virtq *q = vq(n, NET_QUEUE_TX);
	bool current;

	pthread_mutex_lock(&n->vm->lock);
	n->inflight--;
	current = s->gen == n->gen && !n->exiting;
	if (res == -EAGAIN && current && virtio_mmio__live(n->vm)) {
		/* The tap's queue is full: the chain waits, so does tx. */
		s->retry = true;
		uring__poll_arm(loop(n), &n->tx_poll);
		goto out;
	}
	if (current) {
		virtq__push(q, &s->chain, 0);
		if (virtq__should_notify(q))
			virtio_mmio__signal(n->vm, VIRTIO_MMIO_INT_VRING);
	}
	if (res < 0) {
		kvm__count(n->kvm, net_tx_dropped);
	} else {
		kvm__count(n->kvm, net_tx_packets);
		kvm__count_n(n->kvm, net_tx_bytes,
			     res > NET_HDR_LEN ? res - NET_HDR_LEN : 0);
	}
	s->busy = false;
	n->tx_busy--;
	if (n->tx_full && current && virtio_mmio__live(n->vm))
		tx_process(n);
out:
	pthread_mutex_unlock(&n->vm->lock);
}

static void tx_poll_fn(struct uring_poll *p, int res)
{
	struct net_dev *n = p->arg;
	unsigned int i;

	if (res < 0)
		return;
	pthread_mutex_lock(&n->vm->lock);
	for (i = 0; i < NET_TX_SLOTS; i++) {
		struct tx_slot *s = &n->tx[i];

		if (s->busy && s->retry && !tx_submit(n, s))
			s->retry = false;
	}
	uring__io_submit(loop(n));
	pthread_mutex_unlock(&n->vm->lock);
}

static void notify(void *dev, unsigned int q)
{
	struct net_dev *n = dev;

	if (q == NET_QUEUE_TX)
		tx_process(n);
	else
		rx_deliver(n);
}

static void activate(void *dev)
{
	struct net_dev *n = dev;

	set_offloads(n);
	rx_submit(n);
}

/* Forget every frame and chain of the rings the guest dropped. */
static void forget(struct net_dev *n)
{
	unsigned int i;

	n->gen++;
	rx_drop_all(n);
	if (n->mmds)
		mmds__if_flush(n->mmds);
	n->rx_error = false;
	for (i = 0; i < NET_TX_SLOTS; i++) {
		struct tx_slot *s = &n->tx[i];

		/* On tx_poll, not in flight: free now. */
		if (s->busy && s->retry) {
			s->busy = s->retry = false;
			n->tx_busy--;
		}
	}
	n->tx_full = false;
}

static void reset(void *dev)
{
	forget(dev);
}

static void net_dev_free(struct net_dev *n)
{
	unsigned int i;

	if (!n)
		return;
	if (n->vm) {
		pthread_mutex_lock(&n->vm->lock);
		n->exiting = true;
		pthread_mutex_unlock(&n->vm->lock);
	}
	/* No thread runs the loop now: wait out our requests here. */
	if (n->inflight && !uring__io_cancel_fd(loop(n), n->tap))
		while (n->inflight && !uring__io_reap(loop(n), true))
			;
	if (n->inflight) {
		/* The kernel may still write them: leak, do not free. */
		pr_err("net %s: %u requests stuck; leaking their buffers",
		       n->cfg.iface_id, n->inflight);
		return;
	}
	for (i = 0; i < NET_RX_SLOTS; i++)
		free(n->rx[i].buf);
	mmds__if_free(n->mmds);
	if (n->tap >= 0)
		close(n->tap);
	virtio_mmio__exit(n->vm);
	free(n);
}

static int net_dev_new(struct kvm *kvm, const struct vm_net_config *cfg,
		       struct net_dev **out, char *err, size_t errlen)
{
	struct net_dev *n = calloc(1, sizeof(*n));
	unsigned int i;
	int ret;

	if (!n)
		return -ENOMEM;
	n->kvm = kvm;
	n->cfg = *cfg;
	n->tap = tap__open(cfg->host_dev_name, err, errlen);
	if (n->tap < 0) {
		ret = n->tap;
		goto err;
	}
	n->tap_offloads = tap__probe_offloads(n->tap, TUN_F_CSUM | TUN_F_TSO4 |
					      TUN_F_TSO6 | TUN_F_UFO);
	for (i = 0; i < NET_RX_SLOTS; i++) {
		n->rx[i].n = n;
		n->rx[i].req.fn = rx_read_done;
		n->rx[i].buf = malloc(NET_MAX_PKT);
		if (!n->rx[i].buf) {
			ret = -ENOMEM;
			goto err;
		}
	}
	for (i = 0; i < NET_TX_SLOTS; i++) {
		n->tx[i].n = n;
		n->tx[i].req.fn = tx_write_done;
	}
	uring__poll_init(&n->rx_poll, n->tap, POLLIN, rx_poll_fn, n);
	uring__poll_init(&n->tx_poll, n->tap, POLLOUT, tx_poll_fn, n);
	n->ops = (struct virtio_dev_ops) {
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.features = features_for(n->tap_offloads, cfg->has_mac),
		.nr_queues = NET_NR_QUEUES,
		.queue_max = NET_QUEUE_SIZE,
		.config_size = 8,
		.read_config = read_config,
		.notify = notify,
		.activate = activate,
		.reset = reset,
	};
	ret = virtio_mmio__init(kvm, &n->ops, n, &n->vm);
	if (ret) {
		err__set(err, errlen, ret, "virtio-mmio slot: %s",
			 strerror(-ret));
		goto err;
	}
	ret = mmds__if_new(kvm, cfg->iface_id, mmds_deliver, n, &n->mmds, err,
			   errlen);
	if (ret)
		goto err;
	pr_info("net %s: tap %s, features %#llx", cfg->iface_id,
		cfg->host_dev_name, (unsigned long long)n->ops.features);
	*out = n;
	return 0;
err:
	net_dev_free(n);
	return ret;
}

int net__init(struct kvm *kvm, char *err, size_t errlen)
{
	const struct vm_config *cfg = kvm->cfg;
	struct net *net;
	char why[200];
	unsigned int i;
	int ret;

	if (!cfg->nr_net)
		return 0;
	if (cfg->nr_net > VM_MAX_NET_IFACES)
		return -EINVAL;
	net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	kvm->net = net;
	for (i = 0; i < cfg->nr_net; i++) {
		why[0] = '\0';
		ret = net_dev_new(kvm, &cfg->net[i], &net->dev[i], why,
				  sizeof(why));
		if (ret) {
			err__set(err, errlen, ret, "interface %s: %s",
				 cfg->net[i].iface_id,
				 why[0] ? why : strerror(-ret));
			goto err;
		}
		net->nr++;
	}
	why[0] = '\0';
	ret = mmds__start(kvm, why, sizeof(why));
	if (ret) {
		err__set(err, errlen, ret, "%s", why);
		goto err;
	}
	return 0;
err:
	/* Nothing half-made stays: MMDS's state is the process's. */
	net__exit(kvm);
	return ret;
}

void net__exit(struct kvm *kvm)
{
	struct net *net = kvm->net;
	unsigned int i;

	if (!net)
		return;
	mmds__stop();
	for (i = 0; i < net->nr; i++)
		net_dev_free(net->dev[i]);
	free(net);
	kvm->net = NULL;
}

/* The snapshot's network section (vmm/devices.h): there iff configured. */
static bool snap_save(struct kvm *kvm, void *state)
{
	struct net_state *st = state;
	unsigned int i, j;

	if (!kvm->net)
		return false;
	st->nr_ifaces = kvm->net->nr;
	for (i = 0; i < kvm->net->nr; i++) {
		struct net_dev *n = kvm->net->dev[i];
		struct net_iface_state *is = &st->iface[i];

		memcpy(is->iface_id, n->cfg.iface_id, sizeof(is->iface_id));
		memcpy(is->host_dev_name, n->cfg.host_dev_name,
		       sizeof(is->host_dev_name));
		memcpy(is->guest_mac, n->cfg.guest_mac, 6);
		is->has_mac = n->cfg.has_mac;
		is->features = n->ops.features;
		pthread_mutex_lock(&n->vm->lock);
		/* Chains the tap took but whose completion is not reaped. */
		for (j = 0; j < NET_TX_SLOTS; j++)
			if (n->tx[j].busy && n->tx[j].gen == n->gen)
				is->tx_inflight[is->nr_tx_inflight++] =
					n->tx[j].chain.head;
		pthread_mutex_unlock(&n->vm->lock);
		virtio_mmio__save(n->vm, &is->mmio);
	}
	return true;
}

static bool str_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int snap_check(const struct vm_config *cfg, const void *state,
		      char *err, size_t errlen)
{
	const struct net_state *st = state;
	unsigned int i;

	if (!st)
		return 0;
	if (!st->nr_ifaces || st->nr_ifaces > VM_MAX_NET_IFACES)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: %u network interfaces", st->nr_ifaces);
	for (i = 0; i < st->nr_ifaces; i++) {
		const struct net_iface_state *is = &st->iface[i];

		if (!str_ok(is->iface_id, sizeof(is->iface_id)) ||
		    !str_ok(is->host_dev_name, sizeof(is->host_dev_name)) ||
		    !is->iface_id[0] || !tap__name_ok(is->host_dev_name) ||
		    (is->features & ~NET_ALL_FEATURES) ||
		    is->nr_tx_inflight > PERSIST_NET_TX_SLOTS ||
		    is->mmio.nr_queues != NET_NR_QUEUES)
			return err__set(err, errlen, -EBADMSG,
					"snapshot: network interface %u's state is invalid",
					i);
	}
	return 0;
}

/* A load's interfaces: the snapshot's, on the taps the overrides name. */
static int snap_config(struct vm_config *cfg, const void *state,
		       const struct snapshot_load_params *p, char *err,
		       size_t errlen)
{
	const struct net_state *st = state;
	unsigned int i, j;

	cfg->nr_net = 0;
	if (!st) {
		if (p->nr_net_overrides)
			return err__set(err, errlen, -EINVAL,
					"network_overrides: the snapshot has no network interfaces");
		return 0;
	}
	for (i = 0; i < st->nr_ifaces; i++) {
		struct vm_net_config *n = &cfg->net[i];

		memset(n, 0, sizeof(*n));
		memcpy(n->iface_id, st->iface[i].iface_id, sizeof(n->iface_id));
		memcpy(n->host_dev_name, st->iface[i].host_dev_name,
		       sizeof(n->host_dev_name));
		memcpy(n->guest_mac, st->iface[i].guest_mac, 6);
		n->has_mac = st->iface[i].has_mac;
	}
	cfg->nr_net = st->nr_ifaces;
	for (j = 0; j < p->nr_net_overrides; j++) {
		const struct snapshot_net_override *o = &p->net_overrides[j];

		for (i = 0; i < cfg->nr_net; i++)
			if (!strcmp(cfg->net[i].iface_id, o->iface_id))
				break;
		if (i == cfg->nr_net)
			return err__set(err, errlen, -EINVAL,
					"network_overrides: the snapshot has no interface `%s`",
					o->iface_id);
		memcpy(cfg->net[i].host_dev_name, o->host_dev_name,
		       sizeof(o->host_dev_name));
	}
	for (i = 0; i < cfg->nr_net; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->net[i].host_dev_name,
				    cfg->net[j].host_dev_name))
				return err__set(err, errlen, -EINVAL,
						"network interfaces %s and %s would share tap %s",
						cfg->net[j].iface_id,
						cfg->net[i].iface_id,
						cfg->net[i].host_dev_name);
	return 0;
}

static int restore_one(struct net_dev *n, const struct net_iface_state *is,
		       char *err, size_t errlen)
{
	uint64_t can = features_for(n->tap_offloads, n->cfg.has_mac);
	struct virtq *q = vq(n, NET_QUEUE_TX);
	struct virtq_chain *c = &n->rx_chains[0];
	unsigned int i;
	int ret;

	if (strcmp(is->iface_id, n->cfg.iface_id))
		return err__set(err, errlen, -EINVAL,
				"network interface %s is %s in the snapshot",
				n->cfg.iface_id, is->iface_id);
	if (is->features & ~can)
		return err__set(err, errlen, -EINVAL,
				"interface %s: tap %s cannot take the offloads the guest has (%#llx of %#llx)",
				n->cfg.iface_id, n->cfg.host_dev_name,
				(unsigned long long)(is->features & ~can),
				(unsigned long long)is->features);
	pthread_mutex_lock(&n->vm->lock);
	forget(n);
	n->ops.features = is->features;
	pthread_mutex_unlock(&n->vm->lock);
	ret = virtio_mmio__restore(n->vm, &is->mmio);
	if (ret)
		return err__set(err, errlen, ret,
				"restoring interface %s: %s", n->cfg.iface_id,
				strerror(-ret));
	/* What the tap had taken is sent: the guest gets it back. */
	pthread_mutex_lock(&n->vm->lock);
	for (i = 0; i < is->nr_tx_inflight && !ret; i++) {
		if (!q->ready || is->tx_inflight[i] >= q->num) {
			ret = -EINVAL;
			break;
		}
		memset(c, 0, sizeof(*c));
		c->head = is->tx_inflight[i];
		virtq__push(q, c, 0);
	}
	pthread_mutex_unlock(&n->vm->lock);
	if (ret)
		return err__set(err, errlen, ret,
				"interface %s: the snapshot's tx chains do not fit its queue",
				n->cfg.iface_id);
	return 0;
}

static int snap_restore(struct kvm *kvm, const void *state, char *err,
			size_t errlen)
{
	const struct net_state *st = state;
	unsigned int i;
	int ret;

	if (!st && !kvm->net)
		return 0;
	if (!st || !kvm->net || st->nr_ifaces != kvm->net->nr)
		return err__set(err, errlen, -EINVAL,
				"network interfaces: the machine has %u, the snapshot %u",
				kvm->net ? kvm->net->nr : 0,
				st ? st->nr_ifaces : 0);
	for (i = 0; i < st->nr_ifaces; i++) {
		ret = restore_one(kvm->net->dev[i], &st->iface[i], err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Receiving starts again, and what the guest queued to send goes. */
static int snap_restored(struct kvm *kvm, char *err, size_t errlen)
{
	unsigned int i;

	for (i = 0; kvm->net && i < kvm->net->nr; i++) {
		struct net_dev *n = kvm->net->dev[i];

		pthread_mutex_lock(&n->vm->lock);
		if (virtio_mmio__live(n->vm)) {
			set_offloads(n);
			rx_submit(n);
			virtio_mmio__kick(n->vm, NET_QUEUE_TX);
			virtio_mmio__kick(n->vm, NET_QUEUE_RX);
			virtio_mmio__signal(n->vm, VIRTIO_MMIO_INT_VRING);
		}
		pthread_mutex_unlock(&n->vm->lock);
	}
	return 0;
}

const struct device_snap net__snap = {
	.section = SNAP_SEC_DEV_NET(0),
	.size = sizeof(struct net_state),
	.what = "network interfaces",
	.save = snap_save,
	.check = snap_check,
	.config = snap_config,
	.restore = snap_restore,
	.restored = snap_restored,
};
