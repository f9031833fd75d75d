// SPDX-License-Identifier: GPL-2.0
/*
 * Clone mappings: copy-on-write isolation between clones, the source file
 * and the snapshot; MAP_SHARED and mappings beyond the object refused;
 * mprotect, mremap, munmap, fork and teardown in any order.
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define NPAGES	32

static int holes(unsigned long i)
{
	return i >= 24;		/* the last 8 pages are zero */
}

THAW_SNAP_FIXTURE(clone, NPAGES, 9, holes)

/*
 * A clone with one fault per page touched (MADV_RANDOM turns fault-around
 * off), so that the tests can count exactly.
 */
static char *map_clone(FIXTURE_DATA(clone) *self)
{
	char *p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       self->snap, 0);

	if (p != MAP_FAILED && madvise(p, self->len, MADV_RANDOM)) {
		munmap(p, self->len);
		return MAP_FAILED;
	}
	return p;
}

/* Writes in one clone reach neither the source, nor the snapshot, nor
 * another clone.
 */
TEST_F(clone, cow_isolation)
{
	char *a, *b, *c, *page = malloc(self->ps);
	struct thaw_clone_stats st;

	ASSERT_NE(NULL, page);
	a = map_clone(self);
	b = map_clone(self);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);

	memset(a + 2 * self->ps, 0xab, 100);	/* first touch is a write */
	EXPECT_TRUE(thaw_page_matches(b + self->ps, 1, 9));
	a[self->ps] ^= 1;			/* read-mapped, then written */
	a[30 * self->ps] = 7;			/* a zero page */

	EXPECT_TRUE(thaw_page_matches(b + 2 * self->ps, 2, 9));
	EXPECT_TRUE(thaw_page_matches(b + self->ps, 1, 9));
	EXPECT_TRUE(thaw_page_is_zero(b + 30 * self->ps));
	ASSERT_EQ(self->ps, pread(self->src, page, self->ps, 2 * self->ps));
	EXPECT_TRUE(thaw_page_matches(page, 2, 9));
	c = map_clone(self);			/* the snapshot itself */
	ASSERT_NE(MAP_FAILED, c);
	EXPECT_TRUE(thaw_page_matches(c + 2 * self->ps, 2, 9));
	EXPECT_TRUE(thaw_page_matches(c + self->ps, 1, 9));
	EXPECT_TRUE(thaw_page_is_zero(c + 30 * self->ps));
	EXPECT_EQ((char)0xab, a[2 * self->ps]);
	EXPECT_EQ(7, a[30 * self->ps]);

	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(NPAGES, st.pages);
	EXPECT_EQ(3, st.private_pages);
	EXPECT_EQ(3, st.faults);
	EXPECT_EQ(2, st.cow_faults);	/* pages 2 and 30 */
	EXPECT_EQ(0, st.shared_pages);	/* page 1 was copied on write */
	st = thaw_clone_stats(self->snap, b);
	EXPECT_EQ(0, st.private_pages);
	EXPECT_EQ(3, st.shared_pages);	/* pages 1, 2, 30 */
	EXPECT_EQ(1, st.zero_pages);
	EXPECT_NE(thaw_clone_stats(self->snap, a).id, st.id);
	EXPECT_EQ(3, thaw_snap_stats(self->snap).clones);
	EXPECT_EQ(3, thaw_snap_stats(self->snap).private_pages);
	EXPECT_EQ(3, thaw_stats(self->dev).clones);

	munmap(a, self->len);
	munmap(b, self->len);
	munmap(c, self->len);
	free(page);
}

TEST_F(clone, shared_pages_counted)
{
	struct thaw_clone_stats st;
	volatile char sink = 0;
	char *a = map_clone(self);

	ASSERT_NE(MAP_FAILED, a);
	for (int i = 0; i < NPAGES; i++)
		sink += a[i * self->ps];
	(void)sink;
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(NPAGES, st.shared_pages);
	EXPECT_EQ(8, st.zero_pages);
	EXPECT_EQ(NPAGES, st.faults);
	EXPECT_EQ(0, st.private_pages);
	/* Touching again faults no more. */
	for (int i = 0; i < NPAGES; i++)
		sink += a[i * self->ps];
	EXPECT_EQ(NPAGES, thaw_clone_stats(self->snap, a).faults);
	munmap(a, self->len);
	EXPECT_EQ(NPAGES, thaw_snap_stats(self->snap).faults);
}

/*
 * By default a read fault maps the object's neighbouring pages too (16 on
 * x86): reading 32 pages in order takes 2 faults.  Writes do not.
 */
TEST_F(clone, fault_around)
{
	size_t align = 16 * self->ps;	/* fault_around_bytes: 64 KiB */
	struct thaw_clone_stats st;
	volatile char sink = 0;
	char *area, *a;

	/* The window is aligned in the address space: align the clone. */
	area = mmap(NULL, self->len + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	a = (char *)(((uintptr_t)area + align - 1) & ~(align - 1));
	munmap(area, self->len + align);
	a = mmap(a, self->len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED_NOREPLACE, self->snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	a[5 * self->ps] = 1;			/* present before: skipped */
	for (int i = 0; i < NPAGES; i++)
		sink += a[i * self->ps];
	(void)sink;
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(3, st.faults);		/* the write, then 0 and 16 */
	EXPECT_EQ(1, st.cow_faults);
	EXPECT_EQ(NPAGES - 1, st.shared_pages);
	EXPECT_EQ(8, st.zero_pages);
	EXPECT_EQ(0, st.premapped);
	EXPECT_EQ(1, st.private_pages);
	EXPECT_TRUE(thaw_page_matches(a + 6 * self->ps, 6, 9));
	EXPECT_EQ(1, a[5 * self->ps]);
	munmap(a, self->len);
}

/* MADV_DONTNEED drops a private copy: the snapshot's page comes back. */
TEST_F(clone, dontneed_restores)
{
	char *a = map_clone(self);

	ASSERT_NE(MAP_FAILED, a);
	a[4 * self->ps] = 1;
	ASSERT_EQ(0, madvise(a + 4 * self->ps, self->ps, MADV_DONTNEED));
	EXPECT_TRUE(thaw_page_matches(a + 4 * self->ps, 4, 9));
	munmap(a, self->len);
}

TEST_F(clone, map_shared_refused)
{
	char *p;

	p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->snap, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->len, PROT_READ, MAP_SHARED, self->snap, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, thaw_stats(self->dev).clones);
}

TEST_F(clone, beyond_object_refused)
{
	char *p;

	p = mmap(NULL, self->len + self->ps, PROT_READ, MAP_PRIVATE,
		 self->snap, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->ps, PROT_READ, MAP_PRIVATE, self->snap, self->len);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * self->ps, PROT_READ, MAP_PRIVATE, self->snap,
		 self->len - self->ps);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* A window inside the object is fine and reads the right pages. */
	p = mmap(NULL, 2 * self->ps, PROT_READ, MAP_PRIVATE, self->snap,
		 4 * self->ps);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(thaw_page_matches(p, 4, 9));
	EXPECT_TRUE(thaw_page_matches(p + self->ps, 5, 9));
	EXPECT_EQ(2, thaw_clone_stats(self->snap, p).pages);
	munmap(p, 2 * self->ps);
}

static sigjmp_buf segv_env;

static void on_segv(int sig)
{
	siglongjmp(segv_env, 1);
}

/* Does writing one byte at @p fault? */
static int write_faults(char *p)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	int faulted = 0;

	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(segv_env, 1) == 0)
		*(volatile char *)p = 1;
	else
		faulted = 1;
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

TEST_F(clone, mprotect_whole_only)
{
	char *a = map_clone(self);

	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, mprotect(a, self->len, PROT_READ));
	EXPECT_TRUE(write_faults(a));
	EXPECT_TRUE(thaw_page_matches(a, 0, 9));
	EXPECT_EQ(0, mprotect(a, self->len, PROT_NONE));
	EXPECT_EQ(0, mprotect(a, self->len, PROT_READ | PROT_WRITE));
	EXPECT_FALSE(write_faults(a + self->ps));
	/* Part of the mapping would split it: refused. */
	EXPECT_EQ(-1, mprotect(a, self->ps, PROT_READ));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mprotect(a + self->ps, self->ps, PROT_READ));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_FALSE(write_faults(a + 2 * self->ps));
	/* Protection changes do not count as dirtying. */
	EXPECT_EQ(2, thaw_clone_stats(self->snap, a).private_pages);
	munmap(a, self->len);
}

TEST_F(clone, mremap_refused)
{
	char *a = map_clone(self), *r, *target;

	ASSERT_NE(MAP_FAILED, a);
	a[0] = 42;
	/* Grow in place. */
	r = mremap(a, self->len, 2 * self->len, 0);
	EXPECT_EQ(MAP_FAILED, r);
	/* Move. */
	target = mmap(NULL, self->len, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, target);
	r = mremap(a, self->len, self->len, MREMAP_MAYMOVE | MREMAP_FIXED,
		   target);
	EXPECT_EQ(MAP_FAILED, r);
	EXPECT_EQ(EINVAL, errno);
	munmap(target, self->len);
	/* Shrink (a split). */
	r = mremap(a, self->len, self->ps, 0);
	EXPECT_EQ(MAP_FAILED, r);
	/* Still intact and still one clone. */
	EXPECT_EQ(42, a[0]);
	EXPECT_TRUE(thaw_page_matches(a + 3 * self->ps, 3, 9));
	EXPECT_EQ(1, thaw_stats(self->dev).clones);
	EXPECT_EQ(NPAGES, thaw_clone_stats(self->snap, a).pages);
	munmap(a, self->len);
}

TEST_F(clone, partial_munmap_refused)
{
	char *a = map_clone(self);

	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(-1, munmap(a + self->ps, self->ps));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(thaw_page_matches(a + self->ps, 1, 9));
	EXPECT_EQ(0, munmap(a, self->len));
}

static sigjmp_buf bus_env;

static void on_bus(int sig)
{
	siglongjmp(bus_env, 1);
}

/* Does reading one byte at @p raise SIGBUS? */
static int read_sigbus(const char *p)
{
	struct sigaction sa = { .sa_handler = on_bus }, old;
	int bus = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_env, 1) == 0)
		(void)*(volatile const char *)p;
	else
		bus = 1;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

/*
 * max_page_maps caps the mappings of any one object page: past it a fault
 * gets SIGBUS and a premap EOVERFLOW, instead of the page's reference
 * count overflowing.  (Zero pages take no reference: below.)
 */
TEST_F(clone, page_map_cap)
{
	__u32 set[] = { 1, 2, 3 };
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 3 };
	char *m[11], old[32];
	char *b;
	int i;

	ASSERT_EQ(0, thaw_param_read("max_page_maps", old, sizeof(old)));
	/* Page 1 holds 1 reference of its own: 10 mappings. */
	ASSERT_EQ(0, thaw_param_write("max_page_maps", "11"));
	for (i = 0; i < 11; i++) {
		m[i] = map_clone(self);
		ASSERT_NE(MAP_FAILED, m[i]);
	}
	for (i = 0; i < 10; i++)
		EXPECT_FALSE(read_sigbus(m[i] + self->ps));
	EXPECT_TRUE(read_sigbus(m[10] + self->ps));
	b = map_clone(self);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, __thaw_ioctl(self->snap, THAW_IOC_WSET_SET, &io));
	EXPECT_EQ(-EOVERFLOW, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP,
					    b, 0));
	ASSERT_EQ(0, thaw_param_write("max_page_maps", old));
	/* Below the cap again, faults work. */
	EXPECT_FALSE(read_sigbus(m[10] + self->ps));
	EXPECT_TRUE(thaw_page_matches(m[10] + self->ps, 1, 9));
	munmap(b, self->len);
	for (i = 0; i < 11; i++)
		munmap(m[i], self->len);
}

/* The page frame behind @p (root only), or 0. */
static uint64_t pfn_of(const void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	off_t off = (uintptr_t)p / thaw_page_size() * sizeof(e);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), off) != sizeof(e))
		e = 0;
	close(fd);
	return (e & (1ULL << 63)) ? e & ((1ULL << 55) - 1) : 0;
}

#define ZPAGES		4096	/* 16 MiB: 8 regions */
#define ZFORKS		256	/* 256 x ~4000 zero ptes: 10^6 */
#define ZGUPS		16	/* process_vm_readv of the whole clone */

/* One page of 512 written: sparse regions, on 4 KiB pages; the last one
 * all zero (the object's zeroed 2 MiB folio where objects are huge).
 */
static int holes_sparse(unsigned long i)
{
	return i % 512 != 5 || i >= ZPAGES - 512;
}

/*
 * The object's zero pages (its 4 KiB zero page and the pages of its
 * zeroed 2 MiB folio) are mapped as the kernel's zero page, which takes no
 * reference: with max_page_maps at 11, a clone still reads thousands of
 * them, 256 forked copies of it (10^6 zero ptes) and GUPs of all of it
 * change nothing, and another clone reads them all after.  On a module that
 * mapped its own zero page, the 11th zero page read got SIGBUS.
 */
TEST_F(clone, zero_pages_take_no_reference)
{
	size_t len = (size_t)ZPAGES * self->ps;
	int src, snap, i, bad = 0, pipefd[2];
	pid_t kids[ZFORKS];
	char *a, *b, *anon, *buf, old[32];
	struct iovec local, remote;
	uint64_t zpfn;

	src = thaw_memfd(ZPAGES, 3, holes_sparse);
	ASSERT_LE(0, src);
	snap = thaw_snap_create(self->dev, src, 0, len, NULL);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, thaw_param_read("max_page_maps", old, sizeof(old)));
	ASSERT_EQ(0, thaw_param_write("max_page_maps", "11"));

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	/* 4 KiB pages everywhere, one fault per page. */
	ASSERT_EQ(0, madvise(a, len, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, madvise(a, len, MADV_RANDOM));
	for (i = 0; i < ZPAGES; i++) {
		if (read_sigbus(a + (size_t)i * self->ps)) {
			bad++;
			continue;
		}
		if (holes_sparse(i) ? !thaw_page_is_zero(a + (size_t)i * self->ps) :
		    !thaw_page_matches(a + (size_t)i * self->ps, i, 3))
			bad++;
	}
	EXPECT_EQ(0, bad);

	/* The kernel's zero page: what an anonymous page only read maps. */
	anon = mmap(NULL, self->ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	(void)*(volatile char *)anon;
	zpfn = pfn_of(anon);
	if (zpfn) {
		EXPECT_EQ(zpfn, pfn_of(a + 6 * self->ps));
		EXPECT_EQ(zpfn, pfn_of(a + (size_t)(ZPAGES - 1) * self->ps));
		EXPECT_NE(zpfn, pfn_of(a + 5 * self->ps));
	} else {
		TH_LOG("no page frames in /proc/self/pagemap: not root?");
	}

	/* 10^6 zero ptes in forked copies, alive at once. */
	ASSERT_EQ(0, madvise(a, len, MADV_DOFORK));
	ASSERT_EQ(0, pipe(pipefd));
	for (i = 0; i < ZFORKS; i++) {
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (kids[i] == 0) {
			char c;

			close(pipefd[1]);
			/* A copy reads zero too, and still has every pte. */
			if (!thaw_page_is_zero(a + 7 * self->ps))
				_exit(1);
			_exit(read(pipefd[0], &c, 1) == 0 ? 0 : 2);
		}
	}
	close(pipefd[0]);

	/* GUP of the whole clone, again and again. */
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	local = (struct iovec){ .iov_base = buf, .iov_len = len };
	remote = (struct iovec){ .iov_base = a, .iov_len = len };
	for (i = 0; i < ZGUPS; i++)
		EXPECT_EQ((ssize_t)len,
			  process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	free(buf);

	/* Another clone, under the cap of 11, reads every zero page. */
	b = mmap(NULL, len, PROT_READ, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, madvise(b, len, MADV_NOHUGEPAGE));
	for (i = 0, bad = 0; i < ZPAGES; i++)
		if (holes_sparse(i) && read_sigbus(b + (size_t)i * self->ps))
			bad++;
	EXPECT_EQ(0, bad);
	/* A write to a zero page copies it, in the clone alone. */
	a[6 * self->ps] = 1;
	EXPECT_TRUE(thaw_page_is_zero(b + 6 * self->ps));

	close(pipefd[1]);
	for (i = 0, bad = 0; i < ZFORKS; i++) {
		int st;

		if (waitpid(kids[i], &st, 0) != kids[i] ||
		    !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	EXPECT_EQ(0, bad);
	ASSERT_EQ(0, thaw_param_write("max_page_maps", old));
	munmap(anon, self->ps);
	munmap(b, len);
	munmap(a, len);
	close(snap);
	close(src);
}

/* Clone ops need the start of a clone of this object. */
TEST_F(clone, ops_need_a_clone)
{
	char *a = map_clone(self), *anon;
	int other = thaw_snap_create(self->dev, self->src, 0, self->len, NULL);

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_LE(0, other);
	anon = mmap(NULL, self->ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	EXPECT_EQ(-EINVAL, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET,
					 a + self->ps, 0));
	EXPECT_EQ(-EINVAL, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET,
					 anon, 0));
	EXPECT_EQ(-EINVAL, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD,
					 NULL, 0));
	EXPECT_EQ(-EINVAL, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD,
					 (void *)-4096L, 0));
	/* A clone of another object. */
	EXPECT_EQ(-EINVAL, thaw_clone_op(other, THAW_IOC_CLONE_RESET, a, 0));
	EXPECT_EQ(~0ULL, thaw_clone_stats(other, a).pages);
	EXPECT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a, 0));
	munmap(anon, self->ps);
	munmap(a, self->len);
	close(other);
}

/* fork: the child does not inherit the clone (VM_DONTCOPY). */
TEST_F(clone, fork_child_has_no_clone)
{
	char *a = map_clone(self);
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, a);
	a[0] = 5;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		volatile char c = a[0];	/* SIGSEGV: nothing mapped there */

		(void)c;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	EXPECT_EQ(5, a[0]);
	EXPECT_EQ(1, thaw_stats(self->dev).clones);
	munmap(a, self->len);
}

/*
 * After MADV_DOFORK the child gets a detached copy: the parent's content at
 * fork, copy-on-write both ways, no clone of its own.
 */
TEST_F(clone, fork_after_dofork)
{
	char *a = map_clone(self);
	int status, pfd[2];
	pid_t pid;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, pipe(pfd));
	a[0] = 5;
	ASSERT_EQ(0, madvise(a, self->len, MADV_DOFORK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char ok = a[0] == 5 && thaw_page_matches(a + self->ps, 1, 9) &&
			  thaw_page_is_zero(a + 25 * self->ps);
		struct thaw_clone_op op = { .addr = (uintptr_t)a };

		a[0] = 6;
		a[2 * self->ps] = 6;
		/* No clone for ioctls in the child. */
		ok = ok && ioctl(self->snap, THAW_IOC_CLONE_RESET, &op) < 0 &&
		     errno == EINVAL;
		ok = ok && write(pfd[1], &ok, 1) == 1;
		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(5, a[0]);
	EXPECT_TRUE(thaw_page_matches(a + 2 * self->ps, 2, 9));
	EXPECT_EQ(1, thaw_stats(self->dev).clones);
	close(pfd[0]);
	close(pfd[1]);
	munmap(a, self->len);
}

/* userfaultfd cannot take over a clone's faults. */
TEST_F(clone, userfaultfd_refused)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	char *a = map_clone(self);
	int uffd;

	ASSERT_NE(MAP_FAILED, a);
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		munmap(a, self->len);
		SKIP(return, "userfaultfd: %s", strerror(errno));
	}
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	reg.range.start = (uintptr_t)a;
	reg.range.len = self->len;
	EXPECT_EQ(-1, ioctl(uffd, UFFDIO_REGISTER, &reg));
	EXPECT_EQ(EINVAL, errno);
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	EXPECT_EQ(-1, ioctl(uffd, UFFDIO_REGISTER, &reg));
	close(uffd);
	munmap(a, self->len);
}

/* The object outlives its fd while a clone maps it. */
TEST_F(clone, close_before_munmap)
{
	char *a = map_clone(self);

	ASSERT_NE(MAP_FAILED, a);
	a[0] = 1;
	close(self->snap);
	self->snap = -1;
	EXPECT_EQ(1, thaw_stats(self->dev).snapshots);
	EXPECT_EQ(1, thaw_stats(self->dev).clones);
	EXPECT_TRUE(thaw_page_matches(a + self->ps, 1, 9));
	a[3 * self->ps] = 2;
	munmap(a, self->len);
	EXPECT_EQ(0, thaw_stats(self->dev).snapshots);
}

TEST_F(clone, munmap_before_close)
{
	char *a = map_clone(self);

	ASSERT_NE(MAP_FAILED, a);
	a[0] = 1;
	munmap(a, self->len);
	EXPECT_EQ(0, thaw_stats(self->dev).clones);
	EXPECT_EQ(1, thaw_stats(self->dev).snapshots);
}

/* A process killed with clones mapped and fds open leaves nothing. */
TEST_F(clone, killed_holder)
{
	int status, pfd[2];
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *a = map_clone(self), *b = map_clone(self);

		if (a == MAP_FAILED || b == MAP_FAILED)
			_exit(1);
		a[0] = 1;
		b[self->ps] = b[2 * self->ps];
		close(self->snap);
		c = 1;
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	EXPECT_EQ(2, thaw_stats(self->dev).clones);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, thaw_stats(self->dev).clones);
	close(pfd[0]);
	close(pfd[1]);
}

TEST_HARNESS_MAIN
