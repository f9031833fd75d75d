// SPDX-License-Identifier: GPL-2.0
/*
 * The Uffd backend end to end, without a VM: this process (or a child)
 * plays the VMM through lib/uffd.c -- userfaultfd, MISSING registration,
 * Firecracker's one-message handshake -- and the real thaw-uffd-handler
 * serves the faults from a memory file.  Contents and the handler's counts
 * are checked; so are prefetch, recording, remove/unmap events, the VMM
 * going away, several VMs at once and hostile peers.
 */
#include <dirent.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "kselftest_harness.h"
#include "lib/uffd.h"
#include "lib/wset.h"
#include "snap_test.h"

#define PAGES		256ul
#define MEM_SIZE	(PAGES * ST_PAGE)

FIXTURE(uffd) {
	bool ready;
	char why[128];
	char dir[64], sock[128], mem[128], wset[128], rec[128];
	struct st_handler h;
};

FIXTURE_SETUP(uffd)
{
	self->h.pid = -1;
	if (!st_have_userfaultfd()) {
		snprintf(self->why, sizeof(self->why),
			 "userfaultfd unavailable (needs root or /dev/userfaultfd): %s",
			 strerror(errno));
		return;
	}
	strcpy(self->dir, "/tmp/thaw-uffd.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->sock, sizeof(self->sock), "%s/uffd.sock", self->dir);
	snprintf(self->mem, sizeof(self->mem), "%s/memory", self->dir);
	snprintf(self->wset, sizeof(self->wset), "%s/wset", self->dir);
	snprintf(self->rec, sizeof(self->rec), "%s/recorded", self->dir);
	ASSERT_EQ(0, st_make_memfile(self->mem, PAGES));
	self->ready = true;
}

FIXTURE_TEARDOWN(uffd)
{
	DIR *d;
	struct dirent *e;

	if (self->h.pid > 0)
		st_handler_stop(&self->h, 5000);
	if (!self->dir[0])
		return;
	if (!_metadata->passed || _metadata->aborted) {
		char buf[8192];
		int fd = open(self->h.err_path, O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

		if (n > 0) {
			buf[n] = 0;
			for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
				fprintf(stderr, "# handler: %s\n", l);
		}
		if (fd >= 0)
			close(fd);
	}
	d = opendir(self->dir);
	while (d && (e = readdir(d))) {
		char p[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", self->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(self->dir);
}

#define NEED_SETUP() do { \
	if (!self->ready) \
		SKIP(return, "%s", self->why); \
} while (0)

static void *map_ram(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int connect_vm(const char *sock, void *ram, struct uffd_backend **b)
{
	struct uffd_region r = {
		.host_addr = (uintptr_t)ram, .size = MEM_SIZE,
		.offset = 0, .page_size = ST_PAGE,
	};
	char err[256];
	int ret = uffd__connect(sock, &r, 1, b, err, sizeof(err));

	if (ret)
		fprintf(stderr, "# uffd__connect: %s\n", err);
	return ret;
}

/* Read page @i (a fault the first time), then check all of it. */
static bool touch(const uint8_t *ram, uint64_t i)
{
	(void)*(const volatile uint8_t *)(ram + i * ST_PAGE);
	return st_check(ram + i * ST_PAGE, i);
}

static int start(FIXTURE_DATA(uffd) *self, const char *const *args)
{
	return st_handler_start(&self->h, self->dir, self->sock, self->mem,
				args);
}

/* The simplest VM: every page faults once and arrives intact. */
TEST_F_TIMEOUT(uffd, serve_every_page, 120)
{
	static const char *const args[] = { "--once", NULL };
	struct uffd_backend *b;
	uint8_t *ram;

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	ram = map_ram(MEM_SIZE);
	ASSERT_NE(NULL, ram);
	ASSERT_EQ(0, connect_vm(self->sock, ram, &b));
	for (uint64_t i = 0; i < PAGES; i++) {
		ASSERT_TRUE(touch(ram, i)) TH_LOG("page %llu differs",
						  (unsigned long long)i);
	}
	/* Already there: no new fault. */
	ASSERT_TRUE(touch(ram, 5));
	uffd__close(b);
	munmap(ram, MEM_SIZE);	/* UFFD_EVENT_UNMAP ends the session */
	ASSERT_EQ(0, st_handler_wait(&self->h, 10000));
	st_show_output(&self->h);
	EXPECT_EQ(PAGES, st_count(self->h.output, "vm 1", "faults"));
	EXPECT_EQ(PAGES * 3 / 4, st_count(self->h.output, "vm 1", "pages_copied"));
	EXPECT_EQ(PAGES / 4, st_count(self->h.output, "vm 1", "zero_pages"));
	EXPECT_EQ(0, st_count(self->h.output, "vm 1", "prefetched"));
	EXPECT_NE(NULL, strstr(self->h.output, "memory unmapped"));
	EXPECT_EQ(1, st_count(self->h.output, "total", "vms"));
}

/* Two regions, far apart in the VMM, back to back in the file. */
TEST_F_TIMEOUT(uffd, two_regions, 120)
{
	static const char *const args[] = { "--once", NULL };
	const size_t half = MEM_SIZE / 2;
	struct uffd_region r[2] = {
		{ .size = half, .offset = 0, .page_size = ST_PAGE },
		{ .size = half, .offset = half, .page_size = ST_PAGE },
	};
	struct uffd_backend *b;
	uint8_t *lo, *hi, *gap;
	char err[256];

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	hi = map_ram(half);
	gap = map_ram(ST_PAGE);		/* keeps the two apart */
	lo = map_ram(half);
	ASSERT_TRUE(hi && gap && lo);
	r[0].host_addr = (uintptr_t)lo;
	r[1].host_addr = (uintptr_t)hi;
	ASSERT_EQ(0, uffd__connect(self->sock, r, 2, &b, err, sizeof(err)))
		TH_LOG("%s", err);
	for (uint64_t i = 0; i < PAGES / 2; i++) {
		ASSERT_TRUE(st_check(hi + i * ST_PAGE, PAGES / 2 + i));
		ASSERT_TRUE(st_check(lo + i * ST_PAGE, i));
	}
	uffd__close(b);
	munmap(lo, half);
	munmap(hi, half);	/* the last region: the session ends */
	munmap(gap, ST_PAGE);
	ASSERT_EQ(0, st_handler_wait(&self->h, 10000));
	EXPECT_EQ(PAGES, st_count(self->h.output, "vm 1", "faults"));
	EXPECT_NE(NULL, strstr(self->h.output, "memory unmapped"));
}

/*
 * 2 MiB pages (hugetlbfs RAM): whole huge pages are copied, an all-hole one
 * as zeros (there is no zero-page ioctl for them).  Needs 4 free huge pages;
 * inside vmtest (THAW_VMTEST) the test reserves them itself.
 */
TEST_F_TIMEOUT(uffd, huge_pages, 120)
{
	const char *args[] = { "--once", NULL };
	const uint64_t size = 8ul << 20, hp = 2ul << 20;
	struct uffd_region r = { .size = size, .page_size = hp };
	long reserved;
	struct uffd_backend *b;
	char mem[160], err[256];
	uint8_t *ram;
	int fd;

	NEED_SETUP();
	reserved = st_huge_reserve(4);
	if (st_huge_free() < 4)
		SKIP(return, "fewer than 4 free 2 MiB huge pages");
	snprintf(mem, sizeof(mem), "%s/huge-memory", self->dir);
	ASSERT_EQ(0, st_make_memfile(mem, size / ST_PAGE));
	fd = open(mem, O_WRONLY);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       2 * hp, hp));
	close(fd);
	ASSERT_EQ(0, st_handler_start(&self->h, self->dir, self->sock, mem,
				      args));
	ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_NE(MAP_FAILED, ram);
	r.host_addr = (uintptr_t)ram;
	ASSERT_EQ(0, uffd__connect(self->sock, &r, 1, &b, err, sizeof(err)))
		TH_LOG("%s", err);
	for (uint64_t i = 0; i < size / ST_PAGE; i++) {
		const uint8_t *p = ram + i * ST_PAGE;

		if (i * ST_PAGE / hp == 2) {
			ASSERT_EQ(0, p[0]);
			ASSERT_EQ(0, p[ST_PAGE - 1]);
		} else {
			ASSERT_TRUE(st_check(p, i));
		}
	}
	uffd__close(b);
	munmap(ram, size);
	ASSERT_EQ(0, st_handler_wait(&self->h, 10000));
	st_show_output(&self->h);
	EXPECT_EQ(4, st_count(self->h.output, "vm 1", "faults"));
	EXPECT_EQ(3, st_count(self->h.output, "vm 1", "pages_copied"));
	EXPECT_EQ(1, st_count(self->h.output, "vm 1", "zero_pages"));
	st_huge_restore(reserved);
}

/* Writes land in the VM's private copy; the memory file is unchanged. */
TEST_F_TIMEOUT(uffd, writes_stay_private, 120)
{
	static const char *const args[] = { "--once", NULL };
	struct uffd_backend *b;
	uint8_t *ram, buf[ST_PAGE];
	int fd;

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	ram = map_ram(MEM_SIZE);
	ASSERT_NE(NULL, ram);
	ASSERT_EQ(0, connect_vm(self->sock, ram, &b));
	ram[9 * ST_PAGE + 1] = 0x5a;	/* a write fault on a data page */
	ram[3 * ST_PAGE] = 0x77;	/* and on a hole */
	EXPECT_EQ(0x5a, ram[9 * ST_PAGE + 1]);
	EXPECT_EQ(st_byte(9, 2), ram[9 * ST_PAGE + 2]);
	EXPECT_EQ(0x77, ram[3 * ST_PAGE]);
	EXPECT_EQ(0, ram[3 * ST_PAGE + 1]);
	uffd__close(b);
	munmap(ram, MEM_SIZE);
	ASSERT_EQ(0, st_handler_wait(&self->h, 10000));
	fd = open(self->mem, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(ST_PAGE, pread(fd, buf, ST_PAGE, 9 * ST_PAGE));
	EXPECT_TRUE(st_check(buf, 9));
	close(fd);
	EXPECT_EQ(2, st_count(self->h.output, "vm 1", "faults"));
}

static bool resident(const uint8_t *ram, uint64_t page)
{
	unsigned char v = 0;

	return !mincore((void *)(ram + page * ST_PAGE), ST_PAGE, &v) &&
	       (v & 1);
}

/* The working set arrives before any fault, in touch order. */
TEST_F_TIMEOUT(uffd, prefetch_working_set, 120)
{
	static const uint64_t set[] = { 10, 11, 12, 50, 3, 200 };
	const char *args[] = { "--once", "--wset", self->wset, NULL };
	struct uffd_backend *b;
	struct wset *ws;
	char err[256];
	uint8_t *ram;
	uint64_t t0;

	NEED_SETUP();
	ASSERT_EQ(0, wset__new(MEM_SIZE, ST_PAGE, &ws));
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		ASSERT_EQ(1, wset__add(ws, set[i] * ST_PAGE));
	ASSERT_EQ(0, wset__write(ws, self->wset, err, sizeof(err)));
	wset__free(ws);

	ASSERT_EQ(0, start(self, args));
	ram = map_ram(MEM_SIZE);
	ASSERT_NE(NULL, ram);
	ASSERT_EQ(0, connect_vm(self->sock, ram, &b));
	/* Nothing touched yet: the handler places the set by itself. */
	for (t0 = st_now_ms(); st_now_ms() - t0 < 10000; usleep(2000)) {
		size_t in = 0;

		for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
			in += resident(ram, set[i]);
		if (in == sizeof(set) / sizeof(set[0]))
			break;
	}
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		ASSERT_TRUE(resident(ram, set[i]));
	EXPECT_FALSE(resident(ram, 13));
	for (uint64_t i = 0; i < PAGES; i++)
		ASSERT_TRUE(touch(ram, i));
	uffd__close(b);
	munmap(ram, MEM_SIZE);
	ASSERT_EQ(0, st_handler_wait(&self->h, 10000));
	st_show_output(&self->h);
	EXPECT_EQ(6, st_count(self->h.output, "vm 1", "prefetched"));
	EXPECT_EQ(PAGES - 6, st_count(self->h.output, "vm 1", "faults"));
	EXPECT_EQ(PAGES * 3 / 4, st_count(self->h.output, "vm 1", "pages_copied"));
	EXPECT_EQ(PAGES / 4, st_count(self->h.output, "vm 1", "zero_pages"));
}

/* Record the first touches in order, when the VM ends. */
TEST_F_TIMEOUT(uffd, record_working_set, 120)
{
	static const uint64_t order[] = { 7, 3, 100, 8, 255, 0 };
	const char *args[] = { "--once", "--record", self->rec, NULL };
	struct uffd_backend *b;
	struct wset *ws;
	char err[256];
	uint8_t *ram;

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	ram = map_ram(MEM_SIZE);
	ASSERT_NE(NULL, ram);
	ASSERT_EQ(0, connect_vm(self->sock, ram, &b));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		ASSERT_TRUE(touch(ram, order[i]));
	ASSERT_TRUE(touch(ram, 7));	/* a repeat is not a first touch */
	uffd__close(b);
	munmap(ram, MEM_SIZE);
	ASSERT_EQ(0, st_handler_wait(&self->h, 10000));
	ASSERT_EQ(0, wset__read(self->rec, MEM_SIZE, &ws, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(sizeof(order) / sizeof(order[0]), wset__count(ws));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		EXPECT_EQ(order[i] * ST_PAGE, wset__offset(ws, i));
	wset__free(ws);
}

/* SIGUSR1 writes what was recorded so far, while the VM runs. */
TEST_F_TIMEOUT(uffd, record_on_sigusr1, 120)
{
	const char *args[] = { "--record", self->rec, NULL };
	struct uffd_backend *b;
	struct wset *ws;
	char err[256];
	uint8_t *ram;

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	ram = map_ram(MEM_SIZE);
	ASSERT_NE(NULL, ram);
	ASSERT_EQ(0, connect_vm(self->sock, ram, &b));
	ASSERT_TRUE(touch(ram, 1));
	ASSERT_TRUE(touch(ram, 2));
	ASSERT_TRUE(touch(ram, 40));
	kill(self->h.pid, SIGUSR1);
	ASSERT_TRUE(st_log_has(&self->h, "recorded 3 pages", 10000));
	ASSERT_EQ(0, wset__read(self->rec, MEM_SIZE, &ws, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(3, wset__count(ws));
	EXPECT_EQ(40 * ST_PAGE, wset__offset(ws, 2));
	wset__free(ws);
	/* The handler keeps serving after a SIGUSR1. */
	ASSERT_TRUE(touch(ram, 41));
	uffd__close(b);
	munmap(ram, MEM_SIZE);
	EXPECT_EQ(0, st_handler_stop(&self->h, 10000));
	ASSERT_EQ(0, wset__read(self->rec, MEM_SIZE, &ws, err, sizeof(err)));
	EXPECT_EQ(4, wset__count(ws));
	wset__free(ws);
}

/* MADV_DONTNEED sends UFFD_EVENT_REMOVE: the page comes back as zeros. */
TEST_F_TIMEOUT(uffd, remove_event_gives_zero_page, 120)
{
	static const char *const args[] = { "--once", NULL };
	struct uffd_backend *b;
	uint8_t *ram;

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	ram = map_ram(MEM_SIZE);
	ASSERT_NE(NULL, ram);
	ASSERT_EQ(0, connect_vm(self->sock, ram, &b));
	ASSERT_TRUE(touch(ram, 0));
	ASSERT_TRUE(touch(ram, 1));
	ASSERT_EQ(0, madvise(ram, 2 * ST_PAGE, MADV_DONTNEED));
	for (uint64_t k = 0; k < 2 * ST_PAGE; k++)
		ASSERT_EQ(0, ram[k]);
	ASSERT_TRUE(touch(ram, 2));
	uffd__close(b);
	munmap(ram, MEM_SIZE);
	ASSERT_EQ(0, st_handler_wait(&self->h, 10000));
	st_show_output(&self->h);
	EXPECT_EQ(2, st_count(self->h.output, "vm 1", "removed"));
	EXPECT_EQ(5, st_count(self->h.output, "vm 1", "faults"));
	EXPECT_EQ(2, st_count(self->h.output, "vm 1", "zero_pages"));
}

/* A child process plays the VMM: touches pages, then dies (by @sig). */
static pid_t vm_child(const char *sock, int npages, int sig, int *ready_fd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid)
		goto parent;
	struct uffd_backend *b;
	uint8_t *ram = map_ram(MEM_SIZE);
	char ok = 1;

	close(p[0]);
	if (!ram || connect_vm(sock, ram, &b))
		_exit(2);
	for (int i = 0; i < npages; i++)
		if (!touch(ram, (uint64_t)i))
			ok = 0;
	if (write(p[1], &ok, 1) != 1)
		_exit(3);
	if (sig)
		pause();
	_exit(ok ? 0 : 1);	/* exit with the memory still registered */
parent:
	close(p[1]);
	*ready_fd = p[0];
	return pid;
}

static bool child_ok(int fd)
{
	char ok = 0;
	bool ret = read(fd, &ok, 1) == 1 && ok == 1;

	close(fd);
	return ret;
}

/* A VMM that exits (or is killed) ends its session cleanly. */
TEST_F_TIMEOUT(uffd, vmm_exit_ends_session, 120)
{
	static const char *const args[] = { "--once", NULL };
	int fd, status;
	pid_t pid;

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	pid = vm_child(self->sock, 20, 0, &fd);
	ASSERT_LT(0, pid);
	EXPECT_TRUE(child_ok(fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, st_handler_wait(&self->h, 10000));
	EXPECT_NE(NULL, strstr(self->h.output, "end=\"VMM exited\""));
	EXPECT_EQ(20, st_count(self->h.output, "vm 1", "faults"));
}

TEST_F_TIMEOUT(uffd, vmm_killed_ends_session, 120)
{
	static const char *const args[] = { "--once", NULL };
	int fd, status;
	pid_t pid;

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	pid = vm_child(self->sock, 30, SIGKILL, &fd);
	ASSERT_LT(0, pid);
	EXPECT_TRUE(child_ok(fd));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, st_handler_wait(&self->h, 10000));
	EXPECT_NE(NULL, strstr(self->h.output, "end=\"VMM exited\""));
	EXPECT_EQ(30, st_count(self->h.output, "vm 1", "faults"));
}

/* One handler, several VMs at once, one session each. */
TEST_F_TIMEOUT(uffd, several_vms, 180)
{
	const int n = 4;
	pid_t pid[4];
	int fd[4], status;

	NEED_SETUP();
	ASSERT_EQ(0, start(self, NULL));
	for (int i = 0; i < n; i++) {
		pid[i] = vm_child(self->sock, (int)PAGES, 0, &fd[i]);
		ASSERT_LT(0, pid[i]);
	}
	for (int i = 0; i < n; i++) {
		EXPECT_TRUE(child_ok(fd[i]));
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_EQ(0, status);
	}
	ASSERT_EQ(0, st_handler_stop(&self->h, 10000));
	st_show_output(&self->h);
	EXPECT_EQ(n, st_count(self->h.output, "total", "vms"));
	EXPECT_EQ(n * (long long)PAGES,
		  st_count(self->h.output, "total", "faults"));
	EXPECT_EQ(n * (long long)PAGES * 3 / 4,
		  st_count(self->h.output, "total", "pages_copied"));
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_fds(int sock, const char *msg, size_t len, const int *fds,
		    int nfd)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfd) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int real_uffd(void *ram, size_t size)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)ram, .len = size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) ||
	    ioctl(fd, UFFDIO_REGISTER, &reg))
		return -1;
	return fd;
}

/* Peers that send garbage are refused one by one; the handler lives on. */
TEST_F_TIMEOUT(uffd, hostile_peers_are_refused, 180)
{
	static const char *const args[] = { "--handshake-ms", "500", NULL };
	char good[256], beyond[256], msg[256], *big;
	struct uffd_backend *b;
	uint8_t *ram, *ram2;
	int s, p[2], uffd, fds[2];

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	ram2 = map_ram(MEM_SIZE);
	ASSERT_NE(NULL, ram2);
	snprintf(good, sizeof(good),
		 "[{\"base_host_virt_addr\":%llu,\"size\":%lu,\"offset\":0,\"page_size\":4096}]",
		 (unsigned long long)(uintptr_t)ram2, MEM_SIZE);
	snprintf(beyond, sizeof(beyond),
		 "[{\"base_host_virt_addr\":%llu,\"size\":%lu,\"offset\":4096,\"page_size\":4096}]",
		 (unsigned long long)(uintptr_t)ram2, MEM_SIZE);
	ASSERT_EQ(0, pipe(p));
	uffd = real_uffd(ram2, MEM_SIZE);
	ASSERT_LE(0, uffd);

	/* 1: not JSON, no fd. */
	s = raw_connect(self->sock);
	ASSERT_EQ(0, send_fds(s, "hello", 5, NULL, 0));
	close(s);
	/* 2: good JSON, but no fd. */
	s = raw_connect(self->sock);
	ASSERT_EQ(0, send_fds(s, good, strlen(good), NULL, 0));
	close(s);
	/* 3: good JSON with a pipe instead of a userfaultfd. */
	s = raw_connect(self->sock);
	ASSERT_EQ(0, send_fds(s, good, strlen(good), &p[0], 1));
	close(s);
	/* 4: a real userfaultfd, but a region past the memory file. */
	s = raw_connect(self->sock);
	ASSERT_EQ(0, send_fds(s, beyond, strlen(beyond), &uffd, 1));
	close(s);
	/* 5: two fds (the guest_memfd protocol we do not speak). */
	fds[0] = uffd;
	fds[1] = p[1];
	s = raw_connect(self->sock);
	ASSERT_EQ(0, send_fds(s, good, strlen(good), fds, 2));
	close(s);
	/* 6: silence until the handshake time runs out. */
	s = raw_connect(self->sock);
	ASSERT_TRUE(st_log_has(&self->h, "no complete handshake", 5000));
	close(s);
	/* 7: connect and hang up. */
	s = raw_connect(self->sock);
	close(s);
	/* 8: half a message, then hang up. */
	s = raw_connect(self->sock);
	ASSERT_EQ(0, send_fds(s, good, 20, &uffd, 1));
	close(s);
	/* 9: an endless message. */
	big = malloc(UFFD_MAX_MSG + 16);
	ASSERT_NE(NULL, big);
	memset(big, ' ', UFFD_MAX_MSG + 16);
	big[0] = '[';
	s = raw_connect(self->sock);
	send_fds(s, big, UFFD_MAX_MSG + 16, &uffd, 1);
	free(big);
	ASSERT_TRUE(st_log_has(&self->h, "message incomplete", 5000));
	close(s);
	/* 10: negative numbers, strings, a float. */
	s = raw_connect(self->sock);
	snprintf(msg, sizeof(msg), "[{\"base_host_virt_addr\":-4096,\"size\":\"1\",\"offset\":0.5,\"page_size\":4096}]");
	ASSERT_EQ(0, send_fds(s, msg, strlen(msg), &uffd, 1));
	close(s);
	close(uffd);
	close(p[0]);
	close(p[1]);
	munmap(ram2, MEM_SIZE);

	ASSERT_TRUE(st_log_has(&self->h, "the VMM closed the socket after 20 bytes", 5000));
	ASSERT_TRUE(st_log_has(&self->h, "must be a non-negative integer", 5000));
	/* After all that, a real VM is served as usual. */
	ram = map_ram(MEM_SIZE);
	ASSERT_NE(NULL, ram);
	ASSERT_EQ(0, connect_vm(self->sock, ram, &b));
	for (uint64_t i = 0; i < PAGES; i += 7)
		ASSERT_TRUE(touch(ram, i));
	uffd__close(b);
	munmap(ram, MEM_SIZE);
	EXPECT_TRUE(st_log_has(&self->h, "is not JSON", 100));
	EXPECT_TRUE(st_log_has(&self->h, "carried no userfaultfd", 100));
	EXPECT_TRUE(st_log_has(&self->h, "not a userfaultfd", 100));
	EXPECT_TRUE(st_log_has(&self->h, "past the end", 100));
	EXPECT_TRUE(st_log_has(&self->h, "more than one file descriptor", 100));
	EXPECT_TRUE(st_log_has(&self->h, "after 0 bytes", 100));
	EXPECT_EQ(10, st_log_count(&self->h, "refused"));
	ASSERT_EQ(0, st_handler_stop(&self->h, 10000));
	st_show_output(&self->h);
	EXPECT_EQ(1, st_count(self->h.output, "total", "vms"));
	EXPECT_EQ((long long)(PAGES + 6) / 7,
		  st_count(self->h.output, "total", "faults"));
}

/* A fault outside the announced regions ends that session (and only it). */
TEST_F_TIMEOUT(uffd, fault_outside_regions, 120)
{
	static const char *const args[] = { "--once", NULL };
	char msg[256];
	int status;
	pid_t pid;

	NEED_SETUP();
	ASSERT_EQ(0, start(self, args));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Register twice the memory, announce half of it. */
		uint8_t *ram = map_ram(2 * MEM_SIZE);
		int uffd = ram ? real_uffd(ram, 2 * MEM_SIZE) : -1;
		int s = raw_connect(self->sock);

		if (uffd < 0 || s < 0)
			_exit(2);
		snprintf(msg, sizeof(msg),
			 "[{\"base_host_virt_addr\":%llu,\"size\":%lu,\"offset\":0,\"page_size\":4096}]",
			 (unsigned long long)(uintptr_t)ram, MEM_SIZE);
		if (send_fds(s, msg, strlen(msg), &uffd, 1))
			_exit(3);
		(void)*(volatile uint8_t *)(ram + MEM_SIZE + ST_PAGE);
		_exit(4);	/* never: the fault is never served */
	}
	EXPECT_EQ(1, st_handler_wait(&self->h, 20000));
	EXPECT_TRUE(st_log_has(&self->h, "outside every announced region", 100));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
}

/* Bad starts: missing or mismatched working set, bad memory file. */
TEST_F_TIMEOUT(uffd, bad_arguments, 60)
{
	const char *missing[] = { "--wset", self->wset, NULL };
	struct wset *ws;
	char err[256];
	int fd;

	NEED_SETUP();
	EXPECT_EQ(-ECHILD, start(self, missing));
	EXPECT_TRUE(st_log_has(&self->h, "No such file or directory", 100));

	ASSERT_EQ(0, wset__new(2 * MEM_SIZE, ST_PAGE, &ws));
	ASSERT_EQ(1, wset__add(ws, 0));
	ASSERT_EQ(0, wset__write(ws, self->wset, err, sizeof(err)));
	wset__free(ws);
	EXPECT_EQ(-ECHILD, start(self, missing));
	EXPECT_TRUE(st_log_has(&self->h, "working set is for", 100));

	fd = open(self->mem, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, write(fd, "abc", 3));
	close(fd);
	EXPECT_EQ(-ECHILD, start(self, NULL));
	EXPECT_TRUE(st_log_has(&self->h, "not a memory file", 100));
}

/* The VMM side's own failures leave nothing registered. */
TEST_F_TIMEOUT(uffd, connect_failures, 60)
{
	struct uffd_region r = { .size = MEM_SIZE, .page_size = ST_PAGE };
	struct uffd_backend *b = NULL;
	char err[256];
	uint8_t *ram;

	NEED_SETUP();
	ram = map_ram(MEM_SIZE);
	ASSERT_NE(NULL, ram);
	r.host_addr = (uintptr_t)ram;
	EXPECT_EQ(-ENOENT, uffd__connect(self->sock, &r, 1, &b, err,
					 sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "cannot connect"));
	EXPECT_EQ(NULL, b);
	/* Not registered any more: a plain zero-fill fault. */
	EXPECT_EQ(0, ram[123]);
	r.page_size = 8192;
	EXPECT_EQ(-EINVAL, uffd__connect(self->sock, &r, 1, &b, err,
					 sizeof(err)));
	r.page_size = ST_PAGE;
	r.host_addr += 1;
	EXPECT_EQ(-EINVAL, uffd__connect(self->sock, &r, 1, &b, err,
					 sizeof(err)));
	munmap(ram, MEM_SIZE);
}

TEST_HARNESS_MAIN
