// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl rewind: return a clone (a thawvm that loaded a snapshot) to its
 * snapshot in place, PUT /snapshot/rewind, and print what it took as one
 * line of JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "tools/lib/clone.h"
#include "tools/lib/thawvm-api.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

#define DEFAULT_TIMEOUT_MS	60000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl rewind --api-sock PATH [--cid N] [--paused]\n"
		"Return a clone to the snapshot it was loaded from, in place, and\n"
		"print one JSON object: the backend, the pages returned, thawvm's\n"
		"times and the request's round trip.\n"
		"  --api-sock PATH     the clone's API socket\n"
		"  --cid N             a new vsock CID (3 .. 4294967294)\n"
		"  --paused            leave it paused (resume_vm false)\n"
		"  --timeout SEC       (default %d)\n"
		"Exit status: 0; 1 refused or failed (the fault message on\n"
		"stderr); 2 usage.\n", DEFAULT_TIMEOUT_MS / 1000);
}

int thawctl__rewind(int argc, char **argv)
{
	uint64_t timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *sock = NULL;
	bool resume = true;
	uint32_t cid = 0;
	const struct opt opts[] = {
		{ "api-sock", OPT_STRING, &sock },
		{ "cid", OPT_U32, &cid, 3, 0xfffffffe },
		{ "paused", OPT_CLEAR, &resume },
		{ "timeout", OPT_SECONDS, &timeout_ms },
		{}
	};
	struct json_object *o;
	struct clone_rewind r;
	char err[1024], ms[32];
	int rc;

	if (!options__parse("rewind", argc, argv, opts, usage, &rc))
		return rc;
	if (!sock || optind != argc) {
		usage(stderr);
		return THAWCTL_USAGE;
	}
	if (thawvm_api__global_init()) {
		fprintf(stderr, "thawctl rewind: cannot initialize libcurl\n");
		return THAWCTL_ERROR;
	}
	if (clone__rewind(sock, cid, resume, timeout_ms, &r, err,
			  sizeof(err))) {
		fprintf(stderr, "thawctl rewind: %s\n", err);
		return THAWCTL_ERROR;
	}
	o = json_object_new_object();
	json_object_object_add(o, "backend", json_object_new_string(r.backend));
	json_object_object_add(o, "pages", json_object_new_int64(r.pages));
	snprintf(ms, sizeof(ms), "%.1f", (r.t_done - r.t_sent) / 1e6);
	json_object_object_add(o, "rewind_ms",
			       json_object_new_double_s(atof(ms), ms));
	json_object_object_add(o, "pause_us", json_object_new_int64(r.pause_us));
	json_object_object_add(o, "memory_us",
			       json_object_new_int64(r.memory_us));
	json_object_object_add(o, "state_us", json_object_new_int64(r.state_us));
	if (r.guest_cid)
		json_object_object_add(o, "cid",
				       json_object_new_int64(r.guest_cid));
	json_object_object_add(o, "state", json_object_new_string(
			       resume ? "Running" : "Paused"));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
	return THAWCTL_OK;
}
