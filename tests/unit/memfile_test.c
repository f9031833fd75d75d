// SPDX-License-Identifier: GPL-2.0
/*
 * Sparse memory files: what becomes data and what stays a hole, for
 * memfd, anonymous and private-file RAM; Diff files, diffs into a base
 * and applied over one; bad arguments; I/O errors surfacing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/memfile.h"

#define PG	4096u
#define NPAGES	64u
#define SIZE	((uint64_t)NPAGES * PG)

static char dir[] = "/tmp/thaw-memfile.XXXXXX";
static char out[128], base[128], diff[128];

static void fill(uint8_t *p, unsigned int seed)
{
	for (unsigned int k = 0; k < PG; k++)
		p[k] = (uint8_t)(seed * 31 + k * 3) | 1;
}

/* The kind of page i of the test RAM. */
enum kind { HOLE, DATA, ZEROED };

static enum kind kind_of(unsigned int i)
{
	if (i % 5 == 0 || i % 7 == 3)
		return DATA;
	if (i % 5 == 1)
		return ZEROED;	/* written, but with zeros */
	return HOLE;
}

/* A memfd of test RAM, mapped shared. */
static uint8_t *make_memfd(int *fd)
{
	uint8_t *ram;

	*fd = memfd_create("memfile-test", MFD_CLOEXEC);
	assert_true(*fd >= 0);
	assert_int_equal(0, ftruncate(*fd, (off_t)SIZE));
	ram = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	assert_true(ram != MAP_FAILED);
	for (unsigned int i = 0; i < NPAGES; i++) {
		if (kind_of(i) == DATA)
			fill(ram + i * PG, i);
		else if (kind_of(i) == ZEROED)
			memset(ram + i * PG, 0, PG);
	}
	return ram;
}

/* Bit i: page i of @path holds data (not a hole). */
static uint64_t data_pages(const char *path)
{
	int fd = open(path, O_RDONLY);
	uint64_t map = 0;
	off_t pos = 0;

	assert_true(fd >= 0);
	for (;;) {
		off_t d = lseek(fd, pos, SEEK_DATA), h;

		if (d < 0)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		for (off_t p = d / PG; p < (h + PG - 1) / PG; p++)
			map |= 1ull << p;
		pos = h;
	}
	close(fd);
	return map;
}

/* @path holds @ram byte for byte and is exactly @size long. */
static void assert_same(const char *path, const uint8_t *ram, uint64_t size)
{
	uint8_t *buf = malloc(size);
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(0, fstat(fd, &st));
	assert_int_equal(size, st.st_size);
	assert_int_equal(size, pread(fd, buf, size, 0));
	assert_memory_equal(ram, buf, size);
	close(fd);
	free(buf);
}

static bool dir_has_temp(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d)))
		if (strstr(e->d_name, ".tmp."))
			found = true;
	if (d)
		closedir(d);
	return found;
}

static int write_full(const char *path, const struct memfile_region *r,
		      unsigned int nr, uint64_t size, uint32_t flags,
		      struct memfile_stats *st)
{
	struct memfile_opts o = { .mode = MEMFILE_FULL, .flags = flags };
	char err[256];
	int ret = memfile__write(path, r, nr, size, &o, st, err, sizeof(err));

	if (ret)
		print_message("memfile__write: %s\n", err);
	return ret;
}

static void full_from_memfd(void **state)
{
	struct memfile_stats st;
	uint64_t want = 0;
	unsigned int ndata = 0, nzero = 0;
	int fd;
	uint8_t *ram = make_memfd(&fd);
	struct memfile_region r = { .host = ram, .size = SIZE, .fd = fd };

	for (unsigned int i = 0; i < NPAGES; i++) {
		if (kind_of(i) == DATA) {
			want |= 1ull << i;
			ndata++;
		}
		nzero += kind_of(i) == ZEROED;
	}
	assert_int_equal(0, write_full(out, &r, 1, SIZE, 0, &st));
	assert_same(out, ram, SIZE);
	assert_int_equal(want, data_pages(out));
	assert_int_equal(ndata + nzero, st.pages_scanned);
	assert_int_equal(ndata, st.pages_written);
	assert_int_equal(nzero, st.zero_pages);
	assert_int_equal((uint64_t)ndata * PG, st.bytes_written);
	assert_int_equal(SIZE, st.mem_bytes);
	assert_true(st.used_io_uring);
	/* Runs: pages 0, 3, 5, 10, 15, 17 ... few neighbours join. */
	assert_true(st.writes <= ndata);
	assert_false(dir_has_temp());

	/* pwrite gives the same file. */
	assert_int_equal(0, write_full(base, &r, 1, SIZE, MEMFILE_SYNC_IO,
				       &st));
	assert_false(st.used_io_uring);
	assert_same(base, ram, SIZE);
	assert_int_equal(want, data_pages(base));
	munmap(ram, SIZE);
	close(fd);
}

static void full_from_anonymous(void **state)
{
	uint8_t *ram = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct memfile_region r = { .host = ram, .size = SIZE, .fd = -1 };
	struct memfile_stats st;
	volatile uint8_t sink = 0;

	assert_true(ram != MAP_FAILED);
	fill(ram + 2 * PG, 2);
	fill(ram + 3 * PG, 3);
	fill(ram + 63 * PG, 63);
	memset(ram + 8 * PG, 0, PG);	/* present, zero */
	sink += ram[9 * PG];		/* the zero page, mapped */
	(void)sink;
	assert_int_equal(0, write_full(out, &r, 1, SIZE, 0, &st));
	assert_same(out, ram, SIZE);
	assert_int_equal((1ull << 2) | (1ull << 3) | (1ull << 63),
			 data_pages(out));
	/* Only present pages were looked at: 2, 3, 8, 9, 63. */
	assert_int_equal(5, st.pages_scanned);
	assert_int_equal(3, st.pages_written);
	assert_int_equal(2, st.writes);		/* 2-3 joined */
	munmap(ram, SIZE);
}

static void full_from_private_file_mapping(void **state)
{
	struct memfile_stats st;
	uint8_t *ram, page[PG];
	int fd, bfd;
	uint8_t *src = make_memfd(&fd);
	struct memfile_region r = { .host = src, .size = SIZE, .fd = fd };

	/* A snapshot file, mapped privately as a File restore would. */
	assert_int_equal(0, write_full(base, &r, 1, SIZE, 0, &st));
	munmap(src, SIZE);
	close(fd);
	bfd = open(base, O_RDONLY);
	assert_true(bfd >= 0);
	ram = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, bfd, 0);
	assert_true(ram != MAP_FAILED);
	fill(ram + 5 * PG, 555);		/* data, changed */
	memset(ram + 10 * PG, 0, PG);		/* data, now zero */
	fill(ram + 41 * PG, 41);		/* a hole, now data */
	r = (struct memfile_region){ .host = ram, .size = SIZE, .fd = bfd,
				     .flags = MEMFILE_REGION_PRIVATE };
	assert_int_equal(0, write_full(out, &r, 1, SIZE, 0, &st));
	assert_same(out, ram, SIZE);
	assert_true(data_pages(out) & (1ull << 41));
	assert_false(data_pages(out) & (1ull << 10));
	assert_true(data_pages(out) & (1ull << 15));	/* unchanged data */
	/* The base is untouched. */
	assert_int_equal(PG, pread(bfd, page, PG, 10 * PG));
	assert_int_not_equal(0, page[0]);
	munmap(ram, SIZE);
	close(bfd);
}

static void set_dirty(uint64_t *bm, unsigned int i)
{
	bm[i / 64] |= 1ull << (i % 64);
}

static void diff_files(void **state)
{
	struct memfile_opts o = { .mode = MEMFILE_DIFF };
	uint64_t dirty[1] = { 0 };
	struct memfile_stats st;
	char err[256];
	uint8_t *img;
	int fd;
	uint8_t *ram = make_memfd(&fd);
	struct memfile_region r = { .host = ram, .size = SIZE, .fd = fd };

	assert_int_equal(0, write_full(base, &r, 1, SIZE, 0, &st));
	/* After the base: change page 5, zero page 10, fill hole 41, and
	 * dirty page 1 without changing it (zero stays zero). */
	fill(ram + 5 * PG, 5555);
	memset(ram + 10 * PG, 0, PG);
	fill(ram + 41 * PG, 4141);
	set_dirty(dirty, 1);
	set_dirty(dirty, 5);
	set_dirty(dirty, 10);
	set_dirty(dirty, 41);
	r.dirty = dirty;
	img = malloc(SIZE);
	memcpy(img, ram, SIZE);

	/* A Diff file: exactly the dirty pages, zeros included, as data. */
	assert_int_equal(0, memfile__write(diff, &r, 1, SIZE, &o, &st, err,
					   sizeof(err)));
	assert_int_equal((1ull << 1) | (1ull << 5) | (1ull << 10) |
			 (1ull << 41), data_pages(diff));
	assert_int_equal(4, st.pages_written);
	assert_int_equal(4, st.pages_scanned);

	/* Applied over (a copy of) its base it gives the RAM. */
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "cp --sparse=always %s %s.copy",
			 base, base);
		assert_int_equal(0, system(cmd));
	}
	assert_int_equal(0, memfile__apply_diff(base, diff, SIZE, &st, err,
						sizeof(err)));
	assert_same(base, img, SIZE);
	assert_false(data_pages(base) & (1ull << 10));	/* punched */
	assert_int_equal(2, st.pages_punched);		/* pages 1, 10 */

	/* Written straight into the base: the same result. */
	{
		char copy[160];

		snprintf(copy, sizeof(copy), "%s.copy", base);
		o.flags = MEMFILE_INTO_BASE;
		assert_int_equal(0, memfile__write(copy, &r, 1, SIZE, &o, &st,
						   err, sizeof(err)));
		assert_same(copy, img, SIZE);
		assert_false(data_pages(copy) & (1ull << 10));
		assert_true(data_pages(copy) & (1ull << 41));
		assert_int_equal(2, st.pages_written);	/* 5, 41 */
		assert_int_equal(2, st.pages_punched);	/* 1, 10 */
		unlink(copy);
	}
	/* apply_diff refuses a diff or base of another size. */
	assert_int_equal(-EINVAL, memfile__apply_diff(base, diff, SIZE + PG,
						      &st, err, sizeof(err)));
	assert_non_null(strstr(err, "bytes"));
	assert_int_equal(0, truncate(base, SIZE + PG));
	assert_int_equal(-EINVAL, memfile__apply_diff(base, diff, SIZE, &st,
						      err, sizeof(err)));
	free(img);
	munmap(ram, SIZE);
	close(fd);
}

static void several_regions(void **state)
{
	uint8_t *a = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *b = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct memfile_region r[2] = {
		{ .host = b, .size = 16 * PG, .file_offset = 48 * PG, .fd = -1 },
		{ .host = a, .size = 32 * PG, .file_offset = 0, .fd = -1 },
	};
	struct memfile_stats st;
	uint8_t *img = calloc(1, SIZE);

	fill(a, 1);
	fill(a + 31 * PG, 2);
	fill(b, 3);
	fill(b + 15 * PG, 4);
	memcpy(img, a, 32 * PG);
	memcpy(img + 48 * PG, b, 16 * PG);
	assert_int_equal(0, write_full(out, r, 2, SIZE, 0, &st));
	assert_same(out, img, SIZE);
	assert_int_equal((1ull << 0) | (1ull << 31) | (1ull << 48) |
			 (1ull << 63), data_pages(out));
	assert_int_equal(48 * PG, st.mem_bytes);
	free(img);
	munmap(a, 32 * PG);
	munmap(b, 16 * PG);
}

static void bad_arguments(void **state)
{
	uint8_t *ram = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct memfile_region r = { .host = ram, .size = SIZE, .fd = -1 };
	struct memfile_region two[2] = { r, r };
	struct memfile_region many[MEMFILE_MAX_REGIONS + 1];
	struct memfile_opts diff_base = { .mode = MEMFILE_DIFF,
					  .flags = MEMFILE_INTO_BASE };
	struct memfile_opts o = { .mode = MEMFILE_FULL };
	struct memfile_stats st;
	uint64_t dirty = 1;
	char err[256];

#define REFUSE(regs, nr, size, opts) do { \
	err[0] = 0; \
	assert_int_equal(-EINVAL, memfile__write(out, regs, nr, size, opts, \
						 &st, err, sizeof(err))); \
	assert_true(strlen(err) > 0); \
} while (0)

	unlink(out);
	REFUSE(&r, 0, SIZE, &o);
	for (unsigned int i = 0; i <= MEMFILE_MAX_REGIONS; i++)
		many[i] = r;
	REFUSE(many, MEMFILE_MAX_REGIONS + 1, SIZE, &o);
	REFUSE(&r, 1, 0, &o);
	REFUSE(&r, 1, SIZE + 1, &o);
	REFUSE(&r, 1, SIZE - PG, &o);		/* past the end */
	r.host = ram + 1;
	REFUSE(&r, 1, SIZE, &o);
	r.host = ram;
	r.size = 0;
	REFUSE(&r, 1, SIZE, &o);
	r.size = PG + 1;
	REFUSE(&r, 1, SIZE, &o);
	r.size = PG;
	r.file_offset = 7;
	REFUSE(&r, 1, SIZE, &o);
	r.file_offset = UINT64_MAX - PG + 1;
	REFUSE(&r, 1, SIZE, &o);
	r.file_offset = 0;
	r.flags = 4;
	REFUSE(&r, 1, SIZE, &o);
	r.flags = 0;
	two[0].size = two[1].size = 2 * PG;
	two[1].file_offset = PG;		/* overlap */
	REFUSE(two, 2, SIZE, &o);
	o.mode = MEMFILE_DIFF;			/* no dirty bitmap */
	REFUSE(&r, 1, SIZE, &o);
	o.mode = 7;
	REFUSE(&r, 1, SIZE, &o);
	o.mode = MEMFILE_FULL;
	o.flags = MEMFILE_INTO_BASE;
	REFUSE(&r, 1, SIZE, &o);
	r.dirty = &dirty;
	r.size = SIZE;
	/* Into a base that is missing, or of another size. */
	assert_int_equal(-ENOENT, memfile__write(out, &r, 1, SIZE, &diff_base,
						 &st, err, sizeof(err)));
	assert_int_equal(0, write_full(out, &r, 1, SIZE, 0, &st));
	assert_int_equal(-EINVAL, memfile__write(out, &r, 1, 2 * SIZE,
						 &diff_base, &st, err,
						 sizeof(err)));
	assert_non_null(strstr(err, "bytes"));
	/* A folder that does not exist. */
	{
		char bad[160];

		snprintf(bad, sizeof(bad), "%s/nodir/memory", dir);
		assert_int_equal(-ENOENT, write_full(bad, &r, 1, SIZE, 0,
						     &st));
	}
	assert_false(dir_has_temp());
	munmap(ram, SIZE);
#undef REFUSE
}

static void open_for_restore(void **state)
{
	uint8_t *ram = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct memfile_region r = { .host = ram, .size = SIZE, .fd = -1 };
	struct memfile_stats st;
	char err[256];
	int fd;

	assert_int_equal(0, write_full(out, &r, 1, SIZE, 0, &st));
	fd = memfile__open(out, SIZE, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(-EINVAL, memfile__open(out, 2 * SIZE, err,
						sizeof(err)));
	assert_non_null(strstr(err, "262144 bytes"));
	assert_non_null(strstr(err, "524288 bytes"));
	assert_int_equal(-EINVAL, memfile__open(out, 0, err, sizeof(err)));
	assert_int_equal(-EINVAL, memfile__open(out, SIZE + 1, err,
						sizeof(err)));
	assert_int_equal(-EINVAL, memfile__open(dir, SIZE, err, sizeof(err)));
	assert_non_null(strstr(err, "regular"));
	{
		char missing[160];

		snprintf(missing, sizeof(missing), "%s/missing", dir);
		assert_int_equal(-ENOENT, memfile__open(missing, SIZE, err,
							sizeof(err)));
		assert_non_null(strstr(err, missing));
	}
	munmap(ram, SIZE);
}

/* Writes that fail (past RLIMIT_FSIZE) fail the call, with the offset. */
static void io_errors(void **state)
{
	static const uint32_t modes[] = { 0, MEMFILE_SYNC_IO };
	struct rlimit old, lim = { .rlim_cur = 16 * PG };
	uint64_t dirty[1] = { 0 };
	struct memfile_stats st;
	char err[256];
	int fd;
	uint8_t *ram = make_memfd(&fd);
	struct memfile_region r = { .host = ram, .size = SIZE, .fd = fd,
				    .dirty = dirty };

	assert_int_equal(0, write_full(base, &r, 1, SIZE, 0, &st));
	set_dirty(dirty, 40);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(0, getrlimit(RLIMIT_FSIZE, &old));
	lim.rlim_max = old.rlim_max;
	for (size_t i = 0; i < 2; i++) {
		struct memfile_opts o = { .mode = MEMFILE_DIFF,
					  .flags = MEMFILE_INTO_BASE | modes[i] };

		assert_int_equal(0, setrlimit(RLIMIT_FSIZE, &lim));
		assert_int_equal(-EFBIG, memfile__write(base, &r, 1, SIZE, &o,
							&st, err,
							sizeof(err)));
		assert_int_equal(0, setrlimit(RLIMIT_FSIZE, &old));
		assert_non_null(strstr(err, "write at offset 163840"));
	}
	/* A new file cannot even be sized: nothing is left behind. */
	assert_int_equal(0, setrlimit(RLIMIT_FSIZE, &lim));
	assert_int_equal(-EFBIG, write_full(out, &r, 1, SIZE, 0, &st));
	assert_int_equal(0, setrlimit(RLIMIT_FSIZE, &old));
	signal(SIGXFSZ, SIG_DFL);
	assert_false(dir_has_temp());
	munmap(ram, SIZE);
	close(fd);
}

static int count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/*
 * A writer killed half way leaves no file behind.  The child's RAM is
 * registered with a userfaultfd nobody serves, so reading its first page
 * blocks for ever inside memfile__write(), after the file was created.
 */
static void killed_writer_leaves_nothing(void **state)
{
	struct uffdio_api api = { .api = UFFD_API };
	char path[160];
	int fd, status, before = count_entries();
	uint8_t *ram = make_memfd(&fd);
	pid_t pid;

	snprintf(path, sizeof(path), "%s/killed", dir);
	munmap(ram, SIZE);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		uint8_t *blocked = mmap(NULL, SIZE, PROT_READ,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)blocked, .len = SIZE },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		struct memfile_region r = { .host = blocked, .size = SIZE,
					    .fd = fd };
		int u = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

		if (u < 0 || ioctl(u, UFFDIO_API, &api) ||
		    ioctl(u, UFFDIO_REGISTER, &reg))
			_exit(77);
		write_full(path, &r, 1, SIZE, 0, NULL);
		_exit(1);
	}
	usleep(300000);
	if (waitpid(pid, &status, WNOHANG) == pid) {
		assert_int_equal(77, WEXITSTATUS(status));
		close(fd);
		skip();		/* no userfaultfd here */
	}
	kill(pid, SIGKILL);
	assert_int_equal(pid, waitpid(pid, &status, 0));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(before, count_entries());
	close(fd);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(out, sizeof(out), "%s/memory", dir);
	snprintf(base, sizeof(base), "%s/base", dir);
	snprintf(diff, sizeof(diff), "%s/diff", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_from_memfd),
		cmocka_unit_test(full_from_anonymous),
		cmocka_unit_test(full_from_private_file_mapping),
		cmocka_unit_test(diff_files),
		cmocka_unit_test(several_regions),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(open_for_restore),
		cmocka_unit_test(io_errors),
		cmocka_unit_test(killed_writer_leaves_nothing),
	};

	return cmocka_run_group_tests_name("memfile", tests, setup, teardown);
}
