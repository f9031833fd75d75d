// SPDX-License-Identifier: GPL-2.0
/*
 * The AML encoder, byte for byte against encodings worked out from the
 * ACPI 6.x grammar (chapter 20) and checked against what iasl emits for
 * the same ASL, plus the PkgLength boundaries and malformed input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/x86/aml.h"

#define assert_aml(a, ...) do {						\
	const uint8_t want[] = { __VA_ARGS__ };				\
	assert_int_equal(aml__error(a), 0);				\
	assert_int_equal((a)->len, sizeof(want));			\
	assert_memory_equal((a)->data, want, sizeof(want));		\
} while (0)

static void pkg_length(size_t body, const uint8_t *want, size_t n)
{
	struct aml a;

	aml__init(&a);
	assert_int_equal(aml__pkg_length(&a, body), n);
	assert_int_equal(a.len, n);
	assert_memory_equal(a.data, want, n);
	aml__free(&a);
}

/* The encoded value counts its own bytes: totals 63/64, 4095/4096, ... */
static void pkg_length_boundaries(void **state)
{
	pkg_length(0, (const uint8_t[]){ 0x01 }, 1);
	pkg_length(62, (const uint8_t[]){ 0x3f }, 1);		/* 63 */
	pkg_length(63, (const uint8_t[]){ 0x41, 0x04 }, 2);	/* 65 */
	pkg_length(64, (const uint8_t[]){ 0x42, 0x04 }, 2);	/* 66 */
	pkg_length(4093, (const uint8_t[]){ 0x4f, 0xff }, 2);	/* 4095 */
	pkg_length(4094, (const uint8_t[]){ 0x81, 0x00, 0x01 }, 3); /* 4097 */
	pkg_length(4096, (const uint8_t[]){ 0x83, 0x00, 0x01 }, 3);
	pkg_length((1 << 20) - 4,
		   (const uint8_t[]){ 0x8f, 0xff, 0xff }, 3);	/* 2^20 - 1 */
	pkg_length((1 << 20) - 3,
		   (const uint8_t[]){ 0xc1, 0x00, 0x00, 0x01 }, 4);
	pkg_length((1 << 28) - 5,
		   (const uint8_t[]){ 0xcf, 0xff, 0xff, 0xff }, 4);
}

static void pkg_length_too_big(void **state)
{
	struct aml a;

	aml__init(&a);
	assert_int_equal(aml__pkg_length(&a, (1 << 28) - 4), 0);
	assert_int_equal(aml__error(&a), -E2BIG);
	aml__free(&a);
}

static void integers(void **state)
{
	static const struct {
		uint64_t v;
		uint8_t enc[9];
		size_t n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0a, 0x02 }, 2 },
		{ 0xff, { 0x0a, 0xff }, 2 },
		{ 0x100, { 0x0b, 0x00, 0x01 }, 3 },
		{ 0xffff, { 0x0b, 0xff, 0xff }, 3 },
		{ 0x10000, { 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5 },
		{ 0xd0000000, { 0x0c, 0x00, 0x00, 0x00, 0xd0 }, 5 },
		{ 0x100000000ULL,
		  { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9 },
		{ UINT64_MAX, { 0xff }, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aml a;

		aml__init(&a);
		aml__integer(&a, cases[i].v);
		assert_int_equal(a.len, cases[i].n);
		assert_memory_equal(a.data, cases[i].enc, cases[i].n);
		aml__free(&a);
	}
}

static void eisaid(void **state)
{
	uint32_t v;
	struct aml a;

	assert_int_equal(aml__eisaid_value("PNP0A03", &v), 0);
	assert_int_equal(v, 0x030ad041);
	assert_int_equal(aml__eisaid_value("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105d041);
	assert_int_equal(aml__eisaid_value("PNP0303", &v), 0);
	assert_int_equal(v, 0x0303d041);
	aml__init(&a);
	aml__eisaid(&a, "PNP0501");
	assert_aml(&a, 0x0c, 0x41, 0xd0, 0x05, 0x01);
	aml__free(&a);

	assert_int_equal(aml__eisaid_value("pnp0501", &v), -EINVAL);
	assert_int_equal(aml__eisaid_value("PNP050", &v), -EINVAL);
	assert_int_equal(aml__eisaid_value("PNP05011", &v), -EINVAL);
	assert_int_equal(aml__eisaid_value("PNP05G1", &v), -EINVAL);
	assert_int_equal(aml__eisaid_value("", &v), -EINVAL);
	aml__init(&a);
	aml__eisaid(&a, "P1P0501");
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);
}

static void name_strings(void **state)
{
	struct aml a;

	aml__init(&a);
	aml__name_string(&a, "_HID");
	assert_aml(&a, '_', 'H', 'I', 'D');
	aml__free(&a);

	aml__init(&a);
	aml__name_string(&a, "\\_SB_.COM1");
	assert_aml(&a, 0x5c, 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1');
	aml__free(&a);

	/* Short segments pad with '_'; three or more take MultiNamePrefix. */
	aml__init(&a);
	aml__name_string(&a, "A.BC.D12");
	assert_aml(&a, 0x2f, 3, 'A', '_', '_', '_', 'B', 'C', '_', '_',
		   'D', '1', '2', '_');
	aml__free(&a);

	aml__init(&a);
	aml__name_string(&a, "^^FOO");
	assert_aml(&a, 0x5e, 0x5e, 'F', 'O', 'O', '_');
	aml__free(&a);

	aml__init(&a);
	aml__name_string(&a, "\\");
	assert_aml(&a, 0x5c, 0x00);
	aml__free(&a);
}

static void bad_names(void **state)
{
	static const char *const bad[] = {
		"1ABC", "ABCDE", "abc", "A..B", "A.", ".A", "A B", "\\_SB_.",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct aml a;

		aml__init(&a);
		aml__name_string(&a, bad[i]);
		assert_int_equal(aml__error(&a), -EINVAL);
		aml__free(&a);
	}
}

static void string_and_name(void **state)
{
	struct aml a;

	aml__init(&a);
	aml__name_string_value(&a, "_HID", "LNRO0005");
	assert_aml(&a, 0x08, '_', 'H', 'I', 'D', 0x0d,
		   'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00);
	aml__free(&a);

	aml__init(&a);
	aml__string(&a, "\xc3\xa9");
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);
}

/* Device (COM1) { Name (_HID, EisaId ("PNP0501")) } */
static void device(void **state)
{
	struct aml body, a;

	aml__init(&body);
	aml__init(&a);
	aml__name_eisaid(&body, "_HID", "PNP0501");
	aml__device(&a, "COM1", &body);
	assert_aml(&a, 0x5b, 0x82, 0x0f, 'C', 'O', 'M', '1',
		   0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01);
	aml__free(&body);
	aml__free(&a);
}

/* A body of 63 bytes or more takes a two-byte PkgLength. */
static void device_long_body(void **state)
{
	struct aml body, a;
	uint8_t filler[60];

	memset(filler, 0x01, sizeof(filler));	/* OneOp x 60 */
	aml__init(&body);
	aml__init(&a);
	aml__bytes(&body, filler, sizeof(filler));	/* + "DEV0": 64 */
	aml__device(&a, "DEV0", &body);
	assert_int_equal(aml__error(&a), 0);
	assert_int_equal(a.len, 2 + 2 + 64);
	assert_int_equal(a.data[2], 0x42);	/* 66 = 0x42: low nibble 2 */
	assert_int_equal(a.data[3], 0x04);
	assert_memory_equal(a.data + 4, "DEV0", 4);
	aml__free(&body);
	aml__free(&a);
}

/* Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3F8, 0x3F8, 1, 8)
 *                                   IRQNoFlags () { 4 } }) */
static void resource_template(void **state)
{
	struct aml res, a;

	aml__init(&res);
	aml__init(&a);
	aml__res_io(&res, 0x3f8, 8);
	aml__res_irq(&res, 4);
	aml__name_resources(&a, "_CRS", &res);
	assert_aml(&a, 0x08, '_', 'C', 'R', 'S',
		   0x11, 0x10, 0x0a, 0x0d,
		   0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
		   0x22, 0x10, 0x00,
		   0x79, 0x00);
	aml__free(&res);
	aml__free(&a);
}

static void large_resources(void **state)
{
	struct aml a;

	aml__init(&a);
	aml__res_mem32_fixed(&a, 0xd0000000, 0x200, true);
	aml__res_ext_irq(&a, 5, true, false, false);
	aml__res_ext_irq(&a, 0x12345678, false, true, true);
	assert_aml(&a,
		   0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0,
		   0x00, 0x02, 0x00, 0x00,
		   0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00,
		   0x89, 0x06, 0x00, 0x0d, 0x01, 0x78, 0x56, 0x34, 0x12);
	aml__free(&a);

	aml__init(&a);
	aml__res_irq(&a, 16);			/* IRQ() takes 0..15 */
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);
}

/* Name (\_S5_, Package () { 5, 0, 0, 0 }) */
static void package(void **state)
{
	struct aml elems, pkg, a;

	aml__init(&elems);
	aml__init(&pkg);
	aml__init(&a);
	aml__integer(&elems, 5);
	aml__integer(&elems, 0);
	aml__integer(&elems, 0);
	aml__integer(&elems, 0);
	aml__package(&pkg, 4, &elems);
	aml__name(&a, "\\_S5_", &pkg);
	assert_aml(&a, 0x08, 0x5c, '_', 'S', '5', '_',
		   0x12, 0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00);
	aml__free(&elems);
	aml__free(&pkg);
	aml__free(&a);
}

/* Scope (\_SB_) { Device (V000) { } } */
static void scope_nesting(void **state)
{
	struct aml empty, dev, a;

	aml__init(&empty);
	aml__init(&dev);
	aml__init(&a);
	aml__device(&dev, "V000", &empty);
	aml__scope(&a, "\\_SB_", &dev);
	assert_aml(&a, 0x10, 0x0d, 0x5c, '_', 'S', 'B', '_',
		   0x5b, 0x82, 0x05, 'V', '0', '0', '0');
	aml__free(&empty);
	aml__free(&dev);
	aml__free(&a);
}

/*
 * Method (_EVT, 1, Serialized) { If ((Arg0 == 0x10)) {
 *	Notify (\_SB.VGEN, 0x80) } }
 * as iasl -oa emits it.
 */
static void method_if_notify(void **state)
{
	struct aml arg, num, pred, body, m, a;

	aml__init(&arg);
	aml__init(&num);
	aml__init(&pred);
	aml__init(&body);
	aml__init(&m);
	aml__init(&a);
	aml__arg(&arg, 0);
	aml__integer(&num, 0x10);
	aml__lequal(&pred, &arg, &num);
	assert_aml(&pred, 0x93, 0x68, 0x0a, 0x10);
	aml__notify(&body, "\\_SB_.VGEN", 0x80);
	assert_aml(&body, 0x86, 0x5c, 0x2e, '_', 'S', 'B', '_',
		   'V', 'G', 'E', 'N', 0x0a, 0x80);
	aml__if(&m, &pred, &body);
	aml__method(&a, "_EVT", 1, true, &m);
	assert_aml(&a, 0x14, 0x19, '_', 'E', 'V', 'T', 0x09,
		   0xa0, 0x12, 0x93, 0x68, 0x0a, 0x10,
		   0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'V', 'G', 'E', 'N',
		   0x0a, 0x80);
	aml__free(&a);

	/* Method (MTH0, 0, NotSerialized) { }, Arg6 */
	aml__init(&a);
	aml__method(&a, "MTH0", 0, false, &arg);
	assert_aml(&a, 0x14, 0x07, 'M', 'T', 'H', '0', 0x00, 0x68);
	aml__free(&a);
	aml__init(&a);
	aml__arg(&a, 6);
	assert_aml(&a, 0x6e);
	aml__free(&a);

	aml__free(&arg);
	aml__free(&num);
	aml__free(&pred);
	aml__free(&body);
	aml__free(&m);
}

static void method_bad_input(void **state)
{
	struct aml empty, bad, a;

	aml__init(&empty);
	aml__init(&a);
	aml__method(&a, "_EVT", 8, false, &empty);	/* ArgCount is 3 bits */
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);

	aml__init(&a);
	aml__arg(&a, 7);				/* Arg0..Arg6 */
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);

	aml__init(&a);
	aml__notify(&a, "bad!", 0x80);
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);

	/* Errors in operands reach the If, the LEqual and the Method. */
	aml__init(&bad);
	aml__arg(&bad, 9);
	aml__init(&a);
	aml__if(&a, &bad, &empty);
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);
	aml__init(&a);
	aml__lequal(&a, &empty, &bad);
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);
	aml__init(&a);
	aml__method(&a, "_EVT", 1, false, &bad);
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);
	aml__init(&a);
	aml__method(&a, "1BAD", 1, false, &empty);
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&a);
	aml__free(&bad);
	aml__free(&empty);
}

/* An error inside a body reaches the term that wraps it. */
static void errors_propagate(void **state)
{
	struct aml body, a;

	aml__init(&body);
	aml__init(&a);
	aml__name_integer(&body, "bad!", 1);
	aml__device(&a, "DEV0", &body);
	assert_int_equal(aml__error(&a), -EINVAL);
	aml__free(&body);
	aml__free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pkg_length_boundaries),
		cmocka_unit_test(pkg_length_too_big),
		cmocka_unit_test(integers),
		cmocka_unit_test(eisaid),
		cmocka_unit_test(name_strings),
		cmocka_unit_test(bad_names),
		cmocka_unit_test(string_and_name),
		cmocka_unit_test(device),
		cmocka_unit_test(device_long_body),
		cmocka_unit_test(resource_template),
		cmocka_unit_test(large_resources),
		cmocka_unit_test(package),
		cmocka_unit_test(scope_nesting),
		cmocka_unit_test(errors_propagate),
		cmocka_unit_test(method_if_notify),
		cmocka_unit_test(method_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
