// SPDX-License-Identifier: GPL-2.0
/*
 * Function images from zip files.  Lambda takes a custom runtime's code as
 * a zip with an executable `bootstrap` at its top and any files beside it,
 * unpacked at /var/task.  'thawd function create NAME CODE.zip' unpacks it
 * with libarchive into a folder of its own and has mkfunc make the
 * initramfs from it (busybox for a shell, thaw-init, the guest's modules).
 *
 * A zip is as trusted as its uploader: entries may only be files, folders
 * and symbolic links; no absolute path, no `..`, nothing written through a
 * link; at most Lambda's 250 MiB unzipped and a bounded number of entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/err.h"
#include "tools/lib/proc.h"
#include "tools/thawd/thawd.h"

#define ZIP_ENTRIES_MAX		65536

int image__is_zip(const char *path)
{
	unsigned char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, magic, sizeof(magic));
	close(fd);
	/* A local file header, or the end record of an empty zip. */
	return n == 4 && magic[0] == 'P' && magic[1] == 'K' &&
	       ((magic[2] == 3 && magic[3] == 4) ||
		(magic[2] == 5 && magic[3] == 6));
}

/* Is @p a relative path without a `..` component? */
static bool path_ok(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/')
		return false;
	while (c) {
		if (!strncmp(c, "..", 2) && (c[2] == '/' || !c[2]))
			return false;
		c = strchr(c, '/');
		if (c)
			c++;
	}
	return true;
}

int image__unzip(const char *zip, const char *dest, uint64_t max_bytes,
		 char *err, size_t errlen)
{
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	struct archive_entry *e;
	uint64_t total = 0;
	unsigned int entries = 0;
	int ret = 0, r;

	if (!in || !out) {
		ret = err__set(err, errlen, -ENOMEM, "out of memory");
		goto done;
	}
	archive_read_support_format_zip(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_TIME |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	if (archive_read_open_filename(in, zip, 65536) != ARCHIVE_OK) {
		ret = err__set(err, errlen, -EINVAL, "%s: %s", zip,
			       archive_error_string(in));
		goto done;
	}
	while (!ret && (r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *zname = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);
		char path[PATH_MAX], name[PATH_MAX];
		const void *buf;
		size_t len;
		int64_t off;

		if (++entries > ZIP_ENTRIES_MAX) {
			ret = err__set(err, errlen, -EFBIG,
				       "%s: more than %d entries", zip,
				       ZIP_ENTRIES_MAX);
			break;
		}
		/* Its own copy: the entry's goes when the path is set. */
		snprintf(name, sizeof(name), "%s", zname ? zname : "");
		if (!path_ok(name)) {
			ret = err__set(err, errlen, -EINVAL,
				       "%s: entry `%.200s`: absolute, empty or with `..`",
				       zip, name);
			break;
		}
		/*
		 * libarchive's zip reader makes every other type a file
		 * today (a zip saying FIFO unpacks as one); this stays in
		 * case a later one does not.
		 */
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
			ret = err__set(err, errlen, -EINVAL,
				       "%s: entry `%.200s`: not a file, folder or link",
				       zip, name);
			break;
		}
		if (thawd__pathf(path, sizeof(path), "%s/%s", dest, name)) {
			ret = err__set(err, errlen, -ENAMETOOLONG,
				       "%s: entry `%.200s`: path too long", zip,
				       name);
			break;
		}
		archive_entry_set_pathname(e, path);
		/* Modes as zipped, less set-id bits; owned by whoever unpacks. */
		archive_entry_set_perm(e, archive_entry_perm(e) & 0777);
		if (archive_write_header(out, e) != ARCHIVE_OK) {
			ret = err__set(err, errlen, -EIO, "%s: `%.200s`: %s", zip,
				       name, archive_error_string(out));
			break;
		}
		while ((r = archive_read_data_block(in, &buf, &len, &off)) ==
		       ARCHIVE_OK) {
			total += len;
			if (total > max_bytes) {
				ret = err__set(err, errlen, -EFBIG,
					       "%s: more than %llu MiB unzipped (Lambda's limit is 250)",
					       zip,
					       (unsigned long long)(max_bytes >> 20));
				break;
			}
			if (archive_write_data_block(out, buf, len, off) !=
			    ARCHIVE_OK) {
				ret = err__set(err, errlen, -EIO,
					       "%s: `%.200s`: %s", zip, name,
					       archive_error_string(out));
				break;
			}
		}
		if (!ret && r != ARCHIVE_EOF)
			ret = err__set(err, errlen, -EINVAL, "%s: `%.200s`: %s",
				       zip, name, archive_error_string(in));
		if (!ret && archive_write_finish_entry(out) != ARCHIVE_OK)
			ret = err__set(err, errlen, -EIO, "%s: `%.200s`: %s", zip,
				       name, archive_error_string(out));
	}
	if (!ret && r != ARCHIVE_EOF)
		ret = err__set(err, errlen, -EINVAL, "%s: %s", zip,
			       archive_error_string(in));
done:
	if (out && archive_write_close(out) != ARCHIVE_OK && !ret)
		ret = err__set(err, errlen, -EIO, "%s: %s", dest,
			       archive_error_string(out));
	archive_read_free(in);
	archive_write_free(out);
	return ret;
}

int image__from_zip(const char *zip, const char *code, const char *out,
		    const struct image_opts *o, char *err, size_t errlen)
{
	char prog[PATH_MAX], boot[PATH_MAX], add[PATH_MAX + 16], mem[16];
	const char **argv;
	struct stat st;
	int n = 0, status, ret;
	pid_t pid;

	if (mkdir(code, 0755))
		return err__set(err, errlen, -errno, "%s: %s", code,
				strerror(errno));
	ret = image__unzip(zip, code, IMAGE_UNZIPPED_MAX, err, errlen);
	if (ret)
		return ret;
	thawd__pathf(boot, sizeof(boot), "%s/bootstrap", code);
	if (lstat(boot, &st) || !S_ISREG(st.st_mode))
		return err__set(err, errlen, -ENOENT,
				"%s: no `bootstrap` file at the top of the zip (thawd runs custom runtimes: the zip's bootstrap starts the runtime)",
				zip);
	if (!(st.st_mode & S_IXUSR))
		return err__set(err, errlen, -EACCES,
				"%s: `bootstrap` is not executable (chmod +x it before zipping; zip keeps the mode)",
				zip);
	if (proc__find(prog, sizeof(prog), "mkfunc", o->mkfunc, "MKFUNC"))
		return err__set(err, errlen, -ENOENT, "%s", prog);
	argv = calloc(16 + 2 * o->n_envs, sizeof(*argv));
	if (!argv)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	snprintf(add, sizeof(add), "%s/.:/var/task", code);
	snprintf(mem, sizeof(mem), "%u", o->memory_mib);
	argv[n++] = prog;
	argv[n++] = boot;
	argv[n++] = out;
	argv[n++] = "--busybox";
	argv[n++] = "--add";
	argv[n++] = add;
	argv[n++] = "--name";
	argv[n++] = o->name;
	argv[n++] = "--memory";
	argv[n++] = mem;
	if (o->handler) {
		argv[n++] = "--handler";
		argv[n++] = o->handler;
	}
	for (size_t i = 0; i < o->n_envs; i++) {
		argv[n++] = "--env";
		argv[n++] = o->envs[i];
	}
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	free(argv);
	if (pid < 0)
		return err__set(err, errlen, -errno, "fork: %s", strerror(errno));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err__set(err, errlen, -errno, "waitpid: %s",
					strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return err__set(err, errlen, -EIO,
				"mkfunc could not make the image from %s (it said why above)",
				zip);
	return 0;
}
