// SPDX-License-Identifier: GPL-2.0
/*
 * The Thaw memory backend: guest RAM as a clone of thaw.ko's snapshot
 * object for the memory file, shared by every VM restored from it on this
 * host.  The sequence is the one Documentation/userspace-api/thaw.rst
 * gives ("Restoring guest memory with thaw"); see mem.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/thaw.h>

#include "lib/log.h"
#include "vmm/mem.h"
#include "lib/memfile.h"
#include "lib/wset.h"

#define THAW_PAGE		4096ULL
#define THAW_DEV_PATH		"/dev/thaw"
#define THAW_NEED		(THAW_FEATURE_SNAPSHOT | THAW_FEATURE_WSET)
/* Open and create race with other VMMs; a few rounds settle it. */
#define THAW_OPEN_TRIES		4

struct thaw_mem {
	int dev;			/* /dev/thaw */
	uint64_t features;		/* what the module offers */
	bool recording;			/* THAW_IOC_CLONE_RECORD is on */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
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

int thaw_mem__object_name(int fd, char name[THAW_NAME_MAX])
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

static int open_dev(struct thaw_mem *t, const char *path, char *err,
		    size_t errlen)
{
	struct thaw_api api = { .api = THAW_API_VERSION, .features = THAW_NEED };
	int ret;

	t->dev = open(path, O_RDWR | O_CLOEXEC);
	if (t->dev < 0) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO)
			return fail(err, errlen, ret,
				    "thaw.ko is not loaded (%s: %s): load it with 'modprobe thaw' or 'insmod thaw.ko', or choose the File or Uffd backend",
				    path, strerror(-ret));
		return fail(err, errlen, ret, "%s: %s", path, strerror(-ret));
	}
	if (ioctl(t->dev, THAW_IOC_API, &api) == 0) {
		t->features = api.features;
		return 0;
	}
	ret = -errno;
	if (ret == -ENOTTY)
		return fail(err, errlen, ret, "%s is not thaw.ko's device",
			    path);
	/* Learn what it has, to say what is missing. */
	memset(&api, 0, sizeof(api));
	api.api = THAW_API_VERSION;
	if (ioctl(t->dev, THAW_IOC_API, &api) == 0)
		return fail(err, errlen, -EOPNOTSUPP,
			    "thaw.ko offers features %#llx, the Thaw backend needs snapshot objects and working sets (%#llx)",
			    (unsigned long long)api.features,
			    (unsigned long long)THAW_NEED);
	return fail(err, errlen, ret, "THAW_IOC_API (API version %d): %s",
		    THAW_API_VERSION, strerror(-ret));
}

static int create_error(int ret, const char *name, char *err, size_t errlen)
{
	switch (ret) {
	case -EDQUOT:
		return fail(err, errlen, ret,
			    "thaw.ko: creating object %s would pass its cap on pinned memory or objects (module parameters max_pinned_mb, max_snapshots)",
			    name);
	case -ENOMEM:
		return fail(err, errlen, ret,
			    "thaw.ko: out of memory creating object %s (memory cgroup limit?)",
			    name);
	default:
		return fail(err, errlen, ret,
			    "THAW_IOC_SNAP_CREATE %s: %s", name,
			    strerror(-ret));
	}
}

/* The object's fd: open it by name, or create it from @memfd. */
static int open_object(struct thaw_mem *t, int memfd, uint64_t size,
		       const char *name, struct guest_mem_thaw_info *info,
		       char *err, size_t errlen)
{
	struct thaw_snap_create c;
	struct thaw_snap_open o;
	uint64_t start;
	int i, fd;

	for (i = 0; i < THAW_OPEN_TRIES; i++) {
		memset(&o, 0, sizeof(o));
		memcpy(o.name, name, strlen(name) + 1);
		fd = ioctl(t->dev, THAW_IOC_SNAP_OPEN, &o);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT)
			return fail(err, errlen, -errno,
				    "THAW_IOC_SNAP_OPEN %s: %s", name,
				    strerror(errno));
		memset(&c, 0, sizeof(c));
		c.fd = memfd;
		c.length = size;
		memcpy(c.name, name, strlen(name) + 1);
		start = now_ns();
		fd = ioctl(t->dev, THAW_IOC_SNAP_CREATE, &c);
		if (fd >= 0) {
			info->created = true;
			info->create_ns = now_ns() - start;
			return fd;
		}
		/* EEXIST: another VMM created it first; open that one. */
		if (errno != EEXIST)
			return create_error(-errno, name, err, errlen);
	}
	return fail(err, errlen, -EAGAIN,
		    "thaw.ko object %s: created and gone %d times in a row",
		    name, THAW_OPEN_TRIES);
}

/* The object must be this memory: as many pages as the RAM. */
static int check_object(struct thaw_mem *t, int snap, uint64_t size,
			const char *name, struct guest_mem_thaw_info *info,
			char *err, size_t errlen)
{
	struct thaw_snap_stats st;

	if (!(t->features & THAW_FEATURE_STATS))
		return 0;
	memset(&st, 0, sizeof(st));
	if (ioctl(snap, THAW_IOC_SNAP_STATS, &st) < 0)
		return fail(err, errlen, -errno, "THAW_IOC_SNAP_STATS %s: %s",
			    name, strerror(errno));
	if (st.pages != size / THAW_PAGE)
		return fail(err, errlen, -EINVAL,
			    "thaw.ko object %s has %llu pages, the memory file %llu",
			    name, (unsigned long long)st.pages,
			    (unsigned long long)(size / THAW_PAGE));
	info->object_id = st.id;
	return 0;
}

/* A working-set file's page offsets as the module's 4 KiB page indices. */
static int import_wset(int snap, const struct wset *ws, uint64_t *pages,
		       char *err, size_t errlen)
{
	uint64_t per = wset__page_size(ws) / THAW_PAGE, n, i, k, first;
	struct thaw_wset_io io;
	uint32_t *idx;
	int ret = 0;

	n = wset__count(ws) * per;
	*pages = 0;
	if (!n)
		return 0;
	if (n > UINT32_MAX)
		return fail(err, errlen, -E2BIG, "working set of %llu pages",
			    (unsigned long long)n);
	idx = malloc(n * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < wset__count(ws); i++) {
		first = wset__offset(ws, i) / THAW_PAGE;
		for (k = 0; k < per; k++)
			idx[i * per + k] = first + k;
	}
	memset(&io, 0, sizeof(io));
	io.pages = (uintptr_t)idx;
	io.count = n;
	if (ioctl(snap, THAW_IOC_WSET_SET, &io) < 0)
		ret = fail(err, errlen, -errno, "THAW_IOC_WSET_SET: %s",
			   strerror(errno));
	else
		*pages = n;
	free(idx);
	return ret;
}

static int clone_op(struct guest_mem *mem, unsigned long req, uint32_t flags,
		    uint64_t *count)
{
	struct thaw_clone_op op;

	memset(&op, 0, sizeof(op));
	op.addr = (uintptr_t)mem->base;
	op.flags = flags;
	if (ioctl(mem->fd, req, &op) < 0)
		return -errno;
	if (count)
		*count = op.count;
	return 0;
}

static void thaw_release(struct guest_mem *mem)
{
	struct thaw_mem *t = mem->priv;

	/* Unmapping drops a recording in progress with the clone. */
	if (mem->base)
		munmap(mem->base, mem->ram_size);
	if (mem->fd >= 0)
		close(mem->fd);
	if (t) {
		if (t->dev >= 0)
			close(t->dev);
		free(t);
	}
}

static int thaw_wset_write(struct guest_mem *mem, const char *path,
			   char *err, size_t errlen)
{
	struct thaw_mem *t = mem->priv;
	struct thaw_wset_io io;
	uint32_t *idx = NULL;
	struct wset *ws = NULL;
	uint64_t count = 0, i;
	int ret;

	if (!t->recording)
		return fail(err, errlen, -EINVAL,
			    "this VM's load did not ask for record_wset");
	ret = clone_op(mem, THAW_IOC_CLONE_STOP, 0, &count);
	if (ret)
		return fail(err, errlen, ret, "THAW_IOC_CLONE_STOP: %s",
			    strerror(-ret));
	t->recording = false;
	/* The log is now the object's working set: read it back. */
	memset(&io, 0, sizeof(io));
	if (ioctl(mem->fd, THAW_IOC_WSET_GET, &io) < 0)
		return fail(err, errlen, -errno, "THAW_IOC_WSET_GET: %s",
			    strerror(errno));
	if (io.count) {
		idx = calloc(io.count, sizeof(*idx));
		if (!idx)
			return -ENOMEM;
		io.pages = (uintptr_t)idx;
		if (ioctl(mem->fd, THAW_IOC_WSET_GET, &io) < 0) {
			ret = fail(err, errlen, -errno,
				   "THAW_IOC_WSET_GET: %s", strerror(errno));
			goto out;
		}
	}
	ret = wset__new(mem->ram_size, THAW_PAGE, &ws);
	if (ret) {
		fail(err, errlen, ret, "working set: %s", strerror(-ret));
		goto out;
	}
	for (i = 0; i < io.count; i++) {
		ret = wset__add(ws, (uint64_t)idx[i] * THAW_PAGE);
		if (ret < 0) {
			fail(err, errlen, ret, "page %u: %s", idx[i],
			     strerror(-ret));
			goto out;
		}
	}
	ret = wset__write(ws, path, err, errlen);
	if (!ret)
		pr_info("thaw: working set of %llu pages (%llu recorded) written to %s",
			(unsigned long long)io.count,
			(unsigned long long)count, path);
out:
	wset__free(ws);
	free(idx);
	return ret;
}

static int thaw_stats(struct guest_mem *mem, struct guest_mem_stats *st)
{
	struct thaw_mem *t = mem->priv;
	struct thaw_clone_stats cs;

	if (!(t->features & THAW_FEATURE_STATS))
		return -EOPNOTSUPP;
	memset(&cs, 0, sizeof(cs));
	cs.addr = (uintptr_t)mem->base;
	if (ioctl(mem->fd, THAW_IOC_CLONE_STATS, &cs) < 0)
		return -errno;
	st->faults = cs.faults;
	st->cow_faults = cs.cow_faults;
	st->premapped = cs.premapped;
	st->shared_pages = cs.shared_pages;
	st->private_pages = cs.private_pages;
	st->recorded = cs.recorded;
	return 0;
}

/*
 * The object for the memory file @mem_path (@size bytes), opened or
 * created, with the working set @ws (or read from @wset_path) imported.
 * Every file is checked before the module is asked anything.  Opens
 * t->dev (the caller closes it); returns the object's fd or -errno.
 */
static int object_for_file(struct thaw_mem *t, const char *mem_path,
			   uint64_t size, const struct wset *ws,
			   const char *wset_path, const char *dev_path,
			   struct guest_mem_thaw_info *info, char *err,
			   size_t errlen)
{
	struct wset *own = NULL;
	int memfd, snap = -1, ret;

	memfd = memfile__open(mem_path, size, err, errlen);
	if (memfd < 0)
		return memfd;
	if (!ws && wset_path) {
		ret = wset__read(wset_path, size, &own, err, errlen);
		if (ret)
			goto out;
		ws = own;
	}
	ret = open_dev(t, dev_path ? dev_path : THAW_DEV_PATH, err, errlen);
	if (ret)
		goto out;
	ret = thaw_mem__object_name(memfd, info->name);
	if (ret) {
		fail(err, errlen, ret, "%s: %s", mem_path, strerror(-ret));
		goto out;
	}
	snap = open_object(t, memfd, size, info->name, info, err, errlen);
	if (snap < 0) {
		ret = snap;
		goto out;
	}
	ret = check_object(t, snap, size, info->name, info, err, errlen);
	if (!ret && ws)
		ret = import_wset(snap, ws, &info->wset_pages, err, errlen);
out:
	if (ret && snap >= 0)
		close(snap);
	close(memfd);
	wset__free(own);
	return ret ? ret : snap;
}

static const struct guest_mem_ops thaw_ops = {
	.name = "Thaw",
	.release = thaw_release,
	.wset_write = thaw_wset_write,
	.stats = thaw_stats,
};

int guest_mem__new_thaw(struct guest_mem **out, uint64_t ram_size,
			const struct guest_mem_thaw_opts *o,
			struct guest_mem_thaw_info *info,
			char *err, size_t errlen)
{
	struct guest_mem_thaw_info dummy;
	struct guest_mem *mem = NULL;
	struct thaw_mem *t;
	uint64_t start;
	int ret, i;
	void *p;

	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	if (!o || !o->mem_path)
		return fail(err, errlen, -EINVAL,
			    "the Thaw backend needs the memory file");
	mem = calloc(1, sizeof(*mem));
	t = calloc(1, sizeof(*t));
	if (!mem || !t) {
		free(mem);
		free(t);
		return -ENOMEM;
	}
	t->dev = -1;
	mem->ops = &thaw_ops;
	/* Untouched pages are the module's, not in this process. */
	mem->memfile_flags = MEMFILE_REGION_ALL;
	mem->priv = t;
	mem->fd = -1;
	mem->ram_size = ram_size;
	mem->page_size = THAW_PAGE;
	ret = guest_mem__layout(ram_size, mem->regions);
	if (ret < 0) {
		fail(err, errlen, ret, "guest RAM of %llu bytes",
		     (unsigned long long)ram_size);
		goto err;
	}
	mem->nr_regions = ret;

	ret = object_for_file(t, o->mem_path, ram_size, o->wset, o->wset_path,
			      o->dev_path, info, err, errlen);
	if (ret < 0)
		goto err;
	mem->fd = ret;

	p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_NORESERVE, mem->fd, 0);
	if (p == MAP_FAILED) {
		ret = fail(err, errlen, -errno, "mmap of thaw.ko object %s: %s",
			   info->name, strerror(errno));
		goto err;
	}
	mem->base = p;
	for (i = 0; i < (int)mem->nr_regions; i++)
		mem->regions[i].hva = mem->base + mem->regions[i].offset;

	if (o->record) {
		ret = clone_op(mem, THAW_IOC_CLONE_RECORD, 0, NULL);
		if (ret) {
			fail(err, errlen, ret, "THAW_IOC_CLONE_RECORD: %s",
			     strerror(-ret));
			goto err;
		}
		t->recording = true;
	} else if (info->wset_pages) {
		start = now_ns();
		ret = clone_op(mem, THAW_IOC_CLONE_PREMAP, 0, &info->premapped);
		info->premap_ns = now_ns() - start;
		if (ret) {
			fail(err, errlen, ret, "THAW_IOC_CLONE_PREMAP: %s",
			     strerror(-ret));
			goto err;
		}
	}
	pr_info("thaw: RAM is a clone of object %s (%s%s), %llu working-set pages, %llu premapped",
		info->name, info->created ? "created" : "shared",
		o->record ? ", recording" : "",
		(unsigned long long)info->wset_pages,
		(unsigned long long)info->premapped);
	*out = mem;
	return 0;
err:
	thaw_release(mem);
	free(mem);
	return ret;
}

int thaw_mem__hold(const char *mem_path, const char *wset_path,
		   const char *dev_path, struct guest_mem_thaw_info *info,
		   char *err, size_t errlen)
{
	struct thaw_mem t = { .dev = -1 };
	struct stat st;
	int snap;

	memset(info, 0, sizeof(*info));
	if (stat(mem_path, &st) < 0)
		return fail(err, errlen, -errno, "%s: %s", mem_path,
			    strerror(errno));
	snap = object_for_file(&t, mem_path, (uint64_t)st.st_size, NULL,
			       wset_path, dev_path, info, err, errlen);
	if (t.dev >= 0)
		close(t.dev);
	return snap;
}
