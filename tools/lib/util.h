/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers of the tools: the clock, numbers and paths. */
#ifndef THAW_TOOLS_LIB_UTIL_H
#define THAW_TOOLS_LIB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * CLOCK_MONOTONIC in milliseconds and nanoseconds: deadlines everywhere in
 * tools/lib are absolute util__now_ms() values.
 */
uint64_t util__now_ms(void);
uint64_t util__now_ns(void);

/* A decimal (or 0x hex) number in [@min, @max]; 0 or -EINVAL. */
int util__parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Seconds, fractions allowed, > 0 and at most a day; into milliseconds. */
int util__parse_seconds(const char *s, uint64_t *ms);
/*
 * The last @len - 1 bytes of the file at @path into @buf, NUL-terminated
 * (a log's tail for an error message): their count, or -errno.
 */
ssize_t util__read_tail(const char *path, char *buf, size_t len);
/* DIR/NAME into @out (PATH_MAX bytes), or -ENAMETOOLONG. */
int util__path(char *out, const char *dir, const char *name);

#endif
