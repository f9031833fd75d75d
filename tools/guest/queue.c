// SPDX-License-Identifier: GPL-2.0
/*
 * The invocation queue of thaw-init: what the host sends (bridge.c) waits
 * here, in order, each with its deadline, until the runtime asks for work
 * (runtime_api.c); at most one runs at a time (init->current).  Finishing
 * one answers the host through the bridge.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "tools/guest/init.h"
#include "tools/guest/lambda.h"

static uint64_t realtime_ms(void)
{
	return init__now_ns(CLOCK_REALTIME) / 1000000;
}

void queue__free(struct init *init, struct invocation *inv)
{
	init->buffered_bytes -= inv->reserved;
	if (inv->deadline)
		event_free(inv->deadline);
	if (inv->payload)
		evbuffer_free(inv->payload);
	proto__invoke_free(&inv->req);
	free(inv);
}

void queue__finish(struct init *init, struct invocation *inv,
		   enum thaw_status status, const char *error_type,
		   struct evbuffer *body)
{
	if (inv == init->current) {
		init->current = NULL;
	} else if (inv->state == INV_QUEUED) {
		TAILQ_REMOVE(&init->queue, inv, link);
		init->queued--;
	}
	init->invocations++;
	init__log(init, "RequestId %s: %s%s%s", inv->req.request_id,
		  proto__status_name(status), error_type ? " " : "",
		  error_type ?: "");
	bridge__reply(inv, status, error_type, body);
	queue__free(init, inv);
}

void queue__fail(struct init *init, struct invocation *inv,
		 enum thaw_status status, const char *error_type,
		 const char *message)
{
	struct evbuffer *buf = evbuffer_new();
	char *body = lambda__error_body(error_type, message);

	if (buf && body)
		evbuffer_add(buf, body, strlen(body));
	queue__finish(init, inv, status, error_type, buf);
	free(body);
	if (buf)
		evbuffer_free(buf);
}

void queue__dispatch(struct init *init)
{
	struct invocation *inv;

	/* Invoked while waiting to be restored: go on as if restored. */
	if (!TAILQ_EMPTY(&init->queue))
		runtime_api__restored(init);
	while ((inv = TAILQ_FIRST(&init->queue))) {
		if (init->init_error) {
			/* Lambda serves an init error to the first invoke. */
			init->init_error = false;
			init->restore_failed = false;
			queue__finish(init, inv, THAW_STATUS_INIT_ERROR,
				      init->init_error_type,
				      init->init_error_body);
			continue;
		}
		if (init->current || !runtime_api__has_next(init))
			return;
		TAILQ_REMOVE(&init->queue, inv, link);
		init->queued--;
		inv->state = INV_RUNNING;
		init->current = inv;
		if (runtime_api__deliver(init, inv))
			queue__fail(init, inv, THAW_STATUS_FUNCTION_ERROR,
				    "Runtime.InvalidHeader",
				    "the invocation could not be handed to the runtime");
	}
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct invocation *inv = arg;
	struct init *init = inv->init;
	bool running = inv == init->current;
	char msg[320];

	snprintf(msg, sizeof(msg), "RequestId: %s Error: Task timed out%s",
		 inv->req.request_id,
		 running ? "" : " before the runtime took it");
	queue__fail(init, inv, THAW_STATUS_TIMEOUT, "Sandbox.Timedout", msg);
	/* Lambda's answer to a timeout: a fresh runtime for the next one. */
	if (running)
		runtime__kill(init);
}

bool queue__full(struct init *init)
{
	return init->queued >= INIT_QUEUE_MAX;
}

bool queue__has(struct init *init, const char *id)
{
	struct invocation *inv;

	if (init->current && !strcmp(init->current->req.request_id, id))
		return true;
	TAILQ_FOREACH(inv, &init->queue, link)
		if (!strcmp(inv->req.request_id, id))
			return true;
	return false;
}

int queue__prepare(struct init *init, struct invocation *inv)
{
	inv->payload = evbuffer_new();
	inv->deadline = evtimer_new(init->base, deadline_cb, inv);
	return inv->payload && inv->deadline ? 0 : -ENOMEM;
}

void queue__add(struct init *init, struct invocation *inv)
{
	struct timeval tv;
	uint64_t now, left;

	now = realtime_ms();
	inv->deadline_ms = inv->req.deadline_ms ?:
		now + init->cfg.timeout * 1000ULL;
	inv->state = INV_QUEUED;
	TAILQ_INSERT_TAIL(&init->queue, inv, link);
	init->queued++;
	left = inv->deadline_ms > now ? inv->deadline_ms - now : 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = left % 1000 * 1000;
	evtimer_add(inv->deadline, &tv);
	queue__dispatch(init);
}

void queue__drop(struct init *init, struct invocation *inv)
{
	if (inv->state != INV_QUEUED || inv == init->current)
		return;
	TAILQ_REMOVE(&init->queue, inv, link);
	init->queued--;
	init__log(init, "RequestId %s: the host went away; dropped",
		  inv->req.request_id);
	queue__free(init, inv);
}

void queue__stop(struct init *init)
{
	struct invocation *inv;

	while ((inv = TAILQ_FIRST(&init->queue)))
		queue__fail(init, inv, THAW_STATUS_REJECTED,
			    "Thaw.ShuttingDown",
			    "the function VM is shutting down");
	if (init->current)
		queue__fail(init, init->current, THAW_STATUS_REJECTED,
			    "Thaw.ShuttingDown",
			    "the function VM is shutting down");
}
