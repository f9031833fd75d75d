// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot objects: created from a memfd or a regular file, their content is
 * the file's at creation time, zero pages are deduplicated, named objects
 * can be opened again, the module's caps hold, and an interrupted creation
 * leaves nothing behind.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define NPAGES	64

/* Pages 3, 10..19 and 63 are holes; page 5 is written as zeros. */
static int holes(unsigned long i)
{
	return i == 3 || (i >= 10 && i < 20) || i == 63;
}

FIXTURE(snap) {
	int dev;
	int src;
	long ps;
};

FIXTURE_SETUP(snap)
{
	char *zero;

	self->src = -1;
	self->ps = thaw_page_size();
	self->dev = thaw_open_api(NULL);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));
	self->src = thaw_memfd(NPAGES, 1, holes);
	ASSERT_LE(0, self->src);
	/* An explicit zero page that is not a hole. */
	zero = calloc(1, self->ps);
	ASSERT_NE(NULL, zero);
	ASSERT_EQ(self->ps, pwrite(self->src, zero, self->ps, 5 * self->ps));
	free(zero);
}

FIXTURE_TEARDOWN(snap)
{
	if (self->src >= 0)
		close(self->src);
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		close(self->dev);
	}
}

static unsigned long array_pages(unsigned long npages, long ps)
{
	return (npages * sizeof(void *) + ps - 1) / ps;
}

TEST_F(snap, clone_reads_equal_source)
{
	char *mem, *want = malloc(NPAGES * self->ps);
	int fd;

	ASSERT_NE(NULL, want);
	ASSERT_EQ(NPAGES * self->ps, pread(self->src, want, NPAGES * self->ps,
					   0));
	fd = thaw_snap_create(self->dev, self->src, 0, NPAGES * self->ps, NULL);
	ASSERT_LE(0, fd) TH_LOG("SNAP_CREATE: %s", strerror(-fd));
	mem = mmap(NULL, NPAGES * self->ps, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_EQ(0, memcmp(mem, want, NPAGES * self->ps));
	for (unsigned long i = 0; i < NPAGES; i++) {
		if (i == 5 || holes(i)) {
			EXPECT_TRUE(thaw_page_is_zero(mem + i * self->ps));
		} else {
			EXPECT_TRUE(thaw_page_matches(mem + i * self->ps, i, 1));
		}
	}
	munmap(mem, NPAGES * self->ps);
	close(fd);
	free(want);
}

TEST_F(snap, zero_pages_deduplicated)
{
	unsigned long zeros = 1 + 10 + 1 + 1;	/* 3, 10..19, 63, and 5 */
	struct thaw_snap_stats st;
	struct thaw_stats g;
	int fd;

	fd = thaw_snap_create(self->dev, self->src, 0, NPAGES * self->ps, NULL);
	ASSERT_LE(0, fd);
	st = thaw_snap_stats(fd);
	EXPECT_EQ(NPAGES, st.pages);
	EXPECT_EQ(zeros, st.zero_pages);
	EXPECT_EQ(NPAGES - zeros, st.data_pages);
	/* Data pages, the one zero page and the page array. */
	EXPECT_EQ(NPAGES - zeros + 1 + array_pages(NPAGES, self->ps),
		  st.pinned_pages);
	EXPECT_EQ(0, st.clones);
	EXPECT_EQ(0, st.wset_pages);
	EXPECT_NE(0, st.id);
	g = thaw_stats(self->dev);
	EXPECT_EQ(1, g.snapshots);
	EXPECT_EQ(st.pinned_pages, g.pinned_pages);
	EXPECT_LT(g.pinned_pages, g.pinned_limit);
	close(fd);
}

/* A window of the file: offset and length are what count. */
TEST_F(snap, offset_window)
{
	struct thaw_snap_stats st;
	char *mem;
	int fd;

	fd = thaw_snap_create(self->dev, self->src, 8 * self->ps,
			      16 * self->ps, NULL);
	ASSERT_LE(0, fd);
	st = thaw_snap_stats(fd);
	EXPECT_EQ(16, st.pages);
	EXPECT_EQ(10, st.zero_pages);	/* 10..19 of the file: 2..11 here */
	mem = mmap(NULL, 16 * self->ps, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_TRUE(thaw_page_matches(mem, 8, 1));
	EXPECT_TRUE(thaw_page_matches(mem + self->ps, 9, 1));
	EXPECT_TRUE(thaw_page_is_zero(mem + 2 * self->ps));
	EXPECT_TRUE(thaw_page_matches(mem + 12 * self->ps, 20, 1));
	munmap(mem, 16 * self->ps);
	close(fd);
}

/* A regular file (not a memfd) works the same. */
TEST_F(snap, regular_file)
{
	char path[] = "/tmp/thaw-snap-XXXXXX";
	char *buf = malloc(self->ps), *mem;
	int file, fd;

	ASSERT_NE(NULL, buf);
	file = mkstemp(path);
	ASSERT_LE(0, file);
	unlink(path);
	for (int i = 0; i < 8; i++) {
		thaw_fill_page(buf, i, 7);
		ASSERT_EQ(self->ps, pwrite(file, buf, self->ps, i * self->ps));
	}
	fd = thaw_snap_create(self->dev, file, 0, 8 * self->ps, NULL);
	ASSERT_LE(0, fd);
	mem = mmap(NULL, 8 * self->ps, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (int i = 0; i < 8; i++)
		EXPECT_TRUE(thaw_page_matches(mem + i * self->ps, i, 7));
	munmap(mem, 8 * self->ps);
	close(fd);
	close(file);
	free(buf);
}

/* The object is a copy: writing the file later does not reach clones. */
TEST_F(snap, later_file_writes_invisible)
{
	char *mem, *junk = malloc(self->ps);
	int fd;

	ASSERT_NE(NULL, junk);
	fd = thaw_snap_create(self->dev, self->src, 0, NPAGES * self->ps, NULL);
	ASSERT_LE(0, fd);
	memset(junk, 0xee, self->ps);
	ASSERT_EQ(self->ps, pwrite(self->src, junk, self->ps, 0));
	ASSERT_EQ(self->ps, pwrite(self->src, junk, self->ps, 3 * self->ps));
	mem = mmap(NULL, NPAGES * self->ps, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_TRUE(thaw_page_matches(mem, 0, 1));
	EXPECT_TRUE(thaw_page_is_zero(mem + 3 * self->ps));
	munmap(mem, NPAGES * self->ps);
	close(fd);
	free(junk);
}

TEST_F(snap, named_open)
{
	struct thaw_snap_stats a, b;
	int fd, fd2, ret;

	fd = thaw_snap_create(self->dev, self->src, 0, NPAGES * self->ps,
			      "fn-hello.v1");
	ASSERT_LE(0, fd);
	ret = thaw_snap_create(self->dev, self->src, 0, self->ps,
			       "fn-hello.v1");
	EXPECT_EQ(-EEXIST, ret);
	fd2 = thaw_snap_open(self->dev, "fn-hello.v1");
	ASSERT_LE(0, fd2);
	a = thaw_snap_stats(fd);
	b = thaw_snap_stats(fd2);
	EXPECT_EQ(a.id, b.id);
	EXPECT_EQ(1, thaw_stats(self->dev).snapshots);
	EXPECT_EQ(-ENOENT, thaw_snap_open(self->dev, "fn-other"));
	close(fd);
	/* Still alive through the second fd. */
	ret = thaw_snap_open(self->dev, "fn-hello.v1");
	ASSERT_LE(0, ret);
	close(ret);
	close(fd2);
	/* Unreferenced: in the cache, if the module keeps one, else gone. */
	if (thaw_stats(self->dev).cached_objects) {
		ret = thaw_snap_open(self->dev, "fn-hello.v1");
		ASSERT_LE(0, ret);
		EXPECT_EQ(a.id, thaw_snap_stats(ret).id);
		close(ret);
		EXPECT_EQ(1, thaw_cache_drop(self->dev));
	}
	EXPECT_EQ(-ENOENT, thaw_snap_open(self->dev, "fn-hello.v1"));
}

TEST_F(snap, bad_names)
{
	struct thaw_snap_create c = {
		.fd = self->src, .length = self->ps,
	};
	struct thaw_snap_open o = { 0 };

	strcpy((char *)c.name, "has space");
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	memset(c.name, 'a', sizeof(c.name));	/* no NUL */
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	memset(c.name, 0, sizeof(c.name));
	c.name[0] = 'a';
	c.name[10] = 'b';			/* junk after the NUL */
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	memset(c.name, 0, sizeof(c.name));
	c.name[0] = 0x80;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	/* Anonymous objects cannot be opened. */
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_OPEN, &o));
	o.flags = 1U << 31;			/* unknown */
	strcpy((char *)o.name, "x");
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_OPEN, &o));
}

/* max_pinned_mb caps what objects hold; hitting it leaves nothing. */
TEST_F(snap, pinned_limit)
{
	char old[32];
	int src, fd;

	ASSERT_EQ(0, thaw_param_read("max_pinned_mb", old, sizeof(old)));
	src = thaw_memfd(1024, 2, NULL);	/* 4 MiB of data */
	ASSERT_LE(0, src);
	ASSERT_EQ(0, thaw_param_write("max_pinned_mb", "2"));
	fd = thaw_snap_create(self->dev, src, 0, 1024 * self->ps, NULL);
	EXPECT_EQ(-EDQUOT, fd);
	EXPECT_EQ(0, thaw_stats(self->dev).pinned_pages);
	EXPECT_EQ(2 << (20 - 12), thaw_stats(self->dev).pinned_limit);
	/* Zero pages cost nothing: a big all-hole object fits. */
	ASSERT_EQ(0, ftruncate(src, 0));
	ASSERT_EQ(0, ftruncate(src, 1024 * self->ps));
	fd = thaw_snap_create(self->dev, src, 0, 1024 * self->ps, NULL);
	EXPECT_LE(0, fd);
	if (fd >= 0) {
		EXPECT_EQ(1024, thaw_snap_stats(fd).zero_pages);
		close(fd);
	}
	ASSERT_EQ(0, thaw_param_write("max_pinned_mb", old));
	close(src);
}

TEST_F(snap, max_snapshots)
{
	char old[32];
	int a, b;

	ASSERT_EQ(0, thaw_param_read("max_snapshots", old, sizeof(old)));
	ASSERT_EQ(0, thaw_param_write("max_snapshots", "1"));
	a = thaw_snap_create(self->dev, self->src, 0, self->ps, NULL);
	EXPECT_LE(0, a);
	b = thaw_snap_create(self->dev, self->src, 0, self->ps, NULL);
	EXPECT_EQ(-EDQUOT, b);
	ASSERT_EQ(0, thaw_param_write("max_snapshots", old));
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
}

/*
 * A creation killed half-way leaves nothing: the parent watches the pinned
 * count grow (the copy is running, the object not yet listed), then kills
 * the creator.
 */
TEST_F_TIMEOUT(snap, killed_while_creating, 300)
{
	unsigned long npages = (256 << 20) / self->ps;
	int src, status, seen = 0;
	struct thaw_stats st;
	pid_t pid, done = 0;

	src = thaw_memfd(npages, 3, NULL);
	ASSERT_LE(0, src);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = thaw_snap_create(self->dev, src, 0, npages * self->ps,
					  NULL);

		_exit(fd >= 0 ? 0 : 1);
	}
	/* Until the copy shows, or the creator is gone (then: too fast). */
	while (!seen && !done) {
		st = thaw_stats(self->dev);
		if (st.pinned_pages > 1000 && st.snapshots == 0)
			seen = 1;
		else
			done = waitpid(pid, &status, WNOHANG);
	}
	if (seen) {
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	EXPECT_TRUE(seen) TH_LOG("never saw the copy in progress");
	close(src);
}

TEST_HARNESS_MAIN
