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

#include "lib/token-bucket.h"

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

/*
 * The rate limit of one log site a guest can trigger: LOG_RATELIMIT_BURST
 * lines, then as many again every LOG_RATELIMIT_MS; the lines left out
 * are counted, and said before the site's next line.
 */
struct log_ratelimit {
	bool started;
	struct token_bucket tb;
	uint64_t missed;
};

#define LOG_RATELIMIT_BURST	10
#define LOG_RATELIMIT_MS	5000

/*
 * May the site @rl log a line of @level now?  Not if the level is off,
 * which takes no token.  Thread-safe.
 */
bool log__ratelimit(struct log_ratelimit *rl, enum log_level level,
		    const char *file, int line);
/* Lines left out by every rate-limited site so far. */
uint64_t log__missed(void);

#define pr_err(...)	log__printf(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define pr_warn(...)	log__printf(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define pr_info(...)	log__printf(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define pr_debug(...)	log__printf(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

/*
 * A line the guest can make us log (a device it broke, a request it got
 * wrong): rate-limited, per call site.  Every such site uses one of these.
 */
#define pr_guest(level, ...) do {					\
	static struct log_ratelimit __rl;				\
									\
	if (log__ratelimit(&__rl, level, __FILE__, __LINE__))		\
		log__printf(level, __FILE__, __LINE__, __VA_ARGS__);	\
} while (0)
#define pr_guest_warn(...)	pr_guest(LOG_WARN, __VA_ARGS__)
#define pr_guest_info(...)	pr_guest(LOG_INFO, __VA_ARGS__)
#define pr_guest_debug(...)	pr_guest(LOG_DEBUG, __VA_ARGS__)

#endif
