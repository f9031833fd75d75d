// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot objects: guest memory read once out of a file into pages the
 * module owns, shared read-only by every clone mapping.
 *
 * The pages are allocated with __GFP_ACCOUNT (charged to the creator's
 * memory cgroup) and are never put on an LRU list, so reclaim never sees
 * them: they stay resident while the object lives.  All-zero pages are not
 * stored; they point at one zeroed page per object.  A private copy of the
 * object is taken instead of sharing the file's page cache so that later
 * writes to the file cannot reach a running clone.  How regions are read
 * and stored (2 MiB folios, the zero folio, 4 KiB pages) is fill.c's.
 *
 * An eager object is filled whole by THAW_IOC_SNAP_CREATE.  A lazy one
 * (THAW_SNAP_CREATE_LAZY) is created at once: it holds the file, with
 * writes to it denied, and fills a region on its first use (fill.c).
 *
 * An object lives while a file descriptor or a clone mapping (through its
 * vm_file) refers to it; named objects are also listed so that
 * THAW_IOC_SNAP_OPEN can hand out more descriptors.  When the last of
 * them goes, a named object may stay in the cache (cache.c) until
 * THAW_IOC_SNAP_OPEN revives it or room is needed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

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

static bool thaw_try_pin(unsigned long n)
{
	if (atomic_long_add_return(n, &thaw_pinned) > thaw_pinned_limit()) {
		atomic_long_sub(n, &thaw_pinned);
		return false;
	}
	return true;
}

/*
 * Count @n pages against max_pinned_mb: -EDQUOT past it, once cached
 * objects (cache.c) have made what room they can, least recently used
 * first.  Frees them: call it under none of the module's locks.
 */
int thaw_pin(unsigned long n)
{
	while (!thaw_try_pin(n))
		if (!thaw_cache_shrink(n))
			return -EDQUOT;
	return 0;
}

void thaw_unpin(unsigned long n)
{
	atomic_long_sub(n, &thaw_pinned);
}

/*
 * Count @n pages of @snap against its owner (owner.c: -EDQUOT past
 * max_pinned_mb_per_user, -ENOMEM past RLIMIT_MEMLOCK) and max_pinned_mb
 * (-EDQUOT), the owner's cached objects making room first for the
 * owner's limits, anyone's for max_pinned_mb.  Under none of the
 * module's locks.
 */
int thaw_snap_pin(struct thaw_snap *snap, unsigned long n)
{
	int ret;

	while ((ret = thaw_owner_charge(&snap->owner, n)))
		if (!thaw_cache_shrink_owner(snap->owner.uid))
			return ret;
	ret = thaw_pin(n);
	if (ret)
		thaw_owner_uncharge(&snap->owner, n);
	return ret;
}

void thaw_snap_unpin(struct thaw_snap *snap, unsigned long n)
{
	thaw_unpin(n);
	thaw_owner_uncharge(&snap->owner, n);
}

/* Pages the pointer array of an object of @nr_pages pages takes. */
static unsigned long thaw_snap_array_pages(unsigned long nr_pages)
{
	return DIV_ROUND_UP(nr_pages * sizeof(struct page *), PAGE_SIZE);
}

/*
 * Pages an object let go of while someone else still held them.  A clone
 * hands its pages to anyone who asks through GUP: vmsplice() into a
 * pipe, an io_uring fixed buffer, O_DIRECT in flight.  Those references
 * outlive the object, and so do the pages; were they uncharged when the
 * object went, a user could hold any amount of memory uncounted (make an
 * object, vmsplice its pages, free it, again).  So such folios stay
 * charged to the object's owner and counted in thaw_pinned, here with our
 * reference, until ours is the last; a worker looks every second and
 * then lets them go.  A clone's private 2 MiB copies, charged to whoever
 * mapped the clone, linger the same way when the clone lets go of them.
 */
struct thaw_linger {
	struct list_head node;		/* thaw_linger_lock */
	/*
	 * The rest is its maker's until it is listed, then the worker's
	 * alone (the scan takes the whole list off under the lock; the
	 * module's exit runs after the worker is cancelled): no lock.
	 */
	struct thaw_owner owner;	/* the object's, moved here */
	unsigned long nr;		/* folios[] held */
	struct folio *folios[];
};

static LIST_HEAD(thaw_lingering);		/* thaw_linger_lock */
static DEFINE_SPINLOCK(thaw_linger_lock);
static atomic_long_t thaw_linger_pages = ATOMIC_LONG_INIT(0);

/*
 * Put the folios of @l that only we hold (all of them if @all), and
 * uncharge their pages; true when none is left.
 */
static bool thaw_linger_put(struct thaw_linger *l, bool all)
{
	unsigned long i, j = 0, n = 0;

	for (i = 0; i < l->nr; i++) {
		struct folio *f = l->folios[i];

		if (all || folio_ref_count(f) == 1) {
			n += folio_nr_pages(f);
			folio_put(f);
		} else {
			l->folios[j++] = f;
		}
	}
	l->nr = j;
	if (n) {
		atomic_long_sub(n, &thaw_linger_pages);
		thaw_unpin(n);
		thaw_owner_uncharge(&l->owner, n);
	}
	return !j;
}

static void thaw_linger_free(struct thaw_linger *l)
{
	thaw_owner_release(&l->owner);
	kvfree(l);
}

static void thaw_linger_scan(struct work_struct *work);
static DECLARE_DELAYED_WORK(thaw_linger_work, thaw_linger_scan);

static void thaw_linger_scan(struct work_struct *work)
{
	struct thaw_linger *l, *tmp;
	LIST_HEAD(list);
	bool more;

	spin_lock(&thaw_linger_lock);
	list_splice_init(&thaw_lingering, &list);
	spin_unlock(&thaw_linger_lock);
	list_for_each_entry_safe(l, tmp, &list, node) {
		if (thaw_linger_put(l, false)) {
			list_del(&l->node);
			thaw_linger_free(l);
		}
		cond_resched();
	}
	spin_lock(&thaw_linger_lock);
	list_splice(&list, &thaw_lingering);
	more = !list_empty(&thaw_lingering);
	spin_unlock(&thaw_linger_lock);
	if (more)
		schedule_delayed_work(&thaw_linger_work, HZ);
}

static void thaw_linger_add(struct thaw_linger *l, unsigned long pages)
{
	atomic_long_add(pages, &thaw_linger_pages);
	spin_lock(&thaw_linger_lock);
	list_add_tail(&l->node, &thaw_lingering);
	spin_unlock(&thaw_linger_lock);
	schedule_delayed_work(&thaw_linger_work, HZ);
}

/*
 * A clone's private 2 MiB copy, charged to @o, that the clone lets go of:
 * if someone else still holds it, it lingers (charged to @o, with the
 * module's reference) and true; false if ours is the last reference (or
 * no memory to keep it: then it goes uncharged, as before).
 */
bool thaw_linger_folio(const struct thaw_owner *o, struct folio *folio)
{
	struct thaw_linger *l;

	if (folio_ref_count(folio) == 1)
		return false;
	l = kvzalloc(struct_size(l, folios, 1), GFP_KERNEL);
	if (!l)
		return false;
	thaw_owner_dup(&l->owner, o);
	l->folios[0] = folio;
	l->nr = 1;
	thaw_linger_add(l, folio_nr_pages(folio));
	return true;
}

/* Pages held past their object's end, waiting for their other holders. */
unsigned long thaw_lingering_pages(void)
{
	return atomic_long_read(&thaw_linger_pages);
}

/* Module exit: nothing is charged to anyone any more; let go of all. */
void thaw_linger_exit(void)
{
	struct thaw_linger *l, *tmp;

	cancel_delayed_work_sync(&thaw_linger_work);
	list_for_each_entry_safe(l, tmp, &thaw_lingering, node) {
		list_del(&l->node);
		thaw_linger_put(l, true);
		thaw_linger_free(l);
	}
}

/* The folio of @page, if someone besides @snap holds it; else NULL. */
static struct folio *thaw_snap_held_elsewhere(struct page *page)
{
	struct folio *f = page_folio(page);

	return folio_ref_count(f) > 1 ? f : NULL;
}

/*
 * Free an object no one refers to any more (unlisted, or never listed):
 * its fill stopped first.  Its data folios that someone else still holds
 * linger (above), charged to its owner, until they are ours alone.
 */
void thaw_snap_free(struct thaw_snap *snap)
{
	struct folio *zf = thaw_snap_zero_folio(snap);
	struct thaw_linger *l = NULL;
	unsigned long i, held = 0, kept = 0;

	thaw_fill_stop(snap);
	/* Count first: the pages' other holders cannot take more now. */
	for (i = 0; snap->pages && i < snap->nr_pages; i++) {
		struct page *page = snap->pages[i];

		if (!(i & 1023))
			cond_resched();
		if (!page || page == snap->zero_page ||
		    (PageCompound(page) && page_folio(page) == zf))
			continue;
		if (thaw_snap_held_elsewhere(page))
			held++;
		if (PageCompound(page))
			i += THAW_REGION_NR - 1;
	}
	if (held)
		l = kvzalloc(struct_size(l, folios, held), GFP_KERNEL);
	if (snap->pages) {
		for (i = 0; i < snap->nr_pages; i++) {
			struct page *page = snap->pages[i];
			struct folio *f;

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
				i += THAW_REGION_NR - 1;
				if (page_folio(page) == zf)
					continue;
			}
			f = thaw_snap_held_elsewhere(page);
			if (f && l && l->nr < held) {
				l->folios[l->nr++] = f;
				kept += folio_nr_pages(f);
				continue;
			}
			/*
			 * folio_put(), not a free: a holder seen only now
			 * (or with no room to linger) keeps the page until it
			 * lets go, uncharged.
			 */
			folio_put(page_folio(page));
		}
		kvfree(snap->pages);
	}
	if (snap->zero_page)
		put_page(snap->zero_page);
	if (zf)
		folio_put(zf);
	if (snap->wset)
		thaw_wset_put(snap->wset);
	if (snap->memcg)
		mem_cgroup_put(snap->memcg);
	bitmap_free(snap->filled);
	bitmap_free(snap->filling);
	thaw_snap_unpin(snap, snap->pinned - kept);
	if (l && l->nr) {
		/* The owner's references go with the pages still charged. */
		l->owner = snap->owner;
		thaw_linger_add(l, kept);
	} else {
		kvfree(l);
		thaw_owner_release(&snap->owner);
	}
	mutex_destroy(&snap->lock);
	kfree(snap);
}

/*
 * Called by kref_put_mutex() with thaw_objects_lock held; drops it.  A
 * named object goes to the cache if it fits (cache.c), making room first.
 */
static void thaw_snap_release(struct kref *ref)
{
	struct thaw_snap *snap = container_of(ref, struct thaw_snap, ref);
	LIST_HEAD(evicted);

	WARN_ON(!list_empty(&snap->clones));
	if (!list_empty(&snap->node) && thaw_cache_keep(snap, &evicted)) {
		mutex_unlock(&thaw_objects_lock);
		thaw_cache_free(&evicted);
		return;
	}
	if (!list_empty(&snap->node)) {
		list_del_init(&snap->node);
		thaw_nr_snapshots--;
		thaw_owner_listed(&snap->owner, -1);
	}
	mutex_unlock(&thaw_objects_lock);
	thaw_cache_free(&evicted);
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

/*
 * A new object of @nr_pages pages, owned by the caller.  Its page array
 * and zero page are pinned (thaw_snap_pin()); a lazy object also reserves
 * what its regions could take (every page, and the zeroed 2 MiB folio of
 * a huge one), so that no fill runs past a cap or the owner's limit.
 */
static struct thaw_snap *thaw_snap_alloc(unsigned long nr_pages,
					 unsigned int huge_min, bool lazy)
{
	unsigned long array = thaw_snap_array_pages(nr_pages), pin;
	struct thaw_snap *snap;
	int ret;

	snap = kzalloc(sizeof(*snap), GFP_KERNEL_ACCOUNT);
	if (!snap)
		return ERR_PTR(-ENOMEM);
	kref_init(&snap->ref);
	INIT_LIST_HEAD(&snap->node);
	INIT_LIST_HEAD(&snap->clones);
	INIT_LIST_HEAD(&snap->lru);
	mutex_init(&snap->lock);
	spin_lock_init(&snap->fill_lock);
	init_waitqueue_head(&snap->fill_wq);
	snap->nr_pages = nr_pages;
	snap->nr_regions = DIV_ROUND_UP(nr_pages, THAW_REGION_NR);
	snap->huge_min = huge_min;
	snap->lazy = lazy;
	ret = thaw_owner_init(&snap->owner);
	if (ret) {
		thaw_snap_free(snap);
		return ERR_PTR(ret);
	}

	snap->base_pinned = array + 1;
	pin = snap->base_pinned;
	if (lazy)
		pin += nr_pages + (huge_min ? THAW_REGION_NR : 0);
	ret = thaw_snap_pin(snap, pin);
	if (ret) {
		thaw_snap_free(snap);
		return ERR_PTR(ret);
	}
	snap->pinned = pin;
	snap->pages = kvcalloc(nr_pages, sizeof(struct page *), THAW_GFP_META);
	snap->zero_page = alloc_page(THAW_GFP_PAGE | __GFP_ZERO);
	snap->filled = bitmap_zalloc(snap->nr_regions, THAW_GFP_META);
	snap->filling = bitmap_zalloc(snap->nr_regions, THAW_GFP_META);
	if (!snap->pages || !snap->zero_page || !snap->filled ||
	    !snap->filling) {
		thaw_snap_free(snap);
		return ERR_PTR(-ENOMEM);
	}
	if (lazy)
		snap->memcg = get_mem_cgroup_from_mm(current->mm);
	return snap;
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

/*
 * The caller's object named @name (owner.c: names are per owner), or with
 * @uid, the object of that name whose owner has that uid, whoever the
 * caller is.
 */
static struct thaw_snap *thaw_snap_find(const char *name, const kuid_t *uid)
{
	struct thaw_snap *snap;

	lockdep_assert_held(&thaw_objects_lock);
	list_for_each_entry(snap, &thaw_snapshots, node) {
		if (!snap->name[0] || strcmp(snap->name, name))
			continue;
		if (uid ? uid_eq(snap->owner.uid, *uid) :
			  thaw_owner_is_current(&snap->owner))
			return snap;
	}
	return NULL;
}

/*
 * List the object (and its name) so that stats and SNAP_OPEN see it.  At
 * max_snapshots_per_user, the owner's cached objects make room, at
 * max_snapshots anyone's, least recently used first.
 */
static int thaw_snap_publish(struct thaw_snap *snap)
{
	LIST_HEAD(evicted);
	int ret = 0;

	mutex_lock(&thaw_objects_lock);
	if (snap->name[0] && thaw_snap_find(snap->name, NULL))
		ret = -EEXIST;
	while (!ret && thaw_owner_at_cap(&snap->owner))
		if (!thaw_cache_evict_owner(snap->owner.uid, &evicted))
			ret = -EDQUOT;
	while (!ret && thaw_nr_snapshots >= thaw_max_snapshots())
		if (!thaw_cache_evict_one(&evicted))
			ret = -EDQUOT;
	if (!ret) {
		snap->id = thaw_next_snap_id++;
		list_add_tail(&snap->node, &thaw_snapshots);
		thaw_nr_snapshots++;
		thaw_owner_listed(&snap->owner, 1);
	}
	mutex_unlock(&thaw_objects_lock);
	thaw_cache_free(&evicted);
	return ret;
}

static int thaw_snap_install_fd(struct thaw_snap *snap);

/*
 * Open our own read-only file on the same inode: its offset is ours.  With
 * @deny (a lazy object), writes to the inode are denied from now on
 * (deny_write_access(): writers get ETXTBSY, as for a running executable),
 * and a file someone has open for writing is refused with ETXTBSY; the
 * size is checked after, so that it holds.  Without, writes are denied if
 * they can be (*@denied says), so that the copy can read the page cache.
 */
static struct file *thaw_open_source(int fd, u64 offset, u64 length,
				     bool deny, bool *denied)
{
	struct inode *inode;
	struct file *priv;
	struct fd f;
	u64 end;

	*denied = false;
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
	priv = dentry_open(&f.file->f_path, O_RDONLY | O_LARGEFILE,
			   current_cred());
	if (IS_ERR(priv))
		goto out;
	if (!deny_write_access(priv))
		*denied = true;
	else if (deny)
		goto busy;
	if (check_add_overflow(offset, length, &end) ||
	    end > (u64)i_size_read(inode))
		goto nxio;
out:
	fdput(f);
	return priv;
nxio:
	if (*denied)
		allow_write_access(priv);
	*denied = false;
	fput(priv);
	priv = ERR_PTR(-ENXIO);
	goto out;
busy:
	fput(priv);
	priv = ERR_PTR(-ETXTBSY);
	goto out;
}

/* THAW_SNAP_CREATE_HUGE only where 2 MiB mappings work (thaw.h). */
#define THAW_SNAP_CREATE_FLAGS	(THAW_SNAP_CREATE_LAZY | \
				 (THAW_HUGE ? THAW_SNAP_CREATE_HUGE : 0))

long thaw_snap_create(unsigned int cmd, unsigned long arg)
{
	struct thaw_snap_create args;
	unsigned int huge_min = 0;
	struct thaw_snap *snap;
	unsigned long nr_pages;
	struct file *src;
	bool lazy, denied;
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
	lazy = args.flags & THAW_SNAP_CREATE_LAZY;
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
		ret = thaw_snap_find(args.name, NULL) ? -EEXIST : 0;
		mutex_unlock(&thaw_objects_lock);
		if (ret)
			return ret;
	}

	src = thaw_open_source(args.fd, args.offset, args.length, lazy,
			       &denied);
	if (IS_ERR(src))
		return PTR_ERR(src);

	snap = thaw_snap_alloc(nr_pages, huge_min, lazy);
	if (IS_ERR(snap)) {
		if (denied)
			allow_write_access(src);
		fput(src);
		return PTR_ERR(snap);
	}
	/* From here the object holds the file (thaw_fill_stop()). */
	snap->src = src;
	snap->src_offset = args.offset;
	snap->denied = denied;
	memcpy(snap->name, args.name, THAW_NAME_MAX);
	if (!lazy)
		ret = thaw_snap_fill_all(snap);
	if (!ret)
		ret = thaw_snap_publish(snap);
	if (ret) {
		thaw_snap_free(snap);
		return ret;
	}
	thaw_fill_start(snap);
	return thaw_snap_install_fd(snap);
}

long thaw_snap_open(unsigned int cmd, unsigned long arg)
{
	struct thaw_snap_open args;
	struct thaw_snap *snap;
	kuid_t uid;
	int ret;

	ret = thaw_copy_arg(&args, sizeof(args), THAW_SNAP_OPEN_SIZE_VER0,
			    cmd, arg);
	if (ret)
		return ret;
	if ((args.flags & ~THAW_SNAP_OPEN_OWNER) || args.pad || args.pad2 ||
	    (!(args.flags & THAW_SNAP_OPEN_OWNER) && args.owner_uid) ||
	    !thaw_all_zero(args.reserved, ARRAY_SIZE(args.reserved)))
		return -EINVAL;
	ret = thaw_check_name(args.name);
	if (ret)
		return ret;
	if (!args.name[0])
		return -EINVAL;
	if (args.flags & THAW_SNAP_OPEN_OWNER) {
		uid = make_kuid(current_user_ns(), args.owner_uid);
		if (!uid_valid(uid))
			return -EINVAL;
	}

	mutex_lock(&thaw_objects_lock);
	snap = thaw_snap_find(args.name, args.flags & THAW_SNAP_OPEN_OWNER ?
					 &uid : NULL);
	if (snap && !thaw_owner_may_open(&snap->owner)) {
		mutex_unlock(&thaw_objects_lock);
		return -EPERM;
	}
	/*
	 * A listed object has a reference, or is cached (with none): release
	 * and eviction both happen under the lock.
	 */
	if (snap && snap->cached)
		thaw_cache_revive(snap);
	else if (snap)
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
	st->clones = snap->nr_clones;
	st->wset_pages = READ_ONCE(snap->wset_nr);
	st->wset_written = READ_ONCE(snap->wset_written);
	st->faults = faults;
	st->premapped = premapped;
	st->private_pages = private;
	st->regions = snap->nr_regions;
	st->state = (snap->lazy ? THAW_SNAP_STATE_LAZY : 0) |
		    (snap->cached ? THAW_SNAP_STATE_CACHED : 0);
	st->pad2 = 0;

	spin_lock(&snap->fill_lock);
	st->data_pages = snap->count.data_pages;
	st->zero_pages = snap->count.zero_pages;
	st->pinned_pages = snap->pinned;
	st->huge_regions = snap->count.huge_regions;
	st->small_regions = snap->count.small_regions;
	st->zero_regions = snap->count.zero_regions;
	st->huge_fallbacks = snap->count.huge_fallbacks;
	st->filled_regions = snap->nr_filled;
	st->filled_fault = snap->filled_by[THAW_FILL_FAULT];
	st->filled_premap = snap->filled_by[THAW_FILL_PREMAP];
	st->filled_background = snap->filled_by[THAW_FILL_BACKGROUND];
	st->fill_waits = snap->fill_waits;
	st->fill_errors = snap->fill_errors;
	if (snap->src && snap->lazy)
		st->state |= THAW_SNAP_STATE_FILLING;
	spin_unlock(&snap->fill_lock);
}

void thaw_fill_stats(struct thaw_stats *st)
{
	mutex_lock(&thaw_objects_lock);
	st->snapshots = thaw_nr_snapshots - thaw_nr_cached;
	st->clones = thaw_nr_clones;
	thaw_cache_stats(st);
	mutex_unlock(&thaw_objects_lock);
	st->pinned_pages = atomic_long_read(&thaw_pinned);
	st->pinned_limit = thaw_pinned_limit();
	thaw_fill_module_stats(st);
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
