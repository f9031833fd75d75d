/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thawvm's log: human-readable lines to stderr, or to the file or FIFO that
 * PUT /logger names, filtered by level.  Thread-safe; one write(2) a line.
 */
#ifndef THAW_VMM_LOG_H
#define THAW_VMM_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"

enum log_level {
	LOG_OFF,
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
	LOG_TRACE,
};

void log__printf(enum log_level level, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Apply a logger configuration; 0, or -errno with a message in @err. */
int log__configure(const struct vm_logger_config *lc, char *err,
		   size_t errlen);
void log__set_level(enum log_level level);
/* Wall-clock milliseconds, for log and metrics timestamps. */
uint64_t log__now_ms(void);
/* Monotonic nanoseconds since the process started (boot timings). */
uint64_t log__uptime_ns(void);

#define pr_err(...)	log__printf(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define pr_warn(...)	log__printf(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define pr_info(...)	log__printf(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define pr_debug(...)	log__printf(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

#endif
