/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AWS Signature Version 4, the server's side: checks the Authorization
 * header of a request signed the way botocore (the aws CLI) signs one for
 * a REST service such as lambda.  Only the header form (no presigned
 * query), only AWS4-HMAC-SHA256, only X-Amz-Date (not Date).
 *
 * The rules this verifier follows where the specification leaves room:
 *  - canonical URI: @raw_path as on the wire, dot segments and empty
 *    segments removed, then URI-encoded once more ('/' and the unreserved
 *    characters kept), as botocore does for every service but S3: a wire
 *    path ".../fn%3Aprod/..." is signed as ".../fn%253Aprod/...".
 *  - canonical query: @raw_query split on '&', each name and value
 *    percent-decoded and encoded again strictly (A-Z a-z 0-9 - _ . ~ kept,
 *    the rest %XX, '+' is a plus), sorted by name then value; empty pieces
 *    ("a=1&&b=2") are skipped.
 *  - canonical headers: the names of SignedHeaders (which must be
 *    lowercase, sorted, unique and include host), each with the values of
 *    every request header of that name in any case, in the order received,
 *    trimmed, inner runs of whitespace made one space, joined by ','.
 *  - payload: the hex SHA-256 of the body; where an x-amz-content-sha256
 *    header is present, its value stands in the canonical request as
 *    botocore puts it, and it must be the body's SHA-256 in hex:
 *    UNSIGNED-PAYLOAD and the STREAMING-* forms are refused, so the body
 *    is always covered by the signature.
 *  - the credential scope's region is not checked (the client's
 *    configured region, whatever it is); its service must be @service.
 *  - X-Amz-Security-Token, when present, is only a header like another:
 *    the keys here are long-term keys.
 */
#ifndef THAW_TOOLS_THAWD_SIGV4_H
#define THAW_TOOLS_THAWD_SIGV4_H

#include <stddef.h>
#include <time.h>

/* How far X-Amz-Date may be from the server's clock, as AWS allows. */
#define SIGV4_MAX_SKEW_S	(15 * 60)

struct sigv4_header {
	const char *name;		/* as received; any case */
	const char *value;		/* as received, untrimmed */
};

struct sigv4_request {
	const char *method;		/* "POST" */
	const char *raw_path;		/* as on the wire, still percent-encoded, no query */
	const char *raw_query;		/* as on the wire without '?', or NULL */
	const struct sigv4_header *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
};

struct sigv4_key {
	const char *access_key_id;
	const char *secret_access_key;
};

/*
 * Verify @r's "Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/
 * SERVICE/aws4_request, SignedHeaders=..., Signature=..." against the key
 * with that id among @keys.  @service: "lambda".  @now: the server's clock.
 *
 * Returns 0 when it verifies;
 *  -EINVAL  Authorization or X-Amz-Date missing, repeated or malformed, a
 *           signed header missing, host not signed, a bad %-escape in the
 *           query;
 *  -ENOKEY  no key with that access key id;
 *  -ETIME   X-Amz-Date more than SIGV4_MAX_SKEW_S from @now, or the
 *           credential scope's date is not X-Amz-Date's;
 *  -EACCES  the signature does not match, the scope names another service,
 *           or x-amz-content-sha256 is not the body's SHA-256;
 *  -ENOMEM  out of memory or libcrypto failed.
 * @err (@errlen bytes) says why, in AWS's words where AWS has them.  The
 * message may quote parts of the request: escape it before putting it in
 * JSON or a log.
 */
int sigv4__verify(const struct sigv4_request *r, const struct sigv4_key *keys,
		  size_t n_keys, const char *service, time_t now, char *err,
		  size_t errlen);

#endif
