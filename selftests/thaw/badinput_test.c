// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input to the snapshot ioctls: file descriptors that are not
 * readable regular files, offsets and lengths that are unaligned, empty,
 * overflowing or past the end of the file, reserved bits, wrong sizes and
 * bad pointers.  Each gets its documented errno and leaves nothing behind.
 */
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

FIXTURE(bad) {
	int dev;
	int src;
	int snap;
	long ps;
};

FIXTURE_SETUP(bad)
{
	self->src = self->snap = -1;
	self->ps = thaw_page_size();
	self->dev = thaw_open_api(NULL);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));
	self->src = thaw_memfd(4, 2, NULL);
	ASSERT_LE(0, self->src);
	self->snap = thaw_snap_create(self->dev, self->src, 0, 4 * self->ps,
				      NULL);
	ASSERT_LE(0, self->snap);
}

FIXTURE_TEARDOWN(bad)
{
	if (self->snap >= 0)
		close(self->snap);
	if (self->src >= 0)
		close(self->src);
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		close(self->dev);
	}
}

static int create(int dev, int fd, __u64 off, __u64 len)
{
	int ret = thaw_snap_create(dev, fd, off, len, NULL);

	if (ret >= 0)
		close(ret);
	return ret;
}

TEST_F(bad, fds_that_are_not_files)
{
	int sv[2], pfd[2], fd;
	long ps = self->ps;

	EXPECT_EQ(-EBADF, create(self->dev, -1, 0, ps));
	EXPECT_EQ(-EBADF, create(self->dev, 9999, 0, ps));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ(-EINVAL, create(self->dev, sv[0], 0, ps));
	close(sv[0]);
	close(sv[1]);
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(-EINVAL, create(self->dev, pfd[0], 0, ps));
	EXPECT_EQ(-EBADF, create(self->dev, pfd[1], 0, ps));	/* write end */
	close(pfd[0]);
	close(pfd[1]);
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EISDIR, create(self->dev, fd, 0, ps));
	close(fd);
	fd = open("/dev/zero", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, create(self->dev, fd, 0, ps));
	close(fd);
	fd = eventfd(0, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, create(self->dev, fd, 0, ps));
	close(fd);
	/* A thaw object, /dev/thaw itself. */
	EXPECT_EQ(-EINVAL, create(self->dev, self->snap, 0, ps));
	EXPECT_EQ(-EINVAL, create(self->dev, self->dev, 0, ps));
}

TEST_F(bad, files_not_readable)
{
	char path[] = "/tmp/thaw-bad-XXXXXX";
	int fd, wr, opath;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 * self->ps));
	wr = open(path, O_WRONLY);
	ASSERT_LE(0, wr);
	opath = open(path, O_PATH);
	ASSERT_LE(0, opath);
	unlink(path);
	EXPECT_EQ(-EBADF, create(self->dev, wr, 0, self->ps));
	EXPECT_EQ(-EBADF, create(self->dev, opath, 0, self->ps));
	/* The O_RDWR one works. */
	EXPECT_LE(0, create(self->dev, fd, 0, self->ps));
	close(opath);
	close(wr);
	close(fd);
}

TEST_F(bad, offsets_and_lengths)
{
	long ps = self->ps;
	int big;

	EXPECT_EQ(-EINVAL, create(self->dev, self->src, 1, ps));
	EXPECT_EQ(-EINVAL, create(self->dev, self->src, ps / 2, ps));
	EXPECT_EQ(-EINVAL, create(self->dev, self->src, 0, ps + 1));
	EXPECT_EQ(-EINVAL, create(self->dev, self->src, 0, 100));
	EXPECT_EQ(-EINVAL, create(self->dev, self->src, 0, 0));
	EXPECT_EQ(-EINVAL, create(self->dev, self->src, -ps, 2 * ps));
	EXPECT_EQ(-EINVAL, create(self->dev, self->src, 0, -ps));
	EXPECT_EQ(-EINVAL, create(self->dev, self->src, 1ULL << 62,
				  1ULL << 62));
	/* Past the end of the 4-page file. */
	EXPECT_EQ(-ENXIO, create(self->dev, self->src, 0, 5 * ps));
	EXPECT_EQ(-ENXIO, create(self->dev, self->src, 4 * ps, ps));
	EXPECT_EQ(-ENXIO, create(self->dev, self->src, 3 * ps, 2 * ps));
	/* More pages than a __u32 index reaches, in a sparse file. */
	big = memfd_create("thaw-big", MFD_CLOEXEC);
	ASSERT_LE(0, big);
	ASSERT_EQ(0, ftruncate(big, (1ULL << 32) * ps + ps));
	EXPECT_EQ(-EINVAL, create(self->dev, big, 0, (1ULL << 32) * ps));
	close(big);
	/* The edges are fine. */
	EXPECT_LE(0, create(self->dev, self->src, 3 * ps, ps));
	EXPECT_LE(0, create(self->dev, self->src, 0, 4 * ps));
}

TEST_F(bad, reserved_and_flags)
{
	struct thaw_snap_create c = { .fd = self->src, .length = self->ps };
	struct thaw_stats st = { 0 };
	struct thaw_snap_stats ss = { 0 };
	struct thaw_clone_stats cs = { 0 };

	c.flags = 1U << 2;	/* the first unknown flag */
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	c.flags = 1U << 31;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	c.flags = 0;
	c.pad = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	c.pad = 0;
	/* A threshold without THAW_SNAP_CREATE_HUGE. */
	c.huge_min_pages = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	c.huge_min_pages = 0;
	for (int i = 0; i < 3; i++) {
		c.reserved[i] = 1ULL << (i * 9);
		EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE,
						&c));
		c.reserved[i] = 0;
	}
	st.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_STATS, &st));
	st.reserved[1] = 0;
	st.pad = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_STATS, &st));
	ss.flags = 2;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_SNAP_STATS, &ss));
	cs.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_STATS, &cs));
}

TEST_F(bad, sizes_and_pointers)
{
	struct {
		struct thaw_snap_create c;
		__u64 tail;
	} big = { .c = { .fd = self->src, .length = self->ps }, .tail = 1 };
	unsigned long big_cmd = _IOW(THAW_IOCTL_MAGIC, 0x10, big);
	unsigned long small_cmd = _IOW(THAW_IOCTL_MAGIC, 0x10, __u64[8]);
	unsigned long stats_big = _IOWR(THAW_IOCTL_MAGIC, 0x51, __u64[20]);
	__u64 sbuf[20] = { 0 };
	int fd;

	EXPECT_EQ(-E2BIG, __thaw_ioctl(self->dev, big_cmd, &big));
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, small_cmd, &big));
	big.tail = 0;
	fd = ioctl(self->dev, big_cmd, &big);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-EFAULT, __thaw_ioctl(self->dev, THAW_IOC_SNAP_CREATE, NULL));
	EXPECT_EQ(-EFAULT, __thaw_ioctl(self->snap, THAW_IOC_SNAP_STATS,
					(void *)-4096L));
	EXPECT_EQ(-EFAULT, __thaw_ioctl(self->snap, THAW_IOC_CLONE_RESET,
					NULL));
	/* Larger stats structures get zeros past what the module knows. */
	memset(sbuf, 0, sizeof(sbuf));
	EXPECT_EQ(0, __thaw_ioctl(self->snap, stats_big, sbuf));
	EXPECT_EQ(4, sbuf[4]);		/* pages */
	EXPECT_EQ(0, sbuf[13]);
}

TEST_F(bad, unknown_ioctls)
{
	struct thaw_clone_op op = { 0 };

	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->snap,
					_IOWR(THAW_IOCTL_MAGIC, 0x2f, op), &op));
	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->snap, THAW_IOC_API, &op));
	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->snap,
					_IOWR('x', 0x33, op), &op));
	/* Right number, wrong direction. */
	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->snap,
					_IOR(THAW_IOCTL_MAGIC, 0x33, op), &op));
	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->dev,
					_IOWR(THAW_IOCTL_MAGIC, 0x10, op), &op));
	/* Object ioctls are not /dev/thaw ioctls and the reverse. */
	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->dev, THAW_IOC_CLONE_RESET, &op));
	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->snap, THAW_IOC_STATS, &op));
}

/* Nothing but the handshake works before the handshake. */
TEST_F(bad, before_handshake)
{
	struct thaw_snap_create c = { .fd = self->src, .length = self->ps };
	struct thaw_stats st = { 0 };
	int fd = open(THAW_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, __thaw_ioctl(fd, THAW_IOC_SNAP_CREATE, &c));
	EXPECT_EQ(-EINVAL, __thaw_ioctl(fd, THAW_IOC_STATS, &st));
	close(fd);
}

TEST_HARNESS_MAIN
