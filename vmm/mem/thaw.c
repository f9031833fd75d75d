// SPDX-License-Identifier: GPL-2.0
/*
 * The Thaw memory backend: guest RAM as a clone of thaw.ko's snapshot
 * object for the memory file, shared by every VM restored from it on this
 * host.  lib/thaw-object.c finds the object; this file maps the clone and
 * runs it; see mem.h for the contract.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/thaw.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/memfile.h"
#include "lib/thaw-object.h"
#include "lib/wset.h"
#include "vmm/mem/mem.h"

#define THAW_PAGE		4096ULL

struct thaw_mem {
	int dev;			/* /dev/thaw */
	uint64_t features;		/* what the module offers */
	bool recording;			/* THAW_IOC_CLONE_RECORD is on */
	/*
	 * The private 2 MiB copies are left to a thread beside the vCPUs
	 * (THAW_CLONE_PREMAP_COPY_ONLY): @copies until it starts; a rewind
	 * leaves the copies' rewriting to a new one.
	 */
	bool copies;
	bool copier_started;
	int (*filter)(void);
	pthread_t copier;
	struct guest_mem *mem;		/* set by thaw_start(), with @filter */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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

/*
 * The copier thread: the chosen regions' private copies while the vCPUs
 * run.  Their faults make a copy the thread has not reached (or wait for
 * the one it is making), so nothing depends on when it finishes.
 */
static void *thaw_copier(void *arg)
{
	struct thaw_mem *t = arg;
	uint64_t start = now_ns(), pages = 0;
	int ret;

	pthread_setname_np(pthread_self(), "thaw-copies");
	if (t->filter && t->filter())
		return NULL;
	ret = clone_op(t->mem, THAW_IOC_CLONE_PREMAP,
		       THAW_CLONE_PREMAP_PRIVATE | THAW_CLONE_PREMAP_COPY_ONLY,
		       &pages);
	if (ret)
		pr_warn("thaw: private 2 MiB copies beside the vCPUs: %s",
			strerror(-ret));
	else
		pr_info("thaw: %llu pages of private 2 MiB copies made or rewritten beside the vCPUs in %llu us",
			(unsigned long long)pages,
			(unsigned long long)((now_ns() - start) / 1000));
	return NULL;
}

/* A copier thread, after the one before it (if any) has ended. */
static int thaw_copier_start(struct thaw_mem *t)
{
	int ret;

	if (t->copier_started) {
		pthread_join(t->copier, NULL);
		t->copier_started = false;
	}
	ret = pthread_create(&t->copier, NULL, thaw_copier, t);
	if (ret)
		return -ret;
	t->copier_started = true;
	return 0;
}

static int thaw_start(struct guest_mem *mem, int (*filter)(void))
{
	struct thaw_mem *t = mem->priv;

	t->filter = filter;
	t->mem = mem;
	if (!t->copies)
		return 0;
	t->copies = false;
	return thaw_copier_start(t);
}

static void thaw_release(struct guest_mem *mem)
{
	struct thaw_mem *t = mem->priv;

	/* Its ioctl ends after the copy it is making. */
	if (t && t->copier_started)
		pthread_join(t->copier, NULL);
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
		return err__set(err, errlen, -EINVAL,
				"this VM's load did not ask for record_wset");
	ret = clone_op(mem, THAW_IOC_CLONE_STOP, 0, &count);
	if (ret)
		return err__set(err, errlen, ret, "THAW_IOC_CLONE_STOP: %s",
				strerror(-ret));
	t->recording = false;
	/* The log is now the object's working set: read it back, with the
	 * pages the guest wrote marked where the module records that. */
	memset(&io, 0, sizeof(io));
	if (t->features & THAW_FEATURE_WSET_WRITTEN)
		io.flags = THAW_WSET_IO_WRITTEN;
	if (ioctl(mem->fd, THAW_IOC_WSET_GET, &io) < 0)
		return err__set(err, errlen, -errno, "THAW_IOC_WSET_GET: %s",
				strerror(errno));
	if (io.count) {
		idx = calloc(io.count, sizeof(*idx));
		if (!idx)
			return -ENOMEM;
		io.pages = (uintptr_t)idx;
		if (ioctl(mem->fd, THAW_IOC_WSET_GET, &io) < 0) {
			ret = err__set(err, errlen, -errno,
				       "THAW_IOC_WSET_GET: %s",
				       strerror(errno));
			goto out;
		}
	}
	ret = wset__new(mem->ram_size, THAW_PAGE, &ws);
	if (ret) {
		err__set(err, errlen, ret, "working set: %s", strerror(-ret));
		goto out;
	}
	for (i = 0; i < io.count; i++) {
		uint32_t page = io.flags ? idx[i] & THAW_WSET_PAGE_MASK : idx[i];

		ret = wset__add(ws, (uint64_t)page * THAW_PAGE);
		if (ret > 0 && io.flags && (idx[i] & THAW_WSET_WRITTEN))
			ret = wset__mark_written(ws, wset__count(ws) - 1);
		if (ret < 0) {
			err__set(err, errlen, ret, "page %u: %s", page,
				 strerror(-ret));
			goto out;
		}
	}
	ret = wset__write(ws, path, err, errlen);
	if (!ret)
		pr_info("thaw: working set of %llu pages (%llu recorded, %zu written by the guest) written to %s",
			(unsigned long long)io.count,
			(unsigned long long)count, wset__written_count(ws),
			path);
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

static int thaw_can_reset(const struct guest_mem *mem, char *err,
			  size_t errlen)
{
	const struct thaw_mem *t = mem->priv;

	if (!(t->features & THAW_FEATURE_RESET))
		return err__set(err, errlen, -EOPNOTSUPP,
				"this thaw.ko has no THAW_FEATURE_RESET: it cannot rewind a clone");
	return 0;
}

/*
 * The module knows every page this clone dirtied (its own copy-on-write
 * faults and the notifier: the guest's writes, KVM's and ours alike) and
 * returns exactly those: KEEP rewrites a private copy in place (its
 * mapping, and KVM's, stays), REMAP maps the snapshot's pages back at once
 * where a page had to be dropped; a private 2 MiB copy is rewritten in
 * place too.  Clean pages keep their host mappings, so KVM keeps its own.
 */
static int thaw_reset(struct guest_mem *mem, uint64_t *pages, char *err,
		      size_t errlen)
{
	struct thaw_mem *t = mem->priv;
	uint32_t flags = THAW_CLONE_RESET_REMAP;
	int ret;

	/*
	 * A rewound VM is rewound again: its private 4 KiB copies are
	 * rewritten in place and kept, so KVM keeps its entries for them
	 * too.  Its private 2 MiB copies are left stale, for a copier thread
	 * beside the vCPUs (or the guest's first fault there) to rewrite.
	 */
	if (t->features & THAW_FEATURE_RESET_KEEP)
		flags |= THAW_CLONE_RESET_KEEP;
	if ((t->features & THAW_FEATURE_RESET_LATER) && t->mem)
		flags |= THAW_CLONE_RESET_PRIVATE_LATER;
	ret = clone_op(mem, THAW_IOC_CLONE_RESET, flags, pages);
	if (ret)
		return err__set(err, errlen, ret, "THAW_IOC_CLONE_RESET: %s",
				strerror(-ret));
	if (!(flags & THAW_CLONE_RESET_PRIVATE_LATER))
		return 0;
	/* Nothing depends on it: a fault rewrites what it has not. */
	ret = thaw_copier_start(t);
	if (ret)
		pr_warn("thaw: no copier thread after the rewind: %s",
			strerror(-ret));
	return 0;
}

static const struct guest_mem_ops thaw_ops = {
	.name = "Thaw",
	.release = thaw_release,
	.wset_write = thaw_wset_write,
	.stats = thaw_stats,
	.can_reset = thaw_can_reset,
	.reset = thaw_reset,
	.start = thaw_start,
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
		return err__set(err, errlen, -EINVAL,
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
		err__set(err, errlen, ret, "guest RAM of %llu bytes",
			 (unsigned long long)ram_size);
		goto err;
	}
	mem->nr_regions = ret;

	ret = thaw_object__for_file(o->mem_path, ram_size,
				    o->no_huge ? THAW_OBJECT_NO_HUGE : 0, o->wset,
				    o->wset_path, o->dev_path, &t->dev,
				    &t->features, &info->obj, err, errlen);
	if (ret < 0)
		goto err;
	mem->fd = ret;

	p = guest_mem__mmap(ram_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_NORESERVE, mem->fd);
	if (p == MAP_FAILED) {
		ret = err__set(err, errlen, -errno,
			       "mmap of thaw.ko object %s: %s", info->obj.name,
			       strerror(errno));
		goto err;
	}
	mem->base = p;
	for (i = 0; i < (int)mem->nr_regions; i++)
		mem->regions[i].hva = mem->base + mem->regions[i].offset;

	if (o->record) {
		ret = clone_op(mem, THAW_IOC_CLONE_RECORD, 0, NULL);
		if (ret) {
			err__set(err, errlen, ret, "THAW_IOC_CLONE_RECORD: %s",
				 strerror(-ret));
			goto err;
		}
		t->recording = true;
	} else if (info->obj.wset_pages) {
		/*
		 * Where the module makes private 2 MiB copies, the regions its
		 * working set shows written the most get theirs before the
		 * guest writes there: it then faults neither in the host nor
		 * in KVM's tables.  Each copy costs an allocation and 2 MiB
		 * copied; where the module can, a thread makes them while the
		 * vCPUs run (thaw_start()), else the premap makes them now.
		 */
		uint32_t flags = 0;

		if (t->features & THAW_FEATURE_COPY_ONLY)
			t->copies = true;
		else if (t->features & THAW_FEATURE_PRIVATE_HUGE)
			flags = THAW_CLONE_PREMAP_PRIVATE;
		start = now_ns();
		ret = clone_op(mem, THAW_IOC_CLONE_PREMAP, flags,
			       &info->premapped);
		info->premap_ns = now_ns() - start;
		if (ret) {
			err__set(err, errlen, ret, "THAW_IOC_CLONE_PREMAP: %s",
				 strerror(-ret));
			goto err;
		}
	}
	pr_info("thaw: RAM is a clone of object %s (%s%s), %llu working-set pages, %llu premapped",
		info->obj.name, info->obj.created ? "created" : "shared",
		o->record ? ", recording" : "",
		(unsigned long long)info->obj.wset_pages,
		(unsigned long long)info->premapped);
	*out = mem;
	return 0;
err:
	thaw_release(mem);
	free(mem);
	return ret;
}

void guest_mem__thaw_register(const char *mem_path)
{
	struct thaw_object_info info;
	char err[512] = "";
	int ret;

	if (access(THAW_DEV_PATH, F_OK))
		return;
	ret = thaw_object__register(mem_path, NULL, &info, err, sizeof(err));
	if (ret == -EOPNOTSUPP)
		pr_debug("thaw: no object registered for %s: %s", mem_path,
			 err);
	else if (ret)
		pr_warn("thaw: no object registered for %s: %s", mem_path,
			err);
	else
		pr_info("thaw: object %s for %s %s in %llu ms, left in thaw.ko's cache for the first restore",
			info.name, mem_path,
			info.created ? "created" : "found",
			(unsigned long long)(info.create_ns / 1000000));
}
