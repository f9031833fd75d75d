/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Firecracker's vsock over a Unix socket, the rule both ends share: the
 * VMM listens on uds_path for host-initiated connections ("CONNECT
 * <port>\n"), and a connection the guest makes to host port P goes to
 * "<uds_path>_<P>".  That name, with P up to 4294967295, must fit a
 * sockaddr_un's 108 bytes: thawvm (every way it is configured or
 * restored) and thawctl check a uds_path here and only here.
 */
#ifndef THAW_LIB_VSOCK_UDS_H
#define THAW_LIB_VSOCK_UDS_H

#include <stdbool.h>
#include <string.h>

/* 108 less "_4294967295", the NUL and one byte to spare. */
#define VSOCK_UDS_PATH_MAX	95

/* Is @path a usable uds_path: 1 to VSOCK_UDS_PATH_MAX bytes? */
static inline bool vsock_uds__path_ok(const char *path)
{
	return path && path[0] && strlen(path) <= VSOCK_UDS_PATH_MAX;
}

#endif
