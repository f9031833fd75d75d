// SPDX-License-Identifier: GPL-2.0
/* A listening Unix socket at a path, and what may be there: unix-sock.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/unix-sock.h"

static int unix_addr(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);

	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

/*
 * Does a process listen at @sa?  1 yes (it took the connection, or its
 * backlog is full), 0 no (refused: the file outlived its socket), -errno
 * when connect() says neither (no permission, say).  Non-blocking, so a
 * listener that does not accept cannot hold us up.
 */
static int listening(const struct sockaddr_un *sa)
{
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ||
	    errno == EAGAIN)
		ret = 1;
	else
		ret = errno == ECONNREFUSED ? 0 : -errno;
	close(fd);
	return ret;
}

static bool same_file(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	return !lstat(path, &st) && S_ISSOCK(st.st_mode) &&
	       st.st_dev == dev && st.st_ino == ino;
}

int unix_sock__clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int ret;

	if (unix_addr(&sa, path))
		return err__set(err, errlen, -ENAMETOOLONG,
				"%s: path too long", path);
	if (lstat(path, &st)) {
		ret = -errno;
		if (ret == -ENOENT)
			return 0;
		return err__set(err, errlen, ret, "%s: %s", path,
				strerror(-ret));
	}
	if (!S_ISSOCK(st.st_mode))
		return err__set(err, errlen, -EADDRINUSE,
				"%s: exists and is not a socket", path);
	ret = listening(&sa);
	if (ret > 0)
		return err__set(err, errlen, -EADDRINUSE,
				"%s: another process listens on it", path);
	if (ret < 0)
		return err__set(err, errlen, ret,
				"%s: cannot tell whether anybody listens on it: %s",
				path, strerror(-ret));
	/* Only the file we probed: not one a racing process just bound. */
	if (!same_file(path, st.st_dev, st.st_ino))
		return err__set(err, errlen, -EADDRINUSE,
				"%s: replaced while we looked at it", path);
	if (unlink(path) && errno != ENOENT) {
		ret = -errno;
		return err__set(err, errlen, ret,
				"%s: cannot remove the stale socket: %s", path,
				strerror(-ret));
	}
	return 1;
}

int unix_sock__listen(const char *what, const char *path, int backlog,
		      struct unix_sock_id *id, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	char why[256];
	struct stat st;
	int fd, ret;

	if (unix_addr(&sa, path))
		return err__set(err, errlen, -ENAMETOOLONG,
				"%s %s: path too long", what, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "%s %s: socket: %s", what,
				path, strerror(-ret));
	}
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (ret && errno == EADDRINUSE) {
		ret = unix_sock__clear_stale(path, why, sizeof(why));
		if (ret < 0) {
			err__set(err, errlen, ret, "%s %s", what, why);
			goto err_close;
		}
		if (ret)
			pr_warn("%s %s: replaced a stale socket (nobody listened on it)",
				what, path);
		ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	/* The file we made, so that we remove it and nothing else. */
	if (ret || lstat(path, &st)) {
		ret = -errno;
		err__set(err, errlen, ret, "%s %s: %s", what, path,
			 strerror(-ret));
		goto err_close;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	if (listen(fd, backlog)) {
		ret = -errno;
		err__set(err, errlen, ret, "%s %s: listen: %s", what, path,
			 strerror(-ret));
		unix_sock__unlink(path, id);
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return ret;
}

void unix_sock__unlink(const char *path, const struct unix_sock_id *id)
{
	if (same_file(path, id->dev, id->ino))
		unlink(path);
}
