// SPDX-License-Identifier: GPL-2.0
/*
 * The invocation protocol (proto/proto.c): framing and every meta
 * field, with hostile and oversized input.  Each bad input is an error
 * with a reason; none crashes under ASan/UBSan.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "proto/proto.h"

static void hdr_bytes(uint8_t *b, uint8_t ver, uint8_t type, uint16_t flags,
		      uint32_t mlen, uint32_t blen)
{
	struct thaw_msg_hdr h = {
		.version = ver, .type = type, .flags = flags,
		.meta_len = mlen, .body_len = blen,
	};

	proto__encode_hdr(b, &h);
}

static void header_round_trip(void **state)
{
	uint8_t b[THAW_PROTO_HDR_SIZE];
	struct thaw_msg_hdr h;

	hdr_bytes(b, 1, THAW_MSG_INVOKE, 0, 123, 0x010203);
	assert_memory_equal(b, "THAW", 4);
	/* little endian on the wire, whatever the host */
	assert_int_equal(b[8], 123);
	assert_int_equal(b[12], 0x03);
	assert_int_equal(b[13], 0x02);
	assert_int_equal(b[14], 0x01);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), 0);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.type, THAW_MSG_INVOKE);
	assert_int_equal(h.meta_len, 123);
	assert_int_equal(h.body_len, 0x010203);
}

static void header_hostile(void **state)
{
	uint8_t b[THAW_PROTO_HDR_SIZE];
	struct thaw_msg_hdr h;

	hdr_bytes(b, 1, THAW_MSG_INVOKE, 0, 2, 0);
	for (size_t n = 0; n < sizeof(b); n++)
		assert_int_equal(proto__decode_hdr(b, n, &h), -EAGAIN);

	b[0] = 'X';
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), -EPROTO);

	hdr_bytes(b, 2, THAW_MSG_INVOKE, 0, 2, 0);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h),
			 -EPROTONOSUPPORT);
	assert_int_equal(h.version, 2);
	hdr_bytes(b, 0, THAW_MSG_INVOKE, 0, 2, 0);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h),
			 -EPROTONOSUPPORT);

	hdr_bytes(b, 1, THAW_MSG_INVOKE, 0x8000, 2, 0);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), -EPROTO);

	hdr_bytes(b, 1, 0, 0, 2, 0);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), -EINVAL);
	hdr_bytes(b, 1, THAW_MSG_READY + 1, 0, 2, 0);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), -EINVAL);
	hdr_bytes(b, 1, 255, 0, 2, 0);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), -EINVAL);

	hdr_bytes(b, 1, THAW_MSG_INVOKE, 0, THAW_PROTO_META_MAX + 1, 0);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), -EMSGSIZE);
	hdr_bytes(b, 1, THAW_MSG_INVOKE, 0, 2, THAW_PROTO_BODY_MAX + 1);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), -EMSGSIZE);
	hdr_bytes(b, 1, THAW_MSG_INVOKE, 0, 0xffffffff, 0xffffffff);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), -EMSGSIZE);

	/* the limits themselves are fine */
	hdr_bytes(b, 1, THAW_MSG_RESULT, 0, THAW_PROTO_META_MAX,
		  THAW_PROTO_BODY_MAX);
	assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), 0);

	/* only INVOKE and RESULT carry a body */
	for (int t = THAW_MSG_PROBE; t <= THAW_MSG_READY; t++) {
		hdr_bytes(b, 1, t, 0, 2, 1);
		assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), -EINVAL);
		hdr_bytes(b, 1, t, 0, 2, 0);
		assert_int_equal(proto__decode_hdr(b, sizeof(b), &h), 0);
	}
}

static void frame_limits(void **state)
{
	struct json_object *m = json_object_new_object();
	struct thaw_msg_hdr h;
	char *out;
	size_t len;

	json_object_object_add(m, "a", json_object_new_string("b/c"));
	assert_int_equal(proto__frame(THAW_MSG_INVOKE, m, 10, &out, &len), 0);
	assert_int_equal(len, THAW_PROTO_HDR_SIZE + strlen("{\"a\":\"b/c\"}"));
	assert_int_equal(proto__decode_hdr(out, len, &h), 0);
	assert_int_equal(h.body_len, 10);
	assert_memory_equal(out + THAW_PROTO_HDR_SIZE, "{\"a\":\"b/c\"}",
			    h.meta_len);
	free(out);
	assert_int_equal(proto__frame(THAW_MSG_INVOKE, m,
				      THAW_PROTO_BODY_MAX + 1, &out, &len),
			 -EMSGSIZE);
	assert_int_equal(proto__frame(THAW_MSG_PROBE, m, 1, &out, &len),
			 -EINVAL);
	json_object_put(m);
}

static struct json_object *meta(const char *s)
{
	char err[160];
	struct json_object *o = proto__parse_meta(s, strlen(s), err,
						  sizeof(err));

	if (!o)
		print_message("# meta refused: %s\n", err);
	return o;
}

static void meta_hostile(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":", "[]", "1", "\"s\"", "null",
		"{} {}", "{}x", "{\"a\":1,}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}",
	};
	char err[160], *big;
	struct json_object *o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		o = proto__parse_meta(bad[i], strlen(bad[i]), err, sizeof(err));
		assert_null(o);
		assert_true(err[0]);
	}
	/* a NUL inside the declared length is not JSON */
	assert_null(proto__parse_meta("{}\0", 3, err, sizeof(err)));
	/* over the limit, whatever it holds */
	big = malloc(THAW_PROTO_META_MAX + 2);
	memset(big, ' ', THAW_PROTO_META_MAX + 1);
	big[0] = '{';
	big[THAW_PROTO_META_MAX] = '}';
	assert_null(proto__parse_meta(big, THAW_PROTO_META_MAX + 1, err,
				      sizeof(err)));
	/* exactly at the limit is fine */
	big[THAW_PROTO_META_MAX - 1] = '}';
	o = proto__parse_meta(big, THAW_PROTO_META_MAX, err, sizeof(err));
	if (!o)
		print_message("# %s\n", err);
	assert_non_null(o);
	json_object_put(o);
	free(big);
}

static int invoke(const char *s, struct thaw_invoke *inv)
{
	struct json_object *o = meta(s);
	char err[160] = "";
	int ret;

	assert_non_null(o);
	ret = proto__invoke_from_meta(o, inv, err, sizeof(err));
	if (ret) {
		assert_true(err[0]);
		print_message("# refused: %s\n", err);
	}
	json_object_put(o);
	return ret;
}

static void invoke_valid(void **state)
{
	struct thaw_invoke inv, back;
	struct json_object *o;
	char err[160];

	assert_int_equal(invoke("{\"request_id\":\"8476a536-e9f4-11e8\","
				"\"deadline_ms\":1542409706888,"
				"\"function_arn\":\"arn:aws:lambda:x\","
				"\"trace_id\":\"Root=1-5;Sampled=1\","
				"\"client_context\":\"e30=\","
				"\"cognito_identity\":\"{}\","
				"\"entropy\":\"00FFa5\","
				"\"realtime_ns\":1700000000000000000,"
				"\"a_future_field\":[1,2,3]}", &inv), 0);
	assert_string_equal(inv.request_id, "8476a536-e9f4-11e8");
	assert_int_equal(inv.deadline_ms, 1542409706888ULL);
	assert_string_equal(inv.function_arn, "arn:aws:lambda:x");
	assert_string_equal(inv.trace_id, "Root=1-5;Sampled=1");
	assert_string_equal(inv.client_context, "e30=");
	assert_string_equal(inv.cognito_identity, "{}");
	assert_int_equal(inv.host.entropy_len, 3);
	assert_memory_equal(inv.host.entropy, "\x00\xff\xa5", 3);
	assert_true(inv.host.has_realtime);
	assert_int_equal(inv.host.realtime_ns, 1700000000000000000LL);

	/* what the host builds, the guest reads back the same */
	o = proto__invoke_to_meta(&inv);
	assert_non_null(o);
	assert_int_equal(proto__invoke_from_meta(o, &back, err, sizeof(err)),
			 0);
	assert_string_equal(back.request_id, inv.request_id);
	assert_int_equal(back.deadline_ms, inv.deadline_ms);
	assert_string_equal(back.trace_id, inv.trace_id);
	assert_int_equal(back.host.entropy_len, 3);
	assert_memory_equal(back.host.entropy, inv.host.entropy, 3);
	assert_int_equal(back.host.realtime_ns, inv.host.realtime_ns);
	json_object_put(o);
	proto__invoke_free(&back);
	proto__invoke_free(&inv);

	/* only the request id is required; optional strings stay NULL */
	assert_int_equal(invoke("{\"request_id\":\"a\",\"trace_id\":null}",
				&inv), 0);
	assert_int_equal(inv.deadline_ms, 0);
	assert_null(inv.function_arn);
	assert_null(inv.trace_id);
	assert_false(inv.host.has_realtime);
	assert_int_equal(inv.host.entropy_len, 0);
	proto__invoke_free(&inv);
}

/*
 * An invoke without a deadline (deadline_ms 0: thaw-init applies the
 * function's timeout) encodes to a meta the guest takes: no deadline_ms
 * rather than 0, which it refuses.  Found by tests/fuzz/proto_fuzz.c.
 */
static void invoke_no_deadline_round_trip(void **state)
{
	struct thaw_invoke inv = { .request_id = "a" }, back;
	struct json_object *o, *v;
	char err[160];

	o = proto__invoke_to_meta(&inv);
	assert_non_null(o);
	assert_false(json_object_object_get_ex(o, "deadline_ms", &v));
	assert_int_equal(proto__invoke_from_meta(o, &back, err, sizeof(err)),
			 0);
	assert_string_equal(back.request_id, "a");
	assert_int_equal(back.deadline_ms, 0);
	json_object_put(o);
	proto__invoke_free(&back);
}

static void invoke_hostile(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"request_id\":1}",
		"{\"request_id\":\"\"}",
		"{\"request_id\":\"a b\"}",
		"{\"request_id\":\"a\\r\\nX-Evil: 1\"}",
		"{\"request_id\":\"a\\u0000b\"}",
		"{\"request_id\":\"caf\\u00e9\"}",
		"{\"request_id\":\"a/b\"}",
		"{\"request_id\":\"a\",\"deadline_ms\":\"1\"}",
		"{\"request_id\":\"a\",\"deadline_ms\":-1}",
		"{\"request_id\":\"a\",\"deadline_ms\":0}",
		"{\"request_id\":\"a\",\"deadline_ms\":1.5}",
		"{\"request_id\":\"a\",\"deadline_ms\":99999999999999999999}",
		"{\"request_id\":\"a\",\"deadline_ms\":-99999999999999999999}",
		"{\"request_id\":\"a\",\"trace_id\":\"x\\ny\"}",
		"{\"request_id\":\"a\",\"trace_id\":\"\\u0001\"}",
		"{\"request_id\":\"a\",\"function_arn\":7}",
		"{\"request_id\":\"a\",\"client_context\":{}}",
		"{\"request_id\":\"a\",\"entropy\":\"abc\"}",
		"{\"request_id\":\"a\",\"entropy\":\"zz\"}",
		"{\"request_id\":\"a\",\"entropy\":12}",
		"{\"request_id\":\"a\",\"realtime_ns\":-5}",
		"{\"request_id\":\"a\",\"realtime_ns\":\"now\"}",
	};
	struct thaw_invoke inv;
	char *s, *p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (invoke(bad[i], &inv) == 0)
			fail_msg("accepted: %s", bad[i]);
	}

	/* a 129-byte request id, a 513-byte entropy, an oversized header */
	s = malloc(2 * THAW_HEADER_VALUE_MAX);
	p = s + sprintf(s, "{\"request_id\":\"");
	memset(p, 'a', THAW_REQUEST_ID_MAX + 1);
	strcpy(p + THAW_REQUEST_ID_MAX + 1, "\"}");
	assert_int_equal(invoke(s, &inv), -EINVAL);
	strcpy(p + THAW_REQUEST_ID_MAX, "\"}");
	assert_int_equal(invoke(s, &inv), 0);
	proto__invoke_free(&inv);

	p = s + sprintf(s, "{\"request_id\":\"a\",\"entropy\":\"");
	memset(p, 'f', 2 * THAW_ENTROPY_MAX + 2);
	strcpy(p + 2 * THAW_ENTROPY_MAX + 2, "\"}");
	assert_int_equal(invoke(s, &inv), -EINVAL);
	strcpy(p + 2 * THAW_ENTROPY_MAX, "\"}");
	assert_int_equal(invoke(s, &inv), 0);
	assert_int_equal(inv.host.entropy_len, THAW_ENTROPY_MAX);
	proto__invoke_free(&inv);

	p = s + sprintf(s, "{\"request_id\":\"a\",\"trace_id\":\"");
	memset(p, 'x', THAW_HEADER_VALUE_MAX + 1);
	strcpy(p + THAW_HEADER_VALUE_MAX + 1, "\"}");
	assert_int_equal(invoke(s, &inv), -EINVAL);
	free(s);
}

static int probe(const char *s, struct thaw_probe *p)
{
	struct json_object *o = meta(s);
	char err[160];
	int ret;

	assert_non_null(o);
	ret = proto__probe_from_meta(o, p, err, sizeof(err));
	json_object_put(o);
	return ret;
}

static void probe_fields(void **state)
{
	struct thaw_probe p, back;
	struct json_object *o;
	char err[160];

	assert_int_equal(probe("{}", &p), 0);
	assert_int_equal(p.random_bytes, 0);
	assert_int_equal(probe("{\"random_bytes\":256,\"entropy\":\"01\"}",
			       &p), 0);
	assert_int_equal(p.random_bytes, 256);
	assert_int_equal(p.host.entropy_len, 1);
	o = proto__probe_to_meta(&p);
	assert_int_equal(proto__probe_from_meta(o, &back, err, sizeof(err)),
			 0);
	assert_int_equal(back.random_bytes, 256);
	json_object_put(o);

	assert_int_equal(probe("{\"random_bytes\":257}", &p), -EINVAL);
	assert_int_equal(probe("{\"random_bytes\":-1}", &p), -EINVAL);
	assert_int_equal(probe("{\"random_bytes\":\"8\"}", &p), -EINVAL);
	assert_int_equal(probe("{\"entropy\":\"0\"}", &p), -EINVAL);
}

static void result_fields(void **state)
{
	struct thaw_result r = {
		.status = THAW_STATUS_FUNCTION_ERROR,
	}, back;
	struct json_object *o;
	char err[160];

	strcpy(r.request_id, "id-1");
	strcpy(r.error_type, "Runtime.ExitError");
	o = proto__result_to_meta(&r);
	assert_int_equal(proto__result_from_meta(o, &back, err, sizeof(err)),
			 0);
	assert_int_equal(back.status, THAW_STATUS_FUNCTION_ERROR);
	assert_string_equal(back.request_id, "id-1");
	assert_string_equal(back.error_type, "Runtime.ExitError");
	json_object_put(o);

	for (int s = 0; s < THAW_STATUS_COUNT; s++)
		assert_int_equal(proto__status_from_name(
					 proto__status_name(s)), s);
	assert_string_equal(proto__status_name(THAW_STATUS_COUNT), "unknown");

	static const char *const bad[] = {
		"{}", "{\"status\":\"fine\"}", "{\"status\":1}",
		"{\"status\":\"ok\",\"request_id\":\"a b\"}",
		"{\"status\":\"ok\",\"error_type\":\"a\\nb\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = meta(bad[i]);
		if (!proto__result_from_meta(o, &back, err, sizeof(err)))
			fail_msg("accepted: %s", bad[i]);
		json_object_put(o);
	}
}

static void hex(void **state)
{
	uint8_t out[4];
	char s[9];

	assert_int_equal(proto__hex_decode("", 0, out, 4), 0);
	assert_int_equal(proto__hex_decode("0aFf", 4, out, 4), 2);
	assert_memory_equal(out, "\x0a\xff", 2);
	assert_int_equal(proto__hex_decode("0aF", 3, out, 4), -EINVAL);
	assert_int_equal(proto__hex_decode("0g", 2, out, 4), -EINVAL);
	assert_int_equal(proto__hex_decode("0a0b0c0d0e", 10, out, 4),
			 -EINVAL);
	proto__hex_encode((const uint8_t *)"\x01\xab\xff\x00", 4, s);
	assert_string_equal(s, "01abff00");
}

static void names(void **state)
{
	char id[THAW_REQUEST_ID_MAX + 2];

	assert_true(proto__valid_request_id("A-z_0.9:x", 9));
	assert_false(proto__valid_request_id("", 0));
	assert_false(proto__valid_request_id("a\"b", 3));
	memset(id, 'a', sizeof(id));
	assert_true(proto__valid_request_id(id, THAW_REQUEST_ID_MAX));
	assert_false(proto__valid_request_id(id, THAW_REQUEST_ID_MAX + 1));
	assert_true(proto__valid_error_type("Function.Error X", 16));
	assert_false(proto__valid_error_type("a\x7f", 2));
	assert_true(proto__valid_header_value("", 0, 4));
	assert_false(proto__valid_header_value("abcde", 5, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_round_trip),
		cmocka_unit_test(header_hostile),
		cmocka_unit_test(frame_limits),
		cmocka_unit_test(meta_hostile),
		cmocka_unit_test(invoke_valid),
		cmocka_unit_test(invoke_no_deadline_round_trip),
		cmocka_unit_test(invoke_hostile),
		cmocka_unit_test(probe_fields),
		cmocka_unit_test(result_fields),
		cmocka_unit_test(hex),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
