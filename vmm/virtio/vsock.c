// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-vsock device: queue 0 rx (device -> guest), 1 tx (guest ->
 * device), 2 event.  Every tx packet is parsed from a chain the guest
 * built, checked (header size, payload length against the chain, source
 * CID, destination) and only then handed to the backend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"
#include "vmm/virtio/mmio.h"
#include "vmm/virtio/vsock.h"

#define VSOCK_QUEUE_RX		0
#define VSOCK_QUEUE_TX		1
#define VSOCK_QUEUE_EVENT	2
#define VSOCK_NR_QUEUES		3
#define VSOCK_QUEUE_SIZE	256
/* Largest payload we put in one rx packet (Linux's own is 64 KiB). */
#define VSOCK_MAX_PKT		(64 * 1024)
/* Chains per pass, so one busy queue cannot starve the loop. */
#define VSOCK_BUDGET		256

struct vsock {
	struct kvm *kvm;
	struct virtio_mmio *vm;
	const struct vsock_backend_ops *ops;
	void *backend;			/* the ops' own */
	uint64_t guest_cid;
	/*
	 * A transport reset the guest has not acted on yet (vm->lock): rx
	 * waits, or a host connection's REQUEST could reach the guest before
	 * the reset that then kills it.  Linux's driver reads the new CID,
	 * resets its sockets, gives the event buffer back and notifies the
	 * event queue: that notification ends the wait.  (Not the CID read:
	 * the sockets are reset after it, and a connection the guest took
	 * in between would be lost.)
	 */
	bool reset_pending;
	struct virtq_chain chain;
	struct iovec payload[VIRTQ_MAX_SIZE];
};

static uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

void vsock__hdr_decode(const uint8_t *raw, struct vsock_hdr *h)
{
	h->src_cid = get64(raw);
	h->dst_cid = get64(raw + 8);
	h->src_port = get32(raw + 16);
	h->dst_port = get32(raw + 20);
	h->len = get32(raw + 24);
	h->type = get16(raw + 28);
	h->op = get16(raw + 30);
	h->flags = get32(raw + 32);
	h->buf_alloc = get32(raw + 36);
	h->fwd_cnt = get32(raw + 40);
}

void vsock__hdr_encode(const struct vsock_hdr *h, uint8_t *raw)
{
	put64(raw, h->src_cid);
	put64(raw + 8, h->dst_cid);
	put32(raw + 16, h->src_port);
	put32(raw + 20, h->dst_port);
	put32(raw + 24, h->len);
	put16(raw + 28, h->type);
	put16(raw + 30, h->op);
	put32(raw + 32, h->flags);
	put32(raw + 36, h->buf_alloc);
	put32(raw + 40, h->fwd_cnt);
}

static void read_config(void *dev, uint32_t off, void *data, uint32_t len)
{
	struct vsock *v = dev;
	uint8_t cfg[8];

	put64(cfg, v->guest_cid);
	memcpy(data, cfg + off, len);
}

static void chain_error(struct vsock *v, unsigned int q, int err)
{
	virtio_mmio__break(v->vm, q == VSOCK_QUEUE_TX ? "bad tx chain" :
			   q == VSOCK_QUEUE_RX ? "bad rx chain" :
			   "bad event chain");
}

/* vm->lock held. */
static void process_tx(struct vsock *v)
{
	struct virtq *vq = &v->vm->vqs[VSOCK_QUEUE_TX];
	struct virtq_chain *c = &v->chain;
	uint8_t raw[VSOCK_HDR_SIZE];
	struct vsock_hdr h;
	unsigned int done, n;
	int ret = 0;

	for (done = 0; done < VSOCK_BUDGET; done++) {
		ret = virtq__pop(vq, v->kvm->mem, c);
		if (ret <= 0)
			break;
		/* Anything short or inconsistent is dropped, unanswered. */
		if (c->out_len < VSOCK_HDR_SIZE) {
			pr_guest_debug("vsock: tx packet shorter than its header");
			goto done;
		}
		iov__to_buf(c->iov, c->nr_out, 0, raw, sizeof(raw));
		vsock__hdr_decode(raw, &h);
		if (h.len > c->out_len - VSOCK_HDR_SIZE ||
		    h.src_cid != v->guest_cid) {
			pr_guest_debug("vsock: tx packet len %u / cid %llu refused",
				       h.len, (unsigned long long)h.src_cid);
			goto done;
		}
		n = iov__slice(c->iov, c->nr_out, VSOCK_HDR_SIZE, h.len,
			       v->payload, VIRTQ_MAX_SIZE);
		kvm__count(v->kvm, vsock_tx_packets);
		kvm__count_n(v->kvm, vsock_tx_bytes, h.len);
		v->ops->recv(v->backend, &h, v->payload, n);
done:
		virtq__push(vq, c, 0);
	}
	if (ret < 0)
		chain_error(v, VSOCK_QUEUE_TX, ret);
	if (done && virtq__should_notify(vq))
		virtio_mmio__signal(v->vm, VIRTIO_MMIO_INT_VRING);
	/* Out of budget: come back once the loop has served the others. */
	if (done == VSOCK_BUDGET)
		virtio_mmio__kick(v->vm, VSOCK_QUEUE_TX);
}

/* vm->lock held. */
static void process_rx(struct vsock *v)
{
	struct virtq *vq = &v->vm->vqs[VSOCK_QUEUE_RX];
	struct virtq_chain *c = &v->chain;
	uint8_t raw[VSOCK_HDR_SIZE];
	unsigned int done = 0, tries, n;
	struct vsock_hdr h;
	uint64_t cap;
	int ret = 0;

	if (v->reset_pending)
		return;
	for (tries = 0; tries < VSOCK_BUDGET; tries++) {
		if (!v->ops->pending(v->backend))
			break;
		ret = virtq__pop(vq, v->kvm->mem, c);
		if (ret <= 0)
			break;
		if (c->nr_out || c->in_len < VSOCK_HDR_SIZE) {
			/* rx buffers are device-writable and hold a header. */
			ret = -EINVAL;
			break;
		}
		cap = c->in_len - VSOCK_HDR_SIZE;
		if (cap > VSOCK_MAX_PKT)
			cap = VSOCK_MAX_PKT;
		n = iov__slice(c->iov, c->nr_in, VSOCK_HDR_SIZE, cap,
			       v->payload, VIRTQ_MAX_SIZE);
		if (!v->ops->fill(v->backend, &h, v->payload, n, cap)) {
			virtq__unpop(vq);
			continue;
		}
		vsock__hdr_encode(&h, raw);
		iov__from_buf(c->iov, c->nr_in, 0, raw, sizeof(raw));
		virtq__push(vq, c, VSOCK_HDR_SIZE + h.len);
		kvm__count(v->kvm, vsock_rx_packets);
		kvm__count_n(v->kvm, vsock_rx_bytes, h.len);
		done++;
	}
	if (ret < 0)
		chain_error(v, VSOCK_QUEUE_RX, ret);
	if (done && virtq__should_notify(vq))
		virtio_mmio__signal(v->vm, VIRTIO_MMIO_INT_VRING);
	if (tries == VSOCK_BUDGET)
		virtio_mmio__kick(v->vm, VSOCK_QUEUE_RX);
}

static void notify(void *dev, unsigned int q)
{
	struct vsock *v = dev;

	switch (q) {
	case VSOCK_QUEUE_TX:
		process_tx(v);
		/* Replies (RESPONSE, RST, credit) go out at once. */
		process_rx(v);
		break;
	case VSOCK_QUEUE_RX:
		process_rx(v);
		break;
	default:
		/*
		 * Event buffers wait for a transport reset; a notification
		 * here after one says the guest has acted on it.
		 */
		if (v->reset_pending) {
			v->reset_pending = false;
			process_rx(v);
		}
		break;
	}
}

static void reset(void *dev)
{
	struct vsock *v = dev;

	v->ops->reset(v->backend);
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.features = 0,
	.nr_queues = VSOCK_NR_QUEUES,
	.queue_max = VSOCK_QUEUE_SIZE,
	.config_size = 8,
	.read_config = read_config,
	.notify = notify,
	.reset = reset,
};

void vsock__rx_pump(struct vsock *v)
{
	pthread_mutex_lock(&v->vm->lock);
	if (virtio_mmio__live(v->vm))
		process_rx(v);
	pthread_mutex_unlock(&v->vm->lock);
}

static int vsock__send_transport_reset(struct vsock *v)
{
	struct virtq *vq = &v->vm->vqs[VSOCK_QUEUE_EVENT];
	struct virtq_chain *c = &v->chain;
	uint8_t ev[4] = { VSOCK_EVENT_TRANSPORT_RESET };
	int ret;

	pthread_mutex_lock(&v->vm->lock);
	ret = virtq__pop(vq, v->kvm->mem, c);
	if (ret == 1) {
		if (c->in_len >= sizeof(ev)) {
			iov__from_buf(c->iov, c->nr_in, 0, ev, sizeof(ev));
			virtq__push(vq, c, sizeof(ev));
			virtio_mmio__signal(v->vm, VIRTIO_MMIO_INT_VRING);
			v->reset_pending = true;
			ret = 0;
		} else {
			virtq__unpop(vq);
			ret = -EINVAL;
		}
	} else if (ret == 0) {
		ret = -ENOBUFS;
	}
	pthread_mutex_unlock(&v->vm->lock);
	return ret;
}

void vsock__save(struct vsock *v, struct vsock_state *st)
{
	memset(st, 0, sizeof(*st));
	st->guest_cid = v->guest_cid;
	virtio_mmio__save(v->vm, &st->mmio);
}

int vsock__restore(struct vsock *v, const struct vsock_state *st)
{
	/*
	 * The guest's connections are not in the snapshot: a restore (a
	 * fresh device, or a rewind of one that served connections) starts
	 * with none, as after a device reset, and the CID is the VM's own
	 * (the configuration: the load's, or the one a rewind gave it),
	 * not the snapshot's.
	 */
	v->ops->reset(v->backend);
	v->guest_cid = v->kvm->cfg->vsock.guest_cid;
	v->ops->set_cid(v->backend, v->guest_cid);
	pthread_mutex_lock(&v->vm->lock);
	v->reset_pending = false;
	pthread_mutex_unlock(&v->vm->lock);
	return virtio_mmio__restore(v->vm, &st->mmio);
}

int vsock__init(struct kvm *kvm, char *err, size_t errlen)
{
	const struct vm_vsock_config *cfg = &kvm->cfg->vsock;
	struct vsock *v;
	int ret;

	if (!cfg->present)
		return 0;
	if (cfg->guest_cid < 3 || cfg->guest_cid > UINT32_MAX - 1 ||
	    !cfg->uds_path)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->kvm = kvm;
	v->guest_cid = cfg->guest_cid;
	v->ops = &vsock_uds_ops;
	ret = v->ops->create(kvm, v, v->guest_cid, cfg->uds_path,
			     &v->backend, err, errlen);
	if (ret)
		goto err;
	ret = virtio_mmio__init(kvm, &vsock_ops, v, &v->vm);
	if (ret)
		goto err;
	ret = v->ops->start(v->backend);
	if (ret)
		goto err;
	kvm->vsock = v;
	return 0;
err:
	if (v->backend)
		v->ops->free(v->backend);
	v->backend = NULL;
	/* A registered slot stays until vsock__exit() at the machine's end. */
	if (v->vm)
		kvm->vsock = v;
	else
		free(v);
	return ret;
}

void vsock__exit(struct kvm *kvm)
{
	struct vsock *v = kvm->vsock;

	if (!v)
		return;
	if (v->backend)
		v->ops->free(v->backend);
	virtio_mmio__exit(v->vm);
	free(v);
	kvm->vsock = NULL;
}

/* The snapshot's vsock section (vmm/devices.h): there iff configured. */
static bool snap_save(struct kvm *kvm, void *state)
{
	if (!kvm->vsock)
		return false;
	vsock__save(kvm->vsock, state);
	return true;
}

static int snap_check(const struct vm_config *cfg, const void *state,
		      char *err, size_t errlen)
{
	if (cfg->vsock.present != !!state)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: the vsock device's state is %s",
				state ? "there without its configuration" :
				"missing");
	return 0;
}

static int snap_restore(struct kvm *kvm, const void *state, char *err,
			size_t errlen)
{
	int ret;

	if (!kvm->vsock || !state)
		return 0;
	ret = vsock__restore(kvm->vsock, state);
	if (ret)
		return err__set(err, errlen, ret,
				"restoring the vsock device: %s",
				strerror(-ret));
	return 0;
}

/*
 * The guest's connections are gone and its CID may be new: its driver
 * drops them and re-reads the CID on this event (host packets wait until
 * it has: see vsock__rx_pump()).
 */
static int snap_restored(struct kvm *kvm, char *err, size_t errlen)
{
	int ret;

	if (!kvm->vsock)
		return 0;
	ret = vsock__send_transport_reset(kvm->vsock);
	if (ret)
		pr_warn("restore: vsock transport reset not sent: %s",
			strerror(-ret));
	return 0;
}

const struct device_snap vsock__snap = {
	.section = SNAP_SEC_DEV_VSOCK(0),
	.size = sizeof(struct vsock_state),
	.what = "vsock",
	.save = snap_save,
	.check = snap_check,
	.restore = snap_restore,
	.restored = snap_restored,
};
