/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A client of thawvm's HTTP API on its Unix socket
 * (Documentation/admin-guide/api.rst), with libcurl.
 *
 * How to use:
 *
 *	thawvm_api__global_init();		(once, before any thread)
 *	struct json_object *body = ...;		(or NULL: no body)
 *	ret = thawvm_api__call(sock, "PUT", "/snapshot/load", body, 60000,
 *			       &r, err, sizeof(err));
 *	ret: 0 when the request was answered at all (any status), -errno
 *	when it was not (no socket, connection refused or reset, timeout).
 *	r.status, r.body (NUL-terminated, "" when empty), r.json (parsed
 *	when the body is JSON, else NULL), r.fault (fault_message or "").
 *	thawvm_api__resp_free(&r);
 *
 * thawvm_api__do() is the common case: 2xx is 0, anything else -EIO with
 * "METHOD PATH: STATUS fault_message" in @err.
 */
#ifndef THAW_TOOLS_LIB_THAWVM_API_H
#define THAW_TOOLS_LIB_THAWVM_API_H

#include <stddef.h>

struct json_object;

/* Answers longer than this are cut off and the call fails (-EMSGSIZE). */
#define THAWVM_API_BODY_MAX		(1u << 20)

struct thawvm_api_resp {
	long status;			/* HTTP status, 0 if none */
	char *body;			/* malloc'd, NUL-terminated */
	size_t body_len;
	struct json_object *json;	/* the parsed body, or NULL */
	const char *fault;		/* "fault_message", else "" */
};

int thawvm_api__global_init(void);

int thawvm_api__call(const char *sock, const char *method, const char *path,
		     struct json_object *body, long timeout_ms,
		     struct thawvm_api_resp *r, char *err, size_t errlen);
/* The same with a body given as text (sent as it is). */
int thawvm_api__call_text(const char *sock, const char *method,
			  const char *path, const char *body, long timeout_ms,
			  struct thawvm_api_resp *r, char *err, size_t errlen);
void thawvm_api__resp_free(struct thawvm_api_resp *r);

/* 0 on a 2xx answer; -EIO with the status and fault message otherwise. */
int thawvm_api__do(const char *sock, const char *method, const char *path,
		   struct json_object *body, long timeout_ms, char *err,
		   size_t errlen);

#endif
