// SPDX-License-Identifier: GPL-2.0
/*
 * Working sets: recorded in first-touch order by the module, stored in the
 * object, exported and imported, and premapped into a new clone so that
 * touching it takes no fault (by the module's own counters).  The
 * recording notes which pages were written, and the bit travels with each
 * entry through THAW_WSET_IO_WRITTEN.
 */
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define NPAGES	128

static int holes(unsigned long i)
{
	return i % 16 == 15;
}

/* The order a "function" touches pages in: scattered, some writes. */
static const unsigned int touch[] = {
	77, 3, 120, 4, 5, 6, 64, 15, 31, 100, 2, 99, 98, 97, 0, 127, 50,
};

THAW_SNAP_FIXTURE(wset, NPAGES, 4, holes)

static char *map_clone(FIXTURE_DATA(wset) *self)
{
	return mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		    self->snap, 0);
}

/* Touch the pages in @touch order: every third one is written. */
static void run_function(char *mem, long ps)
{
	volatile char sink = 0;

	for (size_t i = 0; i < sizeof(touch) / sizeof(touch[0]); i++) {
		if (i % 3 == 1)
			mem[touch[i] * ps + 8] = 1;
		else
			sink += mem[touch[i] * ps + 8];
		/* A second touch is not a first touch. */
		sink += mem[touch[0] * ps];
	}
	(void)sink;
}

static long wset_get(int snap, __u32 *pages, __u32 cap)
{
	struct thaw_wset_io io = { .pages = (uintptr_t)pages, .count = cap };

	if (ioctl(snap, THAW_IOC_WSET_GET, &io) < 0)
		return -errno;
	return io.count;
}

static int wset_set(int snap, const __u32 *pages, __u32 n)
{
	struct thaw_wset_io io = { .pages = (uintptr_t)pages, .count = n };

	return __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io);
}

#define NTOUCH	(sizeof(touch) / sizeof(touch[0]))

static void record(struct __test_metadata *_metadata,
		   FIXTURE_DATA(wset) *self)
{
	char *a = map_clone(self);
	struct thaw_clone_stats st;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a, 0));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(THAW_CLONE_STATE_RECORDING, st.state);
	run_function(a, self->ps);
	EXPECT_EQ(NTOUCH, thaw_clone_stats(self->snap, a).recorded);
	EXPECT_EQ(NTOUCH, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, a, 0));
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).state);
	munmap(a, self->len);
}

TEST_F(wset, recorded_in_touch_order)
{
	__u32 got[NPAGES];

	record(_metadata, self);
	EXPECT_EQ(NTOUCH, thaw_snap_stats(self->snap).wset_pages);
	EXPECT_EQ(NTOUCH, wset_get(self->snap, NULL, 0));
	ASSERT_EQ(NTOUCH, wset_get(self->snap, got, NPAGES));
	for (size_t i = 0; i < NTOUCH; i++) {
		EXPECT_EQ(touch[i], got[i]) TH_LOG("entry %zu", i);
	}
}

static long wset_get_written(int snap, __u32 *pages, __u32 cap)
{
	struct thaw_wset_io io = { .pages = (uintptr_t)pages, .count = cap,
				   .flags = THAW_WSET_IO_WRITTEN };

	if (ioctl(snap, THAW_IOC_WSET_GET, &io) < 0)
		return -errno;
	return io.count;
}

static int wset_set_written(int snap, const __u32 *pages, __u32 n)
{
	struct thaw_wset_io io = { .pages = (uintptr_t)pages, .count = n,
				   .flags = THAW_WSET_IO_WRITTEN };

	return __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io);
}

/*
 * Written pages are marked: a write fault on a page not mapped yet, and a
 * write to a page the clone had mapped (copy-on-write seen by the mmu
 * notifier); a read is not a write, and a page mapped before the recording
 * and written during it is logged, written.
 */
TEST_F(wset, recorded_writes_marked)
{
	__u32 got[NPAGES];
	char *a = map_clone(self);
	volatile char sink;
	__u64 features = 0;
	int dev;

	dev = thaw_open_api(&features);
	ASSERT_LE(0, dev);
	close(dev);
	if (!(features & THAW_FEATURE_WSET_WRITTEN))
		SKIP(return, "no THAW_FEATURE_WSET_WRITTEN");
	ASSERT_NE(MAP_FAILED, a);
	sink = a[90 * self->ps];		/* mapped before */
	ASSERT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a, 0));
	sink = a[40 * self->ps];		/* read only */
	a[41 * self->ps] = 1;			/* write fault */
	sink = a[42 * self->ps];		/* read, then... */
	a[42 * self->ps + 5] = 1;		/* ...copy-on-write */
	a[90 * self->ps] = 1;			/* copy-on-write */
	(void)sink;
	EXPECT_EQ(4, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, a, 0));
	EXPECT_EQ(3, thaw_snap_stats(self->snap).wset_written);
	ASSERT_EQ(4, wset_get_written(self->snap, got, NPAGES));
	EXPECT_EQ(40, got[0]);
	EXPECT_EQ(41 | THAW_WSET_WRITTEN, got[1]);
	EXPECT_EQ(42 | THAW_WSET_WRITTEN, got[2]);
	EXPECT_EQ(90 | THAW_WSET_WRITTEN, got[3]);
	/* Without the flag, bare page indices. */
	ASSERT_EQ(4, wset_get(self->snap, got, NPAGES));
	EXPECT_EQ(41, got[1]);
	EXPECT_EQ(90, got[3]);
	munmap(a, self->len);
}

/* The written bits round-trip through WSET_GET/SET, into another object. */
TEST_F(wset, written_bits_round_trip)
{
	__u32 set[] = { 9 | THAW_WSET_WRITTEN, 8, 7 | THAW_WSET_WRITTEN,
			100, 0 | THAW_WSET_WRITTEN };
	__u32 got[8] = { 0 };
	int other;

	if (wset_set_written(self->snap, set, 5) == -EINVAL)
		SKIP(return, "no THAW_WSET_IO_WRITTEN");
	EXPECT_EQ(5, thaw_snap_stats(self->snap).wset_pages);
	EXPECT_EQ(3, thaw_snap_stats(self->snap).wset_written);
	EXPECT_EQ(-ENOSPC, wset_get_written(self->snap, got, 4));
	ASSERT_EQ(5, wset_get_written(self->snap, got, 8));
	EXPECT_EQ(0, memcmp(set, got, sizeof(set)));
	other = thaw_snap_create(self->dev, self->src, 0, self->len, NULL);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, wset_set_written(other, got, 5));
	EXPECT_EQ(3, thaw_snap_stats(other).wset_written);
	memset(got, 0, sizeof(got));
	ASSERT_EQ(5, wset_get_written(other, got, 8));
	EXPECT_EQ(0, memcmp(set, got, sizeof(set)));
	/* An old caller's SET stores no written bit. */
	ASSERT_EQ(5, wset_get(other, got, 8));
	ASSERT_EQ(0, wset_set(other, got, 5));
	EXPECT_EQ(0, thaw_snap_stats(other).wset_written);
	ASSERT_EQ(5, wset_get_written(other, got, 8));
	EXPECT_EQ(9, got[0]);
	close(other);
	/* The bit is not part of the index: out of range, or repeated. */
	set[0] = NPAGES | THAW_WSET_WRITTEN;
	EXPECT_EQ(-EINVAL, wset_set_written(self->snap, set, 5));
	set[0] = 8 | THAW_WSET_WRITTEN;
	EXPECT_EQ(-EINVAL, wset_set_written(self->snap, set, 5));
	/* Without the flag bit 31 is an index, far out of range. */
	set[0] = 9 | THAW_WSET_WRITTEN;
	EXPECT_EQ(-EINVAL, wset_set(self->snap, set, 5));
	EXPECT_EQ(3, thaw_snap_stats(self->snap).wset_written);
}

TEST_F(wset, premap_then_no_faults)
{
	volatile char sink = 0;
	struct thaw_clone_stats st;
	char *b;

	record(_metadata, self);
	b = map_clone(self);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_EQ(NTOUCH, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP, b,
					0));
	st = thaw_clone_stats(self->snap, b);
	EXPECT_EQ(NTOUCH, st.premapped);
	EXPECT_EQ(NTOUCH, st.shared_pages);
	EXPECT_EQ(3, st.zero_pages);		/* pages 15, 31 and 127 */
	EXPECT_EQ(0, st.faults);
	run_function(b, self->ps);
	st = thaw_clone_stats(self->snap, b);
	EXPECT_EQ(0, st.faults) TH_LOG("faults on a premapped working set");
	/* The writes still copied: private pages, snapshot intact. */
	EXPECT_EQ((NTOUCH + 1) / 3, st.private_pages);
	EXPECT_TRUE(thaw_page_matches(b + 4 * self->ps, 4, 4));
	/* Outside the working set: one fault. */
	sink += b[40 * self->ps];
	(void)sink;
	EXPECT_EQ(1, thaw_clone_stats(self->snap, b).faults);
	/* Premapping again maps nothing new. */
	EXPECT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP, b, 0));
	munmap(b, self->len);
	EXPECT_EQ(NTOUCH, thaw_snap_stats(self->snap).premapped);
}

/* A clone of a window of the object premaps only what falls inside. */
TEST_F(wset, premap_window)
{
	__u32 set[] = { 1, 2, 3, 10, 11, 12, 13, 60 };
	char *w;

	ASSERT_EQ(0, wset_set(self->snap, set, 8));
	w = mmap(NULL, 10 * self->ps, PROT_READ, MAP_PRIVATE, self->snap,
		 3 * self->ps);
	ASSERT_NE(MAP_FAILED, w);
	/* 3, 10, 11, 12 fall in [3, 13). */
	EXPECT_EQ(4, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP, w, 0));
	EXPECT_TRUE(thaw_page_matches(w + 8 * self->ps, 11, 4));
	EXPECT_EQ(0, thaw_clone_stats(self->snap, w).faults);
	munmap(w, 10 * self->ps);
}

TEST_F(wset, export_import)
{
	__u32 set[] = { 9, 8, 7, 100, 0 }, got[8] = { 0 };
	int other;

	ASSERT_EQ(0, wset_set(self->snap, set, 5));
	EXPECT_EQ(5, thaw_snap_stats(self->snap).wset_pages);
	EXPECT_EQ(-ENOSPC, wset_get(self->snap, got, 4));
	EXPECT_EQ(0, got[0]);
	ASSERT_EQ(5, wset_get(self->snap, got, 8));
	EXPECT_EQ(0, memcmp(set, got, sizeof(set)));
	/* Into another object, as from the snapshot directory. */
	other = thaw_snap_create(self->dev, self->src, 0, self->len, NULL);
	ASSERT_LE(0, other);
	EXPECT_EQ(0, wset_get(other, NULL, 0));
	ASSERT_EQ(0, wset_set(other, got, 5));
	EXPECT_EQ(5, thaw_snap_stats(other).wset_pages);
	close(other);
	/* Count 0 clears it. */
	ASSERT_EQ(0, wset_set(self->snap, NULL, 0));
	EXPECT_EQ(0, thaw_snap_stats(self->snap).wset_pages);
}

TEST_F(wset, import_bad)
{
	__u32 set[NPAGES + 1];
	struct thaw_wset_io io = { .count = 1 };

	for (unsigned int i = 0; i <= NPAGES; i++)
		set[i] = i;
	ASSERT_EQ(0, wset_set(self->snap, set, 3));
	EXPECT_EQ(-EINVAL, wset_set(self->snap, set, NPAGES + 1));
	set[0] = NPAGES;			/* past the object */
	EXPECT_EQ(-EINVAL, wset_set(self->snap, set, 2));
	set[0] = 5;
	set[1] = 5;				/* twice */
	EXPECT_EQ(-EINVAL, wset_set(self->snap, set, 2));
	EXPECT_EQ(-EFAULT, wset_set(self->snap, NULL, 2));
	EXPECT_EQ(-EFAULT, wset_set(self->snap, (__u32 *)-4096L, 2));
	io.flags = 1U << 5;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_WSET_SET, &io));
	io.flags = 0;
	io.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_WSET_GET, &io));
	EXPECT_EQ(-EFAULT, wset_get(self->snap, (__u32 *)-4096L, 10));
	/* Failures left the old working set alone. */
	EXPECT_EQ(3, thaw_snap_stats(self->snap).wset_pages);
}

TEST_F(wset, record_state_errors)
{
	char *a = map_clone(self);

	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(-ENODATA, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP, a,
					  0));
	EXPECT_EQ(-EINVAL, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, a, 0));
	EXPECT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a, 0));
	EXPECT_EQ(-EBUSY, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a,
					0));
	EXPECT_EQ(-EINVAL, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a,
					 1));
	a[0] = 1;
	/* Discard: the object keeps no working set. */
	EXPECT_EQ(1, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, a,
				   THAW_CLONE_STOP_DISCARD));
	EXPECT_EQ(0, thaw_snap_stats(self->snap).wset_pages);
	EXPECT_EQ(-EINVAL, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, a,
					 1U << 7));
	munmap(a, self->len);
}

/* An empty recording stored clears the working set. */
TEST_F(wset, empty_recording)
{
	__u32 set[] = { 1 };
	char *a = map_clone(self);

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, wset_set(self->snap, set, 1));
	ASSERT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a, 0));
	EXPECT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, a, 0));
	EXPECT_EQ(0, thaw_snap_stats(self->snap).wset_pages);
	munmap(a, self->len);
}

/* Unmapping a recording clone drops the recording; nothing leaks. */
TEST_F(wset, munmap_while_recording)
{
	char *a = map_clone(self);

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a, 0));
	a[self->ps] = 1;
	munmap(a, self->len);
	EXPECT_EQ(0, thaw_snap_stats(self->snap).wset_pages);
}

TEST_F(wset, killed_while_recording)
{
	int status, pfd[2];
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *a = map_clone(self);

		if (a == MAP_FAILED ||
		    thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a, 0))
			_exit(1);
		run_function(a, self->ps);
		c = 1;
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			run_function(a, self->ps);
	}
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	EXPECT_EQ(1, thaw_stats(self->dev).clones);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, thaw_stats(self->dev).clones);
	EXPECT_EQ(0, thaw_snap_stats(self->snap).wset_pages);
	close(pfd[0]);
	close(pfd[1]);
}

TEST_HARNESS_MAIN
