// SPDX-License-Identifier: GPL-2.0
/*
 * thaw-jailer's command line (Firecracker's jailer's, where it makes sense)
 * and the checks of every value, all done before anything is made.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/jailer/jailer.h"

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int jail__check_id(const char *id, char *err, size_t errlen)
{
	size_t n = strlen(id);

	if (!n || n > JAIL_ID_MAX ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789-") != n)
		return bad(err, errlen,
			   "--id '%s': 1 to %d letters, digits and '-'",
			   id, JAIL_ID_MAX);
	return 0;
}

/*
 * A cgroup file is CONTROLLER.NAME in the jail's own cgroup: no path, and
 * none of the cgroup.* files (cgroup.procs would move other processes in).
 */
int jail__check_cgroup_key(const char *key, char *err, size_t errlen)
{
	size_t n = strlen(key);
	const char *dot = strchr(key, '.');

	if (!n || strchr(key, '/') || strstr(key, "..") || !dot ||
	    dot == key || !dot[1] ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_.") != n)
		return bad(err, errlen,
			   "--cgroup key '%s': a file of the cgroup, CONTROLLER.NAME (memory.max), without '/' or '..'",
			   key);
	if (!strncmp(key, "cgroup.", 7))
		return bad(err, errlen,
			   "--cgroup key '%s': the cgroup.* files are the jailer's",
			   key);
	return 0;
}

/* A relative path of plain names: no '.', '..', empty or odd parts. */
int jail__check_relpath(const char *what, const char *path, char *err,
			size_t errlen)
{
	const char *p = path;

	if (!*path || *path == '/')
		goto out;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (!n || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.') ||
		    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") < n)
			goto out;
		p += n;
		if (*p == '/' && !*++p)
			goto out;
	}
	return 0;
out:
	return bad(err, errlen,
		   "%s '%s': a relative path of names of [A-Za-z0-9._-], no '.' or '..'",
		   what, path);
}

static int parse_u64(const char *s, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse_id(const char *what, const char *s, unsigned int *v,
		    char *err, size_t errlen)
{
	unsigned long long n;

	if (parse_u64(s, &n) || n >= 0xffffffffull)
		return bad(err, errlen, "%s '%s': a number", what, s);
	/* A VMM that stays root can undo its jail (mount, chroot). */
	if (!n)
		return bad(err, errlen,
			   "%s 0: the VMM must not run as root in its jail",
			   what);
	*v = (unsigned int)n;
	return 0;
}

static int parse_cgroup(struct jail_opts *o, char *arg, char *err,
			size_t errlen)
{
	char *eq = strchr(arg, '=');
	int ret;

	if (!eq || !eq[1] || strchr(eq, '\n'))
		return bad(err, errlen, "--cgroup '%s': KEY=VALUE", arg);
	if (o->n_cgroups == JAIL_CGROUPS_MAX)
		return bad(err, errlen, "--cgroup: at most %d", JAIL_CGROUPS_MAX);
	*eq = 0;
	ret = jail__check_cgroup_key(arg, err, errlen);
	if (ret)
		return ret;
	o->cgroups[o->n_cgroups].key = arg;
	o->cgroups[o->n_cgroups++].value = eq + 1;
	return 0;
}

static int parse_rlimit(struct jail_opts *o, const char *arg, char *err,
			size_t errlen)
{
	const char *eq = strchr(arg, '=');
	unsigned long long v;

	if (!eq || parse_u64(eq + 1, &v))
		goto out;
	if (eq - arg == 5 && !strncmp(arg, "fsize", 5)) {
		o->fsize = v;
		o->has_fsize = true;
		return 0;
	}
	if (eq - arg == 7 && !strncmp(arg, "no-file", 7)) {
		o->nofile = v;
		return 0;
	}
out:
	return bad(err, errlen,
		   "--resource-limit '%s': fsize=BYTES or no-file=N", arg);
}

static int check_paths(struct jail_opts *o, char *err, size_t errlen)
{
	struct stat st;

	if (stat(o->exec_file, &st))
		return bad(err, errlen, "--exec-file %s: %s", o->exec_file,
			   strerror(errno));
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return bad(err, errlen,
			   "--exec-file %s: not an executable file",
			   o->exec_file);
	o->exec_name = strrchr(o->exec_file, '/');
	o->exec_name = o->exec_name ? o->exec_name + 1 : o->exec_file;
	if (o->chroot_base[0] != '/')
		return bad(err, errlen,
			   "--chroot-base-dir %s: an absolute path",
			   o->chroot_base);
	if (!stat(o->chroot_base, &st) && !S_ISDIR(st.st_mode))
		return bad(err, errlen,
			   "--chroot-base-dir %s: not a directory",
			   o->chroot_base);
	if (o->netns && stat(o->netns, &st))
		return bad(err, errlen, "--netns %s: %s", o->netns,
			   strerror(errno));
	if (!o->parent_cgroup)
		o->parent_cgroup = o->exec_name;
	return jail__check_relpath("--parent-cgroup", o->parent_cgroup, err,
				   errlen);
}

int jail__parse(int argc, char **argv, struct jail_opts *o, char *err,
		size_t errlen)
{
	enum { ID = 256, EXEC, UID, GID, BASE, NETNS, CGV, CG, PCG, RLIM,
	       DAEMON, PIDNS };
	static const struct option opts[] = {
		{ "id", required_argument, NULL, ID },
		{ "exec-file", required_argument, NULL, EXEC },
		{ "uid", required_argument, NULL, UID },
		{ "gid", required_argument, NULL, GID },
		{ "chroot-base-dir", required_argument, NULL, BASE },
		{ "netns", required_argument, NULL, NETNS },
		{ "cgroup-version", required_argument, NULL, CGV },
		{ "cgroup", required_argument, NULL, CG },
		{ "parent-cgroup", required_argument, NULL, PCG },
		{ "resource-limit", required_argument, NULL, RLIM },
		{ "daemonize", no_argument, NULL, DAEMON },
		{ "new-pid-ns", no_argument, NULL, PIDNS },
		{ NULL, 0, NULL, 0 }
	};
	bool has_uid = false, has_gid = false;
	int c, ret = 0;

	memset(o, 0, sizeof(*o));
	o->chroot_base = "/srv/jailer";
	o->nofile = 2048;
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case ID:
			o->id = optarg;
			ret = jail__check_id(optarg, err, errlen);
			break;
		case EXEC:
			o->exec_file = optarg;
			break;
		case UID:
			ret = parse_id("--uid", optarg, &o->uid, err, errlen);
			has_uid = true;
			break;
		case GID:
			ret = parse_id("--gid", optarg, &o->gid, err, errlen);
			has_gid = true;
			break;
		case BASE:
			o->chroot_base = optarg;
			break;
		case NETNS:
			o->netns = optarg;
			break;
		case CGV:
			if (strcmp(optarg, "2"))
				ret = bad(err, errlen,
					  "--cgroup-version %s: only cgroup v2 (2) is supported",
					  optarg);
			break;
		case CG:
			ret = parse_cgroup(o, optarg, err, errlen);
			break;
		case PCG:
			o->parent_cgroup = optarg;
			break;
		case RLIM:
			ret = parse_rlimit(o, optarg, err, errlen);
			break;
		case DAEMON:
			o->daemonize = true;
			break;
		case PIDNS:
			o->new_pid_ns = true;
			break;
		default:
			ret = bad(err, errlen,
				  "%s: unknown option or missing value (the VMM's arguments go after '--')",
				  argv[optind - 1]);
		}
	}
	if (ret)
		return ret;
	if (optind < argc && strcmp(argv[optind - 1], "--"))
		return bad(err, errlen,
			   "'%s': the VMM's arguments go after '--'",
			   argv[optind]);
	o->args = argv + optind;
	o->n_args = argc - optind;
	if (!o->id || !o->exec_file || !has_uid || !has_gid)
		return bad(err, errlen, "--id, --exec-file, --uid and --gid are needed");
	return check_paths(o, err, errlen);
}
