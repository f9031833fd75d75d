// SPDX-License-Identifier: GPL-2.0
/* Small helpers the thawctl commands share. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "proto/proto.h"
#include "tools/thawctl/thawctl.h"

int thawctl__parse_u32(const char *s, uint32_t min, uint32_t max,
		       uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int thawctl__parse_seconds(const char *s, uint64_t *ms)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v > 0) || v > 86400)
		return -EINVAL;
	*ms = v * 1000 + 0.5;
	if (!*ms)
		*ms = 1;
	return 0;
}

int64_t thawctl__realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int thawctl__host_state(struct thaw_host_state *hs, size_t entropy,
			bool clock)
{
	memset(hs, 0, sizeof(*hs));
	if (entropy > THAW_ENTROPY_MAX)
		return -EINVAL;
	if (entropy &&
	    getrandom(hs->entropy, entropy, 0) != (ssize_t)entropy)
		return -EIO;
	hs->entropy_len = entropy;
	if (clock) {
		hs->has_realtime = true;
		hs->realtime_ns = thawctl__realtime_ns();
	}
	return 0;
}

int thawctl__path(char *out, const char *dir, const char *name)
{
	size_t d = strlen(dir), n = strlen(name);

	if (d + 1 + n >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, dir, d);
	out[d] = '/';
	memcpy(out + d + 1, name, n + 1);
	return 0;
}
