// SPDX-License-Identifier: GPL-2.0
/*
 * The guest protocol (proto/) as a peer sends it: a 16-byte header, the
 * meta JSON, the body.  The header is decoded, the meta parsed and read as
 * the message type says; a meta that is accepted must survive a round
 * trip through its encoder unchanged.  The validators and the hex decoder
 * get the meta's bytes too.
 */
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "proto/proto.h"
#include "tests/fuzz/fuzz.h"

static void invoke(struct json_object *meta)
{
	struct thaw_invoke inv, back;
	struct json_object *o;
	char err[256];

	memset(&inv, 0, sizeof(inv));
	if (proto__invoke_from_meta(meta, &inv, err, sizeof(err))) {
		proto__invoke_free(&inv);
		return;
	}
	o = proto__invoke_to_meta(&inv);
	FUZZ_CHECK(o);
	memset(&back, 0, sizeof(back));
	FUZZ_CHECK(!proto__invoke_from_meta(o, &back, err, sizeof(err)));
	FUZZ_CHECK(!strcmp(inv.request_id, back.request_id));
	FUZZ_CHECK(inv.deadline_ms == back.deadline_ms);
	FUZZ_CHECK(inv.host.entropy_len == back.host.entropy_len);
	FUZZ_CHECK(!memcmp(inv.host.entropy, back.host.entropy,
			   inv.host.entropy_len));
	json_object_put(o);
	proto__invoke_free(&back);
	proto__invoke_free(&inv);
}

static void probe(struct json_object *meta)
{
	struct thaw_probe p, back;
	struct json_object *o;
	char err[256];

	memset(&p, 0, sizeof(p));
	if (proto__probe_from_meta(meta, &p, err, sizeof(err)))
		return;
	o = proto__probe_to_meta(&p);
	FUZZ_CHECK(o);
	memset(&back, 0, sizeof(back));
	FUZZ_CHECK(!proto__probe_from_meta(o, &back, err, sizeof(err)));
	FUZZ_CHECK(p.random_bytes == back.random_bytes);
	json_object_put(o);
}

static void result(struct json_object *meta)
{
	struct thaw_result r, back;
	struct json_object *o;
	char err[256];

	memset(&r, 0, sizeof(r));
	if (proto__result_from_meta(meta, &r, err, sizeof(err)))
		return;
	o = proto__result_to_meta(&r);
	FUZZ_CHECK(o);
	memset(&back, 0, sizeof(back));
	FUZZ_CHECK(!proto__result_from_meta(o, &back, err, sizeof(err)));
	FUZZ_CHECK(r.status == back.status);
	FUZZ_CHECK(!strcmp(r.request_id, back.request_id));
	FUZZ_CHECK(!strcmp(r.error_type, back.error_type));
	json_object_put(o);
}

static void strings(const char *s, size_t len)
{
	uint8_t bin[THAW_ENTROPY_MAX];
	char hex[2 * THAW_ENTROPY_MAX + 1];
	int n;

	proto__valid_request_id(s, len);
	proto__valid_error_type(s, len);
	proto__valid_header_value(s, len, THAW_HEADER_VALUE_MAX);
	n = proto__hex_decode(s, len, bin, sizeof(bin));
	if (n >= 0) {
		proto__hex_encode(bin, n, hex);
		FUZZ_CHECK(strlen(hex) == len);
		FUZZ_CHECK(!strncasecmp(hex, s, len));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct thaw_msg_hdr h;
	struct json_object *meta;
	const char *text;
	char err[256];

	if (proto__decode_hdr(data, size, &h))
		return 0;
	text = (const char *)data + THAW_PROTO_HDR_SIZE;
	if (size - THAW_PROTO_HDR_SIZE < h.meta_len)
		return 0;
	strings(text, h.meta_len);
	meta = proto__parse_meta(text, h.meta_len, err, sizeof(err));
	if (!meta)
		return 0;
	switch (h.type) {
	case THAW_MSG_INVOKE:
		invoke(meta);
		break;
	case THAW_MSG_PROBE:
		probe(meta);
		break;
	case THAW_MSG_RESULT:
	case THAW_MSG_PROBE_REPLY:
		result(meta);
		break;
	default:
		break;
	}
	json_object_put(meta);
	return 0;
}
