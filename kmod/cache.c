// SPDX-License-Identifier: GPL-2.0
/*
 * The cache of unreferenced named objects.
 *
 * When the last file descriptor and the last clone of a named object go,
 * the object is kept rather than freed, so that the next restore of the
 * same snapshot finds it by name (THAW_IOC_SNAP_OPEN) instead of reading
 * the memory file again: an idle gap between invocations does not throw
 * it away.  Anonymous objects cannot be found again and are freed as
 * before.
 *
 * A cached object is found only by its owner (owner.c), as a live one.
 *
 * The cache is bounded: its objects' pinned pages stay within cache_mb,
 * and those of one owner (the creator's euid) within cache_owner_mb when
 * it is set; an object that does not fit pushes out the least recently
 * used ones (of its owner first), and one larger than a limit is not
 * kept.  Cached objects stay on the object list (stats, netlink, names)
 * and keep counting against max_pinned_mb and max_snapshots, and stay
 * charged to their creator's memory cgroup, RLIMIT_MEMLOCK and per-user
 * caps; a creation or a private copy that would pass max_pinned_mb, or a
 * creation at max_snapshots, evicts cached objects first, least recently
 * used first; one that would pass its owner's RLIMIT_MEMLOCK,
 * max_pinned_mb_per_user or max_snapshots_per_user evicts that owner's.
 * THAW_IOC_CACHE_DROP frees the caller's (every owner's with
 * THAW_CACHE_DROP_ALL), lowering cache_mb what no longer fits, the
 * module's unload all of them.
 *
 * Everything here is under thaw_objects_lock; evicted objects are freed
 * after it is dropped (thaw_cache_free()), since freeing waits for the
 * object's background fill.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/mutex.h>

#include "thaw.h"

static LIST_HEAD(thaw_cache_lru);	/* thaw_objects_lock; oldest first */
unsigned long thaw_nr_cached;		/* thaw_objects_lock */
static u64 thaw_evictions;		/* thaw_objects_lock */

/* Pinned pages of the cached objects (of @owner only, if given). */
static unsigned long thaw_cache_pages(const kuid_t *owner)
{
	struct thaw_snap *snap;
	unsigned long n = 0;

	lockdep_assert_held(&thaw_objects_lock);
	list_for_each_entry(snap, &thaw_cache_lru, lru)
		if (!owner || uid_eq(snap->owner.uid, *owner))
			n += READ_ONCE(snap->pinned);
	return n;
}

/* Take @snap out of the cache and off the object list, onto @evicted. */
static void thaw_cache_evict(struct thaw_snap *snap,
			     struct list_head *evicted)
{
	lockdep_assert_held(&thaw_objects_lock);
	list_del_init(&snap->node);
	thaw_nr_snapshots--;
	thaw_owner_listed(&snap->owner, -1);
	list_move_tail(&snap->lru, evicted);
	snap->cached = false;
	thaw_nr_cached--;
	thaw_evictions++;
}

/* The least recently used cached object (of @owner only, if given). */
static struct thaw_snap *thaw_cache_oldest(const kuid_t *owner)
{
	struct thaw_snap *snap;

	list_for_each_entry(snap, &thaw_cache_lru, lru)
		if (!owner || uid_eq(snap->owner.uid, *owner))
			return snap;
	return NULL;
}

/*
 * Evict the oldest cached objects (of @owner, if given) until their pages
 * and @extra fit in @limit; false if they cannot.
 */
static bool thaw_cache_fit(const kuid_t *owner, unsigned long extra,
			   unsigned long limit, struct list_head *evicted)
{
	unsigned long used = thaw_cache_pages(owner);
	struct thaw_snap *old;

	while (used + extra > limit) {
		old = thaw_cache_oldest(owner);
		if (!old)
			return false;
		used -= READ_ONCE(old->pinned);
		thaw_cache_evict(old, evicted);
	}
	return true;
}

/*
 * The last reference to the listed object @snap went (its release, with
 * thaw_objects_lock held): keep it in the cache if it is named and fits,
 * making room; true when kept.  Objects pushed out go on @evicted.
 */
bool thaw_cache_keep(struct thaw_snap *snap, struct list_head *evicted)
{
	unsigned long size = READ_ONCE(snap->pinned);
	unsigned long limit = thaw_cache_limit();
	unsigned long own = thaw_cache_owner_limit();

	lockdep_assert_held(&thaw_objects_lock);
	if (!snap->name[0] || size > limit || (own && size > own))
		return false;
	if (own && !thaw_cache_fit(&snap->owner.uid, size, own, evicted))
		return false;
	if (!thaw_cache_fit(NULL, size, limit, evicted))
		return false;
	list_add_tail(&snap->lru, &thaw_cache_lru);
	snap->cached = true;
	thaw_nr_cached++;
	return true;
}

/* THAW_IOC_SNAP_OPEN found @snap in the cache: it is the caller's again. */
void thaw_cache_revive(struct thaw_snap *snap)
{
	lockdep_assert_held(&thaw_objects_lock);
	list_del_init(&snap->lru);
	snap->cached = false;
	thaw_nr_cached--;
	/* It had no reference; this one is the new file descriptor's. */
	kref_init(&snap->ref);
}

/* Evict the least recently used cached object, if any (max_snapshots). */
bool thaw_cache_evict_one(struct list_head *evicted)
{
	struct thaw_snap *old = thaw_cache_oldest(NULL);

	if (!old)
		return false;
	thaw_cache_evict(old, evicted);
	return true;
}

/*
 * Evict the least recently used cached object of @uid, if any
 * (max_snapshots_per_user).
 */
bool thaw_cache_evict_owner(kuid_t uid, struct list_head *evicted)
{
	struct thaw_snap *old = thaw_cache_oldest(&uid);

	if (!old)
		return false;
	thaw_cache_evict(old, evicted);
	return true;
}

/* Free evicted objects; thaw_objects_lock is not held. */
void thaw_cache_free(struct list_head *evicted)
{
	struct thaw_snap *snap, *next;

	list_for_each_entry_safe(snap, next, evicted, lru) {
		list_del_init(&snap->lru);
		thaw_snap_free(snap);
	}
}

/*
 * @need more pinned pages would pass max_pinned_mb: evict the oldest
 * cached objects until they would not, and free them.  True when it
 * evicted something (the caller tries again).
 */
bool thaw_cache_shrink(unsigned long need)
{
	unsigned long limit = thaw_pinned_limit(), freed = 0, over;
	struct thaw_snap *old;
	LIST_HEAD(evicted);

	mutex_lock(&thaw_objects_lock);
	over = atomic_long_read(&thaw_pinned) + need;
	over = over > limit ? over - limit : 0;
	while (freed < over && (old = thaw_cache_oldest(NULL))) {
		freed += READ_ONCE(old->pinned);
		thaw_cache_evict(old, &evicted);
	}
	mutex_unlock(&thaw_objects_lock);
	thaw_cache_free(&evicted);
	return freed > 0;
}

/*
 * An object of @uid would pass its owner's limits on pinned memory
 * (owner.c): evict and free that owner's least recently used cached
 * object.  True when there was one (the caller tries again).
 */
bool thaw_cache_shrink_owner(kuid_t uid)
{
	LIST_HEAD(evicted);
	bool ret;

	mutex_lock(&thaw_objects_lock);
	ret = thaw_cache_evict_owner(uid, &evicted);
	mutex_unlock(&thaw_objects_lock);
	thaw_cache_free(&evicted);
	return ret;
}

/* cache_mb or cache_owner_mb was lowered: evict what no longer fits. */
void thaw_cache_trim(void)
{
	unsigned long own = thaw_cache_owner_limit();
	struct thaw_snap *snap, *next;
	LIST_HEAD(evicted);

	mutex_lock(&thaw_objects_lock);
	thaw_cache_fit(NULL, 0, thaw_cache_limit(), &evicted);
	list_for_each_entry_safe(snap, next, &thaw_cache_lru, lru)
		if (own && thaw_cache_pages(&snap->owner.uid) > own)
			thaw_cache_evict(snap, &evicted);
	mutex_unlock(&thaw_objects_lock);
	thaw_cache_free(&evicted);
}

/* The least recently used cached object of the caller's, or NULL. */
static struct thaw_snap *thaw_cache_oldest_own(void)
{
	struct thaw_snap *snap;

	list_for_each_entry(snap, &thaw_cache_lru, lru)
		if (thaw_owner_is_current(&snap->owner))
			return snap;
	return NULL;
}

/*
 * Free the cached objects of the caller (@own: THAW_IOC_CACHE_DROP), or of
 * every owner (THAW_CACHE_DROP_ALL, the unload): how many.
 */
unsigned long thaw_cache_drop(bool own, unsigned long *pages)
{
	unsigned long n = 0, p = 0;
	struct thaw_snap *old;
	LIST_HEAD(evicted);

	mutex_lock(&thaw_objects_lock);
	while ((old = own ? thaw_cache_oldest_own() : thaw_cache_oldest(NULL))) {
		p += READ_ONCE(old->pinned);
		n++;
		thaw_cache_evict(old, &evicted);
		/* A drop is asked for: not an eviction to make room. */
		thaw_evictions--;
	}
	mutex_unlock(&thaw_objects_lock);
	thaw_cache_free(&evicted);
	if (pages)
		*pages = p;
	return n;
}

void thaw_cache_stats(struct thaw_stats *st)
{
	lockdep_assert_held(&thaw_objects_lock);
	st->cached_objects = thaw_nr_cached;
	st->cached_pages = thaw_cache_pages(NULL);
	st->cache_limit = thaw_cache_limit();
	st->evictions = thaw_evictions;
}
