// SPDX-License-Identifier: GPL-2.0
/*
 * The host side of thaw-init, over vsock: one connection per request on
 * the invoke port (INVOKE or PROBE in, RESULT or PROBE_REPLY out), and the
 * "ready" notification this guest sends to CID 2 when the runtime first
 * asks for work.  An invocation read here waits in queue.c; its result
 * comes back through bridge__reply().
 *
 * A restored clone's vsock transport is reset: every connection dies with
 * ECONNRESET and the CID may change.  Connections are per request, so a
 * reset only loses the ones in flight; the listener is bound to any CID
 * and is rebuilt if it ever fails.  The host is trusted but may misbehave:
 * sizes are bounded, a request must arrive in REQUEST_TIMEOUT_S, and at
 * most MAX_CONNS connections are open at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <json-c/json.h>
#include <linux/vm_sockets.h>

#include "tools/guest/init.h"
#include "tools/guest/lambda.h"

#define MAX_CONNS		64
#define REQUEST_TIMEOUT_S	30
#define REPLY_TIMEOUT_S		30
#define LINGER_TIMEOUT_S	5
#define RELISTEN_MS		500
#define READY_RETRY_MS		250
#define READY_IO_TIMEOUT_S	10

enum conn_state {
	CONN_READING,		/* the request is arriving */
	CONN_WAITING,		/* for the runtime's answer */
	CONN_REPLYING,		/* our answer is being written */
	CONN_CLOSING,		/* written; waiting for the host to close */
};

struct host_conn {
	struct init *init;
	struct bufferevent *bev;
	enum conn_state state;
	bool have_hdr;
	bool peer_eof;		/* the host shut down its side */
	struct thaw_msg_hdr hdr;
	size_t reserved;	/* of init->buffered_bytes, until it is read */
	struct invocation *inv;
};

static unsigned int nconns;
static struct bufferevent *ready_bev;

static void tv_ms(struct timeval *tv, uint64_t ms)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = ms % 1000 * 1000;
}

static void conn_free(struct host_conn *conn)
{
	conn->init->buffered_bytes -= conn->reserved;
	if (conn->inv)
		conn->inv->conn = NULL;
	bufferevent_free(conn->bev);
	free(conn);
	nconns--;
}

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static void flushed_cb(struct bufferevent *bev, void *arg)
{
	struct host_conn *conn = arg;
	struct timeval tv = { .tv_sec = LINGER_TIMEOUT_S };

	if (conn->state != CONN_REPLYING)
		return;
	if (conn->peer_eof) {
		conn_free(conn);
		return;
	}
	/* The host reads to EOF and closes: it owns the end of the stream. */
	conn->state = CONN_CLOSING;
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_set_timeouts(bev, &tv, NULL);
	bufferevent_enable(bev, EV_READ);
}

/* Send one message and close after it; @body's content is moved. */
static void conn_send(struct host_conn *conn, uint8_t type,
		      struct json_object *meta, struct evbuffer *body)
{
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	size_t blen = body ? evbuffer_get_length(body) : 0;
	char *frame;
	size_t flen;

	if (!meta || proto__frame(type, meta, blen, &frame, &flen)) {
		init__err("cannot frame a reply to the host");
		json_object_put(meta);
		conn_free(conn);
		return;
	}
	json_object_put(meta);
	conn->state = CONN_REPLYING;
	bufferevent_write(conn->bev, frame, flen);
	free(frame);
	if (blen)
		bufferevent_write_buffer(conn->bev, body);
	bufferevent_set_timeouts(conn->bev, NULL, &tv);
	/* Reading stays on, to see the host go away. */
	bufferevent_setcb(conn->bev, conn_read_cb, flushed_cb, conn_event_cb,
			  conn);
	bufferevent_enable(conn->bev, conn->peer_eof ? EV_WRITE :
			   EV_READ | EV_WRITE);
}

static void send_result(struct host_conn *conn, const char *request_id,
			enum thaw_status status, const char *error_type,
			struct evbuffer *body)
{
	struct thaw_result res = { .status = status };

	if (request_id)
		snprintf(res.request_id, sizeof(res.request_id), "%s",
			 request_id);
	if (error_type)
		snprintf(res.error_type, sizeof(res.error_type), "%s",
			 error_type);
	conn_send(conn, THAW_MSG_RESULT, proto__result_to_meta(&res), body);
}

static void reject(struct host_conn *conn, const char *request_id,
		   const char *type, const char *message)
{
	struct evbuffer *buf = evbuffer_new();
	char *body = lambda__error_body(type, message);

	init__err("refused a request from the host: %s", message);
	if (buf && body)
		evbuffer_add(buf, body, strlen(body));
	send_result(conn, request_id, THAW_STATUS_REJECTED, type, buf);
	free(body);
	if (buf)
		evbuffer_free(buf);
}

void bridge__reply(struct invocation *inv, enum thaw_status status,
		   const char *error_type, struct evbuffer *body)
{
	struct host_conn *conn = inv->conn;

	if (!conn)
		return;
	conn->inv = NULL;
	inv->conn = NULL;
	send_result(conn, inv->req.request_id, status, error_type, body);
}

static void apply_host_state(struct init *init,
			     const struct thaw_host_state *hs)
{
	int64_t stepped;
	int ret;

	if (hs->has_realtime) {
		ret = system__sync_clock(hs->realtime_ns, &stepped);
		if (ret)
			init__err("setting the clock: %s", strerror(-ret));
		else if (stepped) {
			init->clock_step_ns = stepped;
			init__log(init, "clock stepped by %lld ms",
				  (long long)(stepped / 1000000));
		}
	}
	if (hs->entropy_len) {
		ret = system__add_entropy(hs->entropy, hs->entropy_len);
		if (ret)
			init__err("feeding host entropy: %s", strerror(-ret));
		else
			init->entropy_bytes += hs->entropy_len;
	}
}

static void handle_invoke(struct host_conn *conn, struct json_object *meta,
			  struct evbuffer *input)
{
	struct init *init = conn->init;
	struct invocation *inv;
	char err[160];

	inv = calloc(1, sizeof(*inv));
	if (!inv) {
		reject(conn, NULL, "Thaw.OutOfMemory", "out of memory");
		return;
	}
	inv->init = init;
	if (proto__invoke_from_meta(meta, &inv->req, err, sizeof(err))) {
		reject(conn, NULL, "Thaw.BadRequest", err);
		free(inv);
		return;
	}
	/*
	 * Before anything reads the clock or the RNG for this request, and
	 * with the VM generation up to date.
	 */
	generation__check(init);
	apply_host_state(init, &inv->req.host);

	if (init->stopping) {
		reject(conn, inv->req.request_id, "Thaw.ShuttingDown",
		       "the function VM is shutting down");
		goto fail;
	}
	if (queue__full(init)) {
		reject(conn, inv->req.request_id, "Thaw.Busy",
		       "too many invocations waiting");
		goto fail;
	}
	if (queue__has(init, inv->req.request_id)) {
		reject(conn, inv->req.request_id, "Thaw.DuplicateRequestId",
		       "this request id is already in progress");
		goto fail;
	}
	if (queue__prepare(init, inv)) {
		reject(conn, inv->req.request_id, "Thaw.OutOfMemory",
		       "out of memory");
		goto fail;
	}
	evbuffer_remove_buffer(input, inv->payload, conn->hdr.body_len);
	/* The payload's share of the budget goes with it. */
	inv->reserved = conn->reserved;
	conn->reserved = 0;
	inv->conn = conn;
	conn->inv = inv;
	queue__add(init, inv);
	return;
fail:
	queue__free(init, inv);
}

static void handle_probe(struct host_conn *conn, struct json_object *meta)
{
	struct init *init = conn->init;
	uint8_t random[THAW_PROBE_RANDOM_MAX];
	char hex[2 * THAW_PROBE_RANDOM_MAX + 1] = "";
	struct thaw_probe probe;
	struct json_object *r;
	char err[160];
	ssize_t n = 0;

	if (proto__probe_from_meta(meta, &probe, err, sizeof(err))) {
		reject(conn, NULL, "Thaw.BadRequest", err);
		return;
	}
	generation__check(init);
	apply_host_state(init, &probe.host);
	if (probe.random_bytes) {
		/* Never block PID 1; an unready CRNG answers "". */
		n = getrandom(random, probe.random_bytes, GRND_NONBLOCK);
		if (n > 0)
			proto__hex_encode(random, n, hex);
	}
	r = json_object_new_object();
	if (r) {
		json_object_object_add(r, "protocol",
				       json_object_new_int(THAW_PROTO_VERSION));
		json_object_object_add(r, "thaw_init",
				       json_object_new_string(THAW_INIT_VERSION));
		json_object_object_add(r, "cid", json_object_new_int64(
			system__local_cid(bufferevent_getfd(conn->bev))));
		json_object_object_add(r, "random", json_object_new_string(hex));
		json_object_object_add(r, "ready", json_object_new_boolean(
			RUNTIME_PAST_INIT(init->rt_state)));
		json_object_object_add(r, "init_ms",
				       json_object_new_int64(init->init_ms));
		json_object_object_add(r, "busy", json_object_new_boolean(
			init->current != NULL));
		json_object_object_add(r, "queued",
				       json_object_new_int64(init->queued));
		json_object_object_add(r, "invocations",
				       json_object_new_int64(init->invocations));
		json_object_object_add(r, "realtime_ns", json_object_new_int64(
			init__now_ns(CLOCK_REALTIME)));
		json_object_object_add(r, "uptime_ms", json_object_new_int64(
			init__now_ns(CLOCK_BOOTTIME) / 1000000));
		json_object_object_add(r, "clock_step_ns",
				       json_object_new_int64(init->clock_step_ns));
		json_object_object_add(r, "entropy_bytes",
				       json_object_new_int64(init->entropy_bytes));
		json_object_object_add(r, "generation",
				       json_object_new_int64(init->generation));
	}
	conn_send(conn, THAW_MSG_PROBE_REPLY, r, NULL);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct host_conn *conn = arg;
	struct evbuffer *input = bufferevent_get_input(bev);
	uint8_t raw[THAW_PROTO_HDR_SIZE];
	struct json_object *meta;
	char err[160];
	int ret;

	if (conn->state != CONN_READING) {
		/* One request per connection: anything more is discarded. */
		evbuffer_drain(input, evbuffer_get_length(input));
		return;
	}
	if (!conn->have_hdr) {
		if (evbuffer_get_length(input) < THAW_PROTO_HDR_SIZE)
			return;
		evbuffer_copyout(input, raw, sizeof(raw));
		ret = proto__decode_hdr(raw, sizeof(raw), &conn->hdr);
		if (ret == -EPROTONOSUPPORT) {
			snprintf(err, sizeof(err),
				 "protocol version %u is not supported; this guest speaks %d",
				 conn->hdr.version, THAW_PROTO_VERSION);
			reject(conn, NULL, "Thaw.ProtocolVersion", err);
			return;
		}
		if (ret == 0 && conn->hdr.type != THAW_MSG_INVOKE &&
		    conn->hdr.type != THAW_MSG_PROBE)
			ret = -EINVAL;
		if (ret) {
			snprintf(err, sizeof(err), "bad message header: %s",
				 strerror(-ret));
			reject(conn, NULL, "Thaw.BadRequest", err);
			return;
		}
		evbuffer_drain(input, THAW_PROTO_HDR_SIZE);
		conn->have_hdr = true;
		if (conn->init->buffered_bytes + conn->hdr.meta_len +
		    conn->hdr.body_len > INIT_BUFFER_MAX) {
			reject(conn, NULL, "Thaw.Busy",
			       "too much request data held already");
			return;
		}
		conn->reserved = conn->hdr.meta_len + conn->hdr.body_len;
		conn->init->buffered_bytes += conn->reserved;
	}
	if (evbuffer_get_length(input) <
	    (size_t)conn->hdr.meta_len + conn->hdr.body_len)
		return;

	/* The whole request is here: no read timeout while it runs. */
	conn->state = CONN_WAITING;
	bufferevent_set_timeouts(bev, NULL, NULL);
	meta = proto__parse_meta((const char *)evbuffer_pullup(input,
						conn->hdr.meta_len),
				 conn->hdr.meta_len, err, sizeof(err));
	evbuffer_drain(input, conn->hdr.meta_len);
	conn->init->buffered_bytes -= conn->hdr.meta_len;
	conn->reserved -= conn->hdr.meta_len;
	if (!meta) {
		reject(conn, NULL, "Thaw.BadRequest", err);
		return;
	}
	if (conn->hdr.type == THAW_MSG_INVOKE)
		handle_invoke(conn, meta, input);
	else
		handle_probe(conn, meta);
	json_object_put(meta);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct host_conn *conn = arg;
	struct invocation *inv = conn->inv;

	/*
	 * A host that shuts down its side after the request still reads the
	 * answer: keep working, stop reading.
	 */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    (conn->state == CONN_WAITING || conn->state == CONN_REPLYING)) {
		conn->peer_eof = true;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (conn->state == CONN_READING && (what & BEV_EVENT_TIMEOUT))
		init__err("the host sent no complete request in %d s",
			  REQUEST_TIMEOUT_S);
	/*
	 * The host went away (reset, as after a restore, or timed out): a
	 * queued invocation is dropped, a running one finishes unheard.
	 */
	if (inv) {
		inv->conn = NULL;
		conn->inv = NULL;
		queue__drop(conn->init, inv);
	}
	conn_free(conn);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *addr, int len, void *arg)
{
	struct init *init = arg;
	struct timeval tv = { .tv_sec = REQUEST_TIMEOUT_S };
	struct host_conn *conn;

	if (nconns >= MAX_CONNS || init->stopping) {
		close(fd);
		return;
	}
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		close(fd);
		return;
	}
	conn->init = init;
	conn->bev = bufferevent_socket_new(init->base, fd,
					   BEV_OPT_CLOSE_ON_FREE);
	if (!conn->bev) {
		close(fd);
		free(conn);
		return;
	}
	nconns++;
	bufferevent_setcb(conn->bev, conn_read_cb, NULL, conn_event_cb, conn);
	bufferevent_set_timeouts(conn->bev, &tv, NULL);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
}

static void listen_error_cb(struct evconnlistener *l, void *arg);

static int listen_vsock(struct init *init)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = init->cfg.invoke_port,
	};
	int fd, ret;

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 64)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	init->listener = evconnlistener_new(init->base, accept_cb, init,
					    LEV_OPT_CLOSE_ON_FREE |
					    LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!init->listener) {
		close(fd);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(init->listener, listen_error_cb);
	return 0;
}

static void relisten_cb(evutil_socket_t fd, short what, void *arg)
{
	struct init *init = arg;
	struct timeval tv;
	int ret;

	if (init->stopping || init->listener)
		return;
	ret = listen_vsock(init);
	if (ret) {
		tv_ms(&tv, RELISTEN_MS);
		evtimer_add(init->relisten, &tv);
		return;
	}
	init__log(init, "listening on vsock port %u", init->cfg.invoke_port);
}

static void listen_error_cb(struct evconnlistener *l, void *arg)
{
	struct init *init = arg;
	struct timeval tv;

	/* EMFILE and the like, or a transport gone bad: start over. */
	init__err("vsock listener failed (%s); listening again",
		  strerror(errno));
	evconnlistener_free(init->listener);
	init->listener = NULL;
	tv_ms(&tv, RELISTEN_MS);
	evtimer_add(init->relisten, &tv);
}

static void ready_attempt(struct init *init);

static void ready_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	ready_attempt(arg);
}

static void ready_done(struct init *init, bool ok)
{
	uint64_t elapsed;
	struct timeval tv;

	bufferevent_free(ready_bev);
	ready_bev = NULL;
	if (ok) {
		init__log(init, "told the host the function is ready");
		return;
	}
	elapsed = (init__now_ns(CLOCK_MONOTONIC) - init->ready_first_try_ns) /
		1000000;
	if (init->stopping || elapsed >= init->cfg.ready_timeout * 1000ULL) {
		init__err("could not tell the host the function is ready (vsock CID %d port %u)",
			  THAW_HOST_CID, init->cfg.ready_port);
		return;
	}
	tv_ms(&tv, READY_RETRY_MS);
	evtimer_add(init->ready_retry, &tv);
}

static void ready_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct init *init = arg;
	struct json_object *r;
	char *frame;
	size_t flen;

	if (what & BEV_EVENT_CONNECTED) {
		r = json_object_new_object();
		if (!r) {
			ready_done(init, false);
			return;
		}
		json_object_object_add(r, "protocol",
				       json_object_new_int(THAW_PROTO_VERSION));
		json_object_object_add(r, "thaw_init",
				       json_object_new_string(THAW_INIT_VERSION));
		json_object_object_add(r, "cid", json_object_new_int64(
			system__local_cid(bufferevent_getfd(bev))));
		json_object_object_add(r, "function_name",
				       json_object_new_string(
					       init->cfg.function_name));
		json_object_object_add(r, "init_ms",
				       json_object_new_int64(init->init_ms));
		json_object_object_add(r, "uptime_ms", json_object_new_int64(
			init__now_ns(CLOCK_BOOTTIME) / 1000000));
		json_object_object_add(r, "memory_mb",
				       json_object_new_int64(init->memory_mb));
		if (proto__frame(THAW_MSG_READY, r, 0, &frame, &flen)) {
			json_object_put(r);
			ready_done(init, false);
			return;
		}
		json_object_put(r);
		bufferevent_write(bev, frame, flen);
		free(frame);
		return;
	}
	/*
	 * The host reads the message and closes: EOF after connecting is
	 * success.  A refused or reset connection before that is retried.
	 */
	ready_done(init, (what & BEV_EVENT_EOF) &&
		   evbuffer_get_length(bufferevent_get_output(bev)) == 0);
}

static void ready_attempt(struct init *init)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = THAW_HOST_CID,
		.svm_port = init->cfg.ready_port,
	};
	struct timeval tv = { .tv_sec = READY_IO_TIMEOUT_S };

	if (ready_bev || init->stopping)
		return;
	ready_bev = bufferevent_socket_new(init->base, -1,
					   BEV_OPT_CLOSE_ON_FREE);
	if (!ready_bev)
		return;
	bufferevent_setcb(ready_bev, NULL, NULL, ready_event_cb, init);
	bufferevent_set_timeouts(ready_bev, &tv, &tv);
	bufferevent_enable(ready_bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(ready_bev, (struct sockaddr *)&addr,
				       sizeof(addr)) < 0)
		ready_done(init, false);
}

void bridge__notify_ready(struct init *init)
{
	if (init->ready_sent || !init->cfg.ready_port)
		return;
	init->ready_sent = true;
	init->ready_first_try_ns = init__now_ns(CLOCK_MONOTONIC);
	ready_attempt(init);
}

int bridge__start(struct init *init)
{
	int ret;

	TAILQ_INIT(&init->queue);
	init->relisten = evtimer_new(init->base, relisten_cb, init);
	init->ready_retry = evtimer_new(init->base, ready_retry_cb, init);
	if (!init->relisten || !init->ready_retry)
		return -ENOMEM;
	ret = listen_vsock(init);
	if (ret) {
		struct timeval tv;

		init__err("vsock port %u: %s; retrying", init->cfg.invoke_port,
			  strerror(-ret));
		tv_ms(&tv, RELISTEN_MS);
		evtimer_add(init->relisten, &tv);
	}
	return 0;
}

void bridge__stop(struct init *init)
{
	if (init->listener) {
		evconnlistener_free(init->listener);
		init->listener = NULL;
	}
	queue__stop(init);
}

void bridge__free(struct init *init)
{
	bridge__stop(init);
	if (ready_bev) {
		bufferevent_free(ready_bev);
		ready_bev = NULL;
	}
	if (init->relisten)
		event_free(init->relisten);
	if (init->ready_retry)
		event_free(init->ready_retry);
}
