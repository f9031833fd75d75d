// SPDX-License-Identifier: GPL-2.0
/*
 * thaw-jailer --id ID --exec-file PATH --uid UID --gid GID
 *             [--chroot-base-dir DIR] [--netns PATH] [--cgroup-version 2]
 *             [--cgroup KEY=VALUE ...] [--parent-cgroup PATH]
 *             [--resource-limit fsize=N|no-file=N ...] [--daemonize]
 *             [--new-pid-ns] [-- VMM ARGS...]
 *
 * Puts the VMM (thawvm) in a jail and execs it there, as Firecracker's
 * jailer does for Firecracker (Documentation/admin-guide/jailer.rst): the
 * jail CHROOT/EXEC/ID/root holds the exec file, its libraries and the
 * device nodes; its own mount namespace (and pid namespace), its cgroup,
 * rlimits, no privileges.  The VMM is run as
 * /EXEC --id ID --start-time-us T --start-time-cpu-us C ARGS...
 *
 * Exit status: 1 a step failed (named on stderr, what it made removed);
 * 2 bad arguments; else the VMM's (it replaced the jailer, or with
 * --new-pid-ns the jailer waits for it), 0 with --daemonize --new-pid-ns.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include "thaw-version.h"
#include "tools/jailer/jailer.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thaw-jailer --id ID --exec-file PATH --uid UID --gid GID\n"
		"                   [--chroot-base-dir DIR] [--netns PATH]\n"
		"                   [--cgroup-version 2] [--cgroup KEY=VALUE]...\n"
		"                   [--parent-cgroup PATH]\n"
		"                   [--resource-limit fsize=N|no-file=N]...\n"
		"                   [--daemonize] [--new-pid-ns] [-- VMM ARGS...]\n"
		"The jail is CHROOT/EXEC/ID/root (CHROOT default /srv/jailer).\n"
		"Exit status: 1 a step failed, 2 bad arguments, else the VMM's.\n");
}

static const struct jail_opts *opts;
static struct jail_cgroup cg = { .parent_fd = -1, .orig_fd = -1 };
static int jail_dirfd = -1;	/* CHROOT/EXEC */
static int child_pipe = -1;	/* --new-pid-ns child: tells the parent */
static bool jail_created;	/* CHROOT/EXEC/ID made by us */

/* A step failed: say which, undo what was made, exit 1. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die_step(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "thaw-jailer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* The parent cleans up once the child is gone. */
	if (child_pipe >= 0) {
		if (write(child_pipe, "x", 1) < 0)
			_exit(JAIL_EXIT_FAIL);
		_exit(JAIL_EXIT_FAIL);
	}
	cgroup__undo(opts, &cg);
	if (jail_created && jail_dirfd >= 0)
		jail__remove(jail_dirfd, opts->id);
	exit(JAIL_EXIT_FAIL);
}

static unsigned long long clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 +
	       (unsigned long long)ts.tv_nsec / 1000;
}

/* mkdir -p of a host path, for CHROOT/EXEC. */
static int mkdir_host(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -errno : 0;
}

static void make_jail(const struct jail_opts *o, char *root, size_t len)
{
	char dir[3072], err[512] = "";
	struct stat st;
	int ret;

	snprintf(dir, sizeof(dir), "%s/%s", o->chroot_base, o->exec_name);
	ret = mkdir_host(dir);
	if (ret)
		die_step("creating %s: %s", dir, strerror(-ret));
	jail_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (jail_dirfd < 0)
		die_step("opening %s: %s", dir, strerror(errno));
	if (!mkdirat(jail_dirfd, o->id, 0755))
		jail_created = true;
	else if (errno != EEXIST)
		die_step("creating %s/%s: %s", dir, o->id, strerror(errno));
	snprintf(root, len, "%s/%s/root", dir, o->id);
	if (mkdir(root, 0755) && errno != EEXIST)
		die_step("creating %s: %s", root, strerror(errno));
	if (lstat(root, &st) || !S_ISDIR(st.st_mode))
		die_step("%s: not a directory", root);
	ret = jail__build(o, root, err, sizeof(err));
	if (ret)
		die_step("building the jail: %s", err);
}

static void set_rlimits(const struct jail_opts *o)
{
	struct rlimit rl = { o->nofile, o->nofile };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		die_step("setrlimit no-file=%llu: %s", o->nofile,
			 strerror(errno));
	if (o->has_fsize) {
		rl.rlim_cur = rl.rlim_max = o->fsize;
		if (setrlimit(RLIMIT_FSIZE, &rl))
			die_step("setrlimit fsize=%llu: %s", o->fsize,
				 strerror(errno));
	}
}

/*
 * Into the jail: a private mount namespace, the jail's root bind-mounted
 * on itself and pivoted to, the old root detached.  Where the namespace's
 * root is the initramfs (rootfs, which cannot be pivoted away from), the
 * jail's root is moved over "/" and chrooted into instead; the VMM holds
 * no capability to leave a chroot.
 */
static void enter_jail(const char *root)
{
	static const char old[] = ".old-root";

	if (mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL))
		die_step("making the mounts private: %s", strerror(errno));
	if (mount(root, root, NULL, MS_BIND, NULL))
		die_step("bind-mounting %s: %s", root, strerror(errno));
	if (chdir(root))
		die_step("chdir %s: %s", root, strerror(errno));
	if (mkdir(old, 0700) && errno != EEXIST)
		die_step("mkdir %s/%s: %s", root, old, strerror(errno));
	if (!syscall(SYS_pivot_root, ".", old)) {
		if (umount2(old, MNT_DETACH))
			die_step("detaching the old root: %s", strerror(errno));
		rmdir(old);
	} else if (errno == EINVAL) {
		rmdir(old);
		if (mount(".", "/", NULL, MS_MOVE, NULL))
			die_step("moving the jail over /: %s", strerror(errno));
	} else {
		die_step("pivot_root into %s: %s", root, strerror(errno));
	}
	if (chroot(".") || chdir("/"))
		die_step("chroot: %s", strerror(errno));
}

static void drop_privileges(const struct jail_opts *o)
{
	if (setgroups(0, NULL) || setresgid(o->gid, o->gid, o->gid) ||
	    setresuid(o->uid, o->uid, o->uid))
		die_step("dropping to uid %u gid %u: %s", o->uid, o->gid,
			 strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die_step("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
}

static pid_t child;

static void forward(int sig)
{
	kill(child, sig);
}

/*
 * --new-pid-ns: the VMM is pid 1 of a new pid namespace, with a procfs of
 * that namespace only at /proc (its /proc/self: pagemap, clear_refs).  The
 * jailer writes the VMM's pid to /EXEC.pid in the jail and, unless
 * --daemonize, stays as its parent: it passes SIGINT, SIGTERM and SIGHUP
 * on and exits with the VMM's status.  A setup failure in the child is
 * reported through a pipe, so that the parent cleans up.
 */
static void spawn(const struct jail_opts *o)
{
	struct sigaction sa = { .sa_handler = forward };
	char path[512], c;
	int p[2], status;
	ssize_t n;
	FILE *f;

	if (pipe2(p, O_CLOEXEC))
		die_step("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die_step("fork into the new pid namespace: %s",
			 strerror(errno));
	if (!child) {
		close(p[0]);
		child_pipe = p[1];
		if (mount("proc", "/proc", "proc",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid") &&
		    mount("proc", "/proc", "proc",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
			die_step("mounting /proc: %s", strerror(errno));
		}
		return;	/* on to drop privileges and exec; p[1] closes there */
	}
	close(p[1]);
	snprintf(path, sizeof(path), "/%s.pid", o->exec_name);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d\n", (int)child);
		fclose(f);
	}
	do
		n = read(p[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n) {
		waitpid(child, NULL, 0);
		unlink(path);
		die_step("the VMM's process did not start (see above)");
	}
	if (o->daemonize)
		exit(0);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	drop_privileges(o);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			exit(JAIL_EXIT_FAIL);
	exit(WIFEXITED(status) ? WEXITSTATUS(status) :
	     128 + WTERMSIG(status));
}

int main(int argc, char **argv)
{
	unsigned long long t0 = clock_us(CLOCK_MONOTONIC);
	char err[512] = "", root[4096], start[32], cpu[32], exec_path[512];
	static struct jail_opts o;
	char **vargv;
	int netns = -1, devnull = -1, i;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("thaw-jailer %s\n", THAW_VERSION);
		return 0;
	}
	if (jail__parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "thaw-jailer: %s\n", err);
		usage(stderr);
		return JAIL_EXIT_BAD_ARGS;
	}
	opts = &o;
	if (geteuid()) {
		fprintf(stderr, "thaw-jailer: must run as root\n");
		return JAIL_EXIT_FAIL;
	}
	/* Nothing of the caller's but stdio goes into the jail. */
	if (close_range(3, ~0U, 0))
		die_step("closing inherited files: %s", strerror(errno));
	if (o.netns) {
		netns = open(o.netns, O_RDONLY | O_CLOEXEC);
		if (netns < 0)
			die_step("opening --netns %s: %s", o.netns,
				 strerror(errno));
	}
	if (o.daemonize) {
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull < 0)
			die_step("/dev/null: %s", strerror(errno));
	}

	make_jail(&o, root, sizeof(root));
	set_rlimits(&o);
	if ((o.n_cgroups || strcmp(o.parent_cgroup, o.exec_name)) &&
	    cgroup__join(&o, &cg, err, sizeof(err)))
		die_step("cgroup: %s", err);
	if (netns >= 0 && setns(netns, CLONE_NEWNET))
		die_step("joining the network namespace %s: %s", o.netns,
			 strerror(errno));
	if (netns >= 0)
		close(netns);
	if (unshare(CLONE_NEWNS | (o.new_pid_ns ? CLONE_NEWPID : 0)))
		die_step("unshare: %s", strerror(errno));
	enter_jail(root);
	if (o.daemonize) {
		if (setsid() < 0)
			die_step("setsid (is the jailer a process group leader?): %s",
				 strerror(errno));
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
		    dup2(devnull, 2) < 0)
			die_step("stdio to /dev/null: %s", strerror(errno));
		close(devnull);
	}
	if (o.new_pid_ns)
		spawn(&o);
	drop_privileges(&o);

	vargv = calloc((size_t)o.n_args + 8, sizeof(*vargv));
	if (!vargv)
		die_step("out of memory");
	snprintf(exec_path, sizeof(exec_path), "/%s", o.exec_name);
	snprintf(start, sizeof(start), "%llu", t0);
	snprintf(cpu, sizeof(cpu), "%llu", clock_us(CLOCK_PROCESS_CPUTIME_ID));
	i = 0;
	vargv[i++] = (char *)o.exec_name;
	vargv[i++] = "--id";
	vargv[i++] = (char *)o.id;
	vargv[i++] = "--start-time-us";
	vargv[i++] = start;
	vargv[i++] = "--start-time-cpu-us";
	vargv[i++] = cpu;
	memcpy(vargv + i, o.args, (size_t)o.n_args * sizeof(*vargv));
	execve(exec_path, vargv, (char *[]){ NULL });
	/* No privileges left to undo the cgroup or the jail with. */
	fprintf(stderr, "thaw-jailer: exec %s in the jail: %s\n", exec_path,
		strerror(errno));
	if (child_pipe >= 0 && write(child_pipe, "x", 1) < 0)
		return JAIL_EXIT_FAIL;
	return JAIL_EXIT_FAIL;
}
