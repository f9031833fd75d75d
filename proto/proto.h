/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The invocation protocol between the host and thaw-init, over vsock.
 * Documentation/admin-guide/invocation-protocol.rst is its specification;
 * this file and that page change together.
 *
 * Every message is a 16-byte header, a JSON object (the "meta") and a raw
 * body:
 *
 *   offset 0  4 bytes  magic "THAW"
 *          4  u8       protocol version (THAW_PROTO_VERSION)
 *          5  u8       message type (enum thaw_msg_type)
 *          6  u16      flags, zero in version 1
 *          8  u32      meta length, little endian
 *         12  u32      body length, little endian
 *
 * Shared by the guest (thaw-init, static) and the host (thawctl); pure
 * logic on buffers, no I/O.
 */
#ifndef THAW_PROTO_PROTO_H
#define THAW_PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* How every JSON text of the protocol is written (json-c flags). */
#define THAW_JSON_FLAGS	(JSON_C_TO_STRING_PLAIN | \
			 JSON_C_TO_STRING_NOSLASHESCAPE)

#define THAW_PROTO_VERSION	1
#define THAW_PROTO_HDR_SIZE	16
#define THAW_PROTO_META_MAX	(64 * 1024)
/* Lambda's synchronous payload limit, both ways. */
#define THAW_PROTO_BODY_MAX	(6 * 1024 * 1024)

/* Guest ports (the host connects to these) and the host port. */
#define THAW_INVOKE_PORT	9000
#define THAW_READY_PORT		9999
/* The vsock CID of the host, as the guest sees it. */
#define THAW_HOST_CID		2

#define THAW_REQUEST_ID_MAX	128
#define THAW_ERROR_TYPE_MAX	128
#define THAW_ENTROPY_MAX	512
#define THAW_PROBE_RANDOM_MAX	256
/* Deadlines are Unix ms; beyond the year 9999 is nonsense. */
#define THAW_DEADLINE_MAX	253402300799999LL
/* Lambda-Runtime-* header values the host may set. */
#define THAW_HEADER_VALUE_MAX	8192

enum thaw_msg_type {
	THAW_MSG_INVOKE = 1,		/* host -> guest, port 9000 */
	THAW_MSG_RESULT = 2,		/* guest -> host, reply to 1 and 3 */
	THAW_MSG_PROBE = 3,		/* host -> guest, port 9000 */
	THAW_MSG_PROBE_REPLY = 4,	/* guest -> host */
	THAW_MSG_READY = 5,		/* guest -> host, CID 2 port 9999 */
};

enum thaw_status {
	THAW_STATUS_OK,			/* body: the function's response */
	THAW_STATUS_FUNCTION_ERROR,	/* body: what it posted to /error */
	THAW_STATUS_INIT_ERROR,		/* body: /init/error, or exit */
	THAW_STATUS_TIMEOUT,		/* the deadline passed */
	THAW_STATUS_REJECTED,		/* bad request, busy, version */
	THAW_STATUS_COUNT,
};

struct thaw_msg_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t meta_len;
	uint32_t body_len;
};

/*
 * What a restored clone needs before the runtime sees a request: fresh
 * entropy for the kernel CRNG and the host's wall clock.  Optional in every
 * host -> guest message.
 */
struct thaw_host_state {
	bool has_realtime;
	int64_t realtime_ns;		/* host CLOCK_REALTIME */
	size_t entropy_len;
	uint8_t entropy[THAW_ENTROPY_MAX];
};

struct thaw_invoke {
	char request_id[THAW_REQUEST_ID_MAX + 1];
	uint64_t deadline_ms;		/* Unix epoch ms, host clock; 0: none */
	char *function_arn;		/* the optional strings: NULL if absent */
	char *trace_id;
	char *client_context;
	char *cognito_identity;
	struct thaw_host_state host;
};

struct thaw_probe {
	uint32_t random_bytes;		/* 0..THAW_PROBE_RANDOM_MAX */
	struct thaw_host_state host;
};

struct thaw_result {
	char request_id[THAW_REQUEST_ID_MAX + 1];	/* "" if none */
	enum thaw_status status;
	char error_type[THAW_ERROR_TYPE_MAX + 1];	/* "" if none */
};

/*
 * Decode a header from @len bytes at @buf.  Returns 0, -EAGAIN when @len is
 * short, -EPROTO for a bad magic or nonzero flags, -EPROTONOSUPPORT for
 * another version (@hdr->version says which), -EINVAL for an unknown type
 * or a body on a message that has none, -EMSGSIZE for a size over the
 * limits.
 */
int proto__decode_hdr(const void *buf, size_t len, struct thaw_msg_hdr *hdr);
void proto__encode_hdr(void *buf, const struct thaw_msg_hdr *hdr);

/*
 * Header plus serialized @meta in one malloc'd buffer, ready to send before
 * a body of @body_len bytes.  Returns 0 or -errno (-EMSGSIZE over limits).
 */
int proto__frame(uint8_t type, struct json_object *meta, size_t body_len,
		 char **out, size_t *out_len);

/*
 * Parse a meta: exactly one JSON object, nothing after it, nesting at most
 * a few levels.  Returns a new reference or NULL with a reason in @err.
 */
struct json_object *proto__parse_meta(const char *meta, size_t len,
				      char *err, size_t errlen);

int proto__invoke_from_meta(struct json_object *meta, struct thaw_invoke *inv,
			    char *err, size_t errlen);
struct json_object *proto__invoke_to_meta(const struct thaw_invoke *inv);
void proto__invoke_free(struct thaw_invoke *inv);

int proto__probe_from_meta(struct json_object *meta, struct thaw_probe *probe,
			   char *err, size_t errlen);
struct json_object *proto__probe_to_meta(const struct thaw_probe *probe);

int proto__result_from_meta(struct json_object *meta, struct thaw_result *res,
			    char *err, size_t errlen);
struct json_object *proto__result_to_meta(const struct thaw_result *res);

const char *proto__status_name(enum thaw_status status);
int proto__status_from_name(const char *name);

/* Request ids go into HTTP headers: [A-Za-z0-9._:-], 1..128 bytes. */
bool proto__valid_request_id(const char *s, size_t len);
/* Header values: printable ASCII (0x20..0x7e), at most @max bytes. */
bool proto__valid_header_value(const char *s, size_t len, size_t max);
bool proto__valid_error_type(const char *s, size_t len);

/* Hex: returns the byte count or -EINVAL (odd length, bad digit, > @max). */
int proto__hex_decode(const char *hex, size_t len, uint8_t *out, size_t max);
/* @out holds 2 * @len + 1 bytes. */
void proto__hex_encode(const uint8_t *in, size_t len, char *out);

#endif
