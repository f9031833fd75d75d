// SPDX-License-Identifier: GPL-2.0
/* The machine's log: one line per call, written with a single write(2). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "vmm/log.h"

static atomic_int log_fd = 2;
static atomic_int log_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void log__set_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

void log__set_level(enum log_level level)
{
	atomic_store(&log_level, level);
}

void log__printf(enum log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, m;

	if ((int)level > atomic_load(&log_level))
		return;
	n = snprintf(line, sizeof(line), "thawvm: %s: ", level_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(atomic_load(&log_fd), line, n) < 0)
		return;
}
