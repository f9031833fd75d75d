/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A listening Unix socket at a path in the file system, and the one rule
 * for what may already be there, shared by thawvm's API socket and its
 * vsock uds_path:
 *
 *  - a socket file nobody listens on (connect() is refused) is what a
 *    killed process left behind: it is replaced, with a warning;
 *  - a socket another process listens on is that process's: refused with
 *    -EADDRINUSE, and so is any file that is not a socket;
 *  - at the end the path is removed only if it still names the socket we
 *    bound, never one another process put there since.
 *
 * How to use:
 *
 *	struct unix_sock_id id;
 *	fd = unix_sock__listen("uds_path", path, 128, &id, err, errlen);
 *	if (fd < 0)
 *		return fd;		(err: "uds_path PATH: why")
 *	...
 *	unix_sock__unlink(path, &id);
 *	close(fd);
 */
#ifndef THAW_LIB_UNIX_SOCK_H
#define THAW_LIB_UNIX_SOCK_H

#include <stddef.h>
#include <sys/types.h>

/* The socket file a listener bound: the inode its path named. */
struct unix_sock_id {
	dev_t dev;
	ino_t ino;
};

/*
 * Free @path of a stale socket: 1 if one was removed, 0 if nothing is
 * there; -EADDRINUSE with "PATH: another process listens on it" (or "is
 * not a socket") in @err when something is in the way; another -errno
 * with a message when it cannot tell.
 */
int unix_sock__clear_stale(const char *path, char *err, size_t errlen);

/*
 * A SOCK_STREAM socket, non-blocking and close-on-exec, bound to @path
 * (in place of a stale socket) and listening with @backlog; @id says
 * which file it bound.  Returns the fd, or -errno with "@what PATH: why"
 * in @err.  @what names the setting the path came from ("uds_path").
 */
int unix_sock__listen(const char *what, const char *path, int backlog,
		      struct unix_sock_id *id, char *err, size_t errlen);

/*
 * Remove @path if it is still the socket file @id names.  Before closing
 * the listener: while it is open its inode cannot be freed, so no other
 * file can be under @path with the same number.
 */
void unix_sock__unlink(const char *path, const struct unix_sock_id *id);

#endif
