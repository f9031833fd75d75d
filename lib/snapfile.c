// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot container (lib/snapfile.h).  The reader validates the whole
 * file before handing out any section: a restore that meets a bad file
 * refuses before it has touched the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/snapfile.h"
#include "lib/snaputil.h"

/* File header fields (byte offsets). */
#define HDR_MAGIC	0
#define HDR_MAJOR	8
#define HDR_MINOR	10
#define HDR_TYPE	12
#define HDR_FLAGS	16
#define HDR_NSECT	20
#define HDR_FSIZE	24
#define HDR_RSVD	32	/* 28 bytes, zero */
#define HDR_CRC		60

/* Section header fields. */
#define SEC_ID		0
#define SEC_FLAGS	4
#define SEC_LEN		8
#define SEC_PCRC	16
#define SEC_RSVD	20	/* 8 bytes, zero */
#define SEC_CRC		28

#define HDR_KNOWN_FLAGS	0u
#define SEC_KNOWN_FLAGS	SNAPFILE_SEC_MANDATORY

static inline uint64_t pad8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

struct registry_entry {
	enum snapfile_type type;
	uint32_t first, last;
	const char *name;
};

static const struct registry_entry registry[] = {
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_MANIFEST, SNAP_SEC_MANIFEST, "manifest" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_VM_CONFIG, SNAP_SEC_VM_CONFIG, "vm-config" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_MEMORY, SNAP_SEC_MEMORY, "memory" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_KVM_VM, SNAP_SEC_KVM_VM, "kvm-vm" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_IRQCHIP, SNAP_SEC_IRQCHIP, "irqchip" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_PIT, SNAP_SEC_PIT, "pit" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_CLOCK, SNAP_SEC_CLOCK, "clock" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_VCPU_BASE,
	  SNAP_SEC_VCPU_BASE + SNAP_MAX_VCPU_SECTIONS - 1, "vcpu" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_MMIO_BUS, SNAP_SEC_MMIO_BUS, "mmio-bus" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_SERIAL_BASE,
	  SNAP_SEC_DEV_SERIAL_BASE + SNAP_MAX_DEV_INSTANCES - 1, "serial" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_VSOCK_BASE,
	  SNAP_SEC_DEV_VSOCK_BASE + SNAP_MAX_DEV_INSTANCES - 1, "vsock" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_RNG_BASE,
	  SNAP_SEC_DEV_RNG_BASE + SNAP_MAX_DEV_INSTANCES - 1, "rng" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_BLOCK_BASE,
	  SNAP_SEC_DEV_BLOCK_BASE + SNAP_MAX_DEV_INSTANCES - 1, "block" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_NET_BASE,
	  SNAP_SEC_DEV_NET_BASE + SNAP_MAX_DEV_INSTANCES - 1, "net" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_BALLOON, SNAP_SEC_DEV_BALLOON, "balloon" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_VMGENID, SNAP_SEC_DEV_VMGENID, "vmgenid" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_I8042, SNAP_SEC_DEV_I8042, "i8042" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_RTC, SNAP_SEC_DEV_RTC, "rtc" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_ACPI, SNAP_SEC_ACPI, "acpi" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_DEV_MMDS, SNAP_SEC_DEV_MMDS, "mmds" },
	{ SNAPFILE_TYPE_STATE, SNAP_SEC_GUEST, SNAP_SEC_GUEST, "guest" },
	{ SNAPFILE_TYPE_WSET, WSET_SEC_HEADER, WSET_SEC_HEADER, "wset-header" },
	{ SNAPFILE_TYPE_WSET, WSET_SEC_PAGES, WSET_SEC_PAGES, "wset-pages" },
	{ SNAPFILE_TYPE_WSET, WSET_SEC_WRITTEN, WSET_SEC_WRITTEN, "wset-written" },
};

const char *snapfile__id_name(enum snapfile_type type, uint32_t id)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (registry[i].type == type && id >= registry[i].first &&
		    id <= registry[i].last)
			return registry[i].name;
	return NULL;
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case SNAPFILE_TYPE_STATE:
		return "state file";
	case SNAPFILE_TYPE_WSET:
		return "working-set file";
	default:
		return NULL;
	}
}

/* Manifest fields. */
#define MAN_MEM_SIZE	0
#define MAN_PAGE_SIZE	8
#define MAN_VCPUS	12
#define MAN_FLAGS	16
#define MAN_RSVD0	20
#define MAN_CREATED	24
#define MAN_VERSION	32	/* 24 bytes */
#define MAN_RSVD1	56
#define MAN_KNOWN_FLAGS	SNAP_MANIFEST_DIFF

void snap_manifest__encode(const struct snap_manifest *m,
			   uint8_t out[SNAP_MANIFEST_SIZE])
{
	memset(out, 0, SNAP_MANIFEST_SIZE);
	put_le64(out + MAN_MEM_SIZE, m->mem_size);
	put_le32(out + MAN_PAGE_SIZE, m->page_size);
	put_le32(out + MAN_VCPUS, m->vcpu_count);
	put_le32(out + MAN_FLAGS, m->flags);
	put_le64(out + MAN_CREATED, m->created_ns);
	memcpy(out + MAN_VERSION, m->vmm_version,
	       strnlen(m->vmm_version, sizeof(m->vmm_version) - 1));
}

int snap_manifest__decode(const void *buf, size_t len,
			  struct snap_manifest *m, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	const char *ver;

	if (len != SNAP_MANIFEST_SIZE)
		return err__set(err, errlen, -EBADMSG,
				"manifest: %zu bytes, expected %d", len,
				SNAP_MANIFEST_SIZE);
	memset(m, 0, sizeof(*m));
	m->mem_size = get_le64(p + MAN_MEM_SIZE);
	m->page_size = get_le32(p + MAN_PAGE_SIZE);
	m->vcpu_count = get_le32(p + MAN_VCPUS);
	m->flags = get_le32(p + MAN_FLAGS);
	m->created_ns = get_le64(p + MAN_CREATED);
	if (m->page_size != 4096 && m->page_size != (2u << 20))
		return err__set(err, errlen, -EBADMSG,
				"manifest: page size %u is neither 4 KiB nor 2 MiB",
				m->page_size);
	if (!m->mem_size || !snap_aligned(m->mem_size, m->page_size))
		return err__set(err, errlen, -EBADMSG,
				"manifest: memory size %llu is not a non-zero multiple of the page size",
				(unsigned long long)m->mem_size);
	if (!m->vcpu_count)
		return err__set(err, errlen, -EBADMSG, "manifest: no vCPUs");
	if (m->flags & ~MAN_KNOWN_FLAGS)
		return err__set(err, errlen, -EPROTONOSUPPORT,
				"manifest: unknown flags 0x%x",
				m->flags & ~MAN_KNOWN_FLAGS);
	if (get_le32(p + MAN_RSVD0) || get_le64(p + MAN_RSVD1))
		return err__set(err, errlen, -EBADMSG,
				"manifest: reserved fields are not zero");
	ver = (const char *)p + MAN_VERSION;
	if (!memchr(ver, 0, sizeof(m->vmm_version)))
		return err__set(err, errlen, -EBADMSG,
				"manifest: version string is not terminated");
	strcpy(m->vmm_version, ver);
	return 0;
}

/* Writer. */

struct wsection {
	uint32_t id;
	uint32_t flags;
	uint8_t *buf;
	size_t len;
};

struct snapfile_writer {
	enum snapfile_type type;
	struct wsection *sec;
	unsigned int nr, cap;
	uint64_t size;			/* of the serialized file */
};

struct snapfile_writer *snapfile__writer_new(enum snapfile_type type)
{
	struct snapfile_writer *w;

	if (!type_name(type))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->type = type;
	w->size = SNAPFILE_HEADER_SIZE;
	return w;
}

void snapfile__writer_free(struct snapfile_writer *w)
{
	if (!w)
		return;
	for (unsigned int i = 0; i < w->nr; i++)
		free(w->sec[i].buf);
	free(w->sec);
	free(w);
}

int snapfile__add_flags(struct snapfile_writer *w, uint32_t id,
			uint32_t flags, const void *buf, size_t len)
{
	struct wsection *s;
	uint64_t need;

	if (flags & ~SEC_KNOWN_FLAGS || (len && !buf))
		return -EINVAL;
	for (unsigned int i = 0; i < w->nr; i++)
		if (w->sec[i].id == id)
			return -EEXIST;
	if (len > SNAPFILE_MAX_SIZE || w->nr >= SNAPFILE_MAX_SECTIONS)
		return -E2BIG;
	need = SNAPFILE_SECTION_SIZE + pad8(len);
	if (w->size + need > SNAPFILE_MAX_SIZE)
		return -E2BIG;
	if (w->nr == w->cap) {
		unsigned int cap = w->cap ? w->cap * 2 : 16;
		struct wsection *n = realloc(w->sec, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		w->sec = n;
		w->cap = cap;
	}
	s = &w->sec[w->nr];
	s->buf = malloc(len ? len : 1);
	if (!s->buf)
		return -ENOMEM;
	if (len)
		memcpy(s->buf, buf, len);
	s->id = id;
	s->flags = flags;
	s->len = len;
	w->nr++;
	w->size += need;
	return 0;
}

int snapfile__add(struct snapfile_writer *w, uint32_t id,
		  const void *buf, size_t len)
{
	if (!snapfile__id_name(w->type, id))
		return -EINVAL;
	return snapfile__add_flags(w, id, SNAPFILE_SEC_MANDATORY, buf, len);
}

int snapfile__serialize(struct snapfile_writer *w, uint8_t **out,
			size_t *len)
{
	uint8_t *p, *q;

	p = calloc(1, w->size);
	if (!p)
		return -ENOMEM;
	memcpy(p + HDR_MAGIC, SNAPFILE_MAGIC, 8);
	put_le16(p + HDR_MAJOR, SNAPFILE_MAJOR);
	put_le16(p + HDR_MINOR, SNAPFILE_MINOR);
	put_le32(p + HDR_TYPE, w->type);
	put_le32(p + HDR_FLAGS, 0);
	put_le32(p + HDR_NSECT, w->nr);
	put_le64(p + HDR_FSIZE, w->size);
	put_le32(p + HDR_CRC, crc32c(0, p, HDR_CRC));

	q = p + SNAPFILE_HEADER_SIZE;
	for (unsigned int i = 0; i < w->nr; i++) {
		const struct wsection *s = &w->sec[i];

		put_le32(q + SEC_ID, s->id);
		put_le32(q + SEC_FLAGS, s->flags);
		put_le64(q + SEC_LEN, s->len);
		put_le32(q + SEC_PCRC, crc32c(0, s->buf, s->len));
		put_le32(q + SEC_CRC, crc32c(0, q, SEC_CRC));
		q += SNAPFILE_SECTION_SIZE;
		memcpy(q, s->buf, s->len);
		q += pad8(s->len);
	}
	*out = p;
	*len = w->size;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int snapfile__commit(struct snapfile_writer *w, const char *path,
		     char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	char *tmp = NULL;
	size_t len;
	int fd = -1, ret;

	ret = snapfile__serialize(w, &buf, &len);
	if (ret) {
		err__set(err, errlen, ret, "%s: out of memory", path);
		goto out;
	}
	fd = snap_mktemp(path, &tmp);
	if (fd < 0) {
		ret = err__set(err, errlen, fd,
			       "%s: cannot create a temporary file beside it: %s",
			       path, strerror(-fd));
		goto out;
	}
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (ret) {
		err__set(err, errlen, ret, "%s: write: %s", path,
			 strerror(-ret));
		goto out_unlink;
	}
	ret = snap_publish(fd, tmp, path);
	close(fd);
	fd = -1;
	if (ret) {
		err__set(err, errlen, ret, "%s: rename: %s", path,
			 strerror(-ret));
		goto out_unlink;
	}
	ret = snap_fsync_parent(path);
	if (ret)
		err__set(err, errlen, ret, "%s: fsync of the directory: %s",
			 path, strerror(-ret));
	goto out;

out_unlink:
	if (tmp)
		unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(buf);
	return ret;
}

/* Reader. */

struct rsection {
	uint32_t id;
	uint32_t flags;
	size_t off;
	size_t len;
};

struct snapfile {
	uint8_t *buf;
	size_t len;
	uint16_t major, minor;
	unsigned int nr;
	struct rsection *sec;
};

void snapfile__close(struct snapfile *f)
{
	if (!f)
		return;
	free(f->sec);
	free(f->buf);
	free(f);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static int check_duplicates(const struct snapfile *f, char *err,
			    size_t errlen)
{
	uint32_t *ids;
	int ret = 0;

	if (f->nr < 2)
		return 0;
	ids = malloc(f->nr * sizeof(*ids));
	if (!ids)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	for (unsigned int i = 0; i < f->nr; i++)
		ids[i] = f->sec[i].id;
	qsort(ids, f->nr, sizeof(*ids), cmp_u32);
	for (unsigned int i = 1; i < f->nr; i++) {
		if (ids[i] == ids[i - 1]) {
			ret = err__set(err, errlen, -EBADMSG,
				       "section 0x%04x appears twice", ids[i]);
			break;
		}
	}
	free(ids);
	return ret;
}

static int parse_sections(struct snapfile *f, enum snapfile_type type,
			  char *err, size_t errlen)
{
	const uint8_t *p = f->buf;
	size_t pos = SNAPFILE_HEADER_SIZE;

	for (unsigned int i = 0; i < f->nr; i++) {
		struct rsection *s = &f->sec[i];
		const uint8_t *h = p + pos;
		uint64_t len, padded;
		const char *name;

		if (f->len - pos < SNAPFILE_SECTION_SIZE)
			return err__set(err, errlen, -EBADMSG,
					"truncated: section %u of %u starts at byte %zu of %zu",
					i + 1, f->nr, pos, f->len);
		if (get_le32(h + SEC_CRC) != crc32c(0, h, SEC_CRC))
			return err__set(err, errlen, -EBADMSG,
					"section %u header at byte %zu: checksum mismatch",
					i + 1, pos);
		s->id = get_le32(h + SEC_ID);
		s->flags = get_le32(h + SEC_FLAGS);
		len = get_le64(h + SEC_LEN);
		name = snapfile__id_name(type, s->id);
		if (s->flags & ~SEC_KNOWN_FLAGS)
			return err__set(err, errlen, -EPROTONOSUPPORT,
					"section 0x%04x: unknown flags 0x%x",
					s->id, s->flags & ~SEC_KNOWN_FLAGS);
		if (!all_zero(h + SEC_RSVD, 8))
			return err__set(err, errlen, -EBADMSG,
					"section 0x%04x: reserved fields are not zero",
					s->id);
		pos += SNAPFILE_SECTION_SIZE;
		if (len > f->len - pos)
			return err__set(err, errlen, -EBADMSG,
					"section 0x%04x: length %llu runs past the end of the file (%zu bytes left)",
					s->id, (unsigned long long)len,
					f->len - pos);
		padded = pad8(len);
		if (padded > f->len - pos)
			return err__set(err, errlen, -EBADMSG,
					"truncated: section 0x%04x's padding is missing",
					s->id);
		if (!all_zero(p + pos + len, padded - len))
			return err__set(err, errlen, -EBADMSG,
					"section 0x%04x: padding is not zero",
					s->id);
		if (get_le32(h + SEC_PCRC) != crc32c(0, p + pos, len))
			return err__set(err, errlen, -EBADMSG,
					"section 0x%04x (%s): payload checksum mismatch",
					s->id, name ? name : "unknown");
		if (!name && (s->flags & SNAPFILE_SEC_MANDATORY))
			return err__set(err, errlen, -EPROTONOSUPPORT,
					"section 0x%04x is mandatory but unknown to this thawvm (written by a newer version?)",
					s->id);
		s->off = pos;
		s->len = len;
		pos += padded;
	}
	if (pos != f->len)
		return err__set(err, errlen, -EBADMSG,
				"%zu unexpected bytes after the last section",
				f->len - pos);
	return check_duplicates(f, err, errlen);
}

static int parse_owned(struct snapfile *f, enum snapfile_type type,
		       char *err, size_t errlen)
{
	const uint8_t *p = f->buf;
	uint32_t ftype, flags, nsect;
	uint64_t fsize;
	const char *want = type_name(type), *got;

	if (!want)
		return err__set(err, errlen, -EINVAL, "unknown file type %d",
				type);
	if (f->len < 8 || memcmp(p + HDR_MAGIC, SNAPFILE_MAGIC, 8))
		return err__set(err, errlen, -EBADMSG,
				"not a thaw snapshot file (bad magic)");
	if (f->len < SNAPFILE_HEADER_SIZE)
		return err__set(err, errlen, -EBADMSG,
				"truncated: %zu bytes, the header alone is %d",
				f->len, SNAPFILE_HEADER_SIZE);
	/* Magic and major come first: another major may lay out the rest
	 * of the header differently.
	 */
	f->major = get_le16(p + HDR_MAJOR);
	f->minor = get_le16(p + HDR_MINOR);
	if (f->major != SNAPFILE_MAJOR)
		return err__set(err, errlen, -EPROTONOSUPPORT,
				"snapshot format %u.%u is not supported: this thawvm reads format %u.x (up to %u.%u)",
				f->major, f->minor, SNAPFILE_MAJOR,
				SNAPFILE_MAJOR, SNAPFILE_MINOR);
	if (get_le32(p + HDR_CRC) != crc32c(0, p, HDR_CRC))
		return err__set(err, errlen, -EBADMSG,
				"header checksum mismatch");
	ftype = get_le32(p + HDR_TYPE);
	got = type_name(ftype);
	if (ftype != (uint32_t)type && got)
		return err__set(err, errlen, -EPROTONOSUPPORT,
				"this is a %s, not a %s", got, want);
	if (ftype != (uint32_t)type)
		return err__set(err, errlen, -EPROTONOSUPPORT,
				"this is a file of unknown type %u, not a %s",
				ftype, want);
	flags = get_le32(p + HDR_FLAGS);
	if (flags & ~HDR_KNOWN_FLAGS)
		return err__set(err, errlen, -EPROTONOSUPPORT,
				"unknown header flags 0x%x", flags);
	/* A newer minor may give the reserved bytes a meaning. */
	if (f->minor <= SNAPFILE_MINOR && !all_zero(p + HDR_RSVD, 28))
		return err__set(err, errlen, -EBADMSG,
				"header: reserved fields are not zero");
	fsize = get_le64(p + HDR_FSIZE);
	if (fsize > f->len)
		return err__set(err, errlen, -EBADMSG,
				"truncated: the header says %llu bytes, the file has %zu",
				(unsigned long long)fsize, f->len);
	if (fsize < f->len)
		return err__set(err, errlen, -EBADMSG,
				"%llu unexpected bytes after the end the header gives (%llu)",
				(unsigned long long)(f->len - fsize),
				(unsigned long long)fsize);
	nsect = get_le32(p + HDR_NSECT);
	if (nsect > SNAPFILE_MAX_SECTIONS)
		return err__set(err, errlen, -EBADMSG,
				"%u sections, at most %d are allowed", nsect,
				SNAPFILE_MAX_SECTIONS);
	if (nsect > (f->len - SNAPFILE_HEADER_SIZE) / SNAPFILE_SECTION_SIZE)
		return err__set(err, errlen, -EBADMSG,
				"truncated: %u sections cannot fit in %zu bytes",
				nsect, f->len);
	f->nr = nsect;
	f->sec = calloc(nsect ? nsect : 1, sizeof(*f->sec));
	if (!f->sec)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	return parse_sections(f, type, err, errlen);
}

int snapfile__parse(const void *buf, size_t len, enum snapfile_type type,
		    struct snapfile **out, char *err, size_t errlen)
{
	struct snapfile *f;
	int ret;

	*out = NULL;
	if (len > SNAPFILE_MAX_SIZE)
		return err__set(err, errlen, -EFBIG,
				"%zu bytes, more than the %llu allowed", len,
				SNAPFILE_MAX_SIZE);
	f = calloc(1, sizeof(*f));
	if (!f)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	f->buf = malloc(len ? len : 1);
	if (!f->buf) {
		free(f);
		return err__set(err, errlen, -ENOMEM, "out of memory");
	}
	if (len)
		memcpy(f->buf, buf, len);
	f->len = len;
	ret = parse_owned(f, type, err, errlen);
	if (ret) {
		snapfile__close(f);
		return ret;
	}
	*out = f;
	return 0;
}

/* Read all of @fd, at most @max bytes; -EFBIG beyond. */
static int read_file(int fd, size_t max, uint8_t **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	uint8_t *buf = malloc(cap), *nb;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (!r)
			break;
		n += (size_t)r;
		if (n > max) {
			free(buf);
			return -EFBIG;
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

int snapfile__open(const char *path, enum snapfile_type type,
		   struct snapfile **out, char *err, size_t errlen)
{
	struct snapfile *f = NULL;
	struct stat st;
	char msg[256];
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err__set(err, errlen, -errno, "%s: %s", path,
				strerror(errno));
	if (fstat(fd, &st)) {
		ret = err__set(err, errlen, -errno, "%s: %s", path,
			       strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = err__set(err, errlen, -EINVAL, "%s: not a regular file",
			       path);
		goto out;
	}
	if ((uint64_t)st.st_size > SNAPFILE_MAX_SIZE) {
		ret = err__set(err, errlen, -EFBIG,
			       "%s: %lld bytes, more than the %llu allowed",
			       path, (long long)st.st_size, SNAPFILE_MAX_SIZE);
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		ret = err__set(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	ret = read_file(fd, SNAPFILE_MAX_SIZE, &f->buf, &f->len);
	if (ret) {
		err__set(err, errlen, ret, "%s: read: %s", path,
			 strerror(-ret));
		goto out;
	}
	ret = parse_owned(f, type, msg, sizeof(msg));
	if (ret) {
		err__set(err, errlen, ret, "%s: %s", path, msg);
		goto out;
	}
	*out = f;
	f = NULL;
out:
	snapfile__close(f);
	close(fd);
	return ret;
}

int snapfile__get(const struct snapfile *f, uint32_t id,
		  const void **buf, size_t *len)
{
	for (unsigned int i = 0; i < f->nr; i++) {
		if (f->sec[i].id == id) {
			*buf = f->buf + f->sec[i].off;
			*len = f->sec[i].len;
			return 0;
		}
	}
	return -ENOENT;
}

void snapfile__version(const struct snapfile *f, uint16_t *major,
		       uint16_t *minor)
{
	*major = f->major;
	*minor = f->minor;
}
