// SPDX-License-Identifier: GPL-2.0
/*
 * The VM generation: a counter that changes on every restore, so that a
 * runtime can learn of one without a Lambda hook.
 *
 * The kernel knows when it has been restored: the VMM writes a new VM
 * generation ID and raises its ACPI event, and the vmgenid driver reseeds
 * the CRNG and logs it.  Linux 6.1 sends no uevent for that, so thaw-init
 * follows /dev/kmsg (the kernel's own records only: kmsg.c) and on each
 * such record
 *   - adds one to the counter and writes it to generation_file
 *     (/run/thaw/generation), whole, by rename, so a reader never sees
 *     half a number;
 *   - answers the runtime's pending GET restore/next, if any (SnapStart's
 *     after-restore hooks run then).
 * The bridge reads the log again before it handles a host request, so the
 * counter has moved before a clone's runtime sees its first invocation
 * (the ACPI event runs as the clone resumes, before the host can connect).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "tools/guest/init.h"
#include "tools/guest/kmsg.h"

/* A kernel log record is at most about 1 KiB with its dictionary. */
#define KMSG_RECORD_MAX	8192

static int mkdir_parents(const char *path)
{
	char dir[PATH_MAX], *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	for (slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*slash = '/';
	}
	return 0;
}

static int write_counter(const struct init *init)
{
	const char *path = init->cfg.generation_file;
	char tmp[PATH_MAX], num[24];
	int fd, len, ret = 0;
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	ret = mkdir_parents(path);
	if (ret)
		return ret;
	len = snprintf(num, sizeof(num), "%llu\n",
		       (unsigned long long)init->generation);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, num, len);
	if (n != len)
		ret = n < 0 ? -errno : -EIO;
	/* Readable by the runtime's user whatever our umask. */
	if (!ret && fchmod(fd, 0644))
		ret = -errno;
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static void restored(struct init *init)
{
	int ret;

	init->generation++;
	ret = write_counter(init);
	if (ret)
		init__err("%s: %s", init->cfg.generation_file, strerror(-ret));
	init__log(init, "restored: VM generation %llu",
		  (unsigned long long)init->generation);
	runtime_api__restored(init);
}

void generation__check(struct init *init)
{
	char rec[KMSG_RECORD_MAX];
	ssize_t n;

	if (init->kmsg_fd < 0)
		return;
	for (;;) {
		n = read(init->kmsg_fd, rec, sizeof(rec));
		if (n < 0 && errno == EPIPE)
			continue;	/* records were overwritten: go on */
		if (n < 0 && errno == EINVAL) {
			/* A record longer than rec: skip what is there. */
			lseek(init->kmsg_fd, 0, SEEK_END);
			return;
		}
		if (n <= 0)
			return;		/* EAGAIN: all read */
		if (kmsg__is_vmfork(rec, n))
			restored(init);
	}
}

static void kmsg_cb(evutil_socket_t fd, short what, void *arg)
{
	generation__check(arg);
}

int generation__start(struct init *init)
{
	int ret;

	init->kmsg_fd = -1;
	ret = write_counter(init);
	if (ret)
		init__err("%s: %s", init->cfg.generation_file, strerror(-ret));
	init->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (init->kmsg_fd < 0) {
		init__err("/dev/kmsg: %m: restores will not be noticed");
		return 0;
	}
	/* Only what the kernel logs from now on. */
	lseek(init->kmsg_fd, 0, SEEK_END);
	init->kmsg_ev = event_new(init->base, init->kmsg_fd,
				  EV_READ | EV_PERSIST, kmsg_cb, init);
	if (!init->kmsg_ev || event_add(init->kmsg_ev, NULL))
		return -ENOMEM;
	return 0;
}

void generation__free(struct init *init)
{
	if (init->kmsg_ev)
		event_free(init->kmsg_ev);
	init->kmsg_ev = NULL;
	if (init->kmsg_fd >= 0)
		close(init->kmsg_fd);
	init->kmsg_fd = -1;
}
