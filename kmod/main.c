// SPDX-License-Identifier: GPL-2.0
/*
 * thaw.ko: the /dev/thaw misc device and its ioctl dispatch.
 *
 * Every open of /dev/thaw gets a struct thaw_ctx.  The first ioctl on it must
 * be THAW_IOC_API; until it succeeds every other ioctl fails with -EINVAL.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <linux/thaw.h>

#define THAW_MODULE_VERSION	"0.1.0"

#define THAW_FEATURES_SUPPORTED	THAW_FEATURE_EXTENSIBLE_IOCTLS

struct thaw_ctx {
	struct mutex lock;
	bool api_done;		/* protected by @lock */
	u64 features;		/* protected by @lock */
};

/*
 * Copy an ioctl argument whose size the caller encoded in @cmd.  @min is the
 * first published size of the structure; @ksize is what this module knows.
 */
static int thaw_copy_arg(void *dst, size_t ksize, size_t min,
			 unsigned int cmd, unsigned long arg)
{
	size_t usize = _IOC_SIZE(cmd);

	if (usize < min)
		return -EINVAL;
	return copy_struct_from_user(dst, ksize, (void __user *)arg, usize);
}

static int thaw_put_arg(unsigned long arg, unsigned int cmd, const void *src,
			size_t ksize)
{
	size_t n = min_t(size_t, _IOC_SIZE(cmd), ksize);

	if (copy_to_user((void __user *)arg, src, n))
		return -EFAULT;
	return 0;
}

static long thaw_ioc_api(struct thaw_ctx *ctx, unsigned int cmd,
			 unsigned long arg)
{
	struct thaw_api api;
	int ret, i;

	ret = thaw_copy_arg(&api, sizeof(api), THAW_API_SIZE_VER0, cmd, arg);
	if (ret)
		return ret;
	if (api.api != THAW_API_VERSION || api.flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(api.reserved); i++)
		if (api.reserved[i])
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

static long thaw_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct thaw_ctx *ctx = file->private_data;

	if (_IOC_TYPE(cmd) != THAW_IOCTL_MAGIC)
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(THAW_IOC_API):
		if (_IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
			return -ENOTTY;
		return thaw_ioc_api(ctx, cmd, arg);
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

	ret = misc_register(&thaw_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", THAW_DEVICE_NAME, ret);
		return ret;
	}
	pr_info("version %s, api %d\n", THAW_MODULE_VERSION, THAW_API_VERSION);
	return 0;
}

static void __exit thaw_exit(void)
{
	misc_deregister(&thaw_misc);
}

module_init(thaw_init);
module_exit(thaw_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("thaw developers");
MODULE_DESCRIPTION("Snapshot memory objects and fast restore paths for microVMs");
MODULE_VERSION(THAW_MODULE_VERSION);
