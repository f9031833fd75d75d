// SPDX-License-Identifier: GPL-2.0
/* Starting, watching and stopping child processes (tools/lib/proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "tools/lib/proc.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"

extern char **environ;

static bool executable(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode) && !access(p, X_OK);
}

int proc__find(char *out, size_t outlen, const char *name, const char *path,
	       const char *env)
{
	const char *e = env ? getenv(env) : NULL;
	char self[PATH_MAX], *slash, *dirs, *d, *save;
	ssize_t n;

	if (path || (e && *e)) {
		const char *p = path ? path : e;

		if (!executable(p)) {
			snprintf(out, outlen, "%s: not an executable file (%s)",
				 p, path ? "given" : env);
			return -ENOENT;
		}
		snprintf(out, outlen, "%s", p);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, outlen, "%s/%s", self,
					     name) < outlen &&
			    executable(out))
				return 0;
		}
	}
	e = getenv("PATH");
	dirs = strdup(e ? e : "/usr/local/bin:/usr/bin:/bin");
	if (!dirs) {
		snprintf(out, outlen, "out of memory");
		return -ENOMEM;
	}
	for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if ((size_t)snprintf(out, outlen, "%s/%s", d, name) < outlen &&
		    executable(out)) {
			free(dirs);
			return 0;
		}
	}
	free(dirs);
	snprintf(out, outlen,
		 "%s not found (beside thawctl, in $PATH%s%s); give its path",
		 name, env ? " or $" : "", env ? env : "");
	return -ENOENT;
}

int proc__spawn(const char *const argv[], const char *out_path,
		const char *err_path, pid_t *pid, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path :
					 "/dev/null",
					 O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path :
					 "/dev/null",
					 O_WRONLY | O_CREAT | O_APPEND, 0600);
	/*
	 * Its own session: a terminal's ^C or hang-up meant for thawctl does
	 * not stop the VMs it leaves running.  Signals start unblocked and at
	 * their defaults whatever thawctl did with them.
	 */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID |
				 POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	/* glibc's posix_spawn reports a failed exec as its return value. */
	ret = posix_spawn(pid, argv[0], &fa, &attr, (char *const *)argv,
			  environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (ret)
		return err__set(err, errlen, -ret, "cannot start %s: %s",
				argv[0], strerror(ret));
	return 0;
}

bool proc__exited(pid_t pid, int *status)
{
	int st;
	pid_t r = waitpid(pid, &st, WNOHANG);

	if (r == pid) {
		if (status)
			*status = st;
		return true;
	}
	/* Not our child (ECHILD): alive while it can be signalled. */
	if (r < 0 && errno == ECHILD)
		return kill(pid, 0) && errno == ESRCH;
	return false;
}

const char *proc__status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "wait status 0x%x", status);
	return buf;
}

static int try_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, ret = 0;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		ret = -errno;
	close(fd);
	return ret;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The path is a socket: a server that moves it into place once it listens. */
static int try_stat(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	if (stat(path, &st))
		return -errno;
	return S_ISSOCK(st.st_mode) ? 0 : -ENOTSOCK;
}

static int wait_for(const char *path, pid_t pid, uint64_t deadline,
		    int *status, char *err, size_t errlen, bool connect)
{
	unsigned int delay = 1;
	char sbuf[64];
	int st, ret;

	for (;;) {
		ret = connect ? try_connect(path) : try_stat(path);
		if (!ret)
			return 0;
		if (ret == -ENAMETOOLONG)
			return err__set(err, errlen, ret,
					"%s: path too long for a socket", path);
		if (pid > 0 && proc__exited(pid, &st)) {
			if (status)
				*status = st;
			return err__set(err, errlen, -ECHILD,
					"pid %d ended (%s) before %s answered",
					(int)pid,
					proc__status_str(st, sbuf,
							 sizeof(sbuf)),
					path);
		}
		if (util__now_ms() >= deadline)
			return err__set(err, errlen, -ETIMEDOUT,
					"%s: nothing answers (%s)", path,
					strerror(-ret));
		/* 1, 2, 4 ms ... 20 ms: a VMM's socket is usually up in ms. */
		sleep_ms(delay);
		if (delay < 20)
			delay *= 2;
	}
}

int proc__wait_socket(const char *path, pid_t pid, uint64_t deadline,
		      int *status, char *err, size_t errlen)
{
	return wait_for(path, pid, deadline, status, err, errlen, true);
}

int proc__wait_socket_file(const char *path, pid_t pid, uint64_t deadline,
			   int *status, char *err, size_t errlen)
{
	return wait_for(path, pid, deadline, status, err, errlen, false);
}

int proc__stop(pid_t pid, unsigned int grace_ms)
{
	uint64_t deadline;
	int st = -1;

	if (pid <= 0)
		return -1;
	if (proc__exited(pid, &st))
		return st;
	kill(pid, SIGTERM);
	deadline = util__now_ms() + grace_ms;
	while (util__now_ms() < deadline) {
		if (proc__exited(pid, &st))
			return st;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) == pid)
		return st;
	/* Not our child: its parent reaps it; wait until it is gone. */
	deadline = util__now_ms() + 5000;
	while (!proc__exited(pid, NULL) && util__now_ms() < deadline)
		sleep_ms(10);
	return -1;
}
