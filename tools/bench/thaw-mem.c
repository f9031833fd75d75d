// SPDX-License-Identifier: GPL-2.0
/*
 * thaw-mem: how fast a restored clone's working set becomes usable, for
 * thaw.ko alone (no VMM): the same scattered working set of a memory image,
 * touched in the recorded order (some pages written), after
 *   file-fault     mmap(MAP_PRIVATE) of the memfd, first-touch faults
 *   file-populate  the same, MADV_POPULATE_READ on every run of the set first
 *   thaw-fault     mmap(MAP_PRIVATE) of a snapshot object, first-touch faults
 *   thaw-premap    the same, THAW_IOC_CLONE_PREMAP first
 *   thaw-reset     the premapped clone after one round, reused:
 *                  THAW_IOC_CLONE_RESET with REMAP, then the same touches
 * It prints setup and touch times (median of the rounds) beside the counts
 * that explain them: minor faults of the process (getrusage) and faults the
 * module served.  Run it in the machine under test (it needs thaw.ko), e.g.
 *   tools/vmtest/run -- build/bin/bench-thaw-mem
 * Times under TCG are inflated; compare ratios taken in the same run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/thaw.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define MAX_ROUNDS	31

struct opts {
	unsigned long mib;
	unsigned int wset_pct;
	unsigned int write_pct;
	unsigned int rounds;
	unsigned long seed;
};

struct sample {
	double setup_us, touch_us;
	long minflt;
	uint64_t thaw_faults, premapped;
};

struct bench {
	struct opts o;
	long ps;
	unsigned long npages, nws;
	int dev, src, snap;
	uint32_t *order;	/* the working set, in touch order */
	uint32_t *sorted;
	unsigned char *writes;	/* per entry of order: written? */
};

static void die(const char *what)
{
	fprintf(stderr, "thaw-mem: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A memory image with no zero page, and a scattered working set. */
static void bench_setup(struct bench *b)
{
	struct thaw_api api = { .api = THAW_API_VERSION,
				.features = THAW_FEATURE_SNAPSHOT |
					    THAW_FEATURE_WSET |
					    THAW_FEATURE_RESET |
					    THAW_FEATURE_STATS };
	struct thaw_snap_create c = { 0 };
	struct thaw_wset_io io = { 0 };
	size_t chunk = 1 << 20;
	uint64_t s = b->o.seed | 1;
	unsigned char *seen;
	char *buf;

	b->ps = sysconf(_SC_PAGESIZE);
	b->npages = (b->o.mib << 20) / b->ps;
	b->nws = b->npages * b->o.wset_pct / 100;
	if (!b->nws)
		b->nws = 1;

	b->dev = open("/dev/" THAW_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (b->dev < 0)
		die("/dev/thaw (is thaw.ko loaded?)");
	if (ioctl(b->dev, THAW_IOC_API, &api))
		die("THAW_IOC_API");

	b->src = memfd_create("thaw-mem", MFD_CLOEXEC);
	if (b->src < 0 || ftruncate(b->src, b->npages * b->ps))
		die("memfd");
	buf = malloc(chunk);
	if (!buf)
		die("malloc");
	for (size_t off = 0; off < b->npages * b->ps; off += chunk) {
		for (size_t i = 0; i < chunk / 8; i++)
			((uint64_t *)buf)[i] = rng(&s) | 1;
		if (pwrite(b->src, buf, chunk, off) != (ssize_t)chunk)
			die("pwrite");
	}
	free(buf);

	b->order = calloc(b->nws, sizeof(*b->order));
	b->sorted = calloc(b->nws, sizeof(*b->sorted));
	b->writes = calloc(b->nws, 1);
	seen = calloc(b->npages, 1);
	if (!b->order || !b->sorted || !b->writes || !seen)
		die("calloc");
	for (unsigned long i = 0; i < b->nws; i++) {
		uint32_t p;

		do {
			p = rng(&s) % b->npages;
		} while (seen[p]);
		seen[p] = 1;
		b->order[i] = p;
		b->writes[i] = rng(&s) % 100 < b->o.write_pct;
	}
	free(seen);
	memcpy(b->sorted, b->order, b->nws * sizeof(*b->order));
	qsort(b->sorted, b->nws, sizeof(*b->sorted), cmp_u32);

	c.fd = b->src;
	c.length = b->npages * b->ps;
	b->snap = ioctl(b->dev, THAW_IOC_SNAP_CREATE, &c);
	if (b->snap < 0)
		die("THAW_IOC_SNAP_CREATE");
	io.pages = (uintptr_t)b->order;
	io.count = b->nws;
	if (ioctl(b->snap, THAW_IOC_WSET_SET, &io))
		die("THAW_IOC_WSET_SET");
}

/* The function: touch the working set in order, writing some pages. */
static void touch(struct bench *b, char *mem)
{
	volatile char sink = 0;

	for (unsigned long i = 0; i < b->nws; i++) {
		char *p = mem + (size_t)b->order[i] * b->ps;

		if (b->writes[i])
			p[64] = 1;
		else
			sink += p[64];
	}
	(void)sink;
}

static void populate_runs(struct bench *b, char *mem)
{
	for (unsigned long i = 0, n; i < b->nws; i += n) {
		for (n = 1; i + n < b->nws &&
		     b->sorted[i + n] == b->sorted[i] + n; n++)
			;
		if (madvise(mem + (size_t)b->sorted[i] * b->ps, n * b->ps,
			    MADV_POPULATE_READ))
			die("MADV_POPULATE_READ");
	}
}

static struct thaw_clone_stats clone_stats(struct bench *b, char *mem)
{
	struct thaw_clone_stats st = { .addr = (uintptr_t)mem };

	if (ioctl(b->snap, THAW_IOC_CLONE_STATS, &st))
		die("THAW_IOC_CLONE_STATS");
	return st;
}

static void clone_op(struct bench *b, unsigned long cmd, char *mem,
		     uint32_t flags)
{
	struct thaw_clone_op op = { .addr = (uintptr_t)mem, .flags = flags };

	if (ioctl(b->snap, cmd, &op))
		die("clone ioctl");
}

enum method { FILE_FAULT, FILE_POPULATE, THAW_FAULT, THAW_PREMAP,
	      THAW_RESET, NR_METHODS };

static const char *const method_name[NR_METHODS] = {
	"file-fault", "file-populate", "thaw-fault", "thaw-premap",
	"thaw-reset",
};

/* One round of @m on a fresh mapping (thaw-reset reuses a clone). */
static struct sample run_one(struct bench *b, enum method m)
{
	size_t len = b->npages * b->ps;
	int thaw = m >= THAW_FAULT;
	struct thaw_clone_stats st0 = { 0 }, st1;
	struct sample r = { 0 };
	double t0, t1, t2;
	long f0;
	char *mem;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		   thaw ? b->snap : b->src, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	if (m == THAW_RESET) {
		/* The previous invocation on this clone. */
		clone_op(b, THAW_IOC_CLONE_PREMAP, mem, 0);
		touch(b, mem);
		st0 = clone_stats(b, mem);
	}

	f0 = minflt();
	t0 = now_us();
	switch (m) {
	case FILE_POPULATE:
		populate_runs(b, mem);
		break;
	case THAW_PREMAP:
		clone_op(b, THAW_IOC_CLONE_PREMAP, mem, 0);
		break;
	case THAW_RESET:
		clone_op(b, THAW_IOC_CLONE_RESET, mem, THAW_CLONE_RESET_REMAP);
		break;
	default:
		break;
	}
	t1 = now_us();
	touch(b, mem);
	t2 = now_us();
	r.minflt = minflt() - f0;
	r.setup_us = t1 - t0;
	r.touch_us = t2 - t1;
	if (thaw) {
		st1 = clone_stats(b, mem);
		r.thaw_faults = st1.faults - st0.faults;
		r.premapped = st1.premapped - st0.premapped;
	}
	munmap(mem, len);
	return r;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thaw-mem [--mem MIB] [--wset PCT] [--writes PCT] [--rounds N] [--seed N]\n"
		"  --mem MIB     guest memory image size (default 256)\n"
		"  --wset PCT    working set, percent of the pages (default 10)\n"
		"  --writes PCT  percent of working-set pages written (default 20)\n"
		"  --rounds N    rounds per method, the median is shown (default 5)\n"
		"  --seed N      working-set layout (default 1)\n");
}

static unsigned long parse_ul(const char *s, unsigned long min,
			      unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "thaw-mem: bad number '%s' (%lu..%lu)\n", s,
			min, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "wset", required_argument, NULL, 'w' },
		{ "writes", required_argument, NULL, 'W' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct bench b = { .o = { 256, 10, 20, 5, 1 } };
	double total[NR_METHODS], setup[MAX_ROUNDS], tch[MAX_ROUNDS];
	double create_us;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			b.o.mib = parse_ul(optarg, 1, 1 << 16);
			break;
		case 'w':
			b.o.wset_pct = parse_ul(optarg, 1, 100);
			break;
		case 'W':
			b.o.write_pct = parse_ul(optarg, 0, 100);
			break;
		case 'r':
			b.o.rounds = parse_ul(optarg, 1, MAX_ROUNDS);
			break;
		case 's':
			b.o.seed = parse_ul(optarg, 0, ~0UL);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	create_us = now_us();
	bench_setup(&b);
	create_us = now_us() - create_us;

	printf("thaw-mem: %lu pages (%lu MiB), working set %lu pages (%u%%, scattered), %u%% of them written, median of %u rounds\n",
	       b.npages, b.o.mib, b.nws, b.o.wset_pct, b.o.write_pct,
	       b.o.rounds);
	printf("(memfd filled and snapshot object created in %.0f us, once)\n\n",
	       create_us);
	printf("%-14s %10s %10s %10s %8s %8s %11s %10s\n", "method",
	       "setup_us", "touch_us", "total_us", "ns/page", "minflt",
	       "thaw_faults", "premapped");
	for (int m = 0; m < NR_METHODS; m++) {
		struct sample s = { 0 };

		for (unsigned int r = 0; r < b.o.rounds; r++) {
			s = run_one(&b, m);
			setup[r] = s.setup_us;
			tch[r] = s.touch_us;
		}
		setup[0] = median(setup, b.o.rounds);
		tch[0] = median(tch, b.o.rounds);
		total[m] = setup[0] + tch[0];
		/* Counts are the same every round: the last one's. */
		printf("%-14s %10.0f %10.0f %10.0f %8.0f %8ld ", method_name[m],
		       setup[0], tch[0], total[m], total[m] * 1e3 / b.nws,
		       s.minflt);
		if (m >= THAW_FAULT)
			printf("%11llu %10llu\n",
			       (unsigned long long)s.thaw_faults,
			       (unsigned long long)s.premapped);
		else
			printf("%11s %10s\n", "-", "-");
	}
	printf("\nfile-fault / thaw-premap: %.2fx   file-populate / thaw-premap: %.2fx   file-fault / thaw-reset: %.2fx\n",
	       total[FILE_FAULT] / total[THAW_PREMAP],
	       total[FILE_POPULATE] / total[THAW_PREMAP],
	       total[FILE_FAULT] / total[THAW_RESET]);
	close(b.snap);
	close(b.src);
	close(b.dev);
	free(b.order);
	free(b.sorted);
	free(b.writes);
	return 0;
}
