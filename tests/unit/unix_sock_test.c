// SPDX-License-Identifier: GPL-2.0
/*
 * lib/unix-sock.c: what a listener may take the place of (nothing, a
 * stale socket) and what it must leave alone (a live listener, even one
 * that does not accept; a file that is not a socket), and that it removes
 * its path only while the path is still its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/unix-sock.h"

struct fixture {
	char dir[32];
	char path[64];
	char err[256];
	struct unix_sock_id id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/unix-sock-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/s.sock", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A socket bound at @path; listening with @backlog unless it is < 0. */
static int bound(const char *path, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

static int connected(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (ret) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static ino_t inode(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_ino;
}

/* Listen at the path, serve a connection, remove what we bound. */
static void listen_serve_unlink(struct fixture *f)
{
	int fd, c;

	fd = unix_sock__listen("uds_path", f->path, 4, &f->id, f->err,
			       sizeof(f->err));
	assert_true(fd >= 0);
	assert_int_equal(f->id.ino, inode(f->path));
	c = connected(f->path);
	assert_true(c >= 0);
	close(c);
	unix_sock__unlink(f->path, &f->id);
	close(fd);
	assert_int_equal(access(f->path, F_OK), -1);
}

static void free_path(void **state)
{
	listen_serve_unlink(*state);
}

/* Another process's listener: refused by name, left as it was. */
static void live_listener_refused(void **state)
{
	struct fixture *f = *state;
	int l, c;
	ino_t ino;

	l = bound(f->path, 4);
	ino = inode(f->path);
	assert_int_equal(unix_sock__listen("uds_path", f->path, 4, &f->id,
					   f->err, sizeof(f->err)),
			 -EADDRINUSE);
	assert_non_null(strstr(f->err, "uds_path"));
	assert_non_null(strstr(f->err, f->path));
	assert_non_null(strstr(f->err, "another process listens on it"));
	assert_int_equal(inode(f->path), ino);
	c = connected(f->path);
	assert_true(c >= 0);
	close(c);
	close(l);
}

/* One whose backlog is full is live too, and the probe does not hang. */
static void busy_listener_refused(void **state)
{
	struct fixture *f = *state;
	int l, c[16], n = 0;

	l = bound(f->path, 0);
	while (n < 16 && (c[n] = connected(f->path)) >= 0)
		n++;
	assert_true(n < 16);
	assert_int_equal(c[n], -EAGAIN);
	assert_int_equal(unix_sock__clear_stale(f->path, f->err,
						sizeof(f->err)),
			 -EADDRINUSE);
	assert_non_null(strstr(f->err, "another process listens on it"));
	while (n--)
		close(c[n]);
	close(l);
}

/* A socket file whose owner is gone: replaced. */
static void stale_socket_replaced(void **state)
{
	struct fixture *f = *state;

	close(bound(f->path, -1));
	assert_int_equal(connected(f->path), -ECONNREFUSED);
	listen_serve_unlink(f);
}

static void not_a_socket_left_alone(void **state)
{
	struct fixture *f = *state;
	FILE *file = fopen(f->path, "w");

	assert_non_null(file);
	fclose(file);
	assert_int_equal(unix_sock__listen("uds_path", f->path, 4, &f->id,
					   f->err, sizeof(f->err)),
			 -EADDRINUSE);
	assert_non_null(strstr(f->err, "is not a socket"));
	assert_int_equal(access(f->path, F_OK), 0);
}

static void bad_paths(void **state)
{
	struct fixture *f = *state;
	char path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(unix_sock__listen("uds_path", path, 4, &f->id,
					   f->err, sizeof(f->err)),
			 -ENAMETOOLONG);
	assert_non_null(strstr(f->err, "too long"));
	snprintf(path, sizeof(path), "%s/no/such/dir", f->dir);
	assert_int_equal(unix_sock__listen("uds_path", path, 4, &f->id,
					   f->err, sizeof(f->err)),
			 -ENOENT);
	assert_non_null(strstr(f->err, path));
}

/* Removed at the end only while the path is still ours. */
static void unlink_only_our_own(void **state)
{
	struct fixture *f = *state;
	int fd, other;
	ino_t ino;

	fd = unix_sock__listen("uds_path", f->path, 4, &f->id, f->err,
			       sizeof(f->err));
	assert_true(fd >= 0);
	assert_int_equal(unlink(f->path), 0);
	other = bound(f->path, 4);
	ino = inode(f->path);
	unix_sock__unlink(f->path, &f->id);
	close(fd);
	assert_int_equal(inode(f->path), ino);
	close(other);
}

static void clear_stale(void **state)
{
	struct fixture *f = *state;
	int l;

	assert_int_equal(unix_sock__clear_stale(f->path, f->err,
						sizeof(f->err)), 0);
	l = bound(f->path, 4);
	assert_int_equal(unix_sock__clear_stale(f->path, f->err,
						sizeof(f->err)),
			 -EADDRINUSE);
	assert_int_equal(access(f->path, F_OK), 0);
	close(l);
	assert_int_equal(unix_sock__clear_stale(f->path, NULL, 0), 1);
	assert_int_equal(access(f->path, F_OK), -1);
	/* Never a file that is not a socket. */
	close(open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	assert_int_equal(unix_sock__clear_stale(f->path, f->err,
						sizeof(f->err)),
			 -EADDRINUSE);
	assert_non_null(strstr(f->err, "is not a socket"));
	assert_int_equal(access(f->path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(free_path, setup, teardown),
		cmocka_unit_test_setup_teardown(live_listener_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(busy_listener_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stale_socket_replaced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(not_a_socket_left_alone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(bad_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(unlink_only_our_own, setup,
						teardown),
		cmocka_unit_test_setup_teardown(clear_stale, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
