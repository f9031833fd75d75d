// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl invoke: send one invocation to a function VM and print the
 * function's response body.  Exit codes: enum thawctl_exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "proto/proto.h"
#include "tools/lib/invoke.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

#define DEFAULT_TIMEOUT_MS	30000
#define DEFAULT_ENTROPY		32

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl invoke (--uds PATH | --cid CID) [options]\n"
		"Send one invocation to a function VM and print the response body.\n"
		"  --uds PATH          the VM's vsock socket (Firecracker protocol)\n"
		"  --cid CID           the VM's vsock CID (AF_VSOCK, vhost-vsock)\n"
		"  --port N            the guest's invoke port (default %d)\n"
		"  --payload JSON      the event (default: read from stdin)\n"
		"  --raw               send the payload even if it is not JSON\n"
		"  --timeout SEC       the function's deadline (default %d)\n"
		"  --request-id ID     (default: a random UUID)\n"
		"  --function-arn ARN, --trace-id ID, --client-context S,\n"
		"  --cognito-identity S   Lambda-Runtime-* headers for the runtime\n"
		"  --entropy N         bytes of fresh host entropy to feed the\n"
		"                      guest CRNG (default %d, 0: none)\n"
		"  --no-sync-clock     do not send the host's wall clock\n"
		"  -v, --verbose       the result's metadata and timing on stderr\n"
		"Exit status: 0 ok, 1 error, 2 usage, 3 function error,\n"
		"4 init error, 5 timeout.\n",
		THAW_INVOKE_PORT, DEFAULT_TIMEOUT_MS / 1000, DEFAULT_ENTROPY);
}

static int read_stdin(char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap > THAW_PROTO_BODY_MAX) {
				free(buf);
				return -EMSGSIZE;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = read(0, buf + n, cap - n);
		if (r < 0) {
			free(buf);
			return -errno;
		}
		if (!r)
			break;
		n += r;
	}
	if (n > THAW_PROTO_BODY_MAX) {
		free(buf);
		return -EMSGSIZE;
	}
	*out = buf;
	*len = n;
	return 0;
}

static bool valid_json(const char *s, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	bool ok;

	if (!tok)
		return false;
	o = json_tokener_parse_ex(tok, s, len);
	ok = o && json_tokener_get_error(tok) == json_tokener_success &&
		(size_t)json_tokener_get_parse_end(tok) == len;
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

/* A Lambda-Runtime-* header's value (an OPT_FUNC option). */
static int header_opt(const char *arg, void *dst, char *why, size_t whylen)
{
	if (!proto__valid_header_value(arg, strlen(arg),
				       THAW_HEADER_VALUE_MAX)) {
		snprintf(why, whylen,
			 "must be printable ASCII of at most %d bytes",
			 THAW_HEADER_VALUE_MAX);
		return -EINVAL;
	}
	*(char **)dst = (char *)arg;
	return 0;
}

int thawctl__exit_code(enum thaw_status status)
{
	switch (status) {
	case THAW_STATUS_OK:
		return THAWCTL_OK;
	case THAW_STATUS_FUNCTION_ERROR:
		return THAWCTL_FUNCTION_ERROR;
	case THAW_STATUS_INIT_ERROR:
		return THAWCTL_INIT_ERROR;
	case THAW_STATUS_TIMEOUT:
		return THAWCTL_TIMEOUT;
	default:
		return THAWCTL_ERROR;
	}
}

int thawctl__invoke(int argc, char **argv)
{
	struct target_opts to = { .t.port = THAW_INVOKE_PORT,
				  .timeout_ms = DEFAULT_TIMEOUT_MS };
	struct thaw_invoke inv = {};
	const char *payload_arg = NULL, *id = NULL;
	uint32_t entropy = DEFAULT_ENTROPY;
	bool raw = false, clock = true, verbose = false;
	const struct opt opts[] = {
		TARGET_OPTS(&to),
		{ "payload", OPT_STRING, &payload_arg },
		{ "raw", OPT_FLAG, &raw },
		{ "request-id", OPT_STRING, &id },
		{ "function-arn", OPT_FUNC, &inv.function_arn,
		  .parse = header_opt },
		{ "trace-id", OPT_FUNC, &inv.trace_id, .parse = header_opt },
		{ "client-context", OPT_FUNC, &inv.client_context,
		  .parse = header_opt },
		{ "cognito-identity", OPT_FUNC, &inv.cognito_identity,
		  .parse = header_opt },
		{ "entropy", OPT_U32, &entropy, 0, THAW_ENTROPY_MAX },
		{ "no-sync-clock", OPT_CLEAR, &clock },
		{ "verbose", OPT_FLAG, &verbose, .short_name = 'v' },
		{}
	};
	struct thaw_result res;
	struct invoke_reply reply = {};
	char *payload = NULL, err[256];
	size_t payload_len = 0;
	int ret, rc = THAWCTL_ERROR;

	if (!options__parse("invoke", argc, argv, opts, usage, &rc))
		return rc;
	if (!options__one_target("invoke", argc, &to)) {
		usage(stderr);
		return THAWCTL_USAGE;
	}
	/* Without --request-id, invoke__prepare() makes a random UUID. */
	if (id) {
		if (!proto__valid_request_id(id, strlen(id))) {
			fprintf(stderr,
				"thawctl invoke: --request-id must be 1..%d of [A-Za-z0-9._:-]\n",
				THAW_REQUEST_ID_MAX);
			return THAWCTL_USAGE;
		}
		strcpy(inv.request_id, id);
	}

	if (payload_arg) {
		payload_len = strlen(payload_arg);
		if (payload_len > THAW_PROTO_BODY_MAX) {
			fprintf(stderr, "thawctl invoke: the payload is over %d bytes\n",
				THAW_PROTO_BODY_MAX);
			return THAWCTL_USAGE;
		}
	} else {
		ret = read_stdin(&payload, &payload_len);
		if (ret) {
			fprintf(stderr, "thawctl invoke: reading stdin: %s\n",
				ret == -EMSGSIZE ? "over the 6 MB limit" :
				strerror(-ret));
			return THAWCTL_USAGE;
		}
		payload_arg = payload;
	}
	if (!raw && !valid_json(payload_arg, payload_len)) {
		fprintf(stderr,
			"thawctl invoke: the payload is not valid JSON (--raw sends it anyway)\n");
		rc = THAWCTL_USAGE;
		goto out;
	}

	if (invoke__prepare(&inv, to.timeout_ms, entropy, clock)) {
		fprintf(stderr, "thawctl invoke: no host entropy\n");
		goto out;
	}
	ret = invoke__call(&to.t, &inv, payload_arg, payload_len,
			   to.timeout_ms, 0, &reply, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "thawctl invoke: %s\n", err);
		rc = ret == -ETIMEDOUT ? THAWCTL_TIMEOUT : THAWCTL_ERROR;
		goto out;
	}
	res = reply.res;
	if (verbose)
		fprintf(stderr, "thawctl invoke: %s in %llu ms: %s\n",
			inv.request_id,
			(unsigned long long)reply.elapsed_ms,
			json_object_to_json_string_ext(reply.meta,
						THAW_JSON_FLAGS));
	if (reply.body_len && fwrite(reply.body, 1, reply.body_len, stdout) !=
	    reply.body_len) {
		fprintf(stderr, "thawctl invoke: writing stdout failed\n");
		goto out;
	}
	fflush(stdout);
	rc = thawctl__exit_code(res.status);
	if (rc != THAWCTL_OK)
		fprintf(stderr, "thawctl invoke: %s%s%s\n",
			proto__status_name(res.status),
			res.error_type[0] ? ": " : "", res.error_type);
out:
	invoke__reply_free(&reply);
	free(payload);
	return rc;
}
