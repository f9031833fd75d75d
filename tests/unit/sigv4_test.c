// SPDX-License-Identifier: GPL-2.0
/*
 * The SigV4 verifier against requests the real client signed
 * (sigv4_vectors.h, from Debian's awscli), and against the same requests
 * changed: each change either keeps the signature valid (what the wire may
 * do to a request) or must be refused with the right errno.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>

#include "tools/thawd/sigv4.h"
#include "tests/unit/sigv4_vectors.h"

#define N_VECTORS	(sizeof(sigv4_vectors) / sizeof(sigv4_vectors[0]))
#define MAX_HEADERS	(SIGV4_VECTOR_MAX_HEADERS + 8)

static const struct sigv4_key keys[] = {
	{ "AKIDOTHER0000000", "not-the-secret" },
	{ SIGV4_VECTOR_AKID, SIGV4_VECTOR_SECRET },
	{ "AKIDTHIRD0000000", "another-secret" },
};

/* A vector's request, headers and body copied so that a test may change them. */
struct req {
	struct sigv4_request r;
	struct sigv4_header h[MAX_HEADERS];
	char body[4096];
	time_t now;
	char err[256];
};

static const struct sigv4_vector *vector(const char *name)
{
	for (size_t i = 0; i < N_VECTORS; i++)
		if (!strcmp(sigv4_vectors[i].name, name))
			return &sigv4_vectors[i];
	fail_msg("no vector %s", name);
	return NULL;
}

static void load(struct req *q, const struct sigv4_vector *v)
{
	memset(q, 0, sizeof(*q));
	assert_true(v->body_len <= sizeof(q->body));
	memcpy(q->body, v->body, v->body_len);
	memcpy(q->h, v->headers, v->n_headers * sizeof(q->h[0]));
	q->r = (struct sigv4_request){
		.method = v->method,
		.raw_path = v->raw_path,
		.raw_query = v->raw_query,
		.headers = q->h,
		.n_headers = v->n_headers,
		.body = q->body,
		.body_len = v->body_len,
	};
	q->now = v->now;
}

static int verify(struct req *q)
{
	q->err[0] = '\0';
	return sigv4__verify(&q->r, keys, 3, "lambda", q->now, q->err,
			     sizeof(q->err));
}

static struct sigv4_header *header(struct req *q, const char *name)
{
	for (size_t i = 0; i < q->r.n_headers; i++)
		if (!strcasecmp(q->h[i].name, name))
			return &q->h[i];
	return NULL;
}

static void set_header(struct req *q, const char *name, const char *value)
{
	struct sigv4_header *h = header(q, name);

	if (!h) {
		assert_true(q->r.n_headers < MAX_HEADERS);
		h = &q->h[q->r.n_headers++];
		h->name = name;
	}
	h->value = value;
}

static void add_header(struct req *q, const char *name, const char *value)
{
	assert_true(q->r.n_headers < MAX_HEADERS);
	q->h[q->r.n_headers++] = (struct sigv4_header){ name, value };
}

static void del_header(struct req *q, const char *name)
{
	struct sigv4_header *h = header(q, name);

	assert_non_null(h);
	memmove(h, h + 1, (&q->h[q->r.n_headers] - (h + 1)) * sizeof(*h));
	q->r.n_headers--;
}

#define assert_refused(q, errno_, words) do {				\
	assert_int_equal(verify(q), -(errno_));				\
	if (!strstr((q)->err, words))					\
		fail_msg("err '%s' lacks '%s'", (q)->err, words);	\
} while (0)

/* Every request the client signed verifies, with any of several keys listed. */
static void real_client_vectors(void **state)
{
	struct req q;

	for (size_t i = 0; i < N_VECTORS; i++) {
		load(&q, &sigv4_vectors[i]);
		if (verify(&q))
			fail_msg("%s: %s", sigv4_vectors[i].name, q.err);
		assert_string_equal(q.err, "");
	}
}

/* The wire may change the case of names and add unsigned headers. */
static void header_case_and_unsigned_headers(void **state)
{
	static const char *upper[] = { "HOST", "X-AMZ-DATE", "AUTHORIZATION",
				       "X-AMZ-INVOCATION-TYPE", "X-aMz-LoG-tYpE",
				       "x-amz-client-context" };
	struct req q;

	load(&q, vector("invoke_headers"));
	for (size_t i = 0; i < sizeof(upper) / sizeof(upper[0]); i++)
		header(&q, upper[i])->name = upper[i];
	add_header(&q, "X-Forwarded-For", "10.0.0.1");
	add_header(&q, "User-Agent", "a second one");
	add_header(&q, "Content-Type", "application/json");
	assert_int_equal(verify(&q), 0);
}

/* Header values: trimmed and inner runs made one; repeated ones joined in order. */
static void header_values_and_duplicates(void **state)
{
	struct sigv4_header *dup;
	struct req q;

	load(&q, vector("spaces_and_duplicates"));
	set_header(&q, "x-thaw-spaces", "a b c");
	assert_int_equal(verify(&q), 0);
	set_header(&q, "x-thaw-spaces", "\ta  b\t\tc ");
	assert_int_equal(verify(&q), 0);
	set_header(&q, "x-thaw-spaces", "a bc");
	assert_refused(&q, EACCES, "The request signature we calculated");

	/* The second x-thaw-dup first: "second value,first". */
	load(&q, vector("spaces_and_duplicates"));
	dup = header(&q, "x-thaw-dup");
	dup->value = dup[1].value;
	dup[1].value = "first";
	assert_refused(&q, EACCES, "does not match the signature you provided");

	load(&q, vector("spaces_and_duplicates"));
	del_header(&q, "x-thaw-dup");
	assert_refused(&q, EACCES, "does not match the signature you provided");

	/* A signed header's name sent in two cases is still one header. */
	load(&q, vector("spaces_and_duplicates"));
	header(&q, "x-thaw-dup")[1].name = "X-THAW-DUP";
	assert_int_equal(verify(&q), 0);
}

/*
 * botocore encodes the wire path once more for every service but S3: the
 * ':' the wire carries as %3A is signed as %253A.  A raw ':' on the wire
 * is another path; dot segments and empty ones do not count.
 */
static void canonical_uri(void **state)
{
	struct req q;

	load(&q, vector("qualified"));
	q.r.raw_path = "/2015-03-31/functions/./my-fn%3Aprod//invocations";
	assert_int_equal(verify(&q), 0);
	q.r.raw_path = "/2015-03-31/functions/x/../my-fn%3Aprod/invocations";
	assert_int_equal(verify(&q), 0);
	q.r.raw_path = "/2015-03-31/functions/my-fn:prod/invocations";
	assert_refused(&q, EACCES, "does not match");
	q.r.raw_path = "/2015-03-31/functions/my-fn%3aprod/invocations";
	assert_refused(&q, EACCES, "does not match");
	q.r.raw_path = "/2015-03-31/functions/my-fn%3Aprod/invocations/";
	assert_refused(&q, EACCES, "does not match");

	load(&q, vector("arn"));
	assert_int_equal(verify(&q), 0);
	q.r.raw_path = "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:my-fn/invocations";
	assert_refused(&q, EACCES, "does not match");

	/* Odd paths do not crash: "", "/", "..", "//../..". */
	q.r.raw_path = "";
	assert_int_equal(verify(&q), -EACCES);
	q.r.raw_path = "/";
	assert_int_equal(verify(&q), -EACCES);
	q.r.raw_path = "..";
	assert_int_equal(verify(&q), -EACCES);
	q.r.raw_path = "//../../..//";
	assert_int_equal(verify(&q), -EACCES);
	q.r.raw_path = NULL;
	assert_int_equal(verify(&q), -EACCES);
}

/* The query is sorted and its escapes made canonical; a bad escape is malformed. */
static void canonical_query(void **state)
{
	struct req q;

	load(&q, vector("query_sorted"));
	q.r.raw_query = "sp=a%20b%2Bc&Alpha=a&Beta=2&Alpha=z&Qualifier=prod";
	assert_int_equal(verify(&q), 0);
	q.r.raw_query = "sp=a%20b%2bc&&Alpha=a&Beta=%32&Alpha=z&Qualifier=prod&";
	assert_int_equal(verify(&q), 0);
	/* A '+' is a plus, as the client encodes it, not a space. */
	q.r.raw_query = "sp=a%20b+c&Alpha=a&Beta=2&Alpha=z&Qualifier=prod";
	assert_int_equal(verify(&q), 0);
	q.r.raw_query = "sp=a+b%2Bc&Alpha=a&Beta=2&Alpha=z&Qualifier=prod";
	assert_refused(&q, EACCES, "does not match");
	q.r.raw_query = "Alpha=a&Beta=2&Alpha=z&Qualifier=prod";
	assert_refused(&q, EACCES, "does not match");
	q.r.raw_query = "sp=a%2&Alpha=a";
	assert_refused(&q, EINVAL, "bad %-escape");
	q.r.raw_query = "sp=a%zz";
	assert_int_equal(verify(&q), -EINVAL);
	q.r.raw_query = "%";
	assert_int_equal(verify(&q), -EINVAL);

	load(&q, vector("qualified"));
	q.r.raw_query = NULL;
	assert_refused(&q, EACCES, "does not match");
	q.r.raw_query = "Qualifier";
	assert_refused(&q, EACCES, "does not match");
}

static void body(void **state)
{
	struct req q;

	load(&q, vector("non_ascii_body"));
	q.body[q.r.body_len - 3] ^= 1;
	assert_refused(&q, EACCES, "does not match the signature you provided");
	load(&q, vector("non_ascii_body"));
	q.r.body_len--;
	assert_int_equal(verify(&q), -EACCES);

	/* An empty body may come as NULL. */
	load(&q, vector("empty_body"));
	q.r.body = NULL;
	assert_int_equal(verify(&q), 0);
	q.r.body = "x";
	q.r.body_len = 1;
	assert_int_equal(verify(&q), -EACCES);
}

/* x-amz-content-sha256 must be the body's: no UNSIGNED-PAYLOAD. */
static void content_sha256(void **state)
{
	struct req q;

	load(&q, vector("content_sha256"));
	q.body[0] = '[';
	assert_refused(&q, EACCES, "'x-amz-content-sha256' header does not match");

	load(&q, vector("content_sha256"));
	set_header(&q, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
	assert_refused(&q, EACCES, "x-amz-content-sha256");
	set_header(&q, "x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
	assert_int_equal(verify(&q), -EACCES);

	/* Upper case hex is the same hash, but not what was signed. */
	load(&q, vector("content_sha256"));
	{
		char up[65];
		const char *v = header(&q, "x-amz-content-sha256")->value;

		for (int i = 0; i < 65; i++)
			up[i] = v[i] >= 'a' && v[i] <= 'f' ? v[i] - 32 : v[i];
		set_header(&q, "x-amz-content-sha256", up);
		assert_refused(&q, EACCES, "does not match the signature");
	}

	/* Unsigned and present: it still stands for the body. */
	load(&q, vector("plain"));
	add_header(&q, "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
	assert_int_equal(verify(&q), -EACCES);
}

static void keys_and_service(void **state)
{
	struct sigv4_key wrong = { SIGV4_VECTOR_AKID, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz" };
	struct req q;

	load(&q, vector("plain"));
	assert_int_equal(sigv4__verify(&q.r, &wrong, 1, "lambda", q.now, q.err,
				       sizeof(q.err)), -EACCES);
	assert_string_equal(q.err,
			    "The request signature we calculated does not match the signature you provided. "
			    "Check your AWS Secret Access Key and signing method. "
			    "Consult the service documentation for details.");

	assert_int_equal(sigv4__verify(&q.r, keys, 1, "lambda", q.now, q.err,
				       sizeof(q.err)), -ENOKEY);
	assert_string_equal(q.err, "The security token included in the request is invalid.");
	assert_int_equal(sigv4__verify(&q.r, NULL, 0, "lambda", q.now, q.err,
				       sizeof(q.err)), -ENOKEY);

	assert_int_equal(sigv4__verify(&q.r, keys, 3, "s3", q.now, q.err,
				       sizeof(q.err)), -EACCES);
	assert_string_equal(q.err, "Credential should be scoped to correct service: 's3'.");

	/* No message buffer: the same answers. */
	assert_int_equal(sigv4__verify(&q.r, keys, 3, "lambda", q.now, NULL, 0), 0);
	assert_int_equal(sigv4__verify(&q.r, &wrong, 1, "lambda", q.now, NULL, 0), -EACCES);
	assert_int_equal(sigv4__verify(&q.r, keys, 3, "lambda", q.now, q.err, 1), 0);
}

static void dates(void **state)
{
	struct req q;

	load(&q, vector("plain"));
	q.now += SIGV4_MAX_SKEW_S;
	assert_int_equal(verify(&q), 0);
	q.now += 1;
	assert_refused(&q, ETIME, "Signature expired: 20261207T120000Z is now earlier than 20261207T120001Z (20261207T121501Z - 15 min.)");
	q.now = sigv4_vectors[0].now - SIGV4_MAX_SKEW_S;
	assert_int_equal(verify(&q), 0);
	q.now = sigv4_vectors[0].now - 20 * 60;
	assert_refused(&q, ETIME, "Signature not yet current: 20261207T120000Z is still later than 20261207T115500Z (20261207T114000Z + 15 min.)");
	q.now = sigv4_vectors[0].now + 20 * 60;
	assert_int_equal(verify(&q), -ETIME);
	q.now = INT64_MAX;
	assert_int_equal(verify(&q), -ETIME);
	q.now = INT64_MIN;
	assert_int_equal(verify(&q), -ETIME);

	/* The scope's date is X-Amz-Date's day. */
	load(&q, vector("plain"));
	set_header(&q, "Authorization",
		   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/lambda/aws4_request, "
		   "SignedHeaders=host;x-amz-date, Signature=df9ab2a5a682018974d921918cb792e41ccb986a740bd62e9004fc7b6082b04f");
	assert_refused(&q, ETIME, "Date in Credential scope does not match");

	/* A later X-Amz-Date, still in the window, is not what was signed. */
	load(&q, vector("plain"));
	set_header(&q, "X-Amz-Date", "20261207T120001Z");
	assert_refused(&q, EACCES, "does not match");

	static const char *bad[] = {
		"", "20261207T120000", "20261207T120000ZZ", "20261207 120000Z",
		"2026-12-07T12:00:00Z", "20261307T120000Z", "20261200T120000Z",
		"20261207T250000Z", "20261207T126000Z", "2026120aT120000Z",
		" 20261207T120000Z", "Mon, 07 Dec 2026 12:00:00 GMT",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		load(&q, vector("plain"));
		set_header(&q, "X-Amz-Date", bad[i]);
		assert_refused(&q, EINVAL, "X-Amz-Date");
	}

	load(&q, vector("plain"));
	add_header(&q, "X-Amz-Date", "20261207T120000Z");
	assert_int_equal(verify(&q), -EINVAL);
	load(&q, vector("plain"));
	del_header(&q, "X-Amz-Date");
	assert_refused(&q, EINVAL, "'X-Amz-Date'");
}

static void missing_headers(void **state)
{
	struct req q;

	load(&q, vector("plain"));
	del_header(&q, "Authorization");
	assert_refused(&q, EINVAL, "Missing Authentication Token");

	load(&q, vector("plain"));
	add_header(&q, "authorization", header(&q, "Authorization")->value);
	assert_int_equal(verify(&q), -EINVAL);

	load(&q, vector("plain"));
	del_header(&q, "Host");
	assert_refused(&q, EINVAL, "The signed header 'host' is not in the request");

	load(&q, vector("invoke_headers"));
	del_header(&q, "X-Amz-Log-Type");
	assert_refused(&q, EINVAL, "'x-amz-log-type'");

	/* A header with no name or value is skipped, not dereferenced. */
	load(&q, vector("plain"));
	add_header(&q, NULL, "x");
	add_header(&q, "X-Null", NULL);
	assert_int_equal(verify(&q), 0);
}

#define SIG "df9ab2a5a682018974d921918cb792e41ccb986a740bd62e9004fc7b6082b04f"
#define CRED "Credential=AKIDEXAMPLE/20261207/us-east-1/lambda/aws4_request"

/* Authorization values that are not one: -EINVAL, and nothing worse. */
static void malformed_authorization(void **state)
{
	static const char *bad[] = {
		"",
		" ",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA256,",
		"AWS4-HMAC-SHA256" CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA1 " CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG,
		"aws4-hmac-sha256 " CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG,
		"Bearer abc",
		"AWS AKIDEXAMPLE:c2lnbmF0dXJl",
		"AWS4-HMAC-SHA256 " CRED,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date",
		"AWS4-HMAC-SHA256 " CRED ", Signature=" SIG,
		"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG "0",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, Signature=" "DF9AB2A5A682018974D921918CB792E41CCB986A740BD62E9004FC7B6082B04F",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, Signature=df9ab2a5a682018974d921918cb792e41ccb986a740bd62e9004fc7b6082b04g",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, Signature=",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG ", Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", " CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG ", Foo=bar",
		"AWS4-HMAC-SHA256 " CRED " SignedHeaders=host;x-amz-date Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ",, SignedHeaders=host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG ",,",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, Signature " SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, =" SIG,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/lambda, SignedHeaders=host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/lambda/aws4_request/x, SignedHeaders=host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/lambda/aws4_requesT, SignedHeaders=host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207//lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
		"AWS4-HMAC-SHA256 Credential=////, SignedHeaders=host, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=x-amz-date;host, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=Host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date;, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=;host;x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date;x-missing, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host:x-amz-date, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=, Signature=" SIG,
		"AWS4-HMAC-SHA256 \x01\xff\xfe=\x80, ==,",
		"AWS4-HMAC-SHA256 ,,,,",
		"AWS4-HMAC-SHA256 =,=,=",
		"\xff\xfe\xfd",
	};
	struct req q;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		load(&q, vector("plain"));
		set_header(&q, "Authorization", bad[i]);
		if (verify(&q) != -EINVAL)
			fail_msg("'%s': %d %s", bad[i], verify(&q), q.err);
		assert_true(q.err[0]);
	}

	/* Only the spaces around the parts may vary. */
	load(&q, vector("plain"));
	set_header(&q, "Authorization", "  AWS4-HMAC-SHA256 \t" CRED " ,SignedHeaders=host;x-amz-date ,  Signature=" SIG "  ");
	assert_int_equal(verify(&q), 0);
	set_header(&q, "Authorization", "AWS4-HMAC-SHA256 Signature=" SIG ",SignedHeaders=host;x-amz-date," CRED);
	assert_int_equal(verify(&q), 0);
}

/* Huge values: bounded work, no overflow, no crash (this runs under ASan). */
static void huge_authorization(void **state)
{
	const size_t big = 1 << 20;
	char *v = malloc(big + 256), *p;
	struct req q;

	assert_non_null(v);

	/* A credential piece past any real one. */
	p = v + sprintf(v, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/");
	memset(p, 'r', big);
	strcpy(p + big, "/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" SIG);
	load(&q, vector("plain"));
	set_header(&q, "Authorization", v);
	assert_int_equal(verify(&q), -EINVAL);

	/* A million signed headers, sorted, none there. */
	p = v + sprintf(v, "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host");
	for (size_t i = 0; p - v < (ptrdiff_t)big; i++)
		p += sprintf(p, ";x-%08zx", i);
	strcpy(p, ", Signature=" SIG);
	set_header(&q, "Authorization", v);
	assert_int_equal(verify(&q), -EINVAL);

	/* One long parameter name, one long value, one long signature. */
	memset(v, 'A', big);
	v[big] = '\0';
	set_header(&q, "Authorization", v);
	assert_int_equal(verify(&q), -EINVAL);
	memcpy(v, "AWS4-HMAC-SHA256 Signature=", 27);
	set_header(&q, "Authorization", v);
	assert_int_equal(verify(&q), -EINVAL);

	/* A long path and query: work, and refused. */
	load(&q, vector("qualified"));
	memset(v, '/', big);
	memcpy(v + big / 2, "..%3a", 5);
	v[big] = '\0';
	q.r.raw_path = v;
	assert_int_equal(verify(&q), -EACCES);
	for (size_t i = 0; i < big; i += 4)
		memcpy(v + i, "a=%g", 4);
	v[big - 1] = '0';
	q.r.raw_path = "/";
	q.r.raw_query = v;
	assert_int_equal(verify(&q), -EINVAL);
	for (size_t i = 0; i < big; i += 4)
		memcpy(v + i, "&a=~", 4);
	assert_int_equal(verify(&q), -EACCES);
	free(v);
}

/* Every prefix of a good Authorization, and every one-byte change of it, is refused. */
static void mangled_authorization(void **state)
{
	const char *good;
	char buf[512];
	struct req q;
	size_t len;
	int ret;

	load(&q, vector("invoke_headers"));
	good = header(&q, "Authorization")->value;
	len = strlen(good);
	assert_true(len < sizeof(buf));
	assert_int_equal(strncmp(good, "AWS4-HMAC-SHA256 ", 17), 0);
	for (size_t i = 0; i < len; i++) {
		memcpy(buf, good, i);
		buf[i] = '\0';
		set_header(&q, "Authorization", buf);
		ret = verify(&q);
		assert_true(ret == -EINVAL || ret == -ENOKEY || ret == -ETIME ||
			    ret == -EACCES);
	}
	for (size_t i = 0; i < len; i++) {
		static const char subst[] = { 'x', ' ', ',', '=', '/', ';', '\0' + 1, 'A', '0' };

		for (size_t s = 0; s < sizeof(subst); s++) {
			if (good[i] == subst[s])
				continue;
			memcpy(buf, good, len + 1);
			buf[i] = subst[s];
			set_header(&q, "Authorization", buf);
			if (!verify(&q))
				fail_msg("'%s' verified", buf);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_client_vectors),
		cmocka_unit_test(header_case_and_unsigned_headers),
		cmocka_unit_test(header_values_and_duplicates),
		cmocka_unit_test(canonical_uri),
		cmocka_unit_test(canonical_query),
		cmocka_unit_test(body),
		cmocka_unit_test(content_sha256),
		cmocka_unit_test(keys_and_service),
		cmocka_unit_test(dates),
		cmocka_unit_test(missing_headers),
		cmocka_unit_test(malformed_authorization),
		cmocka_unit_test(huge_authorization),
		cmocka_unit_test(mangled_authorization),
	};

	return cmocka_run_group_tests_name("sigv4", tests, NULL, NULL);
}
