// SPDX-License-Identifier: GPL-2.0
/*
 * bench-uffd [--dir DIR] [--mib N] [--touch P] [--repeat N] [--cold]
 *
 * How fast restored memory reaches a first touch, per memory backend,
 * without a VM: a memory file of N MiB (half its pages data, half holes),
 * a working set of P% of its pages in random order, and this process
 * touching the working set (one read per page, in its order) the way a
 * restored guest's first invocation would:
 *
 *   file             MAP_PRIVATE of the memory file, faults on demand
 *   file+populate    the same after wset__populate() (MADV_POPULATE_READ)
 *   uffd             userfaultfd, thaw-uffd-handler serving each fault
 *   uffd+prefetch    the handler prefetches the working set first
 *
 * Each time runs from the mapping (and the handshake) to the last page
 * touched, the handler already listening.  Counts: minor and major page
 * faults of this process (getrusage) and, for uffd, the handler's.  With
 * --cold the page cache is dropped before each run (root).  Prints a
 * table; each row is the median of N runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/snaputil.h"
#include "lib/uffd.h"
#include "lib/wset.h"

#define PG		4096ull
#define MAX_RUNS	15

enum mode { FILE_ONLY, FILE_POPULATE, UFFD, UFFD_PREFETCH, NMODES };

static const char *const mode_name[NMODES] = {
	"file", "file+populate", "uffd", "uffd+prefetch",
};

struct result {
	uint64_t ns, minflt, majflt;
	long long hfaults, hprefetched;
};

static char dir[PATH_MAX] = ".", mem_path[PATH_MAX + 16];
static char wset_path[PATH_MAX + 16], sock_path[PATH_MAX + 16];
static char handler_bin[PATH_MAX];
static uint64_t mem_size;
static struct wset *ws;
static bool cold;

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int make_files(double touch)
{
	uint64_t pages = mem_size / PG, n = (uint64_t)(pages * touch / 100);
	uint64_t *order;
	uint8_t buf[PG];
	char err[256];
	int fd;

	fd = open(mem_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)mem_size))
		return -1;
	for (uint64_t p = 0; p < pages; p++) {
		if (next_rand() & 1)
			continue;		/* a hole */
		for (unsigned int k = 0; k < PG; k += 8) {
			uint64_t v = next_rand() | 1;

			memcpy(buf + k, &v, 8);
		}
		if (pwrite(fd, buf, PG, (off_t)(p * PG)) != (ssize_t)PG) {
			close(fd);
			return -1;
		}
	}
	fsync(fd);
	close(fd);

	/* The working set: n distinct pages in random order. */
	order = malloc(pages * sizeof(*order));
	if (!order || wset__new(mem_size, PG, &ws))
		return -1;
	for (uint64_t p = 0; p < pages; p++)
		order[p] = p;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t j = i + next_rand() % (pages - i), t = order[i];

		order[i] = order[j];
		order[j] = t;
		wset__add(ws, order[i] * PG);
	}
	free(order);
	if (wset__write(ws, wset_path, err, sizeof(err))) {
		fprintf(stderr, "bench-uffd: %s\n", err);
		return -1;
	}
	return 0;
}

static void drop_caches(void)
{
	int fd;

	if (!cold)
		return;
	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "1\n", 2) != 2)
		fprintf(stderr, "bench-uffd: cannot drop caches (root?)\n");
	if (fd >= 0)
		close(fd);
}

/* Start the handler (--once), wait until it listens; its stdout pipe. */
static pid_t start_handler(bool prefetch, int *out)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (null >= 0)
			dup2(null, 2);	/* its banner; failures show as ours */
		if (prefetch)
			execl(handler_bin, handler_bin, sock_path, mem_path,
			      "--once", "--wset", wset_path, NULL);
		else
			execl(handler_bin, handler_bin, sock_path, mem_path,
			      "--once", NULL);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	for (int i = 0; i < 2000 && pid > 0; i++) {
		struct stat st;

		if (!stat(sock_path, &st) && S_ISSOCK(st.st_mode))
			return pid;
		usleep(2000);
	}
	return -1;
}

static long long count_of(const char *out, const char *key)
{
	const char *l = strstr(out, "vm 1 "), *k;
	char pat[64];

	snprintf(pat, sizeof(pat), " %s=", key);
	k = l ? strstr(l, pat) : NULL;
	return k ? strtoll(k + strlen(pat), NULL, 10) : -1;
}

static void touch_all(const uint8_t *ram)
{
	volatile uint8_t sink = 0;

	for (size_t i = 0; i < wset__count(ws); i++)
		sink += ram[wset__offset(ws, i)];
	(void)sink;
}

static int run_once(enum mode m, struct result *r)
{
	bool uffd = m == UFFD || m == UFFD_PREFETCH;
	struct wset_populate_stats pst;
	struct uffd_backend *b = NULL;
	struct rusage r0, r1;
	char err[256], out[4096];
	int fd = -1, hout = -1, status;
	pid_t hpid = 0;
	uint64_t t0;
	uint8_t *ram;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->hfaults = r->hprefetched = -1;
	drop_caches();
	if (uffd) {
		hpid = start_handler(m == UFFD_PREFETCH, &hout);
		if (hpid < 0)
			return -1;
	} else {
		fd = open(mem_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
	}
	getrusage(RUSAGE_SELF, &r0);
	t0 = snap_now_ns();
	if (uffd) {
		struct uffd_region reg = { .size = mem_size, .page_size = PG };

		ram = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		reg.host_addr = (uintptr_t)ram;
		if (ram == MAP_FAILED ||
		    uffd__connect(sock_path, &reg, 1, &b, err, sizeof(err))) {
			fprintf(stderr, "bench-uffd: %s\n", err);
			return -1;
		}
	} else {
		ram = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			   fd, 0);
		if (ram == MAP_FAILED)
			return -1;
		if (m == FILE_POPULATE && wset__populate(ws, ram, mem_size,
							 &pst))
			return -1;
	}
	touch_all(ram);
	r->ns = snap_now_ns() - t0;
	getrusage(RUSAGE_SELF, &r1);
	r->minflt = (uint64_t)(r1.ru_minflt - r0.ru_minflt);
	r->majflt = (uint64_t)(r1.ru_majflt - r0.ru_majflt);
	uffd__close(b);
	munmap(ram, mem_size);
	if (fd >= 0)
		close(fd);
	if (uffd) {
		waitpid(hpid, &status, 0);
		n = read(hout, out, sizeof(out) - 1);
		out[n > 0 ? n : 0] = 0;
		close(hout);
		r->hfaults = count_of(out, "faults");
		r->hprefetched = count_of(out, "prefetched");
	}
	return 0;
}

static int cmp_ns(const void *a, const void *b)
{
	const struct result *x = a, *y = b;

	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "mib", required_argument, NULL, 'm' },
		{ "touch", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "cold", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct result res[NMODES][MAX_RUNS], med[NMODES];
	double touch = 25;
	int repeat = 3, c, ret = 1;
	uint64_t mib = 64;
	char exe[PATH_MAX];
	ssize_t n;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			snprintf(dir, sizeof(dir), "%s", optarg);
			break;
		case 'm':
			mib = strtoull(optarg, NULL, 10);
			break;
		case 't':
			touch = atof(optarg);
			break;
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'c':
			cold = true;
			break;
		default:
			fprintf(stderr, "usage: bench-uffd [--dir DIR] [--mib N] [--touch P] [--repeat N] [--cold]\n");
			return 2;
		}
	}
	if (!mib || mib > 65536 || touch <= 0 || touch > 100 || repeat < 1 ||
	    repeat > MAX_RUNS) {
		fprintf(stderr, "bench-uffd: bad --mib, --touch or --repeat\n");
		return 2;
	}
	mem_size = mib << 20;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(handler_bin, sizeof(handler_bin), "%s/thaw-uffd-handler",
		 dirname(exe));
	snprintf(mem_path, sizeof(mem_path), "%s/bench-uffd.mem", dir);
	snprintf(wset_path, sizeof(wset_path), "%s/bench-uffd.wset", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/bench-uffd.sock", dir);
	signal(SIGPIPE, SIG_IGN);
	if (make_files(touch)) {
		fprintf(stderr, "bench-uffd: cannot create the files in %s\n",
			dir);
		goto out;
	}

	for (int i = 0; i < repeat; i++)
		for (int m = 0; m < NMODES; m++)
			if (run_once(m, &res[m][i])) {
				fprintf(stderr, "bench-uffd: %s failed\n",
					mode_name[m]);
				goto out;
			}
	for (int m = 0; m < NMODES; m++) {
		qsort(res[m], (size_t)repeat, sizeof(res[m][0]), cmp_ns);
		med[m] = res[m][repeat / 2];
	}
	printf("uffd bench: %llu MiB memory file (half holes) in %s, working set %zu pages (%.0f%%, random order), %s page cache, median of %d\n",
	       (unsigned long long)mib, dir, wset__count(ws), touch,
	       cold ? "cold" : "warm", repeat);
	printf("%-14s | %9s | %8s | %8s | %10s | %10s | %8s | %8s\n", "mode",
	       "ms", "us/page", "vs file", "minor flt", "major flt",
	       "h.faults", "h.prefetch");
	for (int m = 0; m < NMODES; m++)
		printf("%-14s | %9.2f | %8.2f | %7.2fx | %10llu | %10llu | %8lld | %8lld\n",
		       mode_name[m], (double)med[m].ns / 1e6,
		       (double)med[m].ns / 1e3 / (double)wset__count(ws),
		       (double)med[FILE_ONLY].ns / (double)med[m].ns,
		       (unsigned long long)med[m].minflt,
		       (unsigned long long)med[m].majflt, med[m].hfaults,
		       med[m].hprefetched);
	printf("ms: mapping to the last working-set page touched; h.*: the handler's counts (-1: no handler)\n");
	ret = 0;
out:
	unlink(mem_path);
	unlink(wset_path);
	unlink(sock_path);
	wset__free(ws);
	return ret;
}
