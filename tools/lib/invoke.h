/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One invocation of a function VM, for the commands that invoke as part
 * of their job (thawctl invoke, restore --invoke, snapshot --record-wset)
 * and for the benches.
 *
 *	struct thaw_invoke inv = {};		(request_id "" = a random one)
 *	invoke__prepare(&inv, timeout_ms, 32, true);
 *	ret = invoke__call(&target, &inv, payload, len, timeout_ms,
 *			   INVOKE_RETRY_CONNECT, &reply, err, sizeof(err));
 *	ret 0: the guest answered; reply.res.status says how the function
 *	did, reply.body is its response (NUL-terminated) or error body.
 *	invoke__reply_free(&reply);
 */
#ifndef THAW_TOOLS_LIB_INVOKE_H
#define THAW_TOOLS_LIB_INVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "tools/lib/vsock-client.h"

/* Retry a refused or reset connection until the deadline: a clone that
 * was just restored is still handling its vsock transport reset.  To a
 * CID (vhost-vsock), each try is also bounded in time (a few tens of ms
 * at first) and one that times out is retried, and so is an invocation
 * whose connection was reset before any answer.
 */
#define INVOKE_RETRY_CONNECT	(1u << 0)

struct invoke_reply {
	struct thaw_result res;
	struct json_object *meta;	/* the RESULT's metadata */
	char *body;			/* NUL-terminated, or NULL */
	size_t body_len;
	uint64_t elapsed_ms;		/* connect to result */
};

/* A request id if none is set, host entropy, the clock, the deadline. */
int invoke__prepare(struct thaw_invoke *inv, uint64_t timeout_ms,
		    uint32_t entropy, bool clock);
int invoke__call(const struct vsock_target *t, const struct thaw_invoke *inv,
		 const char *payload, size_t len, uint64_t timeout_ms,
		 unsigned int flags, struct invoke_reply *out,
		 char *err, size_t errlen);
void invoke__reply_free(struct invoke_reply *r);
/* Fresh entropy (@entropy bytes) and, if @clock, the wall clock. */
int invoke__host_state(struct thaw_host_state *hs, size_t entropy,
		       bool clock);

#endif
