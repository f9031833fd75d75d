// SPDX-License-Identifier: GPL-2.0
/* The Lambda Runtime API's routes and bodies (lambda.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tools/guest/lambda.h"

#define INVOCATION	"invocation/"

enum lambda_route lambda__route(enum lambda_method method, const char *uri,
				char *id)
{
	size_t plen = strlen(LAMBDA_API_PREFIX), len, idlen;
	const char *path = uri, *rest, *slash;
	enum lambda_route route;

	id[0] = '\0';
	len = strcspn(path, "?#");
	if (len < plen || memcmp(path, LAMBDA_API_PREFIX, plen))
		return LAMBDA_NOT_FOUND;
	rest = path + plen;
	len -= plen;

	if (len == strlen("init/error") && !memcmp(rest, "init/error", len))
		return method == LAMBDA_POST ? LAMBDA_INIT_ERROR :
			LAMBDA_BAD_METHOD;
	if (len == strlen("restore/next") && !memcmp(rest, "restore/next", len))
		return method == LAMBDA_GET ? LAMBDA_RESTORE_NEXT :
			LAMBDA_BAD_METHOD;
	if (len == strlen("restore/error") &&
	    !memcmp(rest, "restore/error", len))
		return method == LAMBDA_POST ? LAMBDA_RESTORE_ERROR :
			LAMBDA_BAD_METHOD;
	if (len < strlen(INVOCATION) ||
	    memcmp(rest, INVOCATION, strlen(INVOCATION)))
		return LAMBDA_NOT_FOUND;
	rest += strlen(INVOCATION);
	len -= strlen(INVOCATION);
	if (len == strlen("next") && !memcmp(rest, "next", len))
		return method == LAMBDA_GET ? LAMBDA_NEXT : LAMBDA_BAD_METHOD;

	/* {id}/response or {id}/error: the id is everything to the last / */
	slash = memrchr(rest, '/', len);
	if (!slash)
		return LAMBDA_NOT_FOUND;
	idlen = slash - rest;
	if (len - idlen - 1 == strlen("response") &&
	    !memcmp(slash + 1, "response", strlen("response")))
		route = LAMBDA_RESPONSE;
	else if (len - idlen - 1 == strlen("error") &&
		 !memcmp(slash + 1, "error", strlen("error")))
		route = LAMBDA_ERROR;
	else
		return LAMBDA_NOT_FOUND;
	if (method != LAMBDA_POST)
		return LAMBDA_BAD_METHOD;
	if (proto__valid_request_id(rest, idlen)) {
		memcpy(id, rest, idlen);
		id[idlen] = '\0';
	}
	return route;
}

char *lambda__error_body(const char *type, const char *message)
{
	struct json_object *o = json_object_new_object();
	char *s = NULL;

	if (!o)
		return NULL;
	if (!json_object_object_add(o, "errorMessage",
				    json_object_new_string(message)) &&
	    !json_object_object_add(o, "errorType",
				    json_object_new_string(type)))
		s = strdup(json_object_to_json_string_ext(o,
						THAW_JSON_FLAGS));
	json_object_put(o);
	return s;
}

void lambda__error_type(const char *header, const char *body, size_t len,
			char *out)
{
	struct json_tokener *tok;
	struct json_object *o, *t;

	if (header && *header &&
	    proto__valid_error_type(header, strlen(header))) {
		strcpy(out, header);
		return;
	}
	strcpy(out, "Unhandled");
	if (!body || !len)
		return;
	tok = json_tokener_new_ex(4);
	if (!tok)
		return;
	o = json_tokener_parse_ex(tok, body, len);
	if (o && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "errorType", &t) &&
	    json_object_is_type(t, json_type_string) &&
	    json_object_get_string_len(t) > 0 &&
	    proto__valid_error_type(json_object_get_string(t),
				    json_object_get_string_len(t)) &&
	    strlen(json_object_get_string(t)) ==
	    (size_t)json_object_get_string_len(t))
		strcpy(out, json_object_get_string(t));
	json_object_put(o);
	json_tokener_free(tok);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

int lambda__trace_id(uint64_t now_s, const uint8_t rnd[LAMBDA_TRACE_RANDOM],
		     char *out, size_t len)
{
	char root[25], parent[17];
	int n;

	hex(rnd, 12, root);
	hex(rnd + 12, 8, parent);
	n = snprintf(out, len, "Root=1-%08x-%s;Parent=%s;Sampled=0",
		     (unsigned int)now_s, root, parent);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
