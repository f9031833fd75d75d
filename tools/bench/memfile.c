// SPDX-License-Identifier: GPL-2.0
/*
 * bench-memfile [--dir DIR] [--sizes MIB,MIB,...] [--percent P]
 *               [--repeat N] [--depth N] [--clustered]
 *
 * How long a Full and a Diff memory file take to write (lib/memfile.c),
 * against RAM size: a memfd of each size with P% of its pages in use
 * (scattered, or in runs of 64 with --clustered; random content; another
 * 1% touched but zero), written
 * through io_uring, through plain pwrite, and the naive way (all of RAM,
 * no holes) as the yardstick.  Prints a table; each row is the median of
 * N runs.  The memory file goes to DIR (default: the current folder);
 * what its file system does with fdatasync shapes the times.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "lib/memfile.h"
#include "lib/snaputil.h"

#define PAGE	4096ull
#define MAX_RUNS 15

struct row {
	const char *mode;
	uint64_t in_use, written, zero, writes, file_bytes, ns;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static bool clustered;		/* in-use pages come in runs of 64 */

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

static uint64_t file_bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_blocks * 512;
}

static void print_row(uint64_t mib, const struct row *r, uint64_t naive_ns)
{
	double secs = (double)r->ns / 1e9;

	printf("%8llu | %-18s | %9llu | %9llu | %8llu | %7llu | %8.1f | %8.2f | %8.0f | %6.1fx\n",
	       (unsigned long long)mib, r->mode,
	       (unsigned long long)r->in_use, (unsigned long long)r->written,
	       (unsigned long long)r->zero, (unsigned long long)r->writes,
	       (double)r->file_bytes / 1048576.0, (double)r->ns / 1e6,
	       secs > 0 ? (double)(r->written * PAGE) / 1e6 / secs : 0.0,
	       r->ns ? (double)naive_ns / (double)r->ns : 0.0);
	fflush(stdout);
}

/*
 * Write all of RAM, holes and all: what a snapshot without sparseness
 * costs.  Read through the memfd (reading its holes allocates nothing),
 * write in 8 MiB pieces.
 */
static int naive_write(const char *path, int memfd, uint64_t size,
		       uint64_t *ns)
{
	const size_t chunk = 8u << 20;
	uint64_t t0 = snap_now_ns();
	uint8_t *buf = malloc(chunk);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ret = 0;

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	/* The file system may not have room for all of RAM. */
	for (uint64_t off = 0; off < size && !ret; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (pread(memfd, buf, n, (off_t)off) != (ssize_t)n ||
		    pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			ret = -EIO;
	}
	fdatasync(fd);
	close(fd);
	free(buf);
	*ns = snap_now_ns() - t0;
	return ret;
}

static int run_mode(const char *path, struct memfile_region *r,
		    uint64_t size, const struct memfile_opts *o, int repeat,
		    struct row *row)
{
	uint64_t ns[MAX_RUNS];
	struct memfile_stats st;
	char err[256];

	for (int i = 0; i < repeat; i++) {
		if (!(o->flags & MEMFILE_INTO_BASE))
			unlink(path);
		if (memfile__write(path, r, 1, size, o, &st, err,
				   sizeof(err))) {
			fprintf(stderr, "bench-memfile: %s\n", err);
			return -1;
		}
		ns[i] = st.elapsed_ns;
	}
	row->ns = median(ns, repeat);
	row->in_use = st.pages_scanned;
	row->written = st.pages_written;
	row->zero = st.zero_pages + st.pages_punched;
	row->writes = st.writes;
	row->file_bytes = file_bytes(path);
	return 0;
}

static int bench_size(const char *dir, uint64_t mib, double percent,
		      int repeat, unsigned int depth)
{
	uint64_t size = mib << 20, pages = size / PAGE, used = 0;
	uint64_t ns[MAX_RUNS], naive_ns, *dirty = NULL;
	struct memfile_region r = { .size = size, .file_offset = 0 };
	struct memfile_opts o = { .queue_depth = depth,
				  .flags = MEMFILE_NO_PROGRESS };
	char path[4096], base[4096];
	struct row rows[8];
	uint8_t *ram;
	int fd, n = 0, ret = -1;

	snprintf(path, sizeof(path), "%s/bench-memfile.%d", dir, getpid());
	snprintf(base, sizeof(base), "%s/bench-memfile-base.%d", dir,
		 getpid());
	fd = memfd_create("bench-ram", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror("bench-memfile: memfd");
		return -1;
	}
	ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ram == MAP_FAILED) {
		perror("bench-memfile: mmap");
		close(fd);
		return -1;
	}
	dirty = calloc((pages + 63) / 64, sizeof(uint64_t));
	if (!dirty)
		goto out;
	for (uint64_t p = 0, x = 0; p < pages; p++) {
		if (!clustered || p % 64 == 0)
			x = next_rand() % 100000;

		if (x < (uint64_t)(percent * 1000)) {
			uint64_t *q = (uint64_t *)(ram + p * PAGE);

			for (unsigned int k = 0; k < PAGE / 8; k++)
				q[k] = next_rand() | 1;
			used++;
		} else if (x < (uint64_t)(percent * 1000) + 1000) {
			memset(ram + p * PAGE, 0, PAGE);   /* in use, zero */
		}
		if (next_rand() % 100 == 0)
			dirty[p / 64] |= 1ull << (p % 64);
	}
	r.host = ram;
	r.fd = fd;

	o.mode = MEMFILE_FULL;
	rows[n].mode = "full io_uring";
	if (run_mode(path, &r, size, &o, repeat, &rows[n++]))
		goto out;
	if (rows[0].written != used) {
		fprintf(stderr, "bench-memfile: wrote %llu pages, %llu are in use\n",
			(unsigned long long)rows[0].written,
			(unsigned long long)used);
		goto out;
	}
	o.flags |= MEMFILE_SYNC_IO;
	rows[n].mode = "full pwrite";
	if (run_mode(path, &r, size, &o, repeat, &rows[n++]))
		goto out;
	o.flags &= ~MEMFILE_SYNC_IO;

	/* Diff: 1% of the pages dirty, to a new file and into the base. */
	r.dirty = dirty;
	o.mode = MEMFILE_DIFF;
	rows[n].mode = "diff 1% new file";
	if (run_mode(path, &r, size, &o, repeat, &rows[n++]))
		goto out;
	unlink(path);
	if (run_mode(path, &r, size, &(struct memfile_opts){ .mode = MEMFILE_FULL,
		     .flags = MEMFILE_NO_PROGRESS, .queue_depth = depth },
		     1, &rows[n]))
		goto out;
	o.flags |= MEMFILE_INTO_BASE;
	rows[n].mode = "diff 1% into base";
	if (run_mode(path, &r, size, &o, repeat, &rows[n++]))
		goto out;

	for (int i = 0; i < repeat; i++) {
		if (naive_write(base, fd, size, &ns[i])) {
			fprintf(stderr, "bench-memfile: naive write of %llu MiB to %s failed (is there room?)\n",
				(unsigned long long)mib, base);
			goto out;
		}
	}
	naive_ns = median(ns, repeat);
	rows[n++] = (struct row){ .mode = "naive (all RAM)", .in_use = pages,
				  .written = pages,
				  .writes = (size + (8u << 20) - 1) >> 23,
				  .file_bytes = file_bytes(base),
				  .ns = naive_ns };
	for (int i = 0; i < n; i++)
		print_row(mib, &rows[i], naive_ns);
	ret = 0;
out:
	unlink(path);
	unlink(base);
	free(dirty);
	munmap(ram, size);
	close(fd);
	return ret;
}

/* RAM that is all holes: the cost left is finding out (SEEK_DATA). */
static int bench_empty(const char *dir, uint64_t mib, int repeat)
{
	uint64_t size = mib << 20;
	struct memfile_region r = { .size = size };
	struct memfile_opts o = { .mode = MEMFILE_FULL,
				  .flags = MEMFILE_NO_PROGRESS };
	char path[4096];
	struct row row = { .mode = "full, RAM unused" };
	uint8_t *ram;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/bench-memfile.%d", dir, getpid());
	fd = memfd_create("bench-empty", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size))
		return -1;
	ram = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (ram == MAP_FAILED) {
		close(fd);
		return -1;
	}
	r.host = ram;
	r.fd = fd;
	ret = run_mode(path, &r, size, &o, repeat, &row);
	if (!ret)
		print_row(mib, &row, 0);
	unlink(path);
	munmap(ram, size);
	close(fd);
	return ret;
}

static const char *fs_name(const char *dir)
{
	struct statfs sf;

	if (statfs(dir, &sf))
		return "?";
	switch ((unsigned long)sf.f_type) {
	case 0x01021994:
		return "tmpfs";
	case 0xef53:
		return "ext4";
	case 0x58465342:
		return "xfs";
	case 0x9123683e:
		return "btrfs";
	case 0x01021997:
		return "9p";
	default:
		return "other";
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "sizes", required_argument, NULL, 's' },
		{ "percent", required_argument, NULL, 'p' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "depth", required_argument, NULL, 'q' },
		{ "clustered", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = ".", *sizes = "128,2048";
	unsigned int depth = MEMFILE_QUEUE_DEPTH;
	double percent = 10.0;
	int repeat = 3, c;
	char *list, *tok, *save;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 's':
			sizes = optarg;
			break;
		case 'p':
			percent = atof(optarg);
			break;
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'q':
			depth = (unsigned int)atoi(optarg);
			break;
		case 'c':
			clustered = true;
			break;
		default:
			fprintf(stderr, "usage: bench-memfile [--dir DIR] [--sizes MIB,...] [--percent P] [--repeat N] [--depth N] [--clustered]\n");
			return 2;
		}
	}
	if (repeat < 1 || repeat > MAX_RUNS || percent <= 0 || percent > 98 ||
	    !depth) {
		fprintf(stderr, "bench-memfile: bad --repeat, --percent or --depth\n");
		return 2;
	}
	printf("memory file bench: %s (%s), %.1f%% of pages in use (%s, random content), 1%% touched but zero, queue depth %u, median of %d\n",
	       dir, fs_name(dir), percent,
	       clustered ? "in runs of 64 pages" : "scattered", depth, repeat);
	printf("%8s | %-18s | %9s | %9s | %8s | %7s | %8s | %8s | %8s | %7s\n",
	       "RAM MiB", "mode", "looked at", "written", "zero", "writes",
	       "file MiB", "ms", "MB/s", "vs naive");
	list = strdup(sizes);
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t mib = strtoull(tok, NULL, 10);

		if (!mib || bench_size(dir, mib, percent, repeat, depth) ||
		    bench_empty(dir, mib, repeat)) {
			free(list);
			return 1;
		}
	}
	free(list);
	printf("looked at: candidate pages (SEEK_DATA extents or dirty bits); written: pages that became data; zero: candidates left as holes or punched; writes: write requests; MB/s: data written / time.\n");
	return 0;
}
