// SPDX-License-Identifier: GPL-2.0
/*
 * Lazy objects (THAW_SNAP_CREATE_LAZY): created at once, each 2 MiB region
 * read from the file on first use.  Through clones the content is the
 * file's, byte for byte, in huge, sparse, zero and partial regions, and the
 * object ends up stored as an eager one would be; many threads faulting
 * one region get one fill; writers get ETXTBSY while the object holds the
 * file and can write once it let go, and the object keeps what the file
 * held; a failed fill gives SIGBUS and is tried again; premap fills the
 * working set's regions; the background fill fills the rest and lets go.
 * The background fill is off (fill_background) but where a test turns it on.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define RP		THAW_REGION_PAGES
/* Region 0 dense, 1 all zero, 2 sparse, 3 half zero, then a partial one. */
#define NREG		4
#define TAIL		100
#define NPAGES		(NREG * RP + TAIL)
#define REGIONS		(NREG + 1)
#define SPARSE		THAW_TEST_SPARSE
#define SEED		21

/* Is every page of @mem (@n pages) the file's, seeded @seed? */
static unsigned long bad_pages(const char *mem, unsigned long n, long ps,
			       unsigned int seed)
{
	unsigned long i, bad = 0;

	for (i = 0; i < n; i++) {
		const char *p = mem + i * ps;

		if (thaw_layout_hole(i) ? !thaw_page_is_zero(p) :
				     !thaw_page_matches(p, i, seed))
			bad++;
	}
	return bad;
}

FIXTURE(lazy) {
	int dev;
	int src;
	long ps;
	size_t len;
	__u64 features;
	char bg[16];
	char path[64];
};

FIXTURE_SETUP(lazy)
{
	self->src = -1;
	self->bg[0] = 0;
	self->ps = thaw_page_size();
	self->len = NPAGES * self->ps;
	self->dev = thaw_open_api(&self->features);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));
	if (!(self->features & THAW_FEATURE_LAZY))
		SETUP_SKIP("no THAW_FEATURE_LAZY");
	ASSERT_EQ(0, thaw_param_read("fill_background", self->bg,
				     sizeof(self->bg)));
	ASSERT_EQ(0, thaw_param_write("fill_background", "0"));
	self->src = thaw_memfd(NPAGES, SEED, thaw_layout_hole);
	ASSERT_LE(0, self->src);
	self->src = thaw_reopen_ro(self->src);
	ASSERT_LE(0, self->src);
	snprintf(self->path, sizeof(self->path), "/proc/self/fd/%d",
		 self->src);
}

FIXTURE_TEARDOWN(lazy)
{
	if (self->bg[0])
		EXPECT_EQ(0, thaw_param_write("fill_background", self->bg));
	EXPECT_EQ(0, thaw_param_write("fail_fill", "0"));
	if (self->src >= 0)
		close(self->src);
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		close(self->dev);
	}
}

/* Can the source be opened for writing now?  0 or -errno. */
static int try_write_open(FIXTURE_DATA(lazy) *self)
{
	int fd = open(self->path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * Read through two clones of a lazy object: the file's content; the
 * object is then filled, by faults, lets go of the file, and holds what
 * an eager object of the same file holds.
 */
static void check_content(struct __test_metadata *_metadata,
			  FIXTURE_DATA(lazy) *self, __u32 huge)
{
	struct thaw_snap_stats st, eg;
	int snap, eager;
	char *a, *b;

	snap = thaw_snap_create_flags(self->dev, self->src, 0, self->len, NULL,
				      THAW_SNAP_CREATE_LAZY | huge);
	ASSERT_LE(0, snap);
	st = thaw_snap_stats(snap);
	EXPECT_EQ(REGIONS, st.regions);
	EXPECT_EQ(0, st.filled_regions);
	EXPECT_EQ(0, st.data_pages);
	EXPECT_EQ(THAW_SNAP_STATE_LAZY | THAW_SNAP_STATE_FILLING, st.state);
	/* Reserved: every page, the zero folio, the array and zero page. */
	EXPECT_EQ(NPAGES + (huge ? RP : 0) + 1 +
		  (NPAGES * sizeof(void *) + self->ps - 1) / self->ps,
		  st.pinned_pages);

	a = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	b = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_EQ(0, bad_pages(a, NPAGES, self->ps, SEED));
	EXPECT_EQ(0, bad_pages(b, NPAGES, self->ps, SEED));
	/* A write stays in its clone. */
	a[3 * self->ps] ^= 1;
	EXPECT_TRUE(thaw_page_matches(b + 3 * self->ps, 3, SEED));

	st = thaw_snap_stats(snap);
	EXPECT_EQ(REGIONS, st.filled_regions);
	EXPECT_EQ(REGIONS, st.filled_fault);
	EXPECT_EQ(0, st.filled_premap);
	EXPECT_EQ(0, st.filled_background);
	EXPECT_EQ(0, st.fill_errors);
	EXPECT_EQ(THAW_SNAP_STATE_LAZY, st.state);

	eager = thaw_snap_create_flags(self->dev, self->src, 0, self->len,
				       NULL, huge);
	ASSERT_LE(0, eager);
	eg = thaw_snap_stats(eager);
	EXPECT_EQ(0, eg.state);
	EXPECT_EQ(REGIONS, eg.filled_regions);
	EXPECT_EQ(eg.data_pages, st.data_pages);
	EXPECT_EQ(eg.zero_pages, st.zero_pages);
	EXPECT_EQ(eg.pinned_pages, st.pinned_pages);
	EXPECT_EQ(eg.huge_regions, st.huge_regions);
	EXPECT_EQ(eg.zero_regions, st.zero_regions);
	EXPECT_EQ(eg.small_regions, st.small_regions);
	if (huge) {
		EXPECT_EQ(2, st.huge_regions);	/* 0 and 3 */
		EXPECT_EQ(1, st.zero_regions);
	}
	TH_LOG("%s: %llu data, %llu zero, %llu pinned pages; regions %llu huge, %llu zero, %llu small",
	       huge ? "huge" : "4 KiB", st.data_pages, st.zero_pages,
	       st.pinned_pages, st.huge_regions, st.zero_regions,
	       st.small_regions);
	munmap(a, self->len);
	munmap(b, self->len);
	close(eager);
	close(snap);
}

TEST_F(lazy, content_4k)
{
	check_content(_metadata, self, 0);
}

TEST_F(lazy, content_huge)
{
	if (!(self->features & THAW_FEATURE_HUGE))
		SKIP(return, "no THAW_FEATURE_HUGE");
	check_content(_metadata, self, THAW_SNAP_CREATE_HUGE);
}

#define THREADS	8

struct toucher {
	pthread_barrier_t *go;
	const char *page;
	unsigned long idx;
	int ok;
};

static void *touch(void *arg)
{
	struct toucher *t = arg;

	pthread_barrier_wait(t->go);
	t->ok = thaw_page_matches(t->page, t->idx, SEED);
	return NULL;
}

/* Threads faulting one region at once: one fill, the others wait for it. */
TEST_F(lazy, one_fill_for_many_faults)
{
	struct toucher t[THREADS];
	pthread_t th[THREADS];
	pthread_barrier_t go;
	struct thaw_snap_stats st;
	__u32 huge = self->features & THAW_FEATURE_HUGE ?
		     THAW_SNAP_CREATE_HUGE : 0;
	int snap, i;
	char *a;

	snap = thaw_snap_create_flags(self->dev, self->src, 0, self->len, NULL,
				      THAW_SNAP_CREATE_LAZY | huge);
	ASSERT_LE(0, snap);
	a = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, THREADS));
	for (i = 0; i < THREADS; i++) {
		t[i] = (struct toucher){ .go = &go, .idx = 37 * i + 5 };
		t[i].page = a + t[i].idx * self->ps;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, touch, &t[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_TRUE(t[i].ok);
	}
	pthread_barrier_destroy(&go);
	st = thaw_snap_stats(snap);
	TH_LOG("%d threads, one region: %llu fill, %llu waits", THREADS,
	       st.filled_fault, st.fill_waits);
	EXPECT_EQ(1, st.filled_regions);
	EXPECT_EQ(1, st.filled_fault);
	EXPECT_GE(THREADS - 1, st.fill_waits);
	EXPECT_LE(1, thaw_stats(self->dev).filled_fault);
	munmap(a, self->len);
	close(snap);
}

/*
 * While the object holds the file, nobody can write it (ETXTBSY, like a
 * running executable); a file open for writing cannot be held; once every
 * region is filled, or the object is gone, writes work again.
 */
TEST_F(lazy, writers_wait_for_the_fill)
{
	int snap, other, rw;
	char *a;

	snap = thaw_snap_create_flags(self->dev, self->src, 0, self->len, NULL,
				      THAW_SNAP_CREATE_LAZY);
	ASSERT_LE(0, snap);
	EXPECT_EQ(-ETXTBSY, try_write_open(self));
	EXPECT_EQ(-ETXTBSY, truncate(self->path, 0) ? -errno : 0);
	/* A second lazy object of the same file: writes denied twice. */
	other = thaw_snap_create_flags(self->dev, self->src, 0, self->len,
				       NULL, THAW_SNAP_CREATE_LAZY);
	ASSERT_LE(0, other);

	a = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, bad_pages(a, RP, self->ps, SEED));
	EXPECT_EQ(-ETXTBSY, try_write_open(self));
	EXPECT_EQ(0, bad_pages(a, NPAGES, self->ps, SEED));
	EXPECT_EQ(0, thaw_snap_stats(snap).state & THAW_SNAP_STATE_FILLING);
	/* @other still holds it, unfilled; closing it lets go too. */
	EXPECT_EQ(-ETXTBSY, try_write_open(self));
	close(other);
	EXPECT_EQ(0, try_write_open(self));
	munmap(a, self->len);
	close(snap);

	/* Someone has it open for writing: refused, and copying works. */
	rw = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, rw);
	EXPECT_EQ(-ETXTBSY,
		  thaw_snap_create_flags(self->dev, rw, 0, self->len, NULL,
					 THAW_SNAP_CREATE_LAZY));
	snap = thaw_snap_create_flags(self->dev, rw, 0, self->len, NULL, 0);
	ASSERT_LE(0, snap);
	EXPECT_EQ(REGIONS, thaw_snap_stats(snap).filled_regions);
	close(snap);
	close(rw);
}

/*
 * The object keeps what the file held when it was made: rewritten after
 * the object let go, the file changes, the object does not, and a new
 * object of it holds the new content.
 */
TEST_F(lazy, object_keeps_its_content)
{
	char *buf = malloc(self->ps), *a;
	struct stat before, after;
	int snap, fresh, w;
	unsigned long i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, fstat(self->src, &before));
	snap = thaw_snap_create_flags(self->dev, self->src, 0, self->len, NULL,
				      THAW_SNAP_CREATE_LAZY);
	ASSERT_LE(0, snap);
	a = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, bad_pages(a, NPAGES, self->ps, SEED));
	munmap(a, self->len);

	/* Let go: rewrite every data page with another seed. */
	w = open(self->path, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, w);
	for (i = 0; i < NPAGES; i++) {
		if (thaw_layout_hole(i))
			continue;
		thaw_fill_page(buf, i, SEED + 1);
		ASSERT_EQ(self->ps, pwrite(w, buf, self->ps, i * self->ps));
	}
	close(w);
	ASSERT_EQ(0, fstat(self->src, &after));
	/* What userspace names objects after moved (lib/thaw-object.c). */
	EXPECT_TRUE(before.st_ctim.tv_sec != after.st_ctim.tv_sec ||
		    before.st_ctim.tv_nsec != after.st_ctim.tv_nsec);

	a = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, bad_pages(a, NPAGES, self->ps, SEED));
	munmap(a, self->len);
	fresh = thaw_snap_create_flags(self->dev, self->src, 0, self->len,
				       NULL, THAW_SNAP_CREATE_LAZY);
	ASSERT_LE(0, fresh);
	a = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, fresh, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(0, bad_pages(a, NPAGES, self->ps, SEED + 1));
	munmap(a, self->len);
	close(fresh);
	close(snap);
	free(buf);
}

/* A child maps the object and reads page @idx: its wait status. */
static int child_reads(int snap, size_t len, long ps, unsigned long idx)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		volatile char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE,
					snap, 0);

		if (m == MAP_FAILED)
			_exit(2);
		(void)m[idx * ps];
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* A failed fill: SIGBUS for the access, the region stays unfilled. */
TEST_F(lazy, fill_error_sigbus_then_retry)
{
	struct thaw_snap_stats st;
	__u32 set[] = { 5 };
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 1 };
	int snap, status;
	char *a;

	snap = thaw_snap_create_flags(self->dev, self->src, 0, self->len, NULL,
				      THAW_SNAP_CREATE_LAZY);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, thaw_param_write("fail_fill", "1"));
	status = child_reads(snap, self->len, self->ps, 5);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("child status %#x", status);
	/* A premap of that region fails too. */
	ASSERT_EQ(0, __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io));
	a = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(-EIO, thaw_clone_op(snap, THAW_IOC_CLONE_PREMAP, a, 0));
	st = thaw_snap_stats(snap);
	EXPECT_EQ(2, st.fill_errors);
	EXPECT_EQ(0, st.filled_regions);
	EXPECT_EQ(0, st.data_pages);
	EXPECT_NE(0, st.state & THAW_SNAP_STATE_FILLING);

	ASSERT_EQ(0, thaw_param_write("fail_fill", "0"));
	EXPECT_EQ(0, child_reads(snap, self->len, self->ps, 5));
	EXPECT_TRUE(thaw_page_matches(a + 5 * self->ps, 5, SEED));
	st = thaw_snap_stats(snap);
	EXPECT_EQ(1, st.filled_regions);
	EXPECT_EQ(1, st.filled_fault);
	EXPECT_GE(thaw_stats(self->dev).fill_errors, 2);
	munmap(a, self->len);
	close(snap);
}

/* Premap fills the regions the working set touches, before mapping. */
TEST_F(lazy, premap_fills_the_working_set)
{
	__u32 set[] = { 5, 3 * RP + 2, 3 * RP + 4, NREG * RP + 1 };
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 4 };
	struct thaw_clone_stats cs;
	struct thaw_snap_stats st;
	int snap;
	char *a;

	snap = thaw_snap_create_flags(self->dev, self->src, 0, self->len, NULL,
				      THAW_SNAP_CREATE_LAZY);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io));
	a = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(4, thaw_clone_op(snap, THAW_IOC_CLONE_PREMAP, a, 0));
	st = thaw_snap_stats(snap);
	EXPECT_EQ(3, st.filled_regions);
	EXPECT_EQ(3, st.filled_premap);
	EXPECT_EQ(0, st.filled_fault);
	EXPECT_TRUE(thaw_page_matches(a + 5 * self->ps, 5, SEED));
	EXPECT_TRUE(thaw_page_matches(a + (3 * RP + 2) * self->ps,
				      3 * RP + 2, SEED));
	cs = thaw_clone_stats(snap, a);
	EXPECT_EQ(0, cs.faults);
	munmap(a, self->len);
	close(snap);
}

/* The object as it is now, read again every 10 ms for up to @secs. */
static struct thaw_snap_stats wait_filled(int snap, int secs)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct thaw_snap_stats st;
	int i;

	for (i = 0; i < secs * 100; i++) {
		st = thaw_snap_stats(snap);
		if (!(st.state & THAW_SNAP_STATE_FILLING))
			break;
		nanosleep(&ts, NULL);
	}
	return st;
}

/*
 * The background fill: the working set's regions first, then every other
 * one; the object lets go of the file and gives back the pins it did not
 * need.  An object closed in the middle of it stops it and leaves nothing.
 */
TEST_F_TIMEOUT(lazy, background_fill, 120)
{
	__u32 set[] = { 3 * RP + 2 };
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 1 };
	struct thaw_snap_stats st;
	int snap, eager, big, i;

	ASSERT_EQ(0, thaw_param_write("fill_background", "1"));
	snap = thaw_snap_create_flags(self->dev, self->src, 0, self->len, NULL,
				      THAW_SNAP_CREATE_LAZY);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io));
	st = wait_filled(snap, 60);
	EXPECT_EQ(THAW_SNAP_STATE_LAZY, st.state);
	EXPECT_EQ(REGIONS, st.filled_regions);
	EXPECT_EQ(REGIONS, st.filled_background);
	EXPECT_EQ(0, try_write_open(self));
	eager = thaw_snap_create_flags(self->dev, self->src, 0, self->len,
				       NULL, 0);
	ASSERT_LE(0, eager);
	EXPECT_EQ(thaw_snap_stats(eager).pinned_pages, st.pinned_pages);
	close(eager);
	close(snap);

	/* Objects closed while their fill runs. */
	for (i = 0; i < 4; i++) {
		big = thaw_snap_create_flags(self->dev, self->src, 0,
					     self->len, NULL,
					     THAW_SNAP_CREATE_LAZY);
		ASSERT_LE(0, big);
		if (i & 1)
			usleep(1000 * i);
		close(big);
	}
	EXPECT_EQ(0, try_write_open(self));
}

TEST_HARNESS_MAIN
