// SPDX-License-Identifier: GPL-2.0
/*
 * The thawvm API client (tools/lib/thawvm-api.c) and process helpers
 * (tools/lib/proc.c) against a fake thawvm: a thread serving canned
 * HTTP answers on a real Unix socket, some of them wrong, late or huge;
 * then spawning and socket waits with real processes.
 */
#include <errno.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tools/lib/proc.h"
#include "tools/lib/thawvm-api.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"

struct server {
	int lfd;
	const char *status;	/* "204 No Content"; NULL: close */
	const char *body;	/* the answer's body, if any */
	size_t big;		/* > 0: a 200 with this many body bytes */
	unsigned int delay_ms;	/* before answering */
	char req[4096];		/* what the client sent */
	char path[128], dir[64];
};

static void *serve(void *arg)
{
	struct server *s = arg;
	size_t n = 0;
	char *end;
	int fd;

	fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	/* Headers, then Content-Length bytes of body. */
	for (;;) {
		ssize_t r = read(fd, s->req + n, sizeof(s->req) - 1 - n);
		const char *cl;

		if (r <= 0)
			break;
		n += r;
		s->req[n] = '\0';
		end = strstr(s->req, "\r\n\r\n");
		if (!end)
			continue;
		cl = strcasestr(s->req, "Content-Length: ");
		if (!cl || end + 4 + atoi(cl + 16) <= s->req + n)
			break;
	}
	if (s->delay_ms)
		usleep(s->delay_ms * 1000);
	if (s->big) {
		char hdr[128], *body = malloc(s->big);

		memset(body, 'x', s->big);
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
			 s->big);
		(void)!write(fd, hdr, strlen(hdr));
		(void)!write(fd, body, s->big);
		free(body);
	} else if (s->status) {
		char hdr[256];

		if (s->body)
			snprintf(hdr, sizeof(hdr),
				 "HTTP/1.1 %s\r\nContent-Length: %zu\r\n\r\n",
				 s->status, strlen(s->body));
		else
			snprintf(hdr, sizeof(hdr), "HTTP/1.1 %s\r\n\r\n",
				 s->status);
		(void)!write(fd, hdr, strlen(hdr));
		if (s->body)
			(void)!write(fd, s->body, strlen(s->body));
	}
	close(fd);
	return NULL;
}

static void server_start(struct server *s, pthread_t *th)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	strcpy(s->dir, "/tmp/vmapi-test.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/api.sock", s->dir);
	strcpy(sun.sun_path, s->path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(pthread_create(th, NULL, serve, s), 0);
}

static void server_stop(struct server *s, pthread_t th)
{
	pthread_join(th, NULL);
	close(s->lfd);
	unlink(s->path);
	rmdir(s->dir);
}

static void test_no_content(void **state)
{
	struct server s = { .status = "204 No Content" };
	struct json_object *b = json_object_new_object();
	struct thawvm_api_resp r;
	char err[256] = "";
	pthread_t th;

	json_object_object_add(b, "state", json_object_new_string("Paused"));
	server_start(&s, &th);
	assert_int_equal(thawvm_api__call(s.path, "PATCH", "/vm", b, 5000, &r,
					  err, sizeof(err)), 0);
	server_stop(&s, th);
	assert_int_equal(r.status, 204);
	assert_string_equal(r.body, "");
	assert_null(r.json);
	assert_string_equal(r.fault, "");
	/* The request as thawvm must see it. */
	assert_non_null(strstr(s.req, "PATCH /vm HTTP/1.1\r\n"));
	assert_non_null(strcasestr(s.req, "Content-Type: application/json"));
	assert_null(strcasestr(s.req, "Expect:"));
	assert_non_null(strstr(s.req, "\r\n\r\n{\"state\":\"Paused\"}"));
	thawvm_api__resp_free(&r);
	json_object_put(b);
}

static void test_fault_message(void **state)
{
	struct server s = {
		.status = "400 Bad Request",
		.body = "{\"fault_message\":\"Load snapshot error: bad checksum in x\"}",
	};
	char err[256] = "";
	pthread_t th;

	server_start(&s, &th);
	assert_int_equal(thawvm_api__do(s.path, "PUT", "/snapshot/load", NULL,
					5000, err, sizeof(err)), -EIO);
	server_stop(&s, th);
	assert_non_null(strstr(err, "PUT /snapshot/load: 400 "));
	assert_non_null(strstr(err, "bad checksum in x"));
	/* No body was given: none was sent. */
	assert_null(strcasestr(s.req, "Content-Length: 1"));
}

static void test_json_body(void **state)
{
	struct server s = {
		.status = "200 OK",
		.body = "{\"id\":\"a\",\"state\":\"Running\",\"n\":1}",
	};
	struct json_object *v;
	struct thawvm_api_resp r;
	char err[256] = "";
	pthread_t th;

	server_start(&s, &th);
	assert_int_equal(thawvm_api__call(s.path, "GET", "/", NULL, 5000, &r,
					  err, sizeof(err)), 0);
	server_stop(&s, th);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	assert_true(json_object_object_get_ex(r.json, "state", &v));
	assert_string_equal(json_object_get_string(v), "Running");
	assert_non_null(strstr(s.req, "GET / HTTP/1.1\r\n"));
	thawvm_api__resp_free(&r);
}

static void test_not_json(void **state)
{
	struct server s = { .status = "500 Oops", .body = "{not json}x" };
	struct thawvm_api_resp r;
	char err[256] = "";
	pthread_t th;

	server_start(&s, &th);
	assert_int_equal(thawvm_api__call(s.path, "GET", "/", NULL, 5000, &r,
					  err, sizeof(err)), 0);
	server_stop(&s, th);
	assert_int_equal(r.status, 500);
	assert_null(r.json);
	assert_string_equal(r.fault, "");
	assert_string_equal(r.body, "{not json}x");
	thawvm_api__resp_free(&r);
}

static void test_closed_without_answer(void **state)
{
	struct server s = { .status = NULL };
	char err[256] = "";
	pthread_t th;

	server_start(&s, &th);
	assert_int_equal(thawvm_api__do(s.path, "GET", "/", NULL, 5000, err,
					sizeof(err)), -ECONNRESET);
	server_stop(&s, th);
	assert_true(err[0]);
}

static void test_too_slow(void **state)
{
	struct server s = { .status = "204 No Content", .delay_ms = 1500 };
	char err[256] = "";
	pthread_t th;

	server_start(&s, &th);
	assert_int_equal(thawvm_api__do(s.path, "GET", "/", NULL, 300, err,
					sizeof(err)), -ETIMEDOUT);
	server_stop(&s, th);
}

static void test_huge_answer(void **state)
{
	struct server s = { .big = THAWVM_API_BODY_MAX + 4096 };
	struct thawvm_api_resp r;
	char err[256] = "";
	pthread_t th;

	server_start(&s, &th);
	assert_int_equal(thawvm_api__call(s.path, "GET", "/", NULL, 5000, &r,
					  err, sizeof(err)), -EMSGSIZE);
	server_stop(&s, th);
	assert_null(r.body);
}

static void test_no_server(void **state)
{
	char err[256] = "";

	assert_int_equal(thawvm_api__do("/tmp/vmapi-test-nothing/api.sock",
					"GET", "/", NULL, 1000, err,
					sizeof(err)),
			 -ECONNREFUSED);
	assert_non_null(strstr(err, "/tmp/vmapi-test-nothing/api.sock"));
	assert_int_equal(thawvm_api__do("/tmp/x", "GET", "relative", NULL, 1000,
					err, sizeof(err)), -EINVAL);
}

/* --- proc ---------------------------------------------------------- */

static void test_find(void **state)
{
	char out[4096];

	assert_int_equal(proc__find(out, sizeof(out), "sh", NULL, NULL), 0);
	assert_int_equal(access(out, X_OK), 0);
	assert_int_equal(proc__find(out, sizeof(out), "sh", "/nonexistent/x",
				    NULL), -ENOENT);
	assert_non_null(strstr(out, "/nonexistent/x"));
	setenv("VMPROC_TEST_PROG", "/etc/passwd", 1);	/* not executable */
	assert_int_equal(proc__find(out, sizeof(out), "sh", NULL,
				    "VMPROC_TEST_PROG"), -ENOENT);
	unsetenv("VMPROC_TEST_PROG");
	assert_int_equal(proc__find(out, sizeof(out), "no-such-program-here",
				    NULL, "X"),
			 -ENOENT);
}

static void test_spawn_and_wait(void **state)
{
	const char *bad[] = { "/nonexistent/prog", NULL };
	const char *quick[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3",
				NULL };
	char dir[] = "/tmp/vmproc-test.XXXXXX", out[128], sock[128], buf[64];
	char err[256];
	pid_t pid;
	int st = 0;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	/* An exec failure is reported by the spawn itself. */
	assert_int_equal(proc__spawn(bad, NULL, NULL, &pid, err,
				     sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/prog"));
	/* A child that ends before its socket answers: -ECHILD at once. */
	assert_int_equal(proc__spawn(quick, out, out, &pid, err,
				     sizeof(err)), 0);
	assert_int_equal(proc__wait_socket(sock, pid, util__now_ms() + 10000,
					   &st, err, sizeof(err)), -ECHILD);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	assert_non_null(strstr(err, "exit status 3"));
	f = fopen(out, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "out\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "err\n");
	fclose(f);
	/* Nothing answers, nobody to watch: a timeout. */
	assert_int_equal(proc__wait_socket(sock, 0, util__now_ms() + 50, NULL,
					   err, sizeof(err)),
			 -ETIMEDOUT);
	unlink(out);
	rmdir(dir);
}

static void test_stop(void **state)
{
	/* Ignores SIGTERM: stopped with SIGKILL after the grace time. */
	const char *stubborn[] = { "/bin/sh", "-c",
				   "trap '' TERM; sleep 30 & wait; sleep 30",
				   NULL };
	const char *plain[] = { "/bin/sleep", "30", NULL };
	char err[256];
	pid_t pid;
	int st;

	assert_int_equal(proc__spawn(plain, NULL, NULL, &pid, err,
				     sizeof(err)), 0);
	st = proc__stop(pid, 5000);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	assert_int_equal(proc__spawn(stubborn, NULL, NULL, &pid, err,
				     sizeof(err)), 0);
	usleep(200000);		/* let the trap be set */
	st = proc__stop(pid, 300);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_true(proc__exited(pid, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_content),
		cmocka_unit_test(test_fault_message),
		cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_closed_without_answer),
		cmocka_unit_test(test_too_slow),
		cmocka_unit_test(test_huge_answer),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_spawn_and_wait),
		cmocka_unit_test(test_stop),
	};

	signal(SIGPIPE, SIG_IGN);
	if (thawvm_api__global_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
