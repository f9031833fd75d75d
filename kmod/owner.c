// SPDX-License-Identifier: GPL-2.0
/*
 * Who owns a snapshot object.
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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/user_namespace.h>

#include "thaw.h"

/* @o is the current task's credentials' (creation time): 0 or -errno. */
int thaw_owner_init(struct thaw_owner *o)
{
	o->uid = current_euid();
	o->ns = get_user_ns(current_user_ns());
	return 0;
}

/* Let go of what thaw_owner_init() took. */
void thaw_owner_release(struct thaw_owner *o)
{
	if (o->ns)
		put_user_ns(o->ns);
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
