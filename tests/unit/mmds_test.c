// SPDX-License-Identifier: GPL-2.0
/*
 * MMDS without a guest: the data store (PUT, PATCH as RFC 7396's
 * examples, its size limit, lookups in JSON and IMDS text), the session
 * tokens (TTL bounds, expiry, a full table, forged tokens), the guest's
 * requests as Firecracker answers them (token PUT, GETs with and
 * without a token in V1 and V2, Accept, imds_compat, wrong methods and
 * paths), and which frames are MMDS's, with the checksum the guest
 * leaves to the device.
 */
#include <arpa/inet.h>
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

#include "vmm/mmds/frame.h"
#include "vmm/mmds/http.h"
#include "vmm/mmds/store.h"
#include "vmm/mmds/token.h"

#define SEC	1000000000ULL

static json_object *J(const char *text)
{
	json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

static void assert_store(struct mmds_store *s, const char *want)
{
	json_object *got = mmds_store__get(s), *w = J(want);

	if (!json_object_equal(got, w))
		fail_msg("store is %s, want %s",
			 json_object_to_json_string(got), want);
	json_object_put(got);
	json_object_put(w);
}

static void test_put_get(void **state)
{
	struct mmds_store s;
	char err[256];

	assert_int_equal(mmds_store__init(&s, 1024), 0);
	assert_store(&s, "{}");
	assert_int_equal(mmds_store__put(&s, J("{\"a\":{\"b\":\"c\"}}"), err,
					 sizeof(err)), 0);
	assert_store(&s, "{\"a\":{\"b\":\"c\"}}");
	/* Not an object: refused, the store as it was. */
	assert_int_equal(mmds_store__put(&s, J("[1,2]"), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "JSON object"));
	assert_int_equal(mmds_store__patch(&s, J("\"x\""), err, sizeof(err)),
			 -EINVAL);
	assert_store(&s, "{\"a\":{\"b\":\"c\"}}");
	mmds_store__exit(&s);
}

/* RFC 7396's appendix A, each as a PATCH of a store. */
static void test_merge_patch_rfc(void **state)
{
	static const char *const cases[][3] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}",
		  "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}",
		  "{\"a\":{\"bb\":{}}}" },
	};
	struct mmds_store s;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mmds_store__init(&s, 4096), 0);
		assert_int_equal(mmds_store__put(&s, J(cases[i][0]), err,
						 sizeof(err)), 0);
		assert_int_equal(mmds_store__patch(&s, J(cases[i][1]), err,
						   sizeof(err)), 0);
		assert_store(&s, cases[i][2]);
		mmds_store__exit(&s);
	}
}

static void test_size_limit(void **state)
{
	struct mmds_store s;
	char err[256], big[200];

	assert_int_equal(mmds_store__init(&s, 64), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(mmds_store__put(&s, J("{\"a\":\"1\"}"), err,
					 sizeof(err)), 0);
	/* A patch past the limit: refused, nothing of it kept. */
	{
		json_object *p = json_object_new_object();

		json_object_object_add(p, "b", json_object_new_string(big));
		assert_int_equal(mmds_store__patch(&s, p, err, sizeof(err)),
				 -EFBIG);
		assert_non_null(strstr(err, "doesn't fit"));
		p = json_object_new_object();
		json_object_object_add(p, "b", json_object_new_string(big));
		assert_int_equal(mmds_store__put(&s, p, err, sizeof(err)),
				 -EFBIG);
	}
	assert_store(&s, "{\"a\":\"1\"}");
	mmds_store__exit(&s);
}

static void lookup(struct mmds_store *s, const char *path, bool json,
		   int want_ret, const char *want)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(mmds_store__lookup(s, path, json, &out, &len),
			 want_ret);
	if (!want_ret) {
		assert_string_equal(out, want);
		assert_int_equal(len, strlen(want));
	}
	free(out);
}

static void test_lookup(void **state)
{
	struct mmds_store s;
	char err[256];

	assert_int_equal(mmds_store__init(&s, 4096), 0);
	assert_int_equal(mmds_store__put(&s, J(
		"{\"latest\":{\"meta-data\":{\"ami-id\":\"ami-1\","
		"\"reservation-id\":\"r-2\",\"network\":{\"mac\":\"m\"}},"
		"\"list\":[\"x\",{\"y\":\"z\"}],\"n\":5,\"t\":true}}"),
		err, sizeof(err)), 0);
	lookup(&s, "/latest/meta-data/ami-id", false, 0, "ami-1");
	lookup(&s, "/latest/meta-data/ami-id", true, 0, "\"ami-1\"");
	lookup(&s, "//latest/meta-data/ami-id/", false, 0, "ami-1");
	lookup(&s, "/latest/meta-data", false, 0,
	       "ami-id\nnetwork/\nreservation-id");
	lookup(&s, "/latest/meta-data/network", true, 0, "{\"mac\":\"m\"}");
	lookup(&s, "/latest/list/1/y", false, 0, "z");
	lookup(&s, "/latest/list/0", true, 0, "\"x\"");
	lookup(&s, "/latest/list/2", false, -ENOENT, NULL);
	lookup(&s, "/latest/list/01", false, -ENOENT, NULL);
	lookup(&s, "/latest/list/-1", false, -ENOENT, NULL);
	lookup(&s, "/latest/nope", false, -ENOENT, NULL);
	lookup(&s, "/latest/meta-data/ami-id/deeper", false, -ENOENT, NULL);
	/* IMDS's text has no form for these; JSON has. */
	lookup(&s, "/latest/n", false, -EOPNOTSUPP, NULL);
	lookup(&s, "/latest/t", false, -EOPNOTSUPP, NULL);
	lookup(&s, "/latest/list", false, -EOPNOTSUPP, NULL);
	lookup(&s, "/latest/n", true, 0, "5");
	lookup(&s, "/", false, 0, "latest/");
	mmds_store__exit(&s);
}

static void test_tokens(void **state)
{
	struct mmds_tokens *t = calloc(1, sizeof(*t));
	char a[MMDS_TOKEN_LEN + 1], b[MMDS_TOKEN_LEN + 1];
	char forged[MMDS_TOKEN_LEN + 1];
	unsigned int i;

	assert_non_null(t);
	assert_int_equal(mmds_tokens__new(t, 0, 0, a), -EINVAL);
	assert_int_equal(mmds_tokens__new(t, MMDS_TOKEN_TTL_MAX + 1, 0, a),
			 -EINVAL);
	assert_int_equal(mmds_tokens__new(t, 10, 100 * SEC, a), 0);
	assert_int_equal(strlen(a), MMDS_TOKEN_LEN);
	assert_int_equal(mmds_tokens__new(t, MMDS_TOKEN_TTL_MAX, 100 * SEC, b),
			 0);
	assert_string_not_equal(a, b);
	assert_true(mmds_tokens__valid(t, a, 109 * SEC));
	assert_false(mmds_tokens__valid(t, a, 110 * SEC));	/* expired */
	assert_false(mmds_tokens__valid(t, a, 109 * SEC));	/* and gone */
	assert_true(mmds_tokens__valid(t, b, 110 * SEC));
	/* One character off, short, long, empty, NULL. */
	memcpy(forged, b, sizeof(forged));
	forged[5] = forged[5] == '0' ? '1' : '0';
	assert_false(mmds_tokens__valid(t, forged, 110 * SEC));
	forged[MMDS_TOKEN_LEN - 1] = '\0';
	assert_false(mmds_tokens__valid(t, forged, 110 * SEC));
	assert_false(mmds_tokens__valid(t, "", 110 * SEC));
	assert_false(mmds_tokens__valid(t, NULL, 110 * SEC));
	/* A full table: the one that expires first makes room. */
	for (i = 0; i < MMDS_TOKENS_MAX; i++)
		assert_int_equal(mmds_tokens__new(t, MMDS_TOKEN_TTL_MAX,
						  200 * SEC, a), 0);
	assert_false(mmds_tokens__valid(t, b, 200 * SEC));
	assert_true(mmds_tokens__valid(t, a, 200 * SEC));
	mmds_tokens__clear(t);
	assert_false(mmds_tokens__valid(t, a, 200 * SEC));
	free(t);
}

struct http_fixture {
	struct mmds_store store;
	struct mmds_tokens tokens;
	struct mmds_http h;
};

static int http_setup(void **state)
{
	struct http_fixture *f = calloc(1, sizeof(*f));
	char err[128];

	if (!f || mmds_store__init(&f->store, 4096))
		return -1;
	f->h = (struct mmds_http) {
		.store = &f->store, .tokens = &f->tokens, .version = MMDS_V2,
	};
	if (mmds_store__put(&f->store, J("{\"latest\":{\"meta-data\":"
					  "{\"id\":\"i-1\",\"n\":7}}}"),
			    err, sizeof(err)))
		return -1;
	*state = f;
	return 0;
}

static int http_teardown(void **state)
{
	struct http_fixture *f = *state;

	mmds_store__exit(&f->store);
	free(f);
	return 0;
}

static unsigned int ask(struct http_fixture *f, const struct mmds_request *rq,
			uint64_t now, char *body, size_t size)
{
	struct mmds_response rs;
	unsigned int status;

	mmds_http__handle(&f->h, rq, now, &rs);
	assert_non_null(rs.content_type);
	snprintf(body, size, "%.*s", (int)rs.len, rs.body ? rs.body : "");
	status = rs.status;
	mmds_response__free(&rs);
	return status;
}

static void token(struct http_fixture *f, const char *ttl, char *out)
{
	struct mmds_request rq = {
		.method = "PUT", .path = "/latest/api/token", .ttl = ttl,
	};

	assert_int_equal(ask(f, &rq, 10 * SEC, out, MMDS_TOKEN_LEN + 1), 200);
	assert_int_equal(strlen(out), MMDS_TOKEN_LEN);
}

static void test_http_v2(void **state)
{
	struct http_fixture *f = *state;
	char tok[MMDS_TOKEN_LEN + 1], body[512];
	struct mmds_request rq = {
		.method = "GET", .path = "/latest/meta-data/id",
	};

	/* No token: 401. */
	assert_int_equal(ask(f, &rq, 10 * SEC, body, sizeof(body)), 401);
	assert_non_null(strstr(body, "No MMDS token provided"));
	/* A token that was never issued: 401. */
	rq.token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_int_equal(ask(f, &rq, 10 * SEC, body, sizeof(body)), 401);
	assert_string_equal(body, "MMDS token not valid.");
	token(f, "60", tok);
	rq.token = tok;
	assert_int_equal(ask(f, &rq, 10 * SEC, body, sizeof(body)), 200);
	assert_string_equal(body, "i-1");
	rq.accept = "application/json";
	assert_int_equal(ask(f, &rq, 10 * SEC, body, sizeof(body)), 200);
	assert_string_equal(body, "\"i-1\"");
	rq.path = "/latest/meta-data";
	assert_int_equal(ask(f, &rq, 10 * SEC, body, sizeof(body)), 200);
	assert_string_equal(body, "{\"id\":\"i-1\",\"n\":7}");
	rq.accept = NULL;
	assert_int_equal(ask(f, &rq, 10 * SEC, body, sizeof(body)), 200);
	assert_string_equal(body, "id\nn");
	rq.path = "/latest/meta-data/n";
	assert_int_equal(ask(f, &rq, 10 * SEC, body, sizeof(body)), 501);
	rq.path = "/latest/nothing";
	assert_int_equal(ask(f, &rq, 10 * SEC, body, sizeof(body)), 404);
	assert_string_equal(body, "Resource not found: /latest/nothing.");
	/* Expired: 401. */
	rq.path = "/latest/meta-data/id";
	assert_int_equal(ask(f, &rq, 70 * SEC, body, sizeof(body)), 401);
}

static void test_http_token_put(void **state)
{
	struct http_fixture *f = *state;
	char body[512];
	struct mmds_request rq = {
		.method = "PUT", .path = "/latest/api/token",
	};
	static const char *const bad[] = {
		"0", "21601", "-1", "abc", "10s", "", "99999999999999999999",
	};
	size_t i;

	assert_int_equal(ask(f, &rq, 0, body, sizeof(body)), 400);
	assert_non_null(strstr(body, "X-metadata-token-ttl-seconds"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rq.ttl = bad[i];
		assert_int_equal(ask(f, &rq, 0, body, sizeof(body)), 400);
		assert_non_null(strstr(body, "between 1 and 21600"));
	}
	rq.ttl = "21600";
	assert_int_equal(ask(f, &rq, 0, body, sizeof(body)), 200);
	rq.forwarded_for = "10.0.0.1";
	assert_int_equal(ask(f, &rq, 0, body, sizeof(body)), 400);
	rq.forwarded_for = NULL;
	rq.path = "/latest/api/other";
	assert_int_equal(ask(f, &rq, 0, body, sizeof(body)), 404);
	rq.method = "POST";
	{
		struct mmds_response rs;

		mmds_http__handle(&f->h, &rq, 0, &rs);
		assert_int_equal(rs.status, 405);
		assert_string_equal(rs.allow, "GET, PUT");
		mmds_response__free(&rs);
	}
}

static void test_http_v1_compat(void **state)
{
	struct http_fixture *f = *state;
	char body[512];
	struct mmds_request rq = {
		.method = "GET", .path = "/latest/meta-data/id",
		.accept = "application/json",
	};

	f->h.version = MMDS_V1;
	assert_int_equal(ask(f, &rq, 0, body, sizeof(body)), 200);
	assert_string_equal(body, "\"i-1\"");
	/* V1 still checks a token that is shown. */
	rq.token = "bad";
	assert_int_equal(ask(f, &rq, 0, body, sizeof(body)), 401);
	rq.token = NULL;
	/* imds_compat: text whatever Accept says. */
	f->h.imds_compat = true;
	assert_int_equal(ask(f, &rq, 0, body, sizeof(body)), 200);
	assert_string_equal(body, "i-1");
}

/* An Ethernet frame: IPv4 to @dst, or ARP for @dst. */
static size_t frame(uint8_t *f, bool arp, const char *dst)
{
	uint32_t ip;

	memset(f, 0, 64);
	inet_pton(AF_INET, dst, &ip);
	if (arp) {
		f[12] = 0x08, f[13] = 0x06;
		f[15] = 1, f[16] = 0x08, f[18] = 6, f[19] = 4, f[21] = 1;
		memcpy(f + 38, &ip, 4);
		return 42;
	}
	f[12] = 0x08, f[13] = 0x00;
	f[14] = 0x45;
	memcpy(f + 30, &ip, 4);
	return 60;
}

static void test_frames(void **state)
{
	uint8_t f[64], g[MMDS_ARP_FRAME], mac[6];
	uint32_t mmds, ip;
	size_t len;

	inet_pton(AF_INET, "169.254.169.254", &mmds);
	len = frame(f, false, "169.254.169.254");
	assert_true(mmds__frame_for(f, len, mmds));
	assert_false(mmds__frame_for(f, 33, mmds));	/* cut short */
	f[14] = 0x65;					/* not IPv4 */
	assert_false(mmds__frame_for(f, len, mmds));
	len = frame(f, false, "169.254.169.253");
	assert_false(mmds__frame_for(f, len, mmds));
	len = frame(f, true, "169.254.169.254");
	assert_true(mmds__frame_for(f, len, mmds));
	assert_false(mmds__frame_for(f, len - 1, mmds));
	f[18] = 8;					/* not Ethernet/IPv4 */
	assert_false(mmds__frame_for(f, len, mmds));
	len = frame(f, true, "172.16.0.1");
	assert_false(mmds__frame_for(f, len, mmds));
	f[12] = 0x86, f[13] = 0xdd;			/* IPv6 */
	assert_false(mmds__frame_for(f, len, mmds));
	assert_false(mmds__frame_for(f, 3, mmds));

	/* The sender of an IPv4 frame, and a gratuitous ARP from it. */
	len = frame(f, false, "169.254.169.254");
	memcpy(f + 6, "\x06\x00\xac\x10\x00\x02", 6);
	inet_pton(AF_INET, "172.16.0.2", f + 26);
	assert_true(mmds__frame_sender(f, len, mac, &ip));
	mmds__garp(g, mac, ip);
	assert_memory_equal(g + 6, mac, 6);
	assert_memory_equal(g + 28, &ip, 4);
	assert_memory_equal(g + 38, &ip, 4);
	assert_int_equal(g[21], 1);
	assert_false(mmds__frame_for(g, sizeof(g), mmds));
	len = frame(f, true, "169.254.169.254");
	assert_false(mmds__frame_sender(f, len, mac, &ip));

	/* A TCP SYN (IHL 5), then SYN+ACK, a short frame, UDP. */
	len = frame(f, false, "169.254.169.254");
	f[14 + 9] = 6;
	f[14 + 20 + 13] = 0x02;
	assert_true(mmds__frame_is_syn(f, len));
	f[14 + 20 + 13] = 0x12;
	assert_false(mmds__frame_is_syn(f, len));
	f[14 + 20 + 13] = 0x02;
	assert_false(mmds__frame_is_syn(f, 14 + 20 + 13));
	f[14] = 0x4f;				/* IHL 15: past the frame */
	assert_false(mmds__frame_is_syn(f, len));
	f[14] = 0x45;
	f[14 + 9] = 17;
	assert_false(mmds__frame_is_syn(f, len));
}

static void test_csum(void **state)
{
	/* 20 bytes whose sum is known: 0x4500 0x0073 ... (RFC 1071 style). */
	uint8_t ip[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};

	assert_true(mmds__csum_complete(ip, sizeof(ip), 0, 10));
	assert_int_equal(ip[10], 0xb8);
	assert_int_equal(ip[11], 0x61);
	/* Offsets that do not fit the frame are refused. */
	assert_false(mmds__csum_complete(ip, sizeof(ip), 20, 0));
	assert_false(mmds__csum_complete(ip, sizeof(ip), 10, 9));
	assert_false(mmds__csum_complete(ip, sizeof(ip), 0xffff, 0xffff));
	assert_true(mmds__csum_complete(ip, sizeof(ip), 10, 8));
}

int main(void)
{
#define H(fn) cmocka_unit_test_setup_teardown(fn, http_setup, http_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_merge_patch_rfc),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_tokens),
		H(test_http_v2),
		H(test_http_token_put),
		H(test_http_v1_compat),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_csum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
