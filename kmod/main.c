// SPDX-License-Identifier: GPL-2.0
/*
 * thaw.ko: the /dev/thaw misc device, its ioctl dispatch, the module's
 * parameters and its init and exit.
 *
 * Every open of /dev/thaw gets a struct thaw_ctx.  The first ioctl on it must
 * be THAW_IOC_API; until it succeeds every other ioctl fails with -EINVAL.
 * Snapshot objects (snapshot.c) are anon-inode fds created here; their fops
 * hold a module reference, so the module cannot go while one lives.
 * Cached objects (cache.c) hold none: the unload frees them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "thaw.h"

#define THAW_FEATURES_SUPPORTED	(THAW_FEATURE_EXTENSIBLE_IOCTLS | \
				 THAW_FEATURE_SNAPSHOT | THAW_FEATURE_WSET | \
				 THAW_FEATURE_RESET | THAW_FEATURE_STATS | \
				 THAW_FEATURE_WSET_WRITTEN | \
				 THAW_FEATURE_LAZY | THAW_FEATURE_CACHE | \
				 THAW_FEATURE_RESET_KEEP | THAW_FEATURE_OWNER | \
				 THAW_FEATURE_CACHE_DROP_OWN | \
				 (THAW_HUGE ? THAW_FEATURE_HUGE | \
					      THAW_FEATURE_PRIVATE_HUGE | \
					      THAW_FEATURE_COPY_ONLY | \
					      THAW_FEATURE_RESET_LATER : 0))

static unsigned int max_pinned_mb;
module_param(max_pinned_mb, uint, 0644);
MODULE_PARM_DESC(max_pinned_mb,
		 "Cap on the memory all snapshot objects hold, in MiB (0 at load: half of RAM)");

static unsigned int max_snapshots = 4096;
module_param(max_snapshots, uint, 0644);
MODULE_PARM_DESC(max_snapshots, "Cap on live snapshot objects");

/*
 * Per user (the creator's euid, whatever its user namespace), beside the
 * global caps, so that one user cannot take them all (kmod/owner.c); 0:
 * none.  Cached objects count, and a user's own make room first.
 */
static unsigned int max_snapshots_per_user;
module_param(max_snapshots_per_user, uint, 0644);
MODULE_PARM_DESC(max_snapshots_per_user,
		 "Cap on the snapshot objects of one user (creator's euid), cached ones included (0: none)");

static unsigned int max_pinned_mb_per_user;
module_param(max_pinned_mb_per_user, uint, 0644);
MODULE_PARM_DESC(max_pinned_mb_per_user,
		 "Cap on the memory the snapshot objects of one user (creator's euid) hold, in MiB (0: none)");

/*
 * Every 4 KiB mapping of a data page of an object holds a page reference:
 * this keeps the count below INT_MAX.  Zero pages are mapped as the
 * kernel's zero page and take none (clone.c).
 */
static unsigned int max_page_maps = 1U << 30;
module_param(max_page_maps, uint, 0644);
MODULE_PARM_DESC(max_page_maps,
		 "Cap on the mappings of any one page of an object, guarding its reference count");

/*
 * Density of a 2 MiB region (its non-zero 4 KiB pages) from which a huge
 * object stores it in one 2 MiB page, when THAW_IOC_SNAP_CREATE does not
 * say.  Below it the region stays in 4 KiB pages: a 2 MiB page costs the
 * region's zero pages too, once per object.
 */
static unsigned int huge_min_pages = 128;
module_param(huge_min_pages, uint, 0644);
MODULE_PARM_DESC(huge_min_pages,
		 "Default density (non-zero pages of 512) from which a region of a huge object is stored in a 2 MiB page");

/*
 * Private 2 MiB copies a new clone may hold: the regions its object's
 * working set saw written, those whose copy saves the most faults first.
 * 16 regions (32 MiB) take a 128 MiB function's second-level faults down
 * 18-25x from 4 KiB pages (Documentation/dev-tools/bench.rst, "regions").
 */
static unsigned int private_huge_max = 16;
module_param(private_huge_max, uint, 0644);
MODULE_PARM_DESC(private_huge_max,
		 "Private 2 MiB copies a new clone may hold, chosen from the working set (0: none)");

/*
 * The faults a private copy must save (touched + written pages of its
 * region in the working set) for the region to get one: a copy costs a
 * 2 MiB allocation, zeroed where init_on_alloc is on, and 2 MiB copied,
 * and 2 MiB of private memory; 64 second-level faults (and their 4 KiB
 * copies) cost about as much time on hardware.
 */
static unsigned int private_min_faults = 64;
module_param(private_min_faults, uint, 0644);
MODULE_PARM_DESC(private_min_faults,
		 "Faults a region's private 2 MiB copy must save (touched + written pages in the working set) for the region to get one");

/* Fault injection for the 4 KiB fallbacks of 2 MiB pages (tests). */
static unsigned int fail_huge_alloc;
module_param(fail_huge_alloc, uint, 0644);
MODULE_PARM_DESC(fail_huge_alloc,
		 "Testing: fail every Nth 2 MiB allocation, of huge objects and of private copies (0: never, 1: all)");
static atomic_t thaw_huge_allocs = ATOMIC_INIT(0);

/*
 * The background fill of lazy objects (fill.c): on by default, so that an
 * object soon holds all its memory and lets go of its file; off, only
 * faults and premaps fill regions (tests).
 */
static bool fill_background = true;
module_param(fill_background, bool, 0644);
MODULE_PARM_DESC(fill_background,
		 "Fill lazy objects in the background, working set first (0: only on use)");

/* Fault injection for lazy fills (tests). */
static unsigned int fail_fill;
module_param(fail_fill, uint, 0644);
MODULE_PARM_DESC(fail_fill,
		 "Testing: fail every Nth region fill with EIO (0: never, 1: all)");
static atomic_t thaw_fills = ATOMIC_INIT(0);

/*
 * The cache of unreferenced named objects (cache.c).  -1 at load: a
 * quarter of max_pinned_mb (an eighth of RAM by default), room for the
 * hot snapshots of a worker host while leaving three quarters of the cap
 * to live objects and private copies; 0 turns the cache off.  Lowering it
 * evicts what no longer fits.
 */
static int cache_mb = -1;
static int thaw_cache_param_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_int(val, kp);

	if (!ret)
		thaw_cache_trim();
	return ret;
}

static int thaw_cache_owner_param_set(const char *val,
				      const struct kernel_param *kp)
{
	int ret = param_set_uint(val, kp);

	if (!ret)
		thaw_cache_trim();
	return ret;
}

static const struct kernel_param_ops thaw_cache_param_ops = {
	.set	= thaw_cache_param_set,
	.get	= param_get_int,
};

static const struct kernel_param_ops thaw_cache_owner_param_ops = {
	.set	= thaw_cache_owner_param_set,
	.get	= param_get_uint,
};

module_param_cb(cache_mb, &thaw_cache_param_ops, &cache_mb, 0644);
MODULE_PARM_DESC(cache_mb,
		 "Pinned memory of unreferenced named objects kept for reuse, in MiB (-1 at load: a quarter of max_pinned_mb; 0: no cache)");

/*
 * Per owner (the creator's euid): 0, no limit of its own.  Set it where
 * VMMs run under different users (a jailer), so that one cannot push
 * everyone else's snapshots out.
 */
static unsigned int cache_owner_mb;
module_param_cb(cache_owner_mb, &thaw_cache_owner_param_ops, &cache_owner_mb,
		0644);
MODULE_PARM_DESC(cache_owner_mb,
		 "Cap on the cached objects of one owner (creator's euid), in MiB (0: cache_mb only)");

DEFINE_MUTEX(thaw_objects_lock);
LIST_HEAD(thaw_snapshots);
LIST_HEAD(thaw_clones);
unsigned long thaw_nr_snapshots;
unsigned long thaw_nr_clones;
atomic_long_t thaw_pinned = ATOMIC_LONG_INIT(0);

unsigned long thaw_pinned_limit(void)
{
	return (unsigned long)READ_ONCE(max_pinned_mb) << (20 - PAGE_SHIFT);
}

unsigned int thaw_max_snapshots(void)
{
	return READ_ONCE(max_snapshots);
}

unsigned long thaw_pinned_user_limit(void)
{
	return (unsigned long)READ_ONCE(max_pinned_mb_per_user) <<
	       (20 - PAGE_SHIFT);
}

unsigned int thaw_max_snapshots_per_user(void)
{
	return READ_ONCE(max_snapshots_per_user);
}

int thaw_max_page_refs(void)
{
	return min_t(unsigned int, READ_ONCE(max_page_maps), 1U << 30);
}

unsigned int thaw_huge_min_pages(void)
{
	return clamp_t(unsigned int, READ_ONCE(huge_min_pages), 1,
		       THAW_REGION_NR);
}

u32 thaw_private_huge_max(void)
{
	return READ_ONCE(private_huge_max);
}

u32 thaw_private_min_faults(void)
{
	return READ_ONCE(private_min_faults);
}

bool thaw_fill_background_on(void)
{
	return READ_ONCE(fill_background);
}

/* Should this region fill fail (fail_fill)? */
bool thaw_fill_fails(void)
{
	unsigned int nth = READ_ONCE(fail_fill);

	if (!nth)
		return false;
	return !((unsigned int)atomic_inc_return(&thaw_fills) % nth);
}

unsigned long thaw_cache_limit(void)
{
	int mb = READ_ONCE(cache_mb);

	return mb <= 0 ? 0 : (unsigned long)mb << (20 - PAGE_SHIFT);
}

unsigned long thaw_cache_owner_limit(void)
{
	return (unsigned long)READ_ONCE(cache_owner_mb) << (20 - PAGE_SHIFT);
}

/* Should this 2 MiB allocation fail (fail_huge_alloc)? */
bool thaw_huge_alloc_fails(void)
{
	unsigned int nth = READ_ONCE(fail_huge_alloc);

	if (!nth)
		return false;
	return !((unsigned int)atomic_inc_return(&thaw_huge_allocs) % nth);
}

struct thaw_ctx {
	struct mutex lock;
	bool api_done;		/* protected by @lock */
	u64 features;		/* protected by @lock */
};

/*
 * Copy an ioctl argument whose size the caller encoded in @cmd.  @min is the
 * first published size of the structure; @ksize is what this module knows.
 */
int thaw_copy_arg(void *dst, size_t ksize, size_t min, unsigned int cmd,
		  unsigned long arg)
{
	size_t usize = _IOC_SIZE(cmd);

	if (usize < min)
		return -EINVAL;
	return copy_struct_from_user(dst, ksize, (void __user *)arg, usize);
}

int thaw_put_arg(unsigned long arg, unsigned int cmd, const void *src,
		 size_t ksize)
{
	size_t n = min_t(size_t, _IOC_SIZE(cmd), ksize);

	if (copy_to_user((void __user *)arg, src, n))
		return -EFAULT;
	return 0;
}

bool thaw_all_zero(const u64 *v, size_t n)
{
	while (n--)
		if (*v++)
			return false;
	return true;
}

static long thaw_ioc_api(struct thaw_ctx *ctx, unsigned int cmd,
			 unsigned long arg)
{
	struct thaw_api api;
	int ret;

	ret = thaw_copy_arg(&api, sizeof(api), THAW_API_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if (api.api != THAW_API_VERSION || api.flags)
		return -EINVAL;
	if (!thaw_all_zero(api.reserved, ARRAY_SIZE(api.reserved)))
		return -EINVAL;
	if (api.features & ~THAW_FEATURES_SUPPORTED)
		return -EINVAL;

	api.features = THAW_FEATURES_SUPPORTED;
	ret = thaw_put_arg(arg, cmd, &api, sizeof(api));
	if (ret)
		return ret;

	mutex_lock(&ctx->lock);
	ctx->api_done = true;
	ctx->features = api.features;
	mutex_unlock(&ctx->lock);
	return 0;
}

static long thaw_ioc_stats(unsigned int cmd, unsigned long arg)
{
	struct thaw_stats st;
	int ret;

	ret = thaw_copy_arg(&st, sizeof(st), THAW_STATS_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if (st.flags || st.pad || !thaw_all_zero(st.reserved,
						 ARRAY_SIZE(st.reserved)))
		return -EINVAL;
	thaw_fill_stats(&st);
	return thaw_put_arg(arg, cmd, &st, sizeof(st));
}

static long thaw_ioc_cache_drop(unsigned int cmd, unsigned long arg)
{
	struct thaw_cache_drop d;
	unsigned long pages;
	int ret;

	ret = thaw_copy_arg(&d, sizeof(d), THAW_CACHE_DROP_SIZE_VER0, cmd,
			    arg);
	if (ret)
		return ret;
	if ((d.flags & ~THAW_CACHE_DROP_ALL) || d.pad ||
	    !thaw_all_zero(d.reserved, ARRAY_SIZE(d.reserved)))
		return -EINVAL;
	/* Another owner's objects are not the caller's to drop. */
	if ((d.flags & THAW_CACHE_DROP_ALL) && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	d.objects = thaw_cache_drop(!(d.flags & THAW_CACHE_DROP_ALL), &pages);
	d.pages = pages;
	return thaw_put_arg(arg, cmd, &d, sizeof(d));
}

static bool thaw_ctx_ready(struct thaw_ctx *ctx)
{
	bool done;

	mutex_lock(&ctx->lock);
	done = ctx->api_done;
	mutex_unlock(&ctx->lock);
	return done;
}

static long thaw_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct thaw_ctx *ctx = file->private_data;

	if (_IOC_TYPE(cmd) != THAW_IOCTL_MAGIC)
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(THAW_IOC_API):
		if (!thaw_ioc_is(cmd, THAW_IOC_API))
			return -ENOTTY;
		return thaw_ioc_api(ctx, cmd, arg);
	case _IOC_NR(THAW_IOC_SNAP_CREATE):
		if (!thaw_ioc_is(cmd, THAW_IOC_SNAP_CREATE))
			return -ENOTTY;
		if (!thaw_ctx_ready(ctx))
			return -EINVAL;
		return thaw_snap_create(cmd, arg);
	case _IOC_NR(THAW_IOC_SNAP_OPEN):
		if (!thaw_ioc_is(cmd, THAW_IOC_SNAP_OPEN))
			return -ENOTTY;
		if (!thaw_ctx_ready(ctx))
			return -EINVAL;
		return thaw_snap_open(cmd, arg);
	case _IOC_NR(THAW_IOC_STATS):
		if (!thaw_ioc_is(cmd, THAW_IOC_STATS))
			return -ENOTTY;
		if (!thaw_ctx_ready(ctx))
			return -EINVAL;
		return thaw_ioc_stats(cmd, arg);
	case _IOC_NR(THAW_IOC_CACHE_DROP):
		if (!thaw_ioc_is(cmd, THAW_IOC_CACHE_DROP))
			return -ENOTTY;
		if (!thaw_ctx_ready(ctx))
			return -EINVAL;
		return thaw_ioc_cache_drop(cmd, arg);
	default:
		return -ENOTTY;
	}
}

static int thaw_open(struct inode *inode, struct file *file)
{
	struct thaw_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	mutex_init(&ctx->lock);
	file->private_data = ctx;
	return nonseekable_open(inode, file);
}

static int thaw_release(struct inode *inode, struct file *file)
{
	struct thaw_ctx *ctx = file->private_data;

	mutex_destroy(&ctx->lock);
	kfree(ctx);
	return 0;
}

static const struct file_operations thaw_fops = {
	.owner		= THIS_MODULE,
	.open		= thaw_open,
	.release	= thaw_release,
	.unlocked_ioctl	= thaw_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= no_llseek,
};

static struct miscdevice thaw_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= THAW_DEVICE_NAME,
	.fops	= &thaw_fops,
	.mode	= 0600,
};

static int __init thaw_init(void)
{
	int ret;

	if (!max_pinned_mb)
		max_pinned_mb = max(1UL, totalram_pages() / 2 >>
					 (20 - PAGE_SHIFT));
	if (cache_mb < 0)
		cache_mb = max_pinned_mb / 4;

	ret = thaw_fill_init();
	if (ret) {
		pr_err("cannot start the fill thread: %d\n", ret);
		return ret;
	}
	ret = thaw_netlink_init();
	if (ret) {
		pr_err("cannot register the generic netlink family: %d\n", ret);
		goto err_fill;
	}
	ret = misc_register(&thaw_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", THAW_DEVICE_NAME, ret);
		goto err_netlink;
	}
	pr_info("version %s, api %d, max_pinned_mb %u, cache_mb %d\n",
		THAW_VERSION, THAW_API_VERSION, max_pinned_mb, cache_mb);
	return 0;

err_netlink:
	thaw_netlink_exit();
err_fill:
	thaw_fill_exit();
	return ret;
}

static void __exit thaw_exit(void)
{
	misc_deregister(&thaw_misc);
	thaw_netlink_exit();
	/*
	 * Every live object held a module reference; cached objects hold
	 * none, and go now (each stops its background fill), before the
	 * fill thread does.
	 */
	thaw_cache_drop(false, NULL);
	thaw_fill_exit();
	thaw_linger_exit();
	WARN_ON(!list_empty(&thaw_snapshots) || !list_empty(&thaw_clones) ||
		atomic_long_read(&thaw_pinned));
}

module_init(thaw_init);
module_exit(thaw_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("thaw developers");
MODULE_DESCRIPTION("Snapshot memory objects and fast restore paths for microVMs");
MODULE_VERSION(THAW_VERSION);
