// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl probe: ask a function VM's thaw-init about itself: its vsock CID,
 * a few bytes of guest-side random data, whether the runtime is ready, its
 * clock.  Tests use it to prove that restored clones are distinct.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "proto/proto.h"
#include "tools/lib/invoke.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"
#include "tools/thawctl/options.h"
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
	struct target_opts to = { .t.port = THAW_INVOKE_PORT,
				  .timeout_ms = DEFAULT_TIMEOUT_MS };
	struct thaw_probe probe = { .random_bytes = DEFAULT_RANDOM };
	uint32_t entropy = 0;
	bool clock = false;
	const struct opt opts[] = {
		TARGET_OPTS(&to),
		{ "random-bytes", OPT_U32, &probe.random_bytes, 0,
		  THAW_PROBE_RANDOM_MAX },
		{ "entropy", OPT_U32, &entropy, 0, THAW_ENTROPY_MAX },
		{ "sync-clock", OPT_FLAG, &clock },
		{}
	};
	struct json_object *meta = NULL, *rmeta = NULL;
	uint64_t deadline;
	struct thaw_msg_hdr hdr;
	char err[256], *body = NULL;
	int fd = -1, ret, rc = THAWCTL_ERROR;

	if (!options__parse("probe", argc, argv, opts, usage, &rc))
		return rc;
	if (!options__one_target("probe", argc, &to))
		return THAWCTL_USAGE;
	deadline = util__now_ms() + to.timeout_ms;
	fd = vsock_client__connect(&to.t, deadline, err, sizeof(err));
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
}
