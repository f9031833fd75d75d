// SPDX-License-Identifier: GPL-2.0
/* thawvm's API client (thawvm-api.h): a libcurl easy handle per call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "lib/err.h"
#include "tools/lib/thawvm-api.h"

struct sink {
	char *buf;
	size_t len, cap;
	int overflow;
};

int thawvm_api__global_init(void)
{
	return curl_global_init(CURL_GLOBAL_NOTHING) == CURLE_OK ? 0 : -ENOMEM;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->len + n > THAWVM_API_BODY_MAX) {
		s->overflow = 1;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		char *nb;

		while (cap < s->len + n + 1)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (!nb)
			return 0;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

static void parse_body(struct thawvm_api_resp *r)
{
	struct json_tokener *tok;
	struct json_object *o, *f;

	r->fault = "";
	if (!r->body_len)
		return;
	tok = json_tokener_new();
	if (!tok)
		return;
	o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	if (o && json_tokener_get_error(tok) == json_tokener_success &&
	    (size_t)json_tokener_get_parse_end(tok) == r->body_len) {
		r->json = o;
		if (json_object_is_type(o, json_type_object) &&
		    json_object_object_get_ex(o, "fault_message", &f) &&
		    json_object_is_type(f, json_type_string))
			r->fault = json_object_get_string(f);
	} else {
		json_object_put(o);
	}
	json_tokener_free(tok);
}

int thawvm_api__call_text(const char *sock, const char *method,
			  const char *path, const char *body, long timeout_ms,
			  struct thawvm_api_resp *r, char *err, size_t errlen)
{
	struct curl_slist *hdrs = NULL;
	struct sink s = {};
	char url[512], cerr[CURL_ERROR_SIZE] = "";
	CURLcode c;
	CURL *h;
	int ret;

	memset(r, 0, sizeof(*r));
	r->fault = "";
	if (path[0] != '/' || strlen(path) > 400)
		return err__set(err, errlen, -EINVAL, "bad API path '%s'",
				path);
	snprintf(url, sizeof(url), "http://localhost%s", path);
	h = curl_easy_init();
	if (!h)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	if (timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (body) {
		/* No "Expect: 100-continue": the server answers at once. */
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	c = curl_easy_perform(h);
	if (c != CURLE_OK) {
		if (s.overflow) {
			ret = err__set(err, errlen, -EMSGSIZE,
				       "%s %s: the answer is over %u bytes",
				       method, path, THAWVM_API_BODY_MAX);
		} else {
			ret = err__set(err, errlen, curl_errno(c),
				       "%s %s on %s: %s", method, path, sock,
				       cerr[0] ? cerr : curl_easy_strerror(c));
		}
		free(s.buf);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = s.buf ? s.buf : strdup("");
	r->body_len = s.len;
	if (!r->body) {
		ret = err__set(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	parse_body(r);
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return ret;
}

int thawvm_api__call(const char *sock, const char *method, const char *path,
		     struct json_object *body, long timeout_ms,
		     struct thawvm_api_resp *r, char *err, size_t errlen)
{
	const char *text = NULL;

	if (body)
		text = json_object_to_json_string_ext(body,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE);
	return thawvm_api__call_text(sock, method, path, text, timeout_ms, r,
				     err, errlen);
}

void thawvm_api__resp_free(struct thawvm_api_resp *r)
{
	json_object_put(r->json);
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->fault = "";
}

int thawvm_api__do(const char *sock, const char *method, const char *path,
		   struct json_object *body, long timeout_ms, char *err,
		   size_t errlen)
{
	struct thawvm_api_resp r;
	int ret;

	ret = thawvm_api__call(sock, method, path, body, timeout_ms, &r, err,
			       errlen);
	if (ret)
		return ret;
	if (r.status < 200 || r.status > 299) {
		ret = err__set(err, errlen, -EIO, "%s %s: %ld %s", method, path,
			       r.status, r.fault[0] ? r.fault : r.body);
	}
	thawvm_api__resp_free(&r);
	return ret;
}
