/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every part of the machine uses. */
#ifndef THAW_VMM_UTIL_H
#define THAW_VMM_UTIL_H

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)	__attribute__((format(printf, a, b)))

#endif
