/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The processes thawctl starts and stops: thawvm and the Uffd page-fault
 * handler.  Programs are found, started detached with their output in
 * files, waited for until their socket answers, and stopped.
 *
 * How to use:
 *
 *	char prog[PATH_MAX];
 *	proc__find(prog, sizeof(prog), "thawvm", opt_path, "THAWVM");
 *	const char *argv[] = { prog, "--api-sock", sock, NULL };
 *	proc__spawn(argv, console_path, log_path, &pid, err, errlen);
 *	proc__wait_socket(sock, pid, deadline_ms, err, errlen);
 *	...
 *	proc__stop(pid, 5000);	(SIGTERM, then SIGKILL)
 *
 * Deadlines are absolute CLOCK_MONOTONIC milliseconds (util__now_ms()).
 * Errors are -errno with a message in @err.
 */
#ifndef THAW_TOOLS_LIB_PROC_H
#define THAW_TOOLS_LIB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Find program @name: @path if given, else $@env if set, else beside the
 * running executable, else in $PATH.  0 with the path in @out, or -ENOENT
 * with a message in @out.
 */
int proc__find(char *out, size_t outlen, const char *name, const char *path,
	       const char *env);

/*
 * Start @argv[0] in its own session with stdin on /dev/null, stdout
 * appended to @out_path and stderr to @err_path (NULL: /dev/null).  An
 * exec failure is reported here, not later.
 */
int proc__spawn(const char *const argv[], const char *out_path,
		const char *err_path, pid_t *pid, char *err, size_t errlen);

/*
 * Wait until a connect() to the Unix socket @path succeeds.  Fails early
 * (-ECHILD) if @pid, our child, exits first; its status goes to @status
 * when that is not NULL.
 */
int proc__wait_socket(const char *path, pid_t pid, uint64_t deadline,
		      int *status, char *err, size_t errlen);
/*
 * The same without connecting, for a server that renames its socket into
 * place once it listens and counts every connection (thaw-uffd-handler
 * --once): the path exists and is a socket.
 */
int proc__wait_socket_file(const char *path, pid_t pid, uint64_t deadline,
			   int *status, char *err, size_t errlen);

/* Has our child @pid exited?  Reaps it; its wait status in @status. */
bool proc__exited(pid_t pid, int *status);

/*
 * Stop @pid: SIGTERM, then SIGKILL after @grace_ms; reaps it when it is
 * our child.  Returns its wait status, or -1 if it was not our child.
 */
int proc__stop(pid_t pid, unsigned int grace_ms);

/* A short description of a wait status: "exit status 2", "signal 9". */
const char *proc__status_str(int status, char *buf, size_t len);

#endif
