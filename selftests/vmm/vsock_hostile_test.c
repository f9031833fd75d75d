// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-vsock against a hostile driver.  The machine is real (KVM VM,
 * device loop, ioeventfd/irqfd, the Unix sockets) but its guest is a
 * single HLT; this test plays the guest's driver instead: it writes the
 * virtio-mmio registers and builds rings and packets in guest memory the
 * way a driver would, and then breaks the rules: descriptor loops, bad
 * rings, lying lengths, a foreign source CID, data beyond credit, packets
 * for connections that do not exist, floods of REQUESTs, rx buffers with
 * no room past the header; and on the host side, broken CONNECT
 * handshakes and a second machine given the first one's uds_path.  The
 * device must answer each the way Documentation/admin-guide/vsock.rst says
 * and keep working for the next driver after a reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"

#include "vmm/config.h"
#include "vmm/kvm.h"
#include "vmm/mem/mem.h"
#include "vmm/virtio/mmio.h"
#include "vmm/virtio/vsock.h"
#include "vmm/vmm.h"

#include "vmm_test.h"

/* virtio-mmio registers (virtio 1.x, 4.2.2). */
#define R_MAGIC		0x000
#define R_VERSION	0x004
#define R_DEVICE_ID	0x008
#define R_DEV_FEATURES	0x010
#define R_DEV_FEAT_SEL	0x014
#define R_DRV_FEATURES	0x020
#define R_DRV_FEAT_SEL	0x024
#define R_QUEUE_SEL	0x030
#define R_QUEUE_NUM_MAX	0x034
#define R_QUEUE_NUM	0x038
#define R_QUEUE_READY	0x044
#define R_INT_STATUS	0x060
#define R_INT_ACK	0x064
#define R_STATUS	0x070
#define R_DESC_LO	0x080
#define R_DESC_HI	0x084
#define R_AVAIL_LO	0x090
#define R_AVAIL_HI	0x094
#define R_USED_LO	0x0a0
#define R_USED_HI	0x0a4
#define R_CONFIG	0x100

#define RX		0
#define TX		1
#define EVENT		2
#define NUM		8
#define RING(q)		(0x200000ULL + (q) * 0x10000ULL)
#define BUF(q, i)	(0x400000ULL + (q) * 0x100000ULL + (i) * 0x10000ULL)
#define BUF_SIZE	0x10000
#define BIG_BUF		0x1000000ULL	/* 4 MiB for the credit test */
#define CID		3
#define WAIT_S		20

struct drv {
	struct virtio_mmio *vm;
	struct guest_mem *mem;
	uint16_t avail_idx[3];
	uint16_t used_seen[3];
	uint16_t next_desc[3];
	uint32_t rx_len;		/* of the rx buffers we post */
};

static uint32_t rd(struct drv *d, uint64_t off)
{
	uint32_t v;

	virtio_mmio__read(d->vm, off, &v, 4);
	return v;
}

static void wr(struct drv *d, uint64_t off, uint32_t v)
{
	virtio_mmio__write(d->vm, off, &v, 4);
}

static void *gpa(struct drv *d, uint64_t a, uint64_t len)
{
	return guest_mem__ptr(d->mem, a, len);
}

static struct virtq_desc *desc(struct drv *d, int q)
{
	return gpa(d, RING(q), 16 * NUM);
}

static uint16_t *avail(struct drv *d, int q)
{
	return gpa(d, RING(q) + 0x1000, 6 + 2 * NUM);
}

static uint16_t *used(struct drv *d, int q)
{
	return gpa(d, RING(q) + 0x2000, 6 + 8 * NUM);
}

static void offer(struct drv *d, int q, uint16_t head)
{
	uint16_t *a = avail(d, q);

	a[2 + d->avail_idx[q] % NUM] = head;
	__atomic_store_n(&a[1], ++d->avail_idx[q], __ATOMIC_RELEASE);
	virtio_mmio__kick(d->vm, q);
}

/* Wait until the device has used @n more buffers of queue @q. */
static bool wait_used(struct drv *d, int q, unsigned int n)
{
	struct timespec ts = { .tv_nsec = 2 * 1000 * 1000 };
	int i;

	for (i = 0; i < WAIT_S * 500; i++) {
		uint16_t idx = __atomic_load_n(&used(d, q)[1], __ATOMIC_ACQUIRE);

		if ((uint16_t)(idx - d->used_seen[q]) >= n) {
			d->used_seen[q] += n;
			return true;
		}
		nanosleep(&ts, NULL);
	}
	return false;
}

static void setup_queue(struct drv *d, int q)
{
	wr(d, R_QUEUE_SEL, q);
	wr(d, R_QUEUE_NUM, NUM);
	wr(d, R_DESC_LO, RING(q));
	wr(d, R_DESC_HI, 0);
	wr(d, R_AVAIL_LO, RING(q) + 0x1000);
	wr(d, R_AVAIL_HI, 0);
	wr(d, R_USED_LO, RING(q) + 0x2000);
	wr(d, R_USED_HI, 0);
	wr(d, R_QUEUE_READY, 1);
}

static void post_rx(struct drv *d, uint16_t i)
{
	desc(d, RX)[i] = (struct virtq_desc){
		.addr = BUF(RX, i), .len = d->rx_len,
		.flags = VIRTQ_DESC_F_WRITE,
	};
	offer(d, RX, i);
}

/*
 * A driver's bring-up: reset, features, queues, DRIVER_OK, rx buffers of
 * @rx_len bytes.
 */
static uint32_t drv_init_rx(struct drv *d, uint32_t rx_len)
{
	unsigned int q, i;

	d->rx_len = rx_len;
	wr(d, R_STATUS, 0);
	memset(d->avail_idx, 0, sizeof(d->avail_idx));
	memset(d->used_seen, 0, sizeof(d->used_seen));
	memset(d->next_desc, 0, sizeof(d->next_desc));
	for (q = 0; q < 3; q++)
		memset(gpa(d, RING(q), 0x3000), 0, 0x3000);
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, R_DRV_FEAT_SEL, 1);
	wr(d, R_DRV_FEATURES, 1);		/* VIRTIO_F_VERSION_1 */
	wr(d, R_DRV_FEAT_SEL, 0);
	wr(d, R_DRV_FEATURES, 0);
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	if (!(rd(d, R_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return rd(d, R_STATUS);
	for (q = 0; q < 3; q++)
		setup_queue(d, q);
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	for (i = 0; i < NUM; i++)
		post_rx(d, i);
	return rd(d, R_STATUS);
}

static uint32_t drv_init(struct drv *d)
{
	return drv_init_rx(d, BUF_SIZE);
}

static void hdr(struct vsock_hdr *h, uint32_t src_port, uint32_t dst_port,
		uint16_t op, uint32_t len)
{
	*h = (struct vsock_hdr){
		.src_cid = CID, .dst_cid = VSOCK_CID_HOST,
		.src_port = src_port, .dst_port = dst_port,
		.len = len, .type = VSOCK_TYPE_STREAM, .op = op,
		.buf_alloc = 256 * 1024, .fwd_cnt = 0,
	};
}

/* One packet on tx, header and payload in one descriptor. */
static void tx(struct drv *d, const struct vsock_hdr *h, const void *data,
	       uint32_t desc_len)
{
	uint16_t i = d->next_desc[TX]++ % NUM;
	uint8_t *b = gpa(d, BUF(TX, i), BUF_SIZE);

	vsock__hdr_encode(h, b);
	if (data)
		memcpy(b + VSOCK_HDR_SIZE, data, h->len);
	desc(d, TX)[i] = (struct virtq_desc){
		.addr = BUF(TX, i),
		.len = desc_len ? desc_len : VSOCK_HDR_SIZE + h->len,
	};
	offer(d, TX, i);
}

/* The next packet the device put on rx; the buffer goes back. */
static bool rx(struct drv *d, struct vsock_hdr *h, void *data, size_t max)
{
	struct virtq_used_elem *u;
	uint16_t slot, id;
	uint8_t *b;

	if (!wait_used(d, RX, 1))
		return false;
	slot = (d->used_seen[RX] - 1) % NUM;
	u = (struct virtq_used_elem *)(used(d, RX) + 2);
	id = u[slot].id;
	if (id >= NUM || u[slot].len < VSOCK_HDR_SIZE)
		return false;
	b = gpa(d, BUF(RX, id), BUF_SIZE);
	vsock__hdr_decode(b, h);
	if (data)
		memcpy(data, b + VSOCK_HDR_SIZE, h->len < max ? h->len : max);
	post_rx(d, id);
	return true;
}

static int set_path(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);

	if (n >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (set_path(&sa, path))
		return -1;
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0)
		return -1;
	return fd;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (set_path(&sa, path))
		return -1;
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

/* true if the peer closed @fd (EOF or reset) within @s seconds. */
static bool closed_within(int fd, int s)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c[256];

	while (poll(&p, 1, s * 1000) == 1) {
		ssize_t r = read(fd, c, sizeof(c));

		if (r <= 0)
			return true;
	}
	return false;
}

/*
 * The guest (us) connects from @port to host port 5000: the host's end,
 * or -1.
 */
static int guest_connects(struct drv *d, int l5000, uint32_t port)
{
	struct vsock_hdr h;

	hdr(&h, port, 5000, VSOCK_OP_REQUEST, 0);
	tx(d, &h, NULL, 0);
	if (!rx(d, &h, NULL, 0) || h.op != VSOCK_OP_RESPONSE)
		return -1;
	return accept(l5000, NULL, NULL);
}

/*
 * A host program connects to @uds for guest port @port: its fd, with the
 * REQUEST the guest (us) got for it in @h; -1 if none came.
 */
static int host_connects(struct drv *d, const char *uds, uint32_t port,
			 struct vsock_hdr *h)
{
	char line[32];
	int fd, n;

	fd = connect_unix(uds);
	if (fd < 0)
		return -1;
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write(fd, line, n) != n || !rx(d, h, NULL, 0) ||
	    h->op != VSOCK_OP_REQUEST || h->dst_port != port) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The next data packet within @tries packets, none of them closing or
 * resetting the connection on the way (@h says which did).
 */
static bool rx_data(struct drv *d, struct vsock_hdr *h, void *data,
		    size_t max, int tries)
{
	while (tries-- > 0) {
		if (!rx(d, h, data, max) || h->op == VSOCK_OP_SHUTDOWN ||
		    h->op == VSOCK_OP_RST)
			return false;
		if (h->op == VSOCK_OP_RW)
			return true;
	}
	return false;
}

FIXTURE(hostile) {
	char dir[64];
	char uds[128];
	struct vm_config cfg;
	struct vmm *vmm;
	struct drv d;
	int l5000;
};

FIXTURE_SETUP(hostile)
{
	char kernel[128], path[160], err[256];
	struct kvm *kvm;
	int fd;

	self->vmm = NULL;
	self->dir[0] = '\0';
	self->l5000 = -1;
	vm_config__init(&self->cfg);
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SETUP_SKIP("/dev/kvm: %s", strerror(errno));
	close(fd);
	strcpy(self->dir, "/tmp/thaw-vsock-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(kernel, sizeof(kernel), "%s/hlt.elf", self->dir);
	ASSERT_EQ(0, write_test_kernel(kernel, code_hlt, sizeof(code_hlt)));
	snprintf(self->uds, sizeof(self->uds), "%s/v.sock", self->dir);
	snprintf(path, sizeof(path), "%s_5000", self->uds);
	self->l5000 = listen_unix(path);
	ASSERT_LE(0, self->l5000);

	self->cfg.has_boot_source = true;
	self->cfg.boot_source.kernel_image_path = strdup(kernel);
	self->cfg.machine.mem_size_mib = 64;
	self->cfg.vsock.present = true;
	self->cfg.vsock.guest_cid = CID;
	self->cfg.vsock.uds_path = strdup(self->uds);
	self->cfg.serial_out_path = strdup("/dev/null");
	self->vmm = vmm__new();
	ASSERT_NE(NULL, self->vmm);
	ASSERT_EQ(0, vmm__start(self->vmm, &self->cfg, err, sizeof(err)))
		TH_LOG("%s", err);
	kvm = vmm__machine(self->vmm);
	ASSERT_NE(NULL, kvm);
	ASSERT_EQ(1, kvm->nr_virtio);
	self->d.vm = kvm->virtio[0];
	self->d.mem = kvm->mem;
	ASSERT_EQ(0x74726976, rd(&self->d, R_MAGIC));
	ASSERT_EQ(2, rd(&self->d, R_VERSION));
	ASSERT_EQ(VIRTIO_ID_VSOCK, rd(&self->d, R_DEVICE_ID));
}

FIXTURE_TEARDOWN(hostile)
{
	char cmd[128];

	vmm__free(self->vmm);
	vm_config__free(&self->cfg);
	if (self->l5000 >= 0)
		close(self->l5000);
	if (self->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
		if (system(cmd))
			TH_LOG("could not remove %s", self->dir);
	}
}

/* The well-behaved baseline: connect to the host, data both ways. */
TEST_F_TIMEOUT(hostile, well_behaved_driver, 120)
{
	struct drv *d = &self->d;
	struct vsock_hdr h;
	char buf[64];
	uint32_t cid;
	int c;

	ASSERT_EQ(0x0f, drv_init(d));
	wr(d, R_DEV_FEAT_SEL, 1);
	EXPECT_EQ(1, rd(d, R_DEV_FEATURES));
	virtio_mmio__read(d->vm, R_CONFIG, &cid, 4);
	EXPECT_EQ(CID, cid);
	wr(d, R_QUEUE_SEL, 7);
	EXPECT_EQ(0, rd(d, R_QUEUE_NUM_MAX));

	hdr(&h, 1000, 5000, VSOCK_OP_REQUEST, 0);
	tx(d, &h, NULL, 0);
	ASSERT_TRUE(rx(d, &h, NULL, 0));
	EXPECT_EQ(VSOCK_OP_RESPONSE, h.op);
	EXPECT_EQ(5000, h.src_port);
	EXPECT_EQ(1000, h.dst_port);
	EXPECT_EQ(CID, h.dst_cid);
	c = accept(self->l5000, NULL, NULL);
	ASSERT_LE(0, c);

	hdr(&h, 1000, 5000, VSOCK_OP_RW, 5);
	tx(d, &h, "hello", 0);
	ASSERT_EQ(5, read(c, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(3, write(c, "hey", 3));
	ASSERT_TRUE(rx(d, &h, buf, sizeof(buf)));
	EXPECT_EQ(VSOCK_OP_RW, h.op);
	EXPECT_EQ(3, h.len);
	EXPECT_EQ(0, memcmp(buf, "hey", 3));
	EXPECT_EQ(128 * 1024, h.buf_alloc);

	/* The guest closes: the host sees EOF, the guest gets RST. */
	hdr(&h, 1000, 5000, VSOCK_OP_SHUTDOWN, 0);
	h.flags = VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND;
	tx(d, &h, NULL, 0);
	ASSERT_TRUE(rx(d, &h, NULL, 0));
	EXPECT_EQ(VSOCK_OP_RST, h.op);
	EXPECT_TRUE(closed_within(c, 5));
	close(c);
	EXPECT_TRUE(rd(d, R_INT_STATUS) & VIRTIO_MMIO_INT_VRING);
}

/* Without VERSION_1 there is no FEATURES_OK. */
TEST_F_TIMEOUT(hostile, legacy_driver_refused, 60)
{
	struct drv *d = &self->d;

	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, R_DRV_FEAT_SEL, 1);
	wr(d, R_DRV_FEATURES, 0);
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	EXPECT_FALSE(rd(d, R_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	/* Nor a feature nobody offered. */
	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, R_DRV_FEAT_SEL, 1);
	wr(d, R_DRV_FEATURES, 1);
	wr(d, R_DRV_FEAT_SEL, 0);
	wr(d, R_DRV_FEATURES, 1U << 28);	/* INDIRECT_DESC */
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	EXPECT_FALSE(rd(d, R_STATUS) & VIRTIO_STATUS_FEATURES_OK);
}

/* A descriptor loop on tx: NEEDS_RESET, and a reset brings it back. */
TEST_F_TIMEOUT(hostile, descriptor_loop_needs_reset, 120)
{
	struct drv *d = &self->d;
	struct vsock_hdr h;
	uint16_t i;

	ASSERT_EQ(0x0f, drv_init(d));
	desc(d, TX)[0] = (struct virtq_desc){
		.addr = BUF(TX, 0), .len = 44, .flags = VIRTQ_DESC_F_NEXT,
		.next = 1,
	};
	desc(d, TX)[1] = (struct virtq_desc){
		.addr = BUF(TX, 1), .len = 44, .flags = VIRTQ_DESC_F_NEXT,
		.next = 0,
	};
	offer(d, TX, 0);
	for (i = 0; i < 1000 && !(rd(d, R_STATUS) & 0x40); i++)
		usleep(10000);
	EXPECT_TRUE(rd(d, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	EXPECT_TRUE(rd(d, R_INT_STATUS) & VIRTIO_MMIO_INT_CONFIG);

	/* Broken: a valid request now gets nothing back. */
	hdr(&h, 1001, 5000, VSOCK_OP_REQUEST, 0);
	tx(d, &h, NULL, 0);
	EXPECT_FALSE(wait_used(d, RX, 1));

	ASSERT_EQ(0x0f, drv_init(d));
	EXPECT_FALSE(rd(d, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	hdr(&h, 1002, 5000, VSOCK_OP_REQUEST, 0);
	tx(d, &h, NULL, 0);
	ASSERT_TRUE(rx(d, &h, NULL, 0));
	EXPECT_EQ(VSOCK_OP_RESPONSE, h.op);
}

/* Rings outside RAM, rx buffers the device would have to read. */
TEST_F_TIMEOUT(hostile, bad_rings_need_reset, 120)
{
	struct drv *d = &self->d;
	struct vsock_hdr h;
	uint16_t i;

	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, 3);
	wr(d, R_DRV_FEAT_SEL, 1);
	wr(d, R_DRV_FEATURES, 1);
	wr(d, R_STATUS, 0xb);
	wr(d, R_QUEUE_SEL, TX);
	wr(d, R_QUEUE_NUM, NUM);
	wr(d, R_DESC_LO, 0xfff00000);		/* the MMIO hole */
	wr(d, R_QUEUE_READY, 1);
	EXPECT_EQ(0, rd(d, R_QUEUE_READY));
	EXPECT_TRUE(rd(d, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET);

	ASSERT_EQ(0x0f, drv_init(d));
	/* A readable descriptor posted as an rx buffer. */
	desc(d, RX)[0].flags = 0;
	hdr(&h, 1003, 5000, VSOCK_OP_REQUEST, 0);
	tx(d, &h, NULL, 0);
	for (i = 0; i < 1000 && !(rd(d, R_STATUS) & 0x40); i++)
		usleep(10000);
	EXPECT_TRUE(rd(d, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

/* Lies in the header are dropped without an answer. */
TEST_F_TIMEOUT(hostile, lying_headers_dropped, 120)
{
	struct drv *d = &self->d;
	struct vsock_hdr h;

	ASSERT_EQ(0x0f, drv_init(d));
	hdr(&h, 1004, 5000, VSOCK_OP_REQUEST, 0);
	h.src_cid = 77;				/* not the guest's CID */
	tx(d, &h, NULL, 0);
	hdr(&h, 1005, 5000, VSOCK_OP_RW, 60000);
	tx(d, &h, NULL, VSOCK_HDR_SIZE + 10);	/* len beyond the chain */
	hdr(&h, 1006, 5000, VSOCK_OP_REQUEST, 0);
	tx(d, &h, NULL, 20);			/* shorter than a header */
	ASSERT_TRUE(wait_used(d, TX, 3));
	EXPECT_FALSE(wait_used(d, RX, 1));
	EXPECT_FALSE(rd(d, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* And the device still works. */
	hdr(&h, 1007, 5000, VSOCK_OP_REQUEST, 0);
	tx(d, &h, NULL, 0);
	ASSERT_TRUE(rx(d, &h, NULL, 0));
	EXPECT_EQ(VSOCK_OP_RESPONSE, h.op);
}

/* Packets for connections that do not exist, a port nobody serves. */
TEST_F_TIMEOUT(hostile, unknown_connections_get_rst, 120)
{
	struct drv *d = &self->d;
	struct vsock_hdr h;
	int i, rsts = 0;

	ASSERT_EQ(0x0f, drv_init(d));
	hdr(&h, 1008, 5000, VSOCK_OP_RW, 4);
	tx(d, &h, "data", 0);
	ASSERT_TRUE(rx(d, &h, NULL, 0));
	EXPECT_EQ(VSOCK_OP_RST, h.op);
	EXPECT_EQ(1008, h.dst_port);

	hdr(&h, 1009, 6000, VSOCK_OP_REQUEST, 0);	/* no <uds>_6000 */
	tx(d, &h, NULL, 0);
	ASSERT_TRUE(rx(d, &h, NULL, 0));
	EXPECT_EQ(VSOCK_OP_RST, h.op);

	/* A flood: every REQUEST is answered or dropped, nothing grows. */
	for (i = 0; i < 600; i++) {
		hdr(&h, 2000 + i, 6000, VSOCK_OP_REQUEST, 0);
		tx(d, &h, NULL, 0);
		ASSERT_TRUE(wait_used(d, TX, 1));
		while (__atomic_load_n(&used(d, RX)[1], __ATOMIC_ACQUIRE) !=
		       d->used_seen[RX]) {
			ASSERT_TRUE(rx(d, &h, NULL, 0));
			rsts += h.op == VSOCK_OP_RST;
		}
	}
	TH_LOG("%d RSTs for 600 refused REQUESTs", rsts);
	EXPECT_LT(0, rsts);
	/* Still serving. */
	hdr(&h, 1010, 5000, VSOCK_OP_REQUEST, 0);
	tx(d, &h, NULL, 0);
	do {
		ASSERT_TRUE(rx(d, &h, NULL, 0));
	} while (h.op == VSOCK_OP_RST);
	EXPECT_EQ(VSOCK_OP_RESPONSE, h.op);
}

/* Data beyond the credit we gave resets the connection. */
TEST_F_TIMEOUT(hostile, beyond_credit_is_reset, 120)
{
	struct drv *d = &self->d;
	struct vsock_hdr h;
	uint32_t sent = 0, chunk = 60000;
	int c, t, sb = 4096;
	bool reset = false;

	ASSERT_EQ(0x0f, drv_init(d));
	c = guest_connects(d, self->l5000, 1011);
	ASSERT_LE(0, c);
	/* The host reads nothing: what the socket does not take is ours. */
	setsockopt(c, SOL_SOCKET, SO_RCVBUF, &sb, sizeof(sb));

	while (sent < 1024 * 1024 && !reset) {
		hdr(&h, 1011, 5000, VSOCK_OP_RW, chunk);
		h.fwd_cnt = 0;
		tx(d, &h, NULL, 0);
		ASSERT_TRUE(wait_used(d, TX, 1));
		sent += chunk;
		/* An RST this packet earned follows its tx completion. */
		for (t = 0; t < 50 && !reset; t++) {
			while (__atomic_load_n(&used(d, RX)[1],
					       __ATOMIC_ACQUIRE) !=
			       d->used_seen[RX]) {
				ASSERT_TRUE(rx(d, &h, NULL, 0));
				if (h.op != VSOCK_OP_RST)
					continue;
				EXPECT_EQ(5000, h.src_port);
				EXPECT_EQ(1011, h.dst_port);
				reset = true;
			}
			usleep(10 * 1000);
		}
	}
	{
		int queued = -1;

		ioctl(c, FIONREAD, &queued);
		TH_LOG("reset after %u bytes sent with 128 KiB of credit, %d bytes reached the host socket",
		       sent, queued);
		/*
		 * Not before the guest went past its credit, and no later
		 * than the packet that took what the host socket did not
		 * over 128 KiB.
		 */
		EXPECT_LT(128 * 1024, sent);
		EXPECT_GE(queued + 128 * 1024 + (int)chunk, (int)sent);
	}
	EXPECT_TRUE(reset);
	EXPECT_LT(sent, 1024 * 1024);
	EXPECT_TRUE(closed_within(c, 5));
	close(c);
}

/* Host side: handshakes that are not "CONNECT <port>\n". */
TEST_F_TIMEOUT(hostile, bad_handshakes_closed, 120)
{
	static const char *const bad[] = {
		"CONNECT\n", "CONNECT abc\n", "CONNECT 99999999999\n",
		"connect 5\n", "CONNECT 5 6\n", "CONNECT -1\n",
		"CONNECT 123456789012345678901234567890\n",
	};
	struct drv *d = &self->d;
	struct vsock_hdr h;
	char line[64];
	unsigned int i;
	int fd;

	ASSERT_EQ(0x0f, drv_init(d));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = connect_unix(self->uds);
		ASSERT_LE(0, fd);
		ASSERT_EQ((ssize_t)strlen(bad[i]),
			  write(fd, bad[i], strlen(bad[i])));
		EXPECT_TRUE(closed_within(fd, 5)) TH_LOG("\"%s\"", bad[i]);
		close(fd);
	}
	/* A good one: the guest (us) sees the REQUEST; we refuse it. */
	fd = host_connects(d, self->uds, 4242, &h);
	ASSERT_LE(0, fd);
	EXPECT_LE(49152, h.src_port);
	hdr(&h, 4242, h.src_port, VSOCK_OP_RST, 0);
	tx(d, &h, NULL, 0);
	EXPECT_TRUE(closed_within(fd, 5));
	close(fd);
	/* Accepted: OK <port>. */
	fd = host_connects(d, self->uds, 4243, &h);
	ASSERT_LE(0, fd);
	snprintf(line, sizeof(line), "OK %u\n", h.src_port);
	hdr(&h, 4243, h.src_port, VSOCK_OP_RESPONSE, 0);
	tx(d, &h, NULL, 0);
	{
		char got[64] = { 0 };
		struct pollfd p = { .fd = fd, .events = POLLIN };

		ASSERT_EQ(1, poll(&p, 1, 5000));
		ASSERT_LT(0, read(fd, got, sizeof(got) - 1));
		EXPECT_STREQ(line, got);
	}
	close(fd);
}

/*
 * rx buffers with room for the header only: they carry control packets,
 * never the host's data, and never its end of stream.  The data waits in
 * the host socket for a buffer with room; the connection stays up.
 */
TEST_F_TIMEOUT(hostile, header_only_rx_buffers, 120)
{
	struct drv *d = &self->d;
	struct vsock_hdr h;
	char buf[64];
	int c, i;

	ASSERT_EQ(0x0f, drv_init_rx(d, VSOCK_HDR_SIZE));
	c = guest_connects(d, self->l5000, 1012);
	ASSERT_LE(0, c);

	ASSERT_EQ(3, write(c, "hey", 3));
	for (i = 0; i < 2 * NUM; i++) {
		ASSERT_TRUE(rx(d, &h, NULL, 0));
		ASSERT_EQ(VSOCK_OP_CREDIT_UPDATE, h.op);
		EXPECT_EQ(1012, h.dst_port);
		EXPECT_EQ(0, h.len);
	}
	/* Buffers with room from now on: the data, once those ahead go. */
	d->rx_len = BUF_SIZE;
	ASSERT_TRUE(rx_data(d, &h, buf, sizeof(buf), 2 * NUM))
		TH_LOG("op %u", h.op);
	ASSERT_EQ(3, h.len);
	EXPECT_EQ(0, memcmp(buf, "hey", 3));

	/* Still open both ways. */
	ASSERT_EQ(4, write(c, "more", 4));
	ASSERT_TRUE(rx_data(d, &h, buf, sizeof(buf), 2 * NUM))
		TH_LOG("op %u", h.op);
	ASSERT_EQ(4, h.len);
	EXPECT_EQ(0, memcmp(buf, "more", 4));
	hdr(&h, 1012, 5000, VSOCK_OP_RW, 5);
	tx(d, &h, "hello", 0);
	ASSERT_EQ(5, read(c, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_FALSE(closed_within(c, 1));
	close(c);
}

/* Is the socket file at @path still the one @st describes? */
static bool same_file(const char *path, const struct stat *st)
{
	struct stat now;

	return !lstat(path, &now) && now.st_dev == st->st_dev &&
	       now.st_ino == st->st_ino;
}

/*
 * A second machine given the first one's uds_path (two restores of one
 * snapshot, say) is refused, by name, and takes nothing from the first:
 * host connections still reach the first machine's guest.
 */
TEST_F_TIMEOUT(hostile, uds_path_in_use_refused, 120)
{
	struct drv *d = &self->d;
	struct vmm *second;
	struct vsock_hdr h;
	struct stat st;
	char err[256] = "";
	int fd;

	ASSERT_EQ(0x0f, drv_init(d));
	ASSERT_EQ(0, lstat(self->uds, &st));
	second = vmm__new();
	ASSERT_NE(NULL, second);
	EXPECT_EQ(-EADDRINUSE, vmm__start(second, &self->cfg, err,
					  sizeof(err)));
	TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, self->uds));
	EXPECT_NE(NULL, strstr(err, "another process listens on it"));
	vmm__free(second);
	EXPECT_TRUE(same_file(self->uds, &st));

	fd = host_connects(d, self->uds, 4244, &h);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

/*
 * A socket file nobody listens on (a killed VMM's) is taken over; any
 * other file at uds_path is refused and left alone.
 */
TEST_F_TIMEOUT(hostile, stale_uds_path_replaced, 120)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[160], err[256] = "";
	struct vm_config cfg;
	struct vmm *second;
	int fd;

	snprintf(path, sizeof(path), "%s/stale.sock", self->dir);
	ASSERT_EQ(0, set_path(&sa, path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);			/* the file stays, nobody listens */
	vm_config__init(&cfg);
	ASSERT_EQ(0, vm_config__copy(&cfg, &self->cfg));
	free(cfg.vsock.uds_path);
	cfg.vsock.uds_path = strdup(path);
	second = vmm__new();
	ASSERT_NE(NULL, second);
	EXPECT_EQ(0, vmm__start(second, &cfg, err, sizeof(err)))
		TH_LOG("%s", err);
	fd = connect_unix(path);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	vmm__free(second);
	EXPECT_NE(0, access(path, F_OK));	/* its own: removed */

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	second = vmm__new();
	ASSERT_NE(NULL, second);
	EXPECT_EQ(-EADDRINUSE, vmm__start(second, &cfg, err, sizeof(err)));
	TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, path));
	vmm__free(second);
	EXPECT_EQ(0, access(path, F_OK));
	vm_config__free(&cfg);
}

/*
 * A machine that exits removes its uds_path only if the socket there is
 * still its own: not one another process put there since.
 */
TEST_F_TIMEOUT(hostile, exit_leaves_a_foreign_uds_path, 120)
{
	struct stat st;
	int l, fd;

	ASSERT_EQ(0, unlink(self->uds));
	l = listen_unix(self->uds);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, lstat(self->uds, &st));
	vmm__free(self->vmm);
	self->vmm = NULL;
	EXPECT_TRUE(same_file(self->uds, &st));
	fd = connect_unix(self->uds);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	close(l);
}

TEST_HARNESS_MAIN
