/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What MMDS answers the guest, as Firecracker's metadata service does:
 * an HTTP request's parts in, status, content type and body out.  No
 * HTTP here (vmm/mmds/mmds.c serves it with libmicrohttpd), so the unit
 * tests drive every rule:
 *
 *  - PUT /latest/api/token with X-metadata-token-ttl-seconds (1 to
 *    21600) answers a new session token (text/plain); without the header,
 *    with a bad value or with X-Forwarded-For (a request relayed by a
 *    proxy in the guest) it is 400; a PUT to any other path is 404.
 *  - GET /PATH answers the data store's value at PATH: JSON when the
 *    request accepts application/json and imds_compat is off, else EC2
 *    IMDS's text (vmm/mmds/store.h); 404 when there is no such key.
 *    Version 2 refuses a GET without X-metadata-token, or with a token
 *    that is not valid (expired, or never issued), with 401; version 1
 *    answers a GET without a token, and checks one that is there.
 *  - Any other method is 405, with Allow: GET, PUT.
 */
#ifndef THAW_VMM_MMDS_HTTP_H
#define THAW_VMM_MMDS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmds_store;
struct mmds_tokens;

enum mmds_version {
	MMDS_V1 = 1,
	MMDS_V2 = 2,
};

struct mmds_http {
	struct mmds_store *store;
	struct mmds_tokens *tokens;
	enum mmds_version version;
	bool imds_compat;
};

/* A request's parts; a header that is absent is NULL. */
struct mmds_request {
	const char *method;
	const char *path;
	const char *accept;
	const char *token;		/* X-metadata-token */
	const char *ttl;		/* X-metadata-token-ttl-seconds */
	const char *forwarded_for;	/* X-Forwarded-For */
};

struct mmds_response {
	unsigned int status;
	const char *content_type;	/* static text */
	const char *allow;		/* 405's Allow header, else NULL */
	char *body;			/* malloc'd; mmds_response__free() */
	size_t len;
};

/* Answer @rq at @now_ns (CLOCK_MONOTONIC); *@rs is filled in. */
void mmds_http__handle(struct mmds_http *h, const struct mmds_request *rq,
		       uint64_t now_ns, struct mmds_response *rs);
void mmds_response__free(struct mmds_response *rs);

#endif
