// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl wait-ready: wait for a function VM's "ready" notification (its
 * runtime asked for the first invocation: the SnapStart checkpoint) and
 * print it as JSON.  Start it before the VM boots.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "proto/proto.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

#define DEFAULT_TIMEOUT_MS	120000
/* Once connected, the guest sends its message at once. */
#define MESSAGE_TIMEOUT_MS	10000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl wait-ready (--uds PATH | --vsock) [options]\n"
		"Wait for a function VM to report that its runtime is ready.\n"
		"  --uds PATH      the VM's vsock socket: listen on PATH_PORT\n"
		"  --vsock         listen on AF_VSOCK (vhost-vsock peers)\n"
		"  --port N        the host port the guest reports to (default %d)\n"
		"  --timeout SEC   give up after SEC (default %d)\n"
		"Prints the guest's ready message (JSON) on stdout.\n"
		"Exit status: 0 ready, 1 error, 2 usage, 5 timeout.\n",
		THAW_READY_PORT, DEFAULT_TIMEOUT_MS / 1000);
}

int thawctl__wait_ready(int argc, char **argv)
{
	uint64_t timeout_ms = DEFAULT_TIMEOUT_MS, deadline;
	uint32_t port = THAW_READY_PORT;
	const char *uds = NULL;
	bool vsock = false;
	const struct opt opts[] = {
		{ "uds", OPT_STRING, &uds },
		{ "vsock", OPT_FLAG, &vsock },
		{ "port", OPT_U32, &port, 1, 0xfffffffe },
		{ "timeout", OPT_SECONDS, &timeout_ms },
		{}
	};
	char path[256], err[256], *body = NULL;
	struct json_object *meta = NULL;
	struct thaw_msg_hdr hdr;
	int lfd, fd = -1, ret, rc = THAWCTL_ERROR;

	if (!options__parse("wait-ready", argc, argv, opts, usage, &rc))
		return rc;
	if (optind != argc || !uds == !vsock) {
		fprintf(stderr, "thawctl wait-ready: give exactly one of --uds and --vsock\n");
		return THAWCTL_USAGE;
	}
	deadline = util__now_ms() + timeout_ms;
	lfd = vsock_client__listen(uds, port, path, sizeof(path), err,
				   sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, "thawctl wait-ready: %s\n", err);
		return THAWCTL_ERROR;
	}
	/*
	 * A connection that brings no valid READY (a reset clone, a stray
	 * client) is dropped and we keep waiting.
	 */
	for (;;) {
		uint64_t msg_deadline;

		fd = vsock_client__accept(lfd, deadline);
		if (fd < 0) {
			if (fd == -ETIMEDOUT) {
				fprintf(stderr, "thawctl wait-ready: no ready notification in %llu ms\n",
					(unsigned long long)timeout_ms);
				rc = THAWCTL_TIMEOUT;
			} else {
				fprintf(stderr, "thawctl wait-ready: accept: %s\n",
					strerror(-fd));
			}
			goto out;
		}
		msg_deadline = util__now_ms() + MESSAGE_TIMEOUT_MS;
		if (msg_deadline > deadline)
			msg_deadline = deadline;
		ret = vsock_client__recv_msg(fd, &hdr, &meta, &body,
					     msg_deadline, err, sizeof(err));
		if (!ret && hdr.type == THAW_MSG_READY)
			break;
		fprintf(stderr, "thawctl wait-ready: ignoring a connection: %s\n",
			ret ? err : "not a READY message");
		json_object_put(meta);
		meta = NULL;
		free(body);
		body = NULL;
		close(fd);
		fd = -1;
	}
	printf("%s\n", json_object_to_json_string_ext(meta,
						THAW_JSON_FLAGS));
	fflush(stdout);
	rc = THAWCTL_OK;
out:
	if (fd >= 0)
		close(fd);
	close(lfd);
	if (uds)
		unlink(path);
	json_object_put(meta);
	free(body);
	return rc;
}
