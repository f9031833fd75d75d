// SPDX-License-Identifier: GPL-2.0
/*
 * The Uffd backend, VMM side (lib/uffd.h): userfaultfd, registration, and
 * the one-message handshake with the page-fault handler.  The message
 * format is Firecracker's; json-c builds and parses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/snaputil.h"
#include "lib/uffd.h"

#define UFFD_FEATURES	(UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)

struct uffd_backend {
	int uffd;
	int sock;
};

static bool page_size_ok(uint64_t ps)
{
	return ps == UFFD_PAGE_4K || ps == UFFD_PAGE_2M;
}

/*
 * The checks both sides make: sizes, alignment, overflow, overlap.
 * @file_size 0: no memory file to check against (the VMM side).
 */
static int check_regions(const struct uffd_region *r, unsigned int nr,
			 uint64_t file_size, char *err, size_t errlen)
{
	if (!nr || nr > UFFD_MAX_REGIONS)
		return err__set(err, errlen, -EINVAL, "%u regions (1..%d)", nr,
				UFFD_MAX_REGIONS);
	for (unsigned int i = 0; i < nr; i++) {
		uint64_t ps = r[i].page_size;

		if (!page_size_ok(ps))
			return err__set(err, errlen, -EINVAL,
					"region %u: page size %llu is neither 4 KiB nor 2 MiB",
					i, (unsigned long long)ps);
		if (ps != r[0].page_size)
			return err__set(err, errlen, -EINVAL,
					"region %u: page size differs from region 0's",
					i);
		if (!r[i].size || !snap_aligned(r[i].size, ps) ||
		    !snap_aligned(r[i].host_addr, ps) ||
		    !snap_aligned(r[i].offset, ps))
			return err__set(err, errlen, -EINVAL,
					"region %u: address, size or offset not aligned to %llu, or empty",
					i, (unsigned long long)ps);
		if (r[i].host_addr + r[i].size < r[i].host_addr ||
		    r[i].offset + r[i].size < r[i].offset)
			return err__set(err, errlen, -EINVAL,
					"region %u: size overflows", i);
		if (file_size && r[i].offset + r[i].size > file_size)
			return err__set(err, errlen, -EINVAL,
					"region %u: [%llu, %llu) is past the end of the %llu-byte memory file",
					i, (unsigned long long)r[i].offset,
					(unsigned long long)(r[i].offset +
							     r[i].size),
					(unsigned long long)file_size);
		for (unsigned int j = 0; j < i; j++) {
			if (r[i].host_addr < r[j].host_addr + r[j].size &&
			    r[j].host_addr < r[i].host_addr + r[i].size)
				return err__set(err, errlen, -EINVAL,
						"regions %u and %u overlap in memory",
						j, i);
			if (r[i].offset < r[j].offset + r[j].size &&
			    r[j].offset < r[i].offset + r[i].size)
				return err__set(err, errlen, -EINVAL,
						"regions %u and %u overlap in the memory file",
						j, i);
		}
	}
	return 0;
}

char *uffd__regions_to_json(const struct uffd_region *regs, unsigned int nr)
{
	json_object *arr = json_object_new_array();
	char *out = NULL;

	if (!arr)
		return NULL;
	for (unsigned int i = 0; i < nr; i++) {
		json_object *o = json_object_new_object();

		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			goto out;
		}
		if (json_object_object_add(o, "base_host_virt_addr",
				json_object_new_uint64(regs[i].host_addr)) ||
		    json_object_object_add(o, "size",
				json_object_new_uint64(regs[i].size)) ||
		    json_object_object_add(o, "offset",
				json_object_new_uint64(regs[i].offset)) ||
		    json_object_object_add(o, "page_size",
				json_object_new_uint64(regs[i].page_size)) ||
		    /* Firecracker's deprecated name; bytes, despite it. */
		    json_object_object_add(o, "page_size_kib",
				json_object_new_uint64(regs[i].page_size)))
			goto out;
	}
	out = strdup(json_object_to_json_string_ext(arr,
						    JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(arr);
	return out;
}

/* A non-negative JSON integer field; 0 found, 1 absent, -EINVAL bad. */
static int get_u64(json_object *o, const char *key, uint64_t *v,
		   unsigned int i, char *err, size_t errlen)
{
	json_object *f;

	if (!json_object_object_get_ex(o, key, &f))
		return 1;
	if (!json_object_is_type(f, json_type_int) ||
	    json_object_get_int64(f) < 0)
		return err__set(err, errlen, -EINVAL,
				"region %u: `%s` must be a non-negative integer",
				i, key);
	*v = json_object_get_uint64(f);
	return 0;
}

static int parse_region(json_object *o, unsigned int i,
			struct uffd_region *r, char *err, size_t errlen)
{
	static const char *const need[] = {
		"base_host_virt_addr", "size", "offset",
	};
	uint64_t *dst[] = { &r->host_addr, &r->size, &r->offset };
	uint64_t ps = 0, kib = 0;
	int ret, ret_kib;

	if (!json_object_is_type(o, json_type_object))
		return err__set(err, errlen, -EINVAL,
				"region %u is not a JSON object", i);
	for (unsigned int k = 0; k < 3; k++) {
		ret = get_u64(o, need[k], dst[k], i, err, errlen);
		if (ret < 0)
			return ret;
		if (ret)
			return err__set(err, errlen, -EINVAL,
					"region %u: missing `%s`", i, need[k]);
	}
	ret = get_u64(o, "page_size", &ps, i, err, errlen);
	if (ret < 0)
		return ret;
	ret_kib = get_u64(o, "page_size_kib", &kib, i, err, errlen);
	if (ret_kib < 0)
		return ret_kib;
	if (ret && ret_kib)
		return err__set(err, errlen, -EINVAL,
				"region %u: missing `page_size`", i);
	if (!ret && !ret_kib && ps != kib)
		return err__set(err, errlen, -EINVAL,
				"region %u: `page_size` %llu and `page_size_kib` %llu differ",
				i, (unsigned long long)ps,
				(unsigned long long)kib);
	r->page_size = ret ? kib : ps;
	return 0;
}

int uffd__parse_regions(const char *text, size_t len, uint64_t mem_file_size,
			struct uffd_region **out, unsigned int *nr,
			char *err, size_t errlen)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	struct uffd_region *r = NULL;
	json_object *arr;
	size_t n, end;
	int ret;

	*out = NULL;
	*nr = 0;
	if (!len)
		return err__set(err, errlen, -EAGAIN, "empty message");
	if (len > UFFD_MAX_MSG)
		return err__set(err, errlen, -EINVAL,
				"message longer than %d bytes", UFFD_MAX_MSG);
	if (memchr(text, 0, len))
		return err__set(err, errlen, -EINVAL,
				"message contains a NUL byte");
	tok = json_tokener_new();
	if (!tok)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	arr = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue)
		return err__set(err, errlen, -EAGAIN,
				"message incomplete after %zu bytes", len);
	if (!arr || jerr != json_tokener_success)
		return err__set(err, errlen, -EINVAL, "message is not JSON: %s",
				json_tokener_error_desc(jerr));
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", text[end])) {
			ret = err__set(err, errlen, -EINVAL,
				       "trailing data after the JSON array");
			goto out;
		}
	}
	if (!json_object_is_type(arr, json_type_array)) {
		ret = err__set(err, errlen, -EINVAL,
			       "message is not a JSON array of regions");
		goto out;
	}
	n = json_object_array_length(arr);
	if (!n || n > UFFD_MAX_REGIONS) {
		ret = err__set(err, errlen, -EINVAL, "%zu regions (1..%d)", n,
			       UFFD_MAX_REGIONS);
		goto out;
	}
	r = calloc(n, sizeof(*r));
	if (!r) {
		ret = err__set(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		ret = parse_region(json_object_array_get_idx(arr, i),
				   (unsigned int)i, &r[i], err, errlen);
		if (ret)
			goto out;
	}
	ret = check_regions(r, (unsigned int)n, mem_file_size, err, errlen);
	if (ret)
		goto out;
	if (!mem_file_size) {
		ret = err__set(err, errlen, -EINVAL, "no memory file size");
		goto out;
	}
	*out = r;
	*nr = (unsigned int)n;
	r = NULL;
out:
	free(r);
	json_object_put(arr);
	return ret;
}

/* userfaultfd(2); where unprivileged use is off, /dev/userfaultfd. */
static int uffd_create(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int dev, ret;

	if (fd >= 0 || (errno != EPERM && errno != ENOSYS))
		return fd >= 0 ? fd : -errno;
	ret = -errno;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return ret;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		fd = -errno;
	close(dev);
	return fd;
}

static int send_handshake(int sock, int uffd, const char *msg,
			  size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &uffd, sizeof(int));
	while (iov.iov_len) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		/* The fd went with the first bytes. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= (size_t)n;
	}
	return 0;
}

int uffd__connect(const char *socket_path, const struct uffd_region *regs,
		  unsigned int nr, struct uffd_backend **out,
		  char *err, size_t errlen)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURES };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct uffd_backend *b;
	unsigned int nreg = 0;
	char *msg = NULL;
	int ret;

	*out = NULL;
	ret = check_regions(regs, nr, 0, err, errlen);
	if (ret)
		return ret;
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return err__set(err, errlen, -ENAMETOOLONG,
				"backend_path %s is longer than a Unix socket path may be",
				socket_path);
	strcpy(sa.sun_path, socket_path);
	b = calloc(1, sizeof(*b));
	if (!b)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	b->sock = -1;
	b->uffd = uffd_create();
	if (b->uffd < 0) {
		ret = err__set(err, errlen, b->uffd,
			       "cannot create a userfaultfd: %s (root, or access to /dev/userfaultfd, is needed)",
			       strerror(-b->uffd));
		goto fail;
	}
	if (ioctl(b->uffd, UFFDIO_API, &api)) {
		ret = err__set(err, errlen, -errno,
			       "UFFDIO_API (remove and unmap events): %s",
			       strerror(errno));
		goto fail;
	}
	for (unsigned int i = 0; i < nr; i++) {
		struct uffdio_register reg = {
			.range = { .start = regs[i].host_addr,
				   .len = regs[i].size },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};

		if (ioctl(b->uffd, UFFDIO_REGISTER, &reg)) {
			ret = err__set(err, errlen, -errno,
				       "UFFDIO_REGISTER of region %u: %s", i,
				       strerror(errno));
			goto fail;
		}
		nreg++;
		if (!(reg.ioctls & (1ull << _UFFDIO_COPY))) {
			ret = err__set(err, errlen, -EOPNOTSUPP,
				       "region %u: the kernel offers no UFFDIO_COPY for this memory",
				       i);
			goto fail;
		}
	}
	msg = uffd__regions_to_json(regs, nr);
	if (!msg) {
		ret = err__set(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	b->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b->sock < 0) {
		ret = err__set(err, errlen, -errno, "socket: %s",
			       strerror(errno));
		goto fail;
	}
	if (connect(b->sock, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = err__set(err, errlen, -errno,
			       "cannot connect to the page-fault handler at %s: %s",
			       socket_path, strerror(errno));
		goto fail;
	}
	ret = send_handshake(b->sock, b->uffd, msg, strlen(msg));
	if (ret) {
		err__set(err, errlen, ret,
			 "cannot send the regions to the page-fault handler at %s: %s",
			 socket_path, strerror(-ret));
		goto fail;
	}
	free(msg);
	*out = b;
	return 0;
fail:
	free(msg);
	/* The handler may hold the fd already: unregister explicitly, so
	 * that nothing stays registered once we return.
	 */
	for (unsigned int i = 0; i < nreg; i++) {
		struct uffdio_range range = { .start = regs[i].host_addr,
					      .len = regs[i].size };

		ioctl(b->uffd, UFFDIO_UNREGISTER, &range);
	}
	uffd__close(b);
	return ret;
}

void uffd__close(struct uffd_backend *b)
{
	if (!b)
		return;
	if (b->sock >= 0)
		close(b->sock);
	if (b->uffd >= 0)
		close(b->uffd);
	free(b);
}
