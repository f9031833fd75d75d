// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl merge-diff BASE DIFF OUT: a Diff snapshot (only the pages
 * dirtied since BASE was taken or loaded) applied over its base, written
 * as a new Full snapshot directory OUT that any backend can load.  BASE
 * and DIFF are not modified; OUT appears whole or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tools/thawctl/thawctl.h"
#include "vmm/memfile.h"
#include "vmm/snapfile.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl merge-diff BASE DIFF OUT\n"
		"Apply the Diff snapshot DIFF over its Full base BASE (snapshot\n"
		"directories) and write the result as the Full snapshot OUT, a\n"
		"directory that must not exist yet.  BASE and DIFF are kept.\n"
		"Exit status: 0, 1 error (OUT is not created), 2 usage.\n");
}


/* The manifest of SNAPDIR/state, and the open state file. */
static int read_manifest(const char *dir, struct snapfile **f,
			 struct snap_manifest *m, char *err, size_t errlen)
{
	char path[PATH_MAX], e[512];
	const void *buf;
	size_t len;
	int ret;

	if (thawctl__path(path, dir, SNAP_DIR_STATE)) {
		thawctl__errf(err, errlen, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	ret = snapfile__open(path, SNAPFILE_TYPE_STATE, f, e, sizeof(e));
	if (ret) {
		thawctl__errf(err, errlen, "%s", e);
		return ret;
	}
	ret = snapfile__get(*f, SNAP_SEC_MANIFEST, &buf, &len);
	if (ret) {
		thawctl__errf(err, errlen, "%s: no manifest section", path);
		goto fail;
	}
	ret = snap_manifest__decode(buf, len, m, e, sizeof(e));
	if (ret) {
		thawctl__errf(err, errlen, "%s: %s", path, e);
		goto fail;
	}
	return 0;
fail:
	snapfile__close(*f);
	*f = NULL;
	return ret;
}

/* Copy @src to a new file @dst, keeping its holes. */
static int sparse_copy(const char *src, const char *dst, uint64_t size,
		       char *err, size_t errlen)
{
	int in, out, ret = 0;
	off_t data = 0, hole;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		ret = -errno;
		thawctl__errf(err, errlen, "%s: %s", src, strerror(errno));
		return ret;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		ret = -errno;
		thawctl__errf(err, errlen, "%s: %s", dst, strerror(errno));
		close(in);
		return ret;
	}
	if (ftruncate(out, (off_t)size)) {
		ret = -errno;
		goto fail;
	}
	for (;;) {
		data = lseek(in, data, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)	/* no data past here */
				break;
			ret = -errno;
			goto fail;
		}
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0) {
			ret = -errno;
			goto fail;
		}
		while (data < hole) {
			loff_t ioff = data, ooff = data;
			ssize_t n = copy_file_range(in, &ioff, out, &ooff,
						    hole - data, 0);

			if (n <= 0) {
				ret = n < 0 ? -errno : -EIO;
				goto fail;
			}
			data += n;
		}
	}
	if (fdatasync(out))
		ret = -errno;
fail:
	if (ret)
		thawctl__errf(err, errlen, "copying %s to %s: %s", src, dst,
			 strerror(-ret));
	close(in);
	close(out);
	return ret;
}

/* DIFF's state with the manifest's diff flag cleared, as @path. */
static int write_state(const struct snapfile *diff,
		       const struct snap_manifest *m, const char *path,
		       char *err, size_t errlen)
{
	struct snapfile_writer *w = snapfile__writer_new(SNAPFILE_TYPE_STATE);
	struct snap_manifest full = *m;
	uint8_t man[SNAP_MANIFEST_SIZE];
	char e[512];
	int ret = 0;

	if (!w) {
		thawctl__errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	full.flags &= ~SNAP_MANIFEST_DIFF;
	snap_manifest__encode(&full, man);
	for (unsigned int i = 0;; i++) {
		const void *buf;
		uint32_t id, flags;
		size_t len;

		if (snapfile__section_at(diff, i, &id, &flags, &buf, &len))
			break;
		if (id == SNAP_SEC_MANIFEST) {
			buf = man;
			len = sizeof(man);
		}
		ret = snapfile__add_flags(w, id, flags, buf, len);
		if (ret) {
			thawctl__errf(err, errlen, "section 0x%x: %s", id,
				 strerror(-ret));
			goto out;
		}
	}
	ret = snapfile__commit(w, path, e, sizeof(e));
	if (ret)
		thawctl__errf(err, errlen, "%s", e);
out:
	snapfile__writer_free(w);
	return ret;
}

static int merge(const char *base, const char *diff, const char *out,
		 char *err, size_t errlen)
{
	struct snapfile *bf = NULL, *df = NULL;
	struct snap_manifest bm, dm;
	struct json_object *res;
	struct memfile_stats st;
	char tmp[PATH_MAX], bmem[PATH_MAX], dmem[PATH_MAX], tmem[PATH_MAX];
	char tstate[PATH_MAX], e[512];
	struct stat sb;
	int ret;

	ret = read_manifest(base, &bf, &bm, err, errlen);
	if (ret)
		return ret;
	ret = read_manifest(diff, &df, &dm, err, errlen);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (bm.flags & SNAP_MANIFEST_DIFF) {
		thawctl__errf(err, errlen, "%s is itself a Diff snapshot: merge it into its base first",
			 base);
		goto out;
	}
	if (!(dm.flags & SNAP_MANIFEST_DIFF)) {
		thawctl__errf(err, errlen, "%s is a Full snapshot, not a Diff", diff);
		goto out;
	}
	if (bm.mem_size != dm.mem_size || bm.page_size != dm.page_size) {
		thawctl__errf(err, errlen,
			 "%s (%llu bytes of RAM) is not the base of %s (%llu bytes)",
			 base, (unsigned long long)bm.mem_size, diff,
			 (unsigned long long)dm.mem_size);
		goto out;
	}
	if (!lstat(out, &sb) || errno != ENOENT) {
		thawctl__errf(err, errlen, "%s exists already", out);
		ret = -EEXIST;
		goto out;
	}
	/* A folder beside OUT, renamed to OUT once complete. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.merge.XXXXXX", out) >=
	    sizeof(tmp) - 16 || thawctl__path(bmem, base, SNAP_DIR_MEMORY) ||
	    thawctl__path(dmem, diff, SNAP_DIR_MEMORY)) {
		thawctl__errf(err, errlen, "path too long");
		ret = -ENAMETOOLONG;
		goto out;
	}
	if (!mkdtemp(tmp)) {
		ret = -errno;
		thawctl__errf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	thawctl__path(tmem, tmp, SNAP_DIR_MEMORY);
	thawctl__path(tstate, tmp, SNAP_DIR_STATE);
	ret = sparse_copy(bmem, tmem, bm.mem_size, err, errlen);
	if (ret)
		goto clean;
	ret = memfile__apply_diff(tmem, dmem, bm.mem_size, &st, e, sizeof(e));
	if (ret) {
		thawctl__errf(err, errlen, "%s", e);
		goto clean;
	}
	ret = write_state(df, &dm, tstate, err, errlen);
	if (ret)
		goto clean;
	if (rename(tmp, out)) {
		ret = -errno;
		thawctl__errf(err, errlen, "%s: %s", out, strerror(errno));
		goto clean;
	}
	res = json_object_new_object();
	json_object_object_add(res, "snapshot", json_object_new_string(out));
	json_object_object_add(res, "diff_pages_written",
			       json_object_new_int64(st.pages_written));
	json_object_object_add(res, "diff_pages_punched",
			       json_object_new_int64(st.pages_punched));
	printf("%s\n", json_object_to_json_string_ext(res,
			JSON_C_TO_STRING_PLAIN |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(res);
	goto out;
clean:
	unlink(tmem);
	unlink(tstate);
	rmdir(tmp);
out:
	snapfile__close(bf);
	snapfile__close(df);
	return ret;
}

int thawctl__merge_diff(int argc, char **argv)
{
	char err[1024];

	if (argc == 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return THAWCTL_OK;
	}
	if (argc != 4) {
		usage(stderr);
		return THAWCTL_USAGE;
	}
	if (merge(argv[1], argv[2], argv[3], err, sizeof(err))) {
		fprintf(stderr, "thawctl merge-diff: %s\n", err);
		return THAWCTL_ERROR;
	}
	return THAWCTL_OK;
}
