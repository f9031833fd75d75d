// SPDX-License-Identifier: GPL-2.0
/*
 * Memory accounting: the memory cgroup of the process that creates a
 * snapshot object pays for its pages while it lives, and a creation that
 * would pass the cgroup's memory.max fails and leaves nothing behind.  A
 * clone's private 2 MiB copies are paid by the cgroup of the process that
 * maps the clone, refused (4 KiB instead) at its limit, and given back
 * whatever the order of teardown.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define CGROOT	"/sys/fs/cgroup"
#define NPAGES	1024	/* 4 MiB of data */

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static long long read_ll(const char *path)
{
	char buf[64] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoll(buf) : -1;
}

static int has_memory_controller(void)
{
	char buf[256] = { 0 };
	int fd = open(CGROOT "/cgroup.controllers", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && strstr(buf, "memory");
}

FIXTURE(memcg) {
	int dev;
	int src;
	long ps;
	int joined;
	char cg[128];
	char file[192];
};

FIXTURE_SETUP(memcg)
{
	char pid[32];

	self->src = -1;
	self->ps = thaw_page_size();
	self->dev = thaw_open_api(NULL);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));
	if (access(CGROOT "/cgroup.controllers", F_OK))
		mount("cgroup2", CGROOT, "cgroup2", 0, NULL);
	if (!has_memory_controller())
		SETUP_SKIP("no cgroup2 memory controller");
	/* The source's own pages are charged here, before joining. */
	self->src = thaw_memfd(NPAGES, 8, NULL);
	ASSERT_LE(0, self->src);
	ASSERT_EQ(0, write_file(CGROOT "/cgroup.subtree_control", "+memory"));
	snprintf(self->cg, sizeof(self->cg), CGROOT "/thaw-test-%d", getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	snprintf(self->file, sizeof(self->file), "%s/cgroup.procs", self->cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, write_file(self->file, pid));
	self->joined = 1;
	thaw_private_any_region(1);
}

FIXTURE_TEARDOWN(memcg)
{
	char pid[32];

	thaw_private_any_region(0);
	if (self->src >= 0)
		close(self->src);
	if (self->joined) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		EXPECT_EQ(0, write_file(CGROOT "/cgroup.procs", pid));
		EXPECT_EQ(0, rmdir(self->cg));
	}
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		close(self->dev);
	}
}

static long long cg_read(FIXTURE_DATA(memcg) *self, const char *name)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", self->cg, name);
	return read_ll(path);
}

TEST_F(memcg, creator_pays)
{
	long long before, with, after;
	size_t len = NPAGES * self->ps;
	int fd;

	before = cg_read(self, "memory.current");
	ASSERT_LE(0, before);
	fd = thaw_snap_create(self->dev, self->src, 0, len, NULL);
	ASSERT_LE(0, fd);
	with = cg_read(self, "memory.current");
	TH_LOG("memory.current: %lld before, %lld with a %zu KiB object",
	       before, with, len >> 10);
	EXPECT_GE(with - before, (long long)len);
	close(fd);
	after = cg_read(self, "memory.current");
	EXPECT_LT(after - before, 1 << 20);
}

TEST_F(memcg, limit_refuses)
{
	char max[32];
	long long cur;
	int fd;

	cur = cg_read(self, "memory.current");
	ASSERT_LE(0, cur);
	snprintf(max, sizeof(max), "%lld", cur + (2 << 20));
	ASSERT_EQ(0, write_file(strcat(strcpy(self->file, self->cg),
				       "/memory.max"), max));
	fd = thaw_snap_create(self->dev, self->src, 0, NPAGES * self->ps,
			      NULL);
	EXPECT_EQ(-ENOMEM, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, thaw_stats(self->dev).pinned_pages);
	EXPECT_EQ(0, write_file(self->file, "max"));
}

#define RP	THAW_REGION_PAGES

/* A huge object of @self->src whose 2 regions the working set wrote. */
static int private_snap(struct __test_metadata *_metadata,
			FIXTURE_DATA(memcg) *self)
{
	const __u32 set[] = { 1 | THAW_WSET_WRITTEN, RP | THAW_WSET_WRITTEN };
	struct thaw_snap_create c = {
		.fd = self->src, .length = NPAGES * self->ps,
		.flags = THAW_SNAP_CREATE_HUGE,
	};
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 2,
				   .flags = THAW_WSET_IO_WRITTEN };
	int snap = ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c);

	if (snap < 0)
		return -errno;
	EXPECT_EQ(2, thaw_snap_stats(snap).huge_regions);
	EXPECT_EQ(0, __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io));
	return snap;
}

TEST_F(memcg, private_copies_charged_and_returned)
{
	long long before, with, after, copies;
	size_t len = NPAGES * self->ps;
	__u64 features = 0;
	int dev, snap;
	char *a;

	dev = thaw_open_api(&features);
	ASSERT_LE(0, dev);
	close(dev);
	if (!(features & THAW_FEATURE_PRIVATE_HUGE))
		SKIP(return, "no THAW_FEATURE_PRIVATE_HUGE");
	before = cg_read(self, "memory.current");
	ASSERT_LE(0, before);
	for (int round = 0; round < 2; round++) {
		snap = private_snap(_metadata, self);
		ASSERT_LE(0, snap);
		a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, snap,
			 0);
		ASSERT_NE(MAP_FAILED, a);
		with = cg_read(self, "memory.current");
		a[5] = 1;
		a[RP * self->ps + 5] = 1;
		ASSERT_EQ(2, thaw_clone_stats(snap, a).private_regions);
		copies = cg_read(self, "memory.current") - with;
		TH_LOG("memory.current: +%lld for 2 private 2 MiB copies",
		       copies);
		/* Less the memcg's per-cpu charge stock (64 pages). */
		EXPECT_GE(copies, (4LL << 20) - (256 << 10));
		EXPECT_EQ(2 * RP + 2 * RP + 1 + (NPAGES * 8 + 4095) / 4096,
			  thaw_stats(self->dev).pinned_pages);
		if (round) {
			munmap(a, len);
			close(snap);
		} else {
			close(snap);
			munmap(a, len);
		}
		EXPECT_EQ(0, thaw_stats(self->dev).pinned_pages);
	}
	after = cg_read(self, "memory.current");
	EXPECT_LT(after - before, 1 << 20);
}

/* At the cgroup's limit a private copy is refused: 4 KiB, counted. */
TEST_F(memcg, private_copy_refused_at_limit)
{
	size_t len = NPAGES * self->ps;
	struct thaw_clone_stats st;
	__u64 features = 0;
	char max[32];
	int dev, snap;
	char *a;

	dev = thaw_open_api(&features);
	ASSERT_LE(0, dev);
	close(dev);
	if (!(features & THAW_FEATURE_PRIVATE_HUGE))
		SKIP(return, "no THAW_FEATURE_PRIVATE_HUGE");
	snap = private_snap(_metadata, self);
	ASSERT_LE(0, snap);
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	snprintf(max, sizeof(max), "%lld",
		 cg_read(self, "memory.current") + (1 << 20));
	ASSERT_EQ(0, write_file(strcat(strcpy(self->file, self->cg),
				       "/memory.max"), max));
	a[5] = 1;
	st = thaw_clone_stats(snap, a);
	EXPECT_EQ(0, write_file(self->file, "max"));
	EXPECT_EQ(0, st.private_regions);
	EXPECT_EQ(1, st.private_alloc_failed);
	EXPECT_EQ(1, st.splits);
	EXPECT_EQ(1, a[5]);
	munmap(a, len);
	close(snap);
}

TEST_HARNESS_MAIN
