// SPDX-License-Identifier: GPL-2.0
/*
 * One invocation of a function VM over vsock (tools/lib/invoke.h): the
 * INVOKE message, its RESULT, and the retries a just-restored clone needs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "proto/proto.h"
#include "tools/lib/invoke.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"

/* How long past the deadline we wait for the guest to report it. */
#define DEADLINE_GRACE_MS	5000

static void random_uuid(char *out)
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		memset(b, 0, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	sprintf(out,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int invoke__host_state(struct thaw_host_state *hs, size_t entropy,
		       bool clock)
{
	memset(hs, 0, sizeof(*hs));
	if (entropy > THAW_ENTROPY_MAX)
		return -EINVAL;
	if (entropy &&
	    getrandom(hs->entropy, entropy, 0) != (ssize_t)entropy)
		return -EIO;
	hs->entropy_len = entropy;
	if (clock) {
		hs->has_realtime = true;
		hs->realtime_ns = realtime_ns();
	}
	return 0;
}

/*
 * A clone's vsock device is reset on restore; until the guest has handled
 * that, a connection may be refused or reset.  How long to wait between
 * tries.
 */
#define RETRY_DELAY_MS		5

/*
 * A guest reached by CID (vhost-vsock) may also drop the connection
 * silently: until it has handled the transport reset it answers under
 * its old CID, and vhost discards what a guest sends under a CID that is
 * not its own.  The host's connect would then wait for its whole
 * timeout, so with INVOKE_RETRY_CONNECT each try is bounded: the first
 * to this, each next one to twice the last, up to ATTEMPT_MAX_MS.
 */
#define ATTEMPT_FIRST_MS	25
#define ATTEMPT_MAX_MS		2000

/* What a guest that is still resuming answers a connection with. */
static bool retryable(const struct vsock_target *t, int err)
{
	if (err == -ETIMEDOUT)
		return !t->uds;
	return err == -ECONNREFUSED || err == -ECONNRESET || err == -EPIPE ||
		err == -ENODEV || err == -EHOSTUNREACH || err == -ENETUNREACH;
}

void invoke__reply_free(struct invoke_reply *r)
{
	free(r->body);
	json_object_put(r->meta);
	memset(r, 0, sizeof(*r));
}

/* Connect, with INVOKE_RETRY_CONNECT's retries; an fd or -errno. */
static int connect_retrying(const struct vsock_target *t, uint64_t deadline,
			    unsigned int flags, char *err, size_t errlen)
{
	uint64_t attempt = ATTEMPT_FIRST_MS, until;
	int fd;

	for (;;) {
		until = deadline;
		if ((flags & INVOKE_RETRY_CONNECT) && !t->uds &&
		    util__now_ms() + attempt < deadline)
			until = util__now_ms() + attempt;
		fd = vsock_client__connect(t, until, err, errlen);
		if (fd >= 0 || !(flags & INVOKE_RETRY_CONNECT) ||
		    !retryable(t, fd) ||
		    util__now_ms() + RETRY_DELAY_MS >= deadline)
			return fd;
		if (fd == -ETIMEDOUT && attempt < ATTEMPT_MAX_MS)
			attempt *= 2;
		usleep(RETRY_DELAY_MS * 1000);
	}
}

int invoke__call(const struct vsock_target *t, const struct thaw_invoke *inv,
		 const char *payload, size_t len, uint64_t timeout_ms,
		 unsigned int flags, struct invoke_reply *out,
		 char *err, size_t errlen)
{
	struct json_object *meta = NULL;
	struct thaw_msg_hdr hdr;
	uint64_t start, deadline;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	start = util__now_ms();
	deadline = start + timeout_ms + DEADLINE_GRACE_MS;
	meta = proto__invoke_to_meta(inv);
	if (!meta)
		return err__set(err, errlen, -ENOMEM, "out of memory");
again:
	fd = connect_retrying(t, deadline, flags, err, errlen);
	if (fd < 0) {
		json_object_put(meta);
		return fd;
	}
	ret = vsock_client__send_msg(fd, THAW_MSG_INVOKE, meta, payload, len,
				     deadline);
	if (ret) {
		snprintf(err, errlen, "sending: %s", strerror(-ret));
		goto out;
	}
	memset(&hdr, 0, sizeof(hdr));
	ret = vsock_client__recv_msg(fd, &hdr, &out->meta, &out->body, deadline,
				     err, errlen);
	/*
	 * Through vhost-vsock (QEMU) a clone's guest takes a connection as
	 * soon as it has read its new CID, and only then, in the same
	 * kernel work, resets the connections it had: one made in between
	 * is reset before any answer, and before the guest's runtime could
	 * take the invocation from it.  thawvm holds connections back until
	 * that work is done, so this is for CID targets only.
	 */
	if ((ret == -ECONNRESET || ret == -EPIPE) && !hdr.version &&
	    (flags & INVOKE_RETRY_CONNECT) && !t->uds &&
	    util__now_ms() + RETRY_DELAY_MS < deadline) {
		close(fd);
		usleep(RETRY_DELAY_MS * 1000);
		goto again;
	}
	if (ret)
		goto out;
	out->body_len = hdr.body_len;
	if (hdr.type != THAW_MSG_RESULT ||
	    proto__result_from_meta(out->meta, &out->res, err, errlen)) {
		if (hdr.type != THAW_MSG_RESULT)
			snprintf(err, errlen, "bad result from the guest: not a RESULT");
		ret = -EPROTO;
		goto out;
	}
	out->elapsed_ms = util__now_ms() - start;
out:
	if (ret)
		invoke__reply_free(out);
	json_object_put(meta);
	close(fd);
	return ret;
}

int invoke__prepare(struct thaw_invoke *inv, uint64_t timeout_ms,
		    uint32_t entropy, bool clock)
{
	if (!inv->request_id[0])
		random_uuid(inv->request_id);
	if (invoke__host_state(&inv->host, entropy, clock))
		return -EIO;
	inv->deadline_ms = realtime_ns() / 1000000 + timeout_ms;
	return 0;
}
