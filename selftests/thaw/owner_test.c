// SPDX-License-Identifier: GPL-2.0
/*
 * Objects belong to their creator (issue 14, holes 1 and 3): another user
 * cannot open a named object, live or cached, nor plant one under the name
 * a victim will use (names are per owner; only THAW_SNAP_OPEN_OWNER with
 * CAP_SYS_ADMIN reaches another owner's); an object's pinned pages are
 * charged to its creator's RLIMIT_MEMLOCK (seen as VmPin) and to per-user
 * caps beside the global ones; a clone's private 2 MiB copies to its
 * mapper's; pages someone else still holds when their object goes stay
 * charged until they let go.
 *
 * The parent runs as root; "another user" is a forked child that drops to
 * nobody (65534) on the /dev/thaw the parent opened.  A child reports
 * through its exit status: 0 is success, anything else names the step
 * that failed.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define NPAGES		1024		/* 4 MiB per object */
#define SEED_ROOT	41
#define SEED_USER	42
#define NOBODY		65534

FIXTURE(owner) {
	int dev;
	long ps;
	size_t len;
	char per_user_snaps[16], per_user_mb[16];
};

FIXTURE_SETUP(owner)
{
	__u64 features = 0;

	self->per_user_snaps[0] = 0;
	self->per_user_mb[0] = 0;
	self->ps = thaw_page_size();
	self->len = NPAGES * self->ps;
	self->dev = thaw_open_api(&features);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));
	if (geteuid() != 0)
		SETUP_SKIP("the tests switch users: run them as root");
	ASSERT_LE(0, thaw_cache_drop(self->dev));
}

FIXTURE_TEARDOWN(owner)
{
	if (self->per_user_snaps[0])
		EXPECT_EQ(0, thaw_param_write("max_snapshots_per_user",
					      self->per_user_snaps));
	if (self->per_user_mb[0])
		EXPECT_EQ(0, thaw_param_write("max_pinned_mb_per_user",
					      self->per_user_mb));
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		close(self->dev);
	}
}

/* In a child: become @uid, with RLIMIT_MEMLOCK @memlock (bytes). */
static int become(uid_t uid, rlim_t memlock)
{
	struct rlimit rl = { .rlim_cur = memlock, .rlim_max = memlock };

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return -1;
	if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -1;
	return 0;
}

static int become_nobody(rlim_t memlock)
{
	return become(NOBODY, memlock);
}

/*
 * In a child: become nobody and create an object of nobody's content
 * named @name (NULL: anonymous); its fd, with *@src its memfd.  Exits
 * 10, 11 or 12 at the step that failed.
 */
static int nobody_creates(int dev, size_t len, rlim_t memlock,
			  const char *name, int *src)
{
	int fd;

	if (become_nobody(memlock))
		_exit(10);
	*src = thaw_memfd(NPAGES, SEED_USER, NULL);
	if (*src < 0)
		_exit(11);
	fd = thaw_snap_create(dev, *src, 0, len, name);
	if (fd < 0)
		_exit(12);
	return fd;
}

/* The child's exit status, or -1 if it did not exit. */
static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* An object of @seed's content, mapped: does its page 1 hold it? */
static int object_holds(int fd, size_t len, unsigned int seed)
{
	long ps = thaw_page_size();
	char *m;
	int ok;

	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return 0;
	ok = thaw_page_matches(m + ps, 1, seed);
	munmap(m, len);
	return ok;
}

/*
 * The kB of a field of /proc/self/status ("VmPin"), or -1: @proc is /proc,
 * opened before the child became nobody, who may not search the test
 * machine's root directory.
 */
static long status_kb(int proc, const char *field)
{
	char line[256];
	int fd;
	size_t n = strlen(field);
	long kb = -1;
	FILE *f;

	fd = openat(proc, "self/status", O_RDONLY | O_CLOEXEC);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/*
 * Another user cannot open the parent's named object: live, nor cached
 * once its last fd is gone.  The owner still can.
 */
TEST_F(owner, foreign_open_refused)
{
	int src, fd, fd2;
	pid_t pid;

	src = thaw_memfd(NPAGES, SEED_ROOT, NULL);
	ASSERT_LE(0, src);
	fd = thaw_snap_create(self->dev, src, 0, self->len, "o-root");
	ASSERT_LE(0, fd);

	for (int live = 1; live >= 0; live--) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (become_nobody(64 << 20))
				_exit(10);
			fd2 = thaw_snap_open(self->dev, "o-root");
			/* Not there for this user: no hint it exists. */
			_exit(fd2 == -ENOENT ? 0 : 11);
		}
		EXPECT_EQ(0, child_status(pid)) TH_LOG("live %d", live);
		if (live) {
			/* The owner opens it; then it is left unreferenced. */
			fd2 = thaw_snap_open(self->dev, "o-root");
			ASSERT_LE(0, fd2);
			EXPECT_TRUE(object_holds(fd2, self->len, SEED_ROOT));
			close(fd2);
			close(fd);
		}
	}
	close(src);
}

/*
 * A name cannot be poisoned: nobody creates "o-victim" with its own
 * content before root does.  Root's open does not find it, root's
 * creation under the same name succeeds, and root reads its own content,
 * while nobody's object lives and after it went to the cache.
 */
TEST_F(owner, poisoned_name_not_returned)
{
	int to_child[2], to_parent[2], src, fd, fd2;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int usrc, ufd;

		/* A parent that died is an EOF: the child never hangs. */
		close(to_child[1]);
		close(to_parent[0]);
		ufd = nobody_creates(self->dev, self->len, 64 << 20,
				     "o-victim", &usrc);
		if (write(to_parent[1], &c, 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(13);
		/* The attacker's own object is still its own. */
		if (!object_holds(ufd, self->len, SEED_USER))
			_exit(14);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_EQ(1, read(to_parent[0], &c, 1));

	EXPECT_EQ(-ENOENT, thaw_snap_open(self->dev, "o-victim"));
	src = thaw_memfd(NPAGES, SEED_ROOT, NULL);
	ASSERT_LE(0, src);
	fd = thaw_snap_create(self->dev, src, 0, self->len, "o-victim");
	ASSERT_LE(0, fd);
	EXPECT_TRUE(object_holds(fd, self->len, SEED_ROOT));
	fd2 = thaw_snap_open(self->dev, "o-victim");
	ASSERT_LE(0, fd2);
	EXPECT_TRUE(object_holds(fd2, self->len, SEED_ROOT));
	EXPECT_EQ(thaw_snap_stats(fd).id, thaw_snap_stats(fd2).id);
	close(fd2);

	ASSERT_EQ(1, write(to_child[1], &c, 1));
	EXPECT_EQ(0, child_status(pid));
	/* nobody's object may be cached now: still not root's. */
	close(fd);
	fd = thaw_snap_open(self->dev, "o-victim");
	if (fd >= 0) {
		EXPECT_TRUE(object_holds(fd, self->len, SEED_ROOT));
		close(fd);
	} else {
		EXPECT_EQ(-ENOENT, fd);
	}
	close(src);
	close(to_child[1]);
	close(to_parent[0]);
}

/*
 * THAW_IOC_CACHE_DROP frees the caller's cached objects only: another
 * owner's need THAW_CACHE_DROP_ALL, which needs CAP_SYS_ADMIN.
 */
TEST_F(owner, cache_drop_own_only)
{
	struct thaw_cache_drop d = { 0 };
	int src, fd;
	pid_t pid;

	src = thaw_memfd(NPAGES, SEED_ROOT, NULL);
	ASSERT_LE(0, src);
	fd = thaw_snap_create(self->dev, src, 0, self->len, "o-rootcache");
	ASSERT_LE(0, fd);
	close(fd);				/* cached, root's */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct thaw_cache_drop ud = { 0 };
		int usrc, ufd;

		ufd = nobody_creates(self->dev, self->len, 64 << 20,
				     "o-usercache", &usrc);
		close(ufd);			/* cached, nobody's */
		if (ioctl(self->dev, THAW_IOC_CACHE_DROP, &ud) ||
		    ud.objects != 1)
			_exit(20);
		ud = (struct thaw_cache_drop){ .flags = THAW_CACHE_DROP_ALL };
		if (ioctl(self->dev, THAW_IOC_CACHE_DROP, &ud) == 0 ||
		    errno != EPERM)
			_exit(21);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
	/* nobody's drop left root's object cached. */
	fd = thaw_snap_open(self->dev, "o-rootcache");
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, __thaw_ioctl(self->dev, THAW_IOC_CACHE_DROP, &d));
	EXPECT_EQ(1, d.objects);
	EXPECT_EQ(0, thaw_stats(self->dev).snapshots);
	close(src);
}

/* THAW_IOC_SNAP_OPEN of @uid's object @name (THAW_SNAP_OPEN_OWNER). */
static int open_owner(int dev, const char *name, uid_t uid)
{
	struct thaw_snap_open o = { .flags = THAW_SNAP_OPEN_OWNER,
				    .owner_uid = uid };
	int ret;

	strncpy((char *)o.name, name, sizeof(o.name) - 1);
	ret = ioctl(dev, THAW_IOC_SNAP_OPEN, &o);
	return ret < 0 ? -errno : ret;
}

/*
 * THAW_SNAP_OPEN_OWNER names another owner's object: root (CAP_SYS_ADMIN)
 * opens nobody's; a third user gets EPERM; the owner itself may name
 * itself.
 */
TEST_F(owner, open_other_owner)
{
	int to_child[2], to_parent[2], fd;
	__u64 features = 0;
	char c = 0;
	pid_t pid, pid2;

	close(thaw_open_api(&features));
	if (!(features & THAW_FEATURE_OWNER))
		SKIP(return, "no THAW_FEATURE_OWNER");
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int usrc, ufd, fd2;

		close(to_child[1]);
		close(to_parent[0]);
		ufd = nobody_creates(self->dev, self->len, 64 << 20,
				     "o-user", &usrc);
		fd2 = open_owner(self->dev, "o-user", NOBODY);
		if (fd2 < 0)
			_exit(13);
		close(fd2);
		if (write(to_parent[1], &c, 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(14);
		/* The object lived until the parent was done with it. */
		close(ufd);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_EQ(1, read(to_parent[0], &c, 1));

	EXPECT_EQ(-ENOENT, thaw_snap_open(self->dev, "o-user"));
	fd = open_owner(self->dev, "o-user", NOBODY);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(object_holds(fd, self->len, SEED_USER));
	close(fd);
	EXPECT_EQ(-ENOENT, open_owner(self->dev, "o-user", 1234));

	pid2 = fork();
	ASSERT_LE(0, pid2);
	if (pid2 == 0) {
		if (become(NOBODY - 1, 64 << 20))
			_exit(10);
		_exit(open_owner(self->dev, "o-user", NOBODY) == -EPERM ?
		      0 : 11);
	}
	EXPECT_EQ(0, child_status(pid2));

	ASSERT_EQ(1, write(to_child[1], &c, 1));
	EXPECT_EQ(0, child_status(pid));
	close(to_child[1]);
	close(to_parent[0]);
}

/*
 * An unprivileged creator is held to its RLIMIT_MEMLOCK: with 1 MiB, a
 * 4 MiB object fails with ENOMEM.
 */
TEST_F(owner, memlock_limit_enforced)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int src, lazy_src, fd;

		/* No path outside the root directory is nobody's to open. */
		lazy_src = thaw_reopen_ro(thaw_memfd(NPAGES, SEED_USER, NULL));
		if (lazy_src < 0 || become_nobody(1 << 20))
			_exit(10);
		src = thaw_memfd(NPAGES, SEED_USER, NULL);
		if (src < 0)
			_exit(11);
		fd = thaw_snap_create(self->dev, src, 0, self->len, NULL);
		if (fd >= 0)
			_exit(12);
		if (fd != -ENOMEM)
			_exit(13);
		/* A lazy object reserves as much: refused the same. */
		fd = thaw_snap_create_flags(self->dev, lazy_src, 0, self->len,
					    NULL, THAW_SNAP_CREATE_LAZY);
		if (fd != -ENOMEM && fd != -EINVAL)
			_exit(14);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
}

/*
 * Under its limit the object is charged to the creator (VmPin grows by
 * at least its data) and uncharged when it is freed.
 */
TEST_F(owner, memlock_charged_and_returned)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long before, during, after;
		int src, fd, proc;

		proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (proc < 0 || become_nobody(16 << 20))
			_exit(10);
		src = thaw_memfd(NPAGES, SEED_USER, NULL);
		if (src < 0)
			_exit(11);
		before = status_kb(proc, "VmPin");
		fd = thaw_snap_create(self->dev, src, 0, self->len, NULL);
		if (fd < 0)
			_exit(12);
		during = status_kb(proc, "VmPin");
		close(fd);
		after = status_kb(proc, "VmPin");
		printf("# VmPin: before %ld kB, with the object %ld kB, after %ld kB\n",
		       before, during, after);
		fflush(stdout);
		if (before < 0 || during - before < (long)(self->len >> 10))
			_exit(13);
		if (after != before)
			_exit(14);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
}

/*
 * Pages a pipe still holds when their object goes (vmsplice() from a
 * clone: GUP references) stay counted in pinned_pages, charged to the
 * owner (VmPin), until the pipe lets go; then they are returned within
 * seconds.  Uncounted, a user could hold any amount of memory past the
 * caps by making, splicing and freeing objects in a loop (issue 14, hole
 * 3).
 */
TEST_F(owner, pages_held_by_a_pipe_stay_charged)
{
	const unsigned long held = 16;
	struct thaw_stats base, during, after;
	long pin0, pin1, pin2;
	struct iovec iov;
	int src, fd, proc, p[2], i;
	char *a;

	proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, proc);
	base = thaw_stats(self->dev);
	pin0 = status_kb(proc, "VmPin");
	src = thaw_memfd(NPAGES, SEED_USER, NULL);
	ASSERT_LE(0, src);
	fd = thaw_snap_create(self->dev, src, 0, self->len, NULL);
	ASSERT_LE(0, fd);
	close(src);
	a = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, pipe(p));
	iov.iov_base = a;
	iov.iov_len = held * self->ps;
	ASSERT_EQ((ssize_t)iov.iov_len, vmsplice(p[1], &iov, 1, 0));
	munmap(a, self->len);
	close(fd);		/* no name, no clone: the object goes now */

	during = thaw_stats(self->dev);
	pin1 = status_kb(proc, "VmPin");
	EXPECT_EQ(base.snapshots, during.snapshots);
	EXPECT_EQ(base.pinned_pages + held, during.pinned_pages);
	EXPECT_EQ(pin0 + (long)(held * self->ps >> 10), pin1);

	close(p[0]);
	close(p[1]);
	for (i = 0; i < 50; i++) {
		after = thaw_stats(self->dev);
		if (after.pinned_pages == base.pinned_pages)
			break;
		usleep(100000);
	}
	pin2 = status_kb(proc, "VmPin");
	printf("# pinned pages: before %llu, pipe holding %llu, after %llu (%d ms); VmPin %ld, %ld, %ld kB\n",
	       (unsigned long long)base.pinned_pages,
	       (unsigned long long)during.pinned_pages,
	       (unsigned long long)after.pinned_pages, i * 100, pin0, pin1,
	       pin2);
	fflush(stdout);
	EXPECT_EQ(base.pinned_pages, after.pinned_pages);
	EXPECT_EQ(pin0, pin2);
	close(proc);
}

/*
 * A clone's private 2 MiB copies are charged to whoever maps it: nobody,
 * with RLIMIT_MEMLOCK for one copy, mapping root's huge object, gets a
 * copy of the first region it writes (VmPin grows by 2 MiB) and none of
 * the second (4 KiB copy-on-write there, counted as a failed copy); what
 * it wrote reads back in both; unmapped, VmPin is back where it was.
 */
TEST_F(owner, private_copies_charged_to_mapper)
{
	__u32 w[2];
	struct thaw_wset_io io = { .pages = (uintptr_t)w, .count = 2,
				   .flags = THAW_WSET_IO_WRITTEN };
	__u64 features = 0;
	int dev, src, snap;
	pid_t pid;

	dev = thaw_open_api(&features);
	ASSERT_LE(0, dev);
	close(dev);
	if (!(features & THAW_FEATURE_PRIVATE_HUGE))
		SKIP(return, "no private 2 MiB copies in this thaw.ko");
	src = thaw_memfd(NPAGES, SEED_ROOT, NULL);
	ASSERT_LE(0, src);
	snap = thaw_snap_create_flags(self->dev, src, 0, self->len, NULL,
				      THAW_SNAP_CREATE_HUGE);
	ASSERT_LE(0, snap);
	/* Both regions recorded as written: both chosen for a copy. */
	w[0] = 5 | THAW_WSET_WRITTEN;
	w[1] = (NPAGES / 2 + 7) | THAW_WSET_WRITTEN;
	ASSERT_EQ(0, __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io));
	thaw_private_any_region(1);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct thaw_clone_stats st;
		long before, one, after;
		volatile char sink = 0;
		size_t half = self->len / 2;
		char *a;
		int proc;

		proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (proc < 0 || become_nobody((2 << 20) + (64 << 10)))
			_exit(10);
		before = status_kb(proc, "VmPin");
		a = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			 snap, 0);
		if (a == MAP_FAILED)
			_exit(11);
		for (size_t off = 0; off < self->len; off += self->ps)
			sink += a[off];
		a[5 * self->ps] ^= 0x11;		/* region 0: a copy */
		one = status_kb(proc, "VmPin");
		a[half + 7 * self->ps] ^= 0x22;		/* region 1: none */
		st = thaw_clone_stats(snap, a);
		printf("# VmPin: before %ld kB, with a copy %ld kB; copies made %llu, failed %llu, private 4 KiB pages %llu\n",
		       before, one, (unsigned long long)st.private_made,
		       (unsigned long long)st.private_alloc_failed,
		       (unsigned long long)st.private_pages);
		fflush(stdout);
		if (st.private_made != 1 || st.private_regions != 1)
			_exit(12);
		if (!st.private_alloc_failed || st.private_pages != 1)
			_exit(13);
		if (one - before != 2048 || status_kb(proc, "VmPin") != one)
			_exit(14);
		if (!thaw_page_matches(a + 4 * self->ps, 4, SEED_ROOT) ||
		    !thaw_page_matches(a + half + 8 * self->ps,
				       half / self->ps + 8, SEED_ROOT))
			_exit(15);
		a[5 * self->ps] ^= 0x11;
		a[half + 7 * self->ps] ^= 0x22;
		if (!thaw_page_matches(a + 5 * self->ps, 5, SEED_ROOT) ||
		    !thaw_page_matches(a + half + 7 * self->ps,
				       half / self->ps + 7, SEED_ROOT))
			_exit(16);
		munmap(a, self->len);
		after = status_kb(proc, "VmPin");
		(void)sink;
		_exit(after == before ? 0 : 17);
	}
	EXPECT_EQ(0, child_status(pid));
	thaw_private_any_region(0);
	close(snap);
	close(src);
}

/*
 * max_snapshots_per_user: each user gets its own count; the third object
 * of a user fails with EDQUOT while another user still creates.
 */
TEST_F(owner, per_user_snapshot_cap)
{
	int to_child[2], to_parent[2], src, fd[3];
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, thaw_param_read("max_snapshots_per_user",
				     self->per_user_snaps,
				     sizeof(self->per_user_snaps)));
	ASSERT_EQ(0, thaw_param_write("max_snapshots_per_user", "2"));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int usrc, ufd[3];

		close(to_child[1]);
		close(to_parent[0]);
		if (become_nobody(64 << 20))
			_exit(10);
		usrc = thaw_memfd(16, SEED_USER, NULL);
		if (usrc < 0)
			_exit(11);
		for (int i = 0; i < 2; i++) {
			ufd[i] = thaw_snap_create(self->dev, usrc, 0,
						  16 * self->ps, NULL);
			if (ufd[i] < 0)
				_exit(12);
		}
		if (write(to_parent[1], &c, 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(13);
		ufd[2] = thaw_snap_create(self->dev, usrc, 0, 16 * self->ps,
					  NULL);
		if (ufd[2] != -EDQUOT)
			_exit(14);
		/* One gone, one more. */
		close(ufd[0]);
		ufd[2] = thaw_snap_create(self->dev, usrc, 0, 16 * self->ps,
					  NULL);
		if (ufd[2] < 0)
			_exit(15);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	/* nobody holds two: root still has its own two. */
	src = thaw_memfd(16, SEED_ROOT, NULL);
	ASSERT_LE(0, src);
	for (int i = 0; i < 2; i++) {
		fd[i] = thaw_snap_create(self->dev, src, 0, 16 * self->ps,
					 NULL);
		EXPECT_LE(0, fd[i]);
	}
	EXPECT_EQ(-EDQUOT, thaw_snap_create(self->dev, src, 0, 16 * self->ps,
					    NULL));
	ASSERT_EQ(1, write(to_child[1], &c, 1));
	EXPECT_EQ(0, child_status(pid));
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	close(src);
	close(to_child[1]);
	close(to_parent[0]);
}

/*
 * max_pinned_mb_per_user: a user past it gets EDQUOT, even with an
 * unlimited RLIMIT_MEMLOCK, while another user still creates.
 */
TEST_F(owner, per_user_pinned_cap)
{
	int src, fd;
	pid_t pid;

	ASSERT_EQ(0, thaw_param_read("max_pinned_mb_per_user",
				     self->per_user_mb,
				     sizeof(self->per_user_mb)));
	ASSERT_EQ(0, thaw_param_write("max_pinned_mb_per_user", "6"));
	src = thaw_memfd(NPAGES, SEED_ROOT, NULL);
	ASSERT_LE(0, src);
	fd = thaw_snap_create(self->dev, src, 0, self->len, NULL);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int usrc, ufd;

		ufd = nobody_creates(self->dev, self->len, RLIM_INFINITY,
				     NULL, &usrc);
		if (thaw_snap_create(self->dev, usrc, 0, self->len, NULL) !=
		    -EDQUOT)
			_exit(13);
		close(ufd);
		ufd = thaw_snap_create(self->dev, usrc, 0, self->len, NULL);
		if (ufd < 0)
			_exit(14);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
	close(fd);
	close(src);
}

TEST_HARNESS_MAIN
