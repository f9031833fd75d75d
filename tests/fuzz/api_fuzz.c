// SPDX-License-Identifier: GPL-2.0
/*
 * thawvm's API routes (vmm/api-route.c) without HTTP: an input is a
 * session of requests against one fresh API, each a method byte, a path
 * byte (one of the routes, a wrong one, or a path from the input), a
 * length and a JSON body.  The machine behind it is a fake that follows
 * the API's calls (start, pause, snapshots) and fails when a request's
 * method byte asks it to, so that the pre-boot and post-boot rules and
 * the error paths all run.  Every answer must be 200, 204 or 400, a
 * 400 with a fault_message.  PUT /logger and /metrics open the paths
 * they are given: here every open(2) is of /dev/null.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz.h"
#include "vmm/api-route.h"
#include "vmm/snapshot/snapshot.h"

static const char *const paths[] = {
	"/", "/version", "/machine-config", "/vm/config", "/boot-source",
	"/vsock", "/logger", "/metrics", "/serial", "/actions", "/vm",
	"/snapshot/create", "/snapshot/load", "/snapshot/wset",
	"/snapshot/rewind", "/snapshot", "", "/network-interfaces/eth0",
	"/network-interfaces/",
};
static const char *const methods[] = { "GET", "PUT", "PATCH", "DELETE" };

/* The fake machine. */
static enum vmm_state state;
static bool fail;

static int outcome(char *err, size_t errlen)
{
	if (!fail)
		return 0;
	snprintf(err, errlen, "the fake machine says no");
	return -EIO;
}

enum vmm_state vmm__state(struct vmm *vmm)
{
	return state;
}

int vmm__start(struct vmm *vmm, const struct vm_config *cfg, char *err,
	       size_t errlen)
{
	FUZZ_CHECK(state == VMM_NOT_STARTED);
	FUZZ_CHECK(cfg->has_boot_source);
	if (outcome(err, errlen))
		return -EIO;
	state = VMM_RUNNING;
	return 0;
}

/* A started machine goes to @to, unless it fails. */
static int move_to(enum vmm_state to, char *err, size_t errlen)
{
	FUZZ_CHECK(state != VMM_NOT_STARTED);
	if (outcome(err, errlen))
		return -EIO;
	state = to;
	return 0;
}

int vmm__pause(struct vmm *vmm, char *err, size_t errlen)
{
	return move_to(VMM_PAUSED, err, errlen);
}

int vmm__resume(struct vmm *vmm, char *err, size_t errlen)
{
	return move_to(VMM_RUNNING, err, errlen);
}

int vmm__send_ctrl_alt_del(struct vmm *vmm, char *err, size_t errlen)
{
	FUZZ_CHECK(state != VMM_NOT_STARTED);
	return outcome(err, errlen);
}

int vmm__snapshot_create(struct vmm *vmm,
			 const struct snapshot_create_params *p, char *err,
			 size_t errlen)
{
	FUZZ_CHECK(p->snapshot_path && p->mem_file_path);
	return outcome(err, errlen);
}

int vmm__snapshot_load(struct vmm *vmm, const struct snapshot_load_params *p,
		       struct vm_config *cfg_out, char *err, size_t errlen)
{
	FUZZ_CHECK(state == VMM_NOT_STARTED);
	FUZZ_CHECK(p->snapshot_path);
	if (outcome(err, errlen))
		return -EIO;
	cfg_out->machine.vcpu_count = 1;
	cfg_out->machine.mem_size_mib = 128;
	state = p->resume_vm ? VMM_RUNNING : VMM_PAUSED;
	return 0;
}

int vmm__snapshot_wset(struct vmm *vmm, const char *path, char *err,
		       size_t errlen)
{
	FUZZ_CHECK(path && *path);
	return outcome(err, errlen);
}

int vmm__snapshot_rewind(struct vmm *vmm,
			 const struct snapshot_rewind_params *p,
			 struct snapshot_rewind_stats *st, char *err,
			 size_t errlen)
{
	if (outcome(err, errlen))
		return -EIO;
	memset(st, 0, sizeof(*st));
	st->backend = "File";
	st->pages = 3;
	state = p->resume_vm ? VMM_RUNNING : VMM_PAUSED;
	return 0;
}

int vmm__drive_update(struct vmm *vmm, const char *id, const char *path,
		      char *err, size_t errlen)
{
	return state == VMM_RUNNING || state == VMM_PAUSED ? 0 :
	       err__set(err, errlen, -EINVAL, "the microVM is not running");
}

void vmm__stats(struct vmm *vmm, struct vmm_stats *out)
{
	memset(out, 0, sizeof(*out));
}

/* Linked with -Wl,--wrap=open (tests/fuzz/fuzz.mk). */
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);

int __wrap_open(const char *path, int flags, ...)
{
	return __real_open("/dev/null", flags & ~(O_CREAT | O_TRUNC));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The routes log their work; the fuzzer's output is enough. */
	log__set_program("api_fuzz", LOG_ERROR);
	return 0;
}

static void check_answer(const struct api_resp *r)
{
	json_object *m;

	FUZZ_CHECK(r->status == 200 || r->status == 204 || r->status == 400);
	if (r->status == 400)
		FUZZ_CHECK(r->body &&
			   json_object_object_get_ex(r->body, "fault_message",
						     &m));
	if (r->status == 204)
		FUZZ_CHECK(!r->body);
	if (r->body)
		FUZZ_CHECK(json_object_to_json_string(r->body));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct api_state api;
	char path[64];

	memset(&api, 0, sizeof(api));
	api.id = "fuzz";
	vm_config__init(&api.cfg);
	state = VMM_NOT_STARTED;
	while (in.n) {
		uint8_t m = fuzz__u8(&in), p = fuzz__u8(&in);
		size_t len = fuzz__u8(&in) | (size_t)fuzz__u8(&in) << 8;
		const char *url = path;
		struct api_resp r = { 0 };

		fail = m & 0x80;
		if (len > in.n)
			len = in.n;
		if (p < sizeof(paths) / sizeof(paths[0])) {
			url = paths[p];
		} else {
			/* The next bytes, up to a NUL, are the path. */
			size_t i = 0;

			while (in.n && i < sizeof(path) - 1 &&
			       (path[i] = fuzz__u8(&in)))
				i++;
			path[i] = 0;
			if (len > in.n)
				len = in.n;
		}
		api__dispatch(&api, methods[m & 3], url, (const char *)in.p,
			      len, m & 0x40, &r);
		in.p += len;
		in.n -= len;
		check_answer(&r);
		json_object_put(r.body);
	}
	vm_config__free(&api.cfg);
	return 0;
}
