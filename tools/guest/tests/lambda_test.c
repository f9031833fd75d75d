// SPDX-License-Identifier: GPL-2.0
/*
 * The Lambda Runtime API's routing and bodies (tools/guest/lambda.c), with
 * hostile paths and error bodies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/guest/lambda.h"

#define P LAMBDA_API_PREFIX

static enum lambda_route route(enum lambda_method m, const char *uri,
			       char *id)
{
	return lambda__route(m, uri, id);
}

static void routes(void **state)
{
	char id[THAW_REQUEST_ID_MAX + 1];

	assert_int_equal(route(LAMBDA_GET, P "invocation/next", id),
			 LAMBDA_NEXT);
	assert_int_equal(route(LAMBDA_GET, P "invocation/next?x=1", id),
			 LAMBDA_NEXT);
	assert_int_equal(route(LAMBDA_POST, P "invocation/next", id),
			 LAMBDA_BAD_METHOD);
	assert_int_equal(route(LAMBDA_POST, P "invocation/8476a536-e9f4/response",
			       id), LAMBDA_RESPONSE);
	assert_string_equal(id, "8476a536-e9f4");
	assert_int_equal(route(LAMBDA_POST, P "invocation/abc/error", id),
			 LAMBDA_ERROR);
	assert_string_equal(id, "abc");
	assert_int_equal(route(LAMBDA_GET, P "invocation/abc/error", id),
			 LAMBDA_BAD_METHOD);
	assert_int_equal(route(LAMBDA_POST, P "init/error", id),
			 LAMBDA_INIT_ERROR);
	assert_int_equal(route(LAMBDA_OTHER, P "init/error", id),
			 LAMBDA_BAD_METHOD);
	/* SnapStart's restore hooks */
	assert_int_equal(route(LAMBDA_GET, P "restore/next", id),
			 LAMBDA_RESTORE_NEXT);
	assert_int_equal(route(LAMBDA_POST, P "restore/next", id),
			 LAMBDA_BAD_METHOD);
	assert_int_equal(route(LAMBDA_POST, P "restore/error", id),
			 LAMBDA_RESTORE_ERROR);
	assert_int_equal(route(LAMBDA_GET, P "restore/error", id),
			 LAMBDA_BAD_METHOD);
	assert_int_equal(route(LAMBDA_GET, P "restore/nextx", id),
			 LAMBDA_NOT_FOUND);
	assert_int_equal(route(LAMBDA_GET, P "restore/", id),
			 LAMBDA_NOT_FOUND);
}

static void trace_ids(void **state)
{
	uint8_t rnd[LAMBDA_TRACE_RANDOM];
	char out[96];

	for (int i = 0; i < LAMBDA_TRACE_RANDOM; i++)
		rnd[i] = 0x10 + i;
	assert_int_equal(lambda__trace_id(0x5e1b4151, rnd, out, sizeof(out)),
			 74);
	assert_string_equal(out,
		"Root=1-5e1b4151-101112131415161718191a1b;Parent=1c1d1e1f20212223;Sampled=0");
	assert_int_equal(lambda__trace_id(1, rnd, out, 74), -ENOSPC);
}

static void routes_hostile(void **state)
{
	static const char *const not_found[] = {
		"", "/", "/2018-06-01", P, P "invocation", P "invocation/",
		P "invocation/nextx", P "invocation/next/", P "init/error/",
		P "invocation/abc", P "invocation/abc/respond",
		P "invocation/abc/response/", P "invocation/../next",
		"/2020-01-01/extension/register", "/2018-06-01/runtime//next",
		"//2018-06-01/runtime/invocation/next",
	};
	char id[THAW_REQUEST_ID_MAX + 1], *uri;

	for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
		id[0] = 'x';
		if (route(LAMBDA_POST, not_found[i], id) != LAMBDA_NOT_FOUND)
			fail_msg("routed: %s", not_found[i]);
		assert_int_equal(id[0], '\0');
	}
	/* an id that cannot be valid routes with an empty id (400) */
	static const char *const bad_ids[] = {
		P "invocation//response", P "invocation/a b/response",
		P "invocation/a/b/response", P "invocation/%41/response",
		P "invocation/a\r\n/error",
	};
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		assert_int_not_equal(route(LAMBDA_POST, bad_ids[i], id),
				     LAMBDA_NOT_FOUND);
		assert_string_equal(id, "");
	}
	/* an id one byte too long */
	uri = malloc(strlen(P) + THAW_REQUEST_ID_MAX + 64);
	strcpy(uri, P "invocation/");
	memset(uri + strlen(uri), 'a', THAW_REQUEST_ID_MAX + 1);
	strcpy(uri + strlen(P "invocation/") + THAW_REQUEST_ID_MAX + 1,
	       "/response");
	assert_int_equal(route(LAMBDA_POST, uri, id), LAMBDA_RESPONSE);
	assert_string_equal(id, "");
	strcpy(uri + strlen(P "invocation/") + THAW_REQUEST_ID_MAX,
	       "/response");
	assert_int_equal(route(LAMBDA_POST, uri, id), LAMBDA_RESPONSE);
	assert_int_equal(strlen(id), THAW_REQUEST_ID_MAX);
	free(uri);
}

static void error_bodies(void **state)
{
	char *b = lambda__error_body("T.x", "say \"hi\"/\n");

	assert_string_equal(b, "{\"errorMessage\":\"say \\\"hi\\\"/\\n\","
			    "\"errorType\":\"T.x\"}");
	free(b);
}

static void error_types(void **state)
{
	char out[THAW_ERROR_TYPE_MAX + 1], big[300];
	const char *body = "{\"errorMessage\":\"m\",\"errorType\":\"Body.Type\"}";

	lambda__error_type("Header.Type", body, strlen(body), out);
	assert_string_equal(out, "Header.Type");
	lambda__error_type(NULL, body, strlen(body), out);
	assert_string_equal(out, "Body.Type");
	lambda__error_type("", body, strlen(body), out);
	assert_string_equal(out, "Body.Type");
	lambda__error_type("bad\x01", body, strlen(body), out);
	assert_string_equal(out, "Body.Type");
	lambda__error_type(NULL, "not json", 8, out);
	assert_string_equal(out, "Unhandled");
	lambda__error_type(NULL, "{\"errorType\":5}", 15, out);
	assert_string_equal(out, "Unhandled");
	lambda__error_type(NULL, "{\"errorType\":\"a\\u0000b\"}", 24, out);
	assert_string_equal(out, "Unhandled");
	lambda__error_type(NULL, "[\"errorType\"]", 13, out);
	assert_string_equal(out, "Unhandled");
	lambda__error_type(NULL, NULL, 0, out);
	assert_string_equal(out, "Unhandled");
	/* a body cut short (thaw-init looks at its start only) */
	lambda__error_type(NULL, body, 10, out);
	assert_string_equal(out, "Unhandled");
	/* an error type longer than the limit, in the header or the body */
	memset(big, 'T', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	lambda__error_type(big, NULL, 0, out);
	assert_string_equal(out, "Unhandled");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes),
		cmocka_unit_test(trace_ids),
		cmocka_unit_test(routes_hostile),
		cmocka_unit_test(error_bodies),
		cmocka_unit_test(error_types),
	};

	return cmocka_run_group_tests_name("guest_lambda", tests, NULL, NULL);
}
