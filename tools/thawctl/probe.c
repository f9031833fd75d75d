// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl probe: ask a function VM's thaw-init about itself: its vsock CID,
 * a few bytes of guest-side random data, whether the runtime is ready, its
 * clock.  Tests use it to prove that restored clones are distinct.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "proto/proto.h"
#include "tools/lib/invoke.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"
#include "tools/thawctl/thawctl.h"

#define DEFAULT_TIMEOUT_MS	10000
#define DEFAULT_RANDOM		16

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl probe (--uds PATH | --cid CID) [options]\n"
		"Ask a function VM's init about itself; prints JSON.\n"
		"  --uds PATH          the VM's vsock socket (Firecracker protocol)\n"
		"  --cid CID           the VM's vsock CID (AF_VSOCK)\n"
		"  --port N            the guest's invoke port (default %d)\n"
		"  --random-bytes N    guest random bytes to return (default %d)\n"
		"  --entropy N         feed N bytes of host entropy first (default 0)\n"
		"  --sync-clock        send the host's wall clock first\n"
		"  --timeout SEC       (default %d)\n"
		"Exit status: 0 ok, 1 error, 2 usage, 5 timeout.\n",
		THAW_INVOKE_PORT, DEFAULT_RANDOM, DEFAULT_TIMEOUT_MS / 1000);
}

int thawctl__probe(int argc, char **argv)
{
	enum {
		OPT_UDS = 256, OPT_CID, OPT_PORT, OPT_RANDOM, OPT_ENTROPY,
		OPT_CLOCK, OPT_TIMEOUT,
	};
	static const struct option longopts[] = {
		{ "uds", required_argument, NULL, OPT_UDS },
		{ "cid", required_argument, NULL, OPT_CID },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "random-bytes", required_argument, NULL, OPT_RANDOM },
		{ "entropy", required_argument, NULL, OPT_ENTROPY },
		{ "sync-clock", no_argument, NULL, OPT_CLOCK },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct vsock_target target = { .port = THAW_INVOKE_PORT };
	struct thaw_probe probe = { .random_bytes = DEFAULT_RANDOM };
	struct json_object *meta = NULL, *rmeta = NULL;
	uint64_t timeout_ms = DEFAULT_TIMEOUT_MS, deadline;
	uint32_t entropy = 0;
	bool have_cid = false, clock = false;
	struct thaw_msg_hdr hdr;
	char err[256], *body = NULL;
	int opt, fd = -1, ret, rc = THAWCTL_ERROR;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_UDS:
			target.uds = optarg;
			break;
		case OPT_CID:
			if (util__parse_u32(optarg, 1, 0xfffffffe,
					       &target.cid))
				goto bad_arg;
			have_cid = true;
			break;
		case OPT_PORT:
			if (util__parse_u32(optarg, 1, 0xfffffffe,
					       &target.port))
				goto bad_arg;
			break;
		case OPT_RANDOM:
			if (util__parse_u32(optarg, 0, THAW_PROBE_RANDOM_MAX,
					       &probe.random_bytes))
				goto bad_arg;
			break;
		case OPT_ENTROPY:
			if (util__parse_u32(optarg, 0, THAW_ENTROPY_MAX,
					       &entropy))
				goto bad_arg;
			break;
		case OPT_CLOCK:
			clock = true;
			break;
		case OPT_TIMEOUT:
			if (util__parse_seconds(optarg, &timeout_ms))
				goto bad_arg;
			break;
		case 'h':
			usage(stdout);
			return THAWCTL_OK;
		default:
			usage(stderr);
			return THAWCTL_USAGE;
		}
	}
	if (optind != argc || !target.uds == !have_cid) {
		fprintf(stderr, "thawctl probe: give exactly one of --uds and --cid\n");
		return THAWCTL_USAGE;
	}
	deadline = util__now_ms() + timeout_ms;
	fd = vsock_client__connect(&target, deadline, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "thawctl probe: %s\n", err);
		return fd == -ETIMEDOUT ? THAWCTL_TIMEOUT : THAWCTL_ERROR;
	}
	if (invoke__host_state(&probe.host, entropy, clock)) {
		fprintf(stderr, "thawctl probe: no host entropy\n");
		goto out;
	}
	meta = proto__probe_to_meta(&probe);
	ret = meta ? vsock_client__send_msg(fd, THAW_MSG_PROBE, meta, NULL, 0,
				     deadline) : -ENOMEM;
	if (ret) {
		fprintf(stderr, "thawctl probe: sending: %s\n", strerror(-ret));
		rc = ret == -ETIMEDOUT ? THAWCTL_TIMEOUT : THAWCTL_ERROR;
		goto out;
	}
	ret = vsock_client__recv_msg(fd, &hdr, &rmeta, &body, deadline, err,
			      sizeof(err));
	if (ret) {
		fprintf(stderr, "thawctl probe: %s\n", err);
		rc = ret == -ETIMEDOUT ? THAWCTL_TIMEOUT : THAWCTL_ERROR;
		goto out;
	}
	if (hdr.type != THAW_MSG_PROBE_REPLY) {
		/* A RESULT here is a refusal; its body says why. */
		fprintf(stderr, "thawctl probe: the guest refused: %s %s\n",
			json_object_to_json_string_ext(rmeta,
						THAW_JSON_FLAGS),
			body ?: "");
		goto out;
	}
	printf("%s\n", json_object_to_json_string_ext(rmeta,
						THAW_JSON_FLAGS));
	rc = THAWCTL_OK;
out:
	close(fd);
	json_object_put(meta);
	json_object_put(rmeta);
	free(body);
	return rc;
bad_arg:
	fprintf(stderr, "thawctl probe: bad value for --%s: '%s'\n",
		longopts[opt - OPT_UDS].name, optarg);
	return THAWCTL_USAGE;
}
