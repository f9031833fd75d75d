// SPDX-License-Identifier: GPL-2.0
/*
 * bench-regions: where a restored function reads and writes its memory,
 * per 2 MiB region of guest RAM: the measurement that decides how clones
 * are mapped at 2 MiB (Documentation/dev-tools/bench.rst, "regions").
 *
 *   bench-regions map --memory FILE --wset FILE --pid PID [--csv OUT]
 *	FILE is a snapshot's memory file, the working set is the pages a
 *	clone of it touched to its first response (recorded with the Thaw
 *	backend, which records first touches exactly), and PID is a thawvm
 *	whose guest RAM is a File mapping of FILE, after its first response:
 *	in its pagemap the pages the guest wrote are private anonymous
 *	copies.  Prints the counts per region, their distribution and what
 *	each way of mapping at 2 MiB would cost in second-level faults and
 *	memory; --csv writes one row per region.
 *
 *   bench-regions copy SRC DST
 *	Copies a memory file through mmap into DST, which may be on
 *	hugetlbfs (no write(2) there); all-zero 2 MiB blocks are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/wset.h"

#define PAGE		4096ull
#define REGION		(2ull << 20)
#define PER_REGION	(REGION / PAGE)
#define PM_PRESENT	(1ull << 63)
#define PM_FILE		(1ull << 61)

struct region {
	uint32_t data;		/* non-zero pages in the memory file */
	uint32_t touched;	/* pages in the working set */
	uint32_t mapped;	/* pages present in the clone's page table */
	uint32_t written;	/* of those, private copies */
};

static int die(const char *what)
{
	fprintf(stderr, "bench-regions: %s: %s\n", what, strerror(errno));
	return 1;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[PAGE];

	return !memcmp(p, zero, PAGE);
}

/* Non-zero pages per region of the memory file. */
static int count_data(const char *path, struct region *r, uint64_t size)
{
	uint8_t *buf = malloc(REGION);
	uint64_t off, i;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !buf) {
		free(buf);
		return die(path);
	}
	for (off = 0; off < size; off += REGION) {
		n = pread(fd, buf, REGION, off);
		if (n < 0) {
			close(fd);
			free(buf);
			return die(path);
		}
		for (i = 0; i + PAGE <= (uint64_t)n; i += PAGE)
			if (!page_is_zero(buf + i))
				r[off / REGION].data++;
	}
	close(fd);
	free(buf);
	return 0;
}

/* The start of @pid's mapping of @path (at offset 0), or 0. */
static uint64_t find_mapping(pid_t pid, const char *path)
{
	char maps[64], line[PATH_MAX + 128], real[PATH_MAX], name[PATH_MAX];
	unsigned long long start, end, offset;
	uint64_t found = 0;
	FILE *f;

	if (!realpath(path, real))
		return 0;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %4095s",
			   &start, &end, &offset, name) == 4 &&
		    !offset && !strcmp(name, real)) {
			found = start;
			break;
		}
	}
	fclose(f);
	return found;
}

static int read_pagemap(pid_t pid, uint64_t base, struct region *r,
			uint64_t pages)
{
	uint64_t pm[PER_REGION], i, j;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return die(path);
	for (i = 0; i < pages; i += PER_REGION) {
		uint64_t n = pages - i < PER_REGION ? pages - i : PER_REGION;

		if (pread(fd, pm, n * 8, (base / PAGE + i) * 8) != (ssize_t)(n * 8)) {
			close(fd);
			return die(path);
		}
		for (j = 0; j < n; j++) {
			if (!(pm[j] & PM_PRESENT))
				continue;
			r[i / PER_REGION].mapped++;
			if (!(pm[j] & PM_FILE))
				r[i / PER_REGION].written++;
		}
	}
	close(fd);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* "min/median/max" of the non-zero values of @v[0..n). */
static void spread(const char *what, uint32_t *v, size_t n)
{
	size_t k = 0, i;

	for (i = 0; i < n; i++)
		if (v[i])
			v[k++] = v[i];
	if (!k) {
		printf("  %-34s -\n", what);
		return;
	}
	qsort(v, k, sizeof(*v), cmp_u32);
	printf("  %-34s min %u, median %u, max %u (of %llu)\n", what, v[0],
	       v[k / 2], v[k - 1], PER_REGION);
}

static void histogram(const char *what, const struct region *r, size_t n,
		      size_t field)
{
	static const uint32_t edges[] = { 1, 8, 64, 256, PER_REGION };
	size_t counts[5] = { 0 }, i, b;

	for (i = 0; i < n; i++) {
		uint32_t v = *(const uint32_t *)((const char *)&r[i] + field);

		for (b = 5; b-- > 0;)
			if (v >= edges[b]) {
				counts[b]++;
				break;
			}
	}
	printf("  %-34s 1-7: %zu, 8-63: %zu, 64-255: %zu, 256-511: %zu, 512: %zu\n",
	       what, counts[0], counts[1], counts[2], counts[3], counts[4]);
}

static void report(const struct region *r, size_t n)
{
	uint64_t touched = 0, written = 0, mapped = 0, data = 0;
	uint64_t rt = 0, rw = 0, rd = 0, rzero = 0, split = 0;
	uint32_t *v = calloc(n, sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++) {
		touched += r[i].touched;
		written += r[i].written;
		mapped += r[i].mapped;
		data += r[i].data;
		rt += r[i].touched > 0;
		rw += r[i].written > 0;
		rd += r[i].data > 0;
		rzero += !r[i].data;
		/* A write splits the region: every touched page faults. */
		split += r[i].written ? r[i].touched + r[i].written : !!r[i].touched;
	}
	printf("guest RAM: %zu regions of 2 MiB; %llu non-zero pages in the memory file\n",
	       n, (unsigned long long)data);
	printf("  %-34s %llu with data, %llu all zero\n", "regions:",
	       (unsigned long long)rd, (unsigned long long)rzero);
	printf("  %-34s %llu pages in %llu regions\n", "touched (working set):",
	       (unsigned long long)touched, (unsigned long long)rt);
	printf("  %-34s %llu pages in %llu regions (%.1f%% of touched)\n",
	       "written (private copies):", (unsigned long long)written,
	       (unsigned long long)rw, touched ? 100.0 * written / touched : 0);
	printf("  %-34s %llu pages (fault-around included)\n",
	       "mapped by the host:", (unsigned long long)mapped);
	if (v) {
		for (i = 0; i < n; i++)
			v[i] = r[i].data;
		spread("data pages per region with data:", v, n);
		for (i = 0; i < n; i++)
			v[i] = r[i].touched;
		spread("touched per touched region:", v, n);
		for (i = 0; i < n; i++)
			v[i] = r[i].written;
		spread("written per written region:", v, n);
		free(v);
	}
	histogram("regions by pages touched:", r, n,
		  offsetof(struct region, touched));
	histogram("regions by pages written:", r, n,
		  offsetof(struct region, written));
	printf("second-level (NPT/EPT) faults to map what the clone touched, and its private memory:\n");
	printf("  %-50s %8llu faults  %8llu KiB\n",
	       "4 KiB pages (a write faults twice):",
	       (unsigned long long)(touched + written),
	       (unsigned long long)written * 4);
	printf("  %-50s %8llu faults  %8llu KiB\n",
	       "2 MiB read-only; a write splits its region:",
	       (unsigned long long)split, (unsigned long long)written * 4);
	printf("  %-50s %8llu faults  %8llu KiB\n",
	       "2 MiB; a write gets a private 2 MiB copy:",
	       (unsigned long long)(rt + rw), (unsigned long long)rw * 2048);
}

static int map_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "memory", required_argument, NULL, 'm' },
		{ "wset", required_argument, NULL, 'w' },
		{ "pid", required_argument, NULL, 'p' },
		{ "csv", required_argument, NULL, 'c' },
		{}
	};
	const char *memory = NULL, *wset_path = NULL, *csv = NULL;
	char err[256] = "";
	struct region *r;
	struct wset *ws;
	uint64_t base, size, i;
	struct stat st;
	pid_t pid = 0;
	size_t n;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm': memory = optarg; break;
		case 'w': wset_path = optarg; break;
		case 'p': pid = atoi(optarg); break;
		case 'c': csv = optarg; break;
		default: return 2;
		}
	}
	if (!memory || !wset_path || pid <= 0) {
		fprintf(stderr, "usage: bench-regions map --memory FILE --wset FILE --pid PID [--csv OUT]\n");
		return 2;
	}
	if (stat(memory, &st))
		return die(memory);
	size = st.st_size;
	if (!size || size % REGION) {
		fprintf(stderr, "bench-regions: %s: size %llu is not a multiple of 2 MiB\n",
			memory, (unsigned long long)size);
		return 1;
	}
	n = size / REGION;
	r = calloc(n, sizeof(*r));
	if (!r)
		return die("calloc");
	if (wset__read(wset_path, size, &ws, err, sizeof(err))) {
		fprintf(stderr, "bench-regions: %s\n", err);
		return 1;
	}
	for (i = 0; i < wset__count(ws); i++)
		r[wset__offset(ws, i) / REGION].touched +=
			wset__page_size(ws) / PAGE;
	wset__free(ws);
	if (count_data(memory, r, size))
		return 1;
	base = find_mapping(pid, memory);
	if (!base) {
		fprintf(stderr, "bench-regions: process %d maps no %s\n",
			(int)pid, memory);
		return 1;
	}
	if (read_pagemap(pid, base, r, size / PAGE))
		return 1;
	report(r, n);
	if (csv) {
		FILE *f = fopen(csv, "we");

		if (!f)
			return die(csv);
		fprintf(f, "region,data,touched,mapped,written\n");
		for (i = 0; i < n; i++)
			fprintf(f, "%llu,%u,%u,%u,%u\n", (unsigned long long)i,
				r[i].data, r[i].touched, r[i].mapped,
				r[i].written);
		fclose(f);
	}
	free(r);
	return 0;
}

static int copy_cmd(const char *src, const char *dst)
{
	uint8_t *in, *out;
	uint64_t off, i;
	struct stat st;
	int sfd, dfd;

	sfd = open(src, O_RDONLY | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st))
		return die(src);
	if (!st.st_size || st.st_size % REGION) {
		fprintf(stderr, "bench-regions: %s: size is not a multiple of 2 MiB\n",
			src);
		return 1;
	}
	dfd = open(dst, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (dfd < 0 || ftruncate(dfd, st.st_size))
		return die(dst);
	in = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, sfd, 0);
	out = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (in == MAP_FAILED || out == MAP_FAILED)
		return die("mmap");
	for (off = 0; off < (uint64_t)st.st_size; off += REGION) {
		for (i = 0; i < REGION; i += PAGE)
			if (!page_is_zero(in + off + i))
				break;
		if (i < REGION)
			memcpy(out + off, in + off, REGION);
	}
	if (msync(out, st.st_size, MS_SYNC))
		return die(dst);
	munmap(in, st.st_size);
	munmap(out, st.st_size);
	close(sfd);
	return close(dfd) ? die(dst) : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "map"))
		return map_cmd(argc - 1, argv + 1);
	if (argc == 4 && !strcmp(argv[1], "copy"))
		return copy_cmd(argv[2], argv[3]);
	fprintf(stderr,
		"usage: bench-regions map --memory FILE --wset FILE --pid PID [--csv OUT]\n"
		"       bench-regions copy SRC DST\n");
	return 2;
}
