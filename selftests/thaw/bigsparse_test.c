// SPDX-License-Identifier: GPL-2.0
/*
 * Long work on a huge sparse object stays preemptible (issue 14, hole 4):
 * a working set as large as the object (import, seal, export), a premap
 * of all of it, a MADV_DONTNEED over the whole clone (the invalidate walk
 * over every mapped page), and a recording that saw every page written.
 *
 * The source is a 1 TiB sparse memfd.  An object of all of it needs a
 * 2 GiB page array, and its full working set 3 GiB more: more than the
 * test machine has (3 GiB, max_pinned_mb half of it), so such an object
 * must be refused with a clear error, and the loops are driven on a
 * 64 GiB window at its end (2^24 pages, the same loops 16 times shorter).
 *
 * Each heavy call runs beside a probe thread on the same CPU that sleeps
 * 5 ms at a time: the longest it waited to run again is the longest
 * stretch the call went without a scheduling point.  That, and the kernel
 * log (no soft lockup, RCU stall or warning since the test began), are
 * what is checked.
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define FILE_SIZE	(1ULL << 40)
#define WIN_SIZE	(64ULL << 30)
/*
 * Under TCG, with scheduling points, the probe waited up to 800 ms (the
 * emulation, the host's load); the loops without them held the CPU for
 * 25-44 s at this size, past the soft-lockup watchdog's 20 s.
 */
#define MAX_STALL_MS	5000.0

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct probe {
	pthread_t thread;
	cpu_set_t cpus;
	volatile int stop;
	double max_ms;
};

static void *probe_run(void *arg)
{
	struct probe *p = arg;
	struct timespec nap = { .tv_nsec = 5 * 1000 * 1000 };
	struct sched_param sp = { .sched_priority = 1 };

	sched_setaffinity(0, sizeof(p->cpus), &p->cpus);
	/* Realtime where allowed: it runs at the first scheduling point. */
	sched_setscheduler(0, SCHED_FIFO, &sp);
	while (!p->stop) {
		double t = now_ms(), late;

		nanosleep(&nap, NULL);
		late = now_ms() - t - 5;
		if (late > p->max_ms)
			p->max_ms = late;
	}
	return NULL;
}

/* Pin the caller to its CPU and start a probe there. */
static int probe_start(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	CPU_ZERO(&p->cpus);
	CPU_SET(sched_getcpu(), &p->cpus);
	if (sched_setaffinity(0, sizeof(p->cpus), &p->cpus))
		return -errno;
	return -pthread_create(&p->thread, NULL, probe_run, p);
}

/* The longest the probe waited, in ms. */
static double probe_stop(struct probe *p)
{
	p->stop = 1;
	pthread_join(p->thread, NULL);
	return p->max_ms;
}

FIXTURE(bigsparse) {
	int dev;
	int src;
	int snap;
	int kmsg;
	long ps;
	unsigned long npages;		/* the window's */
	__u32 *pages;
};

FIXTURE_SETUP(bigsparse)
{
	self->src = self->snap = self->kmsg = -1;
	self->pages = NULL;
	self->ps = thaw_page_size();
	self->npages = WIN_SIZE / self->ps;
	self->dev = thaw_open_api(NULL);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));
	/* The kernel log from here on. */
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (self->kmsg < 0)
		SETUP_SKIP("/dev/kmsg: %s", strerror(errno));
	lseek(self->kmsg, 0, SEEK_END);
	self->src = memfd_create("thaw-1t", MFD_CLOEXEC);
	ASSERT_LE(0, self->src);
	ASSERT_EQ(0, ftruncate(self->src, FILE_SIZE));
	self->pages = malloc(self->npages * sizeof(__u32));
	ASSERT_NE(NULL, self->pages);
	self->snap = thaw_snap_create(self->dev, self->src,
				      FILE_SIZE - WIN_SIZE, WIN_SIZE, NULL);
	ASSERT_LE(0, self->snap) TH_LOG("SNAP_CREATE: %s",
				       strerror(-self->snap));
}

/* Kernel log lines since the setup that say a CPU was held too long. */
static int kmsg_bad(struct __test_metadata *_metadata, int fd)
{
	static const char *const bad[] = {
		"soft lockup", "rcu_preempt detected stall",
		"rcu: INFO:", "self-detected stall", "WARNING:", "BUG:",
	};
	char rec[8192];
	ssize_t n;
	int found = 0;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(rec, bad[i])) {
				TH_LOG("kernel log: %s", strchr(rec, ';') ?
				       strchr(rec, ';') + 1 : rec);
				found++;
				break;
			}
		}
	}
	return found;
}

FIXTURE_TEARDOWN(bigsparse)
{
	if (self->kmsg >= 0) {
		EXPECT_EQ(0, kmsg_bad(_metadata, self->kmsg));
		close(self->kmsg);
	}
	free(self->pages);
	if (self->snap >= 0)
		close(self->snap);
	if (self->src >= 0)
		close(self->src);
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		close(self->dev);
	}
}

static int wset_set(int snap, const __u32 *pages, __u32 n, __u32 flags)
{
	struct thaw_wset_io io = { .pages = (uintptr_t)pages, .count = n,
				   .flags = flags };

	return __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io);
}

/* The entries, or -errno. */
static long wset_get(int snap, __u32 *pages, __u32 cap, __u32 flags)
{
	struct thaw_wset_io io = { .pages = (uintptr_t)pages, .count = cap,
				   .flags = flags };

	if (ioctl(snap, THAW_IOC_WSET_GET, &io) < 0)
		return -errno;
	return io.count;
}

#define EXPECT_NO_STALL(what, ms) do {					\
	TH_LOG("%s: longest wait of a thread on its CPU %.0f ms",	\
	       what, ms);						\
	EXPECT_GT(MAX_STALL_MS, ms);					\
} while (0)

/* An object of the whole 1 TiB file: a clear error here, or an object. */
TEST_F_TIMEOUT(bigsparse, whole_file_object, 300)
{
	int snap;

	snap = thaw_snap_create(self->dev, self->src, 0, FILE_SIZE, NULL);
	if (snap >= 0) {
		EXPECT_EQ(FILE_SIZE / self->ps, thaw_snap_stats(snap).pages);
		close(snap);
		return;
	}
	TH_LOG("1 TiB object: %s", strerror(-snap));
	EXPECT_TRUE(snap == -EDQUOT || snap == -ENOMEM || snap == -E2BIG);
}

/*
 * Every page of the window, last first, every other one written: the
 * import sorts and ranks 2^24 entries; the export gives them back.
 */
TEST_F_TIMEOUT(bigsparse, wset_of_every_page, 600)
{
	struct thaw_snap_stats st;
	struct probe p;
	double t, ms;
	unsigned long i, n = self->npages;

	for (i = 0; i < n; i++)
		self->pages[i] = (n - 1 - i) | (i & 1 ? 0 : THAW_WSET_WRITTEN);
	ASSERT_EQ(0, probe_start(&p));
	t = now_ms();
	EXPECT_EQ(0, wset_set(self->snap, self->pages, n,
			      THAW_WSET_IO_WRITTEN));
	TH_LOG("WSET_SET of %lu entries: %.0f ms", n, now_ms() - t);
	ms = probe_stop(&p);
	EXPECT_NO_STALL("WSET_SET", ms);
	st = thaw_snap_stats(self->snap);
	EXPECT_EQ(n, st.wset_pages);
	EXPECT_EQ(n / 2, st.wset_written);

	memset(self->pages, 0, n * sizeof(__u32));
	ASSERT_EQ(0, probe_start(&p));
	EXPECT_EQ(n, wset_get(self->snap, self->pages, n,
			      THAW_WSET_IO_WRITTEN));
	ms = probe_stop(&p);
	EXPECT_NO_STALL("WSET_GET", ms);
	for (i = 0; i < n; i++)
		if (self->pages[i] !=
		    ((n - 1 - i) | (i & 1 ? 0 : THAW_WSET_WRITTEN)))
			break;
	EXPECT_EQ(n, i) TH_LOG("entry %lu: %#x", i, self->pages[i]);
}

/*
 * A clone premaps the whole window (2^24 pages), then a MADV_DONTNEED of
 * all of it while recording: the invalidate walk visits every mapped page
 * and records each as written; the stop seals a working set of all of
 * them.
 */
TEST_F_TIMEOUT(bigsparse, premap_dontneed_record, 900)
{
	size_t len = self->npages * self->ps;
	struct thaw_clone_stats cs;
	unsigned long i, n = self->npages;
	struct probe p;
	double t, ms;
	char *a;

	for (i = 0; i < n; i++)
		self->pages[i] = i;
	ASSERT_EQ(0, wset_set(self->snap, self->pages, n, 0));
	a = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_NORESERVE, self->snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, a, 0));

	ASSERT_EQ(0, probe_start(&p));
	t = now_ms();
	EXPECT_EQ(n, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP, a, 0));
	TH_LOG("PREMAP of %lu pages: %.0f ms", n, now_ms() - t);
	ms = probe_stop(&p);
	EXPECT_NO_STALL("PREMAP", ms);
	cs = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(n, cs.shared_pages);

	ASSERT_EQ(0, probe_start(&p));
	t = now_ms();
	EXPECT_EQ(0, madvise(a, len, MADV_DONTNEED));
	TH_LOG("MADV_DONTNEED of %lu pages: %.0f ms", n, now_ms() - t);
	ms = probe_stop(&p);
	EXPECT_NO_STALL("MADV_DONTNEED", ms);
	cs = thaw_clone_stats(self->snap, a);
	EXPECT_EQ(0, cs.shared_pages);
	EXPECT_EQ(n, cs.recorded);

	ASSERT_EQ(0, probe_start(&p));
	t = now_ms();
	EXPECT_EQ(n, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, a, 0));
	TH_LOG("STOP of a %lu-page recording: %.0f ms", n, now_ms() - t);
	ms = probe_stop(&p);
	EXPECT_NO_STALL("CLONE_STOP", ms);
	EXPECT_EQ(n, thaw_snap_stats(self->snap).wset_written);
	munmap(a, len);
}

TEST_HARNESS_MAIN
