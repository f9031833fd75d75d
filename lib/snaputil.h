/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the snapshot files (snapfile, memfile, wset,
 * uffd): little-endian field access and publishing a file atomically.
 * Internal: not for other parts of thawvm.
 */
#ifndef THAW_LIB_SNAPUTIL_H
#define THAW_LIB_SNAPUTIL_H

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline uint16_t get_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint64_t snap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Is @v a multiple of @align (a power of two)? */
static inline int snap_aligned(uint64_t v, uint64_t align)
{
	return (v & (align - 1)) == 0;
}

/*
 * A file to be published as @path later (snap_publish()), created in
 * @path's directory (so that the final rename is atomic), mode 0600:
 * snapshots hold guest secrets.  Where the file system allows, it has no
 * name until published (O_TMPFILE): a process killed while writing leaves
 * nothing behind.  Elsewhere it is "@path.tmp.XXXXXX" (*@tmp, malloc'd;
 * NULL for an unnamed file).  The fd, or -errno.
 */
static inline int snap_mktemp(const char *path, char **tmp)
{
	char *copy = strdup(path);
	int fd = -1;

	*tmp = NULL;
	if (!copy)
		return -ENOMEM;
	/* Publishing an unnamed file goes through /proc/self/fd. */
	if (!access("/proc/self/fd", X_OK))
		fd = open(dirname(copy), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	free(copy);
	if (fd >= 0)
		return fd;
	if (asprintf(tmp, "%s.tmp.XXXXXX", path) < 0) {
		*tmp = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

/*
 * Give the file from snap_mktemp() its name @path, replacing any file
 * there atomically.  An unnamed file is linked under a temporary name
 * first (link cannot replace), then renamed.  0 or -errno.
 */
static inline int snap_publish(int fd, const char *tmp, const char *path)
{
	char proc[64], *name;
	int ret = 0;

	if (tmp)
		return rename(tmp, path) ? -errno : 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (int i = 0; i < 100; i++) {
		if (asprintf(&name, "%s.tmp.%d.%d", path, (int)getpid(), i) < 0)
			return -ENOMEM;
		ret = linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) ?
		      -errno : 0;
		if (!ret) {
			if (rename(name, path)) {
				ret = -errno;
				unlink(name);
			}
			free(name);
			return ret;
		}
		free(name);
		if (ret != -EEXIST)
			break;
	}
	return ret;
}

/* fsync the directory holding @path so that a rename into it is durable. */
static inline int snap_fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) && errno != EINVAL)
		ret = -errno;
	close(fd);
	return ret;
}

#endif
