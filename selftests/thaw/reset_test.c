// SPDX-License-Identifier: GPL-2.0
/*
 * Reset: a clone returns to the snapshot's content, and only the pages it
 * dirtied are touched: clean pages stay mapped (no refault, by the module's
 * fault counter), the reset reports exactly the dirtied pages, and its cost
 * follows the dirtied pages, not the clone's size.
 */
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define NPAGES	256

static int holes(unsigned long i)
{
	return i >= 240;
}

static int all_holes(unsigned long i)
{
	return 1;
}

THAW_SNAP_FIXTURE(reset, NPAGES, 6, holes)

/* Make every page of @snap its working set. */
static int wset_all(int snap, unsigned long npages)
{
	struct thaw_wset_io io = { .count = npages };
	__u32 *set = malloc(npages * sizeof(*set));
	int ret;

	if (!set)
		return -ENOMEM;
	for (unsigned long i = 0; i < npages; i++)
		set[i] = i;
	io.pages = (uintptr_t)set;
	ret = __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io);
	free(set);
	return ret;
}

static const unsigned int dirty[] = { 3, 4, 5, 200, 250 };
#define NDIRTY	(sizeof(dirty) / sizeof(dirty[0]))

static char *premapped_dirty_clone(struct __test_metadata *_metadata,
				   FIXTURE_DATA(reset) *self)
{
	char *a;

	if (wset_all(self->snap, NPAGES))
		return MAP_FAILED;
	a = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->snap, 0);
	if (a == MAP_FAILED)
		return a;
	/* One fault per page touched: no fault-around. */
	EXPECT_EQ(0, madvise(a, self->len, MADV_RANDOM));
	EXPECT_EQ(NPAGES, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP, a,
					0));
	for (size_t i = 0; i < NDIRTY; i++)
		memset(a + dirty[i] * self->ps, 0xcc, 64);
	EXPECT_EQ(NDIRTY, thaw_clone_stats(self->snap, a).private_pages);
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).faults);
	return a;
}

static void expect_snapshot_content(struct __test_metadata *_metadata,
				    char *a, long ps)
{
	for (unsigned long i = 0; i < NPAGES; i++) {
		if (holes(i)) {
			EXPECT_TRUE(thaw_page_is_zero(a + i * ps));
		} else {
			EXPECT_TRUE(thaw_page_matches(a + i * ps, i, 6))
				TH_LOG("page %lu", i);
		}
	}
}

TEST_F(reset, restores_content)
{
	struct thaw_clone_stats st;
	char *a = premapped_dirty_clone(_metadata, self);

	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(NDIRTY, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					0));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(0, st.private_pages);
	EXPECT_EQ(1, st.resets);
	EXPECT_EQ(NDIRTY, st.reset_pages);
	/* Clean pages were left mapped. */
	EXPECT_EQ(NPAGES - NDIRTY, st.shared_pages);
	expect_snapshot_content(_metadata, a, self->ps);
	/* Only the reset pages fault back in. */
	EXPECT_EQ(NDIRTY, thaw_clone_stats(self->snap, a).faults);
	/* Nothing dirty: a second reset does nothing. */
	EXPECT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a, 0));
	munmap(a, self->len);
}

TEST_F(reset, remap_leaves_no_fault)
{
	struct thaw_clone_stats st;
	char *a = premapped_dirty_clone(_metadata, self);

	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(NDIRTY, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					THAW_CLONE_RESET_REMAP));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(NPAGES, st.shared_pages);
	EXPECT_EQ(NPAGES + NDIRTY, st.premapped);
	expect_snapshot_content(_metadata, a, self->ps);
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).faults);
	/* And the clone is reusable: dirty, reset, clean again. */
	a[7 * self->ps] = 1;
	EXPECT_EQ(1, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
				   THAW_CLONE_RESET_REMAP));
	EXPECT_TRUE(thaw_page_matches(a + 7 * self->ps, 7, 6));
	munmap(a, self->len);
}

/*
 * A thousand dirty-and-reset rounds, a zero page written and read in each:
 * the clone and the module end where they started (nothing private,
 * nothing more mapped or pinned), and the clone reads the snapshot.
 */
#define RESET_ROUNDS	1000

TEST_F(reset, thousand_resets_leave_counters)
{
	struct thaw_clone_stats st0, st1;
	struct thaw_stats m0, m1;
	char *a = premapped_dirty_clone(_metadata, self);
	int k, bad = 0;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(NDIRTY, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					THAW_CLONE_RESET_REMAP));
	st0 = thaw_clone_stats(self->snap, a);
	m0 = thaw_stats(self->dev);
	for (k = 0; k < RESET_ROUNDS; k++) {
		for (size_t i = 0; i < NDIRTY; i++)
			a[dirty[i] * self->ps + k % 64] = (char)k;
		a[245 * self->ps] = 1;			/* a zero page */
		(void)*(volatile char *)(a + 246 * self->ps);
		if (thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
				  THAW_CLONE_RESET_REMAP) != NDIRTY + 1)
			bad++;
	}
	EXPECT_EQ(0, bad);
	st1 = thaw_clone_stats(self->snap, a);
	m1 = thaw_stats(self->dev);
	EXPECT_EQ(0, st1.private_pages);
	EXPECT_EQ(st0.shared_pages, st1.shared_pages);
	EXPECT_EQ(st0.zero_pages, st1.zero_pages);
	EXPECT_EQ(st0.faults, st1.faults);
	EXPECT_EQ(st0.resets + RESET_ROUNDS, st1.resets);
	EXPECT_EQ(NDIRTY + 1, st1.reset_pages);	/* the last reset's */
	EXPECT_EQ(m0.snapshots, m1.snapshots);
	EXPECT_EQ(m0.clones, m1.clones);
	EXPECT_EQ(m0.pinned_pages, m1.pinned_pages);
	expect_snapshot_content(_metadata, a, self->ps);
	munmap(a, self->len);
}

/*
 * THAW_CLONE_RESET_KEEP: the private copies are rewritten in place: no
 * page is dropped, so no fault follows, not even for the next writes to
 * them (their entries stay writable, as KVM's would); they stay counted
 * dirty, so every reset after rewrites them, seen written or not.
 */
TEST_F(reset, keep_rewrites_in_place)
{
	const __u32 keep = THAW_CLONE_RESET_REMAP | THAW_CLONE_RESET_KEEP;
	struct thaw_clone_stats st;
	char *a = premapped_dirty_clone(_metadata, self);

	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(NDIRTY, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					keep));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(NDIRTY, st.private_pages);
	EXPECT_EQ(NDIRTY, st.reset_pages);
	EXPECT_EQ(NPAGES - NDIRTY, st.shared_pages);
	expect_snapshot_content(_metadata, a, self->ps);
	/* Written again: still no fault at all. */
	for (size_t i = 0; i < NDIRTY; i++)
		memset(a + dirty[i] * self->ps, 0xdd, 64);
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ(NDIRTY, st.private_pages);
	/* Those writes were not seen; the reset rewrites them anyway. */
	EXPECT_EQ(NDIRTY, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					keep));
	expect_snapshot_content(_metadata, a, self->ps);
	/* A page dirtied for the first time joins them. */
	a[7 * self->ps] = 1;
	EXPECT_EQ(NDIRTY + 1, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET,
					    a, keep));
	EXPECT_TRUE(thaw_page_matches(a + 7 * self->ps, 7, 6));
	EXPECT_EQ(NDIRTY + 1, thaw_clone_stats(self->snap, a).private_pages);
	/* Without the flag they are dropped, and the clone is all shared. */
	EXPECT_EQ(NDIRTY + 1, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET,
					    a, THAW_CLONE_RESET_REMAP));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(0, st.private_pages);
	EXPECT_EQ(NPAGES, st.shared_pages);
	expect_snapshot_content(_metadata, a, self->ps);
	EXPECT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a, keep));
	munmap(a, self->len);
}

/*
 * A private copy a forked child shares (MADV_DOFORK) is not the parent's
 * alone: THAW_CLONE_RESET_KEEP drops it instead of writing into it, and
 * the child keeps reading what was written before the fork.
 */
TEST_F(reset, keep_spares_forked_copy)
{
	int go[2], status;
	char *a = premapped_dirty_clone(_metadata, self);
	pid_t pid;
	char c;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, madvise(a, self->len, MADV_DOFORK));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (size_t i = 0; i < NDIRTY; i++)
			if (a[dirty[i] * self->ps] != (char)0xcc)
				_exit(1);
		_exit(0);
	}
	close(go[0]);
	EXPECT_EQ(NDIRTY, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					THAW_CLONE_RESET_REMAP |
					THAW_CLONE_RESET_KEEP));
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).private_pages);
	expect_snapshot_content(_metadata, a, self->ps);
	ASSERT_EQ(1, write(go[1], "x", 1));
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the child read the parent's reset (status %#x)",
		       status);
	munmap(a, self->len);
}

TEST_F(reset, bad_args)
{
	struct thaw_clone_op op = { 0 };
	char *a = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, self->snap, 0);

	ASSERT_NE(MAP_FAILED, a);
	op.addr = (uintptr_t)a;
	op.flags = 1U << 30;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_RESET, &op));
	op.flags = 0;
	op.pad = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_RESET, &op));
	op.pad = 0;
	op.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_RESET, &op));
	munmap(a, self->len);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/*
 * A 64 MiB clone, premapped in full: a reset of one dirtied page touches
 * one page; a reset of 2048 scattered dirtied pages touches 2048.  Times
 * are logged beside the counts; only their order is asserted (TCG).
 */
TEST_F_TIMEOUT(reset, cost_follows_dirtied_pages, 300)
{
	unsigned long npages = (64 << 20) / self->ps;
	double t1, t2048;
	int src, snap;
	char *a;

	src = thaw_memfd(npages, 0, all_holes);
	ASSERT_LE(0, src);
	snap = thaw_snap_create(self->dev, src, 0, npages * self->ps, NULL);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, wset_all(snap, npages));
	a = mmap(NULL, npages * self->ps, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(npages, thaw_clone_op(snap, THAW_IOC_CLONE_PREMAP, a, 0));

	a[12345 * self->ps] = 1;
	t1 = now_us();
	EXPECT_EQ(1, thaw_clone_op(snap, THAW_IOC_CLONE_RESET, a, 0));
	t1 = now_us() - t1;
	EXPECT_EQ(npages - 1, thaw_clone_stats(snap, a).shared_pages);

	for (unsigned long i = 0; i < 2048; i++)
		a[(i * 7) * self->ps] = 1;
	t2048 = now_us();
	EXPECT_EQ(2048, thaw_clone_op(snap, THAW_IOC_CLONE_RESET, a, 0));
	t2048 = now_us() - t2048;
	EXPECT_EQ(2048, thaw_clone_stats(snap, a).reset_pages);
	TH_LOG("%lu-page clone: reset of 1 dirtied page %.0f us, of 2048 pages %.0f us",
	       npages, t1, t2048);
	EXPECT_LT(t1, t2048);
	EXPECT_TRUE(thaw_page_is_zero(a + 7 * self->ps));
	munmap(a, npages * self->ps);
	close(snap);
	close(src);
}

/*
 * More dirtied pages than the dirty list holds (MADV_DONTNEED on a big
 * clone marks every page): the reset still returns every page.
 */
TEST_F_TIMEOUT(reset, dirty_list_overflow, 300)
{
	unsigned long npages = 70000;
	int src, snap;
	char *a;

	src = thaw_memfd(npages, 0, all_holes);
	ASSERT_LE(0, src);
	snap = thaw_snap_create(self->dev, src, 0, npages * self->ps, NULL);
	ASSERT_LE(0, snap);
	a = mmap(NULL, npages * self->ps, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	a[0] = 1;
	a[69999 * self->ps] = 1;
	ASSERT_EQ(0, madvise(a, npages * self->ps, MADV_DONTNEED));
	EXPECT_EQ(npages, thaw_clone_stats(snap, a).private_pages);
	EXPECT_EQ(npages, thaw_clone_op(snap, THAW_IOC_CLONE_RESET, a, 0));
	a[5 * self->ps] = 1;
	EXPECT_EQ(1, thaw_clone_op(snap, THAW_IOC_CLONE_RESET, a, 0));
	EXPECT_TRUE(thaw_page_is_zero(a + 5 * self->ps));
	munmap(a, npages * self->ps);
	close(snap);
	close(src);
}

/*
 * A 16 GiB clone of an all-zero object (it pins only its page array):
 * MADV_DONTNEED over all of it and a reset of all of it stay quick, with
 * no soft lockup (selftests/run checks the kernel log).
 */
TEST_F_TIMEOUT(reset, huge_sparse_clone, 300)
{
	unsigned long npages = (16ULL << 30) / self->ps;
	double t;
	int src, snap;
	char *a;

	src = memfd_create("thaw-huge", MFD_CLOEXEC);
	ASSERT_LE(0, src);
	ASSERT_EQ(0, ftruncate(src, npages * self->ps));
	t = now_us();
	snap = thaw_snap_create(self->dev, src, 0, npages * self->ps, NULL);
	ASSERT_LE(0, snap) TH_LOG("SNAP_CREATE: %s", strerror(-snap));
	TH_LOG("%lu-page all-zero object created in %.0f us", npages,
	       now_us() - t);
	EXPECT_EQ(npages, thaw_snap_stats(snap).zero_pages);
	a = mmap(NULL, npages * self->ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_NORESERVE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	a[(npages - 1) * self->ps] = 1;
	t = now_us();
	ASSERT_EQ(0, madvise(a, npages * self->ps, MADV_DONTNEED));
	EXPECT_EQ(npages, thaw_clone_stats(snap, a).private_pages);
	EXPECT_EQ(npages, thaw_clone_op(snap, THAW_IOC_CLONE_RESET, a, 0));
	TH_LOG("MADV_DONTNEED and reset of all of it: %.0f us", now_us() - t);
	EXPECT_EQ(0, a[(npages - 1) * self->ps]);
	munmap(a, npages * self->ps);
	close(snap);
	close(src);
}

TEST_HARNESS_MAIN
