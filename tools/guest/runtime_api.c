// SPDX-License-Identifier: GPL-2.0
/*
 * The AWS Lambda Runtime API on 127.0.0.1:9001, on libevent's evhttp.
 *
 * evhttp leaves a request open until we answer it, which is what the
 * runtime's "next" needs: it stays pending until an invocation arrives,
 * for hours if the VM is snapshotted and restored in between.  evhttp does
 * not notice the client going away meanwhile, so we watch the pending
 * request's socket for EOF ourselves (next_watch).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tools/guest/init.h"
#include "tools/guest/lambda.h"

/*
 * evhttp refuses bodies over this on its own (413, no callback); between
 * the Lambda limit and this we answer 413 ourselves and fail the
 * invocation as Lambda does.
 */
#define HTTP_BODY_HARD_MAX	(2 * THAW_PROTO_BODY_MAX)
#define HTTP_HEADERS_MAX	(64 * 1024)
#define HTTP_IDLE_TIMEOUT_S	600

static void reply_json(struct evhttp_request *req, int code,
		       const char *reason, const char *json)
{
	struct evbuffer *buf = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "application/json");
	if (buf && json)
		evbuffer_add(buf, json, strlen(json));
	evhttp_send_reply(req, code, reason, buf);
	if (buf)
		evbuffer_free(buf);
}

static void reply_error(struct evhttp_request *req, int code,
			const char *reason, const char *type,
			const char *message)
{
	char *body = lambda__error_body(type, message);

	reply_json(req, code, reason, body);
	free(body);
}

static void reply_accepted(struct evhttp_request *req)
{
	reply_json(req, 202, "Accepted", "{\"status\":\"OK\"}");
}

static void stop_watch(struct init *init)
{
	if (init->next_watch) {
		event_free(init->next_watch);
		init->next_watch = NULL;
	}
}

static void drop_request(struct evhttp_request **reqp)
{
	struct evhttp_connection *evcon;

	if (!*reqp)
		return;
	evcon = evhttp_request_get_connection(*reqp);
	*reqp = NULL;
	/* Frees the request with it; the peer is gone or must go. */
	if (evcon)
		evhttp_connection_free(evcon);
}

void runtime_api__drop_next(struct init *init)
{
	stop_watch(init);
	drop_request(&init->next_req);
	drop_request(&init->restore_req);
}

static void next_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct init *init = arg;
	char c;
	ssize_t n;

	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		/* A pipelined request: evhttp reads it after our answer. */
		stop_watch(init);
		return;
	}
	init__log(init, "the runtime closed its pending next");
	runtime_api__drop_next(init);
}

static void watch_next(struct init *init)
{
	struct evhttp_connection *evcon;
	struct bufferevent *bev;
	evutil_socket_t fd;

	evcon = evhttp_request_get_connection(init->next_req);
	bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	fd = bev ? bufferevent_getfd(bev) : -1;
	if (fd < 0)
		return;
	init->next_watch = event_new(init->base, fd, EV_READ | EV_PERSIST,
				     next_watch_cb, init);
	if (init->next_watch)
		event_add(init->next_watch, NULL);
}

bool runtime_api__has_next(struct init *init)
{
	return init->next_req;
}

int runtime_api__deliver(struct init *init, struct invocation *inv)
{
	struct evhttp_request *req = init->next_req;
	struct evkeyvalq *h;
	char deadline[24], *arn = NULL, trace[96];
	uint8_t rnd[LAMBDA_TRACE_RANDOM];
	int ret = 0;

	if (!req)
		return -ENOENT;
	stop_watch(init);
	init->next_req = NULL;
	h = evhttp_request_get_output_headers(req);
	snprintf(deadline, sizeof(deadline), "%llu",
		 (unsigned long long)inv->deadline_ms);
	if (!inv->req.function_arn &&
	    asprintf(&arn, "arn:aws:lambda:%s:000000000000:function:%s",
		     init->cfg.region, init->cfg.function_name) < 0)
		arn = NULL;
	/* Every value was checked for CR/LF when the request arrived. */
	ret |= evhttp_add_header(h, "Content-Type", "application/json");
	ret |= evhttp_add_header(h, "Lambda-Runtime-Aws-Request-Id",
				 inv->req.request_id);
	ret |= evhttp_add_header(h, "Lambda-Runtime-Deadline-Ms", deadline);
	ret |= evhttp_add_header(h, "Lambda-Runtime-Invoked-Function-Arn",
				 inv->req.function_arn ?: arn ?: "");
	/*
	 * Lambda gives every invocation a trace header (the runtime makes it
	 * _X_AMZN_TRACE_ID); one the host did not send is made here.
	 */
	if (inv->req.trace_id) {
		ret |= evhttp_add_header(h, "Lambda-Runtime-Trace-Id",
					 inv->req.trace_id);
	} else {
		init__random(rnd, sizeof(rnd));
		if (lambda__trace_id(init__now_ns(CLOCK_REALTIME) / 1000000000,
				     rnd, trace, sizeof(trace)) > 0)
			ret |= evhttp_add_header(h, "Lambda-Runtime-Trace-Id",
						 trace);
	}
	if (inv->req.client_context)
		ret |= evhttp_add_header(h, "Lambda-Runtime-Client-Context",
					 inv->req.client_context);
	if (inv->req.cognito_identity)
		ret |= evhttp_add_header(h, "Lambda-Runtime-Cognito-Identity",
					 inv->req.cognito_identity);
	free(arn);
	if (ret) {
		reply_error(req, 500, "Internal Server Error",
			    "Runtime.InvalidHeader", "bad invocation header");
		return -EINVAL;
	}
	evhttp_send_reply(req, 200, "OK", inv->payload);
	return 0;
}

static void on_next(struct init *init, struct evhttp_request *req)
{
	char msg[320];

	if (init->rt_state == RUNTIME_STOPPED || init->stopping) {
		reply_error(req, 403, "Forbidden", "InvalidStateTransition",
			    "the runtime is not running");
		return;
	}
	if (init->rt_posted_init_error) {
		reply_error(req, 403, "Forbidden", "InvalidStateTransition",
			    "init/error was posted: the runtime must exit");
		runtime__kill(init);
		return;
	}
	if (init->current) {
		snprintf(msg, sizeof(msg),
			 "RequestId: %s Error: the runtime asked for the next invocation without answering this one",
			 init->current->req.request_id);
		queue__fail(init, init->current, THAW_STATUS_FUNCTION_ERROR,
			    "Runtime.NoResponse", msg);
	}
	/*
	 * A second next while one is pending: the first one is stale; so is
	 * a restore/next the runtime gave up on.
	 */
	runtime_api__drop_next(init);
	init->next_req = req;
	watch_next(init);
	if (init->rt_state == RUNTIME_INIT) {
		runtime__ready(init, RUNTIME_READY);
		bridge__notify_ready(init);
	}
	init->rt_state = RUNTIME_READY;
	queue__dispatch(init);
}

static bool too_large(struct evhttp_request *req, size_t len);
static void error_type(struct evhttp_request *req, struct evbuffer *body,
		       char *type);

static bool snap_start(const struct init *init)
{
	return !strcmp(init->cfg.initialization_type, "snap-start");
}

/*
 * SnapStart's GET restore/next: the runtime has run its before-snapshot
 * hooks and is initialized; the request stays pending (it is the
 * checkpoint) until the VM is restored, or invoked as it is.
 */
static void on_restore_next(struct init *init, struct evhttp_request *req)
{
	if (init->rt_state != RUNTIME_INIT || init->rt_posted_init_error) {
		reply_error(req, 403, "Forbidden", "InvalidStateTransition",
			    "restore/next is only valid once, before the first next");
		return;
	}
	init->restore_req = req;
	runtime__ready(init, RUNTIME_RESTORE_WAIT);
	bridge__notify_ready(init);
	queue__dispatch(init);
}

void runtime_api__restored(struct init *init)
{
	struct evhttp_request *req = init->restore_req;

	if (!req || init->rt_state != RUNTIME_RESTORE_WAIT)
		return;
	init->restore_req = NULL;
	init->rt_state = RUNTIME_RESTORING;
	init__log(init, "answered restore/next: after-restore hooks run");
	evhttp_send_reply(req, 200, "OK", NULL);
}

/*
 * POST restore/error: an after-restore hook failed.  Lambda gives up on
 * that execution environment; here the next invocation gets the error
 * (init_error) and the runtime starts afresh, with a cold init.
 */
static void on_restore_error(struct init *init, struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	char type[THAW_ERROR_TYPE_MAX + 1];

	if (init->rt_state != RUNTIME_RESTORING) {
		reply_error(req, 403, "Forbidden", "InvalidStateTransition",
			    "restore/error is only valid between restore/next and next");
		return;
	}
	if (too_large(req, evbuffer_get_length(body)))
		return;
	error_type(req, body, type);
	init__err("the runtime reported a restore error: %s", type);
	runtime__set_init_error(init, type, body);
	init->restore_failed = true;
	reply_accepted(req);
	runtime__kill(init);
}

/* The current invocation if @id names it, else answer 400 and NULL. */
static struct invocation *check_id(struct init *init,
				   struct evhttp_request *req, const char *id)
{
	if (!id[0] || !init->current ||
	    strcmp(id, init->current->req.request_id)) {
		reply_error(req, 400, "Bad Request", "InvalidRequestID",
			    "Invalid request ID");
		return NULL;
	}
	return init->current;
}

static bool too_large(struct evhttp_request *req, size_t len)
{
	char msg[128];

	if (len <= THAW_PROTO_BODY_MAX)
		return false;
	snprintf(msg, sizeof(msg),
		 "Payload size %zu bytes exceeded maximum allowed payload size (%d bytes).",
		 len, THAW_PROTO_BODY_MAX);
	reply_error(req, 413, "Payload Too Large", "RequestEntityTooLarge",
		    msg);
	return true;
}

static void on_response(struct init *init, struct evhttp_request *req,
			const char *id)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	struct invocation *inv = check_id(init, req, id);
	size_t len = evbuffer_get_length(body);
	char msg[160];

	if (!inv)
		return;
	if (too_large(req, len)) {
		snprintf(msg, sizeof(msg),
			 "Response payload size (%zu bytes) exceeded maximum allowed payload size (%d bytes).",
			 len, THAW_PROTO_BODY_MAX);
		queue__fail(init, inv, THAW_STATUS_FUNCTION_ERROR,
			    "Function.ResponseSizeTooLong", msg);
		return;
	}
	queue__finish(init, inv, THAW_STATUS_OK, NULL, body);
	reply_accepted(req);
}

static void error_type(struct evhttp_request *req, struct evbuffer *body,
		       char *type)
{
	const char *header = evhttp_find_header(
		evhttp_request_get_input_headers(req),
		"Lambda-Runtime-Function-Error-Type");
	size_t len = evbuffer_get_length(body);
	/* Only the start of a body can hold a short errorType. */
	size_t peek = len < 4096 ? len : 4096;

	lambda__error_type(header, (const char *)evbuffer_pullup(body, peek),
			   peek, type);
}

static void on_error(struct init *init, struct evhttp_request *req,
		     const char *id)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	struct invocation *inv = check_id(init, req, id);
	char type[THAW_ERROR_TYPE_MAX + 1];

	if (!inv || too_large(req, evbuffer_get_length(body)))
		return;
	error_type(req, body, type);
	queue__finish(init, inv, THAW_STATUS_FUNCTION_ERROR, type, body);
	reply_accepted(req);
}

static void on_init_error(struct init *init, struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	char type[THAW_ERROR_TYPE_MAX + 1];

	if (init->rt_state != RUNTIME_INIT) {
		reply_error(req, 403, "Forbidden", "InvalidStateTransition",
			    "init/error is only valid before the first next");
		return;
	}
	if (too_large(req, evbuffer_get_length(body)))
		return;
	error_type(req, body, type);
	init__err("the runtime reported an init error: %s", type);
	runtime__set_init_error(init, type, body);
	init->rt_posted_init_error = true;
	reply_accepted(req);
	queue__dispatch(init);
}

static void request_cb(struct evhttp_request *req, void *arg)
{
	struct init *init = arg;
	char id[THAW_REQUEST_ID_MAX + 1];
	enum lambda_method method;

	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		method = LAMBDA_GET;
		break;
	case EVHTTP_REQ_POST:
		method = LAMBDA_POST;
		break;
	default:
		method = LAMBDA_OTHER;
		break;
	}
	switch (lambda__route(method, evhttp_request_get_uri(req), id)) {
	case LAMBDA_NEXT:
		on_next(init, req);
		break;
	case LAMBDA_RESPONSE:
		on_response(init, req, id);
		break;
	case LAMBDA_ERROR:
		on_error(init, req, id);
		break;
	case LAMBDA_INIT_ERROR:
		on_init_error(init, req);
		break;
	/* Lambda serves these to SnapStart functions only. */
	case LAMBDA_RESTORE_NEXT:
		if (!snap_start(init))
			goto not_found;
		on_restore_next(init, req);
		break;
	case LAMBDA_RESTORE_ERROR:
		if (!snap_start(init))
			goto not_found;
		on_restore_error(init, req);
		break;
	case LAMBDA_BAD_METHOD:
		reply_error(req, 405, "Method Not Allowed", "MethodNotAllowed",
			    "method not allowed on this path");
		break;
	case LAMBDA_NOT_FOUND:
	default:
not_found:
		reply_error(req, 404, "Not Found", "NotFound", "no such path");
		break;
	}
}

int runtime_api__start(struct init *init)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(init->cfg.api_port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd, one = 1, ret;

	init->http = evhttp_new(init->base);
	if (!init->http)
		return -ENOMEM;
	evhttp_set_max_body_size(init->http, HTTP_BODY_HARD_MAX);
	evhttp_set_max_headers_size(init->http, HTTP_HEADERS_MAX);
	evhttp_set_timeout(init->http, HTTP_IDLE_TIMEOUT_S);
	evhttp_set_default_content_type(init->http, "application/json");
	evhttp_set_gencb(init->http, request_cb, init);

	/* Our own socket: no name lookup inside a static binary. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 64)) {
		ret = -errno;
		init__err("Runtime API on 127.0.0.1:%u: %m",
			  init->cfg.api_port);
		close(fd);
		return ret;
	}
	if (!evhttp_accept_socket_with_handle(init->http, fd)) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

void runtime_api__free(struct init *init)
{
	runtime_api__drop_next(init);
	if (init->http)
		evhttp_free(init->http);
	init->http = NULL;
}
