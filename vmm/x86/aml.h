/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small ACPI Machine Language encoder (ACPI 6.x, chapter 20): just the
 * objects the DSDT needs.  Terms are built into a growable buffer; a term
 * with a body (Device, Scope, Package, Buffer) takes the body as another
 * buffer, already built, because its PkgLength prefix depends on the body's
 * size.  Errors (allocation, bad name, length beyond PkgLength's 2^28) stick
 * in the buffer: check aml__error() once at the end.
 */
#ifndef THAW_VMM_X86_AML_H
#define THAW_VMM_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err;			/* first -errno, sticky */
};

#define AML_PKG_LENGTH_MAX	((1U << 28) - 1)

void aml__init(struct aml *a);
void aml__free(struct aml *a);
int aml__error(const struct aml *a);

void aml__bytes(struct aml *a, const void *data, size_t len);

/*
 * PkgLength for a body of @body_len bytes: the encoded value counts its own
 * 1..4 bytes.  Returns the number of bytes written, 0 on error.
 */
size_t aml__pkg_length(struct aml *a, size_t body_len);

/* NameString: "\\_SB_.COM1", "_HID", "^PCI0"; segments pad with '_'. */
void aml__name_string(struct aml *a, const char *path);

/* Integer data: ZeroOp, OneOp, OnesOp or the smallest prefixed constant. */
void aml__integer(struct aml *a, uint64_t v);
void aml__string(struct aml *a, const char *s);
/* EISA id "PNP0501" as its compressed DWord; -EINVAL if malformed. */
int aml__eisaid_value(const char *id, uint32_t *out);
void aml__eisaid(struct aml *a, const char *id);

/* Name(path, <term already encoded in @value>) */
void aml__name(struct aml *a, const char *path, const struct aml *value);
void aml__name_integer(struct aml *a, const char *path, uint64_t v);
void aml__name_string_value(struct aml *a, const char *path, const char *s);
void aml__name_eisaid(struct aml *a, const char *path, const char *id);

void aml__scope(struct aml *a, const char *path, const struct aml *body);
void aml__device(struct aml *a, const char *path, const struct aml *body);
/* Package with @n elements, each a data term, encoded in @elems. */
void aml__package(struct aml *a, uint8_t n, const struct aml *elems);

/*
 * Control methods: Method(path, @nargs 0..7, Serialized or NotSerialized)
 * { @body }.  Inside a body: If (@pred) { @body }, LEqual(@l, @r), ArgN,
 * Notify(path, @value).  Operands are terms already encoded.
 */
void aml__method(struct aml *a, const char *path, unsigned int nargs,
		 bool serialized, const struct aml *body);
void aml__if(struct aml *a, const struct aml *pred, const struct aml *body);
void aml__lequal(struct aml *a, const struct aml *l, const struct aml *r);
void aml__arg(struct aml *a, unsigned int n);
void aml__notify(struct aml *a, const char *path, uint64_t value);

/* Resource descriptors (ACPI 6.x, 6.4), for aml__name_resources(). */
void aml__res_io(struct aml *a, uint16_t port, uint8_t len);
void aml__res_irq(struct aml *a, uint8_t irq);
void aml__res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len,
			  bool writable);
void aml__res_ext_irq(struct aml *a, uint32_t gsi, bool edge,
		      bool active_low, bool shared);
/* Name(path, ResourceTemplate() { @res ... }): adds the end tag. */
void aml__name_resources(struct aml *a, const char *path,
			 const struct aml *res);

#endif
