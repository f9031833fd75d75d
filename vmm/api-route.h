/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The API's routes without the HTTP server: what vmm/api.c calls for each
 * request, and what tests and the fuzzer call without one.
 */
#ifndef THAW_VMM_API_ROUTE_H
#define THAW_VMM_API_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "vmm/config.h"
#include "vmm/vmm.h"

/* What the routes read and change; the server serialises the calls. */
struct api_state {
	char *id;
	struct vmm *vmm;
	struct vm_config cfg;
	bool started;
	bool configured;		/* a boot resource was set */
	uint64_t requests;
	uint64_t bad_requests;
};

/* What a handler answers: a status and an optional JSON body (owned). */
struct api_resp {
	unsigned int status;
	json_object *body;
};

/*
 * Route one request: @body (@len bytes, not necessarily NUL-terminated;
 * @too_big: the server dropped a larger one) to the handler of @method
 * and @url, which fills @r.
 */
void api__dispatch(struct api_state *api, const char *method,
		   const char *url, const char *body, size_t len,
		   bool too_big, struct api_resp *r);

#endif
