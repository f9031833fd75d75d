// SPDX-License-Identifier: GPL-2.0
/*
 * Filling a snapshot object from its memory file, 2 MiB region by region.
 *
 * A region is read whole, then kept as it is read: in one 2 MiB folio when
 * dense (a huge object, at least huge_min non-zero pages), on the object's
 * zeroed 2 MiB folio when all zero, else in 4 KiB pages (sparse regions,
 * the partial last region, every region of a 4 KiB object, a 2 MiB
 * allocation that failed).  Holes the file system reports
 * (SEEK_DATA/SEEK_HOLE) are never read.
 *
 * An eager object (snapshot.c) is filled whole by its creator before it is
 * published.  A lazy one (THAW_SNAP_CREATE_LAZY) keeps its own read-only
 * file of the source with writes to the inode denied, so that the file
 * cannot change under it, and fills a region on its first use: a fault
 * (the faulting thread fills it), a premap, or the background fill, which
 * starts at creation and walks the working-set regions first, then the
 * rest in order.  One fill per region: the first to claim its bit in
 * @filling fills it; anyone else who needs it waits (killably) for that
 * fill to end.  A fill that fails leaves the region as it was (unfilled;
 * the next use tries again) and is counted.  When the last region is
 * filled the object lets go of the file (writes allowed again, once a
 * write would change the file's ctime, which names the object in
 * userspace) and gives back the pinned pages it had reserved and did not
 * use.
 *
 * While writes are denied the file's page cache holds its content: pages
 * found there, up to date, are copied from it directly; the rest are read
 * with kernel_read().
 *
 * The background fill is one kernel thread for the module (a kthread
 * worker): objects take turns, a batch of regions each; each region is a
 * bounded piece of work followed by cond_resched(), and an object that
 * ends (its last reference, an eviction, the module's unload) stops and
 * waits for its fill first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>

#include "thaw.h"

/* Object memory: as in snapshot.c (charged, no OOM killer, unmovable). */
#define THAW_GFP_PAGE	(GFP_HIGHUSER | __GFP_ACCOUNT | __GFP_RETRY_MAYFAIL | \
			 __GFP_NOWARN)

/* Regions one object fills in a turn of the background fill. */
#define THAW_FILL_BATCH	8

/* Working-set entries or regions looked at between scheduling points. */
#define THAW_FILL_SCAN	4096

static struct kthread_worker *thaw_fill_worker;

/* Module-wide counters of the fills, since the module loaded. */
static atomic64_t thaw_filled_by[THAW_FILL_NR];
static atomic64_t thaw_fill_waits_total;
static atomic64_t thaw_fill_errors_total;

/* Where one fill is in the source file. */
struct thaw_fill {
	struct thaw_snap *snap;
	struct file *file;
	loff_t offset;			/* object page 0 in @file */
	loff_t limit;			/* end of the object in @file */
	loff_t data, data_end;		/* the current data extent */
	bool reserved;			/* pins were reserved at creation */
	bool page_cache;		/* writes denied: read the page cache */
	struct page *spare;		/* read into, not kept */
	struct folio *hspare;		/* read into, not kept */
	struct thaw_fill_counts n;	/* what the region being filled got */
};

static loff_t thaw_fill_pos(struct thaw_fill *f, unsigned long i)
{
	return f->offset + ((loff_t)i << PAGE_SHIFT);
}

/*
 * Copy the page at @pos from the page cache, if it is there and up to
 * date.  Only while writes to the file are denied: its size and content
 * are then those of the page cache.
 */
static bool thaw_read_cached(struct thaw_fill *f, struct page *page,
			     loff_t pos)
{
	pgoff_t index = pos >> PAGE_SHIFT;
	struct folio *folio;
	bool ok = false;

	folio = __filemap_get_folio(f->file->f_mapping, index, 0, 0);
	if (!folio)
		return false;
	if (folio_test_uptodate(folio) && !folio_test_hwpoison(folio)) {
		copy_highpage(page, folio_file_page(folio, index));
		ok = true;
	}
	folio_put(folio);
	return ok;
}

/* Read one page at @pos; a short read (the file shrank) leaves zeros. */
static int thaw_read_page(struct thaw_fill *f, struct page *page, loff_t pos)
{
	size_t done = 0;
	void *kaddr;
	ssize_t n;
	int ret = 0;

	if (f->page_cache && thaw_read_cached(f, page, pos))
		return 0;
	kaddr = kmap_local_page(page);
	while (done < PAGE_SIZE) {
		n = kernel_read(f->file, kaddr + done, PAGE_SIZE - done, &pos);
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
 * and clipped to @limit.  A file system that does not know its holes
 * reports everything as data.
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
	if (*end <= pos)	/* a file system that moved under us */
		*end = limit;
}

/* Is the page at @pos in a hole of the file (so all zero)? */
static bool thaw_fill_hole(struct thaw_fill *f, loff_t pos)
{
	if (pos >= f->data_end)
		thaw_next_data(f->file, pos, f->limit, &f->data, &f->data_end);
	return pos < f->data;
}

/*
 * Count @n pages against max_pinned_mb and the owner's limits for the
 * region being filled: an eager object pins them now, in its creator's
 * THAW_IOC_SNAP_CREATE (it is not published yet: @pinned is its
 * creator's); a lazy one reserved them when it was created.
 */
static int thaw_fill_pin(struct thaw_fill *f, unsigned long n)
{
	if (!f->reserved) {
		int ret = thaw_snap_pin(f->snap, n);

		if (ret)
			return ret;
		f->snap->pinned += n;
	}
	f->n.pinned += n;
	return 0;
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
			f->n.zero_pages++;
			continue;
		}
		if (!f->spare) {
			f->spare = alloc_page(THAW_GFP_PAGE);
			if (!f->spare)
				return -ENOMEM;
		}
		ret = thaw_read_page(f, f->spare, pos);
		if (ret)
			return ret;
		if (thaw_page_is_zero(f->spare)) {
			/* Keep the spare page for the next read. */
			snap->pages[i] = snap->zero_page;
			f->n.zero_pages++;
			continue;
		}
		ret = thaw_fill_pin(f, 1);
		if (ret)
			return ret;
		snap->pages[i] = f->spare;
		f->n.data_pages++;
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

/*
 * The object's zeroed 2 MiB folio, made by the first fill that needs it;
 * its pins count for the object whatever becomes of that fill.
 */
static struct folio *thaw_fill_zero_folio(struct thaw_fill *f)
{
	struct thaw_snap *snap = f->snap;
	struct folio *zf, *old;

	zf = thaw_snap_zero_folio(snap);
	if (zf)
		return zf;
	zf = thaw_alloc_huge(THAW_GFP_HUGE | __GFP_ZERO);
	if (!zf)
		return NULL;
	if (!f->reserved && thaw_snap_pin(snap, THAW_REGION_NR)) {
		folio_put(zf);
		return NULL;
	}
	old = cmpxchg(&snap->zero_folio, NULL, zf);
	if (old) {
		/* Another fill made it first (lazy objects only). */
		folio_put(zf);
		return old;
	}
	spin_lock(&snap->fill_lock);
	snap->count.pinned += THAW_REGION_NR;
	if (!f->reserved)
		snap->pinned += THAW_REGION_NR;
	spin_unlock(&snap->fill_lock);
	return zf;
}

/* An all-zero region: on the object's zero folio, or 4 KiB zero pages. */
static void thaw_fill_zero_region(struct thaw_fill *f, unsigned long first)
{
	struct thaw_snap *snap = f->snap;
	struct folio *zf = thaw_fill_zero_folio(f);
	unsigned long k;

	f->n.zero_pages += THAW_REGION_NR;
	if (!zf) {
		for (k = 0; k < THAW_REGION_NR; k++)
			snap->pages[first + k] = snap->zero_page;
		f->n.small_regions++;
		f->n.huge_fallbacks++;
		return;
	}
	thaw_fill_set_region(snap, first, zf);
	f->n.zero_regions++;
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
	if (f->data >= pos + ((loff_t)THAW_REGION_NR << PAGE_SHIFT)) {
		thaw_fill_zero_region(f, first);
		return 0;
	}

	folio = f->hspare;
	if (!folio)
		folio = thaw_alloc_huge(THAW_GFP_HUGE);
	if (!folio) {
		f->n.huge_fallbacks++;
		f->n.small_regions++;
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
		ret = thaw_read_page(f, page, pos);
		if (ret)
			return ret;
		if (thaw_page_is_zero(page))
			__set_bit(k, zero);
		else
			nonzero++;
	}

	if (!nonzero) {
		thaw_fill_zero_region(f, first);
		return 0;
	}

	if (nonzero >= snap->huge_min) {
		ret = thaw_fill_pin(f, THAW_REGION_NR);
		if (ret)
			return ret;
		thaw_fill_set_region(snap, first, folio);
		f->n.data_pages += THAW_REGION_NR;
		f->n.huge_regions++;
		f->hspare = NULL;
		return 0;
	}

	/* Sparse: the folio stays a read buffer for the next region. */
	f->n.small_regions++;
	for (k = 0; k < THAW_REGION_NR; k++) {
		if (test_bit(k, zero)) {
			snap->pages[first + k] = snap->zero_page;
			f->n.zero_pages++;
			continue;
		}
		if (!f->spare) {
			f->spare = alloc_page(THAW_GFP_PAGE);
			if (!f->spare)
				return -ENOMEM;
		}
		ret = thaw_fill_pin(f, 1);
		if (ret)
			return ret;
		copy_highpage(f->spare, folio_page(folio, k));
		snap->pages[first + k] = f->spare;
		f->n.data_pages++;
		f->spare = NULL;
	}
	return 0;
}

/* Fill region @r into @pages (not yet published); counts in @f->n. */
static int thaw_fill_one(struct thaw_fill *f, unsigned long r)
{
	struct thaw_snap *snap = f->snap;
	unsigned long first = r << THAW_REGION_ORDER;
	unsigned long n = min(THAW_REGION_NR, snap->nr_pages - first);

	if (thaw_fill_fails())
		return -EIO;
	if (snap->huge_min && n == THAW_REGION_NR)
		return thaw_fill_huge(f, first);
	f->n.small_regions++;
	return thaw_fill_small(f, first, n);
}

/*
 * A lazy fill of region @r failed: free what it stored (only 4 KiB data
 * pages: a folio is stored whole, on success) so that the region is as it
 * was.  Its pins were reserved: nothing to give back.
 */
static void thaw_fill_undo(struct thaw_snap *snap, unsigned long r)
{
	unsigned long first = r << THAW_REGION_ORDER;
	unsigned long n = min(THAW_REGION_NR, snap->nr_pages - first), i;

	for (i = first; i < first + n; i++) {
		struct page *page = snap->pages[i];

		snap->pages[i] = NULL;
		if (page && page != snap->zero_page && !PageCompound(page))
			put_page(page);
	}
}

/*
 * Let go of the source file.  Userspace names an object after the file's
 * ctime (lib/thaw-object.c), so a write after this must change it; a
 * write in the same clock tick (the file system's granularity) as the
 * file's last change would not: wait that tick out first, once writes
 * were denied (so that nothing changed the file since).
 */
static void thaw_fill_let_go(struct file *src, bool denied)
{
	struct inode *inode = file_inode(src);
	struct timespec64 now, ctime;
	int i;

	for (i = 0; denied && i <= HZ; i++) {
		now = current_time(inode);
		ctime = inode->i_ctime;
		if (!timespec64_equal(&now, &ctime))
			break;
		schedule_timeout_uninterruptible(1);
	}
	if (denied)
		allow_write_access(src);
	fput(src);
}

static void thaw_fill_counts_add(struct thaw_fill_counts *to,
				 const struct thaw_fill_counts *n)
{
	to->data_pages += n->data_pages;
	to->zero_pages += n->zero_pages;
	to->pinned += n->pinned;
	to->huge_regions += n->huge_regions;
	to->small_regions += n->small_regions;
	to->zero_regions += n->zero_regions;
	to->huge_fallbacks += n->huge_fallbacks;
}

static void thaw_fill_cleanup(struct thaw_fill *f)
{
	if (f->spare)
		__free_page(f->spare);
	if (f->hspare)
		folio_put(f->hspare);
}

/*
 * Region @r is filled (@f->n) or not (@err): publish it, count it, wake
 * those waiting for it.  The fill that completes the object takes its
 * file and the pins it reserved and did not use; they are let go here.
 */
static void thaw_fill_end(struct thaw_snap *snap, unsigned long r,
			  struct thaw_fill *f, int err, enum thaw_fill_by by)
{
	unsigned long excess = 0;
	struct file *src = NULL;

	spin_lock(&snap->fill_lock);
	__clear_bit(r, snap->filling);
	if (err && snap->lazy) {
		snap->fill_errors++;
		atomic64_inc(&thaw_fill_errors_total);
	} else if (!err) {
		thaw_fill_counts_add(&snap->count, &f->n);
		snap->filled_by[by]++;
		atomic64_inc(&thaw_filled_by[by]);
		/* The region's pages before its bit: see struct thaw_snap. */
		smp_mb__before_atomic();
		set_bit(r, snap->filled);
		if (++snap->nr_filled == snap->nr_regions) {
			src = snap->src;
			snap->src = NULL;
			if (snap->lazy) {
				excess = snap->pinned - snap->base_pinned -
					 snap->count.pinned;
				WRITE_ONCE(snap->pinned, snap->pinned - excess);
			}
		}
	}
	spin_unlock(&snap->fill_lock);
	wake_up_all(&snap->fill_wq);
	if (excess)
		thaw_snap_unpin(snap, excess);
	if (src)
		thaw_fill_let_go(src, snap->denied);
}

static void thaw_fill_init_cursor(struct thaw_fill *f, struct thaw_snap *snap,
				  struct file *file)
{
	memset(f, 0, sizeof(*f));
	f->snap = snap;
	f->file = file;
	f->offset = snap->src_offset;
	f->limit = f->offset + ((loff_t)snap->nr_pages << PAGE_SHIFT);
	f->data = f->data_end = f->offset;
	f->reserved = snap->lazy;
	f->page_cache = snap->denied;
}

/*
 * Fill every region of an eager object, in order, by its creator, before
 * it is published.  Interruptible by a fatal signal; on error the caller
 * frees the object (a region is either whole or absent in @pages, and
 * @pinned counts what was pinned).
 */
int thaw_snap_fill_all(struct thaw_snap *snap)
{
	struct thaw_fill f;
	unsigned long r;
	int ret = 0;

	thaw_fill_init_cursor(&f, snap, snap->src);
	for (r = 0; r < snap->nr_regions; r++) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		spin_lock(&snap->fill_lock);
		__set_bit(r, snap->filling);
		spin_unlock(&snap->fill_lock);
		memset(&f.n, 0, sizeof(f.n));
		ret = thaw_fill_one(&f, r);
		thaw_fill_end(snap, r, &f, ret, THAW_FILL_CREATE);
		if (ret)
			break;
	}
	thaw_fill_cleanup(&f);
	return ret;
}

/*
 * Claim region @r for filling: 1 when the caller must fill it, 0 when it
 * is filled, -EINTR on a fatal signal while waiting for another fill.
 */
static int thaw_fill_claim(struct thaw_snap *snap, unsigned long r)
{
	bool waited = false;
	int ret;

	spin_lock(&snap->fill_lock);
	for (;;) {
		if (test_bit(r, snap->filled)) {
			ret = 0;
			break;
		}
		if (!test_bit(r, snap->filling)) {
			__set_bit(r, snap->filling);
			ret = 1;
			break;
		}
		if (!waited) {
			waited = true;
			snap->fill_waits++;
			atomic64_inc(&thaw_fill_waits_total);
		}
		spin_unlock(&snap->fill_lock);
		if (wait_event_killable(snap->fill_wq,
					!test_bit(r, snap->filling)))
			return -EINTR;
		spin_lock(&snap->fill_lock);
	}
	spin_unlock(&snap->fill_lock);
	return ret;
}

/*
 * Make sure region @r of @snap is filled, filling it here if no one else
 * is (charged to the object's creator).  0 once it is; -EINTR (a fatal
 * signal while waiting), or the fill's error: -EIO and the like from the
 * file, -ENOMEM.  Sleeps; call it under no spinlock.
 */
int thaw_snap_fill_region(struct thaw_snap *snap, unsigned long r,
			  enum thaw_fill_by by)
{
	struct mem_cgroup *old;
	struct thaw_fill f;
	int ret;

	if (WARN_ON_ONCE(r >= snap->nr_regions))
		return -EINVAL;
	if (thaw_snap_region_filled(snap, r))
		return 0;
	ret = thaw_fill_claim(snap, r);
	if (ret <= 0)
		return ret;
	/* Not complete, so @src stays until our thaw_fill_end(). */
	thaw_fill_init_cursor(&f, snap, snap->src);
	old = set_active_memcg(snap->memcg);
	ret = thaw_fill_one(&f, r);
	set_active_memcg(old);
	thaw_fill_cleanup(&f);
	if (ret)
		thaw_fill_undo(snap, r);
	thaw_fill_end(snap, r, &f, ret, by);
	return ret;
}

/* Fill the regions of object pages [@first, @first + @n). */
int thaw_snap_fill_pages(struct thaw_snap *snap, unsigned long first,
			 unsigned long n, enum thaw_fill_by by)
{
	unsigned long r;
	int ret;

	if (!n)
		return 0;
	for (r = first >> THAW_REGION_ORDER;
	     r <= (first + n - 1) >> THAW_REGION_ORDER; r++) {
		ret = thaw_snap_fill_region(snap, r, by);
		if (ret)
			return ret;
	}
	return 0;
}

/* Fill every region the working set @ws touches (a premap). */
int thaw_snap_fill_wset(struct thaw_snap *snap, struct thaw_wset *ws)
{
	unsigned long r, last = ULONG_MAX;
	u32 i;
	int ret;

	for (i = 0; i < ws->nr; i++) {
		if (!(i % THAW_FILL_SCAN))
			cond_resched();
		r = ws->sorted[i] >> THAW_REGION_ORDER;
		if (r == last)
			continue;
		last = r;
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = thaw_snap_fill_region(snap, r, THAW_FILL_PREMAP);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The next region the background fill should fill, passed over from now
 * on: the working set's first, then the others in order; ULONG_MAX when
 * every region left is filled or being filled (a region whose fill failed
 * is not tried again: a fault will).  The working set may have 2^28
 * entries: at most THAW_FILL_SCAN are looked at under @fill_lock at a
 * time.
 */
static unsigned long thaw_fill_next(struct thaw_snap *snap)
{
	struct thaw_wset *ws = thaw_snap_get_wset(snap);
	unsigned long r = ULONG_MAX;
	bool more = true;
	u32 k;

	if (ws != snap->bg_wset) {
		if (snap->bg_wset)
			thaw_wset_put(snap->bg_wset);
		snap->bg_wset = ws;
		snap->bg_wset_next = 0;
	} else if (ws) {
		thaw_wset_put(ws);
	}
	while (more) {
		spin_lock(&snap->fill_lock);
		for (k = 0; k < THAW_FILL_SCAN; k++) {
			if (ws && snap->bg_wset_next < ws->nr)
				r = ws->sorted[snap->bg_wset_next++] >>
				    THAW_REGION_ORDER;
			else if (snap->bg_next < snap->nr_regions)
				r = snap->bg_next++;
			else
				break;
			if (!test_bit(r, snap->filled) &&
			    !test_bit(r, snap->filling))
				break;
			r = ULONG_MAX;
		}
		more = k == THAW_FILL_SCAN;
		spin_unlock(&snap->fill_lock);
		if (more)
			cond_resched();
	}
	return r;
}

/*
 * One turn of an object's background fill: a batch of regions, then the
 * back of the queue, so that objects take turns.
 */
static void thaw_fill_work(struct kthread_work *work)
{
	struct thaw_snap *snap = container_of(work, struct thaw_snap,
					      fill_work);
	unsigned long r;
	bool stop;
	int i;

	for (i = 0; i < THAW_FILL_BATCH; i++) {
		spin_lock(&snap->fill_lock);
		stop = snap->fill_stop || !snap->src;
		spin_unlock(&snap->fill_lock);
		if (stop)
			return;
		r = thaw_fill_next(snap);
		if (r == ULONG_MAX)
			return;
		thaw_snap_fill_region(snap, r, THAW_FILL_BACKGROUND);
		cond_resched();
	}
	kthread_queue_work(thaw_fill_worker, &snap->fill_work);
}

/* Start the background fill of a new lazy object (fill_background). */
void thaw_fill_start(struct thaw_snap *snap)
{
	kthread_init_work(&snap->fill_work, thaw_fill_work);
	if (snap->lazy && thaw_fill_background_on())
		kthread_queue_work(thaw_fill_worker, &snap->fill_work);
}

/*
 * The object ends: stop its background fill and wait for it, and let go
 * of the file if it still has it.  No other fill can run (no reference
 * is left).
 */
void thaw_fill_stop(struct thaw_snap *snap)
{
	struct file *src;

	spin_lock(&snap->fill_lock);
	snap->fill_stop = true;
	spin_unlock(&snap->fill_lock);
	if (thaw_fill_worker && snap->fill_work.func)
		kthread_cancel_work_sync(&snap->fill_work);
	if (snap->bg_wset) {
		thaw_wset_put(snap->bg_wset);
		snap->bg_wset = NULL;
	}
	spin_lock(&snap->fill_lock);
	src = snap->src;
	snap->src = NULL;
	spin_unlock(&snap->fill_lock);
	if (src) {
		if (snap->denied)
			allow_write_access(src);
		fput(src);
	}
}

void thaw_fill_module_stats(struct thaw_stats *st)
{
	st->filled_fault = atomic64_read(&thaw_filled_by[THAW_FILL_FAULT]);
	st->filled_premap = atomic64_read(&thaw_filled_by[THAW_FILL_PREMAP]);
	st->filled_background =
		atomic64_read(&thaw_filled_by[THAW_FILL_BACKGROUND]);
	st->fill_waits = atomic64_read(&thaw_fill_waits_total);
	st->fill_errors = atomic64_read(&thaw_fill_errors_total);
}

int thaw_fill_init(void)
{
	thaw_fill_worker = kthread_create_worker(0, "thaw-fill");
	if (IS_ERR(thaw_fill_worker)) {
		int ret = PTR_ERR(thaw_fill_worker);

		thaw_fill_worker = NULL;
		return ret;
	}
	return 0;
}

void thaw_fill_exit(void)
{
	kthread_destroy_worker(thaw_fill_worker);
	thaw_fill_worker = NULL;
}
