/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Errors with a message, the one convention of thaw's userspace: a
 * function that can fail returns 0 or a -errno and, where it takes a
 * buffer @err of @errlen bytes, says why in it.  err__set() is the one
 * helper that fills it:
 *
 *	if (size != expected)
 *		return err__set(err, errlen, -EINVAL, "%s: %llu bytes", ...);
 */
#ifndef THAW_LIB_ERR_H
#define THAW_LIB_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Format @fmt into @err (nothing when @err is NULL or @errlen is 0; a long
 * message is cut short) and return @ret.  Inline, so that the compiler
 * sees which value a caller returns.
 */
static inline int __attribute__((format(printf, 4, 5)))
err__set(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

#endif
