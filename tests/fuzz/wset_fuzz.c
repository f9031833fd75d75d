// SPDX-License-Identifier: GPL-2.0
/*
 * A working-set file (lib/wset.c) as thawvm reads it for a prefetch:
 * the container (lib/snapfile.c: header, sections, CRCs) and the set in
 * it, checked against a 64 MiB memory and against none.  A set that is
 * accepted must hold offsets inside the memory and coalesce into ranges
 * inside it, in both orders, with and without a length limit.  Each
 * input is read as it is, then with its CRCs made right.
 */
#include <string.h>

#include "lib/snapfile.h"
#include "lib/wset.h"
#include "tests/fuzz/fuzz.h"

#define MEM	(64ull << 20)

static void ranges(const struct wset *ws, uint64_t mem)
{
	static const enum wset_order orders[] = { WSET_SORTED,
						  WSET_TOUCH_ORDER };
	struct wset_range *r;
	size_t n;

	for (size_t o = 0; o < 4; o++) {
		if (wset__ranges(ws, orders[o & 1], o & 2 ? 2 << 20 : 0, &r,
				 &n))
			continue;
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(r[i].len);
			if (mem)
				FUZZ_CHECK(r[i].offset < mem &&
					   r[i].len <= mem - r[i].offset);
		}
		free(r);
	}
}

static void one(const uint8_t *data, size_t size)
{
	static const uint64_t mems[] = { MEM, 0 };
	struct wset *ws;
	struct snapfile *f;
	char err[256];

	if (!snapfile__parse(data, size, SNAPFILE_TYPE_WSET, &f, err,
			     sizeof(err))) {
		uint16_t major, minor;

		snapfile__version(f, &major, &minor);
		FUZZ_CHECK(major == SNAPFILE_MAJOR);
		snapfile__close(f);
	}
	for (size_t m = 0; m < 2; m++) {
		if (wset__parse(data, size, mems[m], &ws, err, sizeof(err)))
			continue;
		FUZZ_CHECK(wset__written_count(ws) <= wset__count(ws));
		for (size_t i = 0; i < wset__count(ws); i++)
			if (mems[m])
				FUZZ_CHECK(wset__offset(ws, i) < mems[m]);
		ranges(ws, mems[m]);
		wset__free(ws);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz__snapfile_both(data, size, one);
}
