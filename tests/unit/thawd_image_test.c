// SPDX-License-Identifier: GPL-2.0
/*
 * thawd's zip images (tools/thawd/image.c): zips written here with
 * libarchive, good and hostile, unpacked by image__unzip().  Making the
 * initramfs from a good one (mkfunc) is selftests/thawd's part.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "tools/thawd/thawd.h"

static char dir[64];

struct entry {
	const char *path;
	mode_t type;		/* AE_IFREG, AE_IFDIR, AE_IFLNK */
	mode_t perm;
	const char *data;	/* a file's bytes, a link's target */
	size_t repeat;		/* data written this many times (0: once) */
};

/* Write dir/NAME as a zip of @n entries. */
static void make_zip(const char *name, const struct entry *e, size_t n)
{
	struct archive *a = archive_write_new();
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		size_t len = e[i].data ? strlen(e[i].data) : 0;
		size_t times = e[i].repeat ? e[i].repeat : 1;

		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_filetype(ae, e[i].type);
		archive_entry_set_perm(ae, e[i].perm);
		if (e[i].type == AE_IFLNK)
			archive_entry_set_symlink(ae, e[i].data);
		if (e[i].type == AE_IFREG)
			archive_entry_set_size(ae, (la_int64_t)(len * times));
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].type == AE_IFREG)
			for (size_t t = 0; t < times; t++)
				assert_int_equal(archive_write_data(a, e[i].data,
								    len),
						 (la_ssize_t)len);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static int unzip_to(const char *zip, const char *sub, uint64_t max,
		    char *err, size_t errlen)
{
	char in[128], out[128];

	snprintf(in, sizeof(in), "%s/%s", dir, zip);
	snprintf(out, sizeof(out), "%s/%s", dir, sub);
	mkdir(out, 0755);
	err[0] = '\0';
	return image__unzip(in, out, max, err, errlen);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/thawd-image-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static void good_zip(void **state)
{
	static const struct entry e[] = {
		{ "bootstrap", AE_IFREG, 0755, "#!/bin/sh\necho hi\n" },
		{ "lib/", AE_IFDIR, 0755, NULL },
		{ "lib/data.txt", AE_IFREG, 04644, "data\n" },
		{ "lib/link", AE_IFLNK, 0777, "data.txt" },
		{ "outside", AE_IFLNK, 0777, "/etc/passwd" },
	};
	char err[512], path[256], buf[64];
	struct stat st;
	ssize_t n;
	int fd;

	(void)state;
	make_zip("good.zip", e, sizeof(e) / sizeof(e[0]));
	assert_int_equal(unzip_to("good.zip", "good", 1 << 20, err,
				  sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/good.zip", dir);
	assert_int_equal(image__is_zip(path), 1);
	snprintf(path, sizeof(path), "%s/good/bootstrap", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	assert_int_equal(image__is_zip(path), 0);
	/* A set-uid bit in the zip is not kept. */
	snprintf(path, sizeof(path), "%s/good/lib/data.txt", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s/good/lib/link", dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "data\n", 5);
	/* A link may point anywhere: it is a link inside the guest. */
	snprintf(path, sizeof(path), "%s/good/outside", dir);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

/* Each hostile zip is refused, naming why, and writes nothing outside. */
static void hostile_zips(void **state)
{
	static const struct entry dotdot[] = {
		{ "bootstrap", AE_IFREG, 0755, "x" },
		{ "a/../../escaped", AE_IFREG, 0644, "x" },
	};
	static const struct entry absolute[] = {
		{ "/tmp/thawd-image-test-absolute", AE_IFREG, 0644, "x" },
	};
	static const struct entry through_link[] = {
		{ "up", AE_IFLNK, 0777, ".." },
		{ "up/escaped-by-link", AE_IFREG, 0644, "x" },
	};
	static const struct entry bomb[] = {
		{ "big", AE_IFREG, 0644,
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  40000 },
	};
	static const struct {
		const char *zip;
		const struct entry *e;
		size_t n;
		const char *says;
		int ret;
	} cases[] = {
		{ "dotdot.zip", dotdot, 2, "with `..`", -EINVAL },
		{ "absolute.zip", absolute, 1, "absolute", -EINVAL },
		{ "link.zip", through_link, 2, "escaped-by-link", -EIO },
		{ "bomb.zip", bomb, 1, "MiB unzipped", -EFBIG },
	};
	char err[512], path[256];
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		make_zip(cases[i].zip, cases[i].e, cases[i].n);
		ret = unzip_to(cases[i].zip, "out", 1 << 20, err, sizeof(err));
		if (ret != cases[i].ret || !strstr(err, cases[i].says))
			fail_msg("%s: ret %d, '%s' lacks '%s'", cases[i].zip,
				 ret, err, cases[i].says);
	}
	snprintf(path, sizeof(path), "%s/escaped", dir);
	assert_int_not_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/escaped-by-link", dir);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_not_equal(stat("/tmp/thawd-image-test-absolute", &st), 0);
}

static void not_a_zip(void **state)
{
	char err[512], path[256];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/cut.zip", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("PK\003\004 and then nothing a zip has", f);
	fclose(f);
	assert_int_equal(image__is_zip(path), 1);
	assert_int_equal(unzip_to("cut.zip", "cut", 1 << 20, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "cut.zip"));
	snprintf(path, sizeof(path), "%s/absent.zip", dir);
	assert_int_equal(image__is_zip(path), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_zip),
		cmocka_unit_test(hostile_zips),
		cmocka_unit_test(not_a_zip),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
