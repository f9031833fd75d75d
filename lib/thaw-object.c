// SPDX-License-Identifier: GPL-2.0
/*
 * thaw.ko's snapshot object for a memory file: open or create it, check
 * it, import its working set (lib/thaw-object.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/thaw.h>

#include "lib/err.h"
#include "lib/memfile.h"
#include "lib/thaw-object.h"
#include "lib/wset.h"

#define THAW_PAGE		4096ULL
#define THAW_NEED		(THAW_FEATURE_SNAPSHOT | THAW_FEATURE_WSET)
/* Open and create race with other VMMs; a few rounds settle it. */
#define THAW_OPEN_TRIES		4

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* 64-bit FNV-1a, for names whose fields do not fit THAW_NAME_MAX. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int thaw_object__name(int fd, char name[THAW_NAME_MAX])
{
	char full[160];
	struct stat st;
	int n;

	if (fstat(fd, &st) < 0)
		return -errno;
	/* ctime moves on every write, truncate or rename of the file. */
	n = snprintf(full, sizeof(full), "mem-%jx-%jx-%jx-%jx.%lx",
		     (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
		     (uintmax_t)st.st_size, (uintmax_t)st.st_ctim.tv_sec,
		     (unsigned long)st.st_ctim.tv_nsec);
	if (n > 0 && n < THAW_NAME_MAX)
		memcpy(name, full, n + 1);
	else
		snprintf(name, THAW_NAME_MAX, "memh-%016" PRIx64, fnv1a(full));
	return 0;
}

static int open_dev(const char *path, int *dev, uint64_t *features,
		    char *err, size_t errlen)
{
	struct thaw_api api = { .api = THAW_API_VERSION, .features = THAW_NEED };
	int ret;

	*dev = open(path, O_RDWR | O_CLOEXEC);
	if (*dev < 0) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO)
			return err__set(err, errlen, ret,
					"thaw.ko is not loaded (%s: %s): load it with 'modprobe thaw' or 'insmod thaw.ko', or choose the File or Uffd backend",
					path, strerror(-ret));
		return err__set(err, errlen, ret, "%s: %s", path,
				strerror(-ret));
	}
	if (ioctl(*dev, THAW_IOC_API, &api) == 0) {
		*features = api.features;
		return 0;
	}
	ret = -errno;
	if (ret == -ENOTTY)
		return err__set(err, errlen, ret, "%s is not thaw.ko's device",
				path);
	/* Learn what it has, to say what is missing. */
	memset(&api, 0, sizeof(api));
	api.api = THAW_API_VERSION;
	if (ioctl(*dev, THAW_IOC_API, &api) == 0)
		return err__set(err, errlen, -EOPNOTSUPP,
				"thaw.ko offers features %#llx, the Thaw backend needs snapshot objects and working sets (%#llx)",
				(unsigned long long)api.features,
				(unsigned long long)THAW_NEED);
	return err__set(err, errlen, ret, "THAW_IOC_API (API version %d): %s",
			THAW_API_VERSION, strerror(-ret));
}

static int create_error(int ret, const char *name, char *err, size_t errlen)
{
	switch (ret) {
	case -EDQUOT:
		return err__set(err, errlen, ret,
				"thaw.ko: creating object %s would pass its cap on pinned memory or objects (module parameters max_pinned_mb, max_snapshots, max_pinned_mb_per_user, max_snapshots_per_user)",
				name);
	case -ENOMEM:
		return err__set(err, errlen, ret,
				"thaw.ko: out of memory creating object %s (RLIMIT_MEMLOCK, ulimit -l, too small? memory cgroup limit?)",
				name);
	default:
		return err__set(err, errlen, ret, "THAW_IOC_SNAP_CREATE %s: %s",
				name, strerror(-ret));
	}
}

/*
 * Create the object from @memfd: with 2 MiB regions where the module
 * offers them (THAW_FEATURE_HUGE), so that KVM can map the clone's RAM
 * with 2 MiB pages; lazily where it offers that (THAW_FEATURE_LAZY) and
 * @lazy, so that the restore does not wait for a copy of the whole file.
 * A file someone has open for writing cannot be held lazily (ETXTBSY):
 * it is copied now, as before the module could.  The fd, or -1 with errno.
 */
static int create_object(int dev, uint64_t features, bool lazy, int memfd,
			 uint64_t size, const char *name,
			 struct thaw_object_info *info)
{
	struct thaw_snap_create c;
	uint64_t start = now_ns();
	int fd;

	memset(&c, 0, sizeof(c));
	c.fd = memfd;
	c.length = size;
	if (features & THAW_FEATURE_HUGE)
		c.flags = THAW_SNAP_CREATE_HUGE;
	if (lazy && (features & THAW_FEATURE_LAZY))
		c.flags |= THAW_SNAP_CREATE_LAZY;
	memcpy(c.name, name, strlen(name) + 1);
	fd = ioctl(dev, THAW_IOC_SNAP_CREATE, &c);
	if (fd < 0 && errno == ETXTBSY && (c.flags & THAW_SNAP_CREATE_LAZY)) {
		c.flags &= ~THAW_SNAP_CREATE_LAZY;
		fd = ioctl(dev, THAW_IOC_SNAP_CREATE, &c);
	}
	if (fd >= 0) {
		info->created = true;
		info->lazy = c.flags & THAW_SNAP_CREATE_LAZY;
		info->create_ns = now_ns() - start;
	}
	return fd;
}

/*
 * The object's fd: open it by name (a live or cached object), or create
 * it from @memfd (create_object()).
 */
static int open_object(int dev, uint64_t features, bool lazy, int memfd,
		       uint64_t size, const char *name,
		       struct thaw_object_info *info, char *err, size_t errlen)
{
	struct thaw_snap_open o;
	int i, fd;

	for (i = 0; i < THAW_OPEN_TRIES; i++) {
		memset(&o, 0, sizeof(o));
		memcpy(o.name, name, strlen(name) + 1);
		fd = ioctl(dev, THAW_IOC_SNAP_OPEN, &o);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT)
			return err__set(err, errlen, -errno,
					"THAW_IOC_SNAP_OPEN %s: %s", name,
					strerror(errno));
		fd = create_object(dev, features, lazy, memfd, size, name,
				   info);
		if (fd >= 0)
			return fd;
		/* EEXIST: another VMM created it first; open that one. */
		if (errno != EEXIST)
			return create_error(-errno, name, err, errlen);
	}
	return err__set(err, errlen, -EAGAIN,
			"thaw.ko object %s: created and gone %d times in a row",
			name, THAW_OPEN_TRIES);
}

/* The object must be this memory: as many pages as the RAM. */
static int check_object(uint64_t features, int snap, uint64_t size,
			const char *name, struct thaw_object_info *info,
			char *err, size_t errlen)
{
	struct thaw_snap_stats st;

	if (!(features & THAW_FEATURE_STATS))
		return 0;
	memset(&st, 0, sizeof(st));
	if (ioctl(snap, THAW_IOC_SNAP_STATS, &st) < 0)
		return err__set(err, errlen, -errno,
				"THAW_IOC_SNAP_STATS %s: %s", name,
				strerror(errno));
	if (st.pages != size / THAW_PAGE)
		return err__set(err, errlen, -EINVAL,
				"thaw.ko object %s has %llu pages, the memory file %llu",
				name, (unsigned long long)st.pages,
				(unsigned long long)(size / THAW_PAGE));
	info->object_id = st.id;
	return 0;
}

/*
 * A working-set file's page offsets as the module's 4 KiB page indices,
 * with the pages the recording saw written marked where the module takes
 * that (THAW_FEATURE_WSET_WRITTEN): it chooses the regions a clone gets
 * private 2 MiB copies of from them.
 */
static int import_wset(int snap, uint64_t features, const struct wset *ws,
		       uint64_t *pages, char *err, size_t errlen)
{
	bool written = (features & THAW_FEATURE_WSET_WRITTEN) &&
		       wset__written_count(ws);
	uint64_t per = wset__page_size(ws) / THAW_PAGE, n, i, k, first;
	struct thaw_wset_io io;
	uint32_t *idx;
	int ret = 0;

	n = wset__count(ws) * per;
	*pages = 0;
	if (!n)
		return 0;
	if (n > UINT32_MAX)
		return err__set(err, errlen, -E2BIG,
				"working set of %llu pages",
				(unsigned long long)n);
	idx = malloc(n * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < wset__count(ws); i++) {
		first = wset__offset(ws, i) / THAW_PAGE;
		for (k = 0; k < per; k++)
			idx[i * per + k] = (first + k) |
				(written && wset__written(ws, i) ?
				 THAW_WSET_WRITTEN : 0);
	}
	memset(&io, 0, sizeof(io));
	io.pages = (uintptr_t)idx;
	io.count = n;
	if (written)
		io.flags = THAW_WSET_IO_WRITTEN;
	if (ioctl(snap, THAW_IOC_WSET_SET, &io) < 0)
		ret = err__set(err, errlen, -errno, "THAW_IOC_WSET_SET: %s",
			       strerror(errno));
	else
		*pages = n;
	free(idx);
	return ret;
}

int thaw_object__for_file(const char *mem_path, uint64_t size,
			  unsigned int flags,
			  const struct wset *ws, const char *wset_path,
			  const char *dev_path, int *dev, uint64_t *features,
			  struct thaw_object_info *info, char *err,
			  size_t errlen)
{
	struct wset *own = NULL;
	int memfd, snap = -1, ret;

	*dev = -1;
	memfd = memfile__open(mem_path, size, err, errlen);
	if (memfd < 0)
		return memfd;
	if (!ws && wset_path) {
		ret = wset__read(wset_path, size, &own, err, errlen);
		if (ret)
			goto out;
		ws = own;
	}
	ret = open_dev(dev_path ? dev_path : THAW_DEV_PATH, dev, features, err,
		       errlen);
	if (ret)
		goto out;
	ret = thaw_object__name(memfd, info->name);
	if (ret) {
		err__set(err, errlen, ret, "%s: %s", mem_path, strerror(-ret));
		goto out;
	}
	snap = open_object(*dev, flags & THAW_OBJECT_NO_HUGE ?
			   *features & ~THAW_FEATURE_HUGE : *features,
			   !(flags & THAW_OBJECT_EAGER), memfd, size,
			   info->name, info, err, errlen);
	if (snap < 0) {
		ret = snap;
		goto out;
	}
	ret = check_object(*features, snap, size, info->name, info, err,
			   errlen);
	if (!ret && ws)
		ret = import_wset(snap, *features, ws, &info->wset_pages, err,
				  errlen);
out:
	if (ret && snap >= 0)
		close(snap);
	close(memfd);
	wset__free(own);
	return ret ? ret : snap;
}

/*
 * Does the module keep unreferenced objects (THAW_FEATURE_CACHE, and a
 * cache_mb that is not 0)?  0 if so, else -EOPNOTSUPP with the reason.
 */
static int cache_on(const char *dev_path, char *err, size_t errlen)
{
	struct thaw_stats st;
	uint64_t features;
	int dev, ret;

	ret = open_dev(dev_path ? dev_path : THAW_DEV_PATH, &dev, &features,
		       err, errlen);
	if (ret) {
		if (dev >= 0)
			close(dev);
		return ret;
	}
	memset(&st, 0, sizeof(st));
	if (!(features & THAW_FEATURE_CACHE))
		ret = err__set(err, errlen, -EOPNOTSUPP,
			       "thaw.ko keeps no unreferenced object (no THAW_FEATURE_CACHE)");
	else if (ioctl(dev, THAW_IOC_STATS, &st) < 0)
		ret = err__set(err, errlen, -errno, "THAW_IOC_STATS: %s",
			       strerror(errno));
	else if (!st.cache_limit)
		ret = err__set(err, errlen, -EOPNOTSUPP,
			       "thaw.ko's cache is off (cache_mb 0)");
	close(dev);
	return ret;
}

int thaw_object__register(const char *mem_path, const char *dev_path,
			  struct thaw_object_info *info, char *err,
			  size_t errlen)
{
	uint64_t features;
	struct stat st;
	int dev, snap, ret;

	memset(info, 0, sizeof(*info));
	ret = cache_on(dev_path, err, errlen);
	if (ret)
		return ret;
	if (stat(mem_path, &st) < 0)
		return err__set(err, errlen, -errno, "%s: %s", mem_path,
				strerror(errno));
	snap = thaw_object__for_file(mem_path, (uint64_t)st.st_size,
				     THAW_OBJECT_EAGER, NULL, NULL, dev_path,
				     &dev, &features, info, err, errlen);
	if (dev >= 0)
		close(dev);
	if (snap < 0)
		return snap;
	/* Closed, it stays in the module's cache under its name. */
	close(snap);
	return 0;
}

int thaw_object__hold(const char *mem_path, const char *wset_path,
		      const char *dev_path, struct thaw_object_info *info,
		      char *err, size_t errlen)
{
	uint64_t features;
	struct stat st;
	int dev, snap;

	memset(info, 0, sizeof(*info));
	if (stat(mem_path, &st) < 0)
		return err__set(err, errlen, -errno, "%s: %s", mem_path,
				strerror(errno));
	snap = thaw_object__for_file(mem_path, (uint64_t)st.st_size, 0, NULL,
				     wset_path, dev_path, &dev, &features,
				     info, err, errlen);
	if (dev >= 0)
		close(dev);
	return snap;
}

int thaw_object__drop_cache(const char *dev_path, bool all,
			    uint64_t *objects, uint64_t *pages, char *err,
			    size_t errlen)
{
	struct thaw_cache_drop d;
	uint64_t features;
	int dev, ret;

	ret = open_dev(dev_path ? dev_path : THAW_DEV_PATH, &dev, &features,
		       err, errlen);
	if (!ret && !(features & THAW_FEATURE_CACHE))
		ret = err__set(err, errlen, -EOPNOTSUPP,
			       "thaw.ko keeps no unreferenced object (no THAW_FEATURE_CACHE)");
	/* Before THAW_FEATURE_CACHE_DROP_OWN a drop freed every owner's. */
	if (!ret && !all && !(features & THAW_FEATURE_CACHE_DROP_OWN))
		ret = err__set(err, errlen, -EOPNOTSUPP,
			       "this thaw.ko drops every owner's cached objects at once: ask for all of them");
	if (!ret) {
		memset(&d, 0, sizeof(d));
		if (all && (features & THAW_FEATURE_CACHE_DROP_OWN))
			d.flags = THAW_CACHE_DROP_ALL;
		if (ioctl(dev, THAW_IOC_CACHE_DROP, &d) < 0)
			ret = err__set(err, errlen, -errno,
				       "THAW_IOC_CACHE_DROP: %s",
				       strerror(errno));
		*objects = d.objects;
		*pages = d.pages;
	}
	if (dev >= 0)
		close(dev);
	return ret;
}
