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
 * Private 2 MiB copies (THAW_HUGE): a region chosen for one (from the
 * object's working set, within the clone's budget: thaw_clone_choose())
 * gets, on its first write, a 2 MiB page of its own holding the object's
 * region, mapped by a writable PMD; so a guest that writes in it keeps its
 * 2 MiB mapping in KVM.  A write to the object's read-only PMD makes the
 * copy in ->huge_fault and falls back, so that the core clears the PMD
 * (the split of a special PMD only clears it) and do_cow_fault() calls
 * ->fault, which maps the copy; a write with no PMD makes it in ->fault.
 * The copy lives in @priv until the mapping goes or a reset drops it:
 * whenever its PMD is found empty (MADV_DONTNEED, a partial zap) any fault
 * maps it again, and a private region never gets a 4 KiB page, whatever
 * the recording, MADV_NOHUGEPAGE or the THP prctl say.  A reset copies the
 * object's region back into it in place, keeping the PMD (and KVM's 2 MiB
 * entry).  No copy is made while recording (the recording must see every
 * written page), for a region that already has a page table, or in a VMA
 * without VM_WRITE; nor past the budget or when no 2 MiB page can be had:
 * the region splits to 4 KiB as above, and the clone counts why.
 *
 * A lazy object (fill.c) fills a region before anything of it is mapped:
 * ->fault fills the faulting page's region (->map_pages leaves a region
 * that is not filled to ->fault, and keeps fault-around out of one), a
 * premap or a reset's remap fills each region it maps.  Whether a region
 * is huge is known once it is filled; until then thaw_snap_region_huge()
 * says no, and nothing maps it.
 *
 * Zero pages: a 4 KiB read of a page the object stores as its zero page
 * (or as a page of its zeroed 2 MiB folio) maps the kernel's zero page with
 * a special pte (vmf_insert_mixed(), as do_anonymous_page() maps it), which
 * takes no reference and no mapcount: no number of clones, forks or GUPs
 * of them can move the count of a page of the object that way, and a huge
 * sparse object costs page tables only.  A write to it copies on write as
 * from the object's own zero page.  max_page_maps caps the mappings of the
 * other pages, each of which a clone maps at most once.
 *
 * The VMA is never split or moved (may_split and mremap refuse), so one VMA
 * is one clone for its whole life.  A copy of the VMA (fork after
 * MADV_DOFORK) is a detached mapping: it serves the same pages and
 * copy-on-write, but has no clone state and no ioctl reaches it.  The fork
 * copies no PMD of a file mapping, so a detached copy would read the
 * object where its parent had private copies: if the parent held any, the
 * copy gets SIGBUS in every 2 MiB region of the object instead.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pfn_t.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/wait_bit.h>

#include "thaw.h"

/* Longest dirty list per clone; beyond it a reset walks the bitmap. */
#define THAW_DIRTY_LIST_MAX	65536

/* Bits of a clone's bitmap cleared between two scheduling points. */
#define THAW_CLEAR_BITS		(1UL << 20)

static u64 thaw_next_clone_id = 1;	/* thaw_objects_lock */

/* vm_private_data of a detached copy of a clone that had private copies. */
static int thaw_detached_private;

/* The clone of @vma; NULL for a detached copy. */
static struct thaw_clone *thaw_vma_clone(struct vm_area_struct *vma)
{
	if (vma->vm_private_data == &thaw_detached_private)
		return NULL;
	return vma->vm_private_data;
}

static const struct vm_operations_struct thaw_clone_vm_ops;
static int thaw_clone_insert_small(struct thaw_clone *clone,
				   struct vm_area_struct *vma,
				   unsigned long rel, unsigned long n,
				   bool premap, unsigned long *mapped);
static int thaw_clone_choose_now(struct thaw_clone *clone);

/* Is @page (of a filled region) one of the object's zero pages? */
static bool thaw_snap_page_zero(struct thaw_snap *snap, struct page *page)
{
	struct folio *zf = thaw_snap_zero_folio(snap);

	return page == snap->zero_page || (zf && page_folio(page) == zf);
}

static bool thaw_clone_is_zero(struct thaw_clone *clone, unsigned long rel)
{
	struct thaw_snap *snap = clone->snap;

	return thaw_snap_page_zero(snap, snap->pages[clone->pgoff + rel]);
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

/*
 * Let go of a private copy; one that someone still holds (GUP through
 * the PMD) stays charged to the mapper until they let go (snapshot.c).
 */
static void thaw_private_free(struct thaw_clone *clone, struct folio *folio)
{
	if (thaw_linger_folio(&clone->mapper, folio))
		return;
	folio_put(folio);
	thaw_owner_uncharge(&clone->mapper, THAW_REGION_NR);
	thaw_unpin(THAW_REGION_NR);
}

/* The private 2 MiB copy of clone region @ri, or NULL. */
static struct folio *thaw_clone_priv(struct thaw_clone *clone,
				     unsigned long ri)
{
	lockdep_assert_held(&clone->lock);
	return clone->priv ? clone->priv[ri] : NULL;
}

/* A write into clone page @rel: its region is 4 KiB until the next reset. */
static void thaw_clone_set_split(struct thaw_clone *clone, unsigned long rel)
{
	unsigned long ri = thaw_clone_region(clone, rel);

	lockdep_assert_held(&clone->lock);
	if (thaw_clone_region_huge(clone, ri) && !thaw_clone_priv(clone, ri) &&
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

/* A PMD mapped in the clone: by its premap, or by a fault.  Under @lock. */
static void thaw_clone_count_pmd(struct thaw_clone *clone)
{
	clone->pmd_maps++;
	if (clone->premapper == current)
		clone->premapped += THAW_REGION_NR;
	else
		clone->faults++;
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
	if (page_folio(head) == thaw_snap_zero_folio(snap))
		clone->pmd_zero++;
	thaw_clone_count_pmd(clone);
	return VM_FAULT_NOPAGE;
}

/*
 * Map clone region @ri's private copy, writable where the VMA is, if
 * nothing maps the region; under @lock, as thaw_clone_install_pmd().  A
 * private region never has a page table (no 4 KiB page is ever mapped in
 * it), so a PMD that is not empty is the copy's or the object's on its
 * way out (->huge_fault): retry.
 */
static vm_fault_t thaw_clone_map_priv(struct thaw_clone *clone,
				      struct vm_fault *vmf, unsigned long ri)
{
	unsigned long pfn = folio_pfn(thaw_clone_priv(clone, ri));
	enum thaw_pmd_kind kind = thaw_pmd_kind(vmf->pmd);
	vm_fault_t ret;
	pmd_t pmd;

	lockdep_assert_held(&clone->lock);
	if (WARN_ON_ONCE(kind == THAW_PMD_TABLE))
		return VM_FAULT_SIGBUS;
	if (kind == THAW_PMD_LEAF)
		return VM_FAULT_NOPAGE;
	ret = vmf_insert_pfn_pmd_prot(vmf, pfn_to_pfn_t(pfn),
				      vmf->vma->vm_page_prot, true);
	if (ret != VM_FAULT_NOPAGE)
		return ret;
	pmd = READ_ONCE(*vmf->pmd);
	if (!pmd_leaf(pmd) || pmd_pfn(pmd) != pfn)
		return VM_FAULT_NOPAGE;
	thaw_clone_count_pmd(clone);
	return VM_FAULT_NOPAGE;
}

static void thaw_clone_refresh(struct thaw_clone *clone, unsigned long ri);

/*
 * A read fault at clone page @rel: if its region may have a PMD, install
 * one (VM_FAULT_NOPAGE): its private copy's, or the object's.  Else 0 when
 * 4 KiB pages may be mapped there, or VM_FAULT_NOPAGE to retry the fault
 * when a PMD is, or may yet be, there.
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
	/* Set only with the mmap lock held for writing: stable here. */
	if (test_bit(ri, clone->stale))
		thaw_clone_refresh(clone, ri);
	spin_lock(&clone->lock);
	if (thaw_clone_priv(clone, ri)) {
		ret = thaw_clone_map_priv(clone, vmf, ri);
		spin_unlock(&clone->lock);
		return ret;
	}
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

/* Clone page @rel maps the object's page: false if it already did. */
static bool thaw_clone_set_mapped(struct thaw_clone *clone, unsigned long rel)
{
	lockdep_assert_held(&clone->lock);
	if (__test_and_set_bit(rel, clone->mapped))
		return false;
	clone->shared++;
	if (thaw_clone_is_zero(clone, rel))
		clone->zero++;
	return true;
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

/* Map the kernel's zero page at @addr; a present pte is left alone. */
static vm_fault_t thaw_insert_zero(struct vm_area_struct *vma,
				   unsigned long addr)
{
	return vmf_insert_mixed(vma, addr, pfn_to_pfn_t(my_zero_pfn(addr)));
}

/*
 * A read of a zero page of the object (of a clone, or of a detached copy
 * when @clone is NULL): the kernel's zero page, no reference taken.  Noted
 * before the pte goes in, as the core mm's own faults are, so that a
 * copy-on-write of it that another thread makes at once reaches the
 * notifier after the note.
 */
static vm_fault_t thaw_clone_fault_zero(struct thaw_clone *clone,
					struct vm_fault *vmf,
					unsigned long rel)
{
	bool was;
	vm_fault_t ret;

	if (!clone)
		return thaw_insert_zero(vmf->vma, vmf->address);
	spin_lock(&clone->lock);
	clone->faults++;
	was = test_bit(rel, clone->mapped);
	thaw_clone_set_mapped(clone, rel);
	thaw_clone_rec_touch(clone, rel, false);
	spin_unlock(&clone->lock);
	ret = thaw_insert_zero(vmf->vma, vmf->address);
	if ((ret & VM_FAULT_ERROR) && !was) {
		spin_lock(&clone->lock);
		thaw_clone_clear_mapped(clone, rel);
		spin_unlock(&clone->lock);
	}
	return ret;
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

/*
 * Write the object's region @ri back into @folio, a private copy of it
 * (a reset, a stale copy's refresh): page by page, only the pages that
 * differ.  Comparing reads what copying would read and writes nothing
 * where the guest wrote nothing, so a page the guest only read (its code
 * among them) keeps its cache lines, and under emulation (TCG) the code
 * translated from it.
 */
static void thaw_private_fill(struct thaw_clone *clone, struct folio *folio,
			      unsigned long ri)
{
	struct thaw_snap *snap = clone->snap;
	unsigned long first = thaw_clone_region_first(clone, ri), k;
	bool zero = page_folio(snap->pages[first]) ==
		    thaw_snap_zero_folio(snap);

	for (k = 0; k < THAW_REGION_NR; k++) {
		struct page *dst = folio_page(folio, k);
		void *d = kmap_local_page(dst);
		bool same;

		if (zero) {
			same = !memchr_inv(d, 0, PAGE_SIZE);
		} else {
			void *s = kmap_local_page(snap->pages[first + k]);

			same = !memcmp(d, s, PAGE_SIZE);
			kunmap_local(s);
		}
		kunmap_local(d);
		if (same)
			continue;
		if (zero)
			clear_highpage(dst);
		else
			copy_highpage(dst, snap->pages[first + k]);
	}
}

#if THAW_HUGE
/* Clear the dirty bits of clone region @ri: it has a private copy now. */
static void thaw_clone_clean_region(struct thaw_clone *clone,
				    unsigned long ri)
{
	unsigned long rel = thaw_clone_region_first(clone, ri) - clone->pgoff;
	unsigned long end = rel + THAW_REGION_NR, i;

	lockdep_assert_held(&clone->lock);
	for (i = find_next_bit(clone->dirty, end, rel); i < end;
	     i = find_next_bit(clone->dirty, end, i + 1)) {
		__clear_bit(i, clone->dirty);
		clone->private--;
	}
}

enum thaw_priv_ok {
	THAW_PRIV_NO,		/* split to 4 KiB as usual */
	THAW_PRIV_HAVE,		/* the region has its private copy */
	THAW_PRIV_YES,		/* make one */
	THAW_PRIV_OVER_BUDGET,	/* it would get one, but for the budget */
};

/*
 * May a write give clone region @ri, whose PMD entry holds @kind, a
 * private copy?  Only where a PMD may be (and not over a page table), in a
 * writable VMA, in a chosen region, within the budget.  (A page table
 * appears only over a region that is split, or where one was: checking
 * @kind once is enough.)
 */
static enum thaw_priv_ok thaw_clone_priv_ok(struct thaw_clone *clone,
					    struct vm_area_struct *vma,
					    unsigned long ri,
					    enum thaw_pmd_kind kind)
{
	lockdep_assert_held(&clone->lock);
	if (thaw_clone_priv(clone, ri))
		return THAW_PRIV_HAVE;
	if (!(vma->vm_flags & VM_WRITE) ||
	    !thaw_clone_pmd_ok(clone, vma, ri) || kind == THAW_PMD_TABLE)
		return THAW_PRIV_NO;
	if (!test_bit(ri, clone->chosen))
		return test_bit(ri, clone->wanted) ? THAW_PRIV_OVER_BUDGET :
						      THAW_PRIV_NO;
	if (clone->nr_private >= clone->private_budget)
		return THAW_PRIV_OVER_BUDGET;
	return THAW_PRIV_YES;
}

/*
 * A copy of the object's region for clone region @ri: a 2 MiB page
 * charged to the memory cgroup of @mm (the clone's process, whoever
 * faults), to the mapping task's RLIMIT_MEMLOCK and per-user cap, and
 * counted against max_pinned_mb.  NULL when none can be had: the fault
 * then copies in 4 KiB.
 */
static struct folio *thaw_private_alloc(struct thaw_clone *clone,
					struct mm_struct *mm, unsigned long ri)
{
	struct thaw_snap *snap = clone->snap;
	unsigned long first = thaw_clone_region_first(clone, ri), k;
	struct mem_cgroup *memcg, *old;
	struct folio *folio;
	bool zero;

	if (thaw_pin(THAW_REGION_NR))
		return NULL;
	if (thaw_owner_charge(&clone->mapper, THAW_REGION_NR)) {
		thaw_unpin(THAW_REGION_NR);
		return NULL;
	}
	zero = page_folio(snap->pages[first]) == thaw_snap_zero_folio(snap);
	memcg = get_mem_cgroup_from_mm(mm);
	old = set_active_memcg(memcg);
	folio = thaw_alloc_huge(THAW_GFP_HUGE | (zero ? __GFP_ZERO : 0));
	set_active_memcg(old);
	mem_cgroup_put(memcg);
	if (!folio) {
		thaw_owner_uncharge(&clone->mapper, THAW_REGION_NR);
		thaw_unpin(THAW_REGION_NR);
		return NULL;
	}
	for (k = 0; k < THAW_REGION_NR && !zero; k++)
		copy_highpage(folio_page(folio, k), snap->pages[first + k]);
	return folio;
}

/*
 * Clone region @ri's private copy is stale (a THAW_CLONE_RESET_PRIVATE_LATER
 * reset zapped it without rewriting it): write the object's region into
 * it before anything maps it, once, however many tasks fault there (the
 * others wait on its bit in @copying).  Needs mmap_lock, which keeps the
 * copy in place (taking it away needs the lock for writing).
 */
static void thaw_clone_refresh(struct thaw_clone *clone, unsigned long ri)
{
	unsigned long *word = &clone->copying[BIT_WORD(ri)];

	for (;;) {
		spin_lock(&clone->lock);
		if (!test_bit(ri, clone->stale)) {
			spin_unlock(&clone->lock);
			return;
		}
		if (!test_bit(ri, clone->copying))
			break;
		spin_unlock(&clone->lock);
		wait_on_bit(word, ri % BITS_PER_LONG, TASK_UNINTERRUPTIBLE);
	}
	set_bit(ri, clone->copying);
	spin_unlock(&clone->lock);
	thaw_private_fill(clone, clone->priv[ri], ri);
	spin_lock(&clone->lock);
	__clear_bit(ri, clone->stale);
	clone->private_refreshed++;
	clear_bit_unlock(ri, clone->copying);
	/* The clear before wake_up_bit()'s look at the wait queue. */
	smp_mb__after_atomic();
	spin_unlock(&clone->lock);
	wake_up_bit(word, ri % BITS_PER_LONG);
}

/*
 * A write into clone region @ri (PMD entry @kind): give the region its
 * private copy if it may have one.  The copy is made outside @lock and
 * published under it if the answer still holds; meanwhile the region's bit
 * in @copying is set, and a task that wants the same copy (a fault beside
 * THAW_CLONE_PREMAP_COPY_ONLY) waits for it rather than making a second.
 * True when the region has a copy (made here or by a racing task); false:
 * 4 KiB, and the clone counted why.
 */
static bool thaw_clone_make_private(struct thaw_clone *clone,
				    struct vm_area_struct *vma,
				    unsigned long ri, enum thaw_pmd_kind kind)
{
	unsigned long *word = &clone->copying[BIT_WORD(ri)];
	enum thaw_priv_ok ok;
	struct folio *folio;
	bool have;

	for (;;) {
		spin_lock(&clone->lock);
		ok = thaw_clone_priv_ok(clone, vma, ri, kind);
		if (ok != THAW_PRIV_YES || !test_bit(ri, clone->copying))
			break;
		spin_unlock(&clone->lock);
		/* One region's copy: milliseconds. */
		wait_on_bit(word, ri % BITS_PER_LONG, TASK_UNINTERRUPTIBLE);
	}
	if (ok == THAW_PRIV_OVER_BUDGET)
		clone->private_over_budget++;
	if (ok == THAW_PRIV_YES)
		set_bit(ri, clone->copying);
	spin_unlock(&clone->lock);
	if (ok != THAW_PRIV_YES)
		return ok == THAW_PRIV_HAVE;

	folio = thaw_private_alloc(clone, vma->vm_mm, ri);
	spin_lock(&clone->lock);
	ok = thaw_clone_priv_ok(clone, vma, ri, kind);
	if (ok == THAW_PRIV_YES && !folio) {
		clone->private_alloc_failed++;
	} else if (ok == THAW_PRIV_YES) {
		clone->priv[ri] = folio;
		__set_bit(ri, clone->priv_map);
		clone->nr_private++;
		clone->private_made++;
		thaw_clone_clean_region(clone, ri);
		folio = NULL;
	}
	have = thaw_clone_priv(clone, ri);
	clear_bit_unlock(ri, clone->copying);
	/* The clear before wake_up_bit()'s look at the wait queue. */
	smp_mb__after_atomic();
	spin_unlock(&clone->lock);
	wake_up_bit(word, ri % BITS_PER_LONG);
	if (folio)
		thaw_private_free(clone, folio);
	return have;
}

/*
 * A write fault at clone page @rel with no PMD over it: VM_FAULT_NOPAGE
 * when the region's private copy is mapped (made now if it may be), else
 * 0 for copy-on-write in 4 KiB.
 */
static vm_fault_t thaw_clone_fault_write_pmd(struct thaw_clone *clone,
					     struct vm_fault *vmf,
					     unsigned long rel)
{
	unsigned long ri = thaw_clone_region(clone, rel);
	vm_fault_t ret;

	if (!thaw_clone_region_huge(clone, ri) ||
	    !thaw_clone_make_private(clone, vmf->vma, ri,
				     thaw_pmd_kind(vmf->pmd)))
		return 0;
	thaw_clone_refresh(clone, ri);
	spin_lock(&clone->lock);
	ret = thaw_clone_map_priv(clone, vmf, ri);
	spin_unlock(&clone->lock);
	return ret;
}
#else
static void thaw_clone_refresh(struct thaw_clone *clone, unsigned long ri)
{
}

static vm_fault_t thaw_clone_fault_write_pmd(struct thaw_clone *clone,
					     struct vm_fault *vmf,
					     unsigned long rel)
{
	return 0;
}
#endif

/*
 * A detached copy of a clone that held private copies: the object is not
 * what its parent had in a 2 MiB region (see the top of this file).
 */
static bool thaw_detached_lost(struct vm_area_struct *vma, pgoff_t pgoff)
{
	struct thaw_snap *snap = vma->vm_file->private_data;

	return vma->vm_private_data == &thaw_detached_private &&
	       thaw_snap_region_huge(snap, pgoff >> THAW_REGION_ORDER);
}

/*
 * A fault at object page @pgoff: fill its region first if it is not (a
 * lazy object).  0 when it is filled; else what the fault returns: after a
 * fatal signal while waiting for another fill, VM_FAULT_NOPAGE (the fault
 * is retried, or the task dies first); after a failed fill, SIGBUS (and
 * the region is tried again on the next fault).
 */
static vm_fault_t thaw_fault_fill(struct thaw_snap *snap, pgoff_t pgoff)
{
	int ret;

	ret = thaw_snap_fill_region(snap, pgoff >> THAW_REGION_ORDER,
				    THAW_FILL_FAULT);
	if (!ret)
		return 0;
	return ret == -EINTR ? VM_FAULT_NOPAGE : VM_FAULT_SIGBUS;
}

static vm_fault_t thaw_clone_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct thaw_snap *snap = vma->vm_file->private_data;
	struct thaw_clone *clone = thaw_vma_clone(vma);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	unsigned long rel = 0;
	struct page *page;
	vm_fault_t ret;

	if (vmf->pgoff >= snap->nr_pages)
		return VM_FAULT_SIGBUS;
	ret = thaw_fault_fill(snap, vmf->pgoff);
	if (ret)
		return ret;
	if (thaw_detached_lost(vma, vmf->pgoff))
		return VM_FAULT_SIGBUS;
	page = snap->pages[vmf->pgoff];
	if (clone) {
		rel = vmf->pgoff - clone->pgoff;
		if (WARN_ON_ONCE(vmf->pgoff < clone->pgoff ||
				 rel >= clone->nr_pages))
			return VM_FAULT_SIGBUS;
		if (write)
			ret = thaw_clone_fault_write_pmd(clone, vmf, rel);
		else
			ret = thaw_clone_fault_pmd(clone, vmf, rel);
		if (ret)
			return ret;
	}
	if (!write && thaw_snap_page_zero(snap, page))
		return thaw_clone_fault_zero(clone, vmf, rel);
	if (folio_ref_count(page_folio(page)) >= thaw_max_page_refs())
		return VM_FAULT_SIGBUS;
	if (!write && PageCompound(page))
		return thaw_clone_fault_small(clone, vmf, rel, page);
	if (!clone) {
		get_page(page);
		vmf->page = page;
		return 0;
	}

	spin_lock(&clone->lock);
	/*
	 * A copy-on-write in 4 KiB: not in a region that got its private
	 * copy since thaw_clone_fault_write_pmd() looked (@split, set here,
	 * keeps it from getting one later): retry, to map the copy.
	 */
	if (write && thaw_clone_priv(clone, thaw_clone_region(clone, rel))) {
		spin_unlock(&clone->lock);
		return VM_FAULT_NOPAGE;
	}
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
	get_page(page);
	vmf->page = page;
	return 0;
}

#if THAW_HUGE
/*
 * A write to a read-only PMD we installed (wp_huge_pmd()).  The private
 * copy's, write-protected (mprotect): make it writable again.  The
 * object's, in a region that may have a private copy: make the copy and
 * fall back; the core clears the PMD, and ->fault maps the copy.  Else
 * mark the region split before the core mm splits the PMD, so that no
 * read re-installs it between the split and the copy-on-write; then fall
 * back to 4 KiB.
 */
static vm_fault_t thaw_clone_huge_fault(struct vm_fault *vmf,
					enum page_entry_size pe_size)
{
	struct vm_area_struct *vma = vmf->vma;
	struct thaw_clone *clone = thaw_vma_clone(vma);
	unsigned long rel, ri, pfn;
	vm_fault_t ret;

	if (!clone || pe_size != PE_SIZE_PMD || vmf->pgoff < clone->pgoff ||
	    vmf->pgoff - clone->pgoff >= clone->nr_pages)
		return VM_FAULT_FALLBACK;
	rel = vmf->pgoff - clone->pgoff;
	ri = thaw_clone_region(clone, rel);
	if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		/* An unshare: nothing to do for a copy nobody else maps. */
		spin_lock(&clone->lock);
		ret = thaw_clone_priv(clone, ri) ? VM_FAULT_NOPAGE :
						   VM_FAULT_FALLBACK;
		spin_unlock(&clone->lock);
		return ret;
	}
	if (thaw_clone_region_huge(clone, ri) &&
	    thaw_clone_make_private(clone, vma, ri, THAW_PMD_LEAF)) {
		thaw_clone_refresh(clone, ri);
		spin_lock(&clone->lock);
		pfn = folio_pfn(thaw_clone_priv(clone, ri));
		ret = VM_FAULT_FALLBACK;
		if (pmd_pfn(READ_ONCE(*vmf->pmd)) == pfn) {
			/* FOLL_FORCE in a read-only VMA: no write, no loop. */
			ret = VM_FAULT_SIGBUS;
			if (vma->vm_flags & VM_WRITE)
				ret = vmf_insert_pfn_pmd_prot(vmf,
							      pfn_to_pfn_t(pfn),
							      vma->vm_page_prot,
							      true);
		}
		spin_unlock(&clone->lock);
		return ret;
	}
	spin_lock(&clone->lock);
	thaw_clone_set_split(clone, rel);
	spin_unlock(&clone->lock);
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
	struct thaw_clone *clone = thaw_vma_clone(vmf->vma);
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
	/* A region not filled yet: ->fault fills it. */
	if (!thaw_snap_region_filled(clone->snap,
				     vmf->pgoff >> THAW_REGION_ORDER))
		return 0;
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
	/*
	 * Stable until the fault ends: a recording starts and stops only
	 * with the clone's faults excluded (wset.c), so no page this maps
	 * can miss a recording's log.
	 */
	spin_lock(&clone->lock);
	recording = clone->rec;
	spin_unlock(&clone->lock);
	if (recording)
		return 0;

	/*
	 * An unaligned clone's window may reach into the next or previous
	 * region of the object: not if that one is not filled yet.
	 */
	if (!thaw_snap_region_filled(clone->snap,
				     start_pgoff >> THAW_REGION_ORDER))
		start_pgoff = round_down(vmf->pgoff, THAW_REGION_NR);
	if (!thaw_snap_region_filled(clone->snap,
				     end_pgoff >> THAW_REGION_ORDER))
		end_pgoff = round_up(vmf->pgoff + 1, THAW_REGION_NR) - 1;
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
 * as written too, which at worst ranks its region higher.
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
 * Pages the invalidate callback handles under one hold of the clone's
 * lock: a multiple of a region (so a region is never cut in two), 128 MiB
 * of the clone.  A MADV_DONTNEED over a huge clone (2^28 pages for 1 TiB)
 * visits every mapped page: batch by batch, with a scheduling point
 * between two where the caller may sleep.
 */
#define THAW_INVALIDATE_BATCH	(64 * THAW_REGION_NR)

/* Clone pages [@rel, @rel + @n) were cleared; one batch, under @lock. */
static void thaw_clone_invalidate_batch(struct thaw_clone *clone,
					unsigned long rel, unsigned long n)
{
	unsigned long i;

	lockdep_assert_held(&clone->lock);
	if (!clone->pmd_regions && !clone->nr_private) {
		thaw_clone_invalidate_small(clone, rel, n);
		return;
	}
	/*
	 * A region one of our PMDs mapped has no 4 KiB page: clearing the
	 * PMD (a split, a zap) dirties nothing.  (A zap of part of it is
	 * followed by a split, whose range, the whole region, is dirtied:
	 * more than needed, never less.)  Nor does a region with a private
	 * copy, which never has a 4 KiB page, and keeps its data in @priv
	 * whatever happens to its PMD.
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
			    thaw_snap_zero_folio(clone->snap))
				clone->pmd_zero--;
			continue;
		}
		if (thaw_clone_priv(clone, i))
			continue;
		thaw_clone_invalidate_small(clone, s, e - s);
	}
}

/*
 * Called for every pte change in the clone's range.  Only
 * MMU_NOTIFY_CLEAR replaces or drops pages while the VMA lives
 * (copy-on-write, MADV_DONTNEED, our own reset); protection changes keep
 * the page, and unmap/release end the VMA.  Sleeps only between batches,
 * and only where the range says it may.
 */
static bool thaw_clone_invalidate(struct mmu_interval_notifier *mni,
				  const struct mmu_notifier_range *range,
				  unsigned long cur_seq)
{
	struct thaw_clone *clone = container_of(mni, struct thaw_clone,
						notifier);
	unsigned long end = clone->start + (clone->nr_pages << PAGE_SHIFT);
	bool blockable = mmu_notifier_range_blockable(range);
	unsigned long first, last, rel, n, k;

	if (range->event != MMU_NOTIFY_CLEAR)
		return true;
	first = max(range->start, clone->start);
	last = min(range->end, end);
	if (first >= last)
		return true;

	rel = (first - clone->start) >> PAGE_SHIFT;
	n = ((last - clone->start + PAGE_SIZE - 1) >> PAGE_SHIFT) - rel;
	while (n) {
		/* To the next batch boundary of the object's pages. */
		k = THAW_INVALIDATE_BATCH -
		    ((clone->pgoff + rel) & (THAW_INVALIDATE_BATCH - 1));
		k = min(k, n);
		spin_lock(&clone->lock);
		thaw_clone_invalidate_batch(clone, rel, k);
		spin_unlock(&clone->lock);
		rel += k;
		n -= k;
		if (n && blockable)
			cond_resched();
	}
	return true;
}

static const struct mmu_interval_notifier_ops thaw_clone_mn_ops = {
	.invalidate = thaw_clone_invalidate,
};

/*
 * Free the clone's private copies.  Its VMA is gone (page tables and all),
 * or it never had one; a reference someone took through a PMD (GUP) keeps
 * a copy's page until it is let go.
 */
static void thaw_clone_free_private(struct thaw_clone *clone)
{
	unsigned long ri;

	if (!clone->priv_map)
		return;
	for_each_set_bit(ri, clone->priv_map, clone->nr_regions) {
		thaw_private_free(clone, clone->priv[ri]);
		clone->priv[ri] = NULL;
		cond_resched();
	}
}

static void thaw_clone_free(struct thaw_clone *clone)
{
	thaw_clone_free_private(clone);
	/* Nothing is charged now; a clone that never had one holds NULLs. */
	thaw_owner_release(&clone->mapper);
	kvfree(clone->mapped);
	kvfree(clone->dirty);
	kvfree(clone->dirty_list);
	kvfree(clone->split);
	kvfree(clone->pmd_mapped);
	kvfree(clone->priv);
	kvfree(clone->priv_map);
	kvfree(clone->chosen);
	kvfree(clone->wanted);
	kvfree(clone->copying);
	kvfree(clone->stale);
	kfree(clone);
}

static unsigned long *thaw_region_bitmap(struct thaw_clone *clone)
{
	return kvcalloc(BITS_TO_LONGS(clone->nr_regions), sizeof(long),
			GFP_KERNEL_ACCOUNT);
}

static int thaw_clone_alloc_regions(struct thaw_clone *clone)
{
	clone->split = thaw_region_bitmap(clone);
	clone->pmd_mapped = thaw_region_bitmap(clone);
	clone->priv_map = thaw_region_bitmap(clone);
	clone->chosen = thaw_region_bitmap(clone);
	clone->wanted = thaw_region_bitmap(clone);
	clone->copying = thaw_region_bitmap(clone);
	clone->stale = thaw_region_bitmap(clone);
	clone->priv = kvcalloc(clone->nr_regions, sizeof(*clone->priv),
			       GFP_KERNEL_ACCOUNT);
	if (!clone->split || !clone->pmd_mapped || !clone->priv_map ||
	    !clone->chosen || !clone->wanted || !clone->copying ||
	    !clone->stale || !clone->priv)
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
	struct thaw_clone *clone = thaw_vma_clone(vma);
	bool lost = vma->vm_private_data == &thaw_detached_private;

	if (clone) {
		spin_lock(&clone->lock);
		lost = clone->nr_private;
		spin_unlock(&clone->lock);
	}
	vma->vm_private_data = lost ? &thaw_detached_private : NULL;
}

static void thaw_clone_vm_close(struct vm_area_struct *vma)
{
	struct thaw_clone *clone = thaw_vma_clone(vma);

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

/* Has @snap a 2 MiB region, or may it get one? */
static bool thaw_snap_may_be_huge(struct thaw_snap *snap)
{
	bool huge;

	if (!snap->huge_min)
		return false;
	spin_lock(&snap->fill_lock);
	huge = snap->nr_filled < snap->nr_regions ||
	       snap->count.huge_regions || snap->count.zero_regions;
	spin_unlock(&snap->fill_lock);
	return huge;
}

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
	/*
	 * Address and offset congruent modulo 2 MiB: PMDs line up.  Only an
	 * object that has, or may yet have (lazy, still filling), a 2 MiB
	 * region.
	 */
	clone->huge = THAW_HUGE && thaw_snap_may_be_huge(snap) &&
		      !(((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff) &
			(THAW_REGION_NR - 1));
	if (clone->huge && (thaw_clone_alloc_regions(clone) ||
			    thaw_owner_init(&clone->mapper))) {
		thaw_clone_free(clone);
		return -ENOMEM;
	}
	clone->private_budget = thaw_private_huge_max();
	ret = thaw_clone_choose_now(clone);
	if (ret) {
		thaw_clone_free(clone);
		return ret;
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
	clone = thaw_vma_clone(vma);
	if (!clone || clone->snap != snap)
		return NULL;
	if (vmap)
		*vmap = vma;
	return clone;
}

/*
 * How many of the @n pages from @pages can be mapped once more each without
 * passing the reference cap.  A mapping of a page of a folio takes a
 * reference on the folio (tail pages have none of their own).  @pages are
 * within one region, and none is a zero page (thaw_clone_insert_zero()).
 */
static unsigned long thaw_refs_allow(struct page **pages, unsigned long n)
{
	int max = thaw_max_page_refs(), refs = 0;
	struct folio *cur = NULL;
	unsigned long i;

	for (i = 0; i < n; i++) {
		struct folio *folio = page_folio(pages[i]);

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
 * Pages [@rel, @rel + @n) were just mapped, by a premap if @premap: note
 * them; how many were not mapped before.
 */
static unsigned long thaw_clone_note_mapped(struct thaw_clone *clone,
					    unsigned long rel, unsigned long n,
					    bool premap)
{
	unsigned long i, fresh = 0;

	spin_lock(&clone->lock);
	for (i = 0; i < n; i++)
		fresh += thaw_clone_set_mapped(clone, rel + i);
	if (premap)
		clone->premapped += fresh;
	spin_unlock(&clone->lock);
	return fresh;
}

/*
 * Map clone page @rel, a zero page of the object, as the kernel's zero page
 * (no reference: see the top of this file), unless something is mapped
 * there.  Counted as thaw_clone_insert_small() counts.
 */
static int thaw_clone_insert_zero(struct thaw_clone *clone,
				  struct vm_area_struct *vma,
				  unsigned long rel, bool premap,
				  unsigned long *mapped)
{
	unsigned long addr = clone->start + (rel << PAGE_SHIFT);
	spinlock_t *ptl;
	vm_fault_t ret;
	pte_t *ptep;
	bool zero;

	ret = thaw_insert_zero(vma, addr);
	if (ret & VM_FAULT_OOM)
		return -ENOMEM;
	if (ret & VM_FAULT_ERROR)
		return -EFAULT;
	/*
	 * vmf_insert_mixed() says nothing of a pte that was there: look.  Not
	 * under the pte lock: @lock nests outside it (the PMD installs).
	 */
	if (follow_pte(vma->vm_mm, addr, &ptep, &ptl))
		return 0;
	__acquire(ptl);		/* follow_pte() returns with it held */
	zero = is_zero_pfn(pte_pfn(*ptep));
	pte_unmap_unlock(ptep, ptl);
	if (zero)
		*mapped += thaw_clone_note_mapped(clone, rel, 1, premap);
	return 0;
}

/*
 * Map the pages [@rel, @rel + @n) of the clone, none a zero page, with
 * vm_insert_pages() in batches; pages already present are skipped.
 */
static int thaw_clone_insert_run(struct thaw_clone *clone,
				 struct vm_area_struct *vma,
				 unsigned long rel, unsigned long n,
				 bool premap, unsigned long *mapped)
{
	struct thaw_snap *snap = clone->snap;

	while (n) {
		unsigned long left = n, done;
		int ret;

		ret = vm_insert_pages(vma, clone->start + (rel << PAGE_SHIFT),
				      &snap->pages[clone->pgoff + rel], &left);
		done = n - left;
		*mapped += thaw_clone_note_mapped(clone, rel, done, premap);
		if (!ret)
			break;
		if (ret != -EBUSY || !left)
			return ret;
		/* The page at rel + done is present: skip it. */
		rel += done + 1;
		n = left - 1;
	}
	return 0;
}

/*
 * Map the snapshot's pages [@rel, @rel + @n) of the clone read-only in
 * 4 KiB pages; pages already mapped (or copied) are left alone.  Stops with
 * -EOVERFLOW at the first page past the reference cap.  Adds the number of
 * pages mapped to *@mapped (and, if @premap, to the clone's premapped
 * count).  Needs mmap_lock, and no PMD over the range now or later (see
 * thaw_clone_pmd_ok()).
 */
static int thaw_clone_insert_small(struct thaw_clone *clone,
				   struct vm_area_struct *vma,
				   unsigned long rel, unsigned long n,
				   bool premap, unsigned long *mapped)
{
	struct thaw_snap *snap = clone->snap;
	struct page **pages = &snap->pages[clone->pgoff];
	unsigned long end = rel + n, run, allow;
	int ret;

	while (rel < end) {
		if (thaw_snap_page_zero(snap, pages[rel])) {
			ret = thaw_clone_insert_zero(clone, vma, rel, premap,
						     mapped);
			if (ret)
				return ret;
			rel++;
			continue;
		}
		for (run = 1; rel + run < end; run++)
			if (thaw_snap_page_zero(snap, pages[rel + run]))
				break;
		allow = thaw_refs_allow(&pages[rel], run);
		ret = thaw_clone_insert_run(clone, vma, rel, allow, premap,
					    mapped);
		if (ret)
			return ret;
		if (allow < run)
			return -EOVERFLOW;
		rel += run;
	}
	return 0;
}

/*
 * Fault clone address @addr in as a read, as the process itself would:
 * the fault handler installs the region's PMD (its private copy's, or the
 * object's), counted as premapped.
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
	bool ok, on, priv;
	int ret;

	ret = thaw_snap_fill_region(clone->snap, clone->region0 + ri,
				    THAW_FILL_PREMAP);
	if (ret)
		return ret;
	if (!thaw_clone_region_huge(clone, ri))
		return thaw_clone_insert_small(clone, vma, rel, n, premap,
					       mapped);
	spin_lock(&clone->lock);
	ok = thaw_clone_pmd_ok(clone, vma, ri);
	on = test_bit(ri, clone->pmd_mapped);
	priv = thaw_clone_priv(clone, ri);
	spin_unlock(&clone->lock);
	if (on)
		return 0;
	kind = thaw_addr_pmd_kind(vma->vm_mm, addr);
	if (priv) {
		/* Its private copy, whatever @ok says; never 4 KiB pages. */
		if (kind != THAW_PMD_NONE)
			return 0;
		ret = thaw_clone_fault_in(clone, vma, addr & PMD_MASK);
		if (!ret && thaw_addr_pmd_kind(vma->vm_mm, addr) ==
			    THAW_PMD_LEAF)
			*mapped += THAW_REGION_NR;
		return ret;
	}
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
 * 4 KiB pages (thaw_clone_insert_small()).  Needs mmap_lock; sleeps
 * between regions, and stops with -EINTR there on a fatal signal.
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
		/* A run may span the whole clone: a region at a time. */
		if (n && !ret) {
			cond_resched();
			if (fatal_signal_pending(current))
				ret = -EINTR;
		}
	}
	return ret;
}

/*
 * Choose clone regions for private copies: the first @budget regions of
 * @ws's ranking that the clone may map with a PMD (filled ones: a premap
 * fills the working set's regions first) and whose copy saves at least
 * private_min_faults faults; those after them are "wanted" (a write there
 * is counted over budget).  The bitmaps are built
 * outside @lock, preemptibly, and swapped in.  Copies the clone holds stay
 * whatever the new choice, and count against the budget.
 */
int thaw_clone_choose(struct thaw_clone *clone, struct thaw_wset *ws,
		      u32 budget)
{
	u32 i, n = 0, min_faults = thaw_private_min_faults();
	unsigned long *chosen, *wanted;

	if (!clone->huge) {
		spin_lock(&clone->lock);
		clone->private_budget = budget;
		spin_unlock(&clone->lock);
		return 0;
	}
	chosen = thaw_region_bitmap(clone);
	wanted = thaw_region_bitmap(clone);
	if (!chosen || !wanted) {
		kvfree(chosen);
		kvfree(wanted);
		return -ENOMEM;
	}
	for (i = 0; ws && i < ws->nr_ranked; i++) {
		unsigned long r = ws->ranked[i], ri;

		/* Ranked by the faults saved: the rest save fewer. */
		if (ws->ranked_faults[i] < min_faults)
			break;
		if (!(i & 1023))
			cond_resched();
		if (r < clone->region0 ||
		    r - clone->region0 >= clone->nr_regions)
			continue;
		ri = r - clone->region0;
		if (!thaw_clone_region_huge(clone, ri))
			continue;
		if (n < budget) {
			__set_bit(ri, chosen);
			n++;
		} else {
			__set_bit(ri, wanted);
		}
	}
	spin_lock(&clone->lock);
	swap(clone->chosen, chosen);
	swap(clone->wanted, wanted);
	clone->private_budget = budget;
	clone->nr_chosen = n;
	spin_unlock(&clone->lock);
	kvfree(chosen);
	kvfree(wanted);
	return 0;
}

/* At mmap: the choice from the object's working set, if it has one. */
static int thaw_clone_choose_now(struct thaw_clone *clone)
{
	struct thaw_wset *ws;
	int ret;

	if (!clone->huge)
		return 0;
	ws = thaw_snap_get_wset(clone->snap);
	if (!ws)
		return 0;
	ret = thaw_clone_choose(clone, ws, clone->private_budget);
	thaw_wset_put(ws);
	return ret;
}

#if THAW_HUGE
/*
 * Make clone region @ri's private copy, if it is chosen and has none, or
 * rewrite it if it is stale, and map it, as a write of the guest would but
 * without one: the object's PMD, if any, is zapped and the copy faulted
 * in.  A region that cannot get its copy is left as it is.  Needs
 * mmap_lock.
 */
int thaw_clone_copy_region(struct thaw_clone *clone,
			   struct vm_area_struct *vma, unsigned long ri,
			   unsigned long *mapped)
{
	bool want, shared, have;
	unsigned long addr;
	int ret;

	if (!clone->huge || ri >= clone->nr_regions)
		return 0;
	spin_lock(&clone->lock);
	have = thaw_clone_priv(clone, ri);
	want = have ? test_bit(ri, clone->stale) : test_bit(ri, clone->chosen);
	spin_unlock(&clone->lock);
	if (!want)
		return 0;
	if (fatal_signal_pending(current))
		return -EINTR;
	addr = clone->start + ((thaw_clone_region_first(clone, ri) -
				clone->pgoff) << PAGE_SHIFT);
	if (have)
		thaw_clone_refresh(clone, ri);
	else if (!thaw_clone_make_private(clone, vma, ri,
					  thaw_addr_pmd_kind(vma->vm_mm, addr)))
		return 0;
	spin_lock(&clone->lock);
	shared = test_bit(ri, clone->pmd_mapped);
	spin_unlock(&clone->lock);
	if (shared)
		zap_page_range(vma, addr, PMD_SIZE);
	ret = thaw_clone_fault_in(clone, vma, addr);
	if (!ret && thaw_addr_pmd_kind(vma->vm_mm, addr) == THAW_PMD_LEAF)
		*mapped += THAW_REGION_NR;
	return ret;
}

/* The copies of all the chosen regions (THAW_CLONE_PREMAP_PRIVATE). */
int thaw_clone_copy_chosen(struct thaw_clone *clone,
			   struct vm_area_struct *vma, unsigned long *mapped)
{
	unsigned long ri;
	int ret = 0;

	for (ri = 0; ri < clone->nr_regions && !ret; ri++) {
		ret = thaw_clone_copy_region(clone, vma, ri, mapped);
		cond_resched();
	}
	return ret;
}

/*
 * The chosen regions without a copy, and the stale copies, in the reverse
 * of the order in which @ws first touched them, into a new array *@out of *@nr (kvfree() it):
 * for a thread that makes the copies while the guest runs.  The guest
 * makes the copies it needs first itself, at its first write there; that
 * thread starts from those it will need last, and they meet.  Needs
 * mmap_lock.
 */
int thaw_clone_copy_order(struct thaw_clone *clone, struct thaw_wset *ws,
			  u32 **out, u32 *nr)
{
	unsigned long *want, ri;
	u32 *list, cap, n = 0, i;

	*out = NULL;
	*nr = 0;
	if (!clone->huge)
		return 0;
	want = thaw_region_bitmap(clone);
	spin_lock(&clone->lock);
	cap = clone->nr_chosen;
	if (want) {
		bitmap_andnot(want, clone->chosen, clone->priv_map,
			      clone->nr_regions);
		bitmap_or(want, want, clone->stale, clone->nr_regions);
		cap += bitmap_weight(clone->stale, clone->nr_regions);
	}
	spin_unlock(&clone->lock);
	list = kvmalloc_array(max(cap, 1U), sizeof(u32), GFP_KERNEL_ACCOUNT);
	if (!want || !list) {
		kvfree(want);
		kvfree(list);
		return -ENOMEM;
	}
	for (i = 0; i < ws->nr && n < cap; i++) {
		u32 page = ws->order[i];

		if (!(i & 1023))
			cond_resched();
		if (page < clone->pgoff ||
		    page - clone->pgoff >= clone->nr_pages)
			continue;
		ri = thaw_clone_region(clone, page - clone->pgoff);
		if (__test_and_clear_bit(ri, want))
			list[n++] = ri;
	}
	kvfree(want);
	for (i = 0; i < n / 2; i++)
		swap(list[i], list[n - 1 - i]);
	*out = list;
	*nr = n;
	return 0;
}
#else
int thaw_clone_copy_region(struct thaw_clone *clone,
			   struct vm_area_struct *vma, unsigned long ri,
			   unsigned long *mapped)
{
	return 0;
}

int thaw_clone_copy_chosen(struct thaw_clone *clone,
			   struct vm_area_struct *vma, unsigned long *mapped)
{
	return 0;
}

int thaw_clone_copy_order(struct thaw_clone *clone, struct thaw_wset *ws,
			  u32 **out, u32 *nr)
{
	*out = NULL;
	*nr = 0;
	return 0;
}
#endif

static int thaw_u32_cmp(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Zap [@rel, @rel + @n) and, with @remap, map the snapshot's pages again;
 * add the pages zapped to *@count.  In a huge clone, region by region,
 * leaving alone those with a private copy (which have no 4 KiB page:
 * thaw_clone_reset_private() resets them) and those whose dirty bits were
 * cleared when they got one (still in @dirty_list).  mmap lock held for
 * writing.
 */
static int thaw_clone_reset_run(struct thaw_clone *clone,
				struct vm_area_struct *vma, unsigned long rel,
				unsigned long n, bool remap,
				unsigned long *count, unsigned long *mapped)
{
	unsigned long end = rel + n, k;
	int ret = 0;

	while (rel < end && !ret) {
		k = end - rel;
		if (clone->huge) {
			unsigned long ri = thaw_clone_region(clone, rel);

			k = min(k, THAW_REGION_NR - ((clone->pgoff + rel) &
						     (THAW_REGION_NR - 1)));
			if (test_bit(ri, clone->priv_map) ||
			    !test_bit(rel, clone->dirty)) {
				rel += k;
				continue;
			}
		}
		zap_page_range(vma, clone->start + (rel << PAGE_SHIFT),
			       k << PAGE_SHIFT);
		*count += k;
		if (remap)
			ret = thaw_clone_map_range(clone, vma, rel, k, true,
						   mapped);
		rel += k;
	}
	return ret;
}

/*
 * THAW_CLONE_RESET_KEEP: if clone page @rel is a private copy that only
 * this mapping has, write the object's page into it, in place, and say
 * so; its page table entry (and so KVM's entry) stays.  Not a page in the
 * swap cache (its swapped copy would be taken for current), nor a KSM or
 * compound page.  mmap lock held for writing: no fault races with us.
 */
static bool thaw_clone_rewrite(struct thaw_clone *clone,
			       struct vm_area_struct *vma, unsigned long rel)
{
	unsigned long addr = clone->start + (rel << PAGE_SHIFT);
	unsigned long pg = clone->pgoff + rel;
	struct mm_struct *mm = vma->vm_mm;
	struct page *page;
	spinlock_t *ptl;
	bool ok = false;
	pmd_t *pmd, pmdv;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pte_t *ptep;
	pte_t pte;

	/*
	 * A private copy is made from a filled region, so a lazy object's
	 * region is filled here; were it not, its page would be NULL: leave
	 * the page to the ordinary reset, which fills before it maps.
	 */
	if (!thaw_snap_region_filled(clone->snap, pg >> THAW_REGION_ORDER))
		return false;
	/* No page table, or a leaf above the PTE: nothing to keep. */
	pgd = pgd_offset(mm, addr);
	if (pgd_none(*pgd) || pgd_bad(*pgd))
		return false;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		return false;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud) || pud_bad(*pud))
		return false;
	pmd = pmd_offset(pud, addr);
	pmdv = READ_ONCE(*pmd);
	if (pmd_none(pmdv) || pmd_trans_huge(pmdv) || pmd_devmap(pmdv) ||
	    pmd_bad(pmdv))
		return false;
	ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
	pte = *ptep;
	if (pte_present(pte) && pfn_valid(pte_pfn(pte))) {
		page = pfn_to_page(pte_pfn(pte));
		if (PageAnon(page) && !PageKsm(page) && !PageCompound(page) &&
		    !PageSwapCache(page) && PageAnonExclusive(page)) {
			copy_highpage(page, clone->snap->pages[pg]);
			ok = true;
		}
	}
	pte_unmap_unlock(ptep, ptl);
	return ok;
}

/*
 * THAW_CLONE_RESET_KEEP over the dirty pages [@rel, @rel + @n): rewrite
 * in place what can be (appended to the dirty list at *@kept: they stay
 * dirty), drop the rest as thaw_clone_reset_run() does and clear their
 * bits.  Pages of a private 2 MiB copy's region, and pages whose bit went
 * when their region got one, are left to thaw_clone_reset_private().
 */
static int thaw_clone_reset_keep_run(struct thaw_clone *clone,
				     struct vm_area_struct *vma,
				     unsigned long rel, unsigned long n,
				     bool remap, unsigned long *count,
				     unsigned long *kept, unsigned long *mapped)
{
	unsigned long end = rel + n;
	int ret = 0;

	for (; rel < end && !ret; rel++) {
		if (!test_bit(rel, clone->dirty))
			continue;
		if (clone->huge &&
		    test_bit(thaw_clone_region(clone, rel), clone->priv_map)) {
			__clear_bit(rel, clone->dirty);
			continue;
		}
		if (thaw_clone_rewrite(clone, vma, rel)) {
			clone->dirty_list[(*kept)++] = rel;
			(*count)++;
			continue;
		}
		ret = thaw_clone_reset_run(clone, vma, rel, 1, remap, count,
					   mapped);
		if (!ret)
			__clear_bit(rel, clone->dirty);
	}
	return ret;
}

/*
 * Reset the private copies: copy the object's region back into each, in
 * place, so that its PMD (and KVM's 2 MiB entry) stays, O(copies); with
 * @drop, zap and free them instead; with @later, zap them and mark them
 * stale, for the next fault in the region or THAW_CLONE_PREMAP_COPY_ONLY
 * to rewrite (thaw_clone_refresh()), O(1) each.  With @remap, map them
 * (or, dropped, the object's region) if nothing does; not stale ones.
 * The mmap lock is held for writing, so no fault changes @priv meanwhile.
 */
static int thaw_clone_reset_private(struct thaw_clone *clone,
				    struct vm_area_struct *vma, bool drop,
				    bool later, bool remap,
				    unsigned long *count,
				    unsigned long *mapped)
{
	unsigned long ri, rel, addr;
	struct folio *folio;
	int ret = 0;

	if (!clone->nr_private)
		return 0;
	for_each_set_bit(ri, clone->priv_map, clone->nr_regions) {
		rel = thaw_clone_region_first(clone, ri) - clone->pgoff;
		addr = clone->start + (rel << PAGE_SHIFT);
		folio = clone->priv[ri];
		*count += THAW_REGION_NR;
		if (drop) {
			zap_page_range(vma, addr, PMD_SIZE);
			spin_lock(&clone->lock);
			clone->priv[ri] = NULL;
			__clear_bit(ri, clone->priv_map);
			__clear_bit(ri, clone->stale);
			clone->nr_private--;
			spin_unlock(&clone->lock);
			thaw_private_free(clone, folio);
		} else if (later) {
			if (!test_bit(ri, clone->stale))
				zap_page_range(vma, addr, PMD_SIZE);
			spin_lock(&clone->lock);
			__set_bit(ri, clone->stale);
			spin_unlock(&clone->lock);
			continue;
		} else if (test_bit(ri, clone->stale)) {
			/* Rewritten at its next fault: nothing to do now. */
			continue;
		} else {
			thaw_private_fill(clone, folio, ri);
		}
		if (remap && !ret)
			ret = thaw_clone_map_range(clone, vma, rel,
						   THAW_REGION_NR, true,
						   mapped);
		cond_resched();
	}
	return ret;
}

/*
 * Return every dirtied page to the snapshot's content.  The caller holds
 * mmap_lock for writing, so no fault runs; @resetting keeps the notifier
 * (which our own zaps fire) away from the dirty state, which this function
 * then owns without the spinlock.
 */
static int thaw_clone_do_reset(struct thaw_clone *clone,
			       struct vm_area_struct *vma, u32 flags,
			       unsigned long *count, unsigned long *mapped)
{
	bool remap = flags & THAW_CLONE_RESET_REMAP;
	unsigned long i, rel, n, nr, kept = 0;
	bool overflow, keep;
	int ret;

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
	keep = (flags & THAW_CLONE_RESET_KEEP) && !overflow;

	*count = 0;
	ret = thaw_clone_reset_private(clone, vma,
				       flags & THAW_CLONE_RESET_DROP_PRIVATE,
				       flags & THAW_CLONE_RESET_PRIVATE_LATER,
				       remap, count, mapped);
	i = 0;
	if (!overflow) {
		sort(clone->dirty_list, nr, sizeof(u32), thaw_u32_cmp, NULL);
		/*
		 * With @keep, the pages kept are written back to the front of
		 * the sorted list as it is read: never past what was read.
		 */
		for (i = 0; i < nr && !ret; i += n) {
			rel = clone->dirty_list[i];
			for (n = 1; i + n < nr &&
			     clone->dirty_list[i + n] == rel + n; n++)
				;
			if (keep)
				ret = thaw_clone_reset_keep_run(clone, vma, rel,
								n, remap, count,
								&kept, mapped);
			else
				ret = thaw_clone_reset_run(clone, vma, rel, n,
							   remap, count,
							   mapped);
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
						   count, mapped);
			rel = find_next_bit(clone->dirty, clone->nr_pages,
					    next_clean);
			cond_resched();
		}
	}

	/*
	 * Still @resetting: the bitmap is ours.  Cleared here, preemptibly,
	 * not under the lock: a huge clone's is megabytes.
	 */
	if (!ret && overflow)
		for (rel = 0; rel < clone->nr_pages; rel += n) {
			n = min(clone->nr_pages - rel, THAW_CLEAR_BITS);
			bitmap_clear(clone->dirty, rel, n);
			cond_resched();
		}
	spin_lock(&clone->lock);
	if (ret) {
		/*
		 * Pages not reached stay dirty; the rest is clean anyway.
		 * With @keep the list was rewritten: the bitmap (pages kept
		 * and pages not reached) is the record now.
		 */
		if (keep)
			clone->dirty_overflow = true;
		clone->resetting = false;
		spin_unlock(&clone->lock);
		return ret;
	}
	if (!overflow && !keep) {
		for (i = 0; i < nr; i++)
			__clear_bit(clone->dirty_list[i], clone->dirty);
	}
	clone->nr_dirty = kept;
	clone->dirty_overflow = false;
	clone->private = kept;
	clone->resetting = false;
	clone->resets++;
	clone->reset_pages = *count;
	spin_unlock(&clone->lock);
	return 0;
}

/* Private copies only where 2 MiB mappings work (thaw.h). */
#define THAW_CLONE_RESET_FLAGS	(THAW_CLONE_RESET_REMAP | \
				 THAW_CLONE_RESET_KEEP | (THAW_HUGE ? \
				 THAW_CLONE_RESET_DROP_PRIVATE | \
				 THAW_CLONE_RESET_PRIVATE_LATER : 0))

long thaw_clone_reset(struct thaw_snap *snap, unsigned int cmd,
		      unsigned long arg)
{
	struct mm_struct *mm = current->mm;
	unsigned long count = 0, mapped = 0;
	struct vm_area_struct *vma;
	struct thaw_clone_op op;
	struct thaw_clone *clone;
	int ret;

	ret = thaw_clone_op_args(&op, cmd, arg, THAW_CLONE_RESET_FLAGS);
	if (ret)
		return ret;
	if ((op.flags & THAW_CLONE_RESET_DROP_PRIVATE) &&
	    (op.flags & THAW_CLONE_RESET_PRIVATE_LATER))
		return -EINVAL;
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	clone = thaw_clone_lookup(snap, mm, op.addr, &vma);
	if (clone)
		ret = thaw_clone_do_reset(clone, vma, op.flags, &count,
					  &mapped);
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
	st->private_regions = clone->nr_private;
	st->private_made = clone->private_made;
	st->private_budget = clone->private_budget;
	st->private_chosen = clone->nr_chosen;
	st->private_over_budget = clone->private_over_budget;
	st->private_alloc_failed = clone->private_alloc_failed;
	st->private_refreshed = clone->private_refreshed;
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
