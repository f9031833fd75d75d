// SPDX-License-Identifier: GPL-2.0
/*
 * AWS Signature Version 4 verification (sigv4.h says which rules).  The
 * canonical request is never held whole: it streams into a SHA-256 as it
 * is produced; only the query's pairs, which must be sorted, and the
 * normalized path are copied.  The crypto is libcrypto's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "lib/err.h"
#include "tools/thawd/sigv4.h"

#define ALGORITHM	"AWS4-HMAC-SHA256"
#define TERMINATOR	"aws4_request"
#define HEX_LEN		(2 * SHA256_DIGEST_LENGTH)
#define AMZ_DATE_LEN	16	/* 20261207T121454Z */
/* The longest piece of a credential: ids are 16 to 128 characters. */
#define CRED_PART_MAX	128

/* How much of a request's own text a message quotes at most. */
#define QUOTE		64
#define SPAN_QUOTE(s)	(int)((s).len < QUOTE ? (s).len : QUOTE), (s).p

#define MSG_MISMATCH \
	"The request signature we calculated does not match the signature " \
	"you provided. Check your AWS Secret Access Key and signing method. " \
	"Consult the service documentation for details."

/* A piece of the Authorization header, not NUL-terminated. */
struct span {
	const char *p;
	size_t len;
};

struct auth {
	struct span akid, date, region, service, terminator;
	struct span signed_headers;
	struct span signature;
};

static bool span_is(struct span s, const char *str)
{
	return s.len == strlen(str) && !memcmp(s.p, str, s.len);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * The canonical request goes through a small buffer into the digest, so
 * that encoding it a character at a time costs no call per character.
 */
struct hasher {
	EVP_MD_CTX *ctx;
	bool failed;
	size_t len;
	char buf[512];
};

static void hasher_flush(struct hasher *h)
{
	if (h->len && !EVP_DigestUpdate(h->ctx, h->buf, h->len))
		h->failed = true;
	h->len = 0;
}

static void put(struct hasher *h, const void *data, size_t n)
{
	if (n > sizeof(h->buf) - h->len) {
		hasher_flush(h);
		if (n > sizeof(h->buf)) {
			if (!EVP_DigestUpdate(h->ctx, data, n))
				h->failed = true;
			return;
		}
	}
	memcpy(h->buf + h->len, data, n);
	h->len += n;
}

static void put_str(struct hasher *h, const char *s)
{
	put(h, s, strlen(s));
}

static void put_char(struct hasher *h, char c)
{
	put(h, &c, 1);
}

/* Percent-encode as botocore's quote(): @keep_slash for paths. */
static void put_encoded(struct hasher *h, const char *s, size_t n,
			bool keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			put_char(h, c);
		} else {
			char e[3] = { '%', digits[c >> 4], digits[c & 15] };

			put(h, e, 3);
		}
	}
}

static int find_header(const struct sigv4_request *r, const char *name,
		       size_t name_len, size_t *first)
{
	int count = 0;

	for (size_t i = 0; i < r->n_headers; i++) {
		const char *n = r->headers[i].name;

		if (n && strlen(n) == name_len &&
		    !strncasecmp(n, name, name_len)) {
			if (!count++)
				*first = i;
		}
	}
	return count;
}

/*
 * "Credential=AKID/DATE/REGION/SERVICE/aws4_request": five pieces, none
 * empty (checked by the caller where it matters), no more.
 */
static int parse_credential(struct span v, struct auth *a)
{
	struct span *part[] = { &a->akid, &a->date, &a->region, &a->service,
				&a->terminator };
	size_t i = 0, start = 0;

	for (size_t pos = 0; pos <= v.len; pos++) {
		if (pos < v.len && v.p[pos] != '/')
			continue;
		if (i == 5 || pos - start > CRED_PART_MAX)
			return -EINVAL;
		part[i]->p = v.p + start;
		part[i]->len = pos - start;
		i++;
		start = pos + 1;
	}
	return i == 5 ? 0 : -EINVAL;
}

static int parse_authorization(const char *value, struct auth *a, char *err,
			       size_t errlen)
{
	const char *p = value;
	bool have_cred = false, have_sh = false, have_sig = false;

	memset(a, 0, sizeof(*a));
	while (is_space(*p))
		p++;
	if (strncmp(p, ALGORITHM, strlen(ALGORITHM)) ||
	    !is_space(p[strlen(ALGORITHM)]))
		return err__set(err, errlen, -EINVAL,
				"Authorization header: the algorithm must be '"
				ALGORITHM "' followed by its parameters");
	p += strlen(ALGORITHM);

	for (;;) {
		struct span k, v;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		k.p = p;
		while (*p && *p != '=' && *p != ',' && !is_space(*p))
			p++;
		if (*p != '=')
			goto malformed;
		k.len = p++ - k.p;
		v.p = p;
		while (*p && *p != ',' && !is_space(*p))
			p++;
		v.len = p - v.p;
		while (is_space(*p))
			p++;
		if (*p == ',')
			p++;
		else if (*p)
			goto malformed;

		if (span_is(k, "Credential") && !have_cred) {
			have_cred = true;
			if (parse_credential(v, a))
				return err__set(err, errlen, -EINVAL,
						"Credential must have the form "
						"AKID/YYYYMMDD/region/service/"
						TERMINATOR);
		} else if (span_is(k, "SignedHeaders") && !have_sh) {
			have_sh = true;
			a->signed_headers = v;
		} else if (span_is(k, "Signature") && !have_sig) {
			have_sig = true;
			a->signature = v;
		} else {
			goto malformed;
		}
	}

	if (!have_cred || !have_sh || !have_sig)
		return err__set(err, errlen, -EINVAL,
				"%s%s%sAuthorization=%.*s",
				have_cred ? "" : "Authorization header requires 'Credential' parameter. ",
				have_sig ? "" : "Authorization header requires 'Signature' parameter. ",
				have_sh ? "" : "Authorization header requires 'SignedHeaders' parameter. ",
				QUOTE, value);
	if (a->signature.len != HEX_LEN)
		goto bad_signature;
	for (size_t i = 0; i < HEX_LEN; i++) {
		char c = a->signature.p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			goto bad_signature;
	}
	return 0;

malformed:
	return err__set(err, errlen, -EINVAL,
			"Authorization header is malformed near '%.*s'", QUOTE,
			p);
bad_signature:
	return err__set(err, errlen, -EINVAL,
			"Signature must be %d lowercase hex digits", HEX_LEN);
}

/*
 * SignedHeaders: lowercase names, sorted, each once, host among them,
 * and each present in the request.
 */
static int check_signed_headers(const struct sigv4_request *r, struct span sh,
				char *err, size_t errlen)
{
	struct span prev = { NULL, 0 };
	bool host = false;
	size_t start = 0;

	for (size_t pos = 0; pos <= sh.len; pos++) {
		struct span name;
		size_t first, n;
		int cmp;

		if (pos < sh.len && sh.p[pos] != ';')
			continue;
		name.p = sh.p + start;
		name.len = pos - start;
		start = pos + 1;
		if (!name.len)
			goto bad;
		for (size_t i = 0; i < name.len; i++) {
			unsigned char c = name.p[i];

			if (c <= ' ' || c >= 0x7f || c == ':' ||
			    (c >= 'A' && c <= 'Z'))
				goto bad;
		}
		if (prev.p) {
			n = prev.len < name.len ? prev.len : name.len;
			cmp = memcmp(prev.p, name.p, n);
			if (cmp > 0 || (!cmp && prev.len >= name.len))
				goto bad;
		}
		prev = name;
		if (span_is(name, "host"))
			host = true;
		if (!find_header(r, name.p, name.len, &first))
			return err__set(err, errlen, -EINVAL,
					"The signed header '%.*s' is not in the request",
					SPAN_QUOTE(name));
	}
	if (!host)
		return err__set(err, errlen, -EINVAL,
				"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
	return 0;

bad:
	return err__set(err, errlen, -EINVAL,
			"SignedHeaders must be lowercase header names, sorted, separated by ';': '%.*s'",
			SPAN_QUOTE(sh));
}

static int decimal(const char *s, int n)
{
	int v = 0;

	while (n--)
		v = v * 10 + *s++ - '0';
	return v;
}

/* YYYYMMDD'T'HHMMSS'Z', nothing else. */
static int parse_amz_date(const char *s, time_t *t)
{
	static const char shape[] = "ddddddddTddddddZ";
	struct tm tm = { 0 };
	int v[6], i;

	if (strlen(s) != AMZ_DATE_LEN)
		return -EINVAL;
	for (i = 0; i < AMZ_DATE_LEN; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') :
				      s[i] != shape[i])
			return -EINVAL;
	}
	v[0] = decimal(s, 4);
	v[1] = decimal(s + 4, 2);
	v[2] = decimal(s + 6, 2);
	v[3] = decimal(s + 9, 2);
	v[4] = decimal(s + 11, 2);
	v[5] = decimal(s + 13, 2);
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return -EINVAL;
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*t = timegm(&tm);
	return 0;
}

static void fmt_amz_date(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(out, len, "%Y%m%dT%H%M%SZ", &tm))
		snprintf(out, len, "@%lld", (long long)t);
}

static int check_window(const char *amz_date, time_t t, time_t now, char *err,
			size_t errlen)
{
	char edge[32], clock[32];
	long long d;

	if (!__builtin_sub_overflow((long long)now, (long long)t, &d) &&
	    d <= SIGV4_MAX_SKEW_S && d >= -SIGV4_MAX_SKEW_S)
		return 0;
	fmt_amz_date(now, clock, sizeof(clock));
	if (t < now) {
		fmt_amz_date(now - SIGV4_MAX_SKEW_S, edge, sizeof(edge));
		return err__set(err, errlen, -ETIME,
				"Signature expired: %s is now earlier than %s (%s - 15 min.)",
				amz_date, edge, clock);
	}
	fmt_amz_date(now + SIGV4_MAX_SKEW_S, edge, sizeof(edge));
	return err__set(err, errlen, -ETIME,
			"Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amz_date, edge, clock);
}

/*
 * botocore's normalize_url_path(): dot segments resolved, empty segments
 * dropped, the leading '/' kept, a trailing one kept unless nothing is left.
 */
static int put_canonical_uri(struct hasher *h, const char *raw)
{
	size_t n = strlen(raw), len = 0;
	char *out;

	if (!n) {
		put_char(h, '/');
		return 0;
	}
	out = malloc(n + 2);
	if (!out)
		return -ENOMEM;
	for (size_t start = 0, pos = 0; pos <= n; pos++) {
		const char *seg = raw + start;
		size_t seg_len = pos - start;

		if (pos < n && raw[pos] != '/')
			continue;
		start = pos + 1;
		if (!seg_len || (seg_len == 1 && seg[0] == '.'))
			continue;
		if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (len && out[len - 1] != '/')
				len--;
			if (len)
				len--;
			continue;
		}
		if (len)
			out[len++] = '/';
		memcpy(out + len, seg, seg_len);
		len += seg_len;
	}
	if (raw[0] == '/')
		put_char(h, '/');
	put_encoded(h, out, len, true);
	if (raw[n - 1] == '/' && len)
		put_char(h, '/');
	free(out);
	return 0;
}

struct qpair {
	char *name;
	char *value;
};

/* Decode @n bytes at @s and encode them again strictly, into a new string. */
static char *requote(const char *s, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	char *out = malloc(3 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '%') {
			int hi = i + 2 < n ? hex_val(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_val(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				free(out);
				errno = EINVAL;
				return NULL;
			}
			c = hi << 4 | lo;
			i += 2;
		}
		if (is_unreserved(c)) {
			*o++ = c;
		} else {
			*o++ = '%';
			*o++ = digits[c >> 4];
			*o++ = digits[c & 15];
		}
	}
	*o = '\0';
	return out;
}

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static int put_canonical_query(struct hasher *h, const char *raw, char *err,
			       size_t errlen)
{
	struct qpair *pairs;
	size_t n = 0, max = 1, len;
	int ret = 0;

	if (!raw || !*raw)
		return 0;
	len = strlen(raw);
	for (size_t i = 0; i < len; i++)
		max += raw[i] == '&';
	pairs = calloc(max, sizeof(*pairs));
	if (!pairs)
		return -ENOMEM;
	for (size_t start = 0, pos = 0; pos <= len; pos++) {
		const char *piece = raw + start, *eq;
		size_t piece_len = pos - start, name_len;

		if (pos < len && raw[pos] != '&')
			continue;
		start = pos + 1;
		if (!piece_len)
			continue;
		eq = memchr(piece, '=', piece_len);
		name_len = eq ? (size_t)(eq - piece) : piece_len;
		errno = ENOMEM;
		pairs[n].name = requote(piece, name_len);
		pairs[n].value = pairs[n].name && eq ?
			requote(eq + 1, piece_len - name_len - 1) :
			pairs[n].name ? strdup("") : NULL;
		if (!pairs[n].value) {
			ret = -errno;
			free(pairs[n].name);
			if (ret == -EINVAL)
				err__set(err, errlen, ret,
					 "The query string has a bad %%-escape: '%.*s'",
					 QUOTE, raw);
			goto out;
		}
		n++;
	}
	qsort(pairs, n, sizeof(*pairs), qpair_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_char(h, '&');
		put_str(h, pairs[i].name);
		put_char(h, '=');
		put_str(h, pairs[i].value);
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
	return ret;
}

/* A header value trimmed, inner runs of whitespace made one space. */
static void put_trimmed(struct hasher *h, const char *v)
{
	bool space = false, any = false;

	for (; *v; v++) {
		if (is_space(*v)) {
			space = true;
			continue;
		}
		if (space && any)
			put_char(h, ' ');
		space = false;
		any = true;
		put_char(h, *v);
	}
}

static void put_canonical_headers(struct hasher *h,
				  const struct sigv4_request *r, struct span sh)
{
	size_t start = 0;

	for (size_t pos = 0; pos <= sh.len; pos++) {
		const char *name = sh.p + start;
		size_t name_len = pos - start;
		bool first = true;

		if (pos < sh.len && sh.p[pos] != ';')
			continue;
		start = pos + 1;
		put(h, name, name_len);
		put_char(h, ':');
		for (size_t i = 0; i < r->n_headers; i++) {
			const char *n = r->headers[i].name;

			if (!n || strlen(n) != name_len ||
			    strncasecmp(n, name, name_len))
				continue;
			if (!first)
				put_char(h, ',');
			first = false;
			put_trimmed(h, r->headers[i].value ?
				       r->headers[i].value : "");
		}
		put_char(h, '\n');
	}
}

static bool sha256_hex(const void *data, size_t n, char hex[HEX_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (!EVP_Digest(data, n, md, NULL, EVP_sha256(), NULL))
		return false;
	to_hex(md, sizeof(md), hex);
	return true;
}

/*
 * The payload's line: x-amz-content-sha256 where the client sent it (it
 * must then be the body's), else the body's SHA-256.
 */
static int payload_hash(const struct sigv4_request *r, const char **line,
			char body_hex[HEX_LEN + 1], char *err, size_t errlen)
{
	size_t i;
	int n;

	*line = body_hex;
	if (!sha256_hex(r->body ? r->body : "", r->body_len, body_hex))
		return err__set(err, errlen, -ENOMEM, "libcrypto: SHA-256 failed");
	n = find_header(r, "x-amz-content-sha256", 20, &i);
	if (!n)
		return 0;
	*line = r->headers[i].value ? r->headers[i].value : "";
	if (n > 1 || strcasecmp(*line, body_hex))
		return err__set(err, errlen, -EACCES,
				"The provided 'x-amz-content-sha256' header does not match what was computed.");
	return 0;
}

/* HMAC-SHA256 of @msg (@n bytes) under @key; @out may be @key. */
static bool hmac(const void *key, size_t key_len, const void *msg, size_t n,
		 unsigned char out[SHA256_DIGEST_LENGTH])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int len = sizeof(md);

	if (!HMAC(EVP_sha256(), key, key_len, msg, n, md, &len))
		return false;
	memcpy(out, md, sizeof(md));
	OPENSSL_cleanse(md, sizeof(md));
	return true;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service), "aws4_request") */
static int signing_key(const char *secret, const struct auth *a,
		       unsigned char k[SHA256_DIGEST_LENGTH])
{
	size_t len = strlen(secret) + 4;
	char *key = malloc(len + 1);
	bool ok;

	if (!key)
		return -ENOMEM;
	memcpy(key, "AWS4", 4);
	memcpy(key + 4, secret, len - 4);
	ok = hmac(key, len, a->date.p, a->date.len, k) &&
	     hmac(k, SHA256_DIGEST_LENGTH, a->region.p, a->region.len, k) &&
	     hmac(k, SHA256_DIGEST_LENGTH, a->service.p, a->service.len, k) &&
	     hmac(k, SHA256_DIGEST_LENGTH, TERMINATOR, strlen(TERMINATOR), k);
	OPENSSL_cleanse(key, len);
	free(key);
	return ok ? 0 : -ENOMEM;
}

/* The hex SHA-256 of the canonical request. */
static int canonical_request_hash(const struct sigv4_request *r,
				  const struct auth *a, const char *payload,
				  char hex[HEX_LEN + 1], char *err,
				  size_t errlen)
{
	struct hasher h = { .ctx = EVP_MD_CTX_new() };
	unsigned char md[SHA256_DIGEST_LENGTH];
	int ret;

	if (!h.ctx || !EVP_DigestInit_ex(h.ctx, EVP_sha256(), NULL)) {
		ret = err__set(err, errlen, -ENOMEM, "libcrypto: SHA-256 failed");
		goto out;
	}
	for (const char *m = r->method ? r->method : ""; *m; m++)
		put_char(&h, *m >= 'a' && *m <= 'z' ? *m - 'a' + 'A' : *m);
	put_char(&h, '\n');
	ret = put_canonical_uri(&h, r->raw_path ? r->raw_path : "");
	if (ret)
		goto out;
	put_char(&h, '\n');
	ret = put_canonical_query(&h, r->raw_query, err, errlen);
	if (ret)
		goto out;
	put_char(&h, '\n');
	put_canonical_headers(&h, r, a->signed_headers);
	put_char(&h, '\n');
	put(&h, a->signed_headers.p, a->signed_headers.len);
	put_char(&h, '\n');
	put_str(&h, payload);
	hasher_flush(&h);
	if (h.failed || !EVP_DigestFinal_ex(h.ctx, md, NULL)) {
		ret = err__set(err, errlen, -ENOMEM, "libcrypto: SHA-256 failed");
		goto out;
	}
	to_hex(md, sizeof(md), hex);
out:
	if (ret == -ENOMEM && err && errlen && !*err)
		err__set(err, errlen, ret, "out of memory");
	EVP_MD_CTX_free(h.ctx);
	return ret;
}

int sigv4__verify(const struct sigv4_request *r, const struct sigv4_key *keys,
		  size_t n_keys, const char *service, time_t now, char *err,
		  size_t errlen)
{
	unsigned char k[SHA256_DIGEST_LENGTH], sig[SHA256_DIGEST_LENGTH];
	char cr_hex[HEX_LEN + 1], body_hex[HEX_LEN + 1], sig_hex[HEX_LEN + 1];
	const struct sigv4_key *key = NULL;
	const char *amz_date, *payload;
	char sts[512];
	struct auth a;
	size_t i;
	time_t t;
	int ret, n;

	if (err && errlen)
		*err = '\0';
	n = find_header(r, "authorization", 13, &i);
	if (!n)
		return err__set(err, errlen, -EINVAL, "Missing Authentication Token");
	if (n > 1 || !r->headers[i].value)
		return err__set(err, errlen, -EINVAL,
				"The request has more than one Authorization header");
	ret = parse_authorization(r->headers[i].value, &a, err, errlen);
	if (ret)
		return ret;

	n = find_header(r, "x-amz-date", 10, &i);
	if (!n)
		return err__set(err, errlen, -EINVAL,
				"Authorization header requires existence of a 'X-Amz-Date' header.");
	amz_date = r->headers[i].value;
	if (n > 1 || !amz_date || parse_amz_date(amz_date, &t))
		return err__set(err, errlen, -EINVAL,
				"X-Amz-Date must be one header in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");

	ret = check_signed_headers(r, a.signed_headers, err, errlen);
	if (ret)
		return ret;
	if (!span_is(a.terminator, TERMINATOR))
		return err__set(err, errlen, -EINVAL,
				"Credential should be scoped with a valid terminator: '"
				TERMINATOR "', not '%.*s'.",
				SPAN_QUOTE(a.terminator));
	if (!a.region.len)
		return err__set(err, errlen, -EINVAL,
				"Credential should be scoped to a valid region.");

	for (i = 0; i < n_keys && !key; i++)
		if (span_is(a.akid, keys[i].access_key_id))
			key = &keys[i];
	if (!key)
		return err__set(err, errlen, -ENOKEY,
				"The security token included in the request is invalid.");

	ret = check_window(amz_date, t, now, err, errlen);
	if (ret)
		return ret;
	if (a.date.len != 8 || memcmp(a.date.p, amz_date, 8))
		return err__set(err, errlen, -ETIME,
				"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%.*s' != '%.8s', from '%s'.",
				SPAN_QUOTE(a.date), amz_date, amz_date);
	if (!span_is(a.service, service))
		return err__set(err, errlen, -EACCES,
				"Credential should be scoped to correct service: '%s'.",
				service);

	ret = payload_hash(r, &payload, body_hex, err, errlen);
	if (ret)
		return ret;
	ret = canonical_request_hash(r, &a, payload, cr_hex, err, errlen);
	if (ret)
		return ret;

	n = snprintf(sts, sizeof(sts), ALGORITHM "\n%s\n%.*s/%.*s/%.*s/" TERMINATOR "\n%s",
		     amz_date, (int)a.date.len, a.date.p, (int)a.region.len,
		     a.region.p, (int)a.service.len, a.service.p, cr_hex);
	if (n < 0 || (size_t)n >= sizeof(sts))
		return err__set(err, errlen, -EINVAL,
				"Credential scope is too long");
	ret = signing_key(key->secret_access_key, &a, k);
	if (!ret && !hmac(k, sizeof(k), sts, n, sig))
		ret = -ENOMEM;
	OPENSSL_cleanse(k, sizeof(k));
	if (ret)
		return err__set(err, errlen, ret, "libcrypto: HMAC failed");
	to_hex(sig, sizeof(sig), sig_hex);
	if (CRYPTO_memcmp(sig_hex, a.signature.p, HEX_LEN))
		return err__set(err, errlen, -EACCES, MSG_MISMATCH);
	return 0;
}
