/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thaw-jailer: the options (options.c), the jail's files (fs.c), its cgroup
 * (cgroup.c) and the sequence that puts the VMM in it (main.c).
 */
#ifndef THAW_JAILER_H
#define THAW_JAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit statuses of thaw-jailer itself (the VMM's own once it runs). */
#define JAIL_EXIT_FAIL		1	/* a step failed; its name is printed */
#define JAIL_EXIT_BAD_ARGS	2	/* bad or missing arguments */

#define JAIL_ID_MAX		64
#define JAIL_CGROUPS_MAX	32

struct jail_cgroup_kv {
	const char *key;	/* a file of the cgroup: memory.max */
	const char *value;
};

struct jail_opts {
	const char *id;
	const char *exec_file;		/* as given */
	const char *exec_name;		/* its last component */
	uid_t uid;
	gid_t gid;
	const char *chroot_base;	/* default /srv/jailer */
	const char *netns;
	const char *parent_cgroup;	/* default exec_name */
	struct jail_cgroup_kv cgroups[JAIL_CGROUPS_MAX];
	unsigned int n_cgroups;
	unsigned long long fsize;	/* RLIMIT_FSIZE when has_fsize */
	unsigned long long nofile;	/* RLIMIT_NOFILE, default 2048 */
	bool has_fsize;
	bool daemonize;
	bool new_pid_ns;
	char **args;			/* after "--", for the VMM */
	int n_args;
};

int jail__parse(int argc, char **argv, struct jail_opts *o, char *err,
		size_t errlen);
int jail__check_id(const char *id, char *err, size_t errlen);
int jail__check_cgroup_key(const char *key, char *err, size_t errlen);
int jail__check_relpath(const char *what, const char *path, char *err,
			size_t errlen);

/* The jail's files, built from outside; @root is CHROOT/EXEC/ID/root. */
int jail__build(const struct jail_opts *o, const char *root, char *err,
		size_t errlen);
/* Remove the entry @name of the folder @dirfd, with what is below it. */
void jail__remove(int dirfd, const char *name);
/* err__set() that adds ": strerror(-@ret)" to the message; returns @ret. */
int jail__fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct jail_cgroup {
	int parent_fd;		/* the parent cgroup's folder, or -1 */
	int orig_fd;		/* the cgroup we came from, or -1 */
	bool created;		/* ID made by us: removed on failure */
	char path[4096];	/* /sys/fs/cgroup/PARENT/ID */
};

int cgroup__join(const struct jail_opts *o, struct jail_cgroup *cg,
		 char *err, size_t errlen);
void cgroup__undo(const struct jail_opts *o, struct jail_cgroup *cg);

#endif
