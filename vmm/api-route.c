// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP API's routes: method and path to a handler, Firecracker's
 * pre-boot/post-boot rules, JSON bodies.  No HTTP here (vmm/api.c serves
 * it), so that tests and the fuzzer (tests/fuzz/api_fuzz.c) can drive
 * every route with a request's parts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "lib/log.h"
#include "vmm/api.h"
#include "vmm/api-route.h"
#include "vmm/mmds/store.h"
#include "vmm/snapshot/snapshot.h"
#include "vmm/virtio/tap.h"
#include "thaw-version.h"

#define MSG_AFTER_BOOT	"The requested operation is not supported after starting the microVM."
#define MSG_BEFORE_BOOT	"The requested operation is not supported before starting the microVM."

static void resp_error(struct api_resp *r, unsigned int status,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void resp_error(struct api_resp *r, unsigned int status,
		       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->status = status;
	json_object_put(r->body);
	r->body = json_object_new_object();
	json_object_object_add(r->body, "fault_message",
			       json_object_new_string(msg));
}

static const char *state_name(enum vmm_state s)
{
	switch (s) {
	case VMM_NOT_STARTED:
		return "Not started";
	case VMM_RUNNING:
		return "Running";
	case VMM_PAUSED:
		return "Paused";
	default:
		return "Halted";
	}
}

/*
 * A body-taking handler: parse the body, apply @parse to a copy of the
 * configuration, commit the copy only on success.
 */
typedef int (*section_parser)(struct vm_config *, struct json_object *,
			      char *, size_t);

static void put_section(struct api_state *api, struct api_resp *r, json_object *b,
			section_parser parse)
{
	char err[512] = "";

	if (api->started) {
		resp_error(r, 400, MSG_AFTER_BOOT);
		return;
	}
	if (parse(&api->cfg, b, err, sizeof(err))) {
		resp_error(r, 400, "%s", err);
		return;
	}
	r->status = 204;
}

static int put_logger(struct vm_config *c, struct json_object *o, char *e,
		      size_t n);
static int put_metrics(struct vm_config *c, struct json_object *o, char *e,
		       size_t n);

/* A section that configures the machine: no snapshot load after it. */
static void put_boot_section(struct api_state *api, struct api_resp *r,
			     json_object *b, section_parser parse)
{
	put_section(api, r, b, parse);
	if (r->status == 204 && parse != put_logger && parse != put_metrics)
		api->configured = true;
}

static int put_machine(struct vm_config *c, struct json_object *o, char *e,
		       size_t n)
{
	return vm_config__parse_machine(c, o, false, e, n);
}

static int patch_machine(struct vm_config *c, struct json_object *o, char *e,
			 size_t n)
{
	return vm_config__parse_machine(c, o, true, e, n);
}

/* PUT /logger: the file (or FIFO) must open before the config changes. */
static int put_logger(struct vm_config *c, struct json_object *o, char *e,
		      size_t n)
{
	struct vm_config tmp;
	int ret;

	vm_config__init(&tmp);
	ret = vm_config__parse_logger(&tmp, o, e, n);
	if (!ret)
		ret = log__configure(&tmp.logger, e, n);
	if (!ret) {
		free(c->logger.log_path);
		free(c->logger.level);
		c->logger = tmp.logger;
		memset(&tmp.logger, 0, sizeof(tmp.logger));
	}
	vm_config__free(&tmp);
	return ret;
}

static int put_metrics(struct vm_config *c, struct json_object *o, char *e,
		       size_t n)
{
	struct vm_config tmp;
	int ret, fd;

	if (c->metrics.present)
		return err__set(e, n, -EINVAL,
				"Metrics system already initialized");
	vm_config__init(&tmp);
	ret = vm_config__parse_metrics(&tmp, o, e, n);
	if (!ret) {
		fd = open(tmp.metrics.metrics_path,
			  O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC,
			  0600);
		if (fd < 0) {
			snprintf(e, n, "Cannot open metrics_path %s: %s",
				 tmp.metrics.metrics_path, strerror(errno));
			ret = -EINVAL;
		} else {
			close(fd);
			c->metrics = tmp.metrics;
			memset(&tmp.metrics, 0, sizeof(tmp.metrics));
		}
	}
	vm_config__free(&tmp);
	return ret;
}

static json_object *stats_to_json(const struct vmm_stats *st)
{
	json_object *o = json_object_new_object();

#define ADD(f) json_object_object_add(o, #f, json_object_new_int64((int64_t)st->f))
	ADD(exits_io);
	ADD(exits_mmio);
	ADD(exits_hlt);
	ADD(exits_intr);
	ADD(exits_shutdown);
	ADD(exits_system_event);
	ADD(exits_other);
	ADD(io_unhandled);
	ADD(vsock_rx_packets);
	ADD(vsock_tx_packets);
	ADD(vsock_rx_bytes);
	ADD(vsock_tx_bytes);
	ADD(vsock_conns);
	ADD(vsock_rsts);
	ADD(net_rx_packets);
	ADD(net_tx_packets);
	ADD(net_rx_bytes);
	ADD(net_tx_bytes);
	ADD(net_rx_dropped);
	ADD(net_tx_dropped);
	ADD(uart_write_count);
	ADD(uart_flush_count);
	ADD(uart_missed_write_count);
	ADD(uart_rate_limiter_dropped_bytes);
	ADD(log_missed_count);
	ADD(start_us);
	ADD(first_run_us);
	ADD(boot_ready_us);
	ADD(rewinds);
	ADD(rewind_pages);
	ADD(rewind_last_us);
#undef ADD
	return o;
}

/* Write one line of metrics, Firecracker-style: a JSON object per flush. */
static int flush_metrics(struct api_state *api, char *err, size_t errlen)
{
	struct vmm_stats st;
	json_object *o;
	const char *line;
	int fd, ret = 0;

	if (!api->cfg.metrics.present)
		return err__set(err, errlen, -EINVAL,
				"The metrics system is not initialized.");
	vmm__stats(api->vmm, &st);
	o = json_object_new_object();
	json_object_object_add(o, "utc_timestamp_ms",
			       json_object_new_int64((int64_t)log__now_ms()));
	json_object_object_add(o, "api_requests",
			       json_object_new_int64((int64_t)api->requests));
	json_object_object_add(o, "api_bad_requests",
			       json_object_new_int64((int64_t)api->bad_requests));
	json_object_object_add(o, "vmm", stats_to_json(&st));
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	fd = open(api->cfg.metrics.metrics_path,
		  O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || dprintf(fd, "%s\n", line) < 0) {
		snprintf(err, errlen, "Cannot write metrics: %s",
			 strerror(errno));
		ret = -EIO;
	}
	if (fd >= 0)
		close(fd);
	json_object_put(o);
	return ret;
}

static void put_actions(struct api_state *api, struct api_resp *r, json_object *b)
{
	char err[512] = "";
	json_object *v;
	const char *action;
	int ret;

	if (!json_object_is_type(b, json_type_object)) {
		resp_error(r, 400, "actions: expected a JSON object");
		return;
	}
	json_object_object_foreach(b, key, val) {
		(void)val;
		if (strcmp(key, "action_type")) {
			resp_error(r, 400, "actions: unknown field `%s`", key);
			return;
		}
	}
	if (!json_object_object_get_ex(b, "action_type", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		resp_error(r, 400, "actions: missing field `action_type`");
		return;
	}
	action = json_object_get_string(v);
	if (!strcmp(action, "InstanceStart")) {
		if (api->started) {
			resp_error(r, 400, MSG_AFTER_BOOT);
			return;
		}
		if (!api->cfg.has_boot_source) {
			resp_error(r, 400,
				   "Cannot start microvm without kernel configuration.");
			return;
		}
		ret = vmm__start(api->vmm, &api->cfg, err, sizeof(err));
		if (ret) {
			resp_error(r, 400, "Failed to start microVM: %s",
				   err[0] ? err : strerror(-ret));
			return;
		}
		api->started = true;
		r->status = 204;
	} else if (!strcmp(action, "SendCtrlAltDel")) {
		if (!api->started) {
			resp_error(r, 400, MSG_BEFORE_BOOT);
			return;
		}
		ret = vmm__send_ctrl_alt_del(api->vmm, err, sizeof(err));
		if (ret) {
			resp_error(r, 400, "%s", err[0] ? err : strerror(-ret));
			return;
		}
		r->status = 204;
	} else if (!strcmp(action, "FlushMetrics")) {
		if (flush_metrics(api, err, sizeof(err))) {
			resp_error(r, 400, "%s", err);
			return;
		}
		r->status = 204;
	} else {
		resp_error(r, 400,
			   "actions: unknown action_type `%s` (InstanceStart, SendCtrlAltDel, FlushMetrics)",
			   action);
	}
}

static void patch_vm(struct api_state *api, struct api_resp *r, json_object *b)
{
	char err[512] = "";
	json_object *v;
	const char *s;
	int ret;

	if (!json_object_is_type(b, json_type_object)) {
		resp_error(r, 400, "vm: expected a JSON object");
		return;
	}
	json_object_object_foreach(b, key, val) {
		(void)val;
		if (strcmp(key, "state")) {
			resp_error(r, 400, "vm: unknown field `%s`", key);
			return;
		}
	}
	if (!json_object_object_get_ex(b, "state", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		resp_error(r, 400, "vm: missing field `state`");
		return;
	}
	s = json_object_get_string(v);
	if (strcmp(s, "Paused") && strcmp(s, "Resumed")) {
		resp_error(r, 400, "vm: `state` must be Paused or Resumed");
		return;
	}
	if (!api->started) {
		resp_error(r, 400, MSG_BEFORE_BOOT);
		return;
	}
	if (!strcmp(s, "Paused"))
		ret = vmm__pause(api->vmm, err, sizeof(err));
	else
		ret = vmm__resume(api->vmm, err, sizeof(err));
	if (ret) {
		resp_error(r, 400, "%s", err[0] ? err : strerror(-ret));
		return;
	}
	r->status = 204;
}

static void put_snapshot_create(struct api_state *api, struct api_resp *r,
				json_object *b)
{
	struct snapshot_create_params p;
	char err[512] = "";
	int ret;

	if (vm_config__parse_snapshot_create(&p, b, err, sizeof(err))) {
		resp_error(r, 400, "%s", err);
		return;
	}
	if (!api->started) {
		resp_error(r, 400, MSG_BEFORE_BOOT);
	} else {
		ret = vmm__snapshot_create(api->vmm, &p, err, sizeof(err));
		if (ret)
			resp_error(r, 400, "%s", err[0] ? err : strerror(-ret));
		else
			r->status = 204;
	}
	snapshot_create_params__free(&p);
}

static void put_snapshot_load(struct api_state *api, struct api_resp *r,
			      json_object *b)
{
	struct snapshot_load_params p;
	struct vm_config cfg;
	char err[512] = "";
	int ret;

	if (vm_config__parse_snapshot_load(&p, b, err, sizeof(err))) {
		resp_error(r, 400, "%s", err);
		return;
	}
	if (api->started) {
		resp_error(r, 400,
			   "Loading a microVM snapshot not allowed after starting the microVM.");
		goto out;
	}
	if (api->configured) {
		resp_error(r, 400,
			   "Loading a microVM snapshot not allowed after configuring boot-specific resources.");
		goto out;
	}
	vm_config__init(&cfg);
	ret = vmm__snapshot_load(api->vmm, &p, &cfg, err, sizeof(err));
	if (ret) {
		resp_error(r, 400, "Failed to load the snapshot: %s",
			   err[0] ? err : strerror(-ret));
		vm_config__free(&cfg);
		goto out;
	}
	/* The machine the snapshot made, with the logger and metrics kept. */
	cfg.logger = api->cfg.logger;
	cfg.metrics = api->cfg.metrics;
	memset(&api->cfg.logger, 0, sizeof(api->cfg.logger));
	memset(&api->cfg.metrics, 0, sizeof(api->cfg.metrics));
	vm_config__free(&api->cfg);
	api->cfg = cfg;
	api->started = true;
	r->status = 204;
out:
	snapshot_load_params__free(&p);
}

/*
 * PUT /snapshot/rewind (our extension): back to the loaded snapshot, in
 * place.  200 with what it did; 400 with why, the VM as it was, when it
 * cannot; 400 with the VM stopped if it failed halfway.
 */
static void put_snapshot_rewind(struct api_state *api, struct api_resp *r,
				json_object *b)
{
	struct snapshot_rewind_params p;
	struct snapshot_rewind_stats st;
	char err[512] = "";
	json_object *o;
	int ret;

	if (vm_config__parse_snapshot_rewind(&p, b, err, sizeof(err))) {
		resp_error(r, 400, "%s", err);
		return;
	}
	if (!api->started) {
		resp_error(r, 400, MSG_BEFORE_BOOT);
		return;
	}
	ret = vmm__snapshot_rewind(api->vmm, &p, &st, err, sizeof(err));
	if (ret) {
		resp_error(r, 400, "Failed to rewind the microVM: %s",
			   err[0] ? err : strerror(-ret));
		return;
	}
	if (p.vsock_cid)
		api->cfg.vsock.guest_cid = p.vsock_cid;
	o = json_object_new_object();
	json_object_object_add(o, "backend",
			       json_object_new_string(st.backend));
	json_object_object_add(o, "pages",
			       json_object_new_int64((int64_t)st.pages));
	json_object_object_add(o, "pause_us",
			       json_object_new_int64((int64_t)(st.pause_ns / 1000)));
	json_object_object_add(o, "memory_us",
			       json_object_new_int64((int64_t)(st.memory_ns / 1000)));
	json_object_object_add(o, "state_us",
			       json_object_new_int64((int64_t)(st.state_ns / 1000)));
	if (api->cfg.vsock.present)
		json_object_object_add(o, "guest_cid",
				       json_object_new_int64(api->cfg.vsock.guest_cid));
	json_object_object_add(o, "state", json_object_new_string(
			       p.resume_vm ? "Running" : "Paused"));
	r->status = 200;
	r->body = o;
}

static void put_snapshot_wset(struct api_state *api, struct api_resp *r,
			      json_object *b)
{
	char err[512] = "";
	json_object *v;
	int ret;

	if (!json_object_is_type(b, json_type_object)) {
		resp_error(r, 400, "snapshot/wset: expected a JSON object");
		return;
	}
	json_object_object_foreach(b, key, val) {
		(void)val;
		if (strcmp(key, "wset_path")) {
			resp_error(r, 400, "snapshot/wset: unknown field `%s`",
				   key);
			return;
		}
	}
	if (!json_object_object_get_ex(b, "wset_path", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_get_string_len(v)) {
		resp_error(r, 400, "snapshot/wset: missing field `wset_path`");
		return;
	}
	if (!api->started) {
		resp_error(r, 400, MSG_BEFORE_BOOT);
		return;
	}
	ret = vmm__snapshot_wset(api->vmm, json_object_get_string(v), err,
				 sizeof(err));
	if (ret) {
		resp_error(r, 400, "%s", err[0] ? err : strerror(-ret));
		return;
	}
	r->status = 204;
}

static void get_instance(struct api_state *api, struct api_resp *r)
{
	r->status = 200;
	r->body = json_object_new_object();
	json_object_object_add(r->body, "id", json_object_new_string(api->id));
	json_object_object_add(r->body, "state",
			       json_object_new_string(state_name(vmm__state(api->vmm))));
	json_object_object_add(r->body, "vmm_version",
			       json_object_new_string(THAW_VERSION));
	json_object_object_add(r->body, "app_name",
			       json_object_new_string("thawvm"));
}

static void get_version(struct api_state *api, struct api_resp *r)
{
	r->status = 200;
	r->body = json_object_new_object();
	/* Firecracker's clients read this key. */
	json_object_object_add(r->body, "firecracker_version",
			       json_object_new_string(THAW_VERSION));
	json_object_object_add(r->body, "thawvm_version",
			       json_object_new_string(THAW_VERSION));
}

/* PUT /drives/{drive_id}: before the start, a drive added or replaced. */
static void put_drive(struct api_state *api, struct api_resp *r,
		      const char *id, json_object *b)
{
	char err[512] = "";

	if (api->started) {
		resp_error(r, 400, MSG_AFTER_BOOT);
		return;
	}
	if (vm_config__parse_drive(&api->cfg, b, id, err, sizeof(err))) {
		resp_error(r, 400, "%s", err);
		return;
	}
	api->configured = true;
	r->status = 204;
}

/* PATCH /drives/{drive_id}: after the start, a new backing file. */
static void patch_drive(struct api_state *api, struct api_resp *r,
			const char *id, json_object *b)
{
	char err[512] = "";
	char *path = NULL;
	int ret;

	if (vm_config__parse_drive_patch(b, id, &path, err, sizeof(err))) {
		resp_error(r, 400, "%s", err);
		return;
	}
	if (!api->started) {
		resp_error(r, 400, MSG_BEFORE_BOOT);
		goto out;
	}
	if (!vm_config__drive(&api->cfg, id)) {
		resp_error(r, 400, "drives: the microVM has no drive %s", id);
		goto out;
	}
	if (path) {
		ret = vmm__drive_update(api->vmm, id, path, err, sizeof(err));
		if (ret) {
			resp_error(r, 400, "%s", err[0] ? err : strerror(-ret));
			goto out;
		}
		free(vm_config__drive(&api->cfg, id)->path_on_host);
		vm_config__drive(&api->cfg, id)->path_on_host = path;
		path = NULL;
	}
	r->status = 204;
out:
	free(path);
}

enum { M_GET = 1, M_PUT = 2, M_PATCH = 4 };

struct route {
	const char *path;
	unsigned int method;
	section_parser parse;		/* pre-boot section PUT/PATCH */
	void (*with_body)(struct api_state *, struct api_resp *, json_object *);
	void (*no_body)(struct api_state *, struct api_resp *);
};

static void get_machine(struct api_state *api, struct api_resp *r)
{
	r->status = 200;
	r->body = vm_config__machine_to_json(&api->cfg);
}

static void get_vm_config(struct api_state *api, struct api_resp *r)
{
	r->status = 200;
	r->body = vm_config__to_json(&api->cfg);
}

/*
 * PUT /network-interfaces/{iface_id}: Firecracker's.  The tap must exist
 * and be ours to attach to now, as Firecracker checks at the PUT.
 */
static void put_net(struct api_state *api, struct api_resp *r,
		    const char *id, json_object *b)
{
	struct vm_config tmp;
	char err[512] = "";
	unsigned int i;

	if (api->started) {
		resp_error(r, 400, MSG_AFTER_BOOT);
		return;
	}
	tmp = api->cfg;		/* only its interfaces change */
	if (vm_config__parse_net(&tmp, id, b, err, sizeof(err))) {
		resp_error(r, 400, "%s", err);
		return;
	}
	for (i = 0; i < tmp.nr_net; i++)
		if (!strcmp(tmp.net[i].iface_id, id))
			break;
	if (tap__check(tmp.net[i].host_dev_name, err, sizeof(err))) {
		resp_error(r, 400, "network-interfaces %s: %s", id, err);
		return;
	}
	api->cfg.nr_net = tmp.nr_net;
	memcpy(api->cfg.net, tmp.net, sizeof(tmp.net));
	api->configured = true;
	r->status = 204;
}

/*
 * PATCH /network-interfaces/{iface_id}: after boot, Firecracker's way to
 * change an interface's rate limiters.  thawvm has none: a body without
 * them (or with nulls) is a no-op, with them it is refused.
 */
static void patch_net(struct api_state *api, struct api_resp *r,
		      const char *id, json_object *b)
{
	static const char *const fields[] = {
		"iface_id", "rx_rate_limiter", "tx_rate_limiter", NULL
	};
	json_object *v;
	unsigned int i;

	if (!api->started) {
		resp_error(r, 400, MSG_BEFORE_BOOT);
		return;
	}
	if (!json_object_is_type(b, json_type_object)) {
		resp_error(r, 400, "network-interfaces: expected a JSON object");
		return;
	}
	json_object_object_foreach(b, key, val) {
		const char *const *f;

		for (f = fields; *f && strcmp(*f, key); f++)
			;
		if (!*f) {
			resp_error(r, 400, "network-interfaces: unknown field `%s`",
				   key);
			return;
		}
		if (strcmp(key, "iface_id") && val) {
			resp_error(r, 400,
				   "network-interfaces: `%s`: thawvm has no rate limiters on network interfaces",
				   key);
			return;
		}
	}
	if (!json_object_object_get_ex(b, "iface_id", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), id)) {
		resp_error(r, 400,
			   "network-interfaces: the body's iface_id must be the path's (%s)",
			   id);
		return;
	}
	for (i = 0; i < api->cfg.nr_net; i++)
		if (!strcmp(api->cfg.net[i].iface_id, id))
			break;
	if (i == api->cfg.nr_net) {
		resp_error(r, 400, "network-interfaces: no interface `%s`", id);
		return;
	}
	r->status = 204;
}

/*
 * MMDS's data store (vmm/mmds/store.h), before and after boot: PUT
 * replaces it, PATCH merges into it (RFC 7396), GET reads it.
 */
static void put_mmds(struct api_state *api, struct api_resp *r,
		     json_object *b)
{
	char err[512] = "";

	if (mmds_store__put(mmds__store(), json_object_get(b), err,
			    sizeof(err))) {
		resp_error(r, 400, "%s", err);
		return;
	}
	r->status = 204;
}

static void patch_mmds(struct api_state *api, struct api_resp *r,
		       json_object *b)
{
	char err[512] = "";

	if (mmds_store__patch(mmds__store(), json_object_get(b), err,
			      sizeof(err))) {
		resp_error(r, 400, "%s", err);
		return;
	}
	r->status = 204;
}

static void get_mmds(struct api_state *api, struct api_resp *r)
{
	r->body = mmds_store__get(mmds__store());
	if (!r->body) {
		resp_error(r, 500, "Out of memory");
		return;
	}
	r->status = 200;
}

/*
 * Routes whose path ends in an id: /drives/{drive_id},
 * /network-interfaces/{iface_id}.
 */
struct id_route {
	const char *prefix;
	unsigned int method;
	void (*fn)(struct api_state *, struct api_resp *, const char *id,
		   json_object *);
};

static const struct id_route id_routes[] = {
	{ "/drives/", M_PUT, put_drive },
	{ "/drives/", M_PATCH, patch_drive },
	{ "/network-interfaces/", M_PUT, put_net },
	{ "/network-interfaces/", M_PATCH, patch_net },
};

static const struct id_route *find_id_route(unsigned int m, const char *url,
					    const char **id)
{
	size_t i, n;

	for (i = 0; i < sizeof(id_routes) / sizeof(id_routes[0]); i++) {
		n = strlen(id_routes[i].prefix);
		if (id_routes[i].method == m &&
		    !strncmp(url, id_routes[i].prefix, n) && url[n] &&
		    !strchr(url + n, '/')) {
			*id = url + n;
			return &id_routes[i];
		}
	}
	return NULL;
}

static const struct route routes[] = {
	{ "/", M_GET, NULL, NULL, get_instance },
	{ "/version", M_GET, NULL, NULL, get_version },
	{ "/machine-config", M_GET, NULL, NULL, get_machine },
	{ "/vm/config", M_GET, NULL, NULL, get_vm_config },
	{ "/boot-source", M_PUT, vm_config__parse_boot_source, NULL, NULL },
	{ "/machine-config", M_PUT, put_machine, NULL, NULL },
	{ "/machine-config", M_PATCH, patch_machine, NULL, NULL },
	{ "/vsock", M_PUT, vm_config__parse_vsock, NULL, NULL },
	{ "/logger", M_PUT, put_logger, NULL, NULL },
	{ "/metrics", M_PUT, put_metrics, NULL, NULL },
	{ "/serial", M_PUT, vm_config__parse_serial, NULL, NULL },
	{ "/entropy", M_PUT, vm_config__parse_entropy, NULL, NULL },
	{ "/mmds/config", M_PUT, vm_config__parse_mmds, NULL, NULL },
	{ "/mmds", M_PUT, NULL, put_mmds, NULL },
	{ "/mmds", M_PATCH, NULL, patch_mmds, NULL },
	{ "/mmds", M_GET, NULL, NULL, get_mmds },
	{ "/actions", M_PUT, NULL, put_actions, NULL },
	{ "/vm", M_PATCH, NULL, patch_vm, NULL },
	{ "/snapshot/create", M_PUT, NULL, put_snapshot_create, NULL },
	{ "/snapshot/load", M_PUT, NULL, put_snapshot_load, NULL },
	{ "/snapshot/wset", M_PUT, NULL, put_snapshot_wset, NULL },
	{ "/snapshot/rewind", M_PUT, NULL, put_snapshot_rewind, NULL },
};

static unsigned int method_bit(const char *m)
{
	if (!strcmp(m, "GET"))
		return M_GET;
	if (!strcmp(m, "PUT"))
		return M_PUT;
	if (!strcmp(m, "PATCH"))
		return M_PATCH;
	return 0;
}

void api__dispatch(struct api_state *api, const char *method,
		   const char *url, const char *body_text, size_t len,
		   bool too_big, struct api_resp *r)
{
	unsigned int m = method_bit(method);
	const struct id_route *idr = NULL;
	const struct route *rt = NULL;
	const char *id = NULL;
	char err[512] = "";
	json_object *body;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].method == m && !strcmp(routes[i].path, url)) {
			rt = &routes[i];
			break;
		}
	if (!rt)
		idr = find_id_route(m, url, &id);
	if (!rt && !idr) {
		resp_error(r, 400, "Invalid request method and/or path: %s %s.",
			   method, url);
		return;
	}
	if (rt && rt->no_body) {
		if (len) {
			resp_error(r, 400, "%s %s takes no body", method, url);
			return;
		}
		rt->no_body(api, r);
		return;
	}
	if (too_big) {
		resp_error(r, 400, "Request payload larger than %d bytes",
			   API_MAX_BODY);
		return;
	}
	body = vm_config__parse_json(body_text, len, err, sizeof(err));
	if (!body) {
		resp_error(r, 400, "%s", err);
		return;
	}
	if (idr)
		idr->fn(api, r, id, body);
	else if (rt->parse)
		put_boot_section(api, r, body, rt->parse);
	else
		rt->with_body(api, r, body);
	json_object_put(body);
}
