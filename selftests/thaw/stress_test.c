// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: clones of shared objects driven at once from several processes
 * and threads for a bounded time (THAW_STRESS_SECONDS, default 15), each
 * thread on a clone mapping of its own doing at random: reads (checked
 * against the snapshot's content where it has not written), writes,
 * premaps, resets, record/stop, MADV_DONTNEED, fork of the mapping,
 * munmap and mmap again, and the stats ioctls.  The objects: one huge
 * (with a dense, a zero and a sparse region and a partial last one), one
 * lazy filling while the clones fault, and the huge one again by name.
 * At the end every clone's content was right, and once the processes are
 * gone and the cache is dropped thaw.ko holds no object, clone or pinned
 * page.  (The group's end checks the kernel log and the unload.)
 */
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define NPAGES		(4 * THAW_REGION_PAGES + 100)
#define SEED		11
#define PROCS		2
#define THREADS		3
#define NAME		"stress-huge"

/* Region 0-1 dense, 2 all zero, 3 sparse (a page in 64), a partial 4th. */
static int is_hole(unsigned long i)
{
	unsigned long r = i / THAW_REGION_PAGES;

	return r == 2 || (r == 3 && i % 64);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

enum { OP_READ, OP_WRITE, OP_PREMAP, OP_RESET, OP_RECORD, OP_DONTNEED,
       OP_FORK, OP_REMAP, OP_STATS, OP_COUNT };

static const char *const op_name[OP_COUNT] = {
	"read", "write", "premap", "reset", "record/stop", "dontneed",
	"fork", "munmap/mmap", "stats",
};

struct worker {
	int snap;		/* the object this thread clones */
	long ps;
	size_t len;
	uint64_t seed;
	uint64_t deadline_ns;
	uint64_t ops[OP_COUNT];
	uint64_t refused[OP_COUNT];	/* ioctls that failed, allowed */
	unsigned long bad;		/* pages with wrong content */
	unsigned long bad_errno;	/* ioctls that failed as they must not */
	char why[160];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Page @i of clone @a holds the snapshot's content? */
static int page_right(const char *a, unsigned long i, long ps)
{
	return is_hole(i) ? thaw_page_is_zero(a + i * ps) :
			    thaw_page_matches(a + i * ps, i, SEED);
}

static void note_bad(struct worker *w, const char *what, unsigned long i)
{
	if (!w->bad++)
		snprintf(w->why, sizeof(w->why), "%s: page %lu is wrong", what,
			 i);
}

/*
 * An ioctl that may fail only with these errors: busy, no memory, no
 * working set to premap (the lazy object has none).
 */
static void ioctl_result(struct worker *w, int op, long ret)
{
	if (ret >= 0)
		return;
	w->refused[op]++;
	if (ret != -EBUSY && ret != -ENOMEM && ret != -EAGAIN &&
	    ret != -EINTR && ret != -ENODATA && !w->bad_errno++)
		snprintf(w->why, sizeof(w->why), "%s: %s", op_name[op],
			 strerror((int)-ret));
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned long npages = w->len / w->ps;
	uint8_t *dirty = calloc(npages, 1);
	char *a;

	a = mmap(NULL, w->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, w->snap, 0);
	if (a == MAP_FAILED || !dirty) {
		snprintf(w->why, sizeof(w->why), "mmap: %s", strerror(errno));
		w->bad_errno++;
		free(dirty);
		return NULL;
	}
	while (now_ns() < w->deadline_ns) {
		unsigned long i = rnd(&w->seed) % npages, n;
		int op = rnd(&w->seed) % OP_COUNT;
		long ret;

		w->ops[op]++;
		switch (op) {
		case OP_READ:
			if (!dirty[i] && !page_right(a, i, w->ps))
				note_bad(w, "read", i);
			break;
		case OP_WRITE:
			memset(a + i * w->ps + (rnd(&w->seed) % 64) * 8, 0xa5,
			       8);
			dirty[i] = 1;
			break;
		case OP_PREMAP:
			ioctl_result(w, op, thaw_clone_op(w->snap,
				     THAW_IOC_CLONE_PREMAP, a, 0));
			break;
		case OP_RESET:
			ret = thaw_clone_op(w->snap, THAW_IOC_CLONE_RESET, a,
					    rnd(&w->seed) & 1 ?
					    THAW_CLONE_RESET_REMAP : 0);
			ioctl_result(w, op, ret);
			if (ret < 0)
				break;
			memset(dirty, 0, npages);
			for (int k = 0; k < 8; k++) {
				i = rnd(&w->seed) % npages;
				if (!page_right(a, i, w->ps))
					note_bad(w, "after a reset", i);
			}
			break;
		case OP_RECORD:
			ret = thaw_clone_op(w->snap, THAW_IOC_CLONE_RECORD, a, 0);
			ioctl_result(w, op, ret);
			if (ret < 0)
				break;
			for (int k = 0; k < 16; k++) {
				i = rnd(&w->seed) % npages;
				if (!dirty[i] && !page_right(a, i, w->ps))
					note_bad(w, "while recording", i);
			}
			/* Discard: the object's working set stays the fixture's. */
			ioctl_result(w, op, thaw_clone_op(w->snap,
				     THAW_IOC_CLONE_STOP, a,
				     THAW_CLONE_STOP_DISCARD));
			break;
		case OP_DONTNEED:
			n = 1 + rnd(&w->seed) % 64;
			if (i + n > npages)
				n = npages - i;
			/*
			 * Written pages stay unchecked until a reset: over a
			 * private 2 MiB copy MADV_DONTNEED keeps the data.
			 */
			madvise(a + i * w->ps, n * w->ps, MADV_DONTNEED);
			break;
		case OP_FORK: {
			pid_t pid;
			int st;

			if (rnd(&w->seed) & 1)
				madvise(a, w->len, MADV_DOFORK);
			else
				madvise(a, w->len, MADV_DONTFORK);
			pid = fork();
			if (pid == 0) {
				unsigned char v = 0;

				/* Only if the mapping came along. */
				if (!madvise(a, w->ps, MADV_NORMAL)) {
					for (unsigned long k = 0; k < npages;
					     k += 97)
						v ^= ((volatile char *)a)[k * w->ps];
					a[i * w->ps] = v;
				}
				_exit(0);
			}
			if (pid > 0)
				waitpid(pid, &st, 0);
			break;
		}
		case OP_REMAP:
			munmap(a, w->len);
			a = mmap(NULL, w->len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE, w->snap, 0);
			if (a == MAP_FAILED) {
				ioctl_result(w, op, -errno);
				free(dirty);
				return NULL;
			}
			memset(dirty, 0, npages);
			break;
		case OP_STATS: {
			struct thaw_snap_stats s = thaw_snap_stats(w->snap);
			struct thaw_clone_stats c = thaw_clone_stats(w->snap, a);

			if (s.pages != npages || c.pages != npages) {
				w->bad_errno++;
				snprintf(w->why, sizeof(w->why),
					 "stats: %llu / %llu pages",
					 (unsigned long long)s.pages,
					 (unsigned long long)c.pages);
			}
			break;
		}
		}
	}
	munmap(a, w->len);
	free(dirty);
	return NULL;
}

/* One process: THREADS workers over the objects; exit status: failures. */
static int process(int dev, const int *snaps, int nsnaps, long ps,
		   size_t len, unsigned int seed, uint64_t deadline_ns)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	unsigned long bad = 0;
	uint64_t ops[OP_COUNT] = { 0 };
	int named;

	/* The huge object again, by its name, as a restore finds it. */
	named = thaw_snap_open(dev, NAME);
	for (int k = 0; k < THREADS; k++) {
		memset(&w[k], 0, sizeof(w[k]));
		w[k].snap = k == THREADS - 1 && named >= 0 ? named :
			    snaps[k % nsnaps];
		w[k].ps = ps;
		w[k].len = len;
		w[k].seed = 0x9e3779b97f4a7c15ULL * (seed * THREADS + k + 1);
		w[k].deadline_ns = deadline_ns;
		if (pthread_create(&t[k], NULL, work, &w[k]))
			return 100;
	}
	for (int k = 0; k < THREADS; k++) {
		pthread_join(t[k], NULL);
		bad += w[k].bad + w[k].bad_errno;
		for (int o = 0; o < OP_COUNT; o++)
			ops[o] += w[k].ops[o];
		if (w[k].why[0])
			fprintf(stderr, "# process %u thread %d: %s\n", seed, k,
				w[k].why);
	}
	fprintf(stderr, "# process %u:", seed);
	for (int o = 0; o < OP_COUNT; o++)
		fprintf(stderr, " %s %llu", op_name[o],
			(unsigned long long)ops[o]);
	fprintf(stderr, "\n");
	if (named >= 0)
		close(named);
	return bad > 99 ? 99 : (int)bad;
}

TEST(threads_and_processes)
{
	const char *env = getenv("THAW_STRESS_SECONDS");
	int seconds = env ? atoi(env) : 15;
	long ps = thaw_page_size();
	size_t len = NPAGES * ps;
	int dev, src, lazy_src, snaps[2], nsnaps = 1;
	pid_t pid[PROCS];
	__u64 features = 0;
	uint64_t deadline;
	__u32 set[64];
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 64 };

	dev = thaw_open_api(&features);
	if (dev < 0)
		SKIP(return, THAW_DEV " not usable: %s", strerror(-dev));
	src = thaw_memfd(NPAGES, SEED, is_hole);
	ASSERT_LE(0, src);
	snaps[0] = thaw_snap_create_flags(dev, src, 0, len, NAME,
					  features & THAW_FEATURE_HUGE ?
					  THAW_SNAP_CREATE_HUGE : 0);
	ASSERT_LE(0, snaps[0]);
	for (int k = 0; k < 64; k++)
		set[k] = (k * 37) % NPAGES;
	EXPECT_EQ(0, __thaw_ioctl(snaps[0], THAW_IOC_WSET_SET, &io));
	if (features & THAW_FEATURE_LAZY) {
		lazy_src = thaw_memfd(NPAGES, SEED, is_hole);
		ASSERT_LE(0, lazy_src);
		lazy_src = thaw_reopen_ro(lazy_src);
		ASSERT_LE(0, lazy_src);
		snaps[1] = thaw_snap_create_flags(dev, lazy_src, 0, len, NULL,
						  THAW_SNAP_CREATE_LAZY |
						  THAW_SNAP_CREATE_HUGE);
		ASSERT_LE(0, snaps[1]);
		close(lazy_src);
		nsnaps = 2;
	}
	deadline = now_ns() + seconds * 1000000000ULL;
	for (int p = 0; p < PROCS; p++) {
		pid[p] = fork();
		ASSERT_LE(0, pid[p]);
		if (!pid[p])
			_exit(process(dev, snaps, nsnaps, ps, len, p + 1,
				      deadline));
	}
	for (int p = 0; p < PROCS; p++) {
		int st = 0;

		ASSERT_EQ(pid[p], waitpid(pid[p], &st, 0));
		EXPECT_TRUE(WIFEXITED(st)) TH_LOG("process %d: status %#x", p,
						  st);
		EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("process %d", p);
	}
	TH_LOG("%d processes of %d threads for %d s over %d objects", PROCS,
	       THREADS, seconds, nsnaps + 1);
	for (int k = 0; k < nsnaps; k++)
		close(snaps[k]);
	close(src);
	EXPECT_NO_THAW_OBJECTS(dev);
	close(dev);
}

TEST_HARNESS_MAIN
