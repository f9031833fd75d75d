// SPDX-License-Identifier: GPL-2.0
/*
 * Working-set files: recording, the file round trip (written bits
 * included), every kind of damage refused, coalesced ranges and the
 * populate helper.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/snapfile.h"
#include "lib/snaputil.h"
#include "lib/wset.h"

#define MEM	(64ull << 20)
#define PG	4096ull

static struct wset *sample(void)
{
	static const uint64_t order[] = { 9, 3, 4, 5, 100, 2, 10, 11, 6 };
	struct wset *ws;

	assert_int_equal(0, wset__new(MEM, PG, &ws));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_int_equal(1, wset__add(ws, order[i] * PG + 17));
	return ws;
}

static void record(void **state)
{
	struct wset *ws = sample();

	assert_int_equal(9, wset__count(ws));
	assert_int_equal(9 * PG, wset__offset(ws, 0));	/* rounded down */
	assert_int_equal(0, wset__add(ws, 3 * PG));	/* repeat */
	assert_int_equal(0, wset__add(ws, 3 * PG + 4095));
	assert_int_equal(-EINVAL, wset__add(ws, MEM));
	assert_int_equal(-EINVAL, wset__add(ws, UINT64_MAX));
	assert_int_equal(1, wset__add(ws, MEM - 1));
	assert_int_equal(10, wset__count(ws));
	wset__free(ws);

	assert_int_equal(-EINVAL, wset__new(0, PG, &ws));
	assert_int_equal(-EINVAL, wset__new(MEM + 1, PG, &ws));
	assert_int_equal(-EINVAL, wset__new(MEM, 8192, &ws));
	assert_int_equal(-EINVAL, wset__new(3ull << 20, 2 << 20, &ws));
	assert_int_equal(-EINVAL, wset__new(1ull << 50, PG, &ws));
	assert_int_equal(0, wset__new(4ull << 20, 2 << 20, &ws));
	assert_int_equal(1, wset__add(ws, (2 << 20) + 5));
	assert_int_equal(2 << 20, wset__offset(ws, 0));
	wset__free(ws);
}

static uint8_t *serialize(const struct wset *ws, size_t *len)
{
	char dir[] = "/tmp/thaw-wset.XXXXXX", path[64], err[256];
	uint8_t *buf;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wset", dir);
	assert_int_equal(0, wset__write(ws, path, err, sizeof(err)));
	f = fopen(path, "rb");
	assert_non_null(f);
	buf = malloc(1 << 16);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	unlink(path);
	rmdir(dir);
	return buf;
}

static void file_round_trip(void **state)
{
	char dir[] = "/tmp/thaw-wset.XXXXXX", path[64], err[256];
	struct wset *ws = sample(), *back;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wset", dir);
	assert_int_equal(0, wset__write(ws, path, err, sizeof(err)));
	assert_int_equal(0, wset__read(path, MEM, &back, err, sizeof(err)));
	assert_int_equal(wset__count(ws), wset__count(back));
	for (size_t i = 0; i < wset__count(ws); i++)
		assert_int_equal(wset__offset(ws, i), wset__offset(back, i));
	wset__free(back);
	assert_int_equal(0, wset__read(path, 0, &back, err, sizeof(err)));
	wset__free(back);
	/* Another VM size: refused with both sizes named. */
	assert_int_equal(-EINVAL, wset__read(path, 2 * MEM, &back, err,
					     sizeof(err)));
	assert_non_null(strstr(err, "67108864"));
	assert_non_null(strstr(err, "134217728"));
	assert_null(back);
	/* A state file is not a working set. */
	unlink(path);
	assert_int_equal(-ENOENT, wset__read(path, MEM, &back, err,
					     sizeof(err)));
	assert_non_null(strstr(err, path));
	rmdir(dir);
	/* An empty set is a valid set. */
	wset__free(ws);
	assert_int_equal(0, wset__new(MEM, PG, &ws));
	{
		size_t len;
		uint8_t *b = serialize(ws, &len);

		assert_int_equal(0, wset__parse(b, len, MEM, &back, err,
						sizeof(err)));
		assert_int_equal(0, wset__count(back));
		wset__free(back);
		free(b);
	}
	wset__free(ws);
}

/*
 * Written bits: marked per entry, kept through the file, absent from a
 * file that has none (as one written before they existed).
 */
static void written_round_trip(void **state)
{
	struct wset *ws = sample(), *back;
	char err[256];
	size_t len;
	uint8_t *b;

	assert_int_equal(0, wset__written_count(ws));
	assert_int_equal(0, wset__mark_written(ws, 1));
	assert_int_equal(0, wset__mark_written(ws, 8));
	assert_int_equal(0, wset__mark_written(ws, 8));
	assert_int_equal(-EINVAL, wset__mark_written(ws, 9));
	assert_int_equal(2, wset__written_count(ws));
	assert_false(wset__written(ws, 0));
	assert_true(wset__written(ws, 8));
	assert_false(wset__written(ws, 9));
	b = serialize(ws, &len);
	assert_int_equal(0, wset__parse(b, len, MEM, &back, err, sizeof(err)));
	assert_int_equal(2, wset__written_count(back));
	for (size_t i = 0; i < wset__count(ws); i++)
		assert_int_equal(wset__written(ws, i), wset__written(back, i));
	wset__free(back);
	/* Every damage to the longer file is refused too. */
	for (size_t i = 0; i < len; i++) {
		b[i] ^= 0x20;
		assert_int_not_equal(0, wset__parse(b, len, MEM, &back, err,
						    sizeof(err)));
		b[i] ^= 0x20;
	}
	free(b);
	wset__free(ws);

	/* Past the first 1024 entries (the bitmap grows). */
	assert_int_equal(0, wset__new(MEM, PG, &ws));
	for (uint64_t i = 0; i < 3000; i++)
		assert_int_equal(1, wset__add(ws, i * PG));
	assert_int_equal(0, wset__mark_written(ws, 2999));
	assert_false(wset__written(ws, 1500));
	b = serialize(ws, &len);
	assert_int_equal(0, wset__parse(b, len, MEM, &back, err, sizeof(err)));
	assert_true(wset__written(back, 2999));
	assert_int_equal(1, wset__written_count(back));
	wset__free(back);
	free(b);
	wset__free(ws);

	/* No bit marked: no section, as in an old file. */
	ws = sample();
	b = serialize(ws, &len);
	assert_int_equal(0, wset__parse(b, len, MEM, &back, err, sizeof(err)));
	assert_int_equal(0, wset__written_count(back));
	wset__free(back);
	free(b);
	wset__free(ws);
}

static void every_truncation_and_flip(void **state)
{
	struct wset *ws = sample(), *back;
	char err[256];
	size_t len;
	uint8_t *b = serialize(ws, &len);

	for (size_t n = 0; n < len; n++) {
		assert_int_not_equal(0, wset__parse(b, n, MEM, &back, err,
						    sizeof(err)));
		assert_null(back);
	}
	for (size_t i = 0; i < len; i++) {
		b[i] ^= 0x20;
		assert_int_not_equal(0, wset__parse(b, len, MEM, &back, err,
						    sizeof(err)));
		b[i] ^= 0x20;
	}
	assert_int_equal(0, wset__parse(b, len, MEM, &back, err, sizeof(err)));
	wset__free(back);
	free(b);
	wset__free(ws);
}

/*
 * Well-formed containers with bad content, built by hand; with
 * @written_len > 0, a written section of that many bytes from @written.
 */
static int parse_written(uint64_t mem, uint32_t ps, uint32_t flags,
			 uint64_t count, const uint64_t *offs, size_t n,
			 bool with_pages, const uint8_t *written,
			 size_t written_len, char *err)
{
	struct snapfile_writer *w = snapfile__writer_new(SNAPFILE_TYPE_WSET);
	uint8_t hdr[WSET_HEADER_SIZE] = { 0 }, pages[64 * 8];
	struct wset *ws;
	uint8_t *buf;
	size_t len;
	int ret;

	put_le64(hdr, mem);
	put_le32(hdr + 8, ps);
	put_le32(hdr + 12, flags);
	put_le64(hdr + 16, count);
	for (size_t i = 0; i < n; i++)
		put_le64(pages + i * 8, offs[i]);
	assert_int_equal(0, snapfile__add(w, WSET_SEC_HEADER, hdr,
					  sizeof(hdr)));
	if (with_pages)
		assert_int_equal(0, snapfile__add(w, WSET_SEC_PAGES, pages,
						  n * 8));
	if (written_len)
		assert_int_equal(0, snapfile__add(w, WSET_SEC_WRITTEN, written,
						  written_len));
	assert_int_equal(0, snapfile__serialize(w, &buf, &len));
	snapfile__writer_free(w);
	ret = wset__parse(buf, len, 0, &ws, err, 256);
	if (!ret)
		wset__free(ws);
	free(buf);
	return ret;
}

static int parse_custom(uint64_t mem, uint32_t ps, uint32_t flags,
			uint64_t count, const uint64_t *offs, size_t n,
			bool with_pages, char *err)
{
	return parse_written(mem, ps, flags, count, offs, n, with_pages, NULL,
			     0, err);
}

static void bad_content(void **state)
{
	const uint64_t ok[] = { 0, PG, 5 * PG };
	const uint64_t unaligned[] = { 0, PG + 8 };
	const uint64_t outside[] = { 0, MEM };
	const uint64_t dup[] = { PG, 0, PG };
	char err[256];

	assert_int_equal(0, parse_custom(MEM, PG, 0, 3, ok, 3, true, err));
	assert_int_equal(-EBADMSG, parse_custom(MEM, PG, 0, 3, ok, 3, false,
						err));
	assert_int_equal(-EBADMSG, parse_custom(MEM, PG, 0, 2, unaligned, 2,
						true, err));
	assert_non_null(strstr(err, "not a page"));
	assert_int_equal(-EBADMSG, parse_custom(MEM, PG, 0, 2, outside, 2,
						true, err));
	assert_int_equal(-EBADMSG, parse_custom(MEM, PG, 0, 3, dup, 3, true,
						err));
	assert_non_null(strstr(err, "twice"));
	/* Counts that disagree with the pages section, or overflow. */
	assert_int_equal(-EBADMSG, parse_custom(MEM, PG, 0, 4, ok, 3, true,
						err));
	assert_int_equal(-EBADMSG, parse_custom(MEM, PG, 0, 2, ok, 3, true,
						err));
	assert_int_equal(-EBADMSG, parse_custom(MEM, PG, 0, 1ull << 61, ok, 3,
						true, err));
	assert_int_equal(-EBADMSG, parse_custom(MEM, PG, 0, UINT64_MAX, ok, 3,
						true, err));
	/* Sizes and flags. */
	assert_int_equal(-EBADMSG, parse_custom(MEM, 8192, 0, 3, ok, 3, true,
						err));
	assert_int_equal(-EBADMSG, parse_custom(0, PG, 0, 0, ok, 0, true,
						err));
	assert_int_equal(-EBADMSG, parse_custom(MEM + 1, PG, 0, 3, ok, 3,
						true, err));
	assert_int_equal(-EBADMSG, parse_custom(UINT64_MAX & ~4095ull, PG, 0,
						3, ok, 3, true, err));
	assert_int_equal(-EBADMSG, parse_custom(MEM, PG, 1, 3, ok, 3, true,
						err));
	/* Written bits: one byte for 3 entries, no bit past them. */
	{
		const uint8_t good = 0x05, stray = 0x09, two[2] = { 1, 0 };

		assert_int_equal(0, parse_written(MEM, PG, 0, 3, ok, 3, true,
						  &good, 1, err));
		assert_int_equal(-EBADMSG, parse_written(MEM, PG, 0, 3, ok, 3,
							 true, &stray, 1, err));
		assert_int_equal(-EBADMSG, parse_written(MEM, PG, 0, 3, ok, 3,
							 true, two, 2, err));
		assert_non_null(strstr(err, "written"));
	}
}

static void ranges(void **state)
{
	struct wset *ws = sample();	/* 9 3 4 5 100 2 10 11 6 */
	struct wset_range *r;
	size_t n;

	assert_int_equal(0, wset__ranges(ws, WSET_SORTED, 0, &r, &n));
	/* 2-6, 9-11, 100 */
	assert_int_equal(3, n);
	assert_int_equal(2 * PG, r[0].offset);
	assert_int_equal(5 * PG, r[0].len);
	assert_int_equal(9 * PG, r[1].offset);
	assert_int_equal(3 * PG, r[1].len);
	assert_int_equal(100 * PG, r[2].offset);
	assert_int_equal(PG, r[2].len);
	free(r);

	assert_int_equal(0, wset__ranges(ws, WSET_SORTED, 2 * PG, &r, &n));
	/* 2-3, 4-5, 6, 9-10, 11, 100 */
	assert_int_equal(6, n);
	for (size_t i = 0; i < n; i++)
		assert_true(r[i].len <= 2 * PG);
	free(r);

	assert_int_equal(0, wset__ranges(ws, WSET_TOUCH_ORDER, 0, &r, &n));
	/* 9, 3-5, 100, 2, 10-11, 6 */
	assert_int_equal(6, n);
	assert_int_equal(9 * PG, r[0].offset);
	assert_int_equal(3 * PG, r[1].offset);
	assert_int_equal(3 * PG, r[1].len);
	assert_int_equal(10 * PG, r[4].offset);
	assert_int_equal(2 * PG, r[4].len);
	free(r);
	assert_int_equal(-EINVAL, wset__ranges(ws, WSET_SORTED, 100, &r, &n));
	wset__free(ws);

	assert_int_equal(0, wset__new(MEM, PG, &ws));
	assert_int_equal(0, wset__ranges(ws, WSET_SORTED, 0, &r, &n));
	assert_int_equal(0, n);
	assert_null(r);
	wset__free(ws);
}

static void populate(void **state)
{
	struct wset *ws = sample();
	struct wset_populate_stats st;
	unsigned char vec[128];
	int fd = memfd_create("wset-test", MFD_CLOEXEC);
	uint8_t *ram;

	assert_true(fd >= 0);
	assert_int_equal(0, ftruncate(fd, (off_t)MEM));
	ram = mmap(NULL, MEM, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(ram != MAP_FAILED);
	assert_int_equal(-EINVAL, wset__populate(ws, ram, MEM / 2, &st));
	assert_int_equal(0, wset__populate(ws, ram, MEM, &st));
	assert_int_equal(9, st.pages);
	assert_int_equal(3, st.calls);
	assert_int_equal(0, mincore(ram, 128 * PG, vec));
	for (unsigned int i = 0; i < 128; i++) {
		bool in = i == 9 || (i >= 2 && i <= 6) || i == 10 ||
			  i == 11 || i == 100;

		if (in)
			assert_true(vec[i] & 1);
	}
	munmap(ram, MEM);
	close(fd);
	wset__free(ws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record),
		cmocka_unit_test(file_round_trip),
		cmocka_unit_test(written_round_trip),
		cmocka_unit_test(every_truncation_and_flip),
		cmocka_unit_test(bad_content),
		cmocka_unit_test(ranges),
		cmocka_unit_test(populate),
	};

	return cmocka_run_group_tests_name("wset", tests, NULL, NULL);
}
