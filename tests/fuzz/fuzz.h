/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every harness shares: libFuzzer's entry point, and a check that
 * aborts (a crash the fuzzer keeps) when a property of the code under test
 * fails, not only when a sanitizer trips.
 */
#ifndef THAW_TESTS_FUZZ_FUZZ_H
#define THAW_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: %s does not hold\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* Bytes taken from the front of an input, zeros once it runs out. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz__u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint32_t fuzz__u32(struct fuzz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fuzz__u8(in) << (8 * i);
	return v;
}

/*
 * Snapshot containers (lib/snapfile.c) carry a CRC-32C of their header and
 * of each section's header and payload: a mutated file fails those first.
 * This recomputes them in place, so that a harness can also feed what is
 * behind them (header 64 bytes, then sections of a 32-byte header and a
 * payload padded to 8; the CRCs at 60, and at 16 and 28 of a section).
 */
#include "lib/crc32c.h"

static inline uint32_t fuzz__le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void fuzz__put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static inline void fuzz__snapfile_fix_crcs(uint8_t *buf, size_t len)
{
	size_t pos = 64;

	if (len < 64)
		return;
	fuzz__put_le32(buf + 60, crc32c(0, buf, 60));
	while (len - pos >= 32) {
		uint8_t *h = buf + pos;
		uint64_t n = fuzz__le32(h + 8) |
			     (uint64_t)fuzz__le32(h + 12) << 32;

		if (n > len - pos - 32)
			break;
		fuzz__put_le32(h + 16, crc32c(0, h + 32, n));
		fuzz__put_le32(h + 28, crc32c(0, h, 28));
		pos += 32 + ((n + 7) & ~7ull);
		if (pos > len)
			break;
	}
}

/* @one on the input as it is, then on a copy with its CRCs made right. */
static inline int fuzz__snapfile_both(const uint8_t *data, size_t size,
				      void (*one)(const uint8_t *, size_t))
{
	uint8_t *fixed = malloc(size ? size : 1);

	FUZZ_CHECK(fixed);
	one(data, size);
	memcpy(fixed, data, size);
	fuzz__snapfile_fix_crcs(fixed, size);
	if (memcmp(fixed, data, size))
		one(fixed, size);
	free(fixed);
	return 0;
}

#endif
