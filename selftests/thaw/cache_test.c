// SPDX-License-Identifier: GPL-2.0
/*
 * The cache of unreferenced named objects (THAW_FEATURE_CACHE): a named
 * object outlives its last fd and clone, still pinned and counted, and
 * THAW_IOC_SNAP_OPEN revives it; an anonymous one does not; past cache_mb
 * the least recently used goes first; one owner past cache_owner_mb
 * pushes out only its own; a creation that would pass max_pinned_mb
 * evicts cached objects first; lowering cache_mb and THAW_IOC_CACHE_DROP
 * free them; a lazy object is cached while it fills.
 */
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define NPAGES	1024			/* 4 MiB of data per object */
#define SEED	33

FIXTURE(cache) {
	int dev;
	int src;
	long ps;
	size_t len;
	unsigned long obj_pages;	/* what one object pins */
	char cache_mb[16], owner_mb[16], pinned_mb[16];
};

FIXTURE_SETUP(cache)
{
	__u64 features = 0;

	self->src = -1;
	self->cache_mb[0] = 0;
	self->ps = thaw_page_size();
	self->len = NPAGES * self->ps;
	self->dev = thaw_open_api(&features);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));
	if (!(features & THAW_FEATURE_CACHE))
		SETUP_SKIP("no THAW_FEATURE_CACHE");
	ASSERT_LE(0, thaw_cache_drop(self->dev));
	ASSERT_EQ(0, thaw_param_read("cache_mb", self->cache_mb,
				     sizeof(self->cache_mb)));
	ASSERT_EQ(0, thaw_param_read("cache_owner_mb", self->owner_mb,
				     sizeof(self->owner_mb)));
	ASSERT_EQ(0, thaw_param_read("max_pinned_mb", self->pinned_mb,
				     sizeof(self->pinned_mb)));
	ASSERT_EQ(0, thaw_param_write("cache_mb", "64"));
	ASSERT_EQ(0, thaw_param_write("cache_owner_mb", "0"));
	/* Read-only, so that lazy objects can hold it. */
	self->src = thaw_reopen_ro(thaw_memfd(NPAGES, SEED, NULL));
	ASSERT_LE(0, self->src);
	/* The data, the page array and the zero page. */
	self->obj_pages = NPAGES + 1 +
			  (NPAGES * sizeof(void *) + self->ps - 1) / self->ps;
}

FIXTURE_TEARDOWN(cache)
{
	if (self->cache_mb[0]) {
		EXPECT_EQ(0, thaw_param_write("cache_mb", self->cache_mb));
		EXPECT_EQ(0, thaw_param_write("cache_owner_mb",
					      self->owner_mb));
		EXPECT_EQ(0, thaw_param_write("max_pinned_mb",
					      self->pinned_mb));
	}
	if (self->src >= 0)
		close(self->src);
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		close(self->dev);
	}
}

/* A named object of the source, closed at once: cached if it fits. */
static int cache_one(FIXTURE_DATA(cache) *self, const char *name)
{
	int fd = thaw_snap_create(self->dev, self->src, 0, self->len, name);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Is the object @name there (live or cached)?  Revives it for a moment. */
static int present(FIXTURE_DATA(cache) *self, const char *name)
{
	int fd = thaw_snap_open(self->dev, name);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/*
 * Is @uid's object @name there?  Names are per owner: root finds another
 * user's object only by naming the owner (THAW_SNAP_OPEN_OWNER).
 */
static int present_of(FIXTURE_DATA(cache) *self, const char *name,
		      uid_t uid)
{
	struct thaw_snap_open o = { .flags = THAW_SNAP_OPEN_OWNER,
				    .owner_uid = uid };
	int fd;

	strncpy((char *)o.name, name, sizeof(o.name) - 1);
	fd = ioctl(self->dev, THAW_IOC_SNAP_OPEN, &o);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

TEST_F(cache, named_kept_anonymous_not)
{
	struct thaw_stats st;
	struct thaw_snap_stats ss;
	__u64 id, evictions;
	int fd;
	char *m;

	evictions = thaw_stats(self->dev).evictions;
	fd = thaw_snap_create(self->dev, self->src, 0, self->len, "c-named");
	ASSERT_LE(0, fd);
	id = thaw_snap_stats(fd).id;
	m = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	close(fd);
	EXPECT_EQ(0, thaw_stats(self->dev).cached_objects);	/* a clone */
	munmap(m, self->len);

	st = thaw_stats(self->dev);
	EXPECT_EQ(0, st.snapshots);
	EXPECT_EQ(1, st.cached_objects);
	EXPECT_EQ(self->obj_pages, st.cached_pages);
	EXPECT_EQ(self->obj_pages, st.pinned_pages);
	EXPECT_EQ((64ULL << 20) / self->ps, st.cache_limit);
	EXPECT_EQ(evictions, st.evictions);

	/* An anonymous object is not kept. */
	ASSERT_EQ(0, cache_one(self, NULL));
	EXPECT_EQ(1, thaw_stats(self->dev).cached_objects);

	/* Revived: the same object, its content, out of the cache. */
	fd = thaw_snap_open(self->dev, "c-named");
	ASSERT_LE(0, fd);
	ss = thaw_snap_stats(fd);
	EXPECT_EQ(id, ss.id);
	EXPECT_EQ(0, ss.state & THAW_SNAP_STATE_CACHED);
	st = thaw_stats(self->dev);
	EXPECT_EQ(1, st.snapshots);
	EXPECT_EQ(0, st.cached_objects);
	EXPECT_EQ(self->obj_pages, st.pinned_pages);
	m = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_TRUE(thaw_page_matches(m + 700 * self->ps, 700, SEED));
	munmap(m, self->len);
	/* Its name stays taken while cached. */
	close(fd);
	EXPECT_EQ(-EEXIST, thaw_snap_create(self->dev, self->src, 0,
					    self->len, "c-named"));
	EXPECT_EQ(1, thaw_cache_drop(self->dev));
	EXPECT_EQ(0, thaw_stats(self->dev).pinned_pages);
	EXPECT_EQ(0, present(self, "c-named"));
}

/* Past cache_mb, the least recently used goes first. */
TEST_F(cache, least_recently_used_out_first)
{
	struct thaw_stats st;
	__u64 evictions;
	int fd;

	/* Room for two objects, not three. */
	ASSERT_EQ(0, thaw_param_write("cache_mb", "9"));
	evictions = thaw_stats(self->dev).evictions;
	ASSERT_EQ(0, cache_one(self, "c-a"));
	ASSERT_EQ(0, cache_one(self, "c-b"));
	EXPECT_EQ(2, thaw_stats(self->dev).cached_objects);
	/* Used again: "c-a" is now the most recent. */
	fd = thaw_snap_open(self->dev, "c-a");
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, cache_one(self, "c-c"));
	st = thaw_stats(self->dev);
	EXPECT_EQ(2, st.cached_objects);
	EXPECT_EQ(evictions + 1, st.evictions);
	EXPECT_EQ(2 * self->obj_pages, st.pinned_pages);
	EXPECT_EQ(0, present(self, "c-b"));
	EXPECT_EQ(1, present(self, "c-a"));
	EXPECT_EQ(1, present(self, "c-c"));

	/* Larger than the cache: not kept at all. */
	ASSERT_EQ(0, thaw_param_write("cache_mb", "3"));
	st = thaw_stats(self->dev);
	EXPECT_EQ(0, st.cached_objects);
	EXPECT_EQ(evictions + 3, st.evictions);
	ASSERT_EQ(0, cache_one(self, "c-d"));
	EXPECT_EQ(0, thaw_stats(self->dev).cached_objects);
	EXPECT_EQ(0, thaw_stats(self->dev).pinned_pages);

	/* Off. */
	ASSERT_EQ(0, thaw_param_write("cache_mb", "0"));
	ASSERT_EQ(0, cache_one(self, "c-e"));
	EXPECT_EQ(0, thaw_stats(self->dev).cached_objects);
}

/* Lowering cache_mb evicts the oldest until the rest fits. */
TEST_F(cache, lowering_the_limit_evicts)
{
	ASSERT_EQ(0, cache_one(self, "c-old"));
	ASSERT_EQ(0, cache_one(self, "c-new"));
	ASSERT_EQ(0, thaw_param_write("cache_mb", "5"));
	EXPECT_EQ(1, thaw_stats(self->dev).cached_objects);
	EXPECT_EQ(0, present(self, "c-old"));
	EXPECT_EQ(1, present(self, "c-new"));
}

/*
 * One owner past cache_owner_mb pushes out its own objects, not another
 * owner's.  The child creates its objects as another user (nobody), on a
 * /dev/thaw it opened as root.
 */
TEST_F(cache, per_owner_limit)
{
	int status, fd;
	pid_t pid;

	ASSERT_EQ(0, thaw_param_write("cache_owner_mb", "5"));
	ASSERT_EQ(0, cache_one(self, "c-root"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
		int src;

		/* cache_owner_mb, not RLIMIT_MEMLOCK, pushes out. */
		if (setrlimit(RLIMIT_MEMLOCK, &rl) ||
		    setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		src = thaw_memfd(NPAGES, SEED, NULL);
		if (src < 0)
			_exit(11);
		for (int i = 0; i < 2; i++) {
			fd = thaw_snap_create(self->dev, src, 0, self->len,
					      i ? "c-user2" : "c-user1");
			if (fd < 0)
				_exit(12 + i);
			close(fd);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(2, thaw_stats(self->dev).cached_objects);
	EXPECT_EQ(1, present(self, "c-root"));
	EXPECT_EQ(0, present_of(self, "c-user1", 65534));
	EXPECT_EQ(1, present_of(self, "c-user2", 65534));
	/* The root's own second object pushes out the root's first. */
	ASSERT_EQ(0, cache_one(self, "c-root2"));
	EXPECT_EQ(0, present(self, "c-root"));
	EXPECT_EQ(1, present_of(self, "c-user2", 65534));
}

/* A creation that would pass max_pinned_mb evicts cached objects first. */
TEST_F(cache, pinned_cap_evicts_cached)
{
	char mb[16];
	int fd;

	ASSERT_EQ(0, thaw_stats(self->dev).pinned_pages);
	ASSERT_EQ(0, cache_one(self, "c-1"));
	ASSERT_EQ(0, cache_one(self, "c-2"));
	snprintf(mb, sizeof(mb), "%d", 10);
	ASSERT_EQ(0, thaw_param_write("max_pinned_mb", mb));
	fd = thaw_snap_create(self->dev, self->src, 0, self->len, "c-3");
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, thaw_stats(self->dev).cached_objects);
	EXPECT_EQ(0, present(self, "c-1"));
	EXPECT_EQ(1, present(self, "c-2"));
	/* Live objects are never evicted: past the cap it is refused. */
	ASSERT_EQ(0, thaw_param_write("max_pinned_mb", "4"));
	EXPECT_EQ(-EDQUOT, thaw_snap_create(self->dev, self->src, 0,
					    self->len, NULL));
	EXPECT_EQ(0, thaw_stats(self->dev).cached_objects);
	EXPECT_EQ(self->obj_pages, thaw_stats(self->dev).pinned_pages);
	close(fd);
}

/* THAW_IOC_CACHE_DROP: how many and what they held; bad input refused. */
TEST_F(cache, drop)
{
	struct thaw_cache_drop d = { 0 };

	ASSERT_EQ(0, cache_one(self, "c-x"));
	ASSERT_EQ(0, cache_one(self, "c-y"));
	ASSERT_EQ(0, __thaw_ioctl(self->dev, THAW_IOC_CACHE_DROP, &d));
	EXPECT_EQ(2, d.objects);
	EXPECT_EQ(2 * self->obj_pages, d.pages);
	EXPECT_EQ(0, thaw_stats(self->dev).pinned_pages);
	/* Every owner's: root may. */
	ASSERT_EQ(0, cache_one(self, "c-z"));
	d = (struct thaw_cache_drop){ .flags = THAW_CACHE_DROP_ALL };
	ASSERT_EQ(0, __thaw_ioctl(self->dev, THAW_IOC_CACHE_DROP, &d));
	EXPECT_EQ(1, d.objects);
	d = (struct thaw_cache_drop){ .flags = 2 };
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_CACHE_DROP, &d));
	d.flags = 0;
	d.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->dev, THAW_IOC_CACHE_DROP, &d));
}

/* A lazy object cached before it is filled: it fills there, revived. */
TEST_F_TIMEOUT(cache, lazy_object_cached_while_filling, 120)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct thaw_snap_stats st;
	__u64 features = 0;
	char bg[16];
	int fd, dev, i;
	char *m;

	dev = thaw_open_api(&features);
	ASSERT_LE(0, dev);
	close(dev);
	if (!(features & THAW_FEATURE_LAZY))
		SKIP(return, "no THAW_FEATURE_LAZY");
	ASSERT_EQ(0, thaw_param_read("fill_background", bg, sizeof(bg)));
	ASSERT_EQ(0, thaw_param_write("fill_background", "1"));
	fd = thaw_snap_create_flags(self->dev, self->src, 0, self->len,
				    "c-lazy", THAW_SNAP_CREATE_LAZY);
	ASSERT_LE(0, fd);
	close(fd);
	for (i = 0; i < 6000; i++) {
		fd = thaw_snap_open(self->dev, "c-lazy");
		ASSERT_LE(0, fd);
		st = thaw_snap_stats(fd);
		close(fd);
		if (!(st.state & THAW_SNAP_STATE_FILLING))
			break;
		nanosleep(&ts, NULL);
	}
	EXPECT_EQ(THAW_SNAP_STATE_LAZY, st.state);
	EXPECT_EQ(st.regions, st.filled_regions);
	EXPECT_EQ(1, thaw_stats(self->dev).cached_objects);
	fd = thaw_snap_open(self->dev, "c-lazy");
	ASSERT_LE(0, fd);
	m = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_TRUE(thaw_page_matches(m + 1000 * self->ps, 1000, SEED));
	munmap(m, self->len);
	close(fd);
	EXPECT_EQ(0, thaw_param_write("fill_background", bg));
}

TEST_HARNESS_MAIN
