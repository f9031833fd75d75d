// SPDX-License-Identifier: GPL-2.0
/*
 * The invocation protocol: header framing and the meta objects of each
 * message type (see proto.h).  Every length and field that arrives is
 * checked; a bad one is an error with a reason, never a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "proto/proto.h"

static const char proto_magic[4] = { 'T', 'H', 'A', 'W' };

/* Deep enough for our objects; a hostile peer cannot recurse further. */
#define PROTO_JSON_DEPTH	8

static const char *const status_names[THAW_STATUS_COUNT] = {
	[THAW_STATUS_OK] = "ok",
	[THAW_STATUS_FUNCTION_ERROR] = "function_error",
	[THAW_STATUS_INIT_ERROR] = "init_error",
	[THAW_STATUS_TIMEOUT] = "timeout",
	[THAW_STATUS_REJECTED] = "rejected",
};

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool type_has_body(uint8_t type)
{
	return type == THAW_MSG_INVOKE || type == THAW_MSG_RESULT;
}

int proto__decode_hdr(const void *buf, size_t len, struct thaw_msg_hdr *hdr)
{
	const uint8_t *p = buf;

	if (len < THAW_PROTO_HDR_SIZE)
		return -EAGAIN;
	if (memcmp(p, proto_magic, sizeof(proto_magic)))
		return -EPROTO;
	hdr->version = p[4];
	hdr->type = p[5];
	hdr->flags = p[6] | p[7] << 8;
	hdr->meta_len = get_le32(p + 8);
	hdr->body_len = get_le32(p + 12);
	if (hdr->version != THAW_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (hdr->flags)
		return -EPROTO;
	if (hdr->type < THAW_MSG_INVOKE || hdr->type > THAW_MSG_READY)
		return -EINVAL;
	if (hdr->meta_len > THAW_PROTO_META_MAX ||
	    hdr->body_len > THAW_PROTO_BODY_MAX)
		return -EMSGSIZE;
	if (hdr->body_len && !type_has_body(hdr->type))
		return -EINVAL;
	return 0;
}

void proto__encode_hdr(void *buf, const struct thaw_msg_hdr *hdr)
{
	uint8_t *p = buf;

	memcpy(p, proto_magic, sizeof(proto_magic));
	p[4] = hdr->version;
	p[5] = hdr->type;
	p[6] = hdr->flags;
	p[7] = hdr->flags >> 8;
	put_le32(p + 8, hdr->meta_len);
	put_le32(p + 12, hdr->body_len);
}

int proto__frame(uint8_t type, struct json_object *meta, size_t body_len,
		 char **out, size_t *out_len)
{
	struct thaw_msg_hdr hdr = {
		.version = THAW_PROTO_VERSION,
		.type = type,
	};
	const char *s;
	size_t slen;
	char *buf;

	s = json_object_to_json_string_length(meta, THAW_JSON_FLAGS, &slen);
	if (!s)
		return -ENOMEM;
	if (slen > THAW_PROTO_META_MAX || body_len > THAW_PROTO_BODY_MAX)
		return -EMSGSIZE;
	if (body_len && !type_has_body(type))
		return -EINVAL;
	hdr.meta_len = slen;
	hdr.body_len = body_len;
	buf = malloc(THAW_PROTO_HDR_SIZE + slen);
	if (!buf)
		return -ENOMEM;
	proto__encode_hdr(buf, &hdr);
	memcpy(buf + THAW_PROTO_HDR_SIZE, s, slen);
	*out = buf;
	*out_len = THAW_PROTO_HDR_SIZE + slen;
	return 0;
}

struct json_object *proto__parse_meta(const char *meta, size_t len,
				      char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;

	if (len > THAW_PROTO_META_MAX) {
		snprintf(err, errlen, "meta is %zu bytes, over %d", len,
			 THAW_PROTO_META_MAX);
		return NULL;
	}
	tok = json_tokener_new_ex(PROTO_JSON_DEPTH);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, meta, len);
	jerr = json_tokener_get_error(tok);
	if (!obj || jerr != json_tokener_success) {
		snprintf(err, errlen, "meta is not valid JSON: %s",
			 jerr == json_tokener_continue ? "truncated" :
			 json_tokener_error_desc(jerr));
		json_object_put(obj);
		obj = NULL;
	} else if ((size_t)json_tokener_get_parse_end(tok) != len) {
		snprintf(err, errlen, "meta has bytes after its JSON object");
		json_object_put(obj);
		obj = NULL;
	} else if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "meta is not a JSON object");
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

bool proto__valid_request_id(const char *s, size_t len)
{
	if (len < 1 || len > THAW_REQUEST_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == ':' || c == '-'))
			return false;
	}
	return true;
}

bool proto__valid_header_value(const char *s, size_t len, size_t max)
{
	if (len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

bool proto__valid_error_type(const char *s, size_t len)
{
	return proto__valid_header_value(s, len, THAW_ERROR_TYPE_MAX);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int proto__hex_decode(const char *hex, size_t len, uint8_t *out, size_t max)
{
	if (len % 2 || len / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i / 2] = hi << 4 | lo;
	}
	return len / 2;
}

void proto__hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

const char *proto__status_name(enum thaw_status status)
{
	if ((unsigned int)status >= THAW_STATUS_COUNT)
		return "unknown";
	return status_names[status];
}

int proto__status_from_name(const char *name)
{
	for (int i = 0; i < THAW_STATUS_COUNT; i++)
		if (!strcmp(name, status_names[i]))
			return i;
	return -EINVAL;
}

/* A string member, or -ENOENT if absent; wrong type is -EINVAL. */
static int get_string(struct json_object *meta, const char *key,
		      const char **s, size_t *len, char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(meta, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_string))
		return err__set(err, errlen, -EINVAL, "'%s' must be a string",
				key);
	*s = json_object_get_string(v);
	*len = json_object_get_string_len(v);
	/* An embedded NUL would make the C string differ from the JSON one. */
	if (strlen(*s) != *len)
		return err__set(err, errlen, -EINVAL,
				"'%s' contains a NUL byte", key);
	return 0;
}

/* An integer member in [min, max], or -ENOENT if absent. */
static int get_int(struct json_object *meta, const char *key, int64_t min,
		   int64_t max, int64_t *out, char *err, size_t errlen)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(meta, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_int))
		return err__set(err, errlen, -EINVAL, "'%s' must be an integer",
				key);
	errno = 0;
	n = json_object_get_int64(v);
	/*
	 * json-c saturates numbers out of the int64 range, sometimes without
	 * a word in errno: a saturated value is out of range too.
	 */
	if (errno || n == INT64_MAX || n == INT64_MIN || n < min || n > max)
		return err__set(err, errlen, -ERANGE,
				"'%s' is out of range [%lld, %lld]", key,
				(long long)min, (long long)max);
	*out = n;
	return 0;
}

static int get_header_string(struct json_object *meta, const char *key,
			     char **out, char *err, size_t errlen)
{
	const char *s;
	size_t len;
	int ret;

	ret = get_string(meta, key, &s, &len, err, errlen);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (!proto__valid_header_value(s, len, THAW_HEADER_VALUE_MAX))
		return err__set(err, errlen, -EINVAL,
				"'%s' must be printable ASCII of at most %d bytes",
				key, THAW_HEADER_VALUE_MAX);
	*out = strdup(s);
	if (!*out)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	return 0;
}

static int get_host_state(struct json_object *meta, struct thaw_host_state *hs,
			  char *err, size_t errlen)
{
	const char *s;
	size_t len;
	int64_t ns;
	int ret;

	memset(hs, 0, sizeof(*hs));
	ret = get_int(meta, "realtime_ns", 1, INT64_MAX, &ns, err, errlen);
	if (ret == 0) {
		hs->has_realtime = true;
		hs->realtime_ns = ns;
	} else if (ret != -ENOENT) {
		return ret;
	}
	ret = get_string(meta, "entropy", &s, &len, err, errlen);
	if (ret == 0) {
		ret = proto__hex_decode(s, len, hs->entropy,
					sizeof(hs->entropy));
		if (ret < 0)
			return err__set(err, errlen, ret,
					"'entropy' must be hex of at most %d bytes",
					THAW_ENTROPY_MAX);
		hs->entropy_len = ret;
	} else if (ret != -ENOENT) {
		return ret;
	}
	return 0;
}

static int put_host_state(struct json_object *meta,
			  const struct thaw_host_state *hs)
{
	char hex[2 * THAW_ENTROPY_MAX + 1];
	size_t n = hs->entropy_len;

	if (n > THAW_ENTROPY_MAX)
		n = THAW_ENTROPY_MAX;
	if (hs->has_realtime &&
	    json_object_object_add(meta, "realtime_ns",
				   json_object_new_int64(hs->realtime_ns)))
		return -ENOMEM;
	if (n) {
		proto__hex_encode(hs->entropy, n, hex);
		if (json_object_object_add(meta, "entropy",
					   json_object_new_string(hex)))
			return -ENOMEM;
	}
	return 0;
}

void proto__invoke_free(struct thaw_invoke *inv)
{
	free(inv->function_arn);
	free(inv->trace_id);
	free(inv->client_context);
	free(inv->cognito_identity);
	inv->function_arn = inv->trace_id = NULL;
	inv->client_context = inv->cognito_identity = NULL;
}

int proto__invoke_from_meta(struct json_object *meta, struct thaw_invoke *inv,
			    char *err, size_t errlen)
{
	const char *s;
	size_t len;
	int64_t n;
	int ret;

	memset(inv, 0, sizeof(*inv));
	ret = get_string(meta, "request_id", &s, &len, err, errlen);
	if (ret == -ENOENT)
		snprintf(err, errlen, "'request_id' is missing");
	if (ret)
		return -EINVAL;
	if (!proto__valid_request_id(s, len))
		return err__set(err, errlen, -EINVAL,
				"'request_id' must be 1..%d of [A-Za-z0-9._:-]",
				THAW_REQUEST_ID_MAX);
	memcpy(inv->request_id, s, len + 1);

	/* Optional: thaw-init applies the function's timeout without it. */
	ret = get_int(meta, "deadline_ms", 1, THAW_DEADLINE_MAX, &n, err,
		      errlen);
	if (ret && ret != -ENOENT)
		return -EINVAL;
	inv->deadline_ms = ret ? 0 : n;

	ret = get_header_string(meta, "function_arn", &inv->function_arn,
				err, errlen);
	if (!ret)
		ret = get_header_string(meta, "trace_id", &inv->trace_id,
					err, errlen);
	if (!ret)
		ret = get_header_string(meta, "client_context",
					&inv->client_context, err, errlen);
	if (!ret)
		ret = get_header_string(meta, "cognito_identity",
					&inv->cognito_identity, err, errlen);
	if (!ret)
		ret = get_host_state(meta, &inv->host, err, errlen);
	if (ret) {
		proto__invoke_free(inv);
		return ret == -ENOMEM ? ret : -EINVAL;
	}
	return 0;
}

static int add_string(struct json_object *meta, const char *key,
		      const char *value)
{
	if (!value)
		return 0;
	return json_object_object_add(meta, key,
				      json_object_new_string(value)) ?
		-ENOMEM : 0;
}

struct json_object *proto__invoke_to_meta(const struct thaw_invoke *inv)
{
	struct json_object *meta = json_object_new_object();

	if (!meta)
		return NULL;
	/* No deadline is no field: the reader refuses 0. */
	if (add_string(meta, "request_id", inv->request_id) ||
	    (inv->deadline_ms &&
	     json_object_object_add(meta, "deadline_ms",
				    json_object_new_int64(inv->deadline_ms))) ||
	    add_string(meta, "function_arn", inv->function_arn) ||
	    add_string(meta, "trace_id", inv->trace_id) ||
	    add_string(meta, "client_context", inv->client_context) ||
	    add_string(meta, "cognito_identity", inv->cognito_identity) ||
	    put_host_state(meta, &inv->host)) {
		json_object_put(meta);
		return NULL;
	}
	return meta;
}

int proto__probe_from_meta(struct json_object *meta, struct thaw_probe *probe,
			   char *err, size_t errlen)
{
	int64_t n = 0;
	int ret;

	memset(probe, 0, sizeof(*probe));
	ret = get_int(meta, "random_bytes", 0, THAW_PROBE_RANDOM_MAX, &n,
		      err, errlen);
	if (ret && ret != -ENOENT)
		return -EINVAL;
	probe->random_bytes = n;
	return get_host_state(meta, &probe->host, err, errlen) ? -EINVAL : 0;
}

struct json_object *proto__probe_to_meta(const struct thaw_probe *probe)
{
	struct json_object *meta = json_object_new_object();

	if (!meta)
		return NULL;
	if (json_object_object_add(meta, "random_bytes",
				   json_object_new_int64(probe->random_bytes)) ||
	    put_host_state(meta, &probe->host)) {
		json_object_put(meta);
		return NULL;
	}
	return meta;
}

int proto__result_from_meta(struct json_object *meta, struct thaw_result *res,
			    char *err, size_t errlen)
{
	const char *s;
	size_t len;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = get_string(meta, "status", &s, &len, err, errlen);
	if (ret == -ENOENT)
		snprintf(err, errlen, "'status' is missing");
	if (ret)
		return -EINVAL;
	ret = proto__status_from_name(s);
	if (ret < 0)
		return err__set(err, errlen, -EINVAL, "unknown status '%.32s'",
				s);
	res->status = ret;

	ret = get_string(meta, "request_id", &s, &len, err, errlen);
	if (ret == 0) {
		if (!proto__valid_request_id(s, len))
			return err__set(err, errlen, -EINVAL,
					"'request_id' is not valid");
		memcpy(res->request_id, s, len + 1);
	} else if (ret != -ENOENT) {
		return -EINVAL;
	}

	ret = get_string(meta, "error_type", &s, &len, err, errlen);
	if (ret == 0) {
		if (!proto__valid_error_type(s, len))
			return err__set(err, errlen, -EINVAL,
					"'error_type' is not valid");
		memcpy(res->error_type, s, len + 1);
	} else if (ret != -ENOENT) {
		return -EINVAL;
	}
	return 0;
}

struct json_object *proto__result_to_meta(const struct thaw_result *res)
{
	struct json_object *meta = json_object_new_object();

	if (!meta)
		return NULL;
	if (add_string(meta, "status", proto__status_name(res->status)) ||
	    (res->request_id[0] &&
	     add_string(meta, "request_id", res->request_id)) ||
	    (res->error_type[0] &&
	     add_string(meta, "error_type", res->error_type))) {
		json_object_put(meta);
		return NULL;
	}
	return meta;
}
