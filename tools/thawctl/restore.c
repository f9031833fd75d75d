// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl restore: start a thawvm process and load a snapshot directory in
 * it as a clone with its own API socket, vsock socket and CID; print its
 * pid.  Optionally send the clone's first invocation right after the load
 * and time restore to first response.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "proto/proto.h"
#include "tools/lib/clone.h"
#include "tools/lib/invoke.h"
#include "tools/lib/thawvm-api.h"
#include "tools/lib/util.h"
#include "tools/lib/vm-counts.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

#define DEFAULT_TIMEOUT_MS	60000
#define INVOKE_ENTROPY		32

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl restore SNAPDIR --api-sock PATH --uds PATH --cid N [options]\n"
		"Start a thawvm and load SNAPDIR in it as a clone; print its pid.\n"
		"  --api-sock PATH     the clone's API socket\n"
		"  --uds PATH          its vsock socket (at most 95 bytes)\n"
		"  --cid N             its vsock CID (3 .. 4294967294)\n"
		"  --backend B         memory backend: File (default), Uffd, Thaw\n"
		"  --wset              prefetch SNAPDIR/wset before the vCPUs run\n"
		"  --uffd-sock PATH    Uffd: a running thaw-uffd-handler's socket\n"
		"                      (default: start one for this clone)\n"
		"  --record-wset       record the pages this clone touches\n"
		"                      (then PUT /snapshot/wset)\n"
		"  --track-dirty       track dirty pages (a Diff snapshot later)\n"
		"  --enable-rewind     File: log dirty pages so that thawctl rewind\n"
		"                      can return it to SNAPDIR (Thaw always can)\n"
		"  --paused            leave the clone paused\n"
		"  --invoke JSON       send the first invocation and print the\n"
		"                      response after the pid\n"
		"  --json              print one JSON object instead: pid,\n"
		"                      timings, response\n"
		"  --timeout SEC       for each step (default %d)\n"
		"  --id ID             thawvm's instance id\n"
		"  --log FILE          thawvm's (and the handler's) log, appended\n"
		"  --console FILE      the guest console, appended\n"
		"  --metrics FILE      thawvm's metrics file (FlushMetrics)\n"
		"  --thawvm PATH, --uffd-handler PATH   the programs\n"
		"Stop the clone with 'kill PID'.  Exit status: 0; 1 error (nothing\n"
		"is left running); 2 usage; with --invoke 3, 4, 5 as thawctl invoke.\n",
		DEFAULT_TIMEOUT_MS / 1000);
}

static double ms_between(uint64_t a, uint64_t b)
{
	return b > a ? (b - a) / 1e6 : 0;
}

static struct json_object *response_json(const struct invoke_reply *r)
{
	struct json_object *o;

	if (!r->body)
		return NULL;
	o = json_tokener_parse(r->body);
	return o ? o : json_object_new_string(r->body);
}

int thawctl__restore(int argc, char **argv)
{
	struct clone_opts o = { .resume = true,
				.timeout_ms = DEFAULT_TIMEOUT_MS };
	const char *payload = NULL;
	bool json = false, have_cid = false;
	const struct opt opts[] = {
		{ "api-sock", OPT_STRING, &o.api_sock },
		{ "uds", OPT_STRING, &o.uds },
		{ "cid", OPT_U32, &o.cid, 3, 0xfffffffe, .seen = &have_cid },
		{ "backend", OPT_FUNC, &o.backend, .parse = options__backend },
		{ "wset", OPT_FLAG, &o.wset },
		{ "uffd-sock", OPT_STRING, &o.uffd_sock },
		{ "record-wset", OPT_FLAG, &o.record_wset },
		{ "track-dirty", OPT_FLAG, &o.track_dirty },
		{ "enable-rewind", OPT_FLAG, &o.enable_rewind },
		{ "paused", OPT_CLEAR, &o.resume },
		{ "invoke", OPT_STRING, &payload },
		{ "json", OPT_FLAG, &json },
		{ "timeout", OPT_SECONDS, &o.timeout_ms },
		{ "id", OPT_STRING, &o.id },
		{ "log", OPT_STRING, &o.log },
		{ "console", OPT_STRING, &o.console },
		{ "metrics", OPT_STRING, &o.metrics },
		{ "thawvm", OPT_STRING, &o.thawvm },
		{ "uffd-handler", OPT_STRING, &o.uffd_handler },
		{}
	};
	struct invoke_reply reply = {};
	struct thaw_invoke inv = {};
	struct vsock_target target = { .port = THAW_INVOKE_PORT };
	uint64_t t_response = 0;
	struct vm_counts counts;
	struct clone c;
	char err[1024];
	int ret, rc = THAWCTL_ERROR;

	if (!options__parse("restore", argc, argv, opts, usage, &rc))
		return rc;
	if (optind + 1 != argc || !o.api_sock || !o.uds || !have_cid) {
		fprintf(stderr, "thawctl restore: %s\n", optind + 1 != argc ?
			"give one snapshot directory" :
			"--api-sock, --uds and --cid are required");
		usage(stderr);
		return THAWCTL_USAGE;
	}
	o.snapdir = argv[optind];
	if (o.uffd_sock && o.backend != CLONE_UFFD) {
		fprintf(stderr, "thawctl restore: --uffd-sock is for --backend Uffd\n");
		return THAWCTL_USAGE;
	}
	if (o.uffd_sock && o.wset) {
		fprintf(stderr, "thawctl restore: with --uffd-sock the handler's own --wset decides the prefetch\n");
		return THAWCTL_USAGE;
	}
	if (payload && !o.resume) {
		fprintf(stderr, "thawctl restore: --invoke needs a running clone, not --paused\n");
		return THAWCTL_USAGE;
	}
	if (payload) {
		struct json_object *p = json_tokener_parse(payload);

		if (!p) {
			fprintf(stderr, "thawctl restore: the --invoke payload is not valid JSON\n");
			return THAWCTL_USAGE;
		}
		json_object_put(p);
		if (strlen(payload) > THAW_PROTO_BODY_MAX) {
			fprintf(stderr, "thawctl restore: the payload is over %d bytes\n",
				THAW_PROTO_BODY_MAX);
			return THAWCTL_USAGE;
		}
	}
	if (thawvm_api__global_init()) {
		fprintf(stderr, "thawctl restore: cannot initialize libcurl\n");
		return THAWCTL_ERROR;
	}

	ret = clone__spawn(&o, &c, err, sizeof(err));
	if (!ret)
		ret = clone__load(&o, &c, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "thawctl restore: %s\n", err);
		return THAWCTL_ERROR;
	}
	if (payload) {
		target.uds = o.uds;
		if (invoke__prepare(&inv, o.timeout_ms, INVOKE_ENTROPY,
				    true)) {
			fprintf(stderr, "thawctl restore: no host entropy\n");
			goto fail;
		}
		ret = invoke__call(&target, &inv, payload, strlen(payload),
				   o.timeout_ms, INVOKE_RETRY_CONNECT, &reply,
				   err, sizeof(err));
		t_response = util__now_ns();
		vm_counts__read(c.pid, &counts);
		if (ret) {
			fprintf(stderr, "thawctl restore: the first invocation: %s\n",
				err);
			goto fail;
		}
		rc = thawctl__exit_code(reply.res.status);
		if (rc != THAWCTL_OK)
			fprintf(stderr, "thawctl restore: the first invocation: %s%s%s\n",
				proto__status_name(reply.res.status),
				reply.res.error_type[0] ? ": " : "",
				reply.res.error_type);
	} else {
		rc = THAWCTL_OK;
	}

	if (json) {
		struct json_object *out = json_object_new_object();

		json_object_object_add(out, "pid", json_object_new_int(c.pid));
		json_object_object_add(out, "backend", json_object_new_string(
				clone__backend_name(o.backend)));
		json_object_object_add(out, "spawn_ms", json_object_new_double(
				ms_between(c.t_spawn, c.t_api)));
		json_object_object_add(out, "load_ms", json_object_new_double(
				ms_between(c.t_load, c.t_loaded)));
		if (payload) {
			json_object_object_add(out, "restore_to_response_ms",
					json_object_new_double(ms_between(
						c.t_load, t_response)));
			json_object_object_add(out, "status",
					json_object_new_string(
					proto__status_name(reply.res.status)));
			json_object_object_add(out, "response",
					       response_json(&reply));
			vm_counts__to_json(&counts, out);
		}
		printf("%s\n", json_object_to_json_string_ext(out,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(out);
	} else {
		printf("%d\n", (int)c.pid);
		if (reply.body_len)
			printf("%s\n", reply.body);
	}
	fflush(stdout);
	invoke__reply_free(&reply);
	return rc;
fail:
	clone__stop(&c);
	invoke__reply_free(&reply);
	return THAWCTL_ERROR;
}
