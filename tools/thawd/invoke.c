// SPDX-License-Identifier: GPL-2.0
/*
 * One invocation on a VM of the pool: the invocation protocol to
 * thaw-init over the VM's vsock socket (tools/lib/invoke.c), then what
 * Lambda gives back beside the answer: the function's output during the
 * invocation (the VM's console, where the runtime's stdout and stderr
 * go) between START and END lines, a REPORT line, all appended to
 * STATE/logs/NAME.log, and their last 4 KiB for X-Amz-Log-Result.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/log.h"
#include "proto/proto.h"
#include "tools/lib/invoke.h"
#include "tools/lib/util.h"
#include "tools/thawd/thawd.h"

#define INVOKE_ENTROPY		32
#define OUTPUT_MAX		(64 * 1024)	/* of one invocation's log */

void invoke__new_request_id(char out[37])
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, b, sizeof(b)) != sizeof(b)) {
		uint64_t t = util__now_ns();

		memcpy(b, &t, 8);
		memcpy(b + 8, &t, 8);
	}
	if (fd >= 0)
		close(fd);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_size;
}

/* What the console got from @from on, at most OUTPUT_MAX (the end). */
static char *read_output(const char *path, off_t from, size_t *len)
{
	off_t end = file_size(path);
	char *buf;
	ssize_t n;
	int fd;

	*len = 0;
	if (end <= from)
		return NULL;
	if (end - from > OUTPUT_MAX)
		from = end - OUTPUT_MAX;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(end - from + 1);
	n = buf ? pread(fd, buf, end - from, from) : -1;
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The VMM's peak resident memory in MiB: what the guest used, host side. */
static unsigned long long max_memory_mib(pid_t pid)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (kb + 1023) / 1024;
}

static void append_log(const char *fn, const char *text, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/logs/%s.log", thawd.cfg.state_dir,
		 fn);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	if (write(fd, text, len) != (ssize_t)len)
		pr_warn("%s: short write", path);
	close(fd);
}

static char *base64(const char *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out,
				(const unsigned char *)data, (int)len);
	return out;
}

static const char *const start_names[VM_START_COUNT] = {
	[VM_WARM] = "warm", [VM_RESTORED] = "restored",
	[VM_PROVISIONED] = "provisioned", [VM_REWOUND] = "rewound",
};

/* START, the output, END, REPORT: to the log, and the tail if asked. */
static void write_log(struct function *fn, struct vm *vm,
		      const struct inv_request *rq, struct inv_result *res,
		      off_t from, double ms)
{
	size_t out_len, cap, n = 0;
	char *out = read_output(vm->console, from, &out_len), *text;
	char restore[96] = "", ver[16];

	if (res->start == VM_RESTORED || res->start == VM_PROVISIONED)
		snprintf(restore, sizeof(restore), "\tRestore Duration: %llu ms",
			 (unsigned long long)vm->restore_ms);
	/* Room for the output, three request ids and the fixed text. */
	cap = out_len + 3 * strlen(rq->request_id) + 1024;
	text = malloc(cap);
	if (!text) {
		free(out);
		return;
	}
	fn__version_name(fn, ver, sizeof(ver));
	n += snprintf(text + n, cap - n, "START RequestId: %s Version: %s\n",
		      rq->request_id, ver);
	if (out_len) {
		memcpy(text + n, out, out_len);
		n += out_len;
		if (text[n - 1] != '\n')
			text[n++] = '\n';
	}
	n += snprintf(text + n, cap - n, "END RequestId: %s\n", rq->request_id);
	n += snprintf(text + n, cap - n,
		      "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %llu ms\tMemory Size: %u MB\tMax Memory Used: %llu MB%s\tEnvironment: %s\n",
		      rq->request_id, ms, (unsigned long long)ms + 1,
		      fn->cfg.memory_mib, max_memory_mib(vm->c.pid), restore,
		      start_names[res->start]);
	append_log(fn->cfg.name, text, n);
	if (rq->want_tail)
		res->tail_b64 = n > THAWD_LOG_TAIL ?
				base64(text + n - THAWD_LOG_TAIL, THAWD_LOG_TAIL) :
				base64(text, n);
	free(text);
	free(out);
}

static void set_body(struct inv_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_body(struct inv_result *res, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&res->body, fmt, ap);
	va_end(ap);
	if (n < 0) {
		res->body = NULL;
		n = 0;
	}
	res->body_len = n;
}

/* Lambda's words for a timeout, with the time in UTC as it writes it. */
static void timeout_body(struct inv_result *res, const char *id,
			 uint32_t timeout_s)
{
	struct timespec ts;
	struct tm tm;
	char when[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	set_body(res, "{\"errorMessage\":\"%s.%03ldZ %s Task timed out after %u.00 seconds\",\"errorType\":\"Sandbox.Timedout\"}",
		 when, ts.tv_nsec / 1000000, id, timeout_s);
}

int invoke__run(struct function *fn, const struct inv_request *rq,
		bool wait, uint64_t wait_deadline_ms, struct inv_result *res,
		const char **reason)
{
	struct vsock_target t = { .port = THAW_INVOKE_PORT };
	struct invoke_reply reply;
	struct thaw_invoke inv = {};
	uint64_t timeout_ms = fn->cfg.timeout_s * 1000ull, t0;
	char err[512], arn[320];
	struct vm *vm;
	off_t from;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = pool__acquire(fn, wait, wait_deadline_ms, &vm, reason,
			    err, sizeof(err));
	if (ret == -EAGAIN)
		return ret;
	if (ret) {
		res->outcome = INV_SERVICE_ERROR;
		res->http_status = ret == -ESHUTDOWN ? 503 : 500;
		snprintf(res->error_type, sizeof(res->error_type),
			 "ServiceException");
		set_body(res, "no VM for the function: %s", err);
		return 0;
	}
	res->vm = vm;
	res->start = vm->next_start;
	snprintf(inv.request_id, sizeof(inv.request_id), "%s", rq->request_id);
	/* As Lambda: the ARN the caller invoked, its qualifier included. */
	snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:function:%s%s%s",
		 thawd.cfg.region, thawd.cfg.account, fn->cfg.name,
		 rq->qualifier && rq->qualifier[0] ? ":" : "",
		 rq->qualifier ? rq->qualifier : "");
	inv.function_arn = arn;
	inv.client_context = (char *)rq->client_context;
	if (invoke__prepare(&inv, timeout_ms, INVOKE_ENTROPY, true)) {
		res->outcome = INV_SERVICE_ERROR;
		res->http_status = 500;
		snprintf(res->error_type, sizeof(res->error_type),
			 "ServiceException");
		set_body(res, "no host entropy");
		return 0;
	}
	t.uds = vm->uds;
	from = file_size(vm->console);
	t0 = util__now_ns();
	ret = invoke__call(&t, &inv, rq->payload, rq->len, timeout_ms,
			   INVOKE_RETRY_CONNECT, &reply, err, sizeof(err));
	res->http_status = 200;
	if (ret == -ETIMEDOUT) {
		res->outcome = INV_TIMEOUT;
		snprintf(res->error_type, sizeof(res->error_type), "Unhandled");
		timeout_body(res, rq->request_id, fn->cfg.timeout_s);
	} else if (ret) {
		res->outcome = INV_SERVICE_ERROR;
		res->http_status = 500;
		snprintf(res->error_type, sizeof(res->error_type),
			 "ServiceException");
		set_body(res, "the function's VM failed: %s", err);
	} else {
		switch (reply.res.status) {
		case THAW_STATUS_OK:
			res->outcome = INV_OK;
			break;
		case THAW_STATUS_FUNCTION_ERROR:
			res->outcome = INV_FUNCTION_ERROR;
			snprintf(res->error_type, sizeof(res->error_type),
				 "Unhandled");
			break;
		case THAW_STATUS_INIT_ERROR:
			res->outcome = INV_INIT_ERROR;
			snprintf(res->error_type, sizeof(res->error_type),
				 "Unhandled");
			break;
		case THAW_STATUS_TIMEOUT:
			res->outcome = INV_TIMEOUT;
			snprintf(res->error_type, sizeof(res->error_type),
				 "Unhandled");
			break;
		default:
			res->outcome = INV_SERVICE_ERROR;
			res->http_status = 500;
			snprintf(res->error_type, sizeof(res->error_type),
				 "ServiceException");
			break;
		}
		if (res->outcome == INV_TIMEOUT) {
			timeout_body(res, rq->request_id, fn->cfg.timeout_s);
		} else if (res->outcome == INV_SERVICE_ERROR) {
			set_body(res, "the function's VM refused the invocation: %s",
				 reply.res.error_type);
		} else {
			res->body = reply.body;
			res->body_len = reply.body ? reply.body_len : 0;
			reply.body = NULL;
		}
		invoke__reply_free(&reply);
	}
	write_log(fn, vm, rq, res, from, (util__now_ns() - t0) / 1e6);
	metrics__invocation(fn, wait, res->start, res->outcome,
			    (util__now_ns() - t0) / 1e9);
	return 0;
}

void invoke__result_free(struct inv_result *r)
{
	free(r->body);
	free(r->tail_b64);
	r->body = NULL;
	r->tail_b64 = NULL;
}
