// SPDX-License-Identifier: GPL-2.0
/*
 * Clone mappings: mmap(MAP_PRIVATE) of a snapshot object.
 *
 * The fault handler hands the core mm the object's page; in a private VMA
 * the core mm then does copy-on-write by itself: a read fault maps the
 * shared page read-only, a write fault (do_cow_fault) or a write to a
 * mapped page (do_wp_page) gives the process a private anonymous copy.
 * KVM's hva_to_pfn() goes through the same faults, and its own mmu notifier
 * sees every replacement.
 *
 * Dirty tracking, for a reset in O(dirtied pages): a write fault is seen
 * here; a copy-on-write of a mapped page is not, but it replaces the pte,
 * which fires MMU_NOTIFY_CLEAR on an mmu_interval_notifier that covers the
 * clone.  Both record the page (a superset is harmless: zapping a clean
 * page costs one refault).  A reset zaps exactly the recorded pages.
 *
 * 2 MiB regions (huge objects, THAW_HUGE): a read fault in a region the
 * object stores in one folio maps the whole region with one read-only PMD
 * (vmf_insert_pfn_pmd_prot(), no reference or mapcount taken: in a
 * VM_MIXEDMAP file mapping the core mm clears such a PMD without touching
 * the page; the object lives through vm_file), so that KVM can map it 2 MiB
 * too.  A write to it goes wp_huge_pmd() -> ->huge_fault (which marks the
 * region split) -> the core splits the PMD (clears it; the notifier fires)
 * -> do_cow_fault() -> ->fault: from then on the region is 4 KiB in this
 * clone.  6.1 never frees a page table of a live VMA outside munmap, so the
 * PTE table the copy-on-write installs stays: a region with one stays
 * 4 KiB for the life of the mapping, a reset included.  Never install a
 * PMD where 4 KiB pages are being mapped and the reverse: vm_insert_pages()
 * would take a PMD leaf for a page table.  thaw_clone_pmd_ok() says which;
 * its answer is stable under the mmap lock once it is "no".
 *
 * The VMA is never split or moved (may_split and mremap refuse), so one VMA
 * is one clone for its whole life.  A copy of the VMA (fork after
 * MADV_DOFORK) is a detached mapping: it serves the same pages and
 * copy-on-write, but has no clone state and no ioctl reaches it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pfn_t.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "thaw.h"

/* Longest dirty list per clone; beyond it a reset walks the bitmap. */
#define THAW_DIRTY_LIST_MAX	65536

static u64 thaw_next_clone_id = 1;	/* thaw_objects_lock */

static const struct vm_operations_struct thaw_clone_vm_ops;
static int thaw_clone_insert_small(struct thaw_clone *clone,
				   struct vm_area_struct *vma,
				   unsigned long rel, unsigned long n,
				   bool premap, unsigned long *mapped);

static bool thaw_clone_is_zero(struct thaw_clone *clone, unsigned long rel)
{
	struct thaw_snap *snap = clone->snap;
	struct page *page = snap->pages[clone->pgoff + rel];

	return page == snap->zero_page ||
	       (snap->zero_folio && page_folio(page) == snap->zero_folio);
}

/* Index in the clone's region bitmaps of the region of clone page @rel. */
static unsigned long thaw_clone_region(struct thaw_clone *clone,
				       unsigned long rel)
{
	return ((clone->pgoff + rel) >> THAW_REGION_ORDER) - clone->region0;
}

/* Object page of the first page of clone region @ri. */
static unsigned long thaw_clone_region_first(struct thaw_clone *clone,
					     unsigned long ri)
{
	return (clone->region0 + ri) << THAW_REGION_ORDER;
}

/* Clone region @ri is a folio of the object, wholly inside the clone. */
static bool thaw_clone_region_huge(struct thaw_clone *clone, unsigned long ri)
{
	unsigned long first = thaw_clone_region_first(clone, ri);

	if (!clone->huge || first < clone->pgoff ||
	    first + THAW_REGION_NR > clone->pgoff + clone->nr_pages)
		return false;
	return thaw_snap_region_huge(clone->snap, clone->region0 + ri);
}

/*
 * May clone region @ri be mapped by a PMD now?  The answer changes only
 * with the mmap lock held for writing (a recording starts or stops,
 * VM_NOHUGEPAGE, MMF_DISABLE_THP, a reset clears @split), or from yes to
 * no under @lock (a write sets @split).  So a fault that got "no" may map
 * 4 KiB pages: no PMD of ours can appear under it.
 */
static bool thaw_clone_pmd_ok(struct thaw_clone *clone,
			      struct vm_area_struct *vma, unsigned long ri)
{
	lockdep_assert_held(&clone->lock);
	return thaw_clone_region_huge(clone, ri) && !clone->rec &&
	       !test_bit(ri, clone->split) &&
	       !(vma->vm_flags & VM_NOHUGEPAGE) &&
	       !test_bit(MMF_DISABLE_THP, &vma->vm_mm->flags);
}

/* A write into clone page @rel: its region is 4 KiB until the next reset. */
static void thaw_clone_set_split(struct thaw_clone *clone, unsigned long rel)
{
	unsigned long ri = thaw_clone_region(clone, rel);

	lockdep_assert_held(&clone->lock);
	if (thaw_clone_region_huge(clone, ri) &&
	    !__test_and_set_bit(ri, clone->split))
		clone->splits++;
}

enum thaw_pmd_kind { THAW_PMD_NONE, THAW_PMD_TABLE, THAW_PMD_LEAF };

/*
 * What a PMD entry holds.  A page table stays one while the mmap lock is
 * held (only munmap frees it); a leaf may go at any time (zap, split).
 */
static enum thaw_pmd_kind thaw_pmd_kind(pmd_t *pmdp)
{
	pmd_t pmd = READ_ONCE(*pmdp);

	if (pmd_none(pmd))
		return THAW_PMD_NONE;
	if (pmd_leaf(pmd) || !pmd_present(pmd))
		return THAW_PMD_LEAF;
	return THAW_PMD_TABLE;
}

/* The same for @addr of @mm, walking the upper levels; mmap lock held. */
static enum thaw_pmd_kind thaw_addr_pmd_kind(struct mm_struct *mm,
					     unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud, pudv;

	if (pgd_none(READ_ONCE(*pgd)))
		return THAW_PMD_NONE;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)))
		return THAW_PMD_NONE;
	pud = pud_offset(p4d, addr);
	pudv = READ_ONCE(*pud);
	if (pud_none(pudv))
		return THAW_PMD_NONE;
	if (pud_leaf(pudv) || !pud_present(pudv))
		return THAW_PMD_LEAF;
	return thaw_pmd_kind(pmd_offset(pud, addr));
}

/*
 * Map clone region @ri with one read-only PMD of the object's folio.  Under
 * @lock, so that nothing sets @split or clears @pmd_mapped meanwhile (the
 * notifier runs before any PMD is cleared and takes @lock).
 */
static vm_fault_t thaw_clone_install_pmd(struct thaw_clone *clone,
					 struct vm_fault *vmf,
					 unsigned long ri)
{
	struct thaw_snap *snap = clone->snap;
	struct page *head = snap->pages[thaw_clone_region_first(clone, ri)];
	unsigned long pfn = page_to_pfn(head);
	vm_fault_t ret;
	pmd_t pmd;

	lockdep_assert_held(&clone->lock);
	ret = vmf_insert_pfn_pmd_prot(vmf, pfn_to_pfn_t(pfn),
				      vmf->vma->vm_page_prot, false);
	if (ret != VM_FAULT_NOPAGE)
		return ret;
	/* insert_pfn_pmd() leaves an entry that is not none alone: look. */
	pmd = READ_ONCE(*vmf->pmd);
	if (!pmd_leaf(pmd) || pmd_pfn(pmd) != pfn ||
	    __test_and_set_bit(ri, clone->pmd_mapped))
		return VM_FAULT_NOPAGE;
	clone->pmd_regions++;
	if (page_folio(head) == snap->zero_folio)
		clone->pmd_zero++;
	clone->pmd_maps++;
	if (clone->premapper == current)
		clone->premapped += THAW_REGION_NR;
	else
		clone->faults++;
	return VM_FAULT_NOPAGE;
}

/*
 * A read fault at clone page @rel: if its region may have a PMD, install
 * one (VM_FAULT_NOPAGE).  Else 0 when 4 KiB pages may be mapped there, or
 * VM_FAULT_NOPAGE to retry the fault when a PMD is, or may yet be, there.
 */
static vm_fault_t thaw_clone_fault_pmd(struct thaw_clone *clone,
				       struct vm_fault *vmf, unsigned long rel)
{
	unsigned long ri = thaw_clone_region(clone, rel);
	enum thaw_pmd_kind kind;
	vm_fault_t ret;
	bool ok;

	if (!thaw_clone_region_huge(clone, ri))
		return 0;
	spin_lock(&clone->lock);
	ok = thaw_clone_pmd_ok(clone, vmf->vma, ri);
	if (ok && thaw_pmd_kind(vmf->pmd) == THAW_PMD_NONE) {
		ret = thaw_clone_install_pmd(clone, vmf, ri);
		spin_unlock(&clone->lock);
		return ret;
	}
	spin_unlock(&clone->lock);
	kind = thaw_pmd_kind(vmf->pmd);
	if (kind == THAW_PMD_TABLE || (kind == THAW_PMD_NONE && !ok))
		return 0;
	return VM_FAULT_NOPAGE;
}

static void thaw_clone_mark_dirty(struct thaw_clone *clone, unsigned long rel)
{
	lockdep_assert_held(&clone->lock);
	if (__test_and_set_bit(rel, clone->dirty))
		return;
	clone->private++;
	if (clone->nr_dirty < clone->dirty_cap)
		clone->dirty_list[clone->nr_dirty++] = rel;
	else
		clone->dirty_overflow = true;
}

/*
 * Mark [@rel, @rel + @n) dirty.  Page by page while the list has room;
 * beyond, in bitmap words, so that MADV_DONTNEED over a huge clone costs
 * O(n / BITS_PER_LONG) under the spinlock, not O(n).
 */
static void thaw_clone_mark_dirty_range(struct thaw_clone *clone,
					unsigned long rel, unsigned long n)
{
	unsigned long end = rel + n, clean, next;

	lockdep_assert_held(&clone->lock);
	if (!clone->dirty_overflow && n <= clone->dirty_cap - clone->nr_dirty) {
		for (; rel < end; rel++)
			thaw_clone_mark_dirty(clone, rel);
		return;
	}
	clone->dirty_overflow = true;
	for (clean = find_next_zero_bit(clone->dirty, end, rel); clean < end;
	     clean = find_next_zero_bit(clone->dirty, end, next)) {
		next = find_next_bit(clone->dirty, end, clean);
		bitmap_set(clone->dirty, clean, next - clean);
		clone->private += next - clean;
	}
}

/*
 * While recording: clone page @rel was touched, and written if @write.  A
 * write is a touch too, so a page mapped before the recording and written
 * during it enters the log.
 */
static void thaw_clone_rec_touch(struct thaw_clone *clone, unsigned long rel,
				 bool write)
{
	struct thaw_rec *rec = clone->rec;

	lockdep_assert_held(&clone->lock);
	if (!rec)
		return;
	if (!__test_and_set_bit(rel, rec->seen))
		rec->log[rec->nr++] = clone->pgoff + rel;
	if (write)
		__set_bit(rel, rec->written);
}

static void thaw_clone_set_mapped(struct thaw_clone *clone, unsigned long rel)
{
	lockdep_assert_held(&clone->lock);
	if (__test_and_set_bit(rel, clone->mapped))
		return;
	clone->shared++;
	if (thaw_clone_is_zero(clone, rel))
		clone->zero++;
}

static void thaw_clone_clear_mapped(struct thaw_clone *clone,
				    unsigned long rel)
{
	lockdep_assert_held(&clone->lock);
	if (!__test_and_clear_bit(rel, clone->mapped))
		return;
	clone->shared--;
	if (thaw_clone_is_zero(clone, rel))
		clone->zero--;
}

/*
 * A read of a page of a 2 MiB folio in 4 KiB: mapped here, not by the core
 * mm, whose finish_fault() would map the whole folio with a PMD that holds
 * a reference and a mapcount nobody would drop.
 */
static vm_fault_t thaw_clone_fault_small(struct thaw_clone *clone,
					 struct vm_fault *vmf,
					 unsigned long rel, struct page *page)
{
	int err;

	err = vm_insert_page(vmf->vma, vmf->address, page);
	if (err == -ENOMEM)
		return VM_FAULT_OOM;
	if (err && err != -EBUSY)
		return VM_FAULT_SIGBUS;
	if (!clone || err)
		return VM_FAULT_NOPAGE;
	spin_lock(&clone->lock);
	clone->faults++;
	thaw_clone_set_mapped(clone, rel);
	thaw_clone_rec_touch(clone, rel, false);
	spin_unlock(&clone->lock);
	return VM_FAULT_NOPAGE;
}

static vm_fault_t thaw_clone_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct thaw_snap *snap = vma->vm_file->private_data;
	struct thaw_clone *clone = vma->vm_private_data;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	unsigned long rel = 0;
	struct page *page;
	vm_fault_t ret;

	if (vmf->pgoff >= snap->nr_pages)
		return VM_FAULT_SIGBUS;
	page = snap->pages[vmf->pgoff];
	if (clone) {
		rel = vmf->pgoff - clone->pgoff;
		if (WARN_ON_ONCE(vmf->pgoff < clone->pgoff ||
				 rel >= clone->nr_pages))
			return VM_FAULT_SIGBUS;
		if (!write) {
			ret = thaw_clone_fault_pmd(clone, vmf, rel);
			if (ret)
				return ret;
		}
	}
	if (folio_ref_count(page_folio(page)) >= thaw_max_page_refs())
		return VM_FAULT_SIGBUS;
	if (!write && PageCompound(page))
		return thaw_clone_fault_small(clone, vmf, rel, page);
	get_page(page);
	vmf->page = page;
	if (!clone)
		return 0;

	spin_lock(&clone->lock);
	clone->faults++;
	if (write) {
		/* do_cow_fault: the page will be private at once. */
		clone->cow_faults++;
		thaw_clone_mark_dirty(clone, rel);
		thaw_clone_set_split(clone, rel);
	} else {
		thaw_clone_set_mapped(clone, rel);
	}
	thaw_clone_rec_touch(clone, rel, write);
	spin_unlock(&clone->lock);
	return 0;
}

#if THAW_HUGE
/*
 * A write to a PMD we installed (wp_huge_pmd()): mark the region split
 * before the core mm splits the PMD, so that no read re-installs it
 * between the split and the copy-on-write; then fall back to 4 KiB.
 */
static vm_fault_t thaw_clone_huge_fault(struct vm_fault *vmf,
					enum page_entry_size pe_size)
{
	struct thaw_clone *clone = vmf->vma->vm_private_data;

	if (clone && pe_size == PE_SIZE_PMD &&
	    (vmf->flags & FAULT_FLAG_WRITE) && vmf->pgoff >= clone->pgoff &&
	    vmf->pgoff - clone->pgoff < clone->nr_pages) {
		spin_lock(&clone->lock);
		thaw_clone_set_split(clone, vmf->pgoff - clone->pgoff);
		spin_unlock(&clone->lock);
	}
	return VM_FAULT_FALLBACK;
}
#endif

/*
 * Fault-around: a read fault maps the neighbouring pages of the object too
 * (up to fault_around_bytes, like the page cache does), so that a guest
 * walking through memory takes one fault per 16 pages instead of one per
 * page.  Not while recording (every first touch must reach the log), not
 * in a detached copy, not after MADV_RANDOM.  Counted as one fault.
 */
static vm_fault_t thaw_clone_map_pages(struct vm_fault *vmf,
				       pgoff_t start_pgoff, pgoff_t end_pgoff)
{
	struct thaw_clone *clone = vmf->vma->vm_private_data;
	unsigned long first, last, rel, mapped = 0;
	bool recording, done;
	vm_fault_t ret;

	if (!clone)
		return 0;
	if (start_pgoff < clone->pgoff || end_pgoff < start_pgoff ||
	    end_pgoff - clone->pgoff >= clone->nr_pages ||
	    vmf->pgoff < start_pgoff || vmf->pgoff > end_pgoff)
		return 0;
	rel = vmf->pgoff - clone->pgoff;
	/*
	 * A PMD is the page size of a huge region, not fault-around: even
	 * after MADV_RANDOM.  The window is one page table, so one region
	 * (or no PMD at all: an unaligned clone).
	 */
	ret = thaw_clone_fault_pmd(clone, vmf, rel);
	if (ret)
		return ret;
	if (vmf->vma->vm_flags & VM_RAND_READ)
		return 0;
	spin_lock(&clone->lock);
	recording = clone->rec;
	spin_unlock(&clone->lock);
	if (recording)
		return 0;

	first = start_pgoff - clone->pgoff;
	last = end_pgoff - clone->pgoff;
	if (thaw_clone_insert_small(clone, vmf->vma, first, last - first + 1,
				    false, &mapped))
		return 0;
	spin_lock(&clone->lock);
	done = test_bit(rel, clone->mapped);
	if (done)
		clone->faults++;
	spin_unlock(&clone->lock);
	/* The faulting page is in: no ->fault(). */
	return done ? VM_FAULT_NOPAGE : 0;
}

/*
 * 4 KiB pages [@rel, @rel + @n) were dropped or replaced.  While
 * recording, an object page that was mapped and goes was most likely
 * copied on write (do_wp_page(), which no fault handler of ours sees):
 * recorded as written.  A MADV_DONTNEED over it looks the same and counts
 * as written too: a superset, as the dirty tracking is.
 */
static void thaw_clone_invalidate_small(struct thaw_clone *clone,
					unsigned long rel, unsigned long n)
{
	unsigned long i;

	lockdep_assert_held(&clone->lock);
	/* Only pages that were mapped: the kernel just visited each. */
	for (i = find_next_bit(clone->mapped, rel + n, rel); i < rel + n;
	     i = find_next_bit(clone->mapped, rel + n, i + 1)) {
		thaw_clone_clear_mapped(clone, i);
		if (!clone->resetting)
			thaw_clone_rec_touch(clone, i, true);
	}
	if (!clone->resetting)
		thaw_clone_mark_dirty_range(clone, rel, n);
}

/*
 * Called for every pte change in the clone's range.  Only
 * MMU_NOTIFY_CLEAR replaces or drops pages while the VMA lives
 * (copy-on-write, MADV_DONTNEED, our own reset); protection changes keep
 * the page, and unmap/release end the VMA.  Never sleeps.
 */
static bool thaw_clone_invalidate(struct mmu_interval_notifier *mni,
				  const struct mmu_notifier_range *range,
				  unsigned long cur_seq)
{
	struct thaw_clone *clone = container_of(mni, struct thaw_clone,
						notifier);
	unsigned long end = clone->start + (clone->nr_pages << PAGE_SHIFT);
	unsigned long first, last, rel, n, i;

	if (range->event != MMU_NOTIFY_CLEAR)
		return true;
	first = max(range->start, clone->start);
	last = min(range->end, end);
	if (first >= last)
		return true;

	rel = (first - clone->start) >> PAGE_SHIFT;
	n = ((last - clone->start + PAGE_SIZE - 1) >> PAGE_SHIFT) - rel;
	spin_lock(&clone->lock);
	if (!clone->pmd_regions) {
		thaw_clone_invalidate_small(clone, rel, n);
		spin_unlock(&clone->lock);
		return true;
	}
	/*
	 * A region one of our PMDs mapped has no 4 KiB page: clearing the
	 * PMD (a split, a zap) dirties nothing.  (A zap of part of it is
	 * followed by a split, whose range, the whole region, is dirtied:
	 * more than needed, never less.)
	 */
	for (i = thaw_clone_region(clone, rel);
	     i <= thaw_clone_region(clone, rel + n - 1); i++) {
		unsigned long r0 = thaw_clone_region_first(clone, i);
		unsigned long s = max(clone->pgoff + rel, r0) - clone->pgoff;
		unsigned long e = min(clone->pgoff + rel + n,
				      r0 + THAW_REGION_NR) - clone->pgoff;

		if (__test_and_clear_bit(i, clone->pmd_mapped)) {
			clone->pmd_regions--;
			if (page_folio(clone->snap->pages[r0]) ==
			    clone->snap->zero_folio)
				clone->pmd_zero--;
			continue;
		}
		thaw_clone_invalidate_small(clone, s, e - s);
	}
	spin_unlock(&clone->lock);
	return true;
}

static const struct mmu_interval_notifier_ops thaw_clone_mn_ops = {
	.invalidate = thaw_clone_invalidate,
};

static void thaw_clone_free(struct thaw_clone *clone)
{
	kvfree(clone->mapped);
	kvfree(clone->dirty);
	kvfree(clone->dirty_list);
	kvfree(clone->split);
	kvfree(clone->pmd_mapped);
	kfree(clone);
}

static int thaw_clone_alloc_regions(struct thaw_clone *clone)
{
	clone->split = kvcalloc(BITS_TO_LONGS(clone->nr_regions), sizeof(long),
				GFP_KERNEL_ACCOUNT);
	clone->pmd_mapped = kvcalloc(BITS_TO_LONGS(clone->nr_regions),
				     sizeof(long), GFP_KERNEL_ACCOUNT);
	if (!clone->split || !clone->pmd_mapped)
		return -ENOMEM;
	return 0;
}

static struct thaw_clone *thaw_clone_alloc(unsigned long nr_pages)
{
	struct thaw_clone *clone;

	clone = kzalloc(sizeof(*clone), GFP_KERNEL_ACCOUNT);
	if (!clone)
		return NULL;
	spin_lock_init(&clone->lock);
	INIT_LIST_HEAD(&clone->node);
	INIT_LIST_HEAD(&clone->snap_node);
	clone->nr_pages = nr_pages;
	clone->dirty_cap = min_t(unsigned long, nr_pages, THAW_DIRTY_LIST_MAX);
	clone->mapped = kvcalloc(BITS_TO_LONGS(nr_pages), sizeof(long),
				 GFP_KERNEL_ACCOUNT);
	clone->dirty = kvcalloc(BITS_TO_LONGS(nr_pages), sizeof(long),
				GFP_KERNEL_ACCOUNT);
	clone->dirty_list = kvmalloc_array(clone->dirty_cap, sizeof(u32),
					   GFP_KERNEL_ACCOUNT);
	if (!clone->mapped || !clone->dirty || !clone->dirty_list) {
		thaw_clone_free(clone);
		return NULL;
	}
	return clone;
}

/* The VMA goes away (munmap, exit, a failed mmap): so does the clone. */
static void thaw_clone_destroy(struct thaw_clone *clone)
{
	struct thaw_snap *snap = clone->snap;
	struct thaw_rec *rec;

	/* After this no invalidate callback runs or is running. */
	mmu_interval_notifier_remove(&clone->notifier);

	mutex_lock(&thaw_objects_lock);
	list_del(&clone->node);
	list_del(&clone->snap_node);
	thaw_nr_clones--;
	snap->nr_clones--;
	spin_lock(&clone->lock);
	snap->retired_faults += clone->faults;
	snap->retired_premapped += clone->premapped;
	rec = clone->rec;
	clone->rec = NULL;
	spin_unlock(&clone->lock);
	mutex_unlock(&thaw_objects_lock);

	/* A recording cut short by munmap or exit is dropped. */
	thaw_rec_free(rec);
	thaw_clone_free(clone);
	thaw_snap_put(snap);
}

/*
 * open() runs on a copy of the VMA: fork of a VMA whose VM_DONTCOPY was
 * cleared with MADV_DOFORK, or mremap's copy before our mremap() refuses.
 * The copy is detached (see the top of this file).
 */
static void thaw_clone_vm_open(struct vm_area_struct *vma)
{
	vma->vm_private_data = NULL;
}

static void thaw_clone_vm_close(struct vm_area_struct *vma)
{
	struct thaw_clone *clone = vma->vm_private_data;

	if (clone)
		thaw_clone_destroy(clone);
}

static int thaw_clone_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static int thaw_clone_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct thaw_clone_vm_ops = {
	.open		= thaw_clone_vm_open,
	.close		= thaw_clone_vm_close,
	.may_split	= thaw_clone_may_split,
	.mremap		= thaw_clone_mremap,
	.fault		= thaw_clone_fault,
#if THAW_HUGE
	.huge_fault	= thaw_clone_huge_fault,
#endif
	.map_pages	= thaw_clone_map_pages,
};

int thaw_clone_mmap(struct thaw_snap *snap, struct vm_area_struct *vma)
{
	unsigned long nr_pages = vma_pages(vma);
	struct thaw_clone *clone;
	int ret;

	/* Writes through a shared mapping would reach every clone. */
	if (vma->vm_flags & VM_MAYSHARE)
		return -EINVAL;
	if (vma->vm_pgoff >= snap->nr_pages ||
	    nr_pages > snap->nr_pages - vma->vm_pgoff)
		return -EINVAL;

	clone = thaw_clone_alloc(nr_pages);
	if (!clone)
		return -ENOMEM;
	clone->start = vma->vm_start;
	clone->pgoff = vma->vm_pgoff;
	clone->pid = task_tgid_nr(current);
	clone->snap = snap;
	clone->region0 = clone->pgoff >> THAW_REGION_ORDER;
	clone->nr_regions = ((clone->pgoff + nr_pages - 1) >>
			     THAW_REGION_ORDER) - clone->region0 + 1;
	/* Address and offset congruent modulo 2 MiB: PMDs line up. */
	clone->huge = THAW_HUGE &&
		      (snap->huge_regions || snap->zero_regions) &&
		      !(((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff) &
			(THAW_REGION_NR - 1));
	if (clone->huge && thaw_clone_alloc_regions(clone)) {
		thaw_clone_free(clone);
		return -ENOMEM;
	}
	/* mmap_lock is held for writing here. */
	ret = mmu_interval_notifier_insert_locked(&clone->notifier, vma->vm_mm,
						  vma->vm_start,
						  nr_pages << PAGE_SHIFT,
						  &thaw_clone_mn_ops);
	if (ret) {
		thaw_clone_free(clone);
		return ret;
	}

	thaw_snap_get(snap);
	mutex_lock(&thaw_objects_lock);
	clone->id = thaw_next_clone_id++;
	list_add_tail(&clone->node, &thaw_clones);
	list_add_tail(&clone->snap_node, &snap->clones);
	thaw_nr_clones++;
	snap->nr_clones++;
	mutex_unlock(&thaw_objects_lock);

	/*
	 * VM_MIXEDMAP: vm_insert_pages() under the read lock (premap).
	 * VM_DONTEXPAND: mremap cannot grow it past the object.
	 * VM_DONTCOPY: a child of fork() does not inherit guest memory.
	 */
	vma->vm_flags |= VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTCOPY;
	vma->vm_ops = &thaw_clone_vm_ops;
	vma->vm_private_data = clone;
	return 0;
}

struct thaw_clone *thaw_clone_lookup(struct thaw_snap *snap,
				     struct mm_struct *mm, u64 addr,
				     struct vm_area_struct **vmap)
{
	struct vm_area_struct *vma;
	struct thaw_clone *clone;

	mmap_assert_locked(mm);
	if (addr != (unsigned long)addr)
		return NULL;
	vma = vma_lookup(mm, addr);
	if (!vma || vma->vm_start != addr || vma->vm_ops != &thaw_clone_vm_ops)
		return NULL;
	clone = vma->vm_private_data;
	if (!clone || clone->snap != snap)
		return NULL;
	if (vmap)
		*vmap = vma;
	return clone;
}

/*
 * How many of the @n pages from @pages can be mapped once more each without
 * passing the reference cap.  A mapping of a page of a folio takes a
 * reference on the folio (tail pages have none of their own), and the zero
 * page may come many times.  @pages are within one region: one folio, or
 * 4 KiB pages and the zero page.
 */
static unsigned long thaw_refs_allow(struct thaw_snap *snap,
				     struct page **pages, unsigned long n)
{
	int max = thaw_max_page_refs(), zero = -1, refs = 0;
	struct folio *cur = NULL;
	unsigned long i;

	for (i = 0; i < n; i++) {
		struct folio *folio = page_folio(pages[i]);

		if (pages[i] == snap->zero_page) {
			if (zero < 0)
				zero = page_ref_count(snap->zero_page);
			if (zero++ >= max)
				break;
			continue;
		}
		if (folio != cur) {
			cur = folio;
			refs = folio_ref_count(folio);
		}
		if (refs++ >= max)
			break;
	}
	return i;
}

/*
 * Map the snapshot's pages [@rel, @rel + @n) of the clone read-only in
 * 4 KiB pages, in batches; pages already mapped (or copied) are left
 * alone.  Adds the number of pages mapped to *@mapped (and, if @premap, to
 * the clone's premapped count).  Needs mmap_lock, and no PMD over the
 * range now or later (see thaw_clone_pmd_ok()).
 */
static int thaw_clone_insert_small(struct thaw_clone *clone,
				   struct vm_area_struct *vma,
				   unsigned long rel, unsigned long n,
				   bool premap, unsigned long *mapped)
{
	struct thaw_snap *snap = clone->snap;
	unsigned long allow;
	int over = 0;

	allow = thaw_refs_allow(snap, &snap->pages[clone->pgoff + rel], n);
	if (allow < n) {
		n = allow;
		over = -EOVERFLOW;
	}
	while (n) {
		unsigned long left = n, done, i;
		int ret;

		ret = vm_insert_pages(vma, clone->start + (rel << PAGE_SHIFT),
				      &snap->pages[clone->pgoff + rel], &left);
		done = n - left;
		spin_lock(&clone->lock);
		for (i = 0; i < done; i++)
			thaw_clone_set_mapped(clone, rel + i);
		if (premap)
			clone->premapped += done;
		spin_unlock(&clone->lock);
		*mapped += done;
		if (!ret)
			break;
		if (ret != -EBUSY || !left)
			return ret;
		/* The page at rel + done is present: skip it. */
		rel += done + 1;
		n = left - 1;
	}
	return over;
}

/*
 * Fault clone address @addr in as a read, as the process itself would:
 * the fault handler installs the region's PMD, counted as premapped.
 */
static int thaw_clone_fault_in(struct thaw_clone *clone,
			       struct vm_area_struct *vma, unsigned long addr)
{
	vm_fault_t ret;

	spin_lock(&clone->lock);
	clone->premapper = current;
	spin_unlock(&clone->lock);
	ret = handle_mm_fault(vma, addr, 0, NULL);
	spin_lock(&clone->lock);
	if (clone->premapper == current)
		clone->premapper = NULL;
	spin_unlock(&clone->lock);
	if (ret & VM_FAULT_OOM)
		return -ENOMEM;
	if (ret & VM_FAULT_ERROR)
		return -EFAULT;
	return 0;
}

/* thaw_clone_map_range() within one region: a PMD where it may be. */
static int thaw_clone_map_chunk(struct thaw_clone *clone,
				struct vm_area_struct *vma, unsigned long rel,
				unsigned long n, bool premap,
				unsigned long *mapped)
{
	unsigned long ri = thaw_clone_region(clone, rel);
	unsigned long addr = clone->start + (rel << PAGE_SHIFT);
	enum thaw_pmd_kind kind;
	bool ok, on;
	int ret;

	if (!thaw_clone_region_huge(clone, ri))
		return thaw_clone_insert_small(clone, vma, rel, n, premap,
					       mapped);
	spin_lock(&clone->lock);
	ok = thaw_clone_pmd_ok(clone, vma, ri);
	on = test_bit(ri, clone->pmd_mapped);
	spin_unlock(&clone->lock);
	if (on)
		return 0;
	kind = thaw_addr_pmd_kind(vma->vm_mm, addr);
	if (ok && kind == THAW_PMD_NONE) {
		ret = thaw_clone_fault_in(clone, vma, addr & PMD_MASK);
		if (ret)
			return ret;
		spin_lock(&clone->lock);
		on = test_bit(ri, clone->pmd_mapped);
		spin_unlock(&clone->lock);
		if (on) {
			*mapped += THAW_REGION_NR;
			return 0;
		}
		kind = thaw_addr_pmd_kind(vma->vm_mm, addr);
	}
	if (kind == THAW_PMD_TABLE || (kind == THAW_PMD_NONE && !ok))
		return thaw_clone_insert_small(clone, vma, rel, n, premap,
					       mapped);
	/* A PMD maps it, or may be about to: nothing to do. */
	return 0;
}

/*
 * Map the snapshot's pages [@rel, @rel + @n) into the clone: whole regions
 * by one PMD each where they may be (thaw_clone_pmd_ok()), the rest in
 * 4 KiB pages (thaw_clone_insert_small()).  Needs mmap_lock.
 */
int thaw_clone_map_range(struct thaw_clone *clone, struct vm_area_struct *vma,
			 unsigned long rel, unsigned long n, bool premap,
			 unsigned long *mapped)
{
	int ret = 0;

	while (n && !ret) {
		unsigned long in = THAW_REGION_NR -
				   ((clone->pgoff + rel) & (THAW_REGION_NR - 1));
		unsigned long k = min(n, in);

		ret = thaw_clone_map_chunk(clone, vma, rel, k, premap, mapped);
		rel += k;
		n -= k;
	}
	return ret;
}

static int thaw_u32_cmp(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* Zap [@rel, @rel + @n) and, with @remap, map the snapshot's pages again. */
static int thaw_clone_reset_run(struct thaw_clone *clone,
				struct vm_area_struct *vma, unsigned long rel,
				unsigned long n, bool remap,
				unsigned long *mapped)
{
	zap_page_range(vma, clone->start + (rel << PAGE_SHIFT),
		       n << PAGE_SHIFT);
	if (!remap)
		return 0;
	return thaw_clone_map_range(clone, vma, rel, n, true, mapped);
}

/*
 * Return every dirtied page to the snapshot's content.  The caller holds
 * mmap_lock for writing, so no fault runs; @resetting keeps the notifier
 * (which our own zaps fire) away from the dirty state, which this function
 * then owns without the spinlock.
 */
static int thaw_clone_do_reset(struct thaw_clone *clone,
			       struct vm_area_struct *vma, bool remap,
			       unsigned long *count, unsigned long *mapped)
{
	unsigned long i, rel, n, nr;
	bool overflow;
	int ret = 0;

	spin_lock(&clone->lock);
	clone->resetting = true;
	nr = clone->nr_dirty;
	overflow = clone->dirty_overflow;
	/*
	 * No fault runs (mmap lock held for writing): a split region may
	 * have a PMD again.  One that has a page table keeps it, and so
	 * stays 4 KiB (thaw_pmd_kind()).
	 */
	if (clone->split)
		bitmap_zero(clone->split, clone->nr_regions);
	spin_unlock(&clone->lock);

	*count = 0;
	if (!overflow) {
		sort(clone->dirty_list, nr, sizeof(u32), thaw_u32_cmp, NULL);
		for (i = 0; i < nr && !ret; i += n) {
			rel = clone->dirty_list[i];
			for (n = 1; i + n < nr &&
			     clone->dirty_list[i + n] == rel + n; n++)
				;
			ret = thaw_clone_reset_run(clone, vma, rel, n, remap,
						   mapped);
			*count += n;
			cond_resched();
		}
	} else {
		rel = find_first_bit(clone->dirty, clone->nr_pages);
		while (rel < clone->nr_pages && !ret) {
			unsigned long next_clean;

			next_clean = find_next_zero_bit(clone->dirty,
							clone->nr_pages, rel);
			n = next_clean - rel;
			ret = thaw_clone_reset_run(clone, vma, rel, n, remap,
						   mapped);
			*count += n;
			rel = find_next_bit(clone->dirty, clone->nr_pages,
					    next_clean);
			cond_resched();
		}
	}

	spin_lock(&clone->lock);
	if (ret) {
		/* Pages not reached stay dirty; the rest is clean anyway. */
		clone->resetting = false;
		spin_unlock(&clone->lock);
		return ret;
	}
	if (overflow) {
		bitmap_zero(clone->dirty, clone->nr_pages);
	} else {
		for (i = 0; i < nr; i++)
			__clear_bit(clone->dirty_list[i], clone->dirty);
	}
	clone->nr_dirty = 0;
	clone->dirty_overflow = false;
	clone->private = 0;
	clone->resetting = false;
	clone->resets++;
	clone->reset_pages = *count;
	spin_unlock(&clone->lock);
	return 0;
}

long thaw_clone_reset(struct thaw_snap *snap, unsigned int cmd,
		      unsigned long arg)
{
	struct mm_struct *mm = current->mm;
	unsigned long count = 0, mapped = 0;
	struct vm_area_struct *vma;
	struct thaw_clone_op op;
	struct thaw_clone *clone;
	int ret;

	ret = thaw_copy_arg(&op, sizeof(op), THAW_CLONE_OP_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if ((op.flags & ~THAW_CLONE_RESET_REMAP) || op.pad ||
	    !thaw_all_zero(op.reserved, ARRAY_SIZE(op.reserved)))
		return -EINVAL;
	if (!mm)
		return -EINVAL;
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	clone = thaw_clone_lookup(snap, mm, op.addr, &vma);
	if (clone)
		ret = thaw_clone_do_reset(clone, vma,
					  op.flags & THAW_CLONE_RESET_REMAP,
					  &count, &mapped);
	else
		ret = -EINVAL;
	mmap_write_unlock(mm);
	if (ret)
		return ret;
	op.count = count;
	return thaw_put_arg(arg, cmd, &op, sizeof(op));
}

void thaw_clone_fill_stats(struct thaw_clone *clone,
			   struct thaw_clone_stats *st)
{
	st->id = clone->id;
	st->pages = clone->nr_pages;
	spin_lock(&clone->lock);
	st->shared_pages = clone->shared + clone->pmd_regions * THAW_REGION_NR;
	st->zero_pages = clone->zero + clone->pmd_zero * THAW_REGION_NR;
	st->private_pages = clone->private;
	st->faults = clone->faults;
	st->cow_faults = clone->cow_faults;
	st->premapped = clone->premapped;
	st->recorded = clone->rec ? clone->rec->nr : 0;
	st->resets = clone->resets;
	st->reset_pages = clone->reset_pages;
	st->state = clone->rec ? THAW_CLONE_STATE_RECORDING : 0;
	st->pmd_maps = clone->pmd_maps;
	st->pmd_regions = clone->pmd_regions;
	st->splits = clone->splits;
	spin_unlock(&clone->lock);
	st->pad2 = 0;
}

long thaw_clone_stats(struct thaw_snap *snap, unsigned int cmd,
		      unsigned long arg)
{
	struct mm_struct *mm = current->mm;
	struct thaw_clone_stats st;
	struct thaw_clone *clone;
	int ret;

	ret = thaw_copy_arg(&st, sizeof(st), THAW_CLONE_STATS_SIZE_VER0, cmd,
			    arg);
	if (ret)
		return ret;
	if (st.flags || st.pad ||
	    !thaw_all_zero(st.reserved, ARRAY_SIZE(st.reserved)))
		return -EINVAL;
	if (!mm)
		return -EINVAL;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	clone = thaw_clone_lookup(snap, mm, st.addr, NULL);
	if (clone)
		thaw_clone_fill_stats(clone, &st);
	mmap_read_unlock(mm);
	if (!clone)
		return -EINVAL;
	return thaw_put_arg(arg, cmd, &st, sizeof(st));
}
