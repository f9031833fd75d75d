// SPDX-License-Identifier: GPL-2.0
/*
 * The jail's cgroup (v2 only): /sys/fs/cgroup/PARENT/ID, its controllers
 * enabled from the root down, each --cgroup KEY=VALUE written, then the
 * jailer moves itself in (the VMM inherits it).  Undone on a later failure:
 * the jailer moves back to where it was and removes ID if it made it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "tools/jailer/jailer.h"

#define CGROUP_ROOT	"/sys/fs/cgroup"

static int write_at(int dirfd, const char *file, const char *value)
{
	size_t n = strlen(value);
	int fd, ret = 0;

	fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, n) != (ssize_t)n)
		ret = -errno;
	close(fd);
	return ret;
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* Is @word one of the space-separated words of @list? */
static bool has_word(const char *list, const char *word, size_t n)
{
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') &&
		    (!p[n] || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/* The controllers the keys name ("+memory +pids"), each one checked. */
static int controllers(const struct jail_opts *o, char *out, size_t len,
		       char *err, size_t errlen)
{
	char avail[1024];
	int ret;

	ret = read_file(CGROUP_ROOT "/cgroup.controllers", avail,
			sizeof(avail));
	if (ret)
		return jail__fail(err, errlen, ret, CGROUP_ROOT "/cgroup.controllers");
	out[0] = 0;
	for (unsigned int i = 0; i < o->n_cgroups; i++) {
		const char *key = o->cgroups[i].key;
		size_t n = strcspn(key, ".");
		char word[64];

		snprintf(word, sizeof(word), "+%.*s", (int)n, key);
		if (!has_word(avail, word + 1, n))
			return jail__fail(err, errlen, -EOPNOTSUPP,
				    "--cgroup %s: no %.*s controller in %s",
				    key, (int)n, key, CGROUP_ROOT);
		if (has_word(out, word, n + 1))
			continue;
		if (strlen(out) + strlen(word) + 2 > len)
			return -E2BIG;
		if (out[0])
			strcat(out, " ");
		strcat(out, word);
	}
	return 0;
}

/* Enable each of @ctrls ("+memory +pids") in @dirfd's subtree_control. */
static int enable(int dirfd, const char *where, const char *ctrls,
		  char *err, size_t errlen)
{
	char one[64];

	for (const char *p = ctrls; *p; ) {
		size_t n = strcspn(p, " ");
		int ret;

		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		ret = write_at(dirfd, "cgroup.subtree_control", one);
		if (ret)
			return jail__fail(err, errlen, ret,
				    "enabling %s in %s/cgroup.subtree_control",
				    one + 1, where);
		p += n + (p[n] == ' ');
	}
	return 0;
}

int cgroup__join(const struct jail_opts *o, struct jail_cgroup *cg,
		 char *err, size_t errlen)
{
	char ctrls[512], where[4096], self[2048], pid[32], *nl;
	struct statfs sf;
	int fd, next, ret;
	const char *p;

	cg->parent_fd = cg->orig_fd = -1;
	cg->created = false;
	if (statfs(CGROUP_ROOT, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)
		return jail__fail(err, errlen, -ENOENT,
			    "cgroup v2 is not mounted at " CGROUP_ROOT);
	ret = controllers(o, ctrls, sizeof(ctrls), err, errlen);
	if (ret)
		return ret;
	/* Where this process is now ("0::/path"), to go back on failure. */
	ret = read_file("/proc/self/cgroup", self, sizeof(self));
	if (ret || strncmp(self, "0::/", 4))
		return jail__fail(err, errlen, ret ? ret : -ENOENT,
			    "/proc/self/cgroup: no cgroup v2 line");
	nl = strchr(self, '\n');
	if (nl)
		*nl = 0;
	snprintf(where, sizeof(where), CGROUP_ROOT "%s", self + 3);
	cg->orig_fd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->orig_fd < 0)
		return jail__fail(err, errlen, -errno, "%s", where);

	/* From the root down to PARENT: made if missing, controllers on. */
	snprintf(where, sizeof(where), CGROUP_ROOT);
	fd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return jail__fail(err, errlen, -errno, "%s", where);
	for (p = o->parent_cgroup; ; ) {
		size_t n = strcspn(p, "/");
		char name[256];

		ret = enable(fd, where, ctrls, err, errlen);
		if (ret || !*p)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		snprintf(where + strlen(where), sizeof(where) - strlen(where),
			 "/%s", name);
		if (mkdirat(fd, name, 0755) && errno != EEXIST) {
			ret = jail__fail(err, errlen, -errno, "mkdir %s", where);
			break;
		}
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		if (next < 0) {
			ret = jail__fail(err, errlen, -errno, "%s", where);
			break;
		}
		close(fd);
		fd = next;
		p += n + (p[n] == '/');
	}
	if (ret) {
		close(fd);
		return ret;
	}
	cg->parent_fd = fd;
	snprintf(cg->path, sizeof(cg->path), "%s/%s", where, o->id);
	if (!mkdirat(fd, o->id, 0755))
		cg->created = true;
	else if (errno != EEXIST)
		return jail__fail(err, errlen, -errno, "mkdir %s", cg->path);
	fd = openat(cg->parent_fd, o->id, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return jail__fail(err, errlen, -errno, "%s", cg->path);
	for (unsigned int i = 0; i < o->n_cgroups && !ret; i++) {
		ret = write_at(fd, o->cgroups[i].key, o->cgroups[i].value);
		if (ret)
			jail__fail(err, errlen, ret, "writing '%s' to %s/%s",
			     o->cgroups[i].value, cg->path, o->cgroups[i].key);
	}
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (!ret) {
		ret = write_at(fd, "cgroup.procs", pid);
		if (ret)
			jail__fail(err, errlen, ret, "joining %s", cg->path);
	}
	close(fd);
	return ret;
}

void cgroup__undo(const struct jail_opts *o, struct jail_cgroup *cg)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (cg->orig_fd >= 0)
		write_at(cg->orig_fd, "cgroup.procs", pid);
	if (cg->created && cg->parent_fd >= 0)
		unlinkat(cg->parent_fd, o->id, AT_REMOVEDIR);
	cg->created = false;
}
