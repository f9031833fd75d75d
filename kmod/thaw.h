/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thaw.ko internals shared by main.c, snapshot.c, clone.c, wset.c and
 * netlink.c.
 *
 * Lock order, outermost first:
 *   mmap_lock of a process  >  thaw_objects_lock  >  thaw_snap.lock
 *   >  thaw_snap.fill_lock, thaw_clone.lock (spinlocks, never nested;
 *      nothing sleeps under them)
 *   >  page-table locks (a PMD is installed under thaw_clone.lock)
 * A region fill (fill.c) sleeps reading the memory file, under the mmap
 * lock of the faulting process but under none of the locks above; a fill
 * waits for another fill of the same region without any of them either.
 * A snapshot object's release takes thaw_objects_lock, so the last
 * reference may be dropped under mmap_lock but never under the other
 * locks; freeing an object (an eviction from the cache included) happens
 * under none of them, as it waits for the object's background fill.
 */
#ifndef THAW_KMOD_THAW_H
#define THAW_KMOD_THAW_H

#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/page-flags.h>
#include <linux/pgtable.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include <linux/thaw.h>

/*
 * 2 MiB objects mapped by PMDs (THAW_FEATURE_HUGE) rely on how 6.1 treats
 * a PFN PMD in a VM_MIXEDMAP file mapping: installed by
 * vmf_insert_pfn_pmd_prot() without a reference or mapcount, cleared
 * (never refcounted) by zap_huge_pmd() and __split_huge_pmd_locked()
 * because vma_is_special_huge(), followed by GUP as a normal compound
 * page.  Later kernels change that (special PMDs that GUP refuses, from
 * about 6.12; rmap and GUP changes before), and this was read and tested
 * against 6.1 only: kmod/Kbuild sets THAW_HUGE=1 for 6.1 kernels, and
 * elsewhere objects stay 4 KiB.  "make THAW_HUGE=0" compile-tests the
 * 4 KiB-only module on 6.1.
 */
#if !defined(THAW_HUGE) || !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) || \
	!IS_ENABLED(CONFIG_X86_64)
#undef THAW_HUGE
#define THAW_HUGE	0
#endif

/* A region: the object pages one PMD maps (2 MiB of 4 KiB pages). */
#define THAW_REGION_ORDER	(PMD_SHIFT - PAGE_SHIFT)
#define THAW_REGION_NR		(1UL << THAW_REGION_ORDER)

/*
 * A 2 MiB page (an object's region, a clone's private copy): charged to a
 * memory cgroup; one attempt at reclaim and compaction, then the caller
 * falls back to 4 KiB pages rather than stalling.
 */
#define THAW_GFP_HUGE	(GFP_HIGHUSER | __GFP_ACCOUNT | __GFP_NORETRY | \
			 __GFP_NOWARN)

/*
 * A working set: snapshot page indices in first-touch order, plus the same
 * set sorted so that premapping can insert contiguous runs in one call,
 * which of them the recording saw written, and the object's regions
 * ranked for private 2 MiB copies.  Immutable once published; readers
 * hold a reference.
 */
struct thaw_wset {
	struct kref ref;
	u32 nr;
	u32 nr_written;			/* bits set in @written */
	u32 *order;
	u32 *sorted;
	unsigned long *written;		/* bit i: @order[i] was written */
	/*
	 * Object regions with a written page, by the faults a private copy
	 * saves (touched + written pages in the region: @ranked_faults),
	 * most first.
	 */
	u32 *ranked;
	u32 *ranked_faults;
	u32 nr_ranked;
};

/* Who filled a region of an object (fill.c): its counters' index. */
enum thaw_fill_by {
	THAW_FILL_CREATE,		/* an eager creation */
	THAW_FILL_FAULT,
	THAW_FILL_PREMAP,		/* premap, a reset's remap, a choice */
	THAW_FILL_BACKGROUND,
	THAW_FILL_NR,
};

/* What region fills stored in an object (fill.c). */
struct thaw_fill_counts {
	unsigned long data_pages;
	unsigned long zero_pages;
	unsigned long pinned;		/* pages pinned for them */
	unsigned long huge_regions;
	unsigned long small_regions;
	unsigned long zero_regions;
	unsigned long huge_fallbacks;
};

/*
 * An object's owner (owner.c): the creator's credentials and where its
 * pinned pages are charged.  Immutable; set at creation.
 */
struct thaw_owner {
	kuid_t uid;			/* the creator's euid */
	struct user_namespace *ns;	/* the creator's (a reference) */
	struct thaw_user *user;		/* per-user caps (a reference) */
	/* RLIMIT_MEMLOCK's user (a reference); NULL with CAP_IPC_LOCK */
	struct user_struct *locked;
	unsigned long memlock;		/* RLIMIT_MEMLOCK at creation, pages */
	struct mm_struct *mm;		/* VmPin (mmgrab()); NULL if none */
};

/*
 * A snapshot object.  Its content never changes once a region is filled:
 * the fields marked "immutable" are read without a lock by faults and
 * ioctls.  A region's pages (@pages[r * 512 ...]) are written once, by the
 * fill that owns the region's bit in @filling, before its bit in @filled
 * is set (with release semantics): nobody reads a region's pages before
 * thaw_snap_region_filled() said yes (an acquire).  An eager object is
 * filled whole before anyone else sees it.
 */
struct thaw_snap {
	struct kref ref;
	u64 id;				/* set once under thaw_objects_lock */
	char name[THAW_NAME_MAX];	/* immutable; "" when anonymous */
	struct thaw_owner owner;	/* immutable */
	unsigned long nr_pages;		/* immutable */
	unsigned long nr_regions;	/* immutable: 2 MiB regions, rounded up */
	/* immutable: non-zero pages a 2 MiB folio needs; 0: 4 KiB object */
	unsigned int huge_min;
	bool lazy;			/* immutable: THAW_SNAP_CREATE_LAZY */
	bool denied;			/* immutable: writes to @src denied */
	/*
	 * Once its region is filled: a page of a 4 KiB region is an order-0
	 * page, or @zero_page; every page of a huge region is a page of one
	 * order-9 folio, its own or @zero_folio (thaw_snap_region_huge()).
	 */
	struct page **pages;
	struct page *zero_page;		/* immutable */
	/*
	 * Set once (cmpxchg) by the first fill of an all-zero huge region;
	 * read with READ_ONCE() (thaw_snap_zero_folio()).  NULL when none.
	 */
	struct folio *zero_folio;
	unsigned long *filled;		/* bit per region: see above */
	struct list_head node;		/* thaw_objects_lock */
	struct list_head clones;	/* thaw_objects_lock */
	unsigned long nr_clones;	/* thaw_objects_lock */
	u64 retired_faults;		/* thaw_objects_lock: unmapped clones */
	u64 retired_premapped;		/* thaw_objects_lock: unmapped clones */
	struct list_head lru;		/* thaw_objects_lock: while @cached */
	bool cached;			/* thaw_objects_lock */
	struct mutex lock;
	struct thaw_wset *wset;		/* @lock; NULL when none */
	u32 wset_nr;			/* @lock; READ_ONCE() for stats */
	u32 wset_written;		/* @lock; READ_ONCE() for stats */

	/* The fill (fill.c). */
	spinlock_t fill_lock;
	unsigned long *filling;		/* @fill_lock: a fill owns the region */
	unsigned long nr_filled;	/* @fill_lock: bits set in @filled */
	/*
	 * @fill_lock: the memory file, read-only, with writes to its inode
	 * denied (deny_write_access()), until every region is filled; NULL
	 * after.  A fill in progress keeps it: it is let go by the fill that
	 * completes the object, or at the object's end.
	 */
	struct file *src;
	loff_t src_offset;		/* immutable: page 0 in @src */
	struct mem_cgroup *memcg;	/* immutable: the creator's, for fills */
	struct thaw_fill_counts count;	/* @fill_lock */
	unsigned long base_pinned;	/* immutable: page array + zero page */
	/*
	 * Counted in thaw_pinned.  A lazy object reserves, when created, what
	 * it could need at most, and gives the rest back once filled.
	 * @fill_lock for writers; READ_ONCE() elsewhere.
	 */
	unsigned long pinned;
	u64 filled_by[THAW_FILL_NR];	/* @fill_lock */
	u64 fill_waits;			/* @fill_lock */
	u64 fill_errors;		/* @fill_lock */
	wait_queue_head_t fill_wq;	/* a fill of some region ended */
	struct kthread_work fill_work;	/* the background fill */
	bool fill_stop;			/* @fill_lock: the object is ending */
	/* The background fill's own, used by it alone. */
	struct thaw_wset *bg_wset;	/* working set being walked (a ref) */
	u32 bg_wset_next;		/* next entry of @bg_wset */
	unsigned long bg_next;		/* next region in order */
};

/*
 * A recording in progress: first touches of one clone.  While it hangs off
 * a clone, all of it is protected by that clone's @lock; once detached it
 * belongs to whoever detached it.
 */
struct thaw_rec {
	unsigned long *seen;		/* clone lock: bit per clone page */
	unsigned long *written;		/* clone lock: bit per clone page */
	u32 *log;			/* clone lock: object page indices */
	u32 nr;				/* clone lock: entries in @log */
	pgoff_t pgoff;			/* immutable: the clone's first page */
	unsigned long nr_pages;		/* immutable: the clone's pages */
};

/*
 * One clone: the per-mapping state of a MAP_PRIVATE mapping of a snapshot
 * object, owned by that VMA (vm_private_data).  The VMA can be neither split
 * nor moved, so @start and @nr_pages hold for its whole life.
 */
struct thaw_clone {
	u64 id;				/* set once under thaw_objects_lock */
	struct thaw_snap *snap;		/* immutable; holds a reference */
	unsigned long start;		/* immutable */
	unsigned long nr_pages;		/* immutable */
	pgoff_t pgoff;			/* immutable: first snapshot page */
	pid_t pid;			/* immutable: the mapping process */
	struct list_head snap_node;	/* thaw_objects_lock */
	struct list_head node;		/* thaw_objects_lock */
	struct mmu_interval_notifier notifier;
	u32 dirty_cap;			/* immutable: size of @dirty_list */
	/*
	 * immutable: the object has huge regions and the clone's addresses
	 * are congruent to the object's offsets modulo 2 MiB, so a region
	 * wholly inside the clone may be mapped by one PMD.
	 */
	bool huge;
	unsigned long region0;		/* immutable: object region of page 0 */
	unsigned long nr_regions;	/* immutable: regions the clone spans */
	/*
	 * immutable, if @huge: the mapping task's credentials, which its
	 * private 2 MiB copies are charged to (RLIMIT_MEMLOCK, the per-user
	 * cap, VmPin), as an object is to its creator's.
	 */
	struct thaw_owner mapper;

	spinlock_t lock;
	unsigned long *mapped;		/* @lock: page maps the snapshot's */
	unsigned long *dirty;		/* @lock: page dirtied since reset */
	u32 *dirty_list;		/* @lock: dirtied pages, in order */
	u32 nr_dirty;			/* @lock: entries in @dirty_list */
	bool dirty_overflow;		/* @lock: @dirty_list is incomplete */
	bool resetting;			/* @lock: a reset owns @dirty* */
	struct thaw_rec *rec;		/* @lock */
	u64 shared;			/* @lock */
	u64 zero;			/* @lock */
	u64 private;			/* @lock: bits set in @dirty */
	u64 faults;			/* @lock */
	u64 cow_faults;			/* @lock */
	u64 premapped;			/* @lock */
	u64 resets;			/* @lock */
	u64 reset_pages;		/* @lock */
	/* Bit per region of the clone, from @region0; NULL unless @huge. */
	unsigned long *split;		/* @lock: no PMD until the next reset */
	unsigned long *pmd_mapped;	/* @lock: a PMD of ours maps it now */
	u64 pmd_regions;		/* @lock: bits set in @pmd_mapped */
	u64 pmd_zero;			/* @lock: of those, zero regions */
	u64 pmd_maps;			/* @lock */
	u64 splits;			/* @lock */
	/*
	 * Private 2 MiB copies (clone.c): a region's copy is published in
	 * @priv under @lock and taken away only with the mmap lock held for
	 * writing too (reset, the mapping's end), so a fault, which holds the
	 * mmap lock, may use a copy it saw after dropping @lock.
	 */
	struct folio **priv;		/* @lock: per region, or NULL */
	unsigned long *priv_map;	/* @lock: bit set where @priv is */
	unsigned long *chosen;		/* @lock: may get a private copy */
	unsigned long *wanted;		/* @lock: written, beyond the budget */
	/*
	 * Set (atomically, under @lock) while a task makes a region's copy;
	 * another that wants the same copy waits on the bit.
	 */
	unsigned long *copying;
	/*
	 * @lock (set also with the mmap lock held for writing): a private
	 * copy a THAW_CLONE_RESET_PRIVATE_LATER reset left to rewrite.
	 */
	unsigned long *stale;
	u32 private_budget;		/* @lock */
	u32 nr_chosen;			/* @lock: bits set in @chosen */
	u64 nr_private;			/* @lock: entries in @priv */
	u64 private_made;		/* @lock */
	u64 private_over_budget;	/* @lock */
	u64 private_alloc_failed;	/* @lock */
	u64 private_refreshed;		/* @lock */
	/* @lock: a task in premap or reset, whose PMDs count as premapped */
	struct task_struct *premapper;
};

/* Module-wide state (main.c and snapshot.c). */
extern struct mutex thaw_objects_lock;
extern struct list_head thaw_snapshots;	/* thaw_objects_lock */
extern struct list_head thaw_clones;	/* thaw_objects_lock */
extern unsigned long thaw_nr_snapshots;	/* thaw_objects_lock */
extern unsigned long thaw_nr_clones;	/* thaw_objects_lock */
extern atomic_long_t thaw_pinned;	/* pages held by all objects */
extern unsigned long thaw_nr_cached;	/* thaw_objects_lock */

unsigned long thaw_pinned_limit(void);
unsigned int thaw_max_snapshots(void);
int thaw_max_page_refs(void);
unsigned int thaw_huge_min_pages(void);
bool thaw_huge_alloc_fails(void);
u32 thaw_private_huge_max(void);
u32 thaw_private_min_faults(void);
bool thaw_fill_fails(void);
bool thaw_fill_background_on(void);
unsigned long thaw_cache_limit(void);
unsigned long thaw_cache_owner_limit(void);
unsigned long thaw_pinned_user_limit(void);
unsigned int thaw_max_snapshots_per_user(void);

/* ioctl argument helpers (main.c) */
int thaw_copy_arg(void *dst, size_t ksize, size_t min, unsigned int cmd,
		  unsigned long arg);
int thaw_put_arg(unsigned long arg, unsigned int cmd, const void *src,
		 size_t ksize);
bool thaw_all_zero(const u64 *v, size_t n);

/* Same number and direction; the size may differ (extensible structs). */
static inline bool thaw_ioc_is(unsigned int cmd, unsigned int ref)
{
	return _IOC_NR(cmd) == _IOC_NR(ref) && _IOC_DIR(cmd) == _IOC_DIR(ref);
}

/* snapshot.c */
long thaw_snap_create(unsigned int cmd, unsigned long arg);
long thaw_snap_open(unsigned int cmd, unsigned long arg);
void thaw_snap_get(struct thaw_snap *snap);
void thaw_snap_put(struct thaw_snap *snap);
void thaw_snap_free(struct thaw_snap *snap);
unsigned long thaw_lingering_pages(void);
bool thaw_linger_folio(const struct thaw_owner *o, struct folio *folio);
void thaw_linger_exit(void);
void thaw_snap_fill_stats(struct thaw_snap *snap, struct thaw_snap_stats *st);
void thaw_fill_stats(struct thaw_stats *st);
int thaw_pin(unsigned long n);
void thaw_unpin(unsigned long n);
int thaw_snap_pin(struct thaw_snap *snap, unsigned long n);
void thaw_snap_unpin(struct thaw_snap *snap, unsigned long n);

/* owner.c */
int thaw_owner_init(struct thaw_owner *o);
void thaw_owner_release(struct thaw_owner *o);
void thaw_owner_dup(struct thaw_owner *dst, const struct thaw_owner *src);
bool thaw_owner_is_current(const struct thaw_owner *o);
bool thaw_owner_may_open(const struct thaw_owner *o);
int thaw_owner_charge(struct thaw_owner *o, unsigned long n);
void thaw_owner_uncharge(struct thaw_owner *o, unsigned long n);
bool thaw_owner_at_cap(const struct thaw_owner *o);
void thaw_owner_listed(struct thaw_owner *o, int n);

/* fill.c */
struct folio *thaw_alloc_huge(gfp_t gfp);
int thaw_fill_init(void);
void thaw_fill_exit(void);
int thaw_snap_fill_all(struct thaw_snap *snap);
int thaw_snap_fill_region(struct thaw_snap *snap, unsigned long r,
			  enum thaw_fill_by by);
int thaw_snap_fill_pages(struct thaw_snap *snap, unsigned long first,
			 unsigned long n, enum thaw_fill_by by);
int thaw_snap_fill_wset(struct thaw_snap *snap, struct thaw_wset *ws);
void thaw_fill_start(struct thaw_snap *snap);
void thaw_fill_stop(struct thaw_snap *snap);
void thaw_fill_module_stats(struct thaw_stats *st);

/* Is object region @r filled?  Its pages may be read once it is. */
static inline bool thaw_snap_region_filled(struct thaw_snap *snap,
					   unsigned long r)
{
	return test_bit_acquire(r, snap->filled);
}

/* The object's all-zero 2 MiB folio, or NULL. */
static inline struct folio *thaw_snap_zero_folio(struct thaw_snap *snap)
{
	return READ_ONCE(snap->zero_folio);
}

/* cache.c */
bool thaw_cache_keep(struct thaw_snap *snap, struct list_head *evicted);
void thaw_cache_revive(struct thaw_snap *snap);
bool thaw_cache_evict_one(struct list_head *evicted);
bool thaw_cache_evict_owner(kuid_t uid, struct list_head *evicted);
bool thaw_cache_shrink(unsigned long need);
bool thaw_cache_shrink_owner(kuid_t uid);
void thaw_cache_free(struct list_head *evicted);
void thaw_cache_trim(void);
unsigned long thaw_cache_drop(bool own, unsigned long *pages);
void thaw_cache_stats(struct thaw_stats *st);

/* Is object region @r (object pages r * 512 ...) stored in a 2 MiB folio? */
static inline bool thaw_snap_region_huge(struct thaw_snap *snap,
					 unsigned long r)
{
	if (!THAW_HUGE || (r + 1) << THAW_REGION_ORDER > snap->nr_pages ||
	    !thaw_snap_region_filled(snap, r))
		return false;
	return PageHead(snap->pages[r << THAW_REGION_ORDER]);
}

/* clone.c */
int thaw_clone_mmap(struct thaw_snap *snap, struct vm_area_struct *vma);
struct thaw_clone *thaw_clone_lookup(struct thaw_snap *snap,
				     struct mm_struct *mm, u64 addr,
				     struct vm_area_struct **vmap);
int thaw_clone_map_range(struct thaw_clone *clone, struct vm_area_struct *vma,
			 unsigned long rel, unsigned long n, bool premap,
			 unsigned long *mapped);
long thaw_clone_reset(struct thaw_snap *snap, unsigned int cmd,
		      unsigned long arg);
long thaw_clone_stats(struct thaw_snap *snap, unsigned int cmd,
		      unsigned long arg);
int thaw_clone_choose(struct thaw_clone *clone, struct thaw_wset *ws,
		      u32 budget);
int thaw_clone_copy_region(struct thaw_clone *clone,
			   struct vm_area_struct *vma, unsigned long ri,
			   unsigned long *mapped);
int thaw_clone_copy_chosen(struct thaw_clone *clone,
			   struct vm_area_struct *vma, unsigned long *mapped);
int thaw_clone_copy_order(struct thaw_clone *clone, struct thaw_wset *ws,
			  u32 **out, u32 *nr);
void thaw_clone_fill_stats(struct thaw_clone *clone,
			   struct thaw_clone_stats *st);

/* wset.c */
int thaw_clone_op_args(struct thaw_clone_op *op, unsigned int cmd,
		       unsigned long arg, u32 flags_ok);
void thaw_wset_put(struct thaw_wset *ws);
struct thaw_wset *thaw_snap_get_wset(struct thaw_snap *snap);
void thaw_rec_free(struct thaw_rec *rec);
long thaw_wset_set(struct thaw_snap *snap, unsigned int cmd,
		   unsigned long arg);
long thaw_wset_get(struct thaw_snap *snap, unsigned int cmd,
		   unsigned long arg);
long thaw_clone_record(struct thaw_snap *snap, unsigned int cmd,
		       unsigned long arg);
long thaw_clone_stop(struct thaw_snap *snap, unsigned int cmd,
		     unsigned long arg);
long thaw_clone_premap(struct thaw_snap *snap, unsigned int cmd,
		       unsigned long arg);

/* netlink.c */
int thaw_netlink_init(void);
void thaw_netlink_exit(void);

#endif
