/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the thaw selftests, in the manner of the KVM selftests'
 * __vm_ioctl()/vm_ioctl(): the __ variant returns -errno, the other asserts.
 */
#ifndef THAW_SELFTEST_H
#define THAW_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/thaw.h>

#define THAW_DEV	"/dev/" THAW_DEVICE_NAME

/* Raw ioctl: 0 or -errno. */
static inline int __thaw_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* Open /dev/thaw and complete the handshake; -errno on failure. */
static inline int thaw_open_api(__u64 *features)
{
	struct thaw_api api = { .api = THAW_API_VERSION };
	int fd, ret;

	fd = open(THAW_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = __thaw_ioctl(fd, THAW_IOC_API, &api);
	if (ret) {
		close(fd);
		return ret;
	}
	if (features)
		*features = api.features;
	return fd;
}

static inline long thaw_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/*
 * Snapshot object from @len bytes of @fd at @off, optionally named: the new
 * fd or -errno.
 */
static inline int thaw_snap_create(int dev, int fd, __u64 off, __u64 len,
				   const char *name)
{
	struct thaw_snap_create c = { .fd = fd, .offset = off, .length = len };
	int ret;

	if (name)
		strncpy((char *)c.name, name, sizeof(c.name) - 1);
	ret = ioctl(dev, THAW_IOC_SNAP_CREATE, &c);
	return ret < 0 ? -errno : ret;
}

/* The same with THAW_SNAP_CREATE_* @flags (and the default density). */
static inline int thaw_snap_create_flags(int dev, int fd, __u64 off,
					 __u64 len, const char *name,
					 __u32 flags)
{
	struct thaw_snap_create c = { .fd = fd, .offset = off, .length = len,
				      .flags = flags };
	int ret;

	if (name)
		strncpy((char *)c.name, name, sizeof(c.name) - 1);
	ret = ioctl(dev, THAW_IOC_SNAP_CREATE, &c);
	return ret < 0 ? -errno : ret;
}

/*
 * Free the module's cached objects, every owner's (THAW_IOC_CACHE_DROP with
 * THAW_CACHE_DROP_ALL; a module without that flag drops all anyway): how
 * many, 0 for a module without a cache, or -errno.
 */
static inline long thaw_cache_drop(int dev)
{
	struct thaw_cache_drop d = { .flags = THAW_CACHE_DROP_ALL };
	int ret = __thaw_ioctl(dev, THAW_IOC_CACHE_DROP, &d);

	if (ret == -EINVAL) {
		memset(&d, 0, sizeof(d));
		ret = __thaw_ioctl(dev, THAW_IOC_CACHE_DROP, &d);
	}
	if (ret)
		return ret == -ENOTTY ? 0 : ret;
	return d.objects;
}

static inline int thaw_snap_open(int dev, const char *name)
{
	struct thaw_snap_open o = { 0 };
	int ret;

	strncpy((char *)o.name, name, sizeof(o.name) - 1);
	ret = ioctl(dev, THAW_IOC_SNAP_OPEN, &o);
	return ret < 0 ? -errno : ret;
}

/* One clone operation (RECORD, STOP, PREMAP, RESET): -errno, or count. */
static inline long thaw_clone_op(int snap, unsigned long cmd, void *addr,
				 __u32 flags)
{
	struct thaw_clone_op op = { .addr = (uintptr_t)addr, .flags = flags };

	if (ioctl(snap, cmd, &op) < 0)
		return -errno;
	return op.count;
}

static inline struct thaw_clone_stats thaw_clone_stats(int snap, void *addr)
{
	struct thaw_clone_stats st = { .addr = (uintptr_t)addr };

	if (ioctl(snap, THAW_IOC_CLONE_STATS, &st) < 0)
		st.pages = ~0ULL;	/* the caller's EXPECTs show it */
	return st;
}

static inline struct thaw_snap_stats thaw_snap_stats(int snap)
{
	struct thaw_snap_stats st = { 0 };

	if (ioctl(snap, THAW_IOC_SNAP_STATS, &st) < 0)
		st.pages = ~0ULL;
	return st;
}

static inline struct thaw_stats thaw_stats(int dev)
{
	struct thaw_stats st = { 0 };

	if (ioctl(dev, THAW_IOC_STATS, &st) < 0)
		st.snapshots = ~0ULL;
	return st;
}

/* The content every test puts in page @idx of a source: never all zero. */
static inline void thaw_fill_page(void *page, unsigned long idx,
				  unsigned int seed)
{
	uint64_t *w = page;
	long n = thaw_page_size() / 8;

	for (long i = 0; i < n; i++)
		w[i] = ((uint64_t)seed << 48) ^ ((uint64_t)idx << 16) ^ i ^
		       0x5a5a000000000001ULL;
}

/*
 * A memfd of @npages pages: page i holds thaw_fill_page(i, seed) unless
 * @is_zero(i) says it stays a hole.  -errno on failure.
 */
static inline int thaw_memfd(unsigned long npages, unsigned int seed,
			     int (*is_zero)(unsigned long))
{
	long ps = thaw_page_size();
	char *buf;
	int fd;

	fd = memfd_create("thaw-src", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, npages * ps) < 0)
		goto err;
	buf = malloc(ps);
	if (!buf)
		goto err;
	for (unsigned long i = 0; i < npages; i++) {
		if (is_zero && is_zero(i))
			continue;
		thaw_fill_page(buf, i, seed);
		if (pwrite(fd, buf, ps, i * ps) != ps) {
			free(buf);
			goto err;
		}
	}
	free(buf);
	return fd;
err:
	close(fd);
	return -errno;
}

/*
 * @fd opened again read-only, and @fd closed: a source no one has open for
 * writing (a lazy object needs one).  -errno on failure.
 */
static inline int thaw_reopen_ro(int fd)
{
	char path[64];
	int ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	close(fd);
	return ro < 0 ? -errno : ro;
}

/* Does @p (one page) hold thaw_fill_page(idx, seed)? */
static inline int thaw_page_matches(const void *p, unsigned long idx,
				    unsigned int seed)
{
	long ps = thaw_page_size();
	char buf[65536];

	if (ps > (long)sizeof(buf))
		return 0;
	thaw_fill_page(buf, idx, seed);
	return !memcmp(p, buf, ps);
}

static inline int thaw_page_is_zero(const void *p)
{
	const uint64_t *w = p;

	for (long i = 0; i < thaw_page_size() / 8; i++)
		if (w[i])
			return 0;
	return 1;
}

/* /sys/module/thaw/parameters/@name: 0 or -errno. */
static inline int thaw_param_write(const char *name, const char *val)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/sys/module/thaw/parameters/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The tests' working sets are a few pages: let a region that any of them
 * touches get a private 2 MiB copy (private_min_faults, default 64),
 * and put the default back after.  Ignored where the module has none.
 */
#define THAW_PRIVATE_MIN_FAULTS_DEFAULT	"64"

static inline void thaw_private_any_region(int on)
{
	thaw_param_write("private_min_faults",
			 on ? "1" : THAW_PRIVATE_MIN_FAULTS_DEFAULT);
}

static inline int thaw_param_read(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/thaw/parameters/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/*
 * Nothing thaw.ko holds is left, once its cache of unreferenced named
 * objects is dropped: every test ends with this.  Pages a freed object
 * left to their other holders (a pipe's, say) are returned by a worker
 * once a second after those let go: allow it 3 s.
 */
#define EXPECT_NO_THAW_OBJECTS(dev) do {				\
	struct thaw_stats __st;						\
	int __i;							\
	EXPECT_LE(0, thaw_cache_drop(dev));				\
	for (__i = 0; __i < 30; __i++) {				\
		__st = thaw_stats(dev);					\
		if (!__st.pinned_pages)					\
			break;						\
		usleep(100000);						\
	}								\
	EXPECT_EQ(0, __st.snapshots);					\
	EXPECT_EQ(0, __st.clones);					\
	EXPECT_EQ(0, __st.pinned_pages);				\
} while (0)

/*
 * THAW_SNAP_FIXTURE(name, npages, seed, is_hole): the fixture @name of the
 * tests that work on one snapshot object: /dev/thaw (the tests skip
 * without it), a memfd of @npages pages written by thaw_memfd(@npages,
 * @seed, @is_hole) and a snapshot object of all of it, in self->dev,
 * self->src and self->snap, with self->ps and self->len.  The teardown
 * checks that no object, clone or pinned page outlived the test.  Use it
 * after including kselftest_harness.h and selftests/lib/setup_skip.h.
 */
#define THAW_SNAP_FIXTURE(name, npages, seed, is_hole)			\
	FIXTURE(name) {							\
		int dev;						\
		int src;						\
		int snap;						\
		long ps;						\
		size_t len;						\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		self->src = self->snap = -1;				\
		self->ps = thaw_page_size();				\
		self->len = (npages) * self->ps;			\
		self->dev = thaw_open_api(NULL);			\
		if (self->dev < 0)					\
			SETUP_SKIP(THAW_DEV " not usable: %s",		\
				   strerror(-self->dev));		\
		self->src = thaw_memfd((npages), (seed), (is_hole));	\
		ASSERT_LE(0, self->src);				\
		self->snap = thaw_snap_create(self->dev, self->src, 0,	\
					      self->len, NULL);		\
		ASSERT_LE(0, self->snap);				\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		if (self->snap >= 0)					\
			close(self->snap);				\
		if (self->src >= 0)					\
			close(self->src);				\
		if (self->dev >= 0) {					\
			EXPECT_NO_THAW_OBJECTS(self->dev);		\
			close(self->dev);				\
		}							\
	}

/*
 * The region layout of the huge and lazy object tests: region 0 dense, 1
 * all zero, 2 sparse (THAW_TEST_SPARSE data pages), 3 half zero, then
 * whatever follows dense.  Is page @i a hole?
 */
#define THAW_TEST_SPARSE	10

static inline int thaw_layout_hole(unsigned long i)
{
	unsigned long r = i / THAW_REGION_PAGES, k = i % THAW_REGION_PAGES;

	switch (r) {
	case 1:
		return 1;
	case 2:
		return k >= THAW_TEST_SPARSE;
	case 3:
		return k & 1;
	default:
		return 0;
	}
}

#endif
