// SPDX-License-Identifier: GPL-2.0
/* Starting and loading a clone of a snapshot directory (clone.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "lib/snapfile.h"
#include "lib/unix-sock.h"
#include "lib/vsock-uds.h"
#include "tools/lib/clone.h"
#include "tools/lib/proc.h"
#include "tools/lib/thawvm-api.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"

#define DEFAULT_TIMEOUT_MS	60000
/* thawvm refuses a vsock uds_path longer than this (room for "_PORT"). */
#define STOP_GRACE_MS		5000

static const char *const backend_names[] = {
	[CLONE_FILE] = "File",
	[CLONE_UFFD] = "Uffd",
	[CLONE_THAW] = "Thaw",
};

const char *clone__backend_name(enum clone_backend b)
{
	return b <= CLONE_THAW ? backend_names[b] : "?";
}

int clone__parse_backend(const char *s, enum clone_backend *b)
{
	for (unsigned int i = 0; i <= CLONE_THAW; i++) {
		if (!strcasecmp(s, backend_names[i])) {
			*b = i;
			return 0;
		}
	}
	return -EINVAL;
}

static uint64_t timeout_of(const struct clone_opts *o)
{
	return o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
}

static int snap_path(char *out, size_t len, const struct clone_opts *o,
		     const char *file)
{
	if ((size_t)snprintf(out, len, "%s/%s", o->snapdir, file) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* A socket path we are about to create: free it from a killed owner. */
static int claim_socket(const char *path, const char *what, char *err,
			size_t errlen)
{
	char why[256];
	int ret = unix_sock__clear_stale(path, why, sizeof(why));

	if (ret < 0)
		return err__set(err, errlen, ret, "%s %s", what, why);
	return 0;
}

static int start_handler(const struct clone_opts *o, struct clone *c,
			 uint64_t deadline, char *err, size_t errlen)
{
	char prog[PATH_MAX], mem[PATH_MAX], wset[PATH_MAX];
	const char *argv[8];
	int n = 0, ret;

	if ((size_t)snprintf(c->handler_sock, sizeof(c->handler_sock),
			     "%s.uffd", o->api_sock) >=
	    sizeof(c->handler_sock))
		return err__set(err, errlen, -ENAMETOOLONG,
				"%s.uffd: path too long for a socket",
				o->api_sock);
	ret = claim_socket(c->handler_sock, "the page-fault handler's socket",
			   err, errlen);
	if (ret)
		return ret;
	ret = proc__find(prog, sizeof(prog), "thaw-uffd-handler",
			 o->uffd_handler, "THAW_UFFD_HANDLER");
	if (ret)
		return err__set(err, errlen, ret, "%s", prog);
	if (snap_path(mem, sizeof(mem), o, SNAP_DIR_MEMORY) ||
	    snap_path(wset, sizeof(wset), o, SNAP_DIR_WSET))
		return err__set(err, errlen, -ENAMETOOLONG, "%s: path too long",
				o->snapdir);
	argv[n++] = prog;
	argv[n++] = c->handler_sock;
	argv[n++] = mem;
	argv[n++] = "--once";
	if (o->wset) {
		argv[n++] = "--wset";
		argv[n++] = wset;
	}
	argv[n] = NULL;
	ret = proc__spawn(argv, o->log, o->log, &c->handler_pid, err, errlen);
	if (ret) {
		c->handler_pid = 0;
		return ret;
	}
	/* Not a test connection: with --once it would be the handler's VM. */
	ret = proc__wait_socket_file(c->handler_sock, c->handler_pid, deadline,
				     NULL, err, errlen);
	if (ret) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", err);
		err__set(err, errlen, ret, "the page-fault handler: %s%s", tmp,
			 o->log ? " (its log has more)" : "");
	}
	return ret;
}

int clone__spawn(const struct clone_opts *o, struct clone *c,
		 char *err, size_t errlen)
{
	char prog[PATH_MAX];
	const char *argv[8];
	uint64_t deadline;
	struct stat st;
	int n = 0, ret;

	memset(c, 0, sizeof(*c));
	deadline = util__now_ms() + timeout_of(o);
	c->api_sock = o->api_sock;
	c->uds = o->uds;
	if (stat(o->snapdir, &st)) {
		ret = -errno;
		return err__set(err, errlen, ret, "snapshot %s: %s", o->snapdir,
				strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return err__set(err, errlen, -ENOTDIR,
				"snapshot %s: not a directory", o->snapdir);
	if (!vsock_uds__path_ok(o->uds))
		return err__set(err, errlen, -ENAMETOOLONG,
				"%s: a vsock socket path is at most %d bytes",
				o->uds, VSOCK_UDS_PATH_MAX);
	ret = claim_socket(o->api_sock, "the API socket", err, errlen);
	if (!ret)
		ret = claim_socket(o->uds, "the vsock socket", err, errlen);
	if (ret)
		return ret;
	ret = proc__find(prog, sizeof(prog), "thawvm", o->thawvm, "THAWVM");
	if (ret)
		return err__set(err, errlen, ret, "%s", prog);
	if (o->backend == CLONE_UFFD && !o->uffd_sock) {
		ret = start_handler(o, c, deadline, err, errlen);
		if (ret)
			goto fail;
	}
	argv[n++] = prog;
	argv[n++] = "--api-sock";
	argv[n++] = o->api_sock;
	if (o->id) {
		argv[n++] = "--id";
		argv[n++] = o->id;
	}
	argv[n] = NULL;
	c->t_spawn = util__now_ns();
	ret = proc__spawn(argv, o->console, o->log, &c->pid, err, errlen);
	if (ret) {
		c->pid = 0;
		goto fail;
	}
	ret = proc__wait_socket(o->api_sock, c->pid, deadline, NULL, err,
				errlen);
	if (ret)
		goto fail;
	c->t_api = util__now_ns();
	if (o->metrics) {
		struct json_object *b = json_object_new_object();

		json_object_object_add(b, "metrics_path",
				       json_object_new_string(o->metrics));
		ret = thawvm_api__do(o->api_sock, "PUT", "/metrics", b,
				     (long)timeout_of(o), err, errlen);
		json_object_put(b);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	clone__stop(c);
	return ret;
}

static struct json_object *load_body(const struct clone_opts *o,
				     const struct clone *c)
{
	char state[PATH_MAX], mem[PATH_MAX], wset[PATH_MAX];
	struct json_object *b, *mb, *vo;

	if (snap_path(state, sizeof(state), o, SNAP_DIR_STATE) ||
	    snap_path(mem, sizeof(mem), o, SNAP_DIR_MEMORY) ||
	    snap_path(wset, sizeof(wset), o, SNAP_DIR_WSET))
		return NULL;
	b = json_object_new_object();
	mb = json_object_new_object();
	vo = json_object_new_object();
	json_object_object_add(b, "snapshot_path",
			       json_object_new_string(state));
	json_object_object_add(mb, "backend_type",
			       json_object_new_string(
					clone__backend_name(o->backend)));
	json_object_object_add(mb, "backend_path", json_object_new_string(
			o->backend != CLONE_UFFD ? mem :
			o->uffd_sock ? o->uffd_sock : c->handler_sock));
	json_object_object_add(b, "mem_backend", mb);
	json_object_object_add(b, "resume_vm",
			       json_object_new_boolean(o->resume));
	if (o->track_dirty)
		json_object_object_add(b, "track_dirty_pages",
				       json_object_new_boolean(true));
	if (o->enable_rewind)
		json_object_object_add(b, "enable_rewind",
				       json_object_new_boolean(true));
	json_object_object_add(vo, "uds_path", json_object_new_string(o->uds));
	json_object_object_add(vo, "guest_cid", json_object_new_int64(o->cid));
	json_object_object_add(b, "vsock_override", vo);
	/* Uffd: the handler prefetches (started with --wset). */
	if (o->wset && o->backend != CLONE_UFFD)
		json_object_object_add(b, "wset_path",
				       json_object_new_string(wset));
	if (o->record_wset)
		json_object_object_add(b, "record_wset",
				       json_object_new_boolean(true));
	return b;
}

int clone__load(const struct clone_opts *o, struct clone *c,
		char *err, size_t errlen)
{
	struct json_object *b = load_body(o, c);
	int ret;

	if (!b) {
		ret = err__set(err, errlen, -ENAMETOOLONG, "%s: path too long",
			       o->snapdir);
		goto fail;
	}
	c->t_load = util__now_ns();
	ret = thawvm_api__do(o->api_sock, "PUT", "/snapshot/load", b,
			     (long)timeout_of(o), err, errlen);
	c->t_loaded = util__now_ns();
	json_object_put(b);
	if (!ret)
		return 0;
fail:
	clone__stop(c);
	return ret;
}

void clone__stop(struct clone *c)
{
	if (c->pid > 0)
		proc__stop(c->pid, STOP_GRACE_MS);
	c->pid = 0;
	/* With --once it ends with its VM; a refused load leaves it idle. */
	if (c->handler_pid > 0)
		proc__stop(c->handler_pid, STOP_GRACE_MS);
	c->handler_pid = 0;
	/* What a process killed before its cleanup leaves. */
	if (c->handler_sock[0])
		unix_sock__clear_stale(c->handler_sock, NULL, 0);
	if (c->api_sock)
		unix_sock__clear_stale(c->api_sock, NULL, 0);
	if (c->uds)
		unix_sock__clear_stale(c->uds, NULL, 0);
}

static uint64_t member_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	       (uint64_t)json_object_get_int64(v) : 0;
}

int clone__rewind(const char *api_sock, uint32_t cid, bool resume,
		  uint64_t timeout_ms, struct clone_rewind *out, char *err,
		  size_t errlen)
{
	struct json_object *b = json_object_new_object(), *vo, *v;
	struct thawvm_api_resp r;
	int ret;

	memset(out, 0, sizeof(*out));
	json_object_object_add(b, "resume_vm", json_object_new_boolean(resume));
	if (cid) {
		vo = json_object_new_object();
		json_object_object_add(vo, "guest_cid",
				       json_object_new_int64(cid));
		json_object_object_add(b, "vsock_override", vo);
	}
	out->t_sent = util__now_ns();
	ret = thawvm_api__call(api_sock, "PUT", "/snapshot/rewind", b,
			       (long)timeout_ms, &r, err, errlen);
	out->t_done = util__now_ns();
	json_object_put(b);
	if (ret)
		return ret;
	if (r.status != 200 || !r.json) {
		ret = err__set(err, errlen, -EIO, "PUT /snapshot/rewind: %ld %s",
			       r.status, r.fault[0] ? r.fault : r.body);
		goto out;
	}
	if (json_object_object_get_ex(r.json, "backend", &v))
		snprintf(out->backend, sizeof(out->backend), "%s",
			 json_object_get_string(v));
	out->pages = member_u64(r.json, "pages");
	out->pause_us = member_u64(r.json, "pause_us");
	out->memory_us = member_u64(r.json, "memory_us");
	out->state_us = member_u64(r.json, "state_us");
	out->guest_cid = (uint32_t)member_u64(r.json, "guest_cid");
out:
	thawvm_api__resp_free(&r);
	return ret;
}

static int put(const char *sock, const char *path, struct json_object *b,
	       uint64_t timeout_ms, char *err, size_t errlen)
{
	int ret = thawvm_api__do(sock, "PUT", path, b, (long)timeout_ms, err,
				 errlen);

	json_object_put(b);
	return ret;
}

int clone__configure_boot(const char *api_sock, const struct boot_opts *bo,
			  uint64_t timeout_ms, char *err, size_t errlen)
{
	struct json_object *b;
	int ret;

	b = json_object_new_object();
	json_object_object_add(b, "kernel_image_path",
			       json_object_new_string(bo->kernel));
	json_object_object_add(b, "initrd_path",
			       json_object_new_string(bo->initrd));
	json_object_object_add(b, "boot_args",
			       json_object_new_string(bo->boot_args));
	ret = put(api_sock, "/boot-source", b, timeout_ms, err, errlen);
	if (ret)
		return ret;
	b = json_object_new_object();
	json_object_object_add(b, "vcpu_count",
			       json_object_new_int64(bo->vcpus));
	json_object_object_add(b, "mem_size_mib",
			       json_object_new_int64(bo->mem_mib));
	if (bo->track_dirty)
		json_object_object_add(b, "track_dirty_pages",
				       json_object_new_boolean(true));
	ret = put(api_sock, "/machine-config", b, timeout_ms, err, errlen);
	if (ret)
		return ret;
	b = json_object_new_object();
	json_object_object_add(b, "guest_cid", json_object_new_int64(bo->cid));
	json_object_object_add(b, "uds_path", json_object_new_string(bo->uds));
	return put(api_sock, "/vsock", b, timeout_ms, err, errlen);
}

int clone__start_boot(const char *api_sock, uint64_t timeout_ms,
		      char *err, size_t errlen)
{
	struct json_object *b = json_object_new_object();

	json_object_object_add(b, "action_type",
			       json_object_new_string("InstanceStart"));
	return put(api_sock, "/actions", b, timeout_ms, err, errlen);
}
