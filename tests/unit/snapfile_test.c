// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot container refuses every damaged file: every truncation,
 * every single-byte flip, other versions and types, absurd lengths,
 * duplicates, garbage; and writes atomically.
 */
#include <dirent.h>
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/crc32c.h"
#include "lib/snapfile.h"
#include "lib/snaputil.h"

static const uint8_t vcpu0[13] = "vcpu0-regs..";
static const uint8_t vsock[40] = "vsock state";

/* A valid file with mandatory, optional, empty and unknown sections. */
static uint8_t *valid_file(size_t *len)
{
	struct snapfile_writer *w = snapfile__writer_new(SNAPFILE_TYPE_STATE);
	uint8_t man[SNAP_MANIFEST_SIZE];
	struct snap_manifest m = {
		.mem_size = 128 << 20, .page_size = 4096, .vcpu_count = 2,
		.created_ns = 1234, .vmm_version = "0.1.0",
	};
	uint8_t *buf;

	assert_non_null(w);
	snap_manifest__encode(&m, man);
	assert_int_equal(0, snapfile__add(w, SNAP_SEC_MANIFEST, man,
					  sizeof(man)));
	assert_int_equal(0, snapfile__add(w, SNAP_SEC_VCPU(0), vcpu0,
					  sizeof(vcpu0)));
	assert_int_equal(0, snapfile__add(w, SNAP_SEC_CLOCK, NULL, 0));
	assert_int_equal(0, snapfile__add(w, SNAP_SEC_DEV_VSOCK(0), vsock,
					  sizeof(vsock)));
	assert_int_equal(0, snapfile__add_flags(w, 0x8001, 0, "new", 3));
	assert_int_equal(0, snapfile__serialize(w, &buf, len));
	snapfile__writer_free(w);
	return buf;
}

static int parse(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct snapfile *f;
	int ret;

	err[0] = 0;
	ret = snapfile__parse(buf, len, SNAPFILE_TYPE_STATE, &f, err,
			      errlen);
	if (!ret)
		snapfile__close(f);
	else
		assert_null(f);
	return ret;
}

/* Offsets of the fields the tests patch. */
#define HDR_MAJOR	8
#define HDR_MINOR	10
#define HDR_TYPE	12
#define HDR_FLAGS	16
#define HDR_NSECT	20
#define HDR_FSIZE	24
#define HDR_RSVD	32
#define HDR_CRC		60
#define SEC0		64	/* the first section header */
#define SEC_ID		0
#define SEC_FLAGS	4
#define SEC_LEN		8
#define SEC_RSVD	20
#define SEC_CRC		28

static void fix_header_crc(uint8_t *p)
{
	put_le32(p + HDR_CRC, crc32c(0, p, HDR_CRC));
}

static void fix_section_crc(uint8_t *s)
{
	put_le32(s + SEC_CRC, crc32c(0, s, SEC_CRC));
}

static void round_trip(void **state)
{
	struct snapfile *f;
	struct snap_manifest m;
	const void *p;
	uint16_t major, minor;
	char err[256];
	size_t len, plen;
	uint8_t *buf = valid_file(&len);

	assert_int_equal(0, len % 8);
	assert_int_equal(0, snapfile__parse(buf, len, SNAPFILE_TYPE_STATE, &f,
					    err, sizeof(err)));
	snapfile__version(f, &major, &minor);
	assert_int_equal(SNAPFILE_MAJOR, major);
	assert_int_equal(SNAPFILE_MINOR, minor);
	assert_int_equal(0, snapfile__get(f, SNAP_SEC_VCPU(0), &p, &plen));
	assert_int_equal(sizeof(vcpu0), plen);
	assert_memory_equal(vcpu0, p, plen);
	assert_int_equal(0, (uintptr_t)p % 8);
	assert_int_equal(0, snapfile__get(f, SNAP_SEC_DEV_VSOCK(0), &p, &plen));
	assert_memory_equal(vsock, p, sizeof(vsock));
	assert_int_equal(0, (uintptr_t)p % 8);
	assert_int_equal(0, snapfile__get(f, SNAP_SEC_CLOCK, &p, &plen));
	assert_int_equal(0, plen);
	/* Unknown and optional: skipped by the checks, still readable. */
	assert_int_equal(0, snapfile__get(f, 0x8001, &p, &plen));
	assert_int_equal(3, plen);
	assert_int_equal(-ENOENT, snapfile__get(f, SNAP_SEC_PIT, &p, &plen));
	assert_int_equal(0, snapfile__get(f, SNAP_SEC_MANIFEST, &p, &plen));
	assert_int_equal(0, snap_manifest__decode(p, plen, &m, err,
						  sizeof(err)));
	assert_int_equal(128 << 20, m.mem_size);
	assert_int_equal(2, m.vcpu_count);
	assert_string_equal("0.1.0", m.vmm_version);
	snapfile__close(f);
	free(buf);
}

static void every_truncation(void **state)
{
	char err[256];
	size_t len;
	uint8_t *buf = valid_file(&len);

	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, buf, n);
		assert_int_not_equal(0, parse(copy, n, err, sizeof(err)));
		assert_true(strlen(err) > 0);
		free(copy);
	}
	free(buf);
}

static void every_byte_flip(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x10, 0x80, 0xff };
	char err[256];
	size_t len;
	uint8_t *buf = valid_file(&len);

	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(masks); k++) {
			buf[i] ^= masks[k];
			if (!parse(buf, len, err, sizeof(err)))
				fail_msg("flipping byte %zu by 0x%02x went unnoticed",
					 i, masks[k]);
			assert_true(strlen(err) > 0);
			buf[i] ^= masks[k];
		}
	}
	assert_int_equal(0, parse(buf, len, err, sizeof(err)));
	free(buf);
}

static void trailing_garbage(void **state)
{
	static const size_t extra[] = { 1, 7, 8, 32, 4096 };
	char err[256];
	size_t len;
	uint8_t *buf = valid_file(&len);

	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		uint8_t *b = calloc(1, len + extra[i]);

		memcpy(b, buf, len);
		assert_int_equal(-EBADMSG, parse(b, len + extra[i], err,
						 sizeof(err)));
		assert_non_null(strstr(err, "unexpected bytes"));
		free(b);
	}
	free(buf);
}

static void wrong_magic_version_type(void **state)
{
	char err[256];
	size_t len;
	uint8_t *buf = valid_file(&len);
	struct snapfile *f;

	buf[0] = 'X';
	assert_int_equal(-EBADMSG, parse(buf, len, err, sizeof(err)));
	assert_non_null(strstr(err, "magic"));
	buf[0] = 'T';

	/* Another major, checksum and all: refused, naming both. */
	put_le16(buf + HDR_MAJOR, 2);
	fix_header_crc(buf);
	assert_int_equal(-EPROTONOSUPPORT, parse(buf, len, err, sizeof(err)));
	assert_non_null(strstr(err, "2.0"));
	assert_non_null(strstr(err, "1.x"));
	put_le16(buf + HDR_MAJOR, 0);
	fix_header_crc(buf);
	assert_int_equal(-EPROTONOSUPPORT, parse(buf, len, err, sizeof(err)));
	/* Even a new major with a garbled header gets the version message. */
	put_le16(buf + HDR_MAJOR, 7);
	assert_int_equal(-EPROTONOSUPPORT, parse(buf, len, err, sizeof(err)));
	assert_non_null(strstr(err, "7.0"));
	put_le16(buf + HDR_MAJOR, SNAPFILE_MAJOR);

	/* A newer minor of the same major is read. */
	put_le16(buf + HDR_MINOR, SNAPFILE_MINOR + 3);
	fix_header_crc(buf);
	assert_int_equal(0, parse(buf, len, err, sizeof(err)));
	put_le16(buf + HDR_MINOR, SNAPFILE_MINOR);
	fix_header_crc(buf);

	/* The right container, the wrong kind of file. */
	assert_int_equal(-EPROTONOSUPPORT,
			 snapfile__parse(buf, len, SNAPFILE_TYPE_WSET, &f, err,
					 sizeof(err)));
	assert_non_null(strstr(err, "state file, not a working-set file"));
	put_le32(buf + HDR_TYPE, 77);
	fix_header_crc(buf);
	assert_int_equal(-EPROTONOSUPPORT, parse(buf, len, err, sizeof(err)));
	assert_non_null(strstr(err, "unknown type"));
	free(buf);
}

static void header_fields(void **state)
{
	char err[256];
	size_t len;
	uint8_t *buf = valid_file(&len), *b = malloc(len);

	/* Unknown header flags: a newer writer. */
	memcpy(b, buf, len);
	put_le32(b + HDR_FLAGS, 1);
	fix_header_crc(b);
	assert_int_equal(-EPROTONOSUPPORT, parse(b, len, err, sizeof(err)));
	/* Reserved bytes. */
	for (size_t i = HDR_RSVD; i < HDR_CRC; i++) {
		memcpy(b, buf, len);
		b[i] = 1;
		fix_header_crc(b);
		assert_int_equal(-EBADMSG, parse(b, len, err, sizeof(err)));
	}
	/* Absurd section counts and sizes, with good checksums. */
	static const uint32_t counts[] = { 0, 4, 6, 4096, 4097, 0xffffffff };

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		memcpy(b, buf, len);
		put_le32(b + HDR_NSECT, counts[i]);
		fix_header_crc(b);
		assert_int_not_equal(0, parse(b, len, err, sizeof(err)));
	}
	static const uint64_t sizes[] = { 0, 63, 64, 65, UINT64_MAX,
					  1ull << 63 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memcpy(b, buf, len);
		put_le64(b + HDR_FSIZE, sizes[i]);
		fix_header_crc(b);
		assert_int_equal(-EBADMSG, parse(b, len, err, sizeof(err)));
	}
	free(b);
	free(buf);
}

static void section_fields(void **state)
{
	static const uint64_t lens[] = { 14, 16, 1000, 1ull << 32,
					 1ull << 63, UINT64_MAX,
					 UINT64_MAX - 6 };
	char err[256];
	size_t len;
	uint8_t *buf = valid_file(&len), *b = malloc(len);
	/* The second section (vcpu0, 13 bytes + 3 of padding). */
	size_t s1 = SEC0 + 32 + SNAP_MANIFEST_SIZE;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memcpy(b, buf, len);
		put_le64(b + s1 + SEC_LEN, lens[i]);
		fix_section_crc(b + s1);
		assert_int_equal(-EBADMSG, parse(b, len, err, sizeof(err)));
	}
	/* Non-zero padding. */
	memcpy(b, buf, len);
	b[s1 + 32 + 13] = 1;
	assert_int_equal(-EBADMSG, parse(b, len, err, sizeof(err)));
	assert_non_null(strstr(err, "padding"));
	/* Reserved fields. */
	memcpy(b, buf, len);
	b[s1 + SEC_RSVD + 5] = 1;
	fix_section_crc(b + s1);
	assert_int_equal(-EBADMSG, parse(b, len, err, sizeof(err)));
	/* Unknown section flags. */
	memcpy(b, buf, len);
	put_le32(b + s1 + SEC_FLAGS, 0x80000001);
	fix_section_crc(b + s1);
	assert_int_equal(-EPROTONOSUPPORT, parse(b, len, err, sizeof(err)));
	/* A duplicate id. */
	memcpy(b, buf, len);
	put_le32(b + s1 + SEC_ID, SNAP_SEC_MANIFEST);
	fix_section_crc(b + s1);
	assert_int_equal(-EBADMSG, parse(b, len, err, sizeof(err)));
	assert_non_null(strstr(err, "twice"));
	/* An id this build does not know, flagged mandatory. */
	memcpy(b, buf, len);
	put_le32(b + s1 + SEC_ID, 0x7777);
	fix_section_crc(b + s1);
	assert_int_equal(-EPROTONOSUPPORT, parse(b, len, err, sizeof(err)));
	assert_non_null(strstr(err, "mandatory"));
	/* The same id, optional: skipped. */
	put_le32(b + s1 + SEC_FLAGS, 0);
	fix_section_crc(b + s1);
	assert_int_equal(0, parse(b, len, err, sizeof(err)));
	free(b);
	free(buf);
}

static void writer_rules(void **state)
{
	struct snapfile_writer *w = snapfile__writer_new(SNAPFILE_TYPE_STATE);
	static uint8_t big[1 << 20];

	assert_null(snapfile__writer_new(99));
	assert_int_equal(0, snapfile__add(w, SNAP_SEC_PIT, "x", 1));
	assert_int_equal(-EEXIST, snapfile__add(w, SNAP_SEC_PIT, "y", 1));
	assert_int_equal(-EEXIST, snapfile__add_flags(w, SNAP_SEC_PIT, 0,
						      "y", 1));
	assert_int_equal(-EINVAL, snapfile__add(w, 0x7777, "z", 1));
	assert_int_equal(-EINVAL, snapfile__add(w, WSET_SEC_PAGES + 0x3000,
						"z", 1));
	assert_int_equal(-EINVAL, snapfile__add_flags(w, 0x8000, 2, "z", 1));
	assert_int_equal(-EINVAL, snapfile__add_flags(w, 0x8000, 0, NULL, 1));
	assert_int_equal(-E2BIG, snapfile__add_flags(w, 0x8002, 0, big,
						     SNAPFILE_MAX_SIZE + 1));
	/* The whole file stays under SNAPFILE_MAX_SIZE. */
	for (uint32_t i = 0; i < 255; i++)
		assert_int_equal(0, snapfile__add_flags(w, 0x9000 + i, 0, big,
							sizeof(big)));
	assert_int_equal(-E2BIG, snapfile__add_flags(w, 0x9100, 0, big,
						     sizeof(big)));
	snapfile__writer_free(w);

	assert_string_equal("vcpu", snapfile__id_name(SNAPFILE_TYPE_STATE,
						       SNAP_SEC_VCPU(31)));
	assert_string_equal("vsock", snapfile__id_name(SNAPFILE_TYPE_STATE,
							SNAP_SEC_DEV_VSOCK(1)));
	assert_null(snapfile__id_name(SNAPFILE_TYPE_STATE, 0x8000));
	assert_null(snapfile__id_name(SNAPFILE_TYPE_WSET, SNAP_SEC_PIT));
}

static bool dir_has_temp(const char *dir)
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

static void commit_and_open(void **state)
{
	char dir[] = "/tmp/thaw-snapfile.XXXXXX", path[128], bad[160];
	struct snapfile_writer *w;
	struct snapfile *f;
	const void *p;
	char err[256];
	size_t plen;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	w = snapfile__writer_new(SNAPFILE_TYPE_STATE);
	assert_int_equal(0, snapfile__add(w, SNAP_SEC_PIT, "pit1", 4));
	assert_int_equal(0, snapfile__commit(w, path, err, sizeof(err)));
	snapfile__writer_free(w);

	/* A second commit replaces the file as a whole. */
	w = snapfile__writer_new(SNAPFILE_TYPE_STATE);
	assert_int_equal(0, snapfile__add(w, SNAP_SEC_PIT, "pit2", 4));
	assert_int_equal(0, snapfile__commit(w, path, err, sizeof(err)));
	assert_int_equal(0, snapfile__open(path, SNAPFILE_TYPE_STATE, &f, err,
					   sizeof(err)));
	assert_int_equal(0, snapfile__get(f, SNAP_SEC_PIT, &p, &plen));
	assert_memory_equal("pit2", p, 4);
	snapfile__close(f);
	assert_false(dir_has_temp(dir));

	/* A failing commit (the target is a folder) leaves nothing. */
	snprintf(bad, sizeof(bad), "%s/sub", dir);
	assert_int_equal(0, mkdir(bad, 0700));
	assert_int_equal(-EISDIR, snapfile__commit(w, bad, err, sizeof(err)));
	assert_non_null(strstr(err, "rename"));
	assert_false(dir_has_temp(dir));
	snprintf(bad, sizeof(bad), "%s/nodir/state", dir);
	assert_int_equal(-ENOENT, snapfile__commit(w, bad, err, sizeof(err)));
	snapfile__writer_free(w);

	/* Opening: missing, a folder, too large, truncated on disk. */
	assert_int_equal(-ENOENT, snapfile__open(bad, SNAPFILE_TYPE_STATE, &f,
						 err, sizeof(err)));
	assert_non_null(strstr(err, bad));
	snprintf(bad, sizeof(bad), "%s/sub", dir);
	assert_int_equal(-EINVAL, snapfile__open(bad, SNAPFILE_TYPE_STATE, &f,
						 err, sizeof(err)));
	rmdir(bad);
	snprintf(bad, sizeof(bad), "%s/big", dir);
	fd = open(bad, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(0, ftruncate(fd, SNAPFILE_MAX_SIZE + 1));
	close(fd);
	assert_int_equal(-EFBIG, snapfile__open(bad, SNAPFILE_TYPE_STATE, &f,
						err, sizeof(err)));
	unlink(bad);
	assert_int_equal(0, truncate(path, 70));
	assert_int_equal(-EBADMSG, snapfile__open(path, SNAPFILE_TYPE_STATE,
						  &f, err, sizeof(err)));
	assert_non_null(strstr(err, "truncated"));
	assert_non_null(strstr(err, path));
	unlink(path);
	rmdir(dir);
}

static void manifest(void **state)
{
	struct snap_manifest m = {
		.mem_size = 1 << 30, .page_size = 2 << 20, .vcpu_count = 4,
		.flags = SNAP_MANIFEST_DIFF, .created_ns = 99,
		.vmm_version = "0123456789abcdefghijklm",
	}, out;
	uint8_t b[SNAP_MANIFEST_SIZE], c[SNAP_MANIFEST_SIZE];
	char err[256];

	snap_manifest__encode(&m, b);
	assert_int_equal(0, snap_manifest__decode(b, sizeof(b), &out, err,
						  sizeof(err)));
	assert_int_equal(m.mem_size, out.mem_size);
	assert_int_equal(m.page_size, out.page_size);
	assert_int_equal(m.vcpu_count, out.vcpu_count);
	assert_int_equal(m.flags, out.flags);
	assert_int_equal(m.created_ns, out.created_ns);
	assert_string_equal(m.vmm_version, out.vmm_version);
	assert_int_equal(-EBADMSG, snap_manifest__decode(b, sizeof(b) - 1,
							 &out, err,
							 sizeof(err)));
	memcpy(c, b, sizeof(c));
	put_le32(c + 8, 8192);
	assert_int_equal(-EBADMSG, snap_manifest__decode(c, sizeof(c), &out,
							 err, sizeof(err)));
	memcpy(c, b, sizeof(c));
	put_le64(c, (1 << 30) + 4096);
	assert_int_equal(-EBADMSG, snap_manifest__decode(c, sizeof(c), &out,
							 err, sizeof(err)));
	memcpy(c, b, sizeof(c));
	put_le32(c + 12, 0);
	assert_int_equal(-EBADMSG, snap_manifest__decode(c, sizeof(c), &out,
							 err, sizeof(err)));
	memcpy(c, b, sizeof(c));
	put_le32(c + 16, 2);
	assert_int_equal(-EPROTONOSUPPORT,
			 snap_manifest__decode(c, sizeof(c), &out, err,
					       sizeof(err)));
	memcpy(c, b, sizeof(c));
	c[60] = 1;
	assert_int_equal(-EBADMSG, snap_manifest__decode(c, sizeof(c), &out,
							 err, sizeof(err)));
	memcpy(c, b, sizeof(c));
	memset(c + 32, 'a', 24);
	assert_int_equal(-EBADMSG, snap_manifest__decode(c, sizeof(c), &out,
							 err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(every_truncation),
		cmocka_unit_test(every_byte_flip),
		cmocka_unit_test(trailing_garbage),
		cmocka_unit_test(wrong_magic_version_type),
		cmocka_unit_test(header_fields),
		cmocka_unit_test(section_fields),
		cmocka_unit_test(writer_rules),
		cmocka_unit_test(commit_and_open),
		cmocka_unit_test(manifest),
	};

	return cmocka_run_group_tests_name("snapfile", tests, NULL, NULL);
}
