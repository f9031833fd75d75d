// SPDX-License-Identifier: GPL-2.0
/*
 * MMDS's guest side in one process, without a guest: the frames a guest
 * would send (ARP for the MMDS address, TCP SYNs to its port 80) go
 * through mmds__if_take() into the real libslirp and libmicrohttpd, and
 * what comes back for the guest is checked: an ARP reply, a SYN-ACK to
 * a sender libslirp only heard of through the gratuitous ARP, no answer
 * to frames that are not MMDS's, and no more than MMDS_CONNS
 * connections per interface.  The device loop is a real one (vmm/uring.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "vmm/config.h"
#include "vmm/kvm.h"
#include "vmm/list.h"
#include "vmm/mmds/frame.h"
#include "vmm/mmds/mmds.h"
#include "vmm/uring.h"
#include "vmm/virtio/net.h"

static struct kvm kvm;
static struct vm_config cfg;
static struct uring_loop loop;
static pthread_t loop_thread;
static struct mmds_if *mi;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned int delivered;
static const uint8_t hdr[NET_HDR_LEN];

/* The device loop: MMDS has frames for the guest. */
static void deliver(void *arg)
{
	pthread_mutex_lock(&lock);
	delivered++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void *run_loop(void *arg)
{
	uring__run(&loop);
	return NULL;
}

static void stop_fn(struct uring_work *w)
{
	uring__stop(&loop);
}

static int setup(void **state)
{
	char err[256] = "";
	int ret;

	vm_config__init(&cfg);
	cfg.no_seccomp = true;
	cfg.mmds.present = true;
	cfg.mmds.version = 2;
	cfg.mmds.nr_ifaces = 1;
	strcpy(cfg.mmds.ifaces[0], "eth0");
	inet_pton(AF_INET, "169.254.169.254", &cfg.mmds.ipv4);
	kvm.cfg = &cfg;
	ret = uring__init(&loop, 16);
	if (ret == -ENOSYS || ret == -EPERM) {
		*state = "no io_uring";
		return 0;
	}
	if (ret)
		return -1;
	kvm.loop = &loop;
	pthread_create(&loop_thread, NULL, run_loop, NULL);
	if (mmds__if_new(&kvm, "eth1", deliver, NULL, &mi, err, sizeof(err)) ||
	    mi)
		return -1;		/* not an MMDS interface */
	if (mmds__if_new(&kvm, "eth0", deliver, NULL, &mi, err, sizeof(err)) ||
	    !mi || mmds__start(&kvm, err, sizeof(err))) {
		fprintf(stderr, "mmds: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	static struct uring_work stop = { .fn = stop_fn };

	if (*state)
		return 0;
	mmds__stop();
	mmds__if_free(mi);
	uring__defer(&loop, &stop);
	pthread_join(loop_thread, NULL);
	uring__exit(&loop);
	vm_config__free(&cfg);
	return 0;
}

/* The next frame for the guest, waiting up to 5 s; its length or 0. */
static size_t next(uint8_t *out, size_t size, int wait_s)
{
	struct timespec until;
	uint8_t *p;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_s;
	pthread_mutex_lock(&lock);
	while (!(p = mmds__if_peek(mi, &len)))
		if (pthread_cond_timedwait(&cond, &lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&lock);
	if (!p)
		return 0;
	assert_true(len >= NET_HDR_LEN && len - NET_HDR_LEN <= size);
	assert_memory_equal(p, hdr, NET_HDR_LEN);	/* no offloads */
	memcpy(out, p + NET_HDR_LEN, len - NET_HDR_LEN);
	mmds__if_pop(mi);
	return len - NET_HDR_LEN;
}

static bool send_frame(uint8_t *f, size_t len)
{
	struct iovec iov = { f, len };

	return mmds__if_take(mi, hdr, &iov, 1, len);
}

static const uint8_t guest_mac[6] = { 6, 0, 0xac, 0x10, 0, 2 };

static void test_arp(void **state)
{
	uint8_t f[64] = { 0 }, r[2048];
	uint32_t guest, mmds;
	size_t len;

	if (*state)
		skip();
	inet_pton(AF_INET, "172.16.0.2", &guest);
	mmds = cfg.mmds.ipv4;
	mmds__garp(f, guest_mac, guest);
	memcpy(f + 38, &mmds, 4);		/* who has MMDS? */
	assert_true(send_frame(f, 42));
	len = next(r, sizeof(r), 5);
	assert_true(len >= 42);
	assert_int_equal(r[12] << 8 | r[13], 0x0806);
	assert_int_equal(r[20] << 8 | r[21], 2);		/* reply */
	assert_memory_equal(r, guest_mac, 6);
	assert_memory_equal(r + 28, &mmds, 4);		/* MMDS is at... */
	assert_memory_equal(r + 38, &guest, 4);
	/* ARP for the tap's side of the link: not MMDS's. */
	inet_pton(AF_INET, "172.16.0.1", f + 38);
	assert_false(send_frame(f, 42));
}

static uint32_t sum(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += p[i] << 8 | p[i + 1];
	if (n & 1)
		s += p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* A TCP SYN from @mac @src:@port to MMDS:80, checksums done. */
static size_t syn(uint8_t *f, const uint8_t *mac, const char *src,
		  uint16_t port)
{
	uint8_t *ip = f + 14, *tcp = f + 34, pseudo[12];
	uint32_t mmds = cfg.mmds.ipv4;
	uint16_t c;

	memset(f, 0, 54);
	memcpy(f, "\x52\x55\xa9\xfe\xa9\xfe", 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = 6;
	inet_pton(AF_INET, src, ip + 12);
	memcpy(ip + 16, &mmds, 4);
	c = fold(sum(ip, 20, 0));
	ip[10] = c >> 8;
	ip[11] = c;
	tcp[0] = port >> 8;
	tcp[1] = port;
	tcp[3] = 80;
	tcp[7] = 1;			/* seq 1 */
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;			/* SYN */
	tcp[14] = 0xff;			/* window */
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	pseudo[10] = 0;
	pseudo[11] = 20;
	c = fold(sum(tcp, 20, sum(pseudo, 12, 0)));
	tcp[16] = c >> 8;
	tcp[17] = c;
	return 54;
}

/* A sender libslirp never saw ARP from gets its SYN-ACK all the same. */
static void test_syn_ack(void **state)
{
	static const uint8_t mac[6] = { 6, 0, 0xac, 0x10, 0, 3 };
	uint8_t f[64], r[2048];
	size_t len;

	if (*state)
		skip();
	assert_true(send_frame(f, syn(f, mac, "172.16.0.3", 40000)));
	len = next(r, sizeof(r), 5);
	assert_true(len >= 54);
	assert_memory_equal(r, mac, 6);
	assert_int_equal(r[12] << 8 | r[13], 0x0800);
	assert_int_equal(r[14 + 9], 6);
	assert_int_equal(r[34] << 8 | r[35], 80);
	assert_int_equal(r[36] << 8 | r[37], 40000);
	assert_int_equal(r[34 + 13] & 0x12, 0x12);	/* SYN-ACK */
	/* An IPv4 frame to another address is not MMDS's. */
	syn(f, mac, "172.16.0.3", 40001);
	inet_pton(AF_INET, "172.16.0.1", f + 30);
	assert_false(send_frame(f, 54));
}

/* MMDS_CONNS connections, then SYNs go unanswered. */
static void test_conn_limit(void **state)
{
	static const uint8_t mac[6] = { 6, 0, 0xac, 0x10, 0, 4 };
	unsigned int i, acks = 0;
	uint8_t f[64], r[2048];
	size_t len;

	if (*state)
		skip();
	for (i = 0; i < MMDS_CONNS + 4; i++)
		assert_true(send_frame(f, syn(f, mac, "172.16.0.4",
					      41000 + i)));
	while ((len = next(r, sizeof(r), 2)))
		if (len >= 54 && r[23] == 6 && (r[47] & 0x12) == 0x12)
			acks++;
	/* test_syn_ack's connection is open too. */
	assert_int_equal(acks, MMDS_CONNS - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_syn_ack),
		cmocka_unit_test(test_conn_limit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
