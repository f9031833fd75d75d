/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine's log lines.  They go to stderr until the control plane points
 * them elsewhere (PUT /logger) with log__set_fd() and log__set_level().
 */
#ifndef THAW_VMM_LOG_H
#define THAW_VMM_LOG_H

#include "vmm/util.h"

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

void log__set_fd(int fd);
void log__set_level(enum log_level level);
__printf(2, 3)
void log__printf(enum log_level level, const char *fmt, ...);

#define pr_err(...)	log__printf(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)	log__printf(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	log__printf(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	log__printf(LOG_DEBUG, __VA_ARGS__)

#endif
