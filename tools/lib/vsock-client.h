/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-side vsock transport for thawctl and the benches: reach a guest port
 * either through a VMM's Unix socket with Firecracker's protocol (thawvm,
 * Firecracker) or with AF_VSOCK directly (vhost-vsock peers such as QEMU),
 * accept guest-initiated connections on either, and move whole protocol
 * messages (proto/proto.h) with deadlines.
 *
 * Deadlines are absolute CLOCK_MONOTONIC milliseconds (util__now_ms());
 * every call returns -ETIMEDOUT once one passes.  Errors are -errno with a
 * reason in @err where the call takes one.
 */
#ifndef THAW_TOOLS_LIB_VSOCK_CLIENT_H
#define THAW_TOOLS_LIB_VSOCK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "tools/lib/util.h"

struct json_object;

struct vsock_target {
	const char *uds;	/* the VMM's vsock socket (uds_path), or */
	uint32_t cid;		/* the guest's CID for AF_VSOCK */
	uint32_t port;		/* the guest's port */
};

uint64_t util__now_ms(void);

/* Connect to the guest's port; returns a non-blocking fd. */
int vsock_client__connect(const struct vsock_target *t, uint64_t deadline,
			  char *err, size_t errlen);

/*
 * Listen for connections the guest makes to the host (CID 2) on @port: on
 * "<uds>_<port>" (a stale socket file there is replaced; one another
 * process listens on, or another file, is refused with -EADDRINUSE and a
 * message; the name goes to @path) when @uds is set, else on AF_VSOCK port
 * @port.
 */
int vsock_client__listen(const char *uds, uint32_t port, char *path,
			 size_t pathlen, char *err, size_t errlen);
int vsock_client__accept(int lfd, uint64_t deadline);

/* -EPIPE if the peer closed first. */
int vsock_client__read_full(int fd, void *buf, size_t len, uint64_t deadline);

int vsock_client__send_msg(int fd, uint8_t type, struct json_object *meta,
			   const void *body, size_t body_len,
			   uint64_t deadline);
/*
 * Receive one message: header checked, meta parsed, body malloc'd
 * (NUL-terminated, NULL when empty).  The caller frees @meta and @body.
 */
int vsock_client__recv_msg(int fd, struct thaw_msg_hdr *hdr,
			   struct json_object **meta, char **body,
			   uint64_t deadline, char *err, size_t errlen);

#endif
