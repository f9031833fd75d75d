// SPDX-License-Identifier: GPL-2.0
/*
 * The tools' vsock transport (tools/lib/vsock-client.c) against a VMM and a
 * guest that misbehave: Firecracker's CONNECT handshake answered wrongly or
 * not at all, and protocol messages that lie about their lengths.  A peer
 * thread on a real Unix socket plays the VMM.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
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
#include <json-c/json.h>

#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"

struct peer {
	int lfd;
	const char *answer;	/* written after the CONNECT line */
	size_t answer_len;
	bool hang;		/* keep the connection open, say nothing */
	char got[64];		/* the line the client sent */
};

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	size_t n = 0;
	int fd;

	fd = accept(p->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	while (n < sizeof(p->got) - 1 && read(fd, p->got + n, 1) == 1)
		if (p->got[n++] == '\n')
			break;
	p->got[n] = '\0';
	if (p->answer_len)
		(void)!write(fd, p->answer, p->answer_len);
	if (p->hang)
		sleep(2);
	close(fd);
	return NULL;
}

/* Connect through a fake VMM that answers @answer; returns the result. */
static int handshake(const char *answer, size_t len, bool hang,
		     uint64_t timeout_ms, char *got, int *fdp)
{
	char dir[] = "/tmp/thawctl-test.XXXXXX", path[128], err[256];
	struct vsock_target t = { .port = 9000 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct peer p = { .answer = answer, .answer_len = len, .hang = hang };
	pthread_t th;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	strcpy(sun.sun_path, path);
	p.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(p.lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(p.lfd, 1), 0);
	assert_int_equal(pthread_create(&th, NULL, peer_main, &p), 0);
	t.uds = path;
	fd = vsock_client__connect(&t, util__now_ms() + timeout_ms, err,
				   sizeof(err));
	if (fd < 0)
		assert_true(err[0]);
	pthread_join(th, NULL);
	close(p.lfd);
	unlink(path);
	rmdir(dir);
	if (got)
		strcpy(got, p.got);
	if (fdp)
		*fdp = fd;
	else if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

static void connect_ok(void **state)
{
	static const char answer[] = "OK 1073741824\nguest bytes";
	char got[64], buf[16] = "";
	int fd;

	assert_int_equal(handshake(answer, strlen(answer), false, 2000, got,
				   &fd), 0);
	assert_string_equal(got, "CONNECT 9000\n");
	/* what follows the OK line belongs to the guest's stream */
	assert_int_equal(vsock_client__read_full(fd, buf, 11,
						 util__now_ms() + 2000),
			 0);
	assert_memory_equal(buf, "guest bytes", 11);
	close(fd);
}

static void connect_hostile(void **state)
{
	static const char *const bad[] = {
		"NO\n", "OK\n", "OK \n", "OK x\n", "OK 12x\n", "ok 1\n",
		"OK 1", "OK 1\r\n",
		"OK 11111111111111111111111111111111111111111111111111111111111111111111\n",
	};
	char big[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = handshake(bad[i], strlen(bad[i]), false, 2000, NULL,
				    NULL);

		if (ret != -EPROTO && ret != -ECONNREFUSED)
			fail_msg("'%s': %d", bad[i], ret);
	}
	/* the VMM closes at once: nothing listens on that guest port */
	assert_int_equal(handshake(NULL, 0, false, 2000, NULL, NULL),
			 -ECONNREFUSED);
	/* a line that never ends */
	memset(big, 'O', sizeof(big));
	assert_int_equal(handshake(big, sizeof(big), true, 2000, NULL, NULL),
			 -EPROTO);
	/* silence: the deadline ends it */
	assert_int_equal(handshake(NULL, 0, true, 300, NULL, NULL),
			 -ETIMEDOUT);
}

static void no_such_socket(void **state)
{
	struct vsock_target t = { .uds = "/nonexistent/thaw.sock", .port = 1 };
	char err[256] = "";

	assert_int_equal(vsock_client__connect(&t, util__now_ms() + 1000, err,
					       sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/thaw.sock"));
}

/* Feed @len raw bytes to vsock_client__recv_msg through a socket pair. */
static int recv_raw(const void *raw, size_t len, struct thaw_msg_hdr *hdr,
		    struct json_object **meta, char **body)
{
	char err[256] = "";
	int sv[2], ret;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], raw, len), (ssize_t)len);
	shutdown(sv[1], SHUT_WR);
	ret = vsock_client__recv_msg(sv[0], hdr, meta, body,
				     util__now_ms() + 2000, err, sizeof(err));
	if (ret)
		assert_true(err[0]);
	close(sv[0]);
	close(sv[1]);
	return ret;
}

static size_t msg(uint8_t *out, uint8_t ver, uint8_t type, uint32_t mlen,
		  uint32_t blen, const char *meta, const char *body)
{
	struct thaw_msg_hdr h = {
		.version = ver, .type = type, .meta_len = mlen,
		.body_len = blen,
	};
	size_t n = THAW_PROTO_HDR_SIZE;

	proto__encode_hdr(out, &h);
	memcpy(out + n, meta, strlen(meta));
	n += strlen(meta);
	memcpy(out + n, body, strlen(body));
	return n + strlen(body);
}

static void messages(void **state)
{
	struct json_object *meta;
	struct thaw_msg_hdr hdr;
	uint8_t raw[256];
	char *body;
	size_t n;

	n = msg(raw, 1, THAW_MSG_RESULT, 15, 3, "{\"status\":\"ok\"}", "abc");
	assert_int_equal(recv_raw(raw, n, &hdr, &meta, &body), 0);
	assert_string_equal(body, "abc");
	assert_string_equal(json_object_get_string(
		json_object_object_get(meta, "status")), "ok");
	json_object_put(meta);
	free(body);

	/* lengths that claim more than arrives */
	n = msg(raw, 1, THAW_MSG_RESULT, 15, 30, "{\"status\":\"ok\"}", "abc");
	assert_int_equal(recv_raw(raw, n, &hdr, &meta, &body), -EPIPE);
	assert_null(meta);
	assert_null(body);
	n = msg(raw, 1, THAW_MSG_RESULT, 200, 0, "{}", "");
	assert_int_equal(recv_raw(raw, n, &hdr, &meta, &body), -EPIPE);
	/* a header cut short */
	assert_int_equal(recv_raw(raw, 9, &hdr, &meta, &body), -EPIPE);
	/* another version, sizes over the limits, a bad meta */
	n = msg(raw, 9, THAW_MSG_RESULT, 2, 0, "{}", "");
	assert_int_equal(recv_raw(raw, n, &hdr, &meta, &body),
			 -EPROTONOSUPPORT);
	n = msg(raw, 1, THAW_MSG_RESULT, 2, THAW_PROTO_BODY_MAX + 1, "{}", "");
	assert_int_equal(recv_raw(raw, n, &hdr, &meta, &body), -EMSGSIZE);
	n = msg(raw, 1, THAW_MSG_RESULT, 4, 0, "[1] ", "");
	assert_int_equal(recv_raw(raw, n, &hdr, &meta, &body), -EBADMSG);
	assert_null(meta);
	assert_null(body);
}

/*
 * "<uds>_<port>", where the guest connects to the host: a socket a killed
 * run left is replaced; a live listener's (another VM's tool) and a file
 * that is not a socket are refused, and left where they are.
 */
static void listen_takes_only_stale(void **state)
{
	char dir[] = "/tmp/vsock-client-test.XXXXXX", uds[64], path[96];
	char err[256] = "", got[96];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int live, fd;

	assert_non_null(mkdtemp(dir));
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	snprintf(path, sizeof(path), "%s_1234", uds);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	live = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(live >= 0);
	assert_int_equal(bind(live, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(live, 1), 0);

	fd = vsock_client__listen(uds, 1234, got, sizeof(got), err,
				  sizeof(err));
	assert_int_equal(fd, -EADDRINUSE);
	assert_non_null(strstr(err, "another process listens on it"));
	assert_int_equal(stat(path, &st), 0);

	/* The listener gone, its file is stale: replaced. */
	close(live);
	fd = vsock_client__listen(uds, 1234, got, sizeof(got), err,
				  sizeof(err));
	assert_true(fd >= 0);
	assert_string_equal(got, path);
	close(fd);
	unlink(path);

	/* Not a socket: refused, kept. */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	fd = vsock_client__listen(uds, 1234, got, sizeof(got), err,
				  sizeof(err));
	assert_int_equal(fd, -EADDRINUSE);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
	rmdir(dir);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listen_takes_only_stale),
		cmocka_unit_test(connect_ok),
		cmocka_unit_test(connect_hostile),
		cmocka_unit_test(no_such_socket),
		cmocka_unit_test(messages),
	};

	/* a client that hangs up early must not kill the peer thread */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("vsock_client", tests, NULL, NULL);
}
