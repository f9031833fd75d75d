/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The log: human-readable lines ("[thawvm SECONDS] ...") to stderr, or to
 * the file or FIFO that thawvm's PUT /logger names, filtered by level.
 * Thread-safe; one write(2) a line.
 */
#ifndef THAW_LIB_LOG_H
#define THAW_LIB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Where and what to log: PUT /logger's fields (Firecracker's names).
 * Strings are owned by whoever fills it in.
 */
struct log_config {
	bool present;
	char *log_path;
	char *level;			/* Error, Warning, Info, Debug, Trace */
	bool show_level;
	bool show_log_origin;
};

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
int log__configure(const struct log_config *lc, char *err,
		   size_t errlen);
/*
 * The program other than thawvm that logs with these (its name in the
 * prefix) and the level it starts at; @name must live for good.
 */
void log__set_program(const char *name, enum log_level level);
/* Wall-clock milliseconds, for log and metrics timestamps. */
uint64_t log__now_ms(void);

#define pr_err(...)	log__printf(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define pr_warn(...)	log__printf(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define pr_info(...)	log__printf(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define pr_debug(...)	log__printf(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

#endif
