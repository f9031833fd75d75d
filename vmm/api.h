/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thawvm's HTTP API on a Unix socket, compatible with Firecracker's for the
 * endpoints it has (Documentation/admin-guide/api.rst).  libmicrohttpd
 * serves it on its own thread; handlers call the functions of vmm/vmm.h.
 */
#ifndef THAW_VMM_API_H
#define THAW_VMM_API_H

#include "vmm/config.h"
#include "vmm/vmm.h"

#define API_MAX_BODY	(50 * 1024)	/* as Firecracker's payload limit */

struct api;

/*
 * Listen on @sock_path (which must not exist) and serve requests for @vmm.
 * @cfg is the configuration so far (from --config-file, or defaults); the
 * API keeps its own copy.  @started tells whether the VM already runs.
 */
int api__start(struct api **out, const char *sock_path, const char *id,
	       struct vmm *vmm, const struct vm_config *cfg, bool started);
/* Stop serving, close and unlink the socket. */
void api__stop(struct api *api);

#endif
