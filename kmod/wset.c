// SPDX-License-Identifier: GPL-2.0
/*
 * Working sets: which pages a function touches after restore, in order.
 *
 * A clone in recording mode logs, in its fault handler, the first touch of
 * every page.  Stopping the recording stores the log in the snapshot object
 * (replacing the previous working set); userspace may export it to keep it
 * next to the snapshot and import it into a new object later.  Premapping
 * maps the whole working set into a fresh clone in one call (filling the
 * regions of a lazy object it touches first), in batches of contiguous
 * pages (a huge region touched by the working set: all of it,
 * with one PMD), so that the guest then takes no host page fault on it.
 * A recording clone maps huge regions in 4 KiB pages: every first touch
 * must fault.
 *
 * The recording also notes which pages were written (clone.c): a write
 * fault, or the copy-on-write of a page it had mapped, which its mmu
 * notifier sees.  The stored working set keeps that bit per entry and, from
 * it, ranks the object's 2 MiB regions for private copies: a region with a
 * written page, by the second-level faults a copy of it would save
 * (the pages touched in it, plus those written, which would fault twice).
 *
 * A working set may have as many entries as its object has pages (2^28 for
 * 1 TiB), so nothing here walks it, or copies it, without a scheduling
 * point every THAW_WSET_CHUNK entries, and the calls that do are killable.
 * Entries are unique page indices: they are sorted by setting their bits
 * in a bitmap of the object's pages and reading the bits back in order,
 * and the regions ranked by a counting sort of their savings (at most
 * 2 * 512), both linear and preemptible, where a comparison sort of 2^28
 * entries would hold the CPU for seconds.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "thaw.h"

static void thaw_wset_release(struct kref *ref)
{
	struct thaw_wset *ws = container_of(ref, struct thaw_wset, ref);

	kvfree(ws->order);
	kvfree(ws->written);
	kvfree(ws->ranked);
	kvfree(ws->ranked_faults);
	kfree(ws);
}

void thaw_wset_put(struct thaw_wset *ws)
{
	kref_put(&ws->ref, thaw_wset_release);
}

/* Entries handled, or bitmap bits read, between two scheduling points. */
#define THAW_WSET_CHUNK		65536U

/* Between two chunks of a long loop: -EINTR on a fatal signal. */
static int thaw_wset_yield(void)
{
	cond_resched();
	return fatal_signal_pending(current) ? -EINTR : 0;
}

/*
 * A working set of @nr entries; the caller fills @order and sets bits in
 * @written, then seals it.
 */
static struct thaw_wset *thaw_wset_alloc(u32 nr)
{
	struct thaw_wset *ws;

	ws = kzalloc(sizeof(*ws), GFP_KERNEL_ACCOUNT);
	if (!ws)
		return NULL;
	kref_init(&ws->ref);
	ws->nr = nr;
	ws->order = kvmalloc_array(2 * (size_t)max(nr, 1U), sizeof(u32),
				   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	ws->written = kvcalloc(BITS_TO_LONGS(max(nr, 1U)), sizeof(long),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!ws->order || !ws->written) {
		thaw_wset_put(ws);
		return NULL;
	}
	ws->sorted = ws->order + nr;
	return ws;
}

/* copy_from_user() of @n entries, a chunk at a time. */
static int thaw_wset_copy_in(u32 *dst, const u32 __user *src, u32 n)
{
	u32 i, k;
	int ret;

	for (i = 0; i < n; i += k) {
		k = min(n - i, THAW_WSET_CHUNK);
		if (copy_from_user(dst + i, src + i, k * sizeof(u32)))
			return -EFAULT;
		ret = thaw_wset_yield();
		if (ret)
			return ret;
	}
	return 0;
}

/* copy_to_user() of @n entries, a chunk at a time. */
static int thaw_wset_copy_out(u32 __user *dst, const u32 *src, u32 n)
{
	u32 i, k;
	int ret;

	for (i = 0; i < n; i += k) {
		k = min(n - i, THAW_WSET_CHUNK);
		if (copy_to_user(dst + i, src + i, k * sizeof(u32)))
			return -EFAULT;
		ret = thaw_wset_yield();
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The regions with a written page, in ascending order, with the faults a
 * private copy of each would save (touched + written pages, at most
 * 2 * THAW_REGION_NR), as the sorted walk meets them.
 */
struct thaw_wset_regions {
	u32 *region;
	u16 *faults;
	u32 n;
};

/*
 * Rank @rs for private copies: most faults saved first, ties in region
 * order.  A counting sort over the faults saved (at most 1024 values):
 * linear, where a comparison sort of 2^19 regions (1 TiB) is not.
 */
static int thaw_wset_rank(struct thaw_wset *ws, struct thaw_wset_regions *rs)
{
	const u32 nf = 2 * THAW_REGION_NR + 1;
	u32 i, f, pos, *at;

	ws->ranked = kvmalloc_array(max(rs->n, 1U), sizeof(u32),
				    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	ws->ranked_faults = kvmalloc_array(max(rs->n, 1U), sizeof(u32),
					   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	at = kcalloc(nf, sizeof(u32), GFP_KERNEL);
	if (!ws->ranked || !ws->ranked_faults || !at) {
		kfree(at);
		return -ENOMEM;
	}
	for (i = 0; i < rs->n; i++)
		at[rs->faults[i]]++;
	/* at[f]: where the first region saving f faults goes. */
	for (pos = 0, f = nf; f-- > 0; ) {
		u32 c = at[f];

		at[f] = pos;
		pos += c;
	}
	for (i = 0; i < rs->n; i++) {
		u32 j = at[rs->faults[i]]++;

		ws->ranked[j] = rs->region[i];
		ws->ranked_faults[j] = rs->faults[i];
		if (!(i % THAW_WSET_CHUNK))
			cond_resched();
	}
	ws->nr_ranked = rs->n;
	kfree(at);
	return 0;
}

/*
 * Seal @ws: @ws->sorted from @seen, the bitmap of its pages (bit b is
 * page @base + b, @span bits), read back in order a window at a time;
 * then the written count and the ranking, from @written (indexed as
 * @seen; NULL: no page written).  -EINTR on a fatal signal.
 */
static int thaw_wset_seal(struct thaw_wset *ws, const unsigned long *seen,
			  const unsigned long *written, unsigned long base,
			  unsigned long span)
{
	struct thaw_wset_regions rs = { };
	unsigned long w, end, b, cur = ULONG_MAX, r;
	u32 k = 0, touched = 0, wr = 0, nr_written = 0;
	int ret;

	rs.region = kvmalloc_array(span / THAW_REGION_NR + 2, sizeof(u32),
				   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	rs.faults = kvmalloc_array(span / THAW_REGION_NR + 2, sizeof(u16),
				   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	ret = -ENOMEM;
	if (!rs.region || !rs.faults)
		goto out;
	for (w = 0; w < span; w = end) {
		end = min(span, w + THAW_WSET_CHUNK);
		for (b = find_next_bit(seen, end, w); b < end;
		     b = find_next_bit(seen, end, b + 1)) {
			ret = -EINVAL;
			if (WARN_ON_ONCE(k == ws->nr))
				goto out;
			ws->sorted[k++] = base + b;
			r = (base + b) >> THAW_REGION_ORDER;
			if (r != cur) {
				if (wr) {
					rs.region[rs.n] = cur;
					rs.faults[rs.n++] = touched + wr;
				}
				cur = r;
				touched = wr = 0;
			}
			touched++;
			if (written && test_bit(b, written)) {
				wr++;
				nr_written++;
			}
		}
		ret = thaw_wset_yield();
		if (ret)
			goto out;
	}
	if (wr) {
		rs.region[rs.n] = cur;
		rs.faults[rs.n++] = touched + wr;
	}
	ret = -EINVAL;
	if (WARN_ON_ONCE(k != ws->nr))
		goto out;
	ws->nr_written = nr_written;
	ret = rs.n ? thaw_wset_rank(ws, &rs) : 0;
out:
	kvfree(rs.region);
	kvfree(rs.faults);
	return ret;
}

/* Replace the object's working set with @ws (NULL: none). */
static void thaw_snap_set_wset(struct thaw_snap *snap, struct thaw_wset *ws)
{
	struct thaw_wset *old;

	mutex_lock(&snap->lock);
	old = snap->wset;
	snap->wset = ws;
	WRITE_ONCE(snap->wset_nr, ws ? ws->nr : 0);
	WRITE_ONCE(snap->wset_written, ws ? ws->nr_written : 0);
	mutex_unlock(&snap->lock);
	if (old)
		thaw_wset_put(old);
}

struct thaw_wset *thaw_snap_get_wset(struct thaw_snap *snap)
{
	struct thaw_wset *ws;

	mutex_lock(&snap->lock);
	ws = snap->wset;
	if (ws)
		kref_get(&ws->ref);
	mutex_unlock(&snap->lock);
	return ws;
}

static int thaw_wset_check_args(struct thaw_snap *snap,
				 struct thaw_wset_io *io)
{
	if ((io->flags & ~THAW_WSET_IO_WRITTEN) ||
	    !thaw_all_zero(io->reserved, ARRAY_SIZE(io->reserved)))
		return -EINVAL;
	/* Bit 31 of an entry is the written bit: no room for larger indices. */
	if ((io->flags & THAW_WSET_IO_WRITTEN) &&
	    snap->nr_pages > THAW_WSET_WRITTEN)
		return -EOVERFLOW;
	return 0;
}

long thaw_wset_set(struct thaw_snap *snap, unsigned int cmd,
		   unsigned long arg)
{
	unsigned long *seen = NULL, *wpages = NULL;
	struct thaw_wset_io io;
	struct thaw_wset *ws;
	u32 i;
	int ret;

	ret = thaw_copy_arg(&io, sizeof(io), THAW_WSET_IO_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = thaw_wset_check_args(snap, &io);
	if (ret)
		return ret;
	if (!io.count) {
		thaw_snap_set_wset(snap, NULL);
		return 0;
	}
	/* Each page at most once: no more entries than pages. */
	if (io.count > snap->nr_pages)
		return -EINVAL;

	ws = thaw_wset_alloc(io.count);
	if (!ws)
		return -ENOMEM;
	ret = thaw_wset_copy_in(ws->order, u64_to_user_ptr(io.pages),
				io.count);
	if (ret)
		goto err;
	ret = -ENOMEM;
	seen = kvcalloc(BITS_TO_LONGS(snap->nr_pages), sizeof(long),
			GFP_KERNEL_ACCOUNT);
	if (!seen)
		goto err;
	/* The written pages, by page: the ranking walks pages in order. */
	if (io.flags & THAW_WSET_IO_WRITTEN) {
		wpages = kvcalloc(BITS_TO_LONGS(snap->nr_pages), sizeof(long),
				  GFP_KERNEL_ACCOUNT);
		if (!wpages)
			goto err;
	}
	for (i = 0; i < io.count; i++) {
		u32 idx = ws->order[i];
		bool w = false;

		if (!(i % THAW_WSET_CHUNK)) {
			ret = thaw_wset_yield();
			if (ret)
				goto err;
		}
		if (io.flags & THAW_WSET_IO_WRITTEN) {
			w = idx & THAW_WSET_WRITTEN;
			idx &= THAW_WSET_PAGE_MASK;
			ws->order[i] = idx;
		}
		ret = -EINVAL;
		if (idx >= snap->nr_pages || __test_and_set_bit(idx, seen))
			goto err;
		if (w) {
			__set_bit(i, ws->written);
			__set_bit(idx, wpages);
		}
	}
	ret = thaw_wset_seal(ws, seen, wpages, 0, snap->nr_pages);
	if (ret)
		goto err;
	kvfree(seen);
	kvfree(wpages);
	thaw_snap_set_wset(snap, ws);
	return 0;
err:
	kvfree(seen);
	kvfree(wpages);
	thaw_wset_put(ws);
	return ret;
}

/* Copy @ws's entries out with their written bits, a page at a time. */
static int thaw_wset_put_written(struct thaw_wset *ws, u32 __user *dst)
{
	const u32 chunk = PAGE_SIZE / sizeof(u32);
	u32 *buf, i, k, n;
	int ret = 0;

	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < ws->nr; i += n) {
		n = min(chunk, ws->nr - i);
		for (k = 0; k < n; k++)
			buf[k] = ws->order[i + k] |
				 (test_bit(i + k, ws->written) ?
				  THAW_WSET_WRITTEN : 0);
		if (copy_to_user(dst + i, buf, n * sizeof(u32))) {
			ret = -EFAULT;
			break;
		}
		ret = thaw_wset_yield();
		if (ret)
			break;
	}
	kfree(buf);
	return ret;
}

long thaw_wset_get(struct thaw_snap *snap, unsigned int cmd,
		   unsigned long arg)
{
	struct thaw_wset_io io;
	struct thaw_wset *ws;
	u32 nr;
	int ret;

	ret = thaw_copy_arg(&io, sizeof(io), THAW_WSET_IO_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	ret = thaw_wset_check_args(snap, &io);
	if (ret)
		return ret;

	ws = thaw_snap_get_wset(snap);
	nr = ws ? ws->nr : 0;
	if (io.count && nr) {
		if (io.count < nr) {
			ret = -ENOSPC;
			goto out;
		}
		if (io.flags & THAW_WSET_IO_WRITTEN)
			ret = thaw_wset_put_written(ws,
						    u64_to_user_ptr(io.pages));
		else
			ret = thaw_wset_copy_out(u64_to_user_ptr(io.pages),
						 ws->order, nr);
		if (ret)
			goto out;
	}
	io.count = nr;
	ret = thaw_put_arg(arg, cmd, &io, sizeof(io));
out:
	if (ws)
		thaw_wset_put(ws);
	return ret;
}

void thaw_rec_free(struct thaw_rec *rec)
{
	if (!rec)
		return;
	kvfree(rec->seen);
	kvfree(rec->written);
	kvfree(rec->log);
	kfree(rec);
}

static struct thaw_rec *thaw_rec_alloc(struct thaw_clone *clone)
{
	unsigned long nr_pages = clone->nr_pages;
	struct thaw_rec *rec;

	rec = kzalloc(sizeof(*rec), GFP_KERNEL_ACCOUNT);
	if (!rec)
		return NULL;
	rec->pgoff = clone->pgoff;
	rec->nr_pages = nr_pages;
	rec->seen = kvcalloc(BITS_TO_LONGS(nr_pages), sizeof(long),
			     GFP_KERNEL_ACCOUNT);
	rec->written = kvcalloc(BITS_TO_LONGS(nr_pages), sizeof(long),
				GFP_KERNEL_ACCOUNT);
	rec->log = kvmalloc_array(nr_pages, sizeof(u32), GFP_KERNEL_ACCOUNT);
	if (!rec->seen || !rec->written || !rec->log) {
		thaw_rec_free(rec);
		return NULL;
	}
	return rec;
}

int thaw_clone_op_args(struct thaw_clone_op *op, unsigned int cmd,
		       unsigned long arg, u32 flags_ok)
{
	int ret;

	ret = thaw_copy_arg(op, sizeof(*op), THAW_CLONE_OP_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if ((op->flags & ~flags_ok) || op->pad || op->pad2 ||
	    (op->private_budget && !(op->flags & THAW_CLONE_PREMAP_BUDGET)) ||
	    !thaw_all_zero(op->reserved, ARRAY_SIZE(op->reserved)))
		return -EINVAL;
	if (!current->mm)
		return -EINVAL;
	return 0;
}

/*
 * @clone->rec decides whether a fault may map pages it does not log
 * (fault-around, PMDs: clone.c), so it changes only with every fault of
 * the clone excluded.  Holding mmap_lock for writing does that in 6.1; where
 * faults may run under the VMA's own lock instead (CONFIG_PER_VMA_LOCK,
 * 6.4 and later), the VMA must be write-locked too.
 */
static void thaw_rec_exclude_faults(struct vm_area_struct *vma)
{
	mmap_assert_write_locked(vma->vm_mm);
#ifdef CONFIG_PER_VMA_LOCK
	vma_start_write(vma);
#endif
}

long thaw_clone_record(struct thaw_snap *snap, unsigned int cmd,
		       unsigned long arg)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm = current->mm;
	struct thaw_rec *rec = NULL;
	struct thaw_clone *clone;
	struct thaw_clone_op op;
	int ret;

	ret = thaw_clone_op_args(&op, cmd, arg, 0);
	if (ret)
		return ret;
	/* For writing: thaw_rec_exclude_faults(). */
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	clone = thaw_clone_lookup(snap, mm, op.addr, &vma);
	ret = -EINVAL;
	if (!clone)
		goto out;
	thaw_rec_exclude_faults(vma);
	ret = -ENOMEM;
	rec = thaw_rec_alloc(clone);
	if (!rec)
		goto out;
	spin_lock(&clone->lock);
	if (clone->rec) {
		ret = -EBUSY;
	} else {
		clone->rec = rec;
		rec = NULL;
		ret = 0;
	}
	spin_unlock(&clone->lock);
out:
	mmap_write_unlock(mm);
	thaw_rec_free(rec);
	if (ret)
		return ret;
	op.count = 0;
	return thaw_put_arg(arg, cmd, &op, sizeof(op));
}

/* The working set a finished recording leaves: its log and written bits. */
static struct thaw_wset *thaw_wset_stored(struct thaw_rec *rec)
{
	struct thaw_wset *ws;
	u32 i;
	int ret;

	ws = thaw_wset_alloc(rec->nr);
	if (!ws)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < rec->nr; i++) {
		if (!(i % THAW_WSET_CHUNK)) {
			ret = thaw_wset_yield();
			if (ret)
				goto err;
		}
		ws->order[i] = rec->log[i];
		if (test_bit(rec->log[i] - rec->pgoff, rec->written))
			__set_bit(i, ws->written);
	}
	ret = thaw_wset_seal(ws, rec->seen, rec->written, rec->pgoff,
			     rec->nr_pages);
	if (ret)
		goto err;
	return ws;
err:
	thaw_wset_put(ws);
	return ERR_PTR(ret);
}

long thaw_clone_stop(struct thaw_snap *snap, unsigned int cmd,
		     unsigned long arg)
{
	struct mm_struct *mm = current->mm;
	struct thaw_rec *rec = NULL;
	struct thaw_wset *ws = NULL;
	struct thaw_clone *clone;
	struct vm_area_struct *vma;
	struct thaw_clone_op op;
	int ret;

	ret = thaw_clone_op_args(&op, cmd, arg, THAW_CLONE_STOP_DISCARD);
	if (ret)
		return ret;
	/* For writing: thaw_rec_exclude_faults(). */
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	clone = thaw_clone_lookup(snap, mm, op.addr, &vma);
	if (clone) {
		thaw_rec_exclude_faults(vma);
		spin_lock(&clone->lock);
		rec = clone->rec;
		clone->rec = NULL;
		spin_unlock(&clone->lock);
	}
	mmap_write_unlock(mm);
	if (!rec)
		return -EINVAL;

	op.count = rec->nr;
	if (!(op.flags & THAW_CLONE_STOP_DISCARD)) {
		if (rec->nr) {
			ws = thaw_wset_stored(rec);
			if (IS_ERR(ws)) {
				thaw_rec_free(rec);
				return PTR_ERR(ws);
			}
		}
		thaw_snap_set_wset(snap, ws);
	}
	thaw_rec_free(rec);
	return thaw_put_arg(arg, cmd, &op, sizeof(op));
}

/* Private 2 MiB copies only where 2 MiB mappings work (thaw.h). */
#define THAW_CLONE_PREMAP_FLAGS	(THAW_HUGE ? THAW_CLONE_PREMAP_BUDGET | \
				 THAW_CLONE_PREMAP_PRIVATE | \
				 THAW_CLONE_PREMAP_COPY_ONLY : 0)

/*
 * Choose the clone's regions for private copies from @ws, with the budget
 * the caller gives or the clone's own.
 */
static int thaw_premap_choose(struct thaw_clone *clone, struct thaw_wset *ws,
			      const struct thaw_clone_op *op)
{
	u32 budget;

	if (op->flags & THAW_CLONE_PREMAP_BUDGET) {
		budget = op->private_budget;
	} else {
		spin_lock(&clone->lock);
		budget = clone->private_budget;
		spin_unlock(&clone->lock);
	}
	return thaw_clone_choose(clone, ws, budget);
}

/*
 * THAW_CLONE_PREMAP_COPY_ONLY: choose, then make the chosen regions'
 * copies one at a time, in thaw_clone_copy_order(), the mmap lock let go
 * between two (each takes milliseconds: the vCPUs beside this thread
 * fault meanwhile, and a writer of the mmap lock does not wait for them
 * all).  The clone is looked up again each time; gone, it is -EINVAL.
 */
static int thaw_premap_copies(struct thaw_snap *snap, struct mm_struct *mm,
			      struct thaw_wset *ws,
			      const struct thaw_clone_op *op,
			      unsigned long *mapped)
{
	struct vm_area_struct *vma;
	struct thaw_clone *clone;
	u32 *order = NULL, nr = 0, i;
	int ret;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	clone = thaw_clone_lookup(snap, mm, op->addr, &vma);
	ret = clone ? thaw_premap_choose(clone, ws, op) : -EINVAL;
	if (!ret)
		ret = thaw_clone_copy_order(clone, ws, &order, &nr);
	mmap_read_unlock(mm);
	for (i = 0; i < nr && !ret; i++) {
		cond_resched();
		if (mmap_read_lock_killable(mm)) {
			ret = -EINTR;
			break;
		}
		clone = thaw_clone_lookup(snap, mm, op->addr, &vma);
		ret = clone ? thaw_clone_copy_region(clone, vma, order[i],
						     mapped) : -EINVAL;
		mmap_read_unlock(mm);
	}
	kvfree(order);
	return ret;
}

long thaw_clone_premap(struct thaw_snap *snap, unsigned int cmd,
		       unsigned long arg)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long mapped = 0;
	struct thaw_clone *clone;
	struct thaw_clone_op op;
	struct thaw_wset *ws;
	u32 i, n, first, last;
	int ret;

	ret = thaw_clone_op_args(&op, cmd, arg, THAW_CLONE_PREMAP_FLAGS);
	if (ret)
		return ret;
	if ((op.flags & THAW_CLONE_PREMAP_COPY_ONLY) &&
	    !(op.flags & THAW_CLONE_PREMAP_PRIVATE))
		return -EINVAL;
	ws = thaw_snap_get_wset(snap);
	if (!ws)
		return -ENODATA;
	/*
	 * A lazy object's working-set regions are filled first, before the
	 * mmap lock is taken, and so before the regions are chosen.
	 */
	ret = thaw_snap_fill_wset(snap, ws);
	if (ret)
		goto out_put;
	if (op.flags & THAW_CLONE_PREMAP_COPY_ONLY) {
		ret = thaw_premap_copies(snap, mm, ws, &op, &mapped);
		goto out_put;
	}
	if (mmap_read_lock_killable(mm)) {
		ret = -EINTR;
		goto out_put;
	}
	clone = thaw_clone_lookup(snap, mm, op.addr, &vma);
	if (!clone) {
		ret = -EINVAL;
		goto out;
	}
	ret = thaw_premap_choose(clone, ws, &op);
	if (!ret && (op.flags & THAW_CLONE_PREMAP_PRIVATE))
		ret = thaw_clone_copy_chosen(clone, vma, &mapped);
	if (ret)
		goto out;
	/* The clone may map a window of the object: [first, last). */
	first = clone->pgoff;
	last = clone->pgoff + clone->nr_pages;
	for (i = 0; i < ws->nr && !ret; i += n) {
		u32 idx = ws->sorted[i];

		/* A run at most a chunk long: a scheduling point after each. */
		for (n = 1; i + n < ws->nr && n < THAW_WSET_CHUNK &&
		     ws->sorted[i + n] == idx + n; n++)
			;
		cond_resched();
		if (idx + n <= first || idx >= last)
			continue;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		/* Clip the run to the window. */
		ret = thaw_clone_map_range(clone, vma,
					   max(idx, first) - first,
					   min(idx + n, last) - max(idx, first),
					   true, &mapped);
	}
out:
	mmap_read_unlock(mm);
out_put:
	thaw_wset_put(ws);
	if (ret)
		return ret;
	op.count = mapped;
	return thaw_put_arg(arg, cmd, &op, sizeof(op));
}
