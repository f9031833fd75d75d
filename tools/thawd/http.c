// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP side: AWS Lambda's Invoke API and GET /metrics, on
 * libmicrohttpd (the library thawvm's API already uses) with a thread per
 * connection.  Why that model: an invocation holds one VM and waits on
 * it for up to the function's timeout, so a handler that blocks is the
 * simplest correct thing; the threads are bounded by the connection limit,
 * and a request over a concurrency limit is answered 429 before it ever
 * waits.  The response goes out when the handler returns, and the VM goes
 * back to its pool (or is rewound, or stopped) in the completion callback,
 * after the client has its answer.
 *
 * The contract is botocore's service model of Lambda (see
 * Documentation/admin-guide/thawd.rst): errors are JSON {"Type",
 * "message"} with the error's name in x-amzn-ErrorType.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>
#include <openssl/evp.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/unix-sock.h"
#include "tools/thawd/thawd.h"

#define CONNECTION_LIMIT	1024
#define HEADERS_MAX		64
#define INVOKE_PREFIX		"/2015-03-31/functions/"
#define INVOKE_SUFFIX		"/invocations"

struct req {
	char *raw_uri;
	bool started, is_invoke, too_large;
	char *body;
	size_t len, cap, limit;
	struct vm *vm;			/* to give back when it is answered */
	enum inv_outcome outcome;
	char request_id[37];
};

static struct MHD_Daemon *tcp_daemon, *unix_daemon;
static struct unix_sock_id unix_id;
static int unix_fd = -1;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *r = calloc(1, sizeof(*r));

	(void)cls;
	(void)c;
	if (r) {
		r->raw_uri = strdup(uri);
		invoke__new_request_id(r->request_id);
	}
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!r)
		return;
	if (r->vm)
		pool__release(r->vm, r->outcome);
	free(r->raw_uri);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static enum MHD_Result queue(struct MHD_Connection *c, struct req *r,
			     unsigned int status, char *body, size_t len,
			     const char *type, const char *const *hdrs)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body ? body : "",
					       body ? MHD_RESPMEM_MUST_FREE :
					       MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (type)
		MHD_add_response_header(resp, "Content-Type", type);
	if (r)
		MHD_add_response_header(resp, "x-amzn-RequestId",
					r->request_id);
	for (; hdrs && hdrs[0]; hdrs += 2)
		if (hdrs[1])
			MHD_add_response_header(resp, hdrs[0], hdrs[1]);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	__atomic_add_fetch(&thawd.http_requests, 1, __ATOMIC_RELAXED);
	return ret;
}

/* Lambda's error shape: {"Type": "User"|"Service", "message": ...}. */
static enum MHD_Result send_error(struct MHD_Connection *c, struct req *r,
				  unsigned int status, const char *type,
				  const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static enum MHD_Result send_error(struct MHD_Connection *c, struct req *r,
				  unsigned int status, const char *type,
				  const char *reason, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	const char *hdrs[] = { "x-amzn-ErrorType", type, NULL };
	char msg[1024];
	char *body;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "Type", json_object_new_string(
			status >= 500 ? "Service" : "User"));
	json_object_object_add(o, "message", json_object_new_string(msg));
	if (reason)
		json_object_object_add(o, "Reason",
				       json_object_new_string(reason));
	body = strdup(json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (!body)
		return MHD_NO;
	return queue(c, r, status, body, strlen(body), "application/json",
		     hdrs);
}

struct header_set {
	struct sigv4_header h[HEADERS_MAX];
	size_t n;
	bool overflow;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind,
			       const char *key, const char *value)
{
	struct header_set *s = cls;

	(void)kind;
	if (s->n == HEADERS_MAX) {
		s->overflow = true;
		return MHD_NO;
	}
	s->h[s->n].name = key;
	s->h[s->n].value = value ? value : "";
	s->n++;
	return MHD_YES;
}

/* SigV4, when the agent has credentials: 0 or an answer already queued. */
static int verify(struct MHD_Connection *c, struct req *r, const char *method,
		  enum MHD_Result *answered)
{
	struct header_set hs = { .n = 0 };
	struct sigv4_request sr;
	char *path, *q, err[512];
	const char *type;
	int ret;

	if (!thawd.cfg.n_keys)
		return 0;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &hs);
	path = strdup(r->raw_uri ? r->raw_uri : "/");
	if (!path) {
		*answered = MHD_NO;
		return -ENOMEM;
	}
	q = strchr(path, '?');
	if (q)
		*q++ = '\0';
	sr = (struct sigv4_request){
		.method = method, .raw_path = path, .raw_query = q,
		.headers = hs.h, .n_headers = hs.n,
		.body = r->body, .body_len = r->len,
	};
	ret = hs.overflow ? -EINVAL :
	      sigv4__verify(&sr, thawd.cfg.keys, thawd.cfg.n_keys, "lambda",
			    time(NULL), err, sizeof(err));
	free(path);
	if (!ret)
		return 0;
	if (hs.overflow)
		snprintf(err, sizeof(err), "too many headers");
	__atomic_add_fetch(&thawd.sigv4_refused, 1, __ATOMIC_RELAXED);
	type = ret == -ENOKEY ? "UnrecognizedClientException" :
	       ret == -EINVAL ? (MHD_lookup_connection_value(c,
				  MHD_HEADER_KIND, "Authorization") ?
				  "IncompleteSignatureException" :
				  "MissingAuthenticationTokenException") :
	       "InvalidSignatureException";
	*answered = send_error(c, r, 403, type, NULL, "%s", err);
	return ret;
}

/*
 * FunctionName as Lambda takes it: NAME, NAME:QUALIFIER, ACCOUNT:function:
 * NAME[:QUALIFIER] or arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].
 */
static int split_name(const char *s, char *name, size_t nlen, char *qual,
		      size_t qlen)
{
	char tmp[256], *parts[9], *save = NULL, *p;
	int n = 0, first;

	if (strlen(s) >= sizeof(tmp))
		return -EINVAL;
	snprintf(tmp, sizeof(tmp), "%s", s);
	for (p = strtok_r(tmp, ":", &save); p && n < 9;
	     p = strtok_r(NULL, ":", &save))
		parts[n++] = p;
	if (p || !n)
		return -EINVAL;
	if (!strcmp(parts[0], "arn")) {
		if (n < 7 || n > 8 || strcmp(parts[1], "aws") ||
		    strcmp(parts[2], "lambda") || strcmp(parts[5], "function"))
			return -EINVAL;
		if (strcmp(parts[3], thawd.cfg.region) ||
		    strcmp(parts[4], thawd.cfg.account))
			return -ENOENT;
		first = 6;
	} else if (n >= 3 && !strcmp(parts[1], "function")) {
		if (n > 4)
			return -EINVAL;
		if (strcmp(parts[0], thawd.cfg.account))
			return -ENOENT;
		first = 2;
	} else {
		if (n > 2)
			return -EINVAL;
		first = 0;
	}
	snprintf(name, nlen, "%s", parts[first]);
	qual[0] = '\0';
	if (first + 1 < n)
		snprintf(qual, qlen, "%s", parts[first + 1]);
	return catalog__name_ok(name) ? 0 : -EINVAL;
}

/* X-Amz-Client-Context: base64 of a JSON object; into *@out (malloc'd). */
static int client_context(const char *b64, char **out)
{
	size_t len = strlen(b64), pad = 0;
	unsigned char *raw;
	struct json_object *o;
	int n;

	*out = NULL;
	if (len > THAWD_CLIENT_CONTEXT_MAX || len % 4)
		return -EINVAL;
	raw = malloc(len / 4 * 3 + 1);
	if (!raw)
		return -ENOMEM;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n < 0) {
		free(raw);
		return -EINVAL;
	}
	while (pad < 2 && len > pad && b64[len - 1 - pad] == '=')
		pad++;
	n -= (int)pad;
	raw[n] = '\0';
	/*
	 * It reaches the runtime as a header (Lambda-Runtime-Client-Context),
	 * which the invocation protocol takes in printable ASCII only.
	 */
	for (int i = 0; i < n; i++)
		if (raw[i] < 0x20 || raw[i] > 0x7e)
			n = -1;
	o = n < 0 ? NULL : json_tokener_parse((char *)raw);
	if (!o || !json_object_is_type(o, json_type_object) ||
	    strlen((char *)raw) != (size_t)n) {
		json_object_put(o);
		free(raw);
		return -EINVAL;
	}
	json_object_put(o);
	*out = (char *)raw;
	return 0;
}

static enum MHD_Result invoke(struct MHD_Connection *c, struct req *r,
			      const char *url, const char *method)
{
	char name[THAWD_NAME_MAX + 1] = "", qual[THAWD_QUAL_MAX] = "";
	char fname[256], err[256];
	const char *type, *logtype, *cc, *qarg, *reason = NULL;
	struct inv_request rq = {};
	struct inv_result res;
	enum MHD_Result answered = MHD_NO;
	struct function *fn = NULL;
	char *ctx = NULL;
	size_t flen;
	int ret;

	if (strcmp(method, "POST"))
		return send_error(c, r, 405, "UnsupportedOperationException",
				  NULL, "Invoke is POST");
	type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   "X-Amz-Invocation-Type");
	if (!type)
		type = "RequestResponse";
	/* Before the signature, which a body cut short cannot match. */
	if (r->too_large || (!strcmp(type, "Event") && r->len > THAWD_ASYNC_MAX))
		return send_error(c, r, 413, "RequestTooLargeException", NULL,
				  "Request must be smaller than %d bytes for the %s operation",
				  !strcmp(type, "Event") ? THAWD_ASYNC_MAX :
				  THAWD_SYNC_MAX, !strcmp(type, "Event") ?
				  "InvokeAsync" : "InvokeFunction");
	if (verify(c, r, method, &answered))
		return answered;
	if (thawd.draining)
		return send_error(c, r, 503, "ServiceException", NULL,
				  "The agent is shutting down.");
	flen = strlen(url) - strlen(INVOKE_PREFIX) - strlen(INVOKE_SUFFIX);
	if (flen >= sizeof(fname))
		flen = sizeof(fname) - 1;
	memcpy(fname, url + strlen(INVOKE_PREFIX), flen);
	fname[flen] = '\0';
	ret = split_name(fname, name, sizeof(name), qual, sizeof(qual));
	if (ret == -EINVAL)
		return send_error(c, r, 400, "InvalidParameterValueException",
				  NULL, "1 validation error detected: Value '%.80s' at 'functionName' failed to satisfy constraint",
				  fname);
	qarg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
					   "Qualifier");
	if (qarg && qual[0] && strcmp(qarg, qual))
		return send_error(c, r, 400, "InvalidParameterValueException",
				  NULL, "The derived qualifier from the function name does not match the specified qualifier.");
	if (qarg)
		snprintf(qual, sizeof(qual), "%s", qarg);
	if (!ret)
		ret = pool__function(name, qual, &fn, err, sizeof(err));
	if (ret == -EINVAL && qual[0])
		return send_error(c, r, 400, "InvalidParameterValueException",
				  NULL, "1 validation error detected: Value '%.140s' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
				  qual);
	if (ret)
		return send_error(c, r, ret == -EIO ? 500 : 404,
				  ret == -EIO ? "ServiceException" :
				  "ResourceNotFoundException", NULL,
				  "Function not found: arn:aws:lambda:%s:%s:function:%s%s%.140s",
				  thawd.cfg.region, thawd.cfg.account,
				  name[0] ? name : fname, qual[0] ? ":" : "",
				  qual);
	if (strcmp(type, "RequestResponse") && strcmp(type, "Event") &&
	    strcmp(type, "DryRun"))
		return send_error(c, r, 400, "InvalidParameterValueException",
				  NULL, "1 validation error detected: Value '%.40s' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
				  type);
	logtype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					      "X-Amz-Log-Type");
	if (logtype && strcmp(logtype, "None") && strcmp(logtype, "Tail"))
		return send_error(c, r, 400, "InvalidParameterValueException",
				  NULL, "1 validation error detected: Value '%.40s' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]",
				  logtype);
	if (r->len) {
		struct json_tokener *tok = json_tokener_new();
		struct json_object *o = NULL;

		if (tok) {
			o = json_tokener_parse_ex(tok, r->body, (int)r->len);
			if (o && tok->char_offset != (int)r->len)
				json_object_put(o), o = NULL;
			json_tokener_free(tok);
		}
		if (!o)
			return send_error(c, r, 400,
					  "InvalidRequestContentException",
					  NULL, "Could not parse request body into json");
		json_object_put(o);
	}
	cc = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					 "X-Amz-Client-Context");
	if (cc && client_context(cc, &ctx))
		return send_error(c, r, 400, "InvalidRequestContentException",
				  NULL, "Client context must be a valid Base64-encoded JSON object.");
	if (!strcmp(type, "DryRun")) {
		free(ctx);
		pthread_mutex_lock(&thawd.lock);
		fn->m.dry_runs++;
		pthread_mutex_unlock(&thawd.lock);
		return queue(c, r, 204, NULL, 0, NULL, NULL);
	}
	if (!strcmp(type, "Event")) {
		ret = queue__put(fn->cfg.name, qual, r->request_id, r->body,
				 r->len, ctx);
		free(ctx);
		if (ret)
			return send_error(c, r, 500, "ServiceException", NULL,
					  "The event could not be queued: %s",
					  strerror(-ret));
		return queue(c, r, 202, NULL, 0, NULL, NULL);
	}
	rq.request_id = r->request_id;
	rq.qualifier = qual;
	rq.payload = r->body ? r->body : "";
	rq.len = r->len;
	rq.client_context = ctx;
	rq.want_tail = logtype && !strcmp(logtype, "Tail");
	ret = invoke__run(fn, &rq, false, 0, &res, &reason);
	free(ctx);
	if (ret == -EAGAIN)
		return send_error(c, r, 429, "TooManyRequestsException", reason,
				  "Rate Exceeded.");
	r->vm = res.vm;
	r->outcome = res.outcome;
	if (res.http_status != 200) {
		answered = send_error(c, r, res.http_status, res.error_type,
				      NULL, "%.*s", (int)res.body_len,
				      res.body ? res.body : "");
	} else {
		char ver[16];
		const char *hdrs[] = {
			"X-Amz-Executed-Version", ver,
			"X-Amz-Function-Error",
			res.error_type[0] ? res.error_type : NULL,
			"X-Amz-Log-Result", res.tail_b64,
			NULL,
		};

		fn__version_name(fn, ver, sizeof(ver));
		answered = queue(c, r, 200, res.body, res.body_len,
				 "application/json", hdrs);
		res.body = NULL;
	}
	invoke__result_free(&res);
	return answered;
}

static bool is_invoke_url(const char *url)
{
	size_t n = strlen(url), p = strlen(INVOKE_PREFIX),
	       s = strlen(INVOKE_SUFFIX);

	return n > p + s && !strncmp(url, INVOKE_PREFIX, p) &&
	       !strcmp(url + n - s, INVOKE_SUFFIX) &&
	       !memchr(url + p, '/', n - p - s);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)version;
	if (!r)
		return MHD_NO;
	if (!r->started) {
		r->started = true;
		r->is_invoke = is_invoke_url(url);
		r->limit = r->is_invoke ? THAWD_SYNC_MAX : 64 * 1024;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->len + *upload_size > r->limit) {
			r->too_large = true;
		} else if (!r->too_large) {
			if (r->len + *upload_size + 1 > r->cap) {
				size_t cap = (r->len + *upload_size + 1) * 2;
				char *p;

				if (cap > r->limit + 1)
					cap = r->limit + 1;
				p = realloc(r->body, cap);
				if (!p)
					return MHD_NO;
				r->body = p;
				r->cap = cap;
			}
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->is_invoke)
		return invoke(c, r, url, method);
	if (!strcmp(url, "/metrics") && !strcmp(method, "GET")) {
		size_t len;
		char *text;

		queue__gauges();
		text = metrics__text(&len);
		if (!text)
			return send_error(c, r, 500, "ServiceException", NULL,
					  "out of memory");
		return queue(c, NULL, 200, text, len,
			     "text/plain; version=0.0.4; charset=utf-8", NULL);
	}
	if (!strcmp(url, "/ping") && !strcmp(method, "GET"))
		return queue(c, NULL, 200, strdup("ok\n"), 3, "text/plain",
			     NULL);
	return send_error(c, r, 404, "UnknownOperationException", NULL,
			  "%s %.200s is not an operation of this endpoint",
			  method, url);
}

static int listen_tcp(const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[256];
	const char *colon = strrchr(spec, ':');
	int fd, one = 1, ret;

	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	ret = getaddrinfo(host, colon + 1, &hints, &ai);
	if (ret)
		return err__set(err, errlen, -EINVAL, "listen %s: %s", spec,
				gai_strerror(ret));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		ret = err__set(err, errlen, -errno, "listen %s: %s", spec,
			       strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return ret;
	}
	freeaddrinfo(ai);
	return fd;
}

static struct MHD_Daemon *start_on(int fd)
{
	return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
				MHD_USE_INTERNAL_POLLING_THREAD |
				MHD_USE_ITC,
				0, NULL, NULL, handler, NULL,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed,
				NULL,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)CONNECTION_LIMIT,
				/* The longest invocation is 900 s. */
				MHD_OPTION_CONNECTION_TIMEOUT, 960u,
				MHD_OPTION_END);
}

int http__start(char *err, size_t errlen)
{
	int fd;

	if (thawd.cfg.listen && thawd.cfg.listen[0]) {
		fd = listen_tcp(thawd.cfg.listen, err, errlen);
		if (fd < 0)
			return fd;
		tcp_daemon = start_on(fd);
		if (!tcp_daemon) {
			close(fd);
			return err__set(err, errlen, -EIO,
					"listen %s: libmicrohttpd would not start",
					thawd.cfg.listen);
		}
	}
	if (thawd.cfg.unix_socket) {
		unix_fd = unix_sock__listen("unix_socket", thawd.cfg.unix_socket,
					    128, &unix_id, err, errlen);
		if (unix_fd < 0)
			return unix_fd;
		unix_daemon = start_on(unix_fd);
		if (!unix_daemon)
			return err__set(err, errlen, -EIO,
					"unix_socket %s: libmicrohttpd would not start",
					thawd.cfg.unix_socket);
	}
	return 0;
}

/* Stop taking connections; those open finish. */
void http__quiesce(void)
{
	int fd;

	if (tcp_daemon) {
		fd = MHD_quiesce_daemon(tcp_daemon);
		if (fd >= 0)
			close(fd);
	}
	if (unix_daemon) {
		MHD_quiesce_daemon(unix_daemon);
		unix_sock__unlink(thawd.cfg.unix_socket, &unix_id);
	}
}

void http__stop(void)
{
	if (tcp_daemon)
		MHD_stop_daemon(tcp_daemon);
	if (unix_daemon)
		MHD_stop_daemon(unix_daemon);
	if (unix_fd >= 0)
		close(unix_fd);
	tcp_daemon = unix_daemon = NULL;
	unix_fd = -1;
}
