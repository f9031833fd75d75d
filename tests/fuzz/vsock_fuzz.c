// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-vsock device (vmm/virtio/vsock.c) with its Unix-socket
 * backend (vsock-uds.c), its virtio-mmio transport (mmio.c) and its
 * queues (queue.c) over 256 KiB of real (memfd) guest memory, driven by
 * both of its peers at once: an input is a sequence of operations, each
 * an opcode byte and its operands, that a guest driver does (write and
 * read the registers, write guest memory: descriptors, rings, packets,
 * and kick a queue as KVM's ioeventfd would) or that a host program
 * does (connect to the device's socket and send a CONNECT line, write
 * or close such a connection, accept the guest's connection to the
 * listener at uds_path_1234), or a save and restore of the device.
 *
 * There is no KVM and no event loop thread: this file stands in for
 * vmm/kvm.c (the irqfd and ioeventfds are only eventfds) and for
 * vmm/uring.c (deferred work and armed polls run here, between
 * operations, polls by poll(2) on their fds), so every run is
 * deterministic.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/mem/mem.h"
#include "vmm/persist.h"
#include "vmm/virtio/mmio.h"
#include "vmm/virtio/vsock.h"

#define RAM		(256u << 10)
#define GUEST_CID	3
#define PORT		1234	/* the host listens on uds_path_1234 */
#define MAX_POLLS	2048	/* vsock-uds: 2 a connection, 512 of them */
#define MAX_WORK	16
#define MAX_HOST	8
#define REG_QUEUE_NOTIFY	0x050

static struct kvm kvm;
static struct vm_config cfg;
static struct guest_mem *mem;
static char dir[64], uds_path[96], port_path[112];
static int port_fd = -1;
static int host[MAX_HOST];
static unsigned int nr_host;

/* vmm/uring.c, run by hand. */
static struct uring_poll *polls[MAX_POLLS];
static unsigned int nr_polls;
static struct uring_work *work[MAX_WORK];
static unsigned int nr_work;

void uring__poll_init(struct uring_poll *p, int fd, uint32_t mask,
		      uring_poll_fn fn, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->mask = mask;
	p->fn = fn;
	p->arg = arg;
}

int uring__poll_arm(struct uring_loop *l, struct uring_poll *p)
{
	if (p->armed)
		return 0;
	FUZZ_CHECK(nr_polls < MAX_POLLS);
	p->armed = true;
	polls[nr_polls++] = p;
	return 0;
}

int uring__poll_cancel(struct uring_loop *l, struct uring_poll *p)
{
	for (unsigned int i = 0; i < nr_polls; i++)
		if (polls[i] == p) {
			polls[i] = polls[--nr_polls];
			break;
		}
	p->armed = false;
	return 0;
}

void uring__defer(struct uring_loop *l, struct uring_work *w)
{
	if (w->queued)
		return;
	FUZZ_CHECK(nr_work < MAX_WORK);
	w->queued = true;
	work[nr_work++] = w;
}

void uring__wake(struct uring_loop *l)
{
}

/* vmm/kvm.c: the eventfds are enough. */
int kvm__irqfd(struct kvm *k, int fd, unsigned int gsi, bool assign)
{
	return 0;
}

int kvm__ioeventfd(struct kvm *k, int fd, uint64_t addr, uint32_t len,
		   uint64_t datamatch, bool assign)
{
	return 0;
}

/* One turn of the loop: deferred work, then the polls that are ready. */
static bool loop_once(void)
{
	struct pollfd pfd;
	bool ran = false;

	while (nr_work) {
		struct uring_work *w = work[--nr_work];

		w->queued = false;
		w->fn(w);
		ran = true;
	}
	for (unsigned int i = 0; i < nr_polls; i++) {
		struct uring_poll *p = polls[i];

		pfd.fd = p->fd;
		pfd.events = p->mask;
		if (!p->fn || poll(&pfd, 1, 0) != 1)
			continue;
		polls[i] = polls[--nr_polls];
		p->armed = false;
		p->fn(p, pfd.revents);
		ran = true;
		/* The callback may have armed or cancelled others. */
		i = -1u;
	}
	return ran;
}

static void loop(void)
{
	uint64_t v;

	for (int i = 0; i < 64 && loop_once(); i++)
		;
	/* The guest would take the interrupt. */
	if (kvm.virtio[0] && read(kvm.virtio[0]->irqfd, &v, sizeof(v)) < 0)
		FUZZ_CHECK(errno == EAGAIN);
}

static void cleanup(void)
{
	unlink(port_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(dir, sizeof(dir), "/tmp/vsock_fuzz.XXXXXX");
	FUZZ_CHECK(mkdtemp(dir));
	snprintf(uds_path, sizeof(uds_path), "%s/v.sock", dir);
	snprintf(port_path, sizeof(port_path), "%s_%u", uds_path, PORT);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", port_path);
	port_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 0);
	FUZZ_CHECK(port_fd >= 0);
	FUZZ_CHECK(!bind(port_fd, (struct sockaddr *)&sa, sizeof(sa)));
	FUZZ_CHECK(!listen(port_fd, 64));
	atexit(cleanup);
	FUZZ_CHECK(!guest_mem__new_memfd(&mem, RAM, VM_HUGE_PAGES_NONE));
	return 0;
}

static void host_add(int fd)
{
	if (fd < 0)
		return;
	if (nr_host == MAX_HOST) {
		close(fd);
		return;
	}
	host[nr_host++] = fd;
}

static void host_connect(uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[32];
	int fd, n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", uds_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return;
	}
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (send(fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		FUZZ_CHECK(errno == EAGAIN || errno == EPIPE ||
			   errno == ECONNRESET);
	host_add(fd);
}

static void mmio_write(uint32_t off, uint32_t v)
{
	struct virtio_mmio *vm = kvm.virtio[0];
	uint64_t one = 1;

	/* KVM's ioeventfd takes a notify with a queue's index. */
	if (off == REG_QUEUE_NOTIFY && v < 3) {
		FUZZ_CHECK(write(vm->ioeventfd[v], &one, sizeof(one)) == 8);
		return;
	}
	bus__access(&kvm.mmio, vm->base + off, &v, 4, true);
}

static void save_restore(void)
{
	struct vsock_state st;

	vsock__save(kvm.vsock, &st);
	/* What a restore refuses, the machine would not start with. */
	vsock__restore(kvm.vsock, &st);
}

static void run(struct fuzz_in *in)
{
	static const uint32_t widths[] = { 1, 2, 4, 8 };
	uint8_t op = fuzz__u8(in), buf[256];
	struct virtio_mmio *vm = kvm.virtio[0];
	uint32_t addr, len, off;
	ssize_t n;
	int fd;

	switch (op & 7) {
	case 0:
		off = fuzz__u8(in) * 4;
		mmio_write(off, fuzz__u32(in));
		break;
	case 1:
		off = fuzz__u8(in) * 4 + (op >> 6);
		bus__access(&kvm.mmio, vm->base + off, buf,
			    widths[(op >> 3) & 3], false);
		break;
	case 2:
		addr = (fuzz__u8(in) | fuzz__u8(in) << 8 |
			(uint32_t)fuzz__u8(in) << 16) & (RAM - 1);
		len = fuzz__u8(in);
		if (len > in->n)
			len = in->n;
		if (addr + len > RAM)
			len = RAM - addr;
		memcpy(guest_mem__ptr(mem, addr, len ?: 1), in->p, len);
		in->p += len;
		in->n -= len;
		break;
	case 3:
		host_connect(op & 0x80 ? fuzz__u32(in) : 9000 + (op >> 3 & 3));
		break;
	case 4:
		len = fuzz__u8(in);
		fd = nr_host ? host[fuzz__u8(in) % nr_host] : -1;
		if (len > in->n)
			len = in->n;
		if (fd >= 0)
			send(fd, in->p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		in->p += len;
		in->n -= len;
		break;
	case 5:
		if (nr_host) {
			unsigned int i = fuzz__u8(in) % nr_host;

			close(host[i]);
			host[i] = host[--nr_host];
		}
		break;
	case 6:
		save_restore();
		break;
	default:
		host_add(accept4(port_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC));
		/* And read what reached the host ends, as a program would. */
		for (unsigned int i = 0; i < nr_host; i++)
			while ((n = recv(host[i], buf, sizeof(buf),
					 MSG_DONTWAIT)) > 0)
				;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char err[256];
	int fd;

	memset(&kvm, 0, sizeof(kvm));
	memset(&cfg, 0, sizeof(cfg));
	cfg.vsock.present = true;
	cfg.vsock.guest_cid = GUEST_CID;
	cfg.vsock.uds_path = uds_path;
	kvm.vm_fd = -1;
	kvm.cfg = &cfg;
	kvm.mem = mem;
	memset(guest_mem__ptr(mem, 0, RAM), 0, RAM);
	nr_polls = nr_work = 0;
	if (vsock__init(&kvm, err, sizeof(err))) {
		fprintf(stderr, "vsock__init: %s\n", err);
		abort();
	}
	while (in.n) {
		run(&in);
		loop();
	}
	vsock__exit(&kvm);
	bus__free(&kvm.mmio);
	while (nr_host)
		close(host[--nr_host]);
	while ((fd = accept4(port_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
	return 0;
}
