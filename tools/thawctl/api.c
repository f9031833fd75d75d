// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl api: one request to a thawvm's API socket, for scripts that
 * need an endpoint no other command wraps (FlushMetrics, PUT
 * /snapshot/wset, GET /vm/config ...).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tools/lib/thawvm-api.h"
#include "tools/lib/util.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

#define DEFAULT_TIMEOUT_MS	60000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl api --api-sock PATH METHOD PATH [BODY]\n"
		"Send one request to thawvm's API and print the answer's body.\n"
		"  --api-sock PATH     the VM's API socket\n"
		"  --timeout SEC       (default %d)\n"
		"  -i, --include       print the status line first\n"
		"Exit status: 0 for a 2xx answer, 1 otherwise (the fault message\n"
		"on stderr), 2 usage.\n", DEFAULT_TIMEOUT_MS / 1000);
}

int thawctl__api(int argc, char **argv)
{
	uint64_t timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *sock = NULL, *method, *path, *body;
	bool include = false;
	const struct opt opts[] = {
		{ "api-sock", OPT_STRING, &sock },
		{ "timeout", OPT_SECONDS, &timeout_ms },
		{ "include", OPT_FLAG, &include, .short_name = 'i' },
		{}
	};
	struct thawvm_api_resp r;
	char err[1024];
	int rc;

	if (!options__parse("api", argc, argv, opts, usage, &rc))
		return rc;
	if (!sock || argc - optind < 2 || argc - optind > 3) {
		usage(stderr);
		return THAWCTL_USAGE;
	}
	method = argv[optind];
	path = argv[optind + 1];
	body = argc - optind == 3 ? argv[optind + 2] : NULL;
	if (strcmp(method, "GET") && strcmp(method, "PUT") &&
	    strcmp(method, "PATCH")) {
		fprintf(stderr, "thawctl api: METHOD is GET, PUT or PATCH\n");
		return THAWCTL_USAGE;
	}
	if (thawvm_api__global_init()) {
		fprintf(stderr, "thawctl api: cannot initialize libcurl\n");
		return THAWCTL_ERROR;
	}
	if (thawvm_api__call_text(sock, method, path, body, (long)timeout_ms,
				  &r, err, sizeof(err))) {
		fprintf(stderr, "thawctl api: %s\n", err);
		return THAWCTL_ERROR;
	}
	if (include)
		printf("%ld\n", r.status);
	if (r.body_len)
		printf("%s\n", r.body);
	fflush(stdout);
	rc = r.status >= 200 && r.status <= 299 ? THAWCTL_OK : THAWCTL_ERROR;
	if (rc)
		fprintf(stderr, "thawctl api: %s %s: %ld %s\n", method, path,
			r.status, r.fault[0] ? r.fault : "");
	thawvm_api__resp_free(&r);
	return rc;
}
