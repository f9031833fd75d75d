// SPDX-License-Identifier: GPL-2.0
/*
 * What PID 1 does to the system: mounts, kernel modules, the loopback
 * interface, the VMM's boot timer; and what a restored clone needs before
 * the runtime sees a request: fresh entropy in the CRNG and the host's
 * wall clock.
 *
 * Modules are loaded with finit_module() from a folder mkfunc fills in
 * load order, not with libkmod: Debian ships libkmod only as a shared
 * library, thaw-init is static, and the order is already resolved on the
 * host by modprobe --show-depends.  A device's drivers (virtio_net;
 * virtio_blk and ext4) sit in a subfolder named for its virtio device ID
 * (virtio-1, virtio-2) and are loaded only when the VM has such a device:
 * the virtio bus lists it once virtio_mmio is in.
 *
 * Disks: root=/dev/vdX on the kernel command line (thawvm and Firecracker
 * add it for the root drive) becomes the root file system, moved under /
 * as switch_root does; thaw-init goes on in it and the function's files
 * come from the disk.  The code_disk setting mounts a disk read-only on
 * task_root.
 *
 * The interface is configured from the kernel's ip= option with the same
 * SIOCSIF* ioctls as the loopback, and SIOCADDRT for the default route:
 * three calls need no netlink library (libnl is not in a static
 * thaw-init's reach without pulling libnl-3.a and its threads in).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/random.h>
#include <linux/route.h>
#include <linux/vm_sockets.h>

#include "tools/guest/init.h"
#include "tools/guest/ipconfig.h"

#define MODULE_DIR	"/lib/thaw/modules"
#define NEW_ROOT	"/sysroot"
/* Firecracker's boot timer: the guest writes this byte to this port. */
#define BOOT_TIMER_PORT	0x3f0
#define BOOT_TIMER_BYTE	123

struct mnt {
	const char *src, *dir, *type;
	unsigned long flags;
	const char *data;
	mode_t mode;
};

static const struct mnt mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
	  0555 },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
	  0555 },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0755 },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	  "mode=0620,ptmxmode=0666", 0755 },
	{ "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777",
	  01777 },
	/* Lambda's only writable place. */
	{ "tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777 },
	/* thaw-init's own files for the runtime: /run/thaw/generation */
	{ "run", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	  "mode=0755", 0755 },
};

static const char *const dev_links[][2] = {
	{ "/proc/self/fd", "/dev/fd" },
	{ "/proc/self/fd/0", "/dev/stdin" },
	{ "/proc/self/fd/1", "/dev/stdout" },
	{ "/proc/self/fd/2", "/dev/stderr" },
};

static void mount_basics(void)
{
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct mnt *m = &mounts[i];

		if (mkdir(m->dir, m->mode) && errno != EEXIST) {
			init__err("mkdir %s: %m", m->dir);
			continue;
		}
		if (mount(m->src, m->dir, m->type, m->flags, m->data) &&
		    errno != EBUSY)
			init__err("mount %s on %s: %m", m->type, m->dir);
	}
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		if (symlink(dev_links[i][0], dev_links[i][1]) &&
		    errno != EEXIST)
			init__err("symlink %s: %m", dev_links[i][1]);
}

/* Without /dev/console in the initramfs the kernel gave us no stdio. */
static void open_console(void)
{
	int fd;

	if (fcntl(2, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static int ko_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return len > 3 && !strcmp(d->d_name + len - 3, ".ko");
}

static void load_modules(const struct init *init, const char *dir)
{
	struct dirent **names;
	int n;

	n = scandir(dir, &names, ko_filter, alphasort);
	if (n < 0) {
		if (errno != ENOENT)
			init__err("%s: %m", dir);
		return;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			init__err("%s: %m", path);
			continue;
		}
		if (!syscall(SYS_finit_module, fd, "", 0) || errno == EEXIST)
			init__log(init, "loaded %s", path);
		/* Hardware the VM lacks (crc32c-intel without SSE4.2). */
		else if (errno == ENODEV)
			init__log(init, "skipped %s: no such device", path);
		else
			init__err("loading %s: %m", path);
		close(fd);
	}
	free(names);
}

/* Wait up to a second for @dev (devtmpfs names it as the driver probes). */
static int wait_dev(const char *dev)
{
	struct stat st;

	for (int i = 0; i < 100; i++) {
		if (!stat(dev, &st))
			return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
		usleep(10000);
	}
	return -ENOENT;
}

/* One word of /proc/cmdline: KEY=value's value, or KEY's presence. */
static bool cmdline_word(const char *cmdline, const char *key, char *val,
			 size_t len)
{
	size_t k = strlen(key);
	const char *p = cmdline;

	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\n')
			p++;
		n = strcspn(p, " \n");
		if (n >= k && !strncmp(p, key, k) &&
		    (n == k || p[k] == '=')) {
			if (val) {
				size_t v = n > k ? n - k - 1 : 0;

				if (v >= len)
					return false;
				memcpy(val, p + k + 1, v);
				val[v] = 0;
			}
			return true;
		}
		p += n;
	}
	return false;
}

/*
 * root=@dev becomes /: mounted on NEW_ROOT, the API file systems moved
 * into it, then it is moved onto / and made the root, as switch_root
 * does (the initramfs stays in memory: thaw-init runs from it).
 */
static int switch_root(struct init *init, const char *dev, bool ro,
		       const char *fstype)
{
	static const char *const moved[] = { "/dev", "/proc", "/sys", "/run",
					     "/tmp" };
	char to[PATH_MAX];
	int ret;

	ret = wait_dev(dev);
	if (ret) {
		errno = -ret;
		init__err("root=%s: %m", dev);
		return ret;
	}
	if (mkdir(NEW_ROOT, 0755) && errno != EEXIST)
		return -errno;
	if (mount(dev, NEW_ROOT, fstype, ro ? MS_RDONLY : 0, NULL)) {
		ret = -errno;
		init__err("mounting root=%s (%s) on %s: %m", dev, fstype,
			  NEW_ROOT);
		return ret;
	}
	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
		snprintf(to, sizeof(to), "%s%s", NEW_ROOT, moved[i]);
		if (mkdir(to, 0755) && errno != EEXIST)
			init__err("root=%s has no %s: %m", dev, moved[i]);
		else if (mount(moved[i], to, NULL, MS_MOVE, NULL))
			init__err("moving %s into root=%s: %m", moved[i], dev);
	}
	if (chdir(NEW_ROOT) || mount(".", "/", NULL, MS_MOVE, NULL) ||
	    chroot(".") || chdir("/")) {
		ret = -errno;
		init__err("switching to root=%s: %m", dev);
		return ret;
	}
	init__log(init, "root is %s (%s, %s)", dev, fstype, ro ? "ro" : "rw");
	return 0;
}

int system__mount_disks(struct init *init)
{
	char cmdline[4096], root[PATH_MAX], fstype[32] = "ext4";
	const char *code = init->cfg.code_disk;
	ssize_t n;
	int fd, ret;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	cmdline[n > 0 ? n : 0] = 0;
	if (cmdline_word(cmdline, "root", root, sizeof(root))) {
		if (strncmp(root, "/dev/vd", 7)) {
			init__err("root=%s: thaw-init mounts root=/dev/vdX only; staying in the initramfs",
				  root);
		} else {
			cmdline_word(cmdline, "rootfstype", fstype,
				     sizeof(fstype));
			ret = switch_root(init, root,
					  !cmdline_word(cmdline, "rw", NULL, 0),
					  fstype);
			if (ret)
				return ret;
		}
	}
	if (!code)
		return 0;
	ret = wait_dev(code);
	if (!ret && mkdir(init->cfg.task_root, 0755) && errno != EEXIST)
		ret = -errno;
	if (!ret && mount(code, init->cfg.task_root, "ext4",
			  MS_RDONLY | MS_NODEV | MS_NOSUID, NULL))
		ret = -errno;
	if (ret) {
		errno = -ret;
		init__err("code_disk %s on %s: %m", code, init->cfg.task_root);
		return ret;
	}
	init__log(init, "code disk %s on %s", code, init->cfg.task_root);
	return 0;
}

/*
 * The drivers of the virtio devices there are (virtio_mmio, loaded, has
 * probed them all): MODULE_DIR/virtio-ID for each device ID, once.
 */
static void load_device_modules(const struct init *init)
{
	bool done[64] = { false };
	struct dirent *d;
	DIR *bus;

	bus = opendir("/sys/bus/virtio/devices");
	if (!bus)
		return;
	while ((d = readdir(bus))) {
		char path[PATH_MAX], id[16] = "";
		unsigned long v;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device",
			 d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(id, sizeof(id), f))
			id[0] = '\0';
		fclose(f);
		v = strtoul(id, NULL, 16);
		if (!v || v >= 64 || done[v])
			continue;
		done[v] = true;
		snprintf(path, sizeof(path), "%s/virtio-%lu", MODULE_DIR, v);
		load_modules(init, path);
	}
	closedir(bus);
}

/* ip=: address, netmask, up, default route. */
static int ip_configure(const struct init *init, const struct ipconfig *c)
{
	struct ifreq ifr;
	struct rtentry rt;
	struct sockaddr_in *sin;
	int fd, ret = 0;
	const char *what = "SIOCSIFADDR";

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->dev);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr = c->addr;
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		goto fail;
	what = "SIOCSIFNETMASK";
	sin->sin_addr = c->mask;
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		goto fail;
	what = "SIOCGIFFLAGS";
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	what = "SIOCSIFFLAGS";
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	if (c->gw.s_addr) {
		memset(&rt, 0, sizeof(rt));
		sin = (struct sockaddr_in *)&rt.rt_dst;
		sin->sin_family = AF_INET;
		sin = (struct sockaddr_in *)&rt.rt_genmask;
		sin->sin_family = AF_INET;
		sin = (struct sockaddr_in *)&rt.rt_gateway;
		sin->sin_family = AF_INET;
		sin->sin_addr = c->gw;
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = (char *)c->dev;
		what = "SIOCADDRT";
		if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST)
			goto fail;
	}
	init__log(init, "%s: %s", c->dev, "configured from ip=");
	close(fd);
	return 0;
fail:
	ret = -errno;
	init__err("%s %s: %m", c->dev, what);
	close(fd);
	return ret;
}

static void net_setup(const struct init *init)
{
	char cmdline[4096], err[160];
	struct ipconfig c;
	ssize_t n;
	int fd, ret;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (n <= 0)
		return;
	cmdline[n] = '\0';
	ret = ipconfig__parse_cmdline(cmdline, &c, err, sizeof(err));
	if (ret < 0)
		init__err("%s", err);
	else if (ret)
		ip_configure(init, &c);
}

static int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(fd);
	return ret;
}

int system__setup(struct init *init)
{
	int ret;

	/*
	 * A mount that fails is reported and the boot goes on: a function
	 * may well live without /dev/shm; without /proc or /dev the steps
	 * below fail and say so.
	 */
	mount_basics();
	open_console();
	/* Ctrl-Alt-Del becomes SIGINT to us instead of an instant reboot. */
	if (reboot(RB_DISABLE_CAD))
		init__err("reboot(RB_DISABLE_CAD): %m");
	load_modules(init, MODULE_DIR);
	load_device_modules(init);
	ret = loopback_up();
	if (ret) {
		errno = -ret;
		init__err("bringing up lo: %m");
		return ret;
	}
	net_setup(init);
	return 0;
}

void system__boot_done(void)
{
	if (ioperm(BOOT_TIMER_PORT, 1, 1))
		return;
	outb(BOOT_TIMER_BYTE, BOOT_TIMER_PORT);
	ioperm(BOOT_TIMER_PORT, 1, 0);
}

int system__add_entropy(const uint8_t *buf, size_t len)
{
	struct rand_pool_info *info;
	int fd, ret = 0;

	if (!len)
		return 0;
	info = malloc(sizeof(*info) + len);
	if (!info)
		return -ENOMEM;
	info->entropy_count = len * 8;
	info->buf_size = len;
	memcpy(info->buf, buf, len);
	fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (ioctl(fd, RNDADDENTROPY, info) < 0)
		ret = -errno;
	/*
	 * Credited entropy alone waits for the next scheduled reseed; force
	 * one so that the very next getrandom() differs between clones.
	 * ENODATA: the CRNG is not initialized yet, and will be from this.
	 */
	else if (ioctl(fd, RNDRESEEDCRNG) < 0 && errno != ENODATA)
		ret = -errno;
	close(fd);
out:
	memset(info->buf, 0, len);
	free(info);
	return ret;
}

int system__sync_clock(int64_t host_ns, int64_t *stepped_ns)
{
	struct timespec ts;
	int64_t now, diff;

	*stepped_ns = 0;
	if (clock_gettime(CLOCK_REALTIME, &ts))
		return -errno;
	now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	diff = host_ns - now;
	if (diff > -INIT_CLOCK_STEP_NS && diff < INIT_CLOCK_STEP_NS)
		return 0;
	ts.tv_sec = host_ns / 1000000000LL;
	ts.tv_nsec = host_ns % 1000000000LL;
	if (clock_settime(CLOCK_REALTIME, &ts))
		return -errno;
	*stepped_ns = diff;
	return 0;
}

uint32_t system__memory_mb(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (kb + 1023) / 1024;
}

int64_t system__local_cid(int fd)
{
	struct sockaddr_vm addr;
	socklen_t len = sizeof(addr);
	unsigned int cid;
	int dev;

	dev = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
	if (dev >= 0) {
		int ret = ioctl(dev, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid);

		close(dev);
		if (!ret && cid != VMADDR_CID_ANY)
			return cid;
	}
	if (fd >= 0 && !getsockname(fd, (struct sockaddr *)&addr, &len) &&
	    addr.svm_family == AF_VSOCK)
		return addr.svm_cid;
	return -1;
}

void system__power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* Only reached if the kernel refused: PID 1 must not exit. */
	for (;;)
		pause();
}
