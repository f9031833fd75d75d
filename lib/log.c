// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = STDERR_FILENO;		/* protected by log_lock */
static uint64_t log_missed;			/* protected by log_lock */
static enum log_level log_level = LOG_WARN;	/* protected by log_lock */
static bool show_level;				/* protected by log_lock */
static bool show_origin;			/* protected by log_lock */
static const char *prog_name = "thawvm";	/* protected by log_lock */
static struct timespec start_time;

__attribute__((constructor)) static void log_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &start_time);
}

static uint64_t log__uptime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)(ts.tv_sec - start_time.tv_sec) * 1000000000ull +
	       (uint64_t)ts.tv_nsec - (uint64_t)start_time.tv_nsec;
}

uint64_t log__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool log__ratelimit(struct log_ratelimit *rl, enum log_level level,
		    const char *file, int line)
{
	uint64_t now = token_bucket__now_ns(), missed = 0;
	bool ok;

	pthread_mutex_lock(&log_lock);
	if (level > log_level || level == LOG_OFF) {
		pthread_mutex_unlock(&log_lock);
		return false;
	}
	if (!rl->started) {
		token_bucket__init(&rl->tb, LOG_RATELIMIT_BURST, 0,
				   LOG_RATELIMIT_MS, now);
		rl->started = true;
	}
	ok = token_bucket__take(&rl->tb, 1, now);
	if (!ok) {
		rl->missed++;
		log_missed++;
	} else {
		missed = rl->missed;
		rl->missed = 0;
	}
	pthread_mutex_unlock(&log_lock);
	if (missed)
		log__printf(level, file, line,
			    "%llu lines of the next kind suppressed (rate limit)",
			    (unsigned long long)missed);
	return ok;
}

uint64_t log__missed(void)
{
	uint64_t n;

	pthread_mutex_lock(&log_lock);
	n = log_missed;
	pthread_mutex_unlock(&log_lock);
	return n;
}

static const char *const level_names[] = {
	[LOG_OFF] = "Off", [LOG_ERROR] = "Error", [LOG_WARN] = "Warning",
	[LOG_INFO] = "Info", [LOG_DEBUG] = "Debug", [LOG_TRACE] = "Trace",
};

int log__configure(const struct log_config *lc, char *err,
		   size_t errlen)
{
	enum log_level level = LOG_INFO;
	int fd = -1, old;

	if (lc->level) {
		for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
			if (!strcasecmp(lc->level, level_names[i]))
				level = (enum log_level)i;
	}
	if (lc->log_path) {
		fd = open(lc->log_path,
			  O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC,
			  0600);
		if (fd < 0) {
			snprintf(err, errlen, "Cannot open log_path %s: %s",
				 lc->log_path, strerror(errno));
			return -errno;
		}
	}
	pthread_mutex_lock(&log_lock);
	old = log_fd;
	if (fd >= 0)
		log_fd = fd;
	log_level = level;
	show_level = lc->show_level;
	show_origin = lc->show_log_origin;
	pthread_mutex_unlock(&log_lock);
	if (fd >= 0 && old != STDERR_FILENO)
		close(old);
	return 0;
}

void log__printf(enum log_level level, const char *file, int line,
		 const char *fmt, ...)
{
	char buf[1024];
	uint64_t ns = log__uptime_ns();
	size_t n;
	va_list ap;
	int len;

	pthread_mutex_lock(&log_lock);
	if (level > log_level || level == LOG_OFF) {
		pthread_mutex_unlock(&log_lock);
		return;
	}
	len = snprintf(buf, sizeof(buf), "[%s %llu.%06llu]", prog_name,
		       (unsigned long long)(ns / 1000000000ull),
		       (unsigned long long)(ns % 1000000000ull / 1000));
	n = len > 0 ? (size_t)len : 0;
	if (show_level && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s",
				      level_names[level]);
	if (show_origin && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s:%d",
				      file, line);
	if (n < sizeof(buf) - 1)
		buf[n++] = ' ';
	if (n < sizeof(buf)) {
		va_start(ap, fmt);
		len = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
		va_end(ap);
		n += len > 0 ? (size_t)len : 0;
	}
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(log_fd, buf, n) < 0) {
		/* Nowhere left to report a failing log. */
	}
	pthread_mutex_unlock(&log_lock);
}

void log__set_program(const char *name, enum log_level level)
{
	pthread_mutex_lock(&log_lock);
	prog_name = name;
	log_level = level;
	pthread_mutex_unlock(&log_lock);
}
