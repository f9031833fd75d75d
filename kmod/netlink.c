// SPDX-License-Identifier: GPL-2.0
/*
 * The "thaw" generic netlink family: the statistics of the module, of every
 * snapshot object and of every clone, for tools that are not the process
 * holding them (thawctl stats).  Read-only; no command takes an attribute.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/genetlink.h>

#include "thaw.h"

static struct genl_family thaw_nl_family;

static int thaw_nl_put_u64(struct sk_buff *skb, int attr, u64 v)
{
	return nla_put_u64_64bit(skb, attr, v, THAW_A_PAD);
}

/* The fill counters, module-wide or of one object. */
static int thaw_nl_put_fills(struct sk_buff *skb, u64 fault, u64 premap,
			     u64 background, u64 waits, u64 errors)
{
	return thaw_nl_put_u64(skb, THAW_A_FILLED_FAULT, fault) ||
	       thaw_nl_put_u64(skb, THAW_A_FILLED_PREMAP, premap) ||
	       thaw_nl_put_u64(skb, THAW_A_FILLED_BACKGROUND, background) ||
	       thaw_nl_put_u64(skb, THAW_A_FILL_WAITS, waits) ||
	       thaw_nl_put_u64(skb, THAW_A_FILL_ERRORS, errors);
}

static int thaw_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct thaw_stats st = {};
	struct sk_buff *msg;
	void *hdr;

	thaw_fill_stats(&st);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &thaw_nl_family, 0,
				THAW_CMD_GET_STATS);
	if (!hdr)
		goto nospace;
	if (thaw_nl_put_u64(msg, THAW_A_SNAPSHOTS, st.snapshots) ||
	    thaw_nl_put_u64(msg, THAW_A_CLONES, st.clones) ||
	    thaw_nl_put_u64(msg, THAW_A_PINNED_PAGES, st.pinned_pages) ||
	    thaw_nl_put_u64(msg, THAW_A_PINNED_LIMIT, st.pinned_limit) ||
	    thaw_nl_put_u64(msg, THAW_A_CACHED_OBJECTS, st.cached_objects) ||
	    thaw_nl_put_u64(msg, THAW_A_CACHED_PAGES, st.cached_pages) ||
	    thaw_nl_put_u64(msg, THAW_A_CACHE_LIMIT, st.cache_limit) ||
	    thaw_nl_put_u64(msg, THAW_A_EVICTIONS, st.evictions) ||
	    thaw_nl_put_u64(msg, THAW_A_LINGERING_PAGES,
			    thaw_lingering_pages()) ||
	    thaw_nl_put_fills(msg, st.filled_fault, st.filled_premap,
			      st.filled_background, st.fill_waits,
			      st.fill_errors))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static u64 thaw_nl_snap_id(struct list_head *node)
{
	return list_entry(node, struct thaw_snap, node)->id;
}

static int thaw_nl_fill_snap(struct sk_buff *skb, struct list_head *node)
{
	struct thaw_snap *snap = list_entry(node, struct thaw_snap, node);
	struct thaw_snap_stats st = {};

	thaw_snap_fill_stats(snap, &st);
	if (thaw_nl_put_u64(skb, THAW_A_SNAP_ID, st.id) ||
	    (snap->name[0] &&
	     nla_put_string(skb, THAW_A_SNAP_NAME, snap->name)) ||
	    thaw_nl_put_u64(skb, THAW_A_PAGES, st.pages) ||
	    thaw_nl_put_u64(skb, THAW_A_DATA_PAGES, st.data_pages) ||
	    thaw_nl_put_u64(skb, THAW_A_ZERO_PAGES, st.zero_pages) ||
	    thaw_nl_put_u64(skb, THAW_A_PINNED_PAGES, st.pinned_pages) ||
	    thaw_nl_put_u64(skb, THAW_A_CLONES, st.clones) ||
	    thaw_nl_put_u64(skb, THAW_A_WSET_PAGES, st.wset_pages) ||
	    thaw_nl_put_u64(skb, THAW_A_FAULTS, st.faults) ||
	    thaw_nl_put_u64(skb, THAW_A_PREMAPPED, st.premapped) ||
	    thaw_nl_put_u64(skb, THAW_A_PRIVATE_PAGES, st.private_pages) ||
	    thaw_nl_put_u64(skb, THAW_A_HUGE_REGIONS, st.huge_regions) ||
	    thaw_nl_put_u64(skb, THAW_A_SMALL_REGIONS, st.small_regions) ||
	    thaw_nl_put_u64(skb, THAW_A_ZERO_REGIONS, st.zero_regions) ||
	    thaw_nl_put_u64(skb, THAW_A_HUGE_FALLBACKS, st.huge_fallbacks) ||
	    thaw_nl_put_u64(skb, THAW_A_WSET_WRITTEN, st.wset_written) ||
	    thaw_nl_put_u64(skb, THAW_A_REGIONS, st.regions) ||
	    thaw_nl_put_u64(skb, THAW_A_FILLED_REGIONS, st.filled_regions) ||
	    thaw_nl_put_fills(skb, st.filled_fault, st.filled_premap,
			      st.filled_background, st.fill_waits,
			      st.fill_errors) ||
	    nla_put_u32(skb, THAW_A_SNAP_STATE, st.state) ||
	    nla_put_u32(skb, THAW_A_SNAP_OWNER_UID,
			from_kuid_munged(current_user_ns(), snap->owner.uid)))
		return -EMSGSIZE;
	return 0;
}

static u64 thaw_nl_clone_id(struct list_head *node)
{
	return list_entry(node, struct thaw_clone, node)->id;
}

static int thaw_nl_fill_clone(struct sk_buff *skb, struct list_head *node)
{
	struct thaw_clone *clone = list_entry(node, struct thaw_clone, node);
	struct thaw_clone_stats st = {};

	thaw_clone_fill_stats(clone, &st);
	if (thaw_nl_put_u64(skb, THAW_A_CLONE_ID, st.id) ||
	    thaw_nl_put_u64(skb, THAW_A_SNAP_ID, clone->snap->id) ||
	    nla_put_u32(skb, THAW_A_PID, clone->pid) ||
	    thaw_nl_put_u64(skb, THAW_A_PAGES, st.pages) ||
	    thaw_nl_put_u64(skb, THAW_A_SHARED_PAGES, st.shared_pages) ||
	    thaw_nl_put_u64(skb, THAW_A_ZERO_PAGES, st.zero_pages) ||
	    thaw_nl_put_u64(skb, THAW_A_PRIVATE_PAGES, st.private_pages) ||
	    thaw_nl_put_u64(skb, THAW_A_FAULTS, st.faults) ||
	    thaw_nl_put_u64(skb, THAW_A_COW_FAULTS, st.cow_faults) ||
	    thaw_nl_put_u64(skb, THAW_A_PREMAPPED, st.premapped) ||
	    thaw_nl_put_u64(skb, THAW_A_RECORDED, st.recorded) ||
	    thaw_nl_put_u64(skb, THAW_A_RESETS, st.resets) ||
	    thaw_nl_put_u64(skb, THAW_A_RESET_PAGES, st.reset_pages) ||
	    nla_put_u32(skb, THAW_A_STATE, st.state) ||
	    thaw_nl_put_u64(skb, THAW_A_PMD_MAPS, st.pmd_maps) ||
	    thaw_nl_put_u64(skb, THAW_A_PMD_REGIONS, st.pmd_regions) ||
	    thaw_nl_put_u64(skb, THAW_A_SPLITS, st.splits) ||
	    thaw_nl_put_u64(skb, THAW_A_PRIVATE_REGIONS, st.private_regions) ||
	    thaw_nl_put_u64(skb, THAW_A_PRIVATE_MADE, st.private_made) ||
	    thaw_nl_put_u64(skb, THAW_A_PRIVATE_BUDGET, st.private_budget) ||
	    thaw_nl_put_u64(skb, THAW_A_PRIVATE_CHOSEN, st.private_chosen) ||
	    thaw_nl_put_u64(skb, THAW_A_PRIVATE_OVER_BUDGET,
			    st.private_over_budget) ||
	    thaw_nl_put_u64(skb, THAW_A_PRIVATE_ALLOC_FAILED,
			    st.private_alloc_failed) ||
	    thaw_nl_put_u64(skb, THAW_A_PRIVATE_REFRESHED,
			    st.private_refreshed))
		return -EMSGSIZE;
	return 0;
}

/* A dump of one kind of object: those on @list, as @cmd messages. */
struct thaw_nl_dump {
	u8 cmd;
	struct list_head *list;			/* thaw_objects_lock */
	u64 (*id)(struct list_head *node);
	int (*fill)(struct sk_buff *skb, struct list_head *node);
};

static const struct thaw_nl_dump thaw_nl_snapshots = {
	.cmd	= THAW_CMD_GET_SNAPSHOT,
	.list	= &thaw_snapshots,
	.id	= thaw_nl_snap_id,
	.fill	= thaw_nl_fill_snap,
};

static const struct thaw_nl_dump thaw_nl_clones = {
	.cmd	= THAW_CMD_GET_CLONE,
	.list	= &thaw_clones,
	.id	= thaw_nl_clone_id,
	.fill	= thaw_nl_fill_clone,
};

/*
 * Dumps resume by id: objects are listed in increasing id order (ids are
 * given when an object is listed), cb->args[0] is the next id to send.
 */
static int thaw_nl_dump(struct sk_buff *skb, struct netlink_callback *cb,
			const struct thaw_nl_dump *d)
{
	u64 next = cb->args[0];
	struct list_head *node;
	void *hdr;

	mutex_lock(&thaw_objects_lock);
	list_for_each(node, d->list) {
		if (d->id(node) < next)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &thaw_nl_family,
				  NLM_F_MULTI, d->cmd);
		if (!hdr)
			break;
		if (d->fill(skb, node)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		next = d->id(node) + 1;
	}
	mutex_unlock(&thaw_objects_lock);
	cb->args[0] = next;
	return skb->len;
}

static int thaw_nl_dump_snapshots(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	return thaw_nl_dump(skb, cb, &thaw_nl_snapshots);
}

static int thaw_nl_dump_clones(struct sk_buff *skb,
			       struct netlink_callback *cb)
{
	return thaw_nl_dump(skb, cb, &thaw_nl_clones);
}

static const struct genl_small_ops thaw_nl_ops[] = {
	{
		.cmd	= THAW_CMD_GET_STATS,
		.doit	= thaw_nl_get_stats,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= THAW_CMD_GET_SNAPSHOT,
		.dumpit	= thaw_nl_dump_snapshots,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= THAW_CMD_GET_CLONE,
		.dumpit	= thaw_nl_dump_clones,
		.flags	= GENL_ADMIN_PERM,
	},
};

static struct genl_family thaw_nl_family __ro_after_init = {
	.name		= THAW_GENL_NAME,
	.version	= THAW_GENL_VERSION,
	.maxattr	= 0,	/* requests carry no attribute */
	.module		= THIS_MODULE,
	.small_ops	= thaw_nl_ops,
	.n_small_ops	= ARRAY_SIZE(thaw_nl_ops),
	.resv_start_op	= THAW_CMD_MAX + 1,
	.parallel_ops	= true,
};

int thaw_netlink_init(void)
{
	return genl_register_family(&thaw_nl_family);
}

void thaw_netlink_exit(void)
{
	genl_unregister_family(&thaw_nl_family);
}
