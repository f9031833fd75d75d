// SPDX-License-Identifier: GPL-2.0
/*
 * The function's runtime: the bootstrap process, in its own session, with
 * Lambda's environment.
 *
 * When it exits, thaw-init reports it and starts it again, as Lambda does:
 * an invocation it was working on fails with Runtime.ExitError; an exit
 * before its first next is an init error, served to the next invocation.
 * Restarts back off (100 ms doubling to 5 s) while the runtime keeps
 * failing before it gets ready, so a broken function costs little CPU and
 * the host keeps getting answers; powering off is the host's call.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "tools/guest/init.h"
#include "tools/guest/lambda.h"

#define RESTART_MIN_MS	100
#define RESTART_MAX_MS	5000
#define STOP_GRACE_MS	2000

static void ms_to_tv(uint64_t ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = ms % 1000 * 1000;
}

static void bootstrap_path(const struct init *init, char *buf, size_t len)
{
	if (init->cfg.bootstrap) {
		snprintf(buf, len, "%s", init->cfg.bootstrap);
		return;
	}
	/* Lambda looks in the function first, then in the layers. */
	snprintf(buf, len, "%s/bootstrap", init->cfg.task_root);
	if (access(buf, F_OK) && !access("/opt/bootstrap", F_OK))
		snprintf(buf, len, "/opt/bootstrap");
}

static void close_from(int first)
{
	if (syscall(SYS_close_range, first, ~0U, 0) == 0)
		return;
	for (int fd = first; fd < 1024; fd++)
		close(fd);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void __attribute__((noreturn)) exec_runtime(const struct init *init,
						   const char *path)
{
	char *argv[] = { (char *)path, NULL };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int fd;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	close_from(3);
	if (chdir(init->cfg.task_root))
		(void)!chdir("/");
	if (geteuid() == 0 && init->cfg.uid != 0) {
		if (setgroups(0, NULL) || setgid(init->cfg.gid) ||
		    setuid(init->cfg.uid)) {
			static const char msg[] =
				"thaw-init: cannot drop to the runtime's user\n";

			(void)!write(2, msg, sizeof(msg) - 1);
			_exit(126);
		}
	}
	execve(path, argv, init->env);
	{
		static const char msg[] = "thaw-init: cannot execute ";

		(void)!write(2, msg, sizeof(msg) - 1);
		(void)!write(2, path, strlen(path));
		(void)!write(2, "\n", 1);
	}
	_exit(127);
}

int runtime__start(struct init *init)
{
	char path[PATH_MAX];
	pid_t pid;

	if (init->stopping || init->rt_state != RUNTIME_STOPPED)
		return 0;
	bootstrap_path(init, path, sizeof(path));
	pid = fork();
	if (pid < 0) {
		init__err("fork: %m");
		return -errno;
	}
	if (pid == 0)
		exec_runtime(init, path);
	init->rt_pid = pid;
	init->rt_state = RUNTIME_INIT;
	init->rt_posted_init_error = false;
	init->rt_started_ns = init__now_ns(CLOCK_MONOTONIC);
	init__log(init, "started %s (pid %d)", path, pid);
	return 0;
}

static void restart_cb(evutil_socket_t fd, short what, void *arg)
{
	runtime__start(arg);
}

static void kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct init *init = arg;

	if (init->rt_pid > 0) {
		init__err("runtime did not stop in %d ms: killing it",
			  STOP_GRACE_MS);
		kill(-init->rt_pid, SIGKILL);
	}
}

static void describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal: %s", strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "status 0x%x", status);
}

void runtime__set_init_error(struct init *init, const char *type,
			     struct evbuffer *body)
{
	init->init_error = true;
	snprintf(init->init_error_type, sizeof(init->init_error_type), "%s",
		 type);
	evbuffer_drain(init->init_error_body,
		       evbuffer_get_length(init->init_error_body));
	if (body)
		evbuffer_add_buffer(init->init_error_body, body);
}

static void set_init_error(struct init *init, const char *type,
			   const char *message)
{
	struct evbuffer *buf = evbuffer_new();
	char *body = lambda__error_body(type, message);

	if (buf && body)
		evbuffer_add(buf, body, strlen(body));
	runtime__set_init_error(init, type, buf);
	free(body);
	if (buf)
		evbuffer_free(buf);
}

static void runtime_exited(struct init *init, int status)
{
	enum runtime_state was = init->rt_state;
	char how[64], msg[320];
	uint64_t delay_ms;
	struct timeval tv;

	describe(status, how, sizeof(how));
	init__err("runtime (pid %d) exited: %s", init->rt_pid, how);
	/* Whatever it left running in its session goes with it. */
	kill(-init->rt_pid, SIGKILL);
	init->rt_pid = 0;
	init->rt_state = RUNTIME_STOPPED;
	evtimer_del(init->rt_kill);
	runtime_api__drop_next(init);

	if (init->current) {
		snprintf(msg, sizeof(msg),
			 "RequestId: %s Error: Runtime exited with error: %s",
			 init->current->req.request_id, how);
		queue__fail(init, init->current, THAW_STATUS_FUNCTION_ERROR,
			    "Runtime.ExitError", msg);
	}
	if (was == RUNTIME_INIT && !init->rt_posted_init_error) {
		snprintf(msg, sizeof(msg), "Runtime exited with error: %s",
			 how);
		set_init_error(init, "Runtime.ExitError", msg);
	}
	if (init->stopping) {
		init__stopped(init);
		return;
	}
	if (RUNTIME_PAST_INIT(was)) {
		delay_ms = 0;
	} else {
		unsigned int n = init->rt_restarts < 6 ? init->rt_restarts : 6;

		delay_ms = RESTART_MIN_MS << n;
		if (delay_ms > RESTART_MAX_MS)
			delay_ms = RESTART_MAX_MS;
		init->rt_restarts++;
	}
	ms_to_tv(delay_ms, &tv);
	evtimer_add(init->rt_restart, &tv);
	queue__dispatch(init);
}

void runtime__reap(struct init *init)
{
	int status;
	pid_t pid;

	/* PID 1 reaps every orphan too, not only the runtime. */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == init->rt_pid)
			runtime_exited(init, status);
}

void runtime__ready(struct init *init, enum runtime_state st)
{
	init->rt_state = st;
	init->rt_restarts = 0;
	init->init_ms = (init__now_ns(CLOCK_MONOTONIC) - init->rt_started_ns) /
		1000000;
	/*
	 * An init error of an earlier runtime is stale now; a restore error
	 * is not: the invocation that the failed restore was for gets it.
	 */
	if (!init->restore_failed)
		init->init_error = false;
	init__log(init, "runtime ready after %llu ms of init",
		  (unsigned long long)init->init_ms);
}

void runtime__kill(struct init *init)
{
	if (init->rt_pid > 0)
		kill(-init->rt_pid, SIGKILL);
}

void runtime__stop(struct init *init)
{
	struct timeval tv;

	evtimer_del(init->rt_restart);
	if (init->rt_pid <= 0) {
		init__stopped(init);
		return;
	}
	kill(-init->rt_pid, SIGTERM);
	kill(init->rt_pid, SIGCONT);
	ms_to_tv(STOP_GRACE_MS, &tv);
	evtimer_add(init->rt_kill, &tv);
}

/*
 * Lambda names a log stream per execution environment; so does thaw-init
 * per boot (a clone keeps its snapshot's: it is in the runtime's
 * environment).
 */
static int log_stream_name(struct init *init)
{
	char name[GUEST_STRING_MAX + 64];
	uint8_t rnd[16];

	if (init->cfg.log_stream_name)
		return 0;
	init__random(rnd, sizeof(rnd));
	if (guest_config__log_stream_name(init->cfg.function_version,
					  time(NULL), rnd, name,
					  sizeof(name)) < 0)
		return -EINVAL;
	init->cfg.log_stream_name = strdup(name);
	return init->cfg.log_stream_name ? 0 : -ENOMEM;
}

int runtime__init(struct init *init)
{
	init->rt_restart = evtimer_new(init->base, restart_cb, init);
	init->rt_kill = evtimer_new(init->base, kill_cb, init);
	init->init_error_body = evbuffer_new();
	if (log_stream_name(init))
		return -ENOMEM;
	init->env = guest_config__build_env(&init->cfg, init->memory_mb);
	if (!init->rt_restart || !init->rt_kill || !init->init_error_body ||
	    !init->env)
		return -ENOMEM;
	return 0;
}

void runtime__free(struct init *init)
{
	if (init->rt_restart)
		event_free(init->rt_restart);
	if (init->rt_kill)
		event_free(init->rt_kill);
	if (init->init_error_body)
		evbuffer_free(init->init_error_body);
	guest_config__free_env(init->env);
	init->env = NULL;
}
