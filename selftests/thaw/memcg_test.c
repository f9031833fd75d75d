// SPDX-License-Identifier: GPL-2.0
/*
 * Memory accounting: the memory cgroup of the process that creates a
 * snapshot object pays for its pages while it lives, and a creation that
 * would pass the cgroup's memory.max fails and leaves nothing behind.
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
}

FIXTURE_TEARDOWN(memcg)
{
	char pid[32];

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

TEST_HARNESS_MAIN
