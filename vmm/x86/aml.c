// SPDX-License-Identifier: GPL-2.0
/* ACPI Machine Language encoder: see aml.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/x86/aml.h"

#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_ROOT_CHAR		0x5c
#define AML_PARENT_CHAR		0x5e
#define AML_ARG0_OP		0x68	/* Arg0..Arg6: 0x68..0x6e */
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_NOTIFY_OP		0x86
#define AML_LEQUAL_OP		0x93
#define AML_IF_OP		0xa0
#define AML_ONES_OP		0xff

void aml__init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml__free(struct aml *a)
{
	free(a->data);
	aml__init(a);
}

int aml__error(const struct aml *a)
{
	return a->err;
}

static void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml__bytes(struct aml *a, const void *data, size_t len)
{
	if (a->err)
		return;
	if (len > AML_PKG_LENGTH_MAX || a->len + len > AML_PKG_LENGTH_MAX) {
		aml_fail(a, -E2BIG);
		return;
	}
	if (a->len + len > a->cap) {
		size_t cap = a->cap ? a->cap : 64;
		uint8_t *p;

		while (cap < a->len + len)
			cap *= 2;
		p = realloc(a->data, cap);
		if (!p) {
			aml_fail(a, -ENOMEM);
			return;
		}
		a->data = p;
		a->cap = cap;
	}
	if (len)
		memcpy(a->data + a->len, data, len);
	a->len += len;
}

static void aml__byte(struct aml *a, uint8_t b)
{
	aml__bytes(a, &b, 1);
}

size_t aml__pkg_length(struct aml *a, size_t body_len)
{
	uint8_t enc[4];
	size_t n, total;

	/* The value includes the PkgLength bytes themselves. */
	if (body_len + 1 <= 0x3f) {
		aml__byte(a, body_len + 1);
		return 1;
	}
	for (n = 2; n <= 4; n++) {
		total = body_len + n;
		if (total < (1ULL << (4 + 8 * (n - 1))))
			break;
	}
	if (n > 4) {
		aml_fail(a, -E2BIG);
		return 0;
	}
	enc[0] = ((n - 1) << 6) | (total & 0x0f);
	enc[1] = total >> 4;
	enc[2] = total >> 12;
	enc[3] = total >> 20;
	aml__bytes(a, enc, n);
	return a->err ? 0 : n;
}

static bool name_char(char c, bool lead)
{
	if (c == '_' || (c >= 'A' && c <= 'Z'))
		return true;
	return !lead && c >= '0' && c <= '9';
}

/* One NameSeg from @s (1..4 chars up to '.' or NUL); returns chars used. */
static size_t name_seg(struct aml *a, const char *s)
{
	char seg[4] = { '_', '_', '_', '_' };
	size_t i;

	for (i = 0; s[i] && s[i] != '.'; i++) {
		if (i == 4 || !name_char(s[i], i == 0)) {
			aml_fail(a, -EINVAL);
			return i;
		}
		seg[i] = s[i];
	}
	if (!i)
		aml_fail(a, -EINVAL);
	aml__bytes(a, seg, 4);
	return i;
}

void aml__name_string(struct aml *a, const char *path)
{
	size_t nsegs = 0, i;
	const char *p;

	if (*path == '\\') {
		aml__byte(a, AML_ROOT_CHAR);
		path++;
	} else {
		while (*path == '^') {
			aml__byte(a, AML_PARENT_CHAR);
			path++;
		}
	}
	if (!*path) {
		aml__byte(a, 0);	/* NullName */
		return;
	}
	for (p = path, nsegs = 1; *p; p++)
		nsegs += *p == '.';
	if (nsegs > 255) {
		aml_fail(a, -EINVAL);
		return;
	}
	if (nsegs == 2) {
		aml__byte(a, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		aml__byte(a, AML_MULTI_NAME_PREFIX);
		aml__byte(a, nsegs);
	}
	for (i = 0; i < nsegs && !a->err; i++) {
		path += name_seg(a, path);
		if (*path == '.')
			path++;
	}
}

void aml__integer(struct aml *a, uint64_t v)
{
	uint8_t b[9];
	size_t n, i;

	if (v == 0) {
		aml__byte(a, AML_ZERO_OP);
		return;
	}
	if (v == 1) {
		aml__byte(a, AML_ONE_OP);
		return;
	}
	if (v == UINT64_MAX) {
		aml__byte(a, AML_ONES_OP);
		return;
	}
	if (v <= 0xff) {
		b[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		b[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffff) {
		b[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		b[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (i = 0; i < n; i++)
		b[1 + i] = v >> (8 * i);
	aml__bytes(a, b, n + 1);
}

void aml__string(struct aml *a, const char *s)
{
	const char *p;

	/* AML strings are ASCII 0x01..0x7f. */
	for (p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	aml__byte(a, AML_STRING_PREFIX);
	aml__bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml__eisaid_value(const char *id, uint32_t *out)
{
	uint32_t v = 0;
	int i, d;

	if (strlen(id) != 7)
		return -EINVAL;
	/* Three letters, 5 bits each, then four hex digits, big-endian... */
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		v = (v << 5) | ((id[i] - 0x40) & 0x1f);
	}
	for (i = 3; i < 7; i++) {
		d = hex_digit(id[i]);
		if (d < 0)
			return -EINVAL;
		v = (v << 4) | d;
	}
	/* ...stored as a little-endian DWord of that big-endian value. */
	*out = __builtin_bswap32(v);
	return 0;
}

void aml__eisaid(struct aml *a, const char *id)
{
	uint32_t v;
	uint8_t b[5];

	if (aml__eisaid_value(id, &v)) {
		aml_fail(a, -EINVAL);
		return;
	}
	b[0] = AML_DWORD_PREFIX;
	b[1] = v;
	b[2] = v >> 8;
	b[3] = v >> 16;
	b[4] = v >> 24;
	aml__bytes(a, b, sizeof(b));
}

static void take_error(struct aml *a, const struct aml *from)
{
	if (from->err)
		aml_fail(a, from->err);
}

void aml__name(struct aml *a, const char *path, const struct aml *value)
{
	take_error(a, value);
	aml__byte(a, AML_NAME_OP);
	aml__name_string(a, path);
	aml__bytes(a, value->data, value->len);
}

void aml__name_integer(struct aml *a, const char *path, uint64_t v)
{
	aml__byte(a, AML_NAME_OP);
	aml__name_string(a, path);
	aml__integer(a, v);
}

void aml__name_string_value(struct aml *a, const char *path, const char *s)
{
	aml__byte(a, AML_NAME_OP);
	aml__name_string(a, path);
	aml__string(a, s);
}

void aml__name_eisaid(struct aml *a, const char *path, const char *id)
{
	aml__byte(a, AML_NAME_OP);
	aml__name_string(a, path);
	aml__eisaid(a, id);
}

/* op [ext] PkgLength NameString body */
static void named_block(struct aml *a, uint8_t ext, uint8_t op,
			const char *path, const struct aml *body)
{
	struct aml name;

	take_error(a, body);
	aml__init(&name);
	aml__name_string(&name, path);
	take_error(a, &name);
	if (ext)
		aml__byte(a, ext);
	aml__byte(a, op);
	aml__pkg_length(a, name.len + body->len);
	aml__bytes(a, name.data, name.len);
	aml__bytes(a, body->data, body->len);
	aml__free(&name);
}

void aml__scope(struct aml *a, const char *path, const struct aml *body)
{
	named_block(a, 0, AML_SCOPE_OP, path, body);
}

void aml__device(struct aml *a, const char *path, const struct aml *body)
{
	named_block(a, AML_EXT_OP_PREFIX, AML_DEVICE_OP, path, body);
}

void aml__package(struct aml *a, uint8_t n, const struct aml *elems)
{
	take_error(a, elems);
	aml__byte(a, AML_PACKAGE_OP);
	aml__pkg_length(a, 1 + elems->len);
	aml__byte(a, n);
	aml__bytes(a, elems->data, elems->len);
}

static void aml__buffer(struct aml *a, const void *data, size_t len)
{
	struct aml size;

	aml__init(&size);
	aml__integer(&size, len);
	take_error(a, &size);
	aml__byte(a, AML_BUFFER_OP);
	aml__pkg_length(a, size.len + len);
	aml__bytes(a, size.data, size.len);
	aml__bytes(a, data, len);
	aml__free(&size);
}

void aml__method(struct aml *a, const char *path, unsigned int nargs,
		 bool serialized, const struct aml *body)
{
	struct aml name;

	if (nargs > 7) {
		aml_fail(a, -EINVAL);
		return;
	}
	take_error(a, body);
	aml__init(&name);
	aml__name_string(&name, path);
	take_error(a, &name);
	aml__byte(a, AML_METHOD_OP);
	aml__pkg_length(a, name.len + 1 + body->len);
	aml__bytes(a, name.data, name.len);
	/* MethodFlags: ArgCount in bits 0-2, SerializeFlag bit 3. */
	aml__byte(a, nargs | (serialized ? 0x08 : 0));
	aml__bytes(a, body->data, body->len);
	aml__free(&name);
}

void aml__if(struct aml *a, const struct aml *pred, const struct aml *body)
{
	take_error(a, pred);
	take_error(a, body);
	aml__byte(a, AML_IF_OP);
	aml__pkg_length(a, pred->len + body->len);
	aml__bytes(a, pred->data, pred->len);
	aml__bytes(a, body->data, body->len);
}

void aml__lequal(struct aml *a, const struct aml *l, const struct aml *r)
{
	take_error(a, l);
	take_error(a, r);
	aml__byte(a, AML_LEQUAL_OP);
	aml__bytes(a, l->data, l->len);
	aml__bytes(a, r->data, r->len);
}

void aml__arg(struct aml *a, unsigned int n)
{
	if (n > 6) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml__byte(a, AML_ARG0_OP + n);
}

void aml__notify(struct aml *a, const char *path, uint64_t value)
{
	aml__byte(a, AML_NOTIFY_OP);
	aml__name_string(a, path);
	aml__integer(a, value);
}

/* Small resource items: tag byte = type << 3 | length. */
void aml__res_io(struct aml *a, uint16_t port, uint8_t len)
{
	const uint8_t d[8] = {
		0x47, 0x01,			/* I/O, 16-bit decode */
		port, port >> 8,		/* minimum base */
		port, port >> 8,		/* maximum base */
		0x01, len,			/* alignment, length */
	};

	aml__bytes(a, d, sizeof(d));
}

void aml__res_irq(struct aml *a, uint8_t irq)
{
	uint16_t mask;
	uint8_t d[3];

	if (irq > 15) {
		aml_fail(a, -EINVAL);
		return;
	}
	mask = 1U << irq;
	d[0] = 0x22;				/* IRQ, no flags byte */
	d[1] = mask;
	d[2] = mask >> 8;
	aml__bytes(a, d, sizeof(d));
}

/* Large resource items: tag, 16-bit length of what follows. */
void aml__res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len,
			  bool writable)
{
	const uint8_t d[12] = {
		0x86, 9, 0, writable,
		base, base >> 8, base >> 16, base >> 24,
		len, len >> 8, len >> 16, len >> 24,
	};

	aml__bytes(a, d, sizeof(d));
}

void aml__res_ext_irq(struct aml *a, uint32_t gsi, bool edge,
		      bool active_low, bool shared)
{
	const uint8_t d[9] = {
		0x89, 6, 0,
		/* consumer, edge/level, polarity, sharing */
		0x01 | edge << 1 | active_low << 2 | shared << 3,
		1,				/* one interrupt */
		gsi, gsi >> 8, gsi >> 16, gsi >> 24,
	};

	aml__bytes(a, d, sizeof(d));
}

static void aml__res_end(struct aml *a)
{
	/* A zero checksum means "treat as correct". */
	const uint8_t d[2] = { 0x79, 0x00 };

	aml__bytes(a, d, sizeof(d));
}

void aml__name_resources(struct aml *a, const char *path,
			 const struct aml *res)
{
	struct aml tmpl, buf;

	aml__init(&tmpl);
	aml__init(&buf);
	take_error(&tmpl, res);
	aml__bytes(&tmpl, res->data, res->len);
	aml__res_end(&tmpl);
	aml__buffer(&buf, tmpl.data, tmpl.len);
	take_error(&buf, &tmpl);
	aml__name(a, path, &buf);
	aml__free(&tmpl);
	aml__free(&buf);
}
