/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The AWS Lambda Runtime API (version 2018-06-01) as pure logic: which
 * route a request is, and the JSON bodies the API answers with.  The HTTP
 * server itself is runtime_api.c.
 */
#ifndef THAW_GUEST_LAMBDA_H
#define THAW_GUEST_LAMBDA_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define LAMBDA_API_PREFIX	"/2018-06-01/runtime/"

enum lambda_route {
	LAMBDA_NOT_FOUND,		/* 404 */
	LAMBDA_BAD_METHOD,		/* 405 */
	LAMBDA_NEXT,			/* GET  invocation/next */
	LAMBDA_RESPONSE,		/* POST invocation/{id}/response */
	LAMBDA_ERROR,			/* POST invocation/{id}/error */
	LAMBDA_INIT_ERROR,		/* POST init/error */
	LAMBDA_RESTORE_NEXT,		/* GET  restore/next (SnapStart) */
	LAMBDA_RESTORE_ERROR,		/* POST restore/error (SnapStart) */
};

enum lambda_method { LAMBDA_GET, LAMBDA_POST, LAMBDA_OTHER };

/*
 * Route @uri (path with an optional query, as the request line has it).
 * For RESPONSE and ERROR the request id is copied into @id (at least
 * THAW_REQUEST_ID_MAX + 1 bytes); an id that cannot be valid routes to
 * LAMBDA_RESPONSE/ERROR with @id empty, so that the caller answers 400 as
 * Lambda does rather than 404.
 */
enum lambda_route lambda__route(enum lambda_method method, const char *uri,
				char *id);

/*
 * {"errorMessage": @message, "errorType": @type} as a malloc'd string, or
 * NULL on allocation failure.
 */
char *lambda__error_body(const char *type, const char *message);

/*
 * The error type of a function error: the Lambda-Runtime-Function-Error-
 * Type header when valid, else the body's "errorType" member when the body
 * is a JSON object with a valid one, else "Unhandled".  Copied into @out
 * (THAW_ERROR_TYPE_MAX + 1 bytes).
 */
void lambda__error_type(const char *header, const char *body, size_t len,
			char *out);

/*
 * An X-Ray trace header as Lambda hands one to every invocation when the
 * caller sent none: "Root=1-{@now_s, 8 hex}-{24 hex};Parent={16 hex};
 * Sampled=0", the hex digits from @rnd.  Returns the length, or -ENOSPC.
 */
#define LAMBDA_TRACE_RANDOM	20
int lambda__trace_id(uint64_t now_s, const uint8_t rnd[LAMBDA_TRACE_RANDOM],
		     char *out, size_t len);

#endif
