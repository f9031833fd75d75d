// SPDX-License-Identifier: GPL-2.0
/* A VMM process's counters from /proc and KVM's debugfs (vm-counts.h). */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tools/lib/thaw-genl.h"
#include "tools/lib/vm-counts.h"

#define KVM_DEBUGFS	"/sys/kernel/debug/kvm"

static long long read_ll(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* minflt and majflt: fields 10 and 12 of /proc/PID/stat. */
static void read_stat(pid_t pid, struct vm_counts *c)
{
	char path[64], buf[1024], *p;
	unsigned long long minflt, majflt;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past it. */
	p = strrchr(buf, ')');
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %*u %llu",
			&minflt, &majflt) == 2) {
		c->minflt = minflt;
		c->majflt = majflt;
	}
}

static void read_smaps(pid_t pid, struct vm_counts *c)
{
	char path[64], line[256];
	long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Rss: %lld kB", &v) == 1)
			c->rss_kib = v;
		else if (sscanf(line, "Pss: %lld kB", &v) == 1)
			c->pss_kib = v;
		else if (sscanf(line, "Anonymous: %lld kB", &v) == 1)
			c->private_kib = v;
	}
	fclose(f);
}

static void add(long long *sum, long long v)
{
	if (v < 0)
		return;
	*sum = *sum < 0 ? v : *sum + v;
}

/* The fds of @pid that are KVM VMs ("anon_inode:kvm-vm"). */
static int vm_fds(pid_t pid, int *fds, int max)
{
	char path[64], link[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir)) && n < max) {
		char p[64 + sizeof(d->d_name)];
		ssize_t l;

		snprintf(p, sizeof(p), "%s/%s", path, d->d_name);
		l = readlink(p, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		if (!strcmp(link, "anon_inode:kvm-vm"))
			fds[n++] = atoi(d->d_name);
	}
	closedir(dir);
	return n;
}

/*
 * KVM names a VM's folder "TID-FD" after the thread that created it,
 * which need not be the main one (thawvm creates its VM on the API
 * thread).  A folder is @pid's when FD is one of its VM fds and TID is
 * one of its threads or no longer exists.
 */
static bool ours(pid_t pid, const char *name, const int *fds, int nfds)
{
	char path[64];
	int tid, fd;

	if (sscanf(name, "%d-%d", &tid, &fd) != 2)
		return false;
	for (int i = 0; i < nfds; i++) {
		if (fds[i] != fd)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, tid);
		if (!access(path, F_OK))
			return true;
		snprintf(path, sizeof(path), "/proc/%d", tid);
		return access(path, F_OK) != 0;
	}
	return false;
}

static void read_kvm(pid_t pid, struct vm_counts *c)
{
	char path[512];
	struct dirent *d;
	int fds[8], nfds;
	DIR *dir;

	nfds = vm_fds(pid, fds, 8);
	if (!nfds)
		return;
	dir = opendir(KVM_DEBUGFS);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (!ours(pid, d->d_name, fds, nfds))
			continue;
#define KVM_STAT(field, name)						\
		do {							\
			snprintf(path, sizeof(path), KVM_DEBUGFS "/%s/%s", \
				 d->d_name, name);			\
			add(&c->field, read_ll(path));			\
		} while (0)
		KVM_STAT(kvm_exits, "exits");
		KVM_STAT(kvm_pf, "pf_taken");
		KVM_STAT(kvm_io_exits, "io_exits");
		KVM_STAT(kvm_halt_exits, "halt_exits");
		KVM_STAT(kvm_pages_4k, "pages_4k");
		KVM_STAT(kvm_pages_2m, "pages_2m");
#undef KVM_STAT
	}
	closedir(dir);
}

void vm_counts__read(pid_t pid, struct vm_counts *c)
{
	memset(c, 0xff, sizeof(*c));	/* every field -1 */
	read_stat(pid, c);
	read_smaps(pid, c);
	if (c->private_kib >= 0)
		add(&c->private_kib, thaw_genl__private_kib(pid));
	read_kvm(pid, c);
}

void vm_counts__to_json(const struct vm_counts *c, struct json_object *o)
{
#define ADD(f) json_object_object_add(o, #f, json_object_new_int64(c->f))
	ADD(minflt);
	ADD(majflt);
	ADD(rss_kib);
	ADD(pss_kib);
	ADD(private_kib);
	ADD(kvm_exits);
	ADD(kvm_pf);
	ADD(kvm_io_exits);
	ADD(kvm_halt_exits);
	ADD(kvm_pages_4k);
	ADD(kvm_pages_2m);
#undef ADD
}
