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
	enum { OPT_API = 256, OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "api-sock", required_argument, NULL, OPT_API },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "include", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	uint64_t timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *sock = NULL, *method, *path, *body;
	struct thawvm_api_resp r;
	bool include = false;
	char err[1024];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "ih", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_API:
			sock = optarg;
			break;
		case OPT_TIMEOUT:
			if (util__parse_seconds(optarg, &timeout_ms)) {
				fprintf(stderr, "thawctl api: bad --timeout\n");
				return THAWCTL_USAGE;
			}
			break;
		case 'i':
			include = true;
			break;
		case 'h':
			usage(stdout);
			return THAWCTL_OK;
		default:
			usage(stderr);
			return THAWCTL_USAGE;
		}
	}
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
	if (thawvm_api__call_text(sock, method, path, body, (long)timeout_ms, &r,
			     err, sizeof(err))) {
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
