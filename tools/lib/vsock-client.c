// SPDX-License-Identifier: GPL-2.0
/*
 * The tools' host-side vsock transport (tools/lib/vsock-client.h).
 *
 * Firecracker's host-initiated protocol: connect to the VMM's Unix socket,
 * send "CONNECT <port>\n", read "OK <host_port>\n", then the stream is the
 * guest's.  The VMM closes the socket instead when nothing listens on the
 * port.  Guest-initiated connections to CID 2 port P arrive on the Unix
 * socket "<uds_path>_P", which the host must be listening on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/vm_sockets.h>

#include "lib/err.h"
#include "lib/unix-sock.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"

#define HANDSHAKE_MAX	64

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = util__now_ms();

	if (!deadline)
		return -1;
	if (now >= deadline)
		return 0;
	return deadline - now > 1000000000 ? 1000000000 : deadline - now;
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret;

	do {
		int ms = remaining_ms(deadline);

		if (ms == 0)
			return -ETIMEDOUT;
		ret = poll(&p, 1, ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret ? 0 : -ETIMEDOUT;
}

static int vsock_client__write_all(int fd, const void *buf, size_t len,
				   uint64_t deadline)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			n = wait_fd(fd, POLLOUT, deadline);
			if (n)
				return n;
			continue;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int vsock_client__read_full(int fd, void *buf, size_t len, uint64_t deadline)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			n = wait_fd(fd, POLLIN, deadline);
			if (n)
				return n;
			continue;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int unix_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

/* Firecracker's handshake on a connected Unix socket. */
static int uds_handshake(int fd, uint32_t port, uint64_t deadline,
			 char *err, size_t errlen)
{
	char line[HANDSHAKE_MAX + 1], *end;
	size_t n = 0;
	int ret;

	snprintf(line, sizeof(line), "CONNECT %u\n", port);
	ret = vsock_client__write_all(fd, line, strlen(line), deadline);
	if (ret)
		return err__set(err, errlen, ret, "sending CONNECT: %s",
				strerror(-ret));
	/* Byte by byte: what follows the line is the guest's stream. */
	while (n < HANDSHAKE_MAX) {
		ret = vsock_client__read_full(fd, line + n, 1, deadline);
		if (ret == -EPIPE || ret == -ECONNRESET)
			return err__set(err, errlen, -ECONNREFUSED,
					"the VMM closed the connection: nothing listens on guest port %u",
					port);
		if (ret)
			return err__set(err, errlen, ret,
					"reading the VMM's answer: %s",
					strerror(-ret));
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (n < 5 || line[n - 1] != '\n' || strncmp(line, "OK ", 3))
		return err__set(err, errlen, -EPROTO,
				"unexpected answer to CONNECT: '%.*s'",
				(int)strcspn(line, "\n"), line);
	strtoul(line + 3, &end, 10);
	if (end == line + 3 || *end != '\n')
		return err__set(err, errlen, -EPROTO,
				"unexpected answer to CONNECT: '%.*s'",
				(int)strcspn(line, "\n"), line);
	return 0;
}

static int connect_uds(const struct vsock_target *t, uint64_t deadline,
		       char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd, ret;

	ret = unix_addr(&sun, t->uds);
	if (ret)
		return err__set(err, errlen, ret, "%s: path too long", t->uds);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", t->uds, strerror(errno));
		goto fail;
	}
	ret = set_nonblock(fd);
	if (!ret)
		ret = uds_handshake(fd, t->port, deadline, err, errlen);
	if (ret)
		goto fail;
	return fd;
fail:
	close(fd);
	return ret;
}

static int connect_cid(const struct vsock_target *t, uint64_t deadline,
		       char *err, size_t errlen)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = t->cid,
		.svm_port = t->port,
	};
	int fd, ret, ms = remaining_ms(deadline);

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "AF_VSOCK socket: %s%s",
				strerror(errno),
				errno == EAFNOSUPPORT ? " (load vhost_vsock or vsock_loopback)" : "");
	}
	if (ms > 0) {
		struct timeval tv = {
			.tv_sec = ms / 1000,
			.tv_usec = ms % 1000 * 1000,
		};

		setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv,
			   sizeof(tv));
	}
	while (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (errno == EINTR)
			continue;
		ret = -errno;
		snprintf(err, errlen, "vsock CID %u port %u: %s", t->cid,
			 t->port, strerror(errno));
		close(fd);
		return ret;
	}
	ret = set_nonblock(fd);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int vsock_client__connect(const struct vsock_target *t, uint64_t deadline,
			  char *err, size_t errlen)
{
	if (t->uds)
		return connect_uds(t, deadline, err, errlen);
	return connect_cid(t, deadline, err, errlen);
}

int vsock_client__listen(const char *uds, uint32_t port, char *path,
			 size_t pathlen, char *err, size_t errlen)
{
	struct sockaddr_vm vaddr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	struct sockaddr_un sun;
	struct sockaddr *sa = (struct sockaddr *)&vaddr;
	socklen_t salen = sizeof(vaddr);
	int fd, ret, family = AF_VSOCK;

	if (pathlen)
		path[0] = '\0';
	if (uds) {
		if (snprintf(path, pathlen, "%s_%u", uds, port) >=
		    (int)pathlen || unix_addr(&sun, path))
			return err__set(err, errlen, -ENAMETOOLONG,
					"%s_%u: path too long", uds, port);
		/*
		 * Only ever remove a socket nobody listens on (a killed
		 * run's): never a live listener's, nor another file.
		 */
		ret = unix_sock__clear_stale(path, err, errlen);
		if (ret < 0)
			return ret;
		family = AF_UNIX;
		sa = (struct sockaddr *)&sun;
		salen = sizeof(sun);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "socket: %s",
				strerror(errno));
	}
	if (bind(fd, sa, salen) || listen(fd, 16)) {
		ret = -errno;
		if (uds)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "vsock port %u: %s", port,
				 strerror(errno));
		close(fd);
		return ret;
	}
	ret = set_nonblock(fd);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int vsock_client__accept(int lfd, uint64_t deadline)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		int ret;

		if (fd >= 0)
			return fd;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = wait_fd(lfd, POLLIN, deadline);
		if (ret)
			return ret;
	}
}

int vsock_client__send_msg(int fd, uint8_t type, struct json_object *meta,
			   const void *body, size_t body_len, uint64_t deadline)
{
	char *frame;
	size_t flen;
	int ret;

	ret = proto__frame(type, meta, body_len, &frame, &flen);
	if (ret)
		return ret;
	ret = vsock_client__write_all(fd, frame, flen, deadline);
	free(frame);
	if (!ret && body_len)
		ret = vsock_client__write_all(fd, body, body_len, deadline);
	return ret;
}

int vsock_client__recv_msg(int fd, struct thaw_msg_hdr *hdr,
			   struct json_object **meta, char **body,
			   uint64_t deadline, char *err, size_t errlen)
{
	uint8_t raw[THAW_PROTO_HDR_SIZE];
	char *m = NULL;
	int ret;

	*meta = NULL;
	*body = NULL;
	ret = vsock_client__read_full(fd, raw, sizeof(raw), deadline);
	if (ret)
		return err__set(err, errlen, ret, "%s",
				ret == -EPIPE ? "the guest closed the connection" : ret == -ETIMEDOUT ? "timed out" : strerror(-ret));
	ret = proto__decode_hdr(raw, sizeof(raw), hdr);
	if (ret) {
		if (ret == -EPROTONOSUPPORT)
			snprintf(err, errlen,
				 "the guest speaks protocol version %u, not %d",
				 hdr->version, THAW_PROTO_VERSION);
		else
			snprintf(err, errlen, "bad message header: %s",
				 strerror(-ret));
		return ret;
	}
	m = malloc(hdr->meta_len + 1);
	*body = malloc(hdr->body_len + 1);
	if (!m || !*body) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ret = vsock_client__read_full(fd, m, hdr->meta_len, deadline);
	if (!ret)
		ret = vsock_client__read_full(fd, *body, hdr->body_len,
					      deadline);
	if (ret) {
		snprintf(err, errlen, "reading the message: %s",
			 ret == -EPIPE ? "truncated" : strerror(-ret));
		goto fail;
	}
	(*body)[hdr->body_len] = '\0';
	*meta = proto__parse_meta(m, hdr->meta_len, err, errlen);
	if (!*meta) {
		ret = -EBADMSG;
		goto fail;
	}
	free(m);
	if (!hdr->body_len) {
		free(*body);
		*body = NULL;
	}
	return 0;
fail:
	free(m);
	free(*body);
	*body = NULL;
	return ret;
}
