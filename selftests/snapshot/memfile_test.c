// SPDX-License-Identifier: GPL-2.0
/*
 * Memory and working-set files on the kernel the VMs run on (the unit
 * tests run on the build host's): io_uring, SEEK_DATA on tmpfs and
 * memfds, hole punching, MADV_POPULATE_READ.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "lib/memfile.h"
#include "lib/wset.h"
#include "snap_test.h"

#define PAGES		4096ul		/* 16 MiB */
#define SIZE		(PAGES * ST_PAGE)

FIXTURE(memfile) {
	char dir[64], out[128], base[128], diff[128];
	int memfd;
	uint8_t *ram;
};

FIXTURE_SETUP(memfile)
{
	strcpy(self->dir, "/tmp/thaw-memfile.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->out, sizeof(self->out), "%s/memory", self->dir);
	snprintf(self->base, sizeof(self->base), "%s/base", self->dir);
	snprintf(self->diff, sizeof(self->diff), "%s/diff", self->dir);
	self->memfd = memfd_create("ram", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, SIZE));
	self->ram = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->ram);
	/* The test pattern: page i is a hole when i % 4 == 3. */
	for (uint64_t i = 0; i < PAGES; i++)
		if (!st_is_hole(i))
			st_fill(self->ram + i * ST_PAGE, i);
}

FIXTURE_TEARDOWN(memfile)
{
	munmap(self->ram, SIZE);
	close(self->memfd);
	unlink(self->out);
	unlink(self->base);
	unlink(self->diff);
	rmdir(self->dir);
}

static uint64_t data_pages(const char *path)
{
	int fd = open(path, O_RDONLY);
	uint64_t n = 0;
	off_t pos = 0;

	for (;;) {
		off_t d = lseek(fd, pos, SEEK_DATA), h;

		if (d < 0)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		n += (uint64_t)(h - d) / ST_PAGE;
		pos = h;
	}
	close(fd);
	return n;
}

static bool file_is(const char *path, const uint8_t *ram)
{
	uint8_t *buf = malloc(SIZE);
	int fd = open(path, O_RDONLY);
	bool same = fd >= 0 && pread(fd, buf, SIZE, 0) == (ssize_t)SIZE &&
		    !memcmp(buf, ram, SIZE);

	if (fd >= 0)
		close(fd);
	free(buf);
	return same;
}

TEST_F_TIMEOUT(memfile, full_then_diff, 120)
{
	struct memfile_region r = { .host = self->ram, .size = SIZE,
				    .fd = self->memfd };
	struct memfile_opts o = { .mode = MEMFILE_FULL };
	uint64_t *dirty = calloc(PAGES / 64, sizeof(uint64_t));
	struct memfile_stats st;
	char err[256];

	ASSERT_EQ(0, memfile__write(self->base, &r, 1, SIZE, &o, &st, err,
				    sizeof(err))) TH_LOG("%s", err);
	EXPECT_TRUE(st.used_io_uring);
	EXPECT_EQ(PAGES * 3 / 4, st.pages_written);
	EXPECT_EQ(PAGES * 3 / 4, data_pages(self->base));
	EXPECT_TRUE(file_is(self->base, self->ram));

	/* Change 3 pages (one of them to zeros), then a Diff. */
	st_fill(self->ram + 3 * ST_PAGE, 9999);
	memset(self->ram + 4 * ST_PAGE, 0, ST_PAGE);
	st_fill(self->ram + 4000 * ST_PAGE, 8888);
	dirty[0] = (1ull << 3) | (1ull << 4);
	dirty[4000 / 64] |= 1ull << (4000 % 64);
	r.dirty = dirty;
	o.mode = MEMFILE_DIFF;
	ASSERT_EQ(0, memfile__write(self->diff, &r, 1, SIZE, &o, &st, err,
				    sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(3, data_pages(self->diff));
	ASSERT_EQ(0, memfile__apply_diff(self->base, self->diff, SIZE, &st,
					 err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_TRUE(file_is(self->base, self->ram));
	EXPECT_EQ(1, st.pages_punched);
	free(dirty);
}

TEST_F_TIMEOUT(memfile, restore_side, 120)
{
	struct memfile_region r = { .host = self->ram, .size = SIZE,
				    .fd = self->memfd };
	struct wset_populate_stats pst;
	struct memfile_stats st;
	struct wset *ws;
	uint8_t *map;
	char err[256];
	int fd;

	ASSERT_EQ(0, memfile__write(self->out, &r, 1, SIZE, NULL, &st, err,
				    sizeof(err)));
	EXPECT_EQ(-EINVAL, memfile__open(self->out, SIZE * 2, err,
					 sizeof(err)));
	fd = memfile__open(self->out, SIZE, err, sizeof(err));
	ASSERT_LE(0, fd);
	map = mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, wset__new(SIZE, ST_PAGE, &ws));
	for (uint64_t i = 100; i < 200; i++)
		ASSERT_EQ(1, wset__add(ws, i * ST_PAGE));
	ASSERT_EQ(1, wset__add(ws, 7 * ST_PAGE));
	ASSERT_EQ(0, wset__populate(ws, map, SIZE, &pst));
	EXPECT_EQ(101, pst.pages);
	EXPECT_EQ(2, pst.calls);
	for (uint64_t i = 100; i < 200; i++) {
		unsigned char v;

		ASSERT_EQ(0, mincore(map + i * ST_PAGE, ST_PAGE, &v));
		EXPECT_TRUE(v & 1);
	}
	EXPECT_TRUE(st_check(map + 150 * ST_PAGE, 150));
	wset__free(ws);
	munmap(map, SIZE);
	close(fd);
}

/*
 * hugetlbfs RAM: no SEEK_DATA there, so the writer must go by the pages
 * mapped, and must not allocate the others by reading them.
 */
TEST_F_TIMEOUT(memfile, hugetlb_ram, 120)
{
	const uint64_t hp = 2ul << 20, size = 4 * hp;
	struct memfile_opts o = { .mode = MEMFILE_FULL };
	struct memfile_stats st;
	long reserved, before;
	struct memfile_region r = { .size = size };
	char err[256];
	uint8_t *ram;
	int fd;

	reserved = st_huge_reserve(4);
	if (st_huge_free() < 4)
		SKIP(return, "fewer than 4 free 2 MiB huge pages");
	fd = memfd_create("huge-ram", MFD_CLOEXEC | MFD_HUGETLB);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, ram);
	for (uint64_t i = 0; i < hp / ST_PAGE; i++)
		st_fill(ram + hp + i * ST_PAGE, i);	/* huge page 1 only */
	before = st_huge_free();
	r.host = ram;
	r.fd = fd;
	ASSERT_EQ(0, memfile__write(self->out, &r, 1, size, &o, &st, err,
				    sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(before, st_huge_free());
	EXPECT_EQ(hp / ST_PAGE, st.pages_written);
	EXPECT_EQ(hp / ST_PAGE, data_pages(self->out));
	munmap(ram, size);
	close(fd);
	st_huge_restore(reserved);
}

TEST_HARNESS_MAIN
