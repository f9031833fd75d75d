// SPDX-License-Identifier: GPL-2.0
/*
 * Huge snapshot objects (THAW_SNAP_CREATE_HUGE): dense 2 MiB regions in one
 * 2 MiB page, all-zero regions on one shared zeroed 2 MiB page, sparse ones
 * in 4 KiB pages; clones map the 2 MiB ones with one read-only PMD each.
 * The content through a clone is the file's, byte for byte; a write stays
 * in its clone and splits only its region; premap maps a region with one
 * PMD; a failed 2 MiB allocation falls back to 4 KiB pages; nothing leaks.
 * PMDs are seen both in the module's counters and in /proc/self/smaps
 * (FilePmdMapped: the kernel counts a PMD of a non-anonymous page there).
 *
 * Private 2 MiB copies (THAW_FEATURE_PRIVATE_HUGE): regions the working set
 * saw written, within the clone's budget, get a copy of their own on the
 * first write, mapped by a writable PMD; a reset copies the snapshot back
 * into it and keeps the PMD; MADV_DONTNEED keeps its data; the budget, a
 * failed allocation and the recording fall back to 4 KiB.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define RP		THAW_REGION_PAGES
#define SZ_2M		(2UL << 20)
/* Region 0 dense, 1 all zero, 2 sparse, 3 half zero, then a partial one. */
#define NREG		4
#define TAIL		100
#define NPAGES		(NREG * RP + TAIL)
#define SPARSE		THAW_TEST_SPARSE
#define MIN_PAGES	128
#define SEED		9

/* A huge object of @len bytes of @fd, 2 MiB regions from @min pages. */
static int huge_create(int dev, int fd, __u64 len, __u32 min)
{
	struct thaw_snap_create c = {
		.fd = fd, .length = len, .flags = THAW_SNAP_CREATE_HUGE,
		.huge_min_pages = min,
	};
	int ret = ioctl(dev, THAW_IOC_SNAP_CREATE, &c);

	return ret < 0 ? -errno : ret;
}

/* kB of FilePmdMapped of the mapping that starts at @addr, or -1. */
static long smaps_pmd_kb(void *addr)
{
	char line[256], want[32];
	long kb = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ' ') &&
		    strchr(line, '-') < strchr(line, ' ')) {
			if (in)
				break;
			in = !strncmp(line, want, strlen(want));
			continue;
		}
		if (in && sscanf(line, "FilePmdMapped: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static void read_all(const char *p, size_t len, long ps)
{
	volatile char sink = 0;

	for (size_t off = 0; off < len; off += ps)
		sink += p[off];
	(void)sink;
}

FIXTURE(huge) {
	int dev, src, snap;
	long ps;
	size_t len;
	char *file;	/* the source's content, for comparisons */
	__u64 features;
};

FIXTURE_SETUP(huge)
{
	__u64 features = 0;

	self->src = self->snap = -1;
	self->file = NULL;
	self->ps = thaw_page_size();
	self->len = NPAGES * self->ps;
	self->dev = thaw_open_api(&features);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));
	self->features = features;
	if (!(features & THAW_FEATURE_HUGE)) {
		struct utsname u;

		/* The kernel it is built for must have it (kmod/Kbuild). */
		ASSERT_EQ(0, uname(&u));
		ASSERT_NE(0, strncmp(u.release, "6.1.", 4))
			TH_LOG("thaw.ko on %s lacks THAW_FEATURE_HUGE",
			       u.release);
		SETUP_SKIP("thaw.ko without THAW_FEATURE_HUGE (%s)",
			   u.release);
	}
	if (self->ps != 4096)
		SETUP_SKIP("4 KiB pages only");
	self->src = thaw_memfd(NPAGES, SEED, thaw_layout_hole);
	ASSERT_LE(0, self->src);
	self->file = malloc(self->len);
	ASSERT_NE(NULL, self->file);
	ASSERT_EQ(self->len, pread(self->src, self->file, self->len, 0));
	self->snap = huge_create(self->dev, self->src, self->len, MIN_PAGES);
	ASSERT_LE(0, self->snap) TH_LOG("SNAP_CREATE: %s", strerror(-self->snap));
	thaw_private_any_region(1);
}

FIXTURE_TEARDOWN(huge)
{
	thaw_private_any_region(0);
	thaw_param_write("fail_huge_alloc", "0");
	if (self->features & THAW_FEATURE_PRIVATE_HUGE)
		thaw_param_write("private_huge_max", "16");
	if (self->snap >= 0)
		close(self->snap);
	if (self->src >= 0)
		close(self->src);
	free(self->file);
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		close(self->dev);
	}
}

static char *map_clone(FIXTURE_DATA(huge) *self, int snap, size_t len,
		       off_t off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, snap, off);
}

TEST_F(huge, regions_stored_by_density)
{
	struct thaw_snap_stats st = thaw_snap_stats(self->snap);
	unsigned long array = (NPAGES * 8 + 4095) / 4096;

	EXPECT_EQ(NPAGES, st.pages);
	EXPECT_EQ(2, st.huge_regions);		/* 0 and 3 */
	EXPECT_EQ(1, st.zero_regions);		/* 1 */
	EXPECT_EQ(2, st.small_regions);		/* 2 and the tail */
	EXPECT_EQ(0, st.huge_fallbacks);
	EXPECT_EQ(2 * RP + SPARSE + TAIL, st.data_pages);
	EXPECT_EQ(RP + RP - SPARSE, st.zero_pages);
	EXPECT_EQ(NPAGES, st.data_pages + st.zero_pages);
	/* Data, the zero folio, the zero page and the page array. */
	EXPECT_EQ(st.data_pages + RP + 1 + array, st.pinned_pages);
	EXPECT_EQ(st.pinned_pages, thaw_stats(self->dev).pinned_pages);
}

/* Without the flag, or with a bad threshold: refused or plain. */
TEST_F(huge, create_args)
{
	struct thaw_snap_create c = { .fd = self->src, .length = self->len };

	c.huge_min_pages = 1;
	EXPECT_EQ(-1, ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	c.flags = THAW_SNAP_CREATE_HUGE;
	c.huge_min_pages = RP + 1;
	EXPECT_EQ(-1, ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	c.huge_min_pages = 0;
	c.pad = 1;
	EXPECT_EQ(-1, ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	c.pad = 0;
	c.flags = 1U << 7;
	EXPECT_EQ(-1, ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	/* Every full region dense enough at 1 page: 3 huge, 1 zero. */
	c.flags = THAW_SNAP_CREATE_HUGE;
	c.huge_min_pages = 1;
	{
		int s = ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c);
		struct thaw_snap_stats st;

		ASSERT_LE(0, s);
		st = thaw_snap_stats(s);
		EXPECT_EQ(3, st.huge_regions);
		EXPECT_EQ(1, st.zero_regions);
		EXPECT_EQ(1, st.small_regions);
		close(s);
	}
	/* A plain object: every region 4 KiB, none huge. */
	{
		int s = thaw_snap_create(self->dev, self->src, 0, self->len,
					 NULL);
		struct thaw_snap_stats st;

		ASSERT_LE(0, s);
		st = thaw_snap_stats(s);
		EXPECT_EQ(0, st.huge_regions);
		EXPECT_EQ(0, st.zero_regions);
		EXPECT_EQ(NREG + 1, st.small_regions);
		close(s);
	}
}

TEST_F(huge, content_and_pmds)
{
	struct thaw_clone_stats st;
	char *a = map_clone(self, self->snap, self->len, 0);

	ASSERT_NE(MAP_FAILED, a);
	/* get_unmapped_area lines the clone up with the object. */
	EXPECT_EQ(0, (uintptr_t)a % SZ_2M);
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(3, st.pmd_regions);		/* 0, 1 and 3 */
	EXPECT_EQ(3, st.pmd_maps);
	EXPECT_EQ(0, st.splits);
	EXPECT_EQ(NPAGES, st.shared_pages);
	EXPECT_EQ(RP + RP - SPARSE, st.zero_pages);
	EXPECT_EQ(0, st.private_pages);
	EXPECT_EQ(3 * 2048, smaps_pmd_kb(a));
	/* Read again: no fault at all. */
	read_all(a, self->len, self->ps);
	EXPECT_EQ(st.faults, thaw_clone_stats(self->snap, a).faults);
	munmap(a, self->len);
}

TEST_F(huge, write_is_private_and_splits)
{
	char *a = map_clone(self, self->snap, self->len, 0);
	char *b = map_clone(self, self->snap, self->len, 0), *c;
	struct thaw_clone_stats st;
	size_t off = 5 * self->ps + 17;
	char byte;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	read_all(a, self->len, self->ps);
	read_all(b, self->len, self->ps);
	a[off] ^= 0x5a;
	a[3 * RP * self->ps] ^= 0x5a;

	EXPECT_EQ(self->file[off] ^ 0x5a, a[off]);
	EXPECT_EQ(self->file[off], b[off]);
	ASSERT_EQ(1, pread(self->src, &byte, 1, off));
	EXPECT_EQ(self->file[off], byte);
	c = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, c);
	EXPECT_EQ(0, memcmp(c, self->file, self->len));
	/* The rest of A's region reads the snapshot, now in 4 KiB pages. */
	EXPECT_EQ(0, memcmp(a, self->file, off));
	EXPECT_EQ(0, memcmp(a + off + 1, self->file + off + 1,
			    RP * self->ps - off - 1));

	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(2, st.splits);
	EXPECT_EQ(1, st.pmd_regions);		/* only the zero region */
	EXPECT_EQ(2, st.private_pages);
	EXPECT_EQ(2, st.cow_faults);
	EXPECT_EQ(2048, smaps_pmd_kb(a));
	EXPECT_EQ(3, thaw_clone_stats(self->snap, b).pmd_regions);
	EXPECT_EQ(3 * 2048, smaps_pmd_kb(b));

	/* A reset returns A's content; in 6.1 a split region stays 4 KiB. */
	EXPECT_EQ(2, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a, 0));
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(0, st.private_pages);
	EXPECT_EQ(1, st.pmd_regions);
	EXPECT_EQ(0, memcmp(b, self->file, self->len));
	munmap(a, self->len);
	munmap(b, self->len);
	munmap(c, self->len);
}

/*
 * A region whose PMD was dropped (MADV_DONTNEED) without a write is not
 * dirty and gets its PMD back on the next read; a reset with REMAP maps it
 * with a PMD too.
 */
TEST_F(huge, dropped_pmd_comes_back)
{
	char *a = map_clone(self, self->snap, self->len, 0);
	struct thaw_clone_stats st;

	ASSERT_NE(MAP_FAILED, a);
	read_all(a, self->len, self->ps);
	ASSERT_EQ(0, madvise(a, SZ_2M, MADV_DONTNEED));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(2, st.pmd_regions);
	EXPECT_EQ(0, st.private_pages);
	EXPECT_EQ(0, memcmp(a, self->file, SZ_2M));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(3, st.pmd_regions);
	EXPECT_EQ(4, st.pmd_maps);

	/* Part of a PMD: split, the whole region counted dirty. */
	ASSERT_EQ(0, madvise(a + 3 * SZ_2M, self->ps, MADV_DONTNEED));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(2, st.pmd_regions);
	EXPECT_EQ(RP, st.private_pages);
	EXPECT_EQ(RP, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
				    THAW_CLONE_RESET_REMAP));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(3, st.pmd_regions);
	EXPECT_EQ(5, st.pmd_maps);
	EXPECT_EQ(RP, st.premapped);
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	munmap(a, self->len);
}

/* A working set touching a huge region premaps all of it, one PMD. */
TEST_F(huge, premap_maps_region_with_one_pmd)
{
	__u32 set[] = { 7, 2 * RP + 3, 3 * RP + 1, 3 * RP + 2 };
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 4 };
	struct thaw_clone_stats st;
	char *a;

	ASSERT_EQ(0, __thaw_ioctl(self->snap, THAW_IOC_WSET_SET, &io));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(RP + 1 + RP, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP,
					     a, 0));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(2, st.pmd_regions);
	EXPECT_EQ(2, st.pmd_maps);
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ(RP + 1 + RP, st.premapped);
	EXPECT_EQ(2 * 2048, smaps_pmd_kb(a));
	/* Both regions read without a fault. */
	EXPECT_EQ(0, memcmp(a, self->file, SZ_2M));
	EXPECT_EQ(0, memcmp(a + 3 * SZ_2M, self->file + 3 * SZ_2M, SZ_2M));
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).faults);
	/* Premap again: nothing more to map. */
	EXPECT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP, a, 0));
	munmap(a, self->len);
}

/* A recording clone sees every first touch: 4 KiB pages, no PMD. */
TEST_F(huge, recording_maps_4k)
{
	__u32 set[8];
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 8 };
	char *a = map_clone(self, self->snap, self->len, 0);
	volatile char sink;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a, 0));
	sink = a[9 * self->ps];
	sink = a[3 * self->ps];
	sink = a[(RP + 4) * self->ps];
	(void)sink;
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).pmd_regions);
	EXPECT_EQ(3, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, a, 0));
	ASSERT_EQ(0, __thaw_ioctl(self->snap, THAW_IOC_WSET_GET, &io));
	ASSERT_EQ(3, io.count);
	EXPECT_EQ(9, set[0]);
	EXPECT_EQ(3, set[1]);
	EXPECT_EQ(RP + 4, set[2]);
	/* After the recording, untouched regions map with PMDs again. */
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	EXPECT_EQ(1, thaw_clone_stats(self->snap, a).pmd_regions);
	munmap(a, self->len);
}

/* A clone whose address is not congruent to its offset: 4 KiB only. */
TEST_F(huge, unaligned_clone_is_4k)
{
	char *hole, *a, *b;

	hole = mmap(NULL, 2 * self->len + SZ_2M, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	a = (char *)(((uintptr_t)hole + SZ_2M) & ~(SZ_2M - 1)) + self->ps;
	a = mmap(a, self->len, PROT_READ, MAP_PRIVATE | MAP_FIXED, self->snap,
		 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).pmd_maps);
	EXPECT_EQ(0, smaps_pmd_kb(a));
	/* A window from region 1 on, mapped by the kernel's choice: PMDs. */
	b = mmap(NULL, 3 * SZ_2M, PROT_READ, MAP_PRIVATE, self->snap, SZ_2M);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_EQ(0, memcmp(b, self->file + SZ_2M, 3 * SZ_2M));
	EXPECT_EQ(2, thaw_clone_stats(self->snap, b).pmd_regions);
	/* And one cut at an odd page: no whole region but region 3. */
	munmap(b, 3 * SZ_2M);
	b = mmap(NULL, 2 * SZ_2M + 7 * self->ps, PROT_READ, MAP_PRIVATE,
		 self->snap, 2 * SZ_2M - 7 * self->ps);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_EQ(0, memcmp(b, self->file + 2 * SZ_2M - 7 * self->ps,
			    2 * SZ_2M + 7 * self->ps));
	EXPECT_EQ(1, thaw_clone_stats(self->snap, b).pmd_regions);
	munmap(b, 2 * SZ_2M + 7 * self->ps);
	munmap(hole, 2 * self->len + SZ_2M);
}

TEST_F(huge, nohugepage_is_4k)
{
	char *a = map_clone(self, self->snap, self->len, 0);

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, madvise(a, self->len, MADV_NOHUGEPAGE));
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).pmd_maps);
	EXPECT_EQ(NPAGES, thaw_clone_stats(self->snap, a).shared_pages);
	munmap(a, self->len);
}

/* All-zero regions share one 2 MiB page: one per object, however many. */
TEST_F(huge, zero_regions_share_one_folio)
{
	unsigned long n = 8 * RP, array = (n * 8 + 4095) / 4096;
	struct thaw_snap_stats st;
	int src, snap;
	char *a, *b;

	src = memfd_create("zeros", MFD_CLOEXEC);
	ASSERT_LE(0, src);
	ASSERT_EQ(0, ftruncate(src, n * self->ps));
	snap = huge_create(self->dev, src, n * self->ps, 0);
	ASSERT_LE(0, snap);
	st = thaw_snap_stats(snap);
	EXPECT_EQ(8, st.zero_regions);
	EXPECT_EQ(0, st.huge_regions);
	EXPECT_EQ(n, st.zero_pages);
	EXPECT_EQ(RP + 1 + array, st.pinned_pages);
	a = map_clone(self, snap, n * self->ps, 0);
	b = map_clone(self, snap, n * self->ps, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	read_all(a, n * self->ps, self->ps);
	read_all(b, n * self->ps, self->ps);
	EXPECT_EQ(8, thaw_clone_stats(snap, a).pmd_regions);
	EXPECT_EQ(n, thaw_clone_stats(snap, b).zero_pages);
	for (unsigned long i = 0; i < n; i++)
		ASSERT_TRUE(thaw_page_is_zero(b + i * self->ps));
	b[SZ_2M] = 1;
	EXPECT_EQ(0, a[SZ_2M]);
	munmap(a, n * self->ps);
	munmap(b, n * self->ps);
	close(snap);
	close(src);
}

/* fail_huge_alloc: every 2 MiB allocation fails, the object is 4 KiB. */
TEST_F(huge, allocation_failure_falls_back)
{
	struct thaw_snap_stats st;
	int snap;
	char *a;

	if (thaw_param_write("fail_huge_alloc", "1"))
		SKIP(return, "no fail_huge_alloc parameter");
	snap = huge_create(self->dev, self->src, self->len, MIN_PAGES);
	thaw_param_write("fail_huge_alloc", "0");
	ASSERT_LE(0, snap);
	st = thaw_snap_stats(snap);
	EXPECT_EQ(0, st.huge_regions);
	EXPECT_EQ(0, st.zero_regions);
	EXPECT_EQ(NREG + 1, st.small_regions);
	EXPECT_EQ(NREG, st.huge_fallbacks);
	EXPECT_EQ(2 * RP - RP / 2 + SPARSE + TAIL, st.data_pages);
	EXPECT_EQ(NPAGES, st.data_pages + st.zero_pages);
	a = map_clone(self, snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	EXPECT_EQ(0, thaw_clone_stats(snap, a).pmd_maps);
	munmap(a, self->len);
	close(snap);

	/* Every second one: a mix, still the same content. */
	ASSERT_EQ(0, thaw_param_write("fail_huge_alloc", "2"));
	snap = huge_create(self->dev, self->src, self->len, MIN_PAGES);
	thaw_param_write("fail_huge_alloc", "0");
	ASSERT_LE(0, snap);
	st = thaw_snap_stats(snap);
	EXPECT_LT(0, st.huge_fallbacks);
	EXPECT_EQ(NREG + 1, st.huge_regions + st.zero_regions +
			    st.small_regions);
	a = map_clone(self, snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	EXPECT_EQ(st.huge_regions + st.zero_regions,
		  thaw_clone_stats(snap, a).pmd_regions);
	munmap(a, self->len);
	close(snap);
}

/*
 * The kernel reaching PMD-mapped pages for I/O: GUP-fast (vmsplice, many
 * pages of one folio at once) and GUP through the page tables
 * (process_vm_readv).  The content is right and every reference goes back
 * (the object frees its memory: see leaves_no_memory_behind).
 */
TEST_F(huge, gup_through_pmd)
{
	char *a = map_clone(self, self->snap, self->len, 0), *buf;
	struct iovec l, r;
	int p[2];

	ASSERT_NE(MAP_FAILED, a);
	read_all(a, self->len, self->ps);
	ASSERT_EQ(3, thaw_clone_stats(self->snap, a).pmd_regions);
	buf = malloc(SZ_2M);
	ASSERT_NE(NULL, buf);

	l = (struct iovec){ .iov_base = buf, .iov_len = SZ_2M };
	r = (struct iovec){ .iov_base = a + 3 * SZ_2M, .iov_len = SZ_2M };
	ASSERT_EQ(SZ_2M, process_vm_readv(getpid(), &l, 1, &r, 1, 0));
	EXPECT_EQ(0, memcmp(buf, self->file + 3 * SZ_2M, SZ_2M));

	ASSERT_EQ(0, pipe(p));
	r = (struct iovec){ .iov_base = a + 16 * self->ps,
			    .iov_len = 16 * self->ps };
	ASSERT_EQ(16 * self->ps, vmsplice(p[1], &r, 1, 0));
	ASSERT_EQ(16 * self->ps, read(p[0], buf, 16 * self->ps));
	EXPECT_EQ(0, memcmp(buf, self->file + 16 * self->ps, 16 * self->ps));
	/* Pages in a pipe outlive the mapping and the object's fd. */
	r.iov_base = a + 32 * self->ps;
	ASSERT_EQ(16 * self->ps, vmsplice(p[1], &r, 1, 0));
	munmap(a, self->len);
	close(self->snap);
	self->snap = -1;
	ASSERT_EQ(16 * self->ps, read(p[0], buf, 16 * self->ps));
	EXPECT_EQ(0, memcmp(buf, self->file + 32 * self->ps, 16 * self->ps));
	close(p[0]);
	close(p[1]);
	free(buf);
}

/* MADV_DOFORK: the child's copy has no PMD and no clone; it reads right. */
TEST_F(huge, forked_copy_reads_4k)
{
	char *a = map_clone(self, self->snap, self->len, 0);
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, a);
	read_all(a, self->len, self->ps);
	a[5] ^= 1;
	ASSERT_EQ(0, madvise(a, self->len, MADV_DOFORK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int bad = (a[5] != (self->file[5] ^ 1)) ||
			  memcmp(a + SZ_2M, self->file + SZ_2M,
				 self->len - SZ_2M) ||
			  smaps_pmd_kb(a) != 0;

		a[3 * SZ_2M] ^= 1;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(self->file[3 * SZ_2M], a[3 * SZ_2M]);
	EXPECT_EQ(2, thaw_clone_stats(self->snap, a).pmd_regions);
	munmap(a, self->len);
}

/*
 * Faults racing on the same regions: readers (PMD installs and 4 KiB
 * fault-around), writers (splits), MADV_DONTNEED of whole and partial
 * regions (PMDs dropped and back), while the main thread records, stops
 * and premaps.  A PMD must never land where 4 KiB pages are being mapped
 * (that would corrupt memory): readers check every page they read that
 * no one writes, and the kernel log must stay clean (selftests/run).
 */
#define RACE_REGIONS	8
#define RACE_SECONDS	5

struct race {
	char *a;
	const char *file;
	size_t len;
	long ps;
	volatile int stop;
	volatile int bad;
	unsigned int seed;
};

static int race_written(unsigned long page)
{
	return page % 64 == 63;
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	unsigned int seed = __atomic_add_fetch(&r->seed, 7919, __ATOMIC_RELAXED);
	unsigned long n = r->len / r->ps;

	while (!r->stop) {
		unsigned long p = rand_r(&seed) % n;

		if (race_written(p))
			continue;
		if (memcmp(r->a + p * r->ps, r->file + p * r->ps, r->ps))
			r->bad = 1;
	}
	return NULL;
}

static void *race_writer(void *arg)
{
	struct race *r = arg;
	unsigned int seed = __atomic_add_fetch(&r->seed, 104729,
					       __ATOMIC_RELAXED);
	unsigned long n = r->len / r->ps;

	while (!r->stop) {
		unsigned long p = (rand_r(&seed) % (n / 64)) * 64 + 63;

		r->a[p * r->ps + (rand_r(&seed) % r->ps)] = 1;
	}
	return NULL;
}

static void *race_dropper(void *arg)
{
	struct race *r = arg;
	unsigned int seed = __atomic_add_fetch(&r->seed, 1299709,
					       __ATOMIC_RELAXED);

	while (!r->stop) {
		unsigned long reg = rand_r(&seed) % RACE_REGIONS;
		unsigned long pages = rand_r(&seed) % 3 ? RP : 1 + rand_r(&seed) % 8;

		madvise(r->a + reg * SZ_2M, pages * r->ps, MADV_DONTNEED);
		usleep(200);
	}
	return NULL;
}

/*
 * One round on a fresh clone (a region with a page table stays 4 KiB, so
 * the races with PMD installs are at the start of a clone's life).
 */
static void race_round(struct __test_metadata *_metadata, struct race *r,
		       int snap, int round, struct thaw_clone_stats *sum)
{
	struct thaw_clone_stats st;
	pthread_t t[6];

	r->a = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, r->a);
	r->stop = 0;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_reader, r));
	ASSERT_EQ(0, pthread_create(&t[3], NULL, race_writer, r));
	ASSERT_EQ(0, pthread_create(&t[4], NULL, race_writer, r));
	ASSERT_EQ(0, pthread_create(&t[5], NULL, race_dropper, r));
	if (round & 1) {
		EXPECT_EQ(0, thaw_clone_op(snap, THAW_IOC_CLONE_RECORD, r->a,
					   0));
		usleep(2000);
		EXPECT_LE(0, thaw_clone_op(snap, THAW_IOC_CLONE_STOP, r->a,
					   THAW_CLONE_STOP_DISCARD));
	}
	EXPECT_LE(0, thaw_clone_op(snap, THAW_IOC_CLONE_PREMAP, r->a, 0));
	usleep(5000);
	EXPECT_LE(0, thaw_clone_op(snap, THAW_IOC_CLONE_RESET, r->a,
				   round & 2 ? THAW_CLONE_RESET_REMAP : 0));
	usleep(5000);
	r->stop = 1;
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	EXPECT_LE(0, thaw_clone_op(snap, THAW_IOC_CLONE_RESET, r->a, 0));
	EXPECT_EQ(0, memcmp(r->a, r->file, r->len));
	st = thaw_clone_stats(snap, r->a);
	EXPECT_EQ(0, st.private_pages);
	sum->pmd_maps += st.pmd_maps;
	sum->splits += st.splits;
	sum->faults += st.faults;
	sum->private_made += st.private_made;
	munmap(r->a, r->len);
}

TEST_F_TIMEOUT(huge, racing_faults, 300)
{
	unsigned long n = RACE_REGIONS * RP;
	/* Regions 0 and 3 get private copies where the module has them. */
	__u32 set[] = { 0 | THAW_WSET_WRITTEN, (3 * RP + 5) | THAW_WSET_WRITTEN,
			7 * RP + 100 };
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 3,
				   .flags = THAW_WSET_IO_WRITTEN };
	struct race r = { .ps = self->ps, .len = n * self->ps, .seed = 1 };
	struct thaw_clone_stats sum = { 0 };
	int src, snap, rounds = 0;
	char *file;
	time_t end;

	src = thaw_memfd(n, 4, NULL);
	ASSERT_LE(0, src);
	file = malloc(r.len);
	ASSERT_NE(NULL, file);
	ASSERT_EQ(r.len, pread(src, file, r.len, 0));
	r.file = file;
	snap = huge_create(self->dev, src, r.len, 0);
	ASSERT_LE(0, snap);
	if (!(self->features & THAW_FEATURE_PRIVATE_HUGE)) {
		io.flags = 0;
		for (int i = 0; i < 3; i++)
			set[i] &= ~THAW_WSET_WRITTEN;
	}
	ASSERT_EQ(0, __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io));
	end = time(NULL) + RACE_SECONDS;
	while (time(NULL) < end && !r.bad)
		race_round(_metadata, &r, snap, rounds++, &sum);
	EXPECT_FALSE(r.bad);
	TH_LOG("%d clones: %llu PMD maps, %llu splits, %llu faults, %llu private copies",
	       rounds, (unsigned long long)sum.pmd_maps,
	       (unsigned long long)sum.splits,
	       (unsigned long long)sum.faults,
	       (unsigned long long)sum.private_made);
	EXPECT_LT(0, sum.pmd_maps);
	EXPECT_LT(0, sum.splits);
	if (self->features & THAW_FEATURE_PRIVATE_HUGE)
		EXPECT_LT(0, sum.private_made);
	close(snap);
	close(src);
	free(file);
}

static long meminfo_kb(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, strlen(key))) {
			sscanf(line + strlen(key), ": %ld", &v);
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * Teardown in any order frees the 2 MiB pages: 128 MiB of them, mapped
 * by PMDs and 4 KiB pages, split, reset, read through GUP, come back.
 */
TEST_F_TIMEOUT(huge, leaves_no_memory_behind, 300)
{
	unsigned long n = 64 * RP;
	long before, during, after;
	int src, snap;
	char *a, *b;

	src = thaw_memfd(n, 3, NULL);
	ASSERT_LE(0, src);
	before = meminfo_kb("MemFree");
	for (int round = 0; round < 2; round++) {
		snap = huge_create(self->dev, src, n * self->ps, 0);
		ASSERT_LE(0, snap);
		ASSERT_EQ(64, thaw_snap_stats(snap).huge_regions);
		a = map_clone(self, snap, n * self->ps, 0);
		b = mmap(NULL, n * self->ps, PROT_READ, MAP_PRIVATE, snap, 0);
		ASSERT_NE(MAP_FAILED, a);
		ASSERT_NE(MAP_FAILED, b);
		/* b maps the folios' pages in 4 KiB: references on them. */
		ASSERT_EQ(0, madvise(b, n * self->ps, MADV_NOHUGEPAGE));
		read_all(a, n * self->ps, self->ps);
		read_all(b, n * self->ps, self->ps);
		for (unsigned long i = 0; i < n; i += 3 * RP + 1)
			a[i * self->ps] = 1;
		EXPECT_LT(0, thaw_clone_op(snap, THAW_IOC_CLONE_RESET, a, 0));
		during = meminfo_kb("MemFree");
		if (round) {
			munmap(a, n * self->ps);
			close(snap);
			munmap(b, n * self->ps);
		} else {
			close(snap);
			munmap(b, n * self->ps);
			munmap(a, n * self->ps);
		}
	}
	after = meminfo_kb("MemFree");
	close(src);
	TH_LOG("MemFree before %ld kB, with the object %ld kB, after %ld kB",
	       before, during, after);
	EXPECT_LT(before - during, 256 * 1024);
	EXPECT_LT(before - after, 48 * 1024);
}

/* Private 2 MiB copies */

#define W(page)		((page) | THAW_WSET_WRITTEN)

static int wset_set_written(int snap, const __u32 *e, __u32 n)
{
	struct thaw_wset_io io = { .pages = (uintptr_t)e, .count = n,
				   .flags = THAW_WSET_IO_WRITTEN };

	return __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io);
}

/* THAW_IOC_CLONE_PREMAP with @flags and @budget: the count or -errno. */
static long premap(int snap, void *addr, __u32 flags, __u32 budget)
{
	struct thaw_clone_op op = { .addr = (uintptr_t)addr, .flags = flags,
				    .private_budget = budget };

	if (ioctl(snap, THAW_IOC_CLONE_PREMAP, &op) < 0)
		return -errno;
	return op.count;
}

#define NEED_PRIVATE(self) do {						\
	if (!((self)->features & THAW_FEATURE_PRIVATE_HUGE))		\
		SKIP(return, "no THAW_FEATURE_PRIVATE_HUGE");		\
} while (0)

/* Region 0 ranks first (3 touched + 2 written), region 3 second (2 + 1). */
static const __u32 two_regions[] = { W(5), 6, W(7), W(3 * RP + 1), 3 * RP + 2 };

/*
 * A private copy a pipe still holds (vmsplice() through its PMD) when its
 * clone goes stays counted in pinned_pages, charged to the mapper, until
 * the pipe lets go (issue 14, hole 3); the pipe reads what was written.
 */
TEST_F(huge, private_copy_held_by_a_pipe)
{
	unsigned long pinned0, held, after;
	char *a, buf[64];
	struct iovec r;
	int p[2], i;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	read_all(a, self->len, self->ps);
	pinned0 = thaw_stats(self->dev).pinned_pages;
	memset(a + 5 * self->ps, 0x5a, sizeof(buf));
	ASSERT_EQ(1, thaw_clone_stats(self->snap, a).private_regions);
	EXPECT_EQ(pinned0 + RP, thaw_stats(self->dev).pinned_pages);

	ASSERT_EQ(0, pipe(p));
	r = (struct iovec){ .iov_base = a + 5 * self->ps,
			    .iov_len = 16 * self->ps };
	ASSERT_EQ(16 * self->ps, vmsplice(p[1], &r, 1, 0));
	munmap(a, self->len);
	held = thaw_stats(self->dev).pinned_pages;
	EXPECT_EQ(pinned0 + RP, held);
	ASSERT_EQ((ssize_t)sizeof(buf), read(p[0], buf, sizeof(buf)));
	for (i = 0; i < (int)sizeof(buf); i++)
		EXPECT_EQ(0x5a, buf[i]);
	close(p[0]);
	close(p[1]);
	for (i = 0; i < 30; i++) {
		after = thaw_stats(self->dev).pinned_pages;
		if (after == pinned0)
			break;
		usleep(100000);
	}
	printf("# pinned pages: %lu, with the copy in a pipe after its clone went %lu, after the pipe %lu (%d ms)\n",
	       pinned0, held, after, i * 100);
	fflush(stdout);
	EXPECT_EQ(pinned0, after);
}

/*
 * A write into a chosen region gives clone A a private copy: not seen by
 * clone B, a new clone or the file; a second write takes no fault; a
 * reset copies the snapshot back in place and keeps the PMD; DROP frees
 * the copy and the object's PMD comes back.
 */
TEST_F(huge, private_copy_of_chosen_region)
{
	size_t off = 5 * self->ps + 17;
	struct thaw_clone_stats st;
	unsigned long pinned0;
	char *a, *b, *c, *d;
	__u64 faults, maps;
	char byte;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	EXPECT_EQ(3, thaw_snap_stats(self->snap).wset_written);
	a = map_clone(self, self->snap, self->len, 0);
	b = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(16, st.private_budget);
	EXPECT_EQ(2, st.private_chosen);
	EXPECT_EQ(0, st.private_regions);
	read_all(a, self->len, self->ps);
	read_all(b, self->len, self->ps);
	pinned0 = thaw_stats(self->dev).pinned_pages;

	/* Over the object's read-only PMD: ->huge_fault makes the copy. */
	a[off] ^= 0x5a;
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1, st.private_regions);
	EXPECT_EQ(1, st.private_made);
	EXPECT_EQ(0, st.splits);
	EXPECT_EQ(0, st.private_pages);
	EXPECT_EQ(2, st.pmd_regions);		/* 1 and 3, the object's */
	EXPECT_EQ(3 * 2048, smaps_pmd_kb(a));
	EXPECT_EQ(pinned0 + RP, thaw_stats(self->dev).pinned_pages);
	EXPECT_EQ(self->file[off] ^ 0x5a, a[off]);
	EXPECT_EQ(self->file[off], b[off]);
	ASSERT_EQ(1, pread(self->src, &byte, 1, off));
	EXPECT_EQ(self->file[off], byte);
	c = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, c);
	EXPECT_EQ(0, memcmp(c, self->file, self->len));
	EXPECT_EQ(0, memcmp(a, self->file, off));
	EXPECT_EQ(0, memcmp(a + off + 1, self->file + off + 1,
			    self->len - off - 1));
	EXPECT_EQ(0, memcmp(b, self->file, self->len));
	/* The copy is writable: no more faults. */
	faults = st.faults;
	a[off + 3 * self->ps] = 1;
	a[SZ_2M - 1] = 1;
	EXPECT_EQ(faults, thaw_clone_stats(self->snap, a).faults);

	/* With no PMD over it, ->fault makes the copy. */
	d = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, d);
	d[3 * SZ_2M + 1] = 2;
	st = thaw_clone_stats(self->snap, d);
	EXPECT_EQ(1, st.private_regions);
	EXPECT_EQ(0, st.splits);
	EXPECT_EQ(2048, smaps_pmd_kb(d));
	EXPECT_EQ(0, memcmp(d + 3 * SZ_2M + 2, self->file + 3 * SZ_2M + 2,
			    SZ_2M - 2));

	/* Reset: the snapshot's content back in place; the PMD stays. */
	maps = thaw_clone_stats(self->snap, a).pmd_maps;
	EXPECT_EQ(RP, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a, 0));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1, st.private_regions);
	EXPECT_EQ(maps, st.pmd_maps);
	EXPECT_EQ(3 * 2048, smaps_pmd_kb(a));
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	/* Written again: the same copy, no fault. */
	faults = st.faults;
	a[off] = 1;
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1, st.private_made);
	EXPECT_EQ(faults, st.faults);

	/* DROP: the copy is freed, the object's PMD comes back on a read. */
	EXPECT_EQ(RP, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
				    THAW_CLONE_RESET_DROP_PRIVATE));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(0, st.private_regions);
	EXPECT_EQ(pinned0 + RP, thaw_stats(self->dev).pinned_pages); /* d's */
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	EXPECT_EQ(3, thaw_clone_stats(self->snap, a).pmd_regions);
	munmap(d, self->len);
	EXPECT_EQ(pinned0, thaw_stats(self->dev).pinned_pages);
	munmap(a, self->len);
	munmap(b, self->len);
	munmap(c, self->len);
}

/*
 * The budget: the highest-ranked regions are chosen, the rest split and
 * are counted over budget; the module parameter sets a new clone's.
 */
TEST_F(huge, over_budget_splits)
{
	struct thaw_clone_stats st;
	char *a, *b;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(2 * RP, premap(self->snap, a, THAW_CLONE_PREMAP_BUDGET, 1));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1, st.private_budget);
	EXPECT_EQ(1, st.private_chosen);
	a[(3 * RP + 9) * self->ps] = 1;
	a[5 * self->ps] = 1;
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1, st.private_over_budget);
	EXPECT_EQ(1, st.splits);
	EXPECT_EQ(1, st.private_regions);
	EXPECT_EQ(1, st.private_pages);
	EXPECT_EQ(1, a[(3 * RP + 9) * self->ps]);
	EXPECT_EQ(0, memcmp(a + (3 * RP + 10) * self->ps,
			    self->file + (3 * RP + 10) * self->ps,
			    (RP - 10) * self->ps));
	/* A budget of 0 chooses nothing; the copy held stays. */
	EXPECT_LE(0, premap(self->snap, a, THAW_CLONE_PREMAP_BUDGET, 0));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(0, st.private_chosen);
	EXPECT_EQ(1, st.private_regions);
	EXPECT_EQ(1, a[5 * self->ps]);

	ASSERT_EQ(0, thaw_param_write("private_huge_max", "0"));
	b = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, b);
	st = thaw_clone_stats(self->snap, b);
	EXPECT_EQ(0, st.private_budget);
	EXPECT_EQ(0, st.private_chosen);
	b[5 * self->ps] = 1;
	st = thaw_clone_stats(self->snap, b);
	EXPECT_EQ(0, st.private_regions);
	EXPECT_EQ(1, st.private_over_budget);
	EXPECT_EQ(1, st.splits);
	munmap(a, self->len);
	munmap(b, self->len);
}

/* Arguments: the budget only with its flag, the new flags on their ops. */
TEST_F(huge, private_args)
{
	struct thaw_clone_op op = { 0 };
	char *a;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	op.addr = (uintptr_t)a;
	op.private_budget = 3;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_PREMAP, &op));
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_RESET, &op));
	op.private_budget = 0;
	op.pad2 = 1;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_PREMAP, &op));
	op.pad2 = 0;
	op.flags = THAW_CLONE_PREMAP_PRIVATE;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_RESET, &op));
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_RECORD, &op));
	op.flags = THAW_CLONE_RESET_DROP_PRIVATE;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_PREMAP, &op));
	EXPECT_EQ(0, __thaw_ioctl(self->snap, THAW_IOC_CLONE_RESET, &op));
	/* COPY_ONLY makes copies: never without PRIVATE. */
	op.flags = THAW_CLONE_PREMAP_COPY_ONLY;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_PREMAP, &op));
	op.flags |= THAW_CLONE_PREMAP_BUDGET;
	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->snap, THAW_IOC_CLONE_PREMAP, &op));
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).private_made);
	munmap(a, self->len);
}

/*
 * THAW_CLONE_RESET_PRIVATE_LATER: the copies are unmapped and stale; a
 * read of one rewrites it (no new copy), THAW_CLONE_PREMAP_COPY_ONLY the
 * other; a reset without the flag leaves a stale copy stale; never read
 * stale, never seen by another clone.  Not with DROP_PRIVATE.
 */
TEST_F(huge, reset_later_rewrites_at_fault)
{
	struct thaw_clone_stats st;
	char *a, *b;

	NEED_PRIVATE(self);
	if (!(self->features & THAW_FEATURE_RESET_LATER))
		SKIP(return, "no THAW_FEATURE_RESET_LATER");
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	a = map_clone(self, self->snap, self->len, 0);
	b = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	a[5 * self->ps] ^= 0x5a;
	a[(3 * RP + 1) * self->ps] ^= 0x5a;
	EXPECT_EQ(2 * 2048, smaps_pmd_kb(a));
	EXPECT_EQ(-EINVAL, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					 THAW_CLONE_RESET_DROP_PRIVATE |
					 THAW_CLONE_RESET_PRIVATE_LATER));
	EXPECT_EQ(2 * RP, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					THAW_CLONE_RESET_REMAP |
					THAW_CLONE_RESET_PRIVATE_LATER));
	EXPECT_EQ(0, smaps_pmd_kb(a));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(2, st.private_regions);
	EXPECT_EQ(0, st.private_refreshed);
	/* Again, and a reset without the flag: still stale, not rewritten. */
	EXPECT_EQ(2 * RP, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					THAW_CLONE_RESET_PRIVATE_LATER));
	EXPECT_EQ(2 * RP, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					THAW_CLONE_RESET_REMAP));
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).private_refreshed);
	/* A read rewrites region 0's copy and maps it. */
	EXPECT_EQ(0, memcmp(a, self->file, SZ_2M));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1, st.private_refreshed);
	EXPECT_EQ(2, st.private_made);
	EXPECT_EQ(2048, smaps_pmd_kb(a));
	/* The call rewrites region 3's. */
	EXPECT_EQ(RP, premap(self->snap, a, THAW_CLONE_PREMAP_PRIVATE |
				     THAW_CLONE_PREMAP_COPY_ONLY, 0));
	EXPECT_EQ(2, thaw_clone_stats(self->snap, a).private_refreshed);
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	EXPECT_EQ(0, memcmp(b, self->file, self->len));
	/* A write after: private, counted nowhere else. */
	a[5 * self->ps] ^= 0x5a;
	EXPECT_EQ(self->file[5 * self->ps] ^ 0x5a, a[5 * self->ps]);
	EXPECT_EQ(self->file[5 * self->ps], b[5 * self->ps]);
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(2, st.private_made);
	EXPECT_EQ(0, st.splits);
	munmap(a, self->len);
	munmap(b, self->len);
}

/*
 * private_min_faults: a region whose copy would save fewer faults
 * (touched + written pages in the working set) gets none and is not
 * "wanted" either: a write there splits it, not counted over budget.
 */
TEST_F(huge, min_faults_leaves_sparse_regions)
{
	struct thaw_clone_stats st;
	char *a;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	/* Region 0 saves 5 faults, region 3 saves 3. */
	ASSERT_EQ(0, thaw_param_write("private_min_faults", "4"));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(1, thaw_clone_stats(self->snap, a).private_chosen);
	a[5 * self->ps] = 1;
	a[(3 * RP + 1) * self->ps] = 1;
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1, st.private_regions);
	EXPECT_EQ(1, st.splits);
	EXPECT_EQ(0, st.private_over_budget);
	EXPECT_EQ(0, memcmp(a + (3 * RP + 2) * self->ps,
			    self->file + (3 * RP + 2) * self->ps,
			    self->len - (3 * RP + 2) * self->ps));
	munmap(a, self->len);
	/* The choice is made again at a premap, from the parameter then. */
	ASSERT_EQ(0, thaw_param_write("private_min_faults", "6"));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).private_chosen);
	ASSERT_EQ(0, thaw_param_write("private_min_faults", "1"));
	EXPECT_LE(0, premap(self->snap, a, 0, 0));
	EXPECT_EQ(2, thaw_clone_stats(self->snap, a).private_chosen);
	munmap(a, self->len);
}

/* fail_huge_alloc: the copy cannot be had, the region splits, counted. */
TEST_F(huge, private_alloc_failure_splits)
{
	struct thaw_clone_stats st;
	char *a, *b;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	read_all(a, self->len, self->ps);
	ASSERT_EQ(0, thaw_param_write("fail_huge_alloc", "1"));
	a[5 * self->ps] = 1;
	ASSERT_EQ(0, thaw_param_write("fail_huge_alloc", "0"));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1, st.private_alloc_failed);
	EXPECT_EQ(0, st.private_regions);
	EXPECT_EQ(1, st.splits);
	EXPECT_EQ(1, st.private_pages);
	EXPECT_EQ(1, a[5 * self->ps]);
	EXPECT_EQ(0, memcmp(a + 6 * self->ps, self->file + 6 * self->ps,
			    self->len - 6 * self->ps));
	/* Premap's copies too: nothing split, nothing copied, all read. */
	b = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, thaw_param_write("fail_huge_alloc", "1"));
	EXPECT_EQ(2 * RP, premap(self->snap, b, THAW_CLONE_PREMAP_PRIVATE, 0));
	ASSERT_EQ(0, thaw_param_write("fail_huge_alloc", "0"));
	st = thaw_clone_stats(self->snap, b);
	EXPECT_EQ(2, st.private_alloc_failed);
	EXPECT_EQ(0, st.private_regions);
	EXPECT_EQ(0, st.splits);
	EXPECT_EQ(2, st.pmd_regions);
	EXPECT_EQ(0, memcmp(b, self->file, self->len));
	munmap(a, self->len);
	munmap(b, self->len);
}

/*
 * MADV_DONTNEED over a private copy drops its PMD and keeps its data: the
 * next access maps the same copy again.  Whole or partial, nothing counts
 * as dirtied; a reset returns the snapshot's content.
 */
TEST_F(huge, dontneed_keeps_private_copy)
{
	struct thaw_clone_stats st;
	char *a;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	a[5 * self->ps + 1] = 0x77;
	EXPECT_EQ(2048, smaps_pmd_kb(a));
	ASSERT_EQ(0, madvise(a, SZ_2M, MADV_DONTNEED));
	EXPECT_EQ(0, smaps_pmd_kb(a));
	EXPECT_EQ(0x77, a[5 * self->ps + 1]);
	EXPECT_EQ(2048, smaps_pmd_kb(a));
	ASSERT_EQ(0, madvise(a + 7 * self->ps, self->ps, MADV_DONTNEED));
	EXPECT_EQ(0x77, a[5 * self->ps + 1]);
	EXPECT_EQ(0, memcmp(a + 6 * self->ps, self->file + 6 * self->ps,
			    SZ_2M - 6 * self->ps));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1, st.private_regions);
	EXPECT_EQ(1, st.private_made);
	EXPECT_EQ(0, st.private_pages);
	EXPECT_EQ(0, st.splits);
	EXPECT_EQ(RP, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
				    THAW_CLONE_RESET_REMAP));
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	munmap(a, self->len);
}

/*
 * THAW_CLONE_PREMAP_PRIVATE copies the chosen regions before anything
 * runs: writes there take no fault.  Not in a read-only mapping.
 */
TEST_F(huge, premap_copies_chosen_regions)
{
	const __u32 set[] = { W(5), W(3 * RP + 1), 2 * RP + 3 };
	struct thaw_clone_stats st;
	char *a, *b;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, set, 3));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(2 * RP + 1, premap(self->snap, a, THAW_CLONE_PREMAP_PRIVATE,
				     0));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(2, st.private_regions);
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ(2 * RP + 1, st.premapped);
	EXPECT_EQ(2 * 2048, smaps_pmd_kb(a));
	a[5 * self->ps] = 1;
	a[(3 * RP + 100) * self->ps] = 1;
	EXPECT_EQ(0, memcmp(a + 6 * self->ps, self->file + 6 * self->ps,
			    SZ_2M - 6 * self->ps));
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).faults);
	/* Again: nothing new. */
	EXPECT_EQ(0, premap(self->snap, a, THAW_CLONE_PREMAP_PRIVATE, 0));
	munmap(a, self->len);

	b = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, self->snap, 0);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_EQ(2 * RP + 1, premap(self->snap, b, THAW_CLONE_PREMAP_PRIVATE,
				     0));
	st = thaw_clone_stats(self->snap, b);
	EXPECT_EQ(0, st.private_regions);
	EXPECT_EQ(2, st.pmd_regions);
	munmap(b, self->len);
}

struct copy_writer {
	char *a;
	size_t ps;
	volatile int stop;
	unsigned long writes;
};

/* Write a count into one page of regions 0 and 3 each, until stopped. */
static void *copy_writer_run(void *arg)
{
	struct copy_writer *w = arg;

	while (!w->stop) {
		w->writes++;
		*(volatile unsigned long *)(w->a + 9 * w->ps) = w->writes;
		*(volatile unsigned long *)(w->a + (3 * RP + 9) * w->ps) =
			w->writes;
	}
	return NULL;
}

/*
 * A THAW_CLONE_RESET_PRIVATE_LATER reset of @a, then the writer and
 * THAW_CLONE_PREMAP_COPY_ONLY again: the stale copies are rewritten once
 * each (by the call or at the writer's fault), then written; nothing
 * reads them stale.
 */
static void copy_only_after_reset(struct __test_metadata *_metadata,
				  FIXTURE_DATA(huge) *self, char *a)
{
	struct copy_writer w = { .ps = self->ps, .a = a };
	__u64 before = thaw_clone_stats(self->snap, a).private_refreshed;
	struct thaw_clone_stats st;
	pthread_t t;
	long n;

	ASSERT_LE(2 * RP, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
					THAW_CLONE_RESET_REMAP |
					THAW_CLONE_RESET_KEEP |
					THAW_CLONE_RESET_PRIVATE_LATER));
	ASSERT_EQ(0, pthread_create(&t, NULL, copy_writer_run, &w));
	n = premap(self->snap, a, THAW_CLONE_PREMAP_PRIVATE |
			       THAW_CLONE_PREMAP_COPY_ONLY, 0);
	w.stop = 1;
	pthread_join(t, NULL);
	EXPECT_LE(0, n);
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(2, st.private_refreshed - before);
	EXPECT_EQ(2, st.private_made);
	EXPECT_EQ(w.writes ? w.writes :
		  *(unsigned long *)(self->file + 9 * self->ps),
		  *(unsigned long *)(a + 9 * self->ps));
	EXPECT_EQ(0, memcmp(a + 10 * self->ps, self->file + 10 * self->ps,
			    (3 * RP - 1) * self->ps));
	EXPECT_EQ(0, memcmp(a + (3 * RP + 10) * self->ps,
			    self->file + (3 * RP + 10) * self->ps,
			    self->len - (3 * RP + 10) * self->ps));
}

/*
 * THAW_CLONE_PREMAP_COPY_ONLY beside a thread that writes into both
 * chosen regions (a vCPU beside thawvm's copier), round after round:
 * each region gets one copy, made by whichever came first (the other
 * waits for it); no write is lost, nothing else changes, the object and
 * another clone see the file.  With no premap before it, the copies are
 * all the call maps.
 */
TEST_F_TIMEOUT(huge, copy_only_beside_writers, 300)
{
	struct thaw_clone_stats st;
	unsigned long made = 0, by_call = 0;
	char *a, *b;
	int round;

	NEED_PRIVATE(self);
	if (!(self->features & THAW_FEATURE_COPY_ONLY))
		SKIP(return, "no THAW_FEATURE_COPY_ONLY");
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	b = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, b);
	for (round = 0; round < 40; round++) {
		struct copy_writer w = { .ps = self->ps };
		pthread_t t;
		long n;

		a = map_clone(self, self->snap, self->len, 0);
		ASSERT_NE(MAP_FAILED, a);
		if (round & 1)
			ASSERT_LE(0, premap(self->snap, a, 0, 0));
		w.a = a;
		ASSERT_EQ(0, pthread_create(&t, NULL, copy_writer_run, &w));
		n = premap(self->snap, a, THAW_CLONE_PREMAP_PRIVATE |
				       THAW_CLONE_PREMAP_COPY_ONLY, 0);
		w.stop = 1;
		pthread_join(t, NULL);
		ASSERT_LE(0, n);
		EXPECT_EQ(0, n % RP);
		EXPECT_GE(2 * RP, n);
		by_call += n / RP;
		st = thaw_clone_stats(self->snap, a);
		EXPECT_EQ(2, st.private_regions);
		EXPECT_EQ(2, st.private_made);
		EXPECT_EQ(0, st.splits);
		EXPECT_EQ(2 * 2048, smaps_pmd_kb(a));
		made += st.private_made;
		/* The writer may not have run at all. */
		EXPECT_EQ(w.writes ? w.writes :
			  *(unsigned long *)(self->file + 9 * self->ps),
			  *(unsigned long *)(a + 9 * self->ps));
		EXPECT_EQ(w.writes ? w.writes :
			  *(unsigned long *)(self->file +
					     (3 * RP + 9) * self->ps),
			  *(unsigned long *)(a + (3 * RP + 9) * self->ps));
		EXPECT_EQ(0, memcmp(a + 10 * self->ps,
				    self->file + 10 * self->ps,
				    (3 * RP - 1) * self->ps));
		EXPECT_EQ(0, memcmp(a + (3 * RP + 10) * self->ps,
				    self->file + (3 * RP + 10) * self->ps,
				    self->len - (3 * RP + 10) * self->ps));
		/* Again: nothing left to copy. */
		EXPECT_EQ(0, premap(self->snap, a, THAW_CLONE_PREMAP_PRIVATE |
					    THAW_CLONE_PREMAP_COPY_ONLY, 0));
		if (self->features & THAW_FEATURE_RESET_LATER)
			copy_only_after_reset(_metadata, self, a);
		munmap(a, self->len);
	}
	EXPECT_EQ(0, memcmp(b, self->file, self->len));
	TH_LOG("%d rounds: %lu copies, %lu of them by the call", round, made,
	       by_call);
	munmap(b, self->len);
}

/*
 * A recording notes writes (a write fault, a copy-on-write of a mapped
 * page, in a zero region too); the next clone chooses the regions the
 * recording wrote, ranked; a private copy of a zero region is zeros.
 */
TEST_F(huge, recorded_writes_choose_regions)
{
	__u32 got[8];
	struct thaw_wset_io io = { .pages = (uintptr_t)got, .count = 8,
				   .flags = THAW_WSET_IO_WRITTEN };
	struct thaw_clone_stats st;
	volatile char sink;
	char *a, *b;

	NEED_PRIVATE(self);
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a, 0));
	sink = a[9 * self->ps];
	a[(3 * RP + 4) * self->ps] = 1;
	sink = a[(3 * RP + 6) * self->ps];
	a[(3 * RP + 6) * self->ps] = 1;
	a[(RP + 2) * self->ps] = 1;
	(void)sink;
	EXPECT_EQ(0, thaw_clone_stats(self->snap, a).private_regions);
	EXPECT_EQ(4, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, a, 0));
	EXPECT_EQ(3, thaw_snap_stats(self->snap).wset_written);
	ASSERT_EQ(0, __thaw_ioctl(self->snap, THAW_IOC_WSET_GET, &io));
	ASSERT_EQ(4, io.count);
	EXPECT_EQ(9, got[0]);
	EXPECT_EQ(W(3 * RP + 4), got[1]);
	EXPECT_EQ(W(3 * RP + 6), got[2]);
	EXPECT_EQ(W(RP + 2), got[3]);
	munmap(a, self->len);

	/* Region 3 (2 touched + 2 written) before region 1 (1 + 1). */
	b = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_EQ(2, thaw_clone_stats(self->snap, b).private_chosen);
	EXPECT_LE(0, premap(self->snap, b, THAW_CLONE_PREMAP_BUDGET, 1));
	b[(3 * RP + 4) * self->ps] = 1;
	b[(RP + 2) * self->ps] = 1;
	st = thaw_clone_stats(self->snap, b);
	EXPECT_EQ(1, st.private_regions);
	EXPECT_EQ(1, st.private_over_budget);
	munmap(b, self->len);
	/* Budget 16: the zero region's copy too, zeros but for the write. */
	b = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, b);
	b[(RP + 2) * self->ps + 3] = 9;
	EXPECT_EQ(1, thaw_clone_stats(self->snap, b).private_regions);
	EXPECT_EQ(9, b[(RP + 2) * self->ps + 3]);
	b[(RP + 2) * self->ps + 3] = 0;
	for (unsigned long i = 0; i < RP; i++)
		ASSERT_TRUE(thaw_page_is_zero(b + (RP + i) * self->ps));
	munmap(b, self->len);
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* Did reading @p raise SIGBUS? */
static int read_bus(const volatile char *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int bus = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1))
		bus = 1;
	else
		(void)*p;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

/*
 * MADV_DOFORK of a clone with a private copy: the child cannot be given
 * the parent's copy, so its 2 MiB regions of the object raise SIGBUS
 * rather than show the snapshot; its 4 KiB regions read as before.
 */
TEST_F(huge, forked_copy_of_private_clone)
{
	int status;
	pid_t pid;
	char *a;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	a[5] = 1;
	ASSERT_EQ(1, thaw_clone_stats(self->snap, a).private_regions);
	ASSERT_EQ(0, madvise(a, self->len, MADV_DOFORK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int bad = !read_bus(a + 5) || !read_bus(a + 3 * SZ_2M) ||
			  read_bus(a + 2 * SZ_2M) ||
			  memcmp(a + 2 * SZ_2M, self->file + 2 * SZ_2M, SZ_2M);

		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(1, a[5]);
	munmap(a, self->len);
}

/*
 * 1000 resets of a clone with private copies and 4 KiB dirty pages: the
 * content is the snapshot's after each, and the counters (copies, pinned
 * pages, PMDs) end where they started.
 */
TEST_F_TIMEOUT(huge, thousand_resets_with_private_copies, 900)
{
	struct thaw_clone_stats st0, st;
	unsigned long pinned0;
	long kb0;
	char *a;

	NEED_PRIVATE(self);
	ASSERT_EQ(0, wset_set_written(self->snap, two_regions, 5));
	a = map_clone(self, self->snap, self->len, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_LE(0, premap(self->snap, a, THAW_CLONE_PREMAP_PRIVATE, 0));
	read_all(a, self->len, self->ps);
	st0 = thaw_clone_stats(self->snap, a);
	ASSERT_EQ(2, st0.private_regions);
	pinned0 = thaw_stats(self->dev).pinned_pages;
	kb0 = smaps_pmd_kb(a);
	for (int i = 0; i < 1000; i++) {
		a[5 * self->ps + i % self->ps] = (char)i;
		a[(3 * RP + 1) * self->ps] = (char)i;
		a[(2 * RP + 3) * self->ps] = (char)i;
		ASSERT_EQ(2 * RP + 1, thaw_clone_op(self->snap,
						    THAW_IOC_CLONE_RESET, a,
						    THAW_CLONE_RESET_REMAP));
		if (!(i % 100))
			ASSERT_EQ(0, memcmp(a, self->file, self->len));
	}
	EXPECT_EQ(0, memcmp(a, self->file, self->len));
	st = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(1000, st.resets);
	EXPECT_EQ(2, st.private_regions);
	EXPECT_EQ(2, st.private_made);
	EXPECT_EQ(0, st.private_pages);
	EXPECT_EQ(st0.pmd_maps, st.pmd_maps);
	EXPECT_EQ(st0.pmd_regions, st.pmd_regions);
	EXPECT_EQ(st0.shared_pages, st.shared_pages);
	EXPECT_EQ(pinned0, thaw_stats(self->dev).pinned_pages);
	EXPECT_EQ(kb0, smaps_pmd_kb(a));
	munmap(a, self->len);
}

TEST_HARNESS_MAIN
