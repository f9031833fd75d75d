// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot objects: guest memory copied once out of a file into pages the
 * module owns, shared read-only by every clone mapping.
 *
 * The pages are allocated with __GFP_ACCOUNT (charged to the creator's
 * memory cgroup) and are never put on an LRU list, so reclaim never sees
 * them: they stay resident while the object lives.  All-zero pages are not
 * stored; they point at one zeroed page per object.  A private copy of the
 * object is taken instead of sharing the file's page cache so that later
 * writes to the file cannot reach a running clone.
 *
 * A huge object (THAW_SNAP_CREATE_HUGE) is read in 2 MiB regions: a region
 * with at least huge_min_pages non-zero pages is kept in one order-9 folio
 * (pages[i] are its subpages), an all-zero region points at one zeroed
 * order-9 folio per object, and a sparser region is copied out into 4 KiB
 * pages as in a plain object.  A region whose 2 MiB allocation fails is
 * stored in 4 KiB pages too, and counted.  clone.c maps a folio region with
 * one PMD.  The folio's reference count is the one that counts: mappings of
 * its subpages take references on the folio, and the object holds one.
 *
 * An object lives while a file descriptor or a clone mapping (through its
 * vm_file) refers to it; named objects are also listed so that
 * THAW_IOC_SNAP_OPEN can hand out more descriptors.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "thaw.h"

static u64 thaw_next_snap_id = 1;	/* thaw_objects_lock */

/*
 * Object memory: charged to the creator's memory cgroup; a creation that
 * does not fit fails with -ENOMEM after reclaim instead of calling the OOM
 * killer (__GFP_RETRY_MAYFAIL).  Not movable: never on an LRU list.
 */
#define THAW_GFP_PAGE	(GFP_HIGHUSER | __GFP_ACCOUNT | __GFP_RETRY_MAYFAIL | \
			 __GFP_NOWARN)
#define THAW_GFP_META	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/* Count @n pages against max_pinned_mb: -EDQUOT past it. */
int thaw_pin(unsigned long n)
{
	if (atomic_long_add_return(n, &thaw_pinned) > thaw_pinned_limit()) {
		atomic_long_sub(n, &thaw_pinned);
		return -EDQUOT;
	}
	return 0;
}

void thaw_unpin(unsigned long n)
{
	atomic_long_sub(n, &thaw_pinned);
}

/* Pages the pointer array of an object of @nr_pages pages takes. */
static unsigned long thaw_snap_array_pages(unsigned long nr_pages)
{
	return DIV_ROUND_UP(nr_pages * sizeof(struct page *), PAGE_SIZE);
}

static void thaw_snap_free(struct thaw_snap *snap)
{
	unsigned long i;

	if (snap->pages) {
		for (i = 0; i < snap->nr_pages; i++) {
			struct page *page = snap->pages[i];

			if (!(i & 1023))
				cond_resched();
			if (!page || page == snap->zero_page)
				continue;
			/*
			 * A huge region: one reference on its folio, put once
			 * (the zero folio's below).  Its pages are filled all
			 * at once, so the whole region is there.
			 */
			if (PageCompound(page)) {
				if (page_folio(page) != snap->zero_folio)
					folio_put(page_folio(page));
				i += THAW_REGION_NR - 1;
				continue;
			}
			/*
			 * put_page(), not __free_page(): a page may still be
			 * pinned by someone who took a reference through a
			 * clone (GUP); it goes when they let go.
			 */
			put_page(page);
		}
		kvfree(snap->pages);
	}
	if (snap->zero_page)
		put_page(snap->zero_page);
	if (snap->zero_folio)
		folio_put(snap->zero_folio);
	if (snap->wset)
		thaw_wset_put(snap->wset);
	thaw_unpin(snap->pinned);
	mutex_destroy(&snap->lock);
	kfree(snap);
}

/* Called by kref_put_mutex() with thaw_objects_lock held; drops it. */
static void thaw_snap_release(struct kref *ref)
{
	struct thaw_snap *snap = container_of(ref, struct thaw_snap, ref);

	if (!list_empty(&snap->node)) {
		list_del_init(&snap->node);
		thaw_nr_snapshots--;
	}
	mutex_unlock(&thaw_objects_lock);
	WARN_ON(!list_empty(&snap->clones));
	thaw_snap_free(snap);
}

void thaw_snap_get(struct thaw_snap *snap)
{
	kref_get(&snap->ref);
}

void thaw_snap_put(struct thaw_snap *snap)
{
	kref_put_mutex(&snap->ref, thaw_snap_release, &thaw_objects_lock);
}

static struct thaw_snap *thaw_snap_alloc(unsigned long nr_pages)
{
	unsigned long array = thaw_snap_array_pages(nr_pages);
	struct thaw_snap *snap;

	snap = kzalloc(sizeof(*snap), GFP_KERNEL_ACCOUNT);
	if (!snap)
		return ERR_PTR(-ENOMEM);
	kref_init(&snap->ref);
	INIT_LIST_HEAD(&snap->node);
	INIT_LIST_HEAD(&snap->clones);
	mutex_init(&snap->lock);
	snap->nr_pages = nr_pages;

	/* The pointer array and the zero page count against the cap too. */
	if (thaw_pin(array + 1)) {
		thaw_snap_free(snap);
		return ERR_PTR(-EDQUOT);
	}
	snap->pinned = array + 1;
	snap->pages = kvcalloc(nr_pages, sizeof(struct page *), THAW_GFP_META);
	snap->zero_page = alloc_page(THAW_GFP_PAGE | __GFP_ZERO);
	if (!snap->pages || !snap->zero_page) {
		thaw_snap_free(snap);
		return ERR_PTR(-ENOMEM);
	}
	return snap;
}

/* Read one page at *@pos; a short read (the file shrank) leaves zeros. */
static int thaw_read_page(struct file *file, struct page *page, loff_t pos)
{
	void *kaddr = kmap_local_page(page);
	size_t done = 0;
	ssize_t n;
	int ret = 0;

	while (done < PAGE_SIZE) {
		n = kernel_read(file, kaddr + done, PAGE_SIZE - done, &pos);
		if (n < 0) {
			ret = n;
			break;
		}
		if (!n) {
			memset(kaddr + done, 0, PAGE_SIZE - done);
			break;
		}
		done += n;
	}
	kunmap_local(kaddr);
	return ret;
}

static bool thaw_page_is_zero(struct page *page)
{
	void *kaddr = kmap_local_page(page);
	bool zero = !memchr_inv(kaddr, 0, PAGE_SIZE);

	kunmap_local(kaddr);
	return zero;
}

/*
 * The next data extent at or after @pos, in [*@start, *@end), page aligned
 * and clipped to @limit.  Holes (SEEK_DATA/SEEK_HOLE, where the filesystem
 * knows them) are never read: they are zero pages.  A filesystem that does
 * not know reports everything as data.
 */
static void thaw_next_data(struct file *file, loff_t pos, loff_t limit,
			   loff_t *start, loff_t *end)
{
	loff_t data, hole;

	data = vfs_llseek(file, pos, SEEK_DATA);
	if (data == -ENXIO || data >= limit) {
		*start = *end = limit;
		return;
	}
	if (data < 0) {
		*start = pos;
		*end = limit;
		return;
	}
	hole = vfs_llseek(file, data, SEEK_HOLE);
	if (hole < 0 || hole > limit)
		hole = limit;
	*start = round_down(data, PAGE_SIZE);
	*end = min_t(loff_t, round_up(hole, PAGE_SIZE), limit);
	if (*end <= pos)	/* a filesystem that moved under us */
		*end = limit;
}

/* Where thaw_snap_fill() is in the source file. */
struct thaw_fill {
	struct thaw_snap *snap;
	struct file *file;
	loff_t offset;			/* object page 0 in @file */
	loff_t limit;			/* end of the object in @file */
	loff_t data, data_end;		/* the current data extent */
	unsigned int huge_min;		/* 0: not a huge object */
	struct page *spare;		/* read into, not kept */
	struct folio *hspare;		/* read into, not kept */
};

static loff_t thaw_fill_pos(struct thaw_fill *f, unsigned long i)
{
	return f->offset + ((loff_t)i << PAGE_SHIFT);
}

/* Is the page at @pos in a hole of the file (so all zero)? */
static bool thaw_fill_hole(struct thaw_fill *f, loff_t pos)
{
	if (pos >= f->data_end)
		thaw_next_data(f->file, pos, f->limit, &f->data, &f->data_end);
	return pos < f->data;
}

/* Object pages [@first, @first + @n) in 4 KiB pages. */
static int thaw_fill_small(struct thaw_fill *f, unsigned long first,
			   unsigned long n)
{
	struct thaw_snap *snap = f->snap;
	unsigned long i;
	int ret;

	for (i = first; i < first + n; i++) {
		loff_t pos = thaw_fill_pos(f, i);

		if (thaw_fill_hole(f, pos)) {
			snap->pages[i] = snap->zero_page;
			snap->zero_pages++;
			continue;
		}
		if (!f->spare) {
			f->spare = alloc_page(THAW_GFP_PAGE);
			if (!f->spare)
				return -ENOMEM;
		}
		ret = thaw_read_page(f->file, f->spare, pos);
		if (ret)
			return ret;
		if (thaw_page_is_zero(f->spare)) {
			/* Keep the spare page for the next read. */
			snap->pages[i] = snap->zero_page;
			snap->zero_pages++;
			continue;
		}
		ret = thaw_pin(1);
		if (ret)
			return ret;
		snap->pinned++;
		snap->pages[i] = f->spare;
		snap->data_pages++;
		f->spare = NULL;
	}
	return 0;
}

struct folio *thaw_alloc_huge(gfp_t gfp)
{
	if (thaw_huge_alloc_fails())
		return NULL;
	return folio_alloc(gfp, THAW_REGION_ORDER);
}

static void thaw_fill_set_region(struct thaw_snap *snap, unsigned long first,
				 struct folio *folio)
{
	unsigned long k;

	for (k = 0; k < THAW_REGION_NR; k++)
		snap->pages[first + k] = folio_page(folio, k);
}

/* An all-zero region: on the object's zero folio, or 4 KiB zero pages. */
static int thaw_fill_zero_region(struct thaw_fill *f, unsigned long first)
{
	struct thaw_snap *snap = f->snap;
	unsigned long k;
	int ret;

	if (!snap->zero_folio) {
		struct folio *zf = thaw_alloc_huge(THAW_GFP_HUGE | __GFP_ZERO);

		if (!zf) {
			for (k = 0; k < THAW_REGION_NR; k++)
				snap->pages[first + k] = snap->zero_page;
			snap->zero_pages += THAW_REGION_NR;
			snap->small_regions++;
			snap->huge_fallbacks++;
			return 0;
		}
		ret = thaw_pin(THAW_REGION_NR);
		if (ret) {
			folio_put(zf);
			return ret;
		}
		snap->pinned += THAW_REGION_NR;
		snap->zero_folio = zf;
	}
	thaw_fill_set_region(snap, first, snap->zero_folio);
	snap->zero_pages += THAW_REGION_NR;
	snap->zero_regions++;
	return 0;
}

/*
 * A whole 2 MiB region of a huge object: read it into a 2 MiB folio, then
 * keep the folio (dense), use the zero folio (all zero) or copy the
 * non-zero pages out into 4 KiB pages (sparse).
 */
static int thaw_fill_huge(struct thaw_fill *f, unsigned long first)
{
	struct thaw_snap *snap = f->snap;
	DECLARE_BITMAP(zero, THAW_REGION_NR);
	loff_t pos = thaw_fill_pos(f, first);
	unsigned long k, nonzero = 0;
	struct folio *folio;
	int ret;

	/* A region wholly in a hole is not read. */
	thaw_fill_hole(f, pos);
	if (f->data >= pos + ((loff_t)THAW_REGION_NR << PAGE_SHIFT))
		return thaw_fill_zero_region(f, first);

	folio = f->hspare;
	if (!folio)
		folio = thaw_alloc_huge(THAW_GFP_HUGE);
	if (!folio) {
		snap->huge_fallbacks++;
		snap->small_regions++;
		return thaw_fill_small(f, first, THAW_REGION_NR);
	}
	f->hspare = folio;

	bitmap_zero(zero, THAW_REGION_NR);
	for (k = 0; k < THAW_REGION_NR; k++) {
		struct page *page = folio_page(folio, k);

		pos = thaw_fill_pos(f, first + k);
		if (thaw_fill_hole(f, pos)) {
			clear_highpage(page);
			__set_bit(k, zero);
			continue;
		}
		ret = thaw_read_page(f->file, page, pos);
		if (ret)
			return ret;
		if (thaw_page_is_zero(page))
			__set_bit(k, zero);
		else
			nonzero++;
	}

	if (!nonzero)
		return thaw_fill_zero_region(f, first);

	if (nonzero >= f->huge_min) {
		ret = thaw_pin(THAW_REGION_NR);
		if (ret)
			return ret;
		snap->pinned += THAW_REGION_NR;
		thaw_fill_set_region(snap, first, folio);
		snap->data_pages += THAW_REGION_NR;
		snap->huge_regions++;
		f->hspare = NULL;
		return 0;
	}

	/* Sparse: the folio stays a read buffer for the next region. */
	snap->small_regions++;
	for (k = 0; k < THAW_REGION_NR; k++) {
		if (test_bit(k, zero)) {
			snap->pages[first + k] = snap->zero_page;
			snap->zero_pages++;
			continue;
		}
		if (!f->spare) {
			f->spare = alloc_page(THAW_GFP_PAGE);
			if (!f->spare)
				return -ENOMEM;
		}
		ret = thaw_pin(1);
		if (ret)
			return ret;
		snap->pinned++;
		copy_highpage(f->spare, folio_page(folio, k));
		snap->pages[first + k] = f->spare;
		snap->data_pages++;
		f->spare = NULL;
	}
	return 0;
}

/*
 * Copy the object's pages out of @file from @offset, region by region.
 * Interruptible by a fatal signal; on error the caller frees what was
 * filled (a region is either whole or absent in pages[]).
 */
static int thaw_snap_fill(struct thaw_snap *snap, struct file *file,
			  loff_t offset, unsigned int huge_min)
{
	struct thaw_fill f = {
		.snap = snap,
		.file = file,
		.offset = offset,
		.limit = offset + ((loff_t)snap->nr_pages << PAGE_SHIFT),
		.data = offset,
		.data_end = offset,
		.huge_min = huge_min,
	};
	unsigned long first, n;
	int ret = 0;

	for (first = 0; first < snap->nr_pages; first += n) {
		n = min(THAW_REGION_NR, snap->nr_pages - first);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		if (huge_min && n == THAW_REGION_NR) {
			ret = thaw_fill_huge(&f, first);
		} else {
			snap->small_regions++;
			ret = thaw_fill_small(&f, first, n);
		}
		if (ret)
			break;
	}
	if (f.spare)
		__free_page(f.spare);
	if (f.hspare)
		folio_put(f.hspare);
	return ret;
}

/* Names are printable ASCII without spaces, NUL-terminated. */
static int thaw_check_name(const u8 *name)
{
	size_t len = strnlen(name, THAW_NAME_MAX);
	size_t i;

	if (len == THAW_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return -EINVAL;
	/* Bytes after the NUL are reserved. */
	for (i = len; i < THAW_NAME_MAX; i++)
		if (name[i])
			return -EINVAL;
	return 0;
}

static struct thaw_snap *thaw_snap_find(const char *name)
{
	struct thaw_snap *snap;

	lockdep_assert_held(&thaw_objects_lock);
	list_for_each_entry(snap, &thaw_snapshots, node)
		if (snap->name[0] && !strcmp(snap->name, name))
			return snap;
	return NULL;
}

/* List the object (and its name) so that stats and SNAP_OPEN see it. */
static int thaw_snap_publish(struct thaw_snap *snap)
{
	int ret = 0;

	mutex_lock(&thaw_objects_lock);
	if (thaw_nr_snapshots >= thaw_max_snapshots())
		ret = -EDQUOT;
	else if (snap->name[0] && thaw_snap_find(snap->name))
		ret = -EEXIST;
	if (!ret) {
		snap->id = thaw_next_snap_id++;
		list_add_tail(&snap->node, &thaw_snapshots);
		thaw_nr_snapshots++;
	}
	mutex_unlock(&thaw_objects_lock);
	return ret;
}

static int thaw_snap_install_fd(struct thaw_snap *snap);

/* Open our own read-only file on the same inode: its offset is ours. */
static struct file *thaw_open_source(int fd, u64 offset, u64 length)
{
	struct inode *inode;
	struct file *priv;
	struct fd f;
	u64 end;

	f = fdget(fd);
	if (!f.file)
		return ERR_PTR(-EBADF);
	inode = file_inode(f.file);
	priv = ERR_PTR(-EBADF);
	if (!(f.file->f_mode & FMODE_READ))
		goto out;
	priv = ERR_PTR(-EISDIR);
	if (S_ISDIR(inode->i_mode))
		goto out;
	priv = ERR_PTR(-EINVAL);
	if (!S_ISREG(inode->i_mode))
		goto out;
	priv = ERR_PTR(-ENXIO);
	if (check_add_overflow(offset, length, &end) ||
	    end > (u64)i_size_read(inode))
		goto out;
	priv = dentry_open(&f.file->f_path, O_RDONLY | O_LARGEFILE,
			   current_cred());
out:
	fdput(f);
	return priv;
}

/* THAW_SNAP_CREATE_HUGE only where 2 MiB mappings work (thaw.h). */
#define THAW_SNAP_CREATE_FLAGS	(THAW_HUGE ? THAW_SNAP_CREATE_HUGE : 0)

long thaw_snap_create(unsigned int cmd, unsigned long arg)
{
	struct thaw_snap_create args;
	unsigned int huge_min = 0;
	struct thaw_snap *snap;
	unsigned long nr_pages;
	struct file *src;
	u64 end;
	int ret;

	ret = thaw_copy_arg(&args, sizeof(args), THAW_SNAP_CREATE_SIZE_VER0,
			    cmd, arg);
	if (ret)
		return ret;
	if ((args.flags & ~THAW_SNAP_CREATE_FLAGS) || args.pad ||
	    !thaw_all_zero(args.reserved, ARRAY_SIZE(args.reserved)))
		return -EINVAL;
	if (args.huge_min_pages > THAW_REGION_NR ||
	    (args.huge_min_pages && !(args.flags & THAW_SNAP_CREATE_HUGE)))
		return -EINVAL;
	if (args.flags & THAW_SNAP_CREATE_HUGE)
		huge_min = args.huge_min_pages ?: thaw_huge_min_pages();
	if (!args.length || !PAGE_ALIGNED(args.offset) ||
	    !PAGE_ALIGNED(args.length) ||
	    check_add_overflow(args.offset, args.length, &end) ||
	    end > (u64)LLONG_MAX)
		return -EINVAL;
	/* Page indices travel as __u32 (working sets). */
	if (args.length >> PAGE_SHIFT > U32_MAX)
		return -EINVAL;
	ret = thaw_check_name(args.name);
	if (ret)
		return ret;
	nr_pages = args.length >> PAGE_SHIFT;

	/* Fail early on a name in use; thaw_snap_publish() decides. */
	if (args.name[0]) {
		mutex_lock(&thaw_objects_lock);
		ret = thaw_snap_find(args.name) ? -EEXIST : 0;
		mutex_unlock(&thaw_objects_lock);
		if (ret)
			return ret;
	}

	src = thaw_open_source(args.fd, args.offset, args.length);
	if (IS_ERR(src))
		return PTR_ERR(src);

	snap = thaw_snap_alloc(nr_pages);
	if (IS_ERR(snap)) {
		fput(src);
		return PTR_ERR(snap);
	}
	memcpy(snap->name, args.name, THAW_NAME_MAX);
	ret = thaw_snap_fill(snap, src, args.offset, huge_min);
	fput(src);
	if (!ret)
		ret = thaw_snap_publish(snap);
	if (ret) {
		thaw_snap_put(snap);
		return ret;
	}
	return thaw_snap_install_fd(snap);
}

long thaw_snap_open(unsigned int cmd, unsigned long arg)
{
	struct thaw_snap_open args;
	struct thaw_snap *snap;
	int ret;

	ret = thaw_copy_arg(&args, sizeof(args), THAW_SNAP_OPEN_SIZE_VER0,
			    cmd, arg);
	if (ret)
		return ret;
	if (args.flags || args.pad ||
	    !thaw_all_zero(args.reserved, ARRAY_SIZE(args.reserved)))
		return -EINVAL;
	ret = thaw_check_name(args.name);
	if (ret)
		return ret;
	if (!args.name[0])
		return -EINVAL;

	mutex_lock(&thaw_objects_lock);
	snap = thaw_snap_find(args.name);
	/* Listed objects have a reference: release unlists under the lock. */
	if (snap)
		thaw_snap_get(snap);
	mutex_unlock(&thaw_objects_lock);
	if (!snap)
		return -ENOENT;
	return thaw_snap_install_fd(snap);
}

void thaw_snap_fill_stats(struct thaw_snap *snap, struct thaw_snap_stats *st)
{
	struct thaw_clone *clone;
	u64 faults, premapped, private = 0;

	lockdep_assert_held(&thaw_objects_lock);
	faults = snap->retired_faults;
	premapped = snap->retired_premapped;
	list_for_each_entry(clone, &snap->clones, snap_node) {
		spin_lock(&clone->lock);
		faults += clone->faults;
		premapped += clone->premapped;
		private += clone->private;
		spin_unlock(&clone->lock);
	}
	st->id = snap->id;
	st->pages = snap->nr_pages;
	st->data_pages = snap->data_pages;
	st->zero_pages = snap->zero_pages;
	st->pinned_pages = snap->pinned;
	st->clones = snap->nr_clones;
	st->wset_pages = READ_ONCE(snap->wset_nr);
	st->wset_written = READ_ONCE(snap->wset_written);
	st->faults = faults;
	st->premapped = premapped;
	st->private_pages = private;
	st->huge_regions = snap->huge_regions;
	st->small_regions = snap->small_regions;
	st->zero_regions = snap->zero_regions;
	st->huge_fallbacks = snap->huge_fallbacks;
}

void thaw_fill_stats(struct thaw_stats *st)
{
	mutex_lock(&thaw_objects_lock);
	st->snapshots = thaw_nr_snapshots;
	st->clones = thaw_nr_clones;
	mutex_unlock(&thaw_objects_lock);
	st->pinned_pages = atomic_long_read(&thaw_pinned);
	st->pinned_limit = thaw_pinned_limit();
}

static long thaw_snap_stats(struct thaw_snap *snap, unsigned int cmd,
			    unsigned long arg)
{
	struct thaw_snap_stats st;
	int ret;

	ret = thaw_copy_arg(&st, sizeof(st), THAW_SNAP_STATS_SIZE_VER0, cmd,
			    arg);
	if (ret)
		return ret;
	if (st.flags || st.pad ||
	    !thaw_all_zero(st.reserved, ARRAY_SIZE(st.reserved)))
		return -EINVAL;
	mutex_lock(&thaw_objects_lock);
	thaw_snap_fill_stats(snap, &st);
	mutex_unlock(&thaw_objects_lock);
	return thaw_put_arg(arg, cmd, &st, sizeof(st));
}

static long thaw_snap_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct thaw_snap *snap = file->private_data;

	if (_IOC_TYPE(cmd) != THAW_IOCTL_MAGIC)
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(THAW_IOC_WSET_SET):
		if (!thaw_ioc_is(cmd, THAW_IOC_WSET_SET))
			return -ENOTTY;
		return thaw_wset_set(snap, cmd, arg);
	case _IOC_NR(THAW_IOC_WSET_GET):
		if (!thaw_ioc_is(cmd, THAW_IOC_WSET_GET))
			return -ENOTTY;
		return thaw_wset_get(snap, cmd, arg);
	case _IOC_NR(THAW_IOC_CLONE_RECORD):
		if (!thaw_ioc_is(cmd, THAW_IOC_CLONE_RECORD))
			return -ENOTTY;
		return thaw_clone_record(snap, cmd, arg);
	case _IOC_NR(THAW_IOC_CLONE_STOP):
		if (!thaw_ioc_is(cmd, THAW_IOC_CLONE_STOP))
			return -ENOTTY;
		return thaw_clone_stop(snap, cmd, arg);
	case _IOC_NR(THAW_IOC_CLONE_PREMAP):
		if (!thaw_ioc_is(cmd, THAW_IOC_CLONE_PREMAP))
			return -ENOTTY;
		return thaw_clone_premap(snap, cmd, arg);
	case _IOC_NR(THAW_IOC_CLONE_RESET):
		if (!thaw_ioc_is(cmd, THAW_IOC_CLONE_RESET))
			return -ENOTTY;
		return thaw_clone_reset(snap, cmd, arg);
	case _IOC_NR(THAW_IOC_SNAP_STATS):
		if (!thaw_ioc_is(cmd, THAW_IOC_SNAP_STATS))
			return -ENOTTY;
		return thaw_snap_stats(snap, cmd, arg);
	case _IOC_NR(THAW_IOC_CLONE_STATS):
		if (!thaw_ioc_is(cmd, THAW_IOC_CLONE_STATS))
			return -ENOTTY;
		return thaw_clone_stats(snap, cmd, arg);
	default:
		return -ENOTTY;
	}
}

static int thaw_snap_mmap(struct file *file, struct vm_area_struct *vma)
{
	return thaw_clone_mmap(file->private_data, vma);
}

static int thaw_snap_file_release(struct inode *inode, struct file *file)
{
	thaw_snap_put(file->private_data);
	return 0;
}

/*
 * mmap(NULL, ...) of a snapshot gets an address congruent to the offset
 * modulo 2 MiB, so that huge regions can be mapped by PMDs (and KVM can map
 * them 2 MiB in its page tables).
 */
static const struct file_operations thaw_snap_fops = {
	.owner		= THIS_MODULE,
	.release	= thaw_snap_file_release,
	.mmap		= thaw_snap_mmap,
	.get_unmapped_area = thp_get_unmapped_area,
	.unlocked_ioctl	= thaw_snap_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/*
 * A new fd on its own anon inode (so that clone VMAs sit in an address
 * space of their own); the fd owns the reference the caller passes in.
 */
static int thaw_snap_install_fd(struct thaw_snap *snap)
{
	int fd;

	fd = anon_inode_getfd_secure("[thaw-snap]", &thaw_snap_fops, snap,
				     O_RDWR | O_CLOEXEC, NULL);
	if (fd < 0)
		thaw_snap_put(snap);
	return fd;
}
