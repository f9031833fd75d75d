// SPDX-License-Identifier: GPL-2.0
/* MMDS's answers to the guest: see http.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/mmds/http.h"
#include "vmm/mmds/store.h"
#include "vmm/mmds/token.h"

#define TOKEN_PATH	"/latest/api/token"
#define TEXT		"text/plain"
#define JSON		"application/json"

static void answer(struct mmds_response *rs, unsigned int status,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void answer(struct mmds_response *rs, unsigned int status,
		   const char *fmt, ...)
{
	va_list ap;
	int n;

	rs->status = status;
	rs->content_type = TEXT;
	va_start(ap, fmt);
	n = vasprintf(&rs->body, fmt, ap);
	va_end(ap);
	if (n < 0) {
		rs->status = 500;
		rs->body = NULL;
		n = 0;
	}
	rs->len = n;
}

/* A TTL header: its value in 1..21600, or 0. */
static uint32_t ttl_of(const char *s)
{
	unsigned long v = 0;
	const char *p = s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > MMDS_TOKEN_TTL_MAX)
			return 0;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	return *p || v < MMDS_TOKEN_TTL_MIN ? 0 : v;
}

static void put_token(struct mmds_http *h, const struct mmds_request *rq,
		      uint64_t now_ns, struct mmds_response *rs)
{
	char token[MMDS_TOKEN_LEN + 1];
	uint32_t ttl;
	int ret;

	if (strcmp(rq->path, TOKEN_PATH)) {
		answer(rs, 404, "Resource not found: %s.", rq->path);
		return;
	}
	if (rq->forwarded_for) {
		answer(rs, 400,
		       "Invalid header. Reason: Unsupported header name. Key: X-Forwarded-For");
		return;
	}
	if (!rq->ttl) {
		answer(rs, 400,
		       "Token time to live value not found. Use `X-metadata-token-ttl-seconds` header to specify the token's lifetime.");
		return;
	}
	ttl = ttl_of(rq->ttl);
	if (!ttl) {
		answer(rs, 400,
		       "Invalid time to live value provided for token: %.32s. Please provide a value between %d and %d.",
		       rq->ttl, MMDS_TOKEN_TTL_MIN, MMDS_TOKEN_TTL_MAX);
		return;
	}
	ret = mmds_tokens__new(h->tokens, ttl, now_ns, token);
	if (ret) {
		answer(rs, 500, "Cannot make a token: %s", strerror(-ret));
		return;
	}
	answer(rs, 200, "%s", token);
}

static bool wants_json(const struct mmds_http *h, const struct mmds_request *rq)
{
	return !h->imds_compat && rq->accept && strstr(rq->accept, JSON);
}

static void get_value(struct mmds_http *h, const struct mmds_request *rq,
		      uint64_t now_ns, struct mmds_response *rs)
{
	bool json = wants_json(h, rq);
	int ret;

	if (!rq->token && h->version == MMDS_V2) {
		answer(rs, 401,
		       "No MMDS token provided. Use `X-metadata-token` header to specify the session token.");
		return;
	}
	if (rq->token && !mmds_tokens__valid(h->tokens, rq->token, now_ns)) {
		answer(rs, 401, "MMDS token not valid.");
		return;
	}
	ret = mmds_store__lookup(h->store, rq->path, json, &rs->body, &rs->len);
	switch (ret) {
	case 0:
		rs->status = 200;
		rs->content_type = json ? JSON : TEXT;
		return;
	case -ENOENT:
		answer(rs, 404, "Resource not found: %s.", rq->path);
		return;
	case -EOPNOTSUPP:
		answer(rs, 501,
		       "Cannot retrieve value. The value has an unsupported type.");
		return;
	default:
		answer(rs, 500, "%s", strerror(-ret));
	}
}

void mmds_http__handle(struct mmds_http *h, const struct mmds_request *rq,
		       uint64_t now_ns, struct mmds_response *rs)
{
	memset(rs, 0, sizeof(*rs));
	if (!strcmp(rq->method, "PUT")) {
		put_token(h, rq, now_ns, rs);
	} else if (!strcmp(rq->method, "GET")) {
		get_value(h, rq, now_ns, rs);
	} else {
		answer(rs, 405, "Not allowed HTTP method.");
		rs->allow = "GET, PUT";
	}
}

void mmds_response__free(struct mmds_response *rs)
{
	free(rs->body);
	rs->body = NULL;
}
