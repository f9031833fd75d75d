// SPDX-License-Identifier: GPL-2.0
/*
 * Who owns a snapshot object, and what its pinned memory costs the owner.
 *
 * An object belongs to the credentials that created it: the effective
 * uid and the user namespace of the THAW_IOC_SNAP_CREATE caller.  Names
 * are per owner: a name lookup (THAW_IOC_SNAP_OPEN, a creation's check for
 * a name in use, the cache of unreferenced objects) only ever sees the
 * caller's own objects, so another user can neither open a victim's
 * object nor plant one under the name the victim will use; two owners may
 * each hold an object of the same name.  Only THAW_SNAP_OPEN_OWNER names
 * another owner, and it needs CAP_SYS_ADMIN in that owner's user
 * namespace (EPERM otherwise).
 *
 * An object's pinned pages (snap->pinned) are charged, as they are
 * counted, to:
 *  - the creator's user (user_struct.locked_vm, per real user across all
 *    its processes, as io_uring and BPF charge), held to the creator's
 *    RLIMIT_MEMLOCK at creation, ENOMEM past it, unless the creator has
 *    CAP_IPC_LOCK, as for mlock();
 *  - the creator's mm->pinned_vm, so that VmPin in /proc/PID/status
 *    shows them while the object lives, whether or not they count against
 *    the limit;
 *  - the creator's per-user account here, against max_pinned_mb_per_user
 *    (EDQUOT), beside the object count against max_snapshots_per_user.
 * They are uncharged when the object frees them (a lazy object's unused
 * reservation, the object's end).  The charges take no lock: they may be
 * dropped in a fault or under a clone's mmap lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/list.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/user_namespace.h>

#include "thaw.h"

/* One user's (kuid's) objects: held by each of them. */
struct thaw_user {
	kuid_t uid;
	unsigned long ref;		/* thaw_users_lock: its objects */
	atomic_long_t pinned;		/* pages charged by its objects */
	unsigned long nr_snapshots;	/* thaw_objects_lock: listed ones */
	struct list_head node;		/* thaw_users_lock */
};

static LIST_HEAD(thaw_users);		/* thaw_users_lock */
static DEFINE_SPINLOCK(thaw_users_lock);

static struct thaw_user *thaw_user_find(kuid_t uid)
{
	struct thaw_user *u;

	lockdep_assert_held(&thaw_users_lock);
	list_for_each_entry(u, &thaw_users, node)
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/* The per-user account of @uid, made if it is the user's first object. */
static struct thaw_user *thaw_user_get(kuid_t uid)
{
	struct thaw_user *u, *new;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	spin_lock(&thaw_users_lock);
	u = thaw_user_find(uid);
	if (u) {
		u->ref++;
	} else {
		u = new;
		new = NULL;
		u->uid = uid;
		u->ref = 1;
		atomic_long_set(&u->pinned, 0);
		list_add(&u->node, &thaw_users);
	}
	spin_unlock(&thaw_users_lock);
	kfree(new);
	return u;
}

static void thaw_user_put(struct thaw_user *u)
{
	bool last;

	spin_lock(&thaw_users_lock);
	last = !--u->ref;
	if (last)
		list_del(&u->node);
	spin_unlock(&thaw_users_lock);
	if (!last)
		return;
	WARN_ON(atomic_long_read(&u->pinned) || u->nr_snapshots);
	kfree(u);
}

/* @o is the current task's credentials' (creation time): 0 or -ENOMEM. */
int thaw_owner_init(struct thaw_owner *o)
{
	o->uid = current_euid();
	o->user = thaw_user_get(o->uid);
	if (!o->user)
		return -ENOMEM;
	o->ns = get_user_ns(current_user_ns());
	/* Checked at creation: a fill or a fault may run in anyone's task. */
	if (capable(CAP_IPC_LOCK)) {
		o->locked = NULL;
		o->memlock = ULONG_MAX;
	} else {
		o->locked = get_uid(current_user());
		o->memlock = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	}
	o->mm = current->mm;
	if (o->mm)
		mmgrab(o->mm);
	return 0;
}

/* @dst: another holder of @src's references (released on its own). */
void thaw_owner_dup(struct thaw_owner *dst, const struct thaw_owner *src)
{
	*dst = *src;
	if (dst->user) {
		spin_lock(&thaw_users_lock);
		dst->user->ref++;
		spin_unlock(&thaw_users_lock);
	}
	if (dst->ns)
		get_user_ns(dst->ns);
	if (dst->locked)
		get_uid(dst->locked);
	if (dst->mm)
		mmgrab(dst->mm);
}

/* Let go of what thaw_owner_init() took; nothing may be charged. */
void thaw_owner_release(struct thaw_owner *o)
{
	if (o->mm)
		mmdrop(o->mm);
	if (o->locked)
		free_uid(o->locked);
	if (o->ns)
		put_user_ns(o->ns);
	if (o->user)
		thaw_user_put(o->user);
}

/* Is @o the caller (its effective uid, in its user namespace)? */
bool thaw_owner_is_current(const struct thaw_owner *o)
{
	return uid_eq(o->uid, current_euid()) && o->ns == current_user_ns();
}

/* May the caller open an object of @o (THAW_SNAP_OPEN_OWNER)? */
bool thaw_owner_may_open(const struct thaw_owner *o)
{
	return thaw_owner_is_current(o) || ns_capable(o->ns, CAP_SYS_ADMIN);
}

static bool thaw_add_capped(atomic_long_t *v, unsigned long n,
			    unsigned long limit)
{
	long cur = atomic_long_read(v);
	unsigned long next;

	do {
		next = (unsigned long)cur + n;
		if (next > limit || next < n)
			return false;
	} while (!atomic_long_try_cmpxchg(v, &cur, next));
	return true;
}

/*
 * Charge @n pinned pages to @o: -EDQUOT past max_pinned_mb_per_user,
 * -ENOMEM past the creator's RLIMIT_MEMLOCK; nothing charged then.
 */
int thaw_owner_charge(struct thaw_owner *o, unsigned long n)
{
	unsigned long cap = thaw_pinned_user_limit();

	if (!thaw_add_capped(&o->user->pinned, n, cap ?: ULONG_MAX))
		return -EDQUOT;
	if (o->locked && !thaw_add_capped(&o->locked->locked_vm, n,
					  o->memlock)) {
		atomic_long_sub(n, &o->user->pinned);
		return -ENOMEM;
	}
	if (o->mm)
		atomic64_add(n, &o->mm->pinned_vm);
	return 0;
}

void thaw_owner_uncharge(struct thaw_owner *o, unsigned long n)
{
	if (!n)
		return;
	atomic_long_sub(n, &o->user->pinned);
	if (o->locked)
		atomic_long_sub(n, &o->locked->locked_vm);
	if (o->mm)
		atomic64_sub(n, &o->mm->pinned_vm);
}

/* Is @o's user at max_snapshots_per_user (listed objects, cached too)? */
bool thaw_owner_at_cap(const struct thaw_owner *o)
{
	unsigned int cap = thaw_max_snapshots_per_user();

	lockdep_assert_held(&thaw_objects_lock);
	return cap && o->user->nr_snapshots >= cap;
}

/* An object of @o was listed (@n 1) or unlisted (@n -1). */
void thaw_owner_listed(struct thaw_owner *o, int n)
{
	lockdep_assert_held(&thaw_objects_lock);
	o->user->nr_snapshots += n;
}
