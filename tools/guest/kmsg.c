// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel log records thaw-init acts on (kmsg.h).  Linux 6.1's
 * add_vmfork_randomness() logs one line when a new VM generation ID has
 * reseeded the CRNG; it is the only notice user space gets of a restore
 * (the vmgenid driver of 6.1 sends no uevent).
 */
#include <string.h>

#include "tools/guest/kmsg.h"

#define VMFORK_TEXT	"crng reseeded due to virtual machine fork"

bool kmsg__is_vmfork(const char *rec, size_t len)
{
	const char *text, *end;
	unsigned int pri = 0;
	size_t i = 0;

	/* PRI is facility * 8 + level: the kernel's facility is 0. */
	while (i < len && i < 4 && rec[i] >= '0' && rec[i] <= '9')
		pri = pri * 10 + (rec[i++] - '0');
	if (i == 0 || i >= len || rec[i] != ',' || pri >= 8)
		return false;
	text = memchr(rec, ';', len);
	if (!text)
		return false;
	text++;
	end = memchr(text, '\n', len - (text - rec));
	if (!end)
		end = rec + len;
	return memmem(text, end - text, VMFORK_TEXT,
		      strlen(VMFORK_TEXT)) != NULL;
}
