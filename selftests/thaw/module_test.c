// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifetime: thaw.ko cannot be unloaded while a snapshot object lives,
 * whether an fd or only a clone mapping holds it, and unloads once all are
 * gone, cached objects included (a lazy one in the middle of its fill
 * too): they are freed, and let go of their files.  The module is inserted
 * again at the end of each test so that later tests run.
 */
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "thaw_test.h"

static int delete_module(void)
{
	return syscall(__NR_delete_module, "thaw", O_NONBLOCK) ? -errno : 0;
}

static int module_loaded(void)
{
	return access("/sys/module/thaw", F_OK) == 0;
}

/* kmod/thaw.ko of the tree this test was built in (build/selftests/thaw). */
static int find_ko(char *path, size_t len)
{
	char exe[PATH_MAX], *dir;
	ssize_t n;

	if (getenv("THAW_KO")) {
		snprintf(path, len, "%s", getenv("THAW_KO"));
		return access(path, R_OK);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -1;
	exe[n] = 0;
	dir = dirname(exe);
	for (int up = 0; up < 5 && strcmp(dir, "/"); up++) {
		snprintf(path, len, "%s/kmod/thaw.ko", dir);
		if (!access(path, R_OK))
			return 0;
		dir = dirname(dir);
	}
	return -1;
}

static int insert_module(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

TEST(unload_only_when_nothing_lives)
{
	char ko[PATH_MAX];
	int dev, src, snap;
	long ps = thaw_page_size();
	char *mem;

	if (!module_loaded())
		SKIP(return, "thaw.ko not loaded");
	if (find_ko(ko, sizeof(ko)))
		SKIP(return, "kmod/thaw.ko not found (set THAW_KO)");
	dev = thaw_open_api(NULL);
	ASSERT_LE(0, dev);
	src = thaw_memfd(4, 1, NULL);
	ASSERT_LE(0, src);
	snap = thaw_snap_create(dev, src, 0, 4 * ps, NULL);
	ASSERT_LE(0, snap);
	mem = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = 1;
	close(dev);
	close(src);

	/* An fd and a clone. */
	EXPECT_EQ(-EWOULDBLOCK, delete_module());
	/* Only the clone (its vm_file). */
	close(snap);
	EXPECT_EQ(-EWOULDBLOCK, delete_module());
	EXPECT_TRUE(module_loaded());
	EXPECT_TRUE(thaw_page_matches(mem + ps, 1, 1));
	/* Nothing. */
	munmap(mem, 4 * ps);
	EXPECT_EQ(0, delete_module());
	EXPECT_FALSE(module_loaded());
	EXPECT_NE(0, access(THAW_DEV, F_OK));

	ASSERT_EQ(0, insert_module(ko)) TH_LOG("insmod %s", ko);
	dev = thaw_open_api(NULL);
	ASSERT_LE(0, dev);
	EXPECT_EQ(0, thaw_stats(dev).snapshots);
	close(dev);
}

/* Unloaded with objects in its cache, one of them still filling. */
TEST(unload_with_cached_objects)
{
	__u64 features = 0;
	char ko[PATH_MAX], path[64];
	long ps = thaw_page_size();
	int dev, src, snap, w;
	struct thaw_stats st;
	size_t len = 16 << 20;	/* 8 regions: some left to fill */

	if (!module_loaded())
		SKIP(return, "thaw.ko not loaded");
	if (find_ko(ko, sizeof(ko)))
		SKIP(return, "kmod/thaw.ko not found (set THAW_KO)");
	dev = thaw_open_api(&features);
	ASSERT_LE(0, dev);
	if (!(features & THAW_FEATURE_CACHE) || !(features & THAW_FEATURE_LAZY)) {
		close(dev);
		SKIP(return, "no THAW_FEATURE_CACHE or THAW_FEATURE_LAZY");
	}
	src = thaw_reopen_ro(thaw_memfd(len / ps, 3, NULL));
	ASSERT_LE(0, src);
	snap = thaw_snap_create(dev, src, 0, 4 * ps, "m-eager");
	ASSERT_LE(0, snap);
	close(snap);
	snap = thaw_snap_create_flags(dev, src, 0, len, "m-lazy",
				      THAW_SNAP_CREATE_LAZY);
	ASSERT_LE(0, snap);
	close(snap);
	st = thaw_stats(dev);
	close(dev);
	if (!st.cache_limit)
		SKIP(return, "cache_mb is 0");
	EXPECT_EQ(2, st.cached_objects);
	EXPECT_EQ(0, st.snapshots);
	EXPECT_LT(0, st.pinned_pages);

	/* Nothing refers to them: the module goes, and they with it. */
	EXPECT_EQ(0, delete_module());
	EXPECT_FALSE(module_loaded());
	snprintf(path, sizeof(path), "/proc/self/fd/%d", src);
	w = open(path, O_WRONLY | O_CLOEXEC);
	EXPECT_LE(0, w) TH_LOG("the lazy object kept its file: %s",
			       strerror(errno));
	if (w >= 0)
		close(w);
	close(src);

	ASSERT_EQ(0, insert_module(ko)) TH_LOG("insmod %s", ko);
	dev = thaw_open_api(NULL);
	ASSERT_LE(0, dev);
	st = thaw_stats(dev);
	EXPECT_EQ(0, st.snapshots);
	EXPECT_EQ(0, st.cached_objects);
	EXPECT_EQ(0, st.pinned_pages);
	close(dev);
}

TEST_HARNESS_MAIN
