// SPDX-License-Identifier: GPL-2.0
/* MMDS version 2's session tokens: see token.h. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "vmm/mmds/token.h"

int mmds_tokens__new(struct mmds_tokens *t, uint32_t ttl_s, uint64_t now_ns,
		     char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[MMDS_TOKEN_LEN / 2];
	struct mmds_token *slot = &t->t[0];
	unsigned int i;
	ssize_t n;

	if (ttl_s < MMDS_TOKEN_TTL_MIN || ttl_s > MMDS_TOKEN_TTL_MAX)
		return -EINVAL;
	n = getrandom(raw, sizeof(raw), 0);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(raw))
		return -EIO;
	/* A free or expired slot, else the one that expires first. */
	for (i = 0; i < MMDS_TOKENS_MAX; i++) {
		struct mmds_token *c = &t->t[i];

		if (!c->expires_ns || c->expires_ns <= now_ns) {
			slot = c;
			break;
		}
		if (c->expires_ns < slot->expires_ns)
			slot = c;
	}
	for (i = 0; i < sizeof(raw); i++) {
		slot->text[2 * i] = hex[raw[i] >> 4];
		slot->text[2 * i + 1] = hex[raw[i] & 15];
	}
	slot->text[MMDS_TOKEN_LEN] = '\0';
	slot->expires_ns = now_ns + (uint64_t)ttl_s * 1000000000ULL;
	memcpy(out, slot->text, sizeof(slot->text));
	return 0;
}

/* Compare in constant time: the guest learns nothing from the timing. */
static bool same(const char *a, const char *b)
{
	unsigned char d = 0;
	unsigned int i;

	for (i = 0; i < MMDS_TOKEN_LEN; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return !d;
}

bool mmds_tokens__valid(struct mmds_tokens *t, const char *text,
			uint64_t now_ns)
{
	bool ok = false;
	unsigned int i;

	if (!text || strnlen(text, MMDS_TOKEN_LEN + 1) != MMDS_TOKEN_LEN)
		return false;
	for (i = 0; i < MMDS_TOKENS_MAX; i++) {
		struct mmds_token *c = &t->t[i];

		if (!c->expires_ns)
			continue;
		if (c->expires_ns <= now_ns) {
			memset(c, 0, sizeof(*c));
			continue;
		}
		if (same(c->text, text))
			ok = true;
	}
	return ok;
}

void mmds_tokens__clear(struct mmds_tokens *t)
{
	memset(t, 0, sizeof(*t));
}
