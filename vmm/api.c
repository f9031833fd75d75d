// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP API's server: libmicrohttpd does HTTP on its own thread (one
 * request at a time, like Firecracker's API thread); the routes are in
 * vmm/api-route.c.  api->lock serialises them anyway so that the
 * configuration is never seen half-changed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/unix-sock.h"
#include "vmm/api.h"
#include "vmm/api-route.h"

struct api {
	struct MHD_Daemon *daemon;
	int listen_fd;
	char *sock_path;
	struct unix_sock_id sock_id;	/* the file we bound at sock_path */
	pthread_mutex_t lock;
	struct api_state st;		/* protected by @lock */
};

/* One HTTP request being received. */
struct api_req {
	char *body;
	size_t len;
	bool too_big;
};

static enum MHD_Result send_resp(struct MHD_Connection *conn,
				 struct api_resp *r)
{
	struct MHD_Response *resp;
	const char *text = "";
	enum MHD_Result ret;

	if (r->body)
		text = json_object_to_json_string_ext(r->body,
						      JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r->body)
		MHD_add_response_header(resp, "Content-Type",
					"application/json");
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct api *api = cls;
	struct api_req *req = *req_cls;
	struct api_resp r = { 0 };
	enum MHD_Result ret;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*req_cls = req;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		if (req->len + n > API_MAX_BODY) {
			req->too_big = true;
		} else {
			char *nb = realloc(req->body, req->len + n + 1);

			if (!nb)
				return MHD_NO;
			memcpy(nb + req->len, upload, n);
			req->body = nb;
			req->len += n;
			nb[req->len] = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}

	pthread_mutex_lock(&api->lock);
	api->st.requests++;
	api__dispatch(&api->st, method, url, req->body, req->len, req->too_big,
		      &r);
	if (r.status >= 400)
		api->st.bad_requests++;
	pthread_mutex_unlock(&api->lock);
	if (r.status >= 400 && r.body) {
		json_object *m;

		if (json_object_object_get_ex(r.body, "fault_message", &m))
			pr_warn("api: %s %s: %u %s", method, url, r.status,
				json_object_get_string(m));
	} else {
		pr_info("api: %s %s: %u", method, url, r.status);
	}
	ret = send_resp(conn, &r);
	json_object_put(r.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct api_req *req = *req_cls;

	if (req) {
		free(req->body);
		free(req);
		*req_cls = NULL;
	}
}

int api__start(struct api **out, const char *sock_path, const char *id,
	       struct vmm *vmm, const struct vm_config *cfg, bool started)
{
	char err[512];
	struct api *api;
	int ret;

	api = calloc(1, sizeof(*api));
	if (!api)
		return -ENOMEM;
	api->listen_fd = -1;
	api->st.vmm = vmm;
	api->st.started = started;
	pthread_mutex_init(&api->lock, NULL);
	api->sock_path = strdup(sock_path);
	api->st.id = strdup(id);
	if (!api->sock_path || !api->st.id) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = vm_config__copy(&api->st.cfg, cfg);
	if (ret)
		goto err_free;
	ret = unix_sock__listen("--api-sock", sock_path, 64, &api->sock_id,
				err, sizeof(err));
	if (ret < 0) {
		pr_err("api: %s", err);
		goto err_cfg;
	}
	api->listen_fd = ret;
	api->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
				       MHD_USE_EPOLL,
				       0, NULL, NULL, on_request, api,
				       MHD_OPTION_LISTEN_SOCKET, api->listen_fd,
				       MHD_OPTION_NOTIFY_COMPLETED, on_completed,
				       api,
				       MHD_OPTION_CONNECTION_TIMEOUT, 60u,
				       MHD_OPTION_CONNECTION_LIMIT, 64u,
				       MHD_OPTION_END);
	if (!api->daemon) {
		pr_err("api: cannot start the HTTP server");
		ret = -EIO;
		goto err_sock;
	}
	*out = api;
	return 0;

err_sock:
	unix_sock__unlink(sock_path, &api->sock_id);
	close(api->listen_fd);
err_cfg:
	vm_config__free(&api->st.cfg);
err_free:
	free(api->sock_path);
	free(api->st.id);
	pthread_mutex_destroy(&api->lock);
	free(api);
	return ret;
}

void api__stop(struct api *api)
{
	if (!api)
		return;
	MHD_stop_daemon(api->daemon);
	unix_sock__unlink(api->sock_path, &api->sock_id);
	close(api->listen_fd);
	vm_config__free(&api->st.cfg);
	free(api->sock_path);
	free(api->st.id);
	pthread_mutex_destroy(&api->lock);
	free(api);
}
