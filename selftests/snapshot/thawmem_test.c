// SPDX-License-Identifier: GPL-2.0
/*
 * The Thaw memory backend (vmm/mem/thaw.c) against the real thaw.ko:
 * clones of one memory file share one object and see the file; writes
 * stay private; a recorded working set comes back in touch order and a
 * later clone premaps it (no fault on those pages); every bad input is
 * refused with a message and leaves the module's counts where they were;
 * a process killed while recording leaves nothing; the object, made
 * lazily, holds the file while it fills, stays in the module's cache after
 * the last clone, and a file rewritten after it let go gets a new object,
 * never the old content.  Skips without /dev/thaw (run it in
 * tools/vmtest).
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/thaw.h>

#include "kselftest_harness.h"
#include "lib/wset.h"
#include "selftests/lib/setup_skip.h"
#include "snap_test.h"
#include "vmm/mem/mem.h"

#define PAGES		1024ul		/* 4 MiB */
#define SIZE		(PAGES * ST_PAGE)

/* The module-wide counts, through a handshake of our own. */
static int module_stats(struct thaw_stats *st)
{
	struct thaw_api api = { .api = THAW_API_VERSION };
	int fd = open("/dev/thaw", O_RDWR | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	memset(st, 0, sizeof(*st));
	if (ioctl(fd, THAW_IOC_API, &api) || ioctl(fd, THAW_IOC_STATS, st))
		ret = -errno;
	close(fd);
	return ret;
}

/* Free the module's cached objects (nothing on a module without). */
static int drop_cache(void)
{
	struct thaw_api api = { .api = THAW_API_VERSION };
	struct thaw_cache_drop d = { 0 };
	int fd = open("/dev/thaw", O_RDWR | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, THAW_IOC_API, &api) ||
	    (!(api.features & THAW_FEATURE_CACHE) ? 0 :
	     ioctl(fd, THAW_IOC_CACHE_DROP, &d)))
		ret = -errno;
	close(fd);
	return ret;
}

/* /sys/module/thaw/parameters/@name: its old value in @old (if given). */
static int module_param(const char *name, const char *val, char *old,
			size_t oldlen)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/thaw/parameters/%s", name);
	if (old) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = read(fd, old, oldlen - 1);
		close(fd);
		if (n < 0)
			return -errno;
		old[n] = 0;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int snap_stats(struct guest_mem *mem, struct thaw_snap_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(mem->fd, THAW_IOC_SNAP_STATS, st) ? -errno : 0;
}

static bool ram_is_file(const struct guest_mem *mem)
{
	for (uint64_t i = 0; i < PAGES; i++)
		if (!st_check(mem->base + i * ST_PAGE, i))
			return false;
	return true;
}

FIXTURE(thawmem) {
	char dir[64], mem[128], wset[128], other[128];
	struct thaw_stats before;
	struct guest_mem_thaw_opts o;
	char err[512];
};

FIXTURE_SETUP(thawmem)
{
	self->dir[0] = 0;
	if (access("/dev/thaw", F_OK))
		SETUP_SKIP("/dev/thaw missing: run in tools/vmtest");
	/* Objects this test makes end in the module's cache: start empty. */
	ASSERT_EQ(0, drop_cache());
	ASSERT_EQ(0, module_stats(&self->before));
	strcpy(self->dir, "/tmp/thaw-thawmem.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->mem, sizeof(self->mem), "%s/memory", self->dir);
	snprintf(self->wset, sizeof(self->wset), "%s/wset", self->dir);
	snprintf(self->other, sizeof(self->other), "%s/other", self->dir);
	ASSERT_EQ(0, st_make_memfile(self->mem, PAGES));
	memset(&self->o, 0, sizeof(self->o));
	self->o.mem_path = self->mem;
	self->err[0] = 0;
}

FIXTURE_TEARDOWN(thawmem)
{
	struct thaw_stats after;

	if (!self->dir[0])
		return;
	/* Nothing this test made outlives it in the module, but cached. */
	EXPECT_EQ(0, drop_cache());
	EXPECT_EQ(0, module_stats(&after));
	EXPECT_EQ(self->before.snapshots, after.snapshots);
	EXPECT_EQ(self->before.clones, after.clones);
	EXPECT_EQ(self->before.pinned_pages, after.pinned_pages);
	unlink(self->mem);
	unlink(self->wset);
	unlink(self->other);
	rmdir(self->dir);
}

TEST_F_TIMEOUT(thawmem, clones_share_one_object, 120)
{
	struct guest_mem_thaw_info ia, ib;
	struct guest_mem *a, *b;
	struct thaw_snap_stats ss;
	struct guest_mem_stats gs;

	/* Counted in 4 KiB pages; huge_object_from_the_file does 2 MiB. */
	self->o.no_huge = true;
	ASSERT_EQ(0, guest_mem__new_thaw(&a, SIZE, &self->o, &ia, self->err,
					 sizeof(self->err)))
		TH_LOG("%s", self->err);
	ASSERT_EQ(0, guest_mem__new_thaw(&b, SIZE, &self->o, &ib, self->err,
					 sizeof(self->err)))
		TH_LOG("%s", self->err);
	EXPECT_TRUE(ia.obj.created);
	EXPECT_FALSE(ib.obj.created);
	EXPECT_STREQ(ia.obj.name, ib.obj.name);
	EXPECT_EQ(ia.obj.object_id, ib.obj.object_id);
	EXPECT_STREQ("Thaw", a->ops->name);
	EXPECT_EQ(1, a->nr_regions);
	EXPECT_EQ(a->base, a->regions[0].hva);

	EXPECT_TRUE(ram_is_file(a));
	EXPECT_TRUE(ram_is_file(b));
	ASSERT_EQ(0, snap_stats(a, &ss));
	EXPECT_EQ(2, ss.clones);
	EXPECT_EQ(PAGES, ss.pages);
	EXPECT_EQ(PAGES / 4, ss.zero_pages);
	EXPECT_EQ(PAGES - PAGES / 4, ss.data_pages);

	/* A write is A's alone; B and the file keep the snapshot's bytes. */
	memset(a->base + 5 * ST_PAGE, 0xab, ST_PAGE);
	memset(a->base + 7 * ST_PAGE, 0xcd, 16);	/* a hole page */
	EXPECT_TRUE(st_check(b->base + 5 * ST_PAGE, 5));
	EXPECT_TRUE(st_check(b->base + 7 * ST_PAGE, 7));
	EXPECT_EQ(0xab, a->base[5 * ST_PAGE + 100]);
	ASSERT_EQ(0, guest_mem__stats(a, &gs));
	EXPECT_EQ(2, gs.private_pages);
	ASSERT_EQ(0, guest_mem__stats(b, &gs));
	EXPECT_EQ(0, gs.private_pages);

	/* Nothing recorded: no working set to write. */
	EXPECT_EQ(-EINVAL, guest_mem__wset_write(a, self->wset, self->err,
						 sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "record_wset"));
	guest_mem__free(a);
	ASSERT_EQ(0, snap_stats(b, &ss));
	EXPECT_EQ(1, ss.clones);
	EXPECT_TRUE(ram_is_file(b));
	guest_mem__free(b);
}

static const uint64_t touches[] = { 7, 3, 100, 2, 50, 51, 1000 };

TEST_F_TIMEOUT(thawmem, wset_recorded_then_premapped, 120)
{
	struct guest_mem_thaw_info info;
	struct guest_mem_stats gs;
	struct guest_mem *a, *b;
	volatile uint8_t sink;
	struct wset *ws;
	size_t i;

	/* 4 KiB pages, so that each touch is one premapped page. */
	self->o.no_huge = true;
	self->o.record = true;
	ASSERT_EQ(0, guest_mem__new_thaw(&a, SIZE, &self->o, &info,
					 self->err, sizeof(self->err)))
		TH_LOG("%s", self->err);
	EXPECT_EQ(0, info.premapped);
	for (i = 0; i < ARRAY_SIZE(touches); i++) {
		if (i % 2)
			a->base[touches[i] * ST_PAGE + 9] = 1;
		else
			sink = a->base[touches[i] * ST_PAGE + 9];
	}
	ASSERT_EQ(0, guest_mem__stats(a, &gs));
	EXPECT_EQ(ARRAY_SIZE(touches), gs.recorded);
	ASSERT_EQ(0, guest_mem__wset_write(a, self->wset, self->err,
					   sizeof(self->err)))
		TH_LOG("%s", self->err);
	/* Once: the recording is over. */
	EXPECT_EQ(-EINVAL, guest_mem__wset_write(a, self->wset, self->err,
						 sizeof(self->err)));
	guest_mem__free(a);

	ASSERT_EQ(0, wset__read(self->wset, SIZE, &ws, self->err,
				sizeof(self->err)))
		TH_LOG("%s", self->err);
	ASSERT_EQ(ARRAY_SIZE(touches), wset__count(ws));
	for (i = 0; i < ARRAY_SIZE(touches); i++)
		EXPECT_EQ(touches[i] * ST_PAGE, wset__offset(ws, i));
	wset__free(ws);

	/* A new clone maps them all before it runs: no fault on them. */
	self->o.record = false;
	self->o.wset_path = self->wset;
	ASSERT_EQ(0, guest_mem__new_thaw(&b, SIZE, &self->o, &info,
					 self->err, sizeof(self->err)))
		TH_LOG("%s", self->err);
	EXPECT_EQ(ARRAY_SIZE(touches), info.obj.wset_pages);
	EXPECT_EQ(ARRAY_SIZE(touches), info.premapped);
	for (i = 0; i < ARRAY_SIZE(touches); i++) {
		sink = b->base[touches[i] * ST_PAGE + 9];
		EXPECT_TRUE(st_check(b->base + touches[i] * ST_PAGE,
				     touches[i]));
	}
	ASSERT_EQ(0, guest_mem__stats(b, &gs));
	EXPECT_EQ(0, gs.faults);
	EXPECT_EQ(ARRAY_SIZE(touches), gs.premapped);
	sink = b->base[500 * ST_PAGE];
	ASSERT_EQ(0, guest_mem__stats(b, &gs));
	EXPECT_EQ(1, gs.faults);
	(void)sink;
	guest_mem__free(b);
}

/*
 * Where thaw.ko offers 2 MiB objects the backend makes one: its dense
 * regions are 2 MiB pages, RAM is 2 MiB-aligned, a read maps a whole
 * region, and the clone still reads the file and keeps its writes.
 */
TEST_F_TIMEOUT(thawmem, huge_object_from_the_file, 120)
{
	struct guest_mem_thaw_info info;
	struct thaw_snap_stats ss;
	struct thaw_clone_stats cs;
	struct guest_mem *a, *b;
	volatile uint8_t sink;

	ASSERT_EQ(0, guest_mem__new_thaw(&a, SIZE, &self->o, &info,
					 self->err, sizeof(self->err)))
		TH_LOG("%s", self->err);
	/* Read whole first: a lazy object knows its regions once filled. */
	EXPECT_TRUE(ram_is_file(a));
	ASSERT_EQ(0, snap_stats(a, &ss));
	if (!ss.huge_regions)
		SKIP(guest_mem__free(a); return,
		     "thaw.ko stores no 2 MiB regions (THAW_FEATURE_HUGE)");
	EXPECT_EQ(0, (uintptr_t)a->base % (2u << 20));
	EXPECT_EQ(PAGES / 512, ss.huge_regions + ss.small_regions + ss.zero_regions);

	ASSERT_EQ(0, guest_mem__new_thaw(&b, SIZE, &self->o, &info,
					 self->err, sizeof(self->err)))
		TH_LOG("%s", self->err);
	sink = b->base[3 * ST_PAGE];
	memset(&cs, 0, sizeof(cs));
	cs.addr = (uintptr_t)b->base;
	ASSERT_EQ(0, ioctl(b->fd, THAW_IOC_CLONE_STATS, &cs));
	EXPECT_EQ(1, cs.pmd_regions);
	memset(b->base + 9 * ST_PAGE, 0x5a, 64);
	EXPECT_TRUE(st_check(a->base + 9 * ST_PAGE, 9));
	EXPECT_EQ(0x5a, b->base[9 * ST_PAGE + 1]);
	(void)sink;
	guest_mem__free(b);
	EXPECT_TRUE(ram_is_file(a));
	guest_mem__free(a);
}

/* A working set of 2 MiB pages becomes 512 module pages each. */
TEST_F_TIMEOUT(thawmem, wset_of_huge_pages, 120)
{
	struct guest_mem_thaw_info info;
	struct guest_mem *a;
	struct wset *ws;

	ASSERT_EQ(0, wset__new(SIZE, 2u << 20, &ws));
	ASSERT_EQ(1, wset__add(ws, 2u << 20));
	ASSERT_EQ(0, wset__write(ws, self->wset, self->err,
				 sizeof(self->err)));
	wset__free(ws);
	self->o.wset_path = self->wset;
	ASSERT_EQ(0, guest_mem__new_thaw(&a, SIZE, &self->o, &info,
					 self->err, sizeof(self->err)))
		TH_LOG("%s", self->err);
	EXPECT_EQ(512, info.obj.wset_pages);
	EXPECT_EQ(512, info.premapped);
	guest_mem__free(a);
}

static void expect_refused(struct __test_metadata *_metadata,
			   struct guest_mem_thaw_opts *o, uint64_t size,
			   int want, const char *msg)
{
	struct guest_mem *m = NULL;
	char err[512] = "";

	EXPECT_EQ(want, guest_mem__new_thaw(&m, size, o, NULL, err,
					    sizeof(err)))
		TH_LOG("got: %s", err);
	EXPECT_EQ(NULL, m);
	EXPECT_NE(NULL, strstr(err, msg)) TH_LOG("message: %s", err);
}

TEST_F_TIMEOUT(thawmem, bad_input_refused, 120)
{
	struct guest_mem_thaw_opts o = self->o;
	struct wset *ws;

	o.dev_path = "/nonexistent/thaw";
	expect_refused(_metadata, &o, SIZE, -ENOENT, "thaw.ko is not loaded");
	o.dev_path = "/dev/null";
	expect_refused(_metadata, &o, SIZE, -ENOTTY, "not thaw.ko's device");
	o.dev_path = NULL;

	/* The memory file: wrong size, missing, a directory. */
	expect_refused(_metadata, &o, SIZE * 2, -EINVAL, self->mem);
	o.mem_path = self->other;
	expect_refused(_metadata, &o, SIZE, -ENOENT, self->other);
	o.mem_path = self->dir;
	expect_refused(_metadata, &o, SIZE, -EINVAL, self->dir);
	o.mem_path = NULL;
	expect_refused(_metadata, &o, SIZE, -EINVAL, "memory file");
	o.mem_path = self->mem;

	/* The working set: missing, of another memory size, garbage. */
	o.wset_path = self->wset;
	expect_refused(_metadata, &o, SIZE, -ENOENT, self->wset);
	ASSERT_EQ(0, wset__new(SIZE * 2, ST_PAGE, &ws));
	ASSERT_EQ(1, wset__add(ws, SIZE));
	ASSERT_EQ(0, wset__write(ws, self->wset, self->err,
				 sizeof(self->err)));
	wset__free(ws);
	expect_refused(_metadata, &o, SIZE, -EINVAL, self->wset);
	ASSERT_EQ(0, st_make_memfile(self->wset, 1));
	expect_refused(_metadata, &o, SIZE, -EBADMSG, self->wset);
	o.wset_path = NULL;

	/* RAM the machine cannot lay out. */
	expect_refused(_metadata, &o, 0, -EINVAL, "guest RAM");
	expect_refused(_metadata, &o, SIZE + 1, -EINVAL, "guest RAM");
}

/* An object under the file's name but of another size is not used. */
TEST_F_TIMEOUT(thawmem, foreign_object_refused, 120)
{
	struct thaw_api api = { .api = THAW_API_VERSION };
	struct thaw_snap_create c = { 0 };
	char name[THAW_NAME_MAX];
	int dev, memfd, other, snap;

	memfd = open(self->mem, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, thaw_object__name(memfd, name));
	close(memfd);
	ASSERT_EQ(0, st_make_memfile(self->other, PAGES / 2));
	other = open(self->other, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, other);
	dev = open("/dev/thaw", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ioctl(dev, THAW_IOC_API, &api));
	c.fd = other;
	c.length = SIZE / 2;
	memcpy(c.name, name, strlen(name) + 1);
	snap = ioctl(dev, THAW_IOC_SNAP_CREATE, &c);
	ASSERT_LE(0, snap);
	expect_refused(_metadata, &self->o, SIZE, -EINVAL, "pages");
	close(snap);
	close(other);
	close(dev);
}

/* The name follows the file: another file, or the file rewritten. */
TEST_F_TIMEOUT(thawmem, object_name_follows_the_file, 60)
{
	char n1[THAW_NAME_MAX], n2[THAW_NAME_MAX], n3[THAW_NAME_MAX];
	int fd;

	fd = open(self->mem, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, thaw_object__name(fd, n1));
	ASSERT_EQ(0, thaw_object__name(fd, n2));
	EXPECT_STREQ(n1, n2);
	EXPECT_GT(THAW_NAME_MAX, strlen(n1));
	for (const char *p = n1; *p; p++)
		EXPECT_TRUE(*p > ' ' && *p <= '~');
	close(fd);
	usleep(20 * 1000);
	ASSERT_EQ(0, st_make_memfile(self->mem, PAGES));
	fd = open(self->mem, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, thaw_object__name(fd, n3));
	close(fd);
	EXPECT_STRNE(n1, n3);
	EXPECT_EQ(-EBADF, thaw_object__name(-1, n3));
}

/*
 * Never stale.  The object is made lazily: while it fills, the memory file
 * cannot be written (ETXTBSY); filled, it lets go, and after the last
 * clone it stays in the module's cache, where the next restore finds it.
 * The file rewritten then, its name changes: the next restore makes a new
 * object and reads the new content, never the cached one.
 */
TEST_F_TIMEOUT(thawmem, rewritten_file_gets_a_new_object, 120)
{
	struct guest_mem_thaw_info ia, ib, ic;
	struct guest_mem *a, *b, *c;
	uint8_t page[ST_PAGE];
	char bg[16] = "";
	uint64_t i;
	int w;

	/* Only faults fill it, so that the test sees it filling. */
	ASSERT_EQ(0, module_param("fill_background", "0", bg, sizeof(bg)));
	ASSERT_EQ(0, guest_mem__new_thaw(&a, SIZE, &self->o, &ia, self->err,
					 sizeof(self->err)))
		TH_LOG("%s", self->err);
	EXPECT_TRUE(ia.obj.created);
	if (ia.obj.lazy) {
		w = open(self->mem, O_WRONLY | O_CLOEXEC);
		EXPECT_EQ(-1, w);
		EXPECT_EQ(ETXTBSY, errno);
		if (w >= 0)
			close(w);
	}
	EXPECT_TRUE(ram_is_file(a));
	guest_mem__free(a);

	/* After every clone is gone: the same object, from the cache. */
	ASSERT_EQ(0, guest_mem__new_thaw(&b, SIZE, &self->o, &ib, self->err,
					 sizeof(self->err)))
		TH_LOG("%s", self->err);
	EXPECT_FALSE(ib.obj.created);
	EXPECT_STREQ(ia.obj.name, ib.obj.name);
	EXPECT_EQ(ia.obj.object_id, ib.obj.object_id);
	EXPECT_TRUE(ram_is_file(b));
	guest_mem__free(b);

	/* Rewritten in place: every data page of the file changes. */
	w = open(self->mem, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, w) TH_LOG("the object kept the file: %s",
			       strerror(errno));
	memset(page, 0x77, sizeof(page));
	for (i = 0; i < PAGES; i++)
		if (!st_is_hole(i))
			ASSERT_EQ((ssize_t)ST_PAGE,
				  pwrite(w, page, ST_PAGE, i * ST_PAGE));
	close(w);
	ASSERT_EQ(0, guest_mem__new_thaw(&c, SIZE, &self->o, &ic, self->err,
					 sizeof(self->err)))
		TH_LOG("%s", self->err);
	EXPECT_TRUE(ic.obj.created);
	EXPECT_STRNE(ia.obj.name, ic.obj.name);
	EXPECT_NE(ia.obj.object_id, ic.obj.object_id);
	for (i = 0; i < PAGES; i++)
		if (!st_is_hole(i))
			EXPECT_EQ(0, memcmp(c->base + i * ST_PAGE, page,
					    ST_PAGE)) TH_LOG("page %llu",
							     (unsigned long long)i);
	guest_mem__free(c);
	EXPECT_EQ(0, module_param("fill_background", bg, NULL, 0));
}

/* A VMM killed while its clone records leaves nothing in the module. */
TEST_F_TIMEOUT(thawmem, killed_while_recording, 120)
{
	int pfd[2], status;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct guest_mem *m;

		self->o.record = true;
		if (guest_mem__new_thaw(&m, SIZE, &self->o, NULL, self->err,
					sizeof(self->err)))
			_exit(1);
		m->base[3 * ST_PAGE] = 1;
		if (write(pfd[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	/* The teardown checks the module's counts. */
}

TEST_HARNESS_MAIN
