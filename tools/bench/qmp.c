// SPDX-License-Identifier: GPL-2.0
/* The QMP client of the restore bench (qmp.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "tools/bench/qmp.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"

static int wait_in(int fd, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t now = util__now_ms();
	int r;

	if (now >= deadline)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)(deadline - now));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r ? 0 : -ETIMEDOUT;
}

/* One line (one JSON object), parsed; events are recorded and skipped
 * unless @events is set.
 */
static int read_msg(struct qmp *q, struct json_object **out, int events,
		    uint64_t deadline, char *err, size_t errlen)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		struct json_object *o, *ev, *ts, *s, *us;
		ssize_t n;
		int ret;

		if (nl) {
			*nl = '\0';
			o = json_tokener_parse(q->buf);
			q->len -= nl + 1 - q->buf;
			memmove(q->buf, nl + 1, q->len);
			if (!o)
				continue;	/* blank or partial noise */
			if (json_object_object_get_ex(o, "event", &ev)) {
				unsigned int i = q->nr_events % QMP_MAX_EVENTS;

				snprintf(q->event[i], sizeof(q->event[i]), "%s",
					 json_object_get_string(ev));
				q->event_us[i] = 0;
				if (json_object_object_get_ex(o, "timestamp",
							      &ts) &&
				    json_object_object_get_ex(ts, "seconds",
							      &s) &&
				    json_object_object_get_ex(ts,
							      "microseconds",
							      &us))
					q->event_us[i] = json_object_get_int64(s) *
						1000000ULL +
						json_object_get_int64(us);
				q->nr_events++;
				if (!events) {
					json_object_put(o);
					continue;
				}
			}
			*out = o;
			return 0;
		}
		if (q->len == sizeof(q->buf))
			return err__set(err, errlen, -EMSGSIZE,
					"QMP: a line over %zu bytes",
					sizeof(q->buf));
		ret = wait_in(q->fd, deadline);
		if (ret)
			return err__set(err, errlen, ret, "QMP: %s",
					strerror(-ret));
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
		if (n == 0)
			return err__set(err, errlen, -EPIPE,
					"QMP: QEMU closed the monitor");
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return err__set(err, errlen, -errno, "QMP: %s",
					strerror(errno));
		}
		q->len += n;
	}
}

static int send_cmd(struct qmp *q, const char *cmd, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = (void *)cmd, .iov_len = strlen(cmd) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (fd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	/* Small commands: one sendmsg carries all, the fd with the text. */
	do {
		n = sendmsg(q->fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == iov.iov_len ? 0 : -EIO;
}

int qmp__cmd(struct qmp *q, const char *cmd, int fd, struct json_object **ret,
	     uint64_t deadline, char *err, size_t errlen)
{
	struct json_object *o = NULL, *v;
	int r;

	if (ret)
		*ret = NULL;
	r = send_cmd(q, cmd, fd);
	if (r)
		return err__set(err, errlen, r, "QMP: sending %s: %s", cmd,
				strerror(-r));
	r = read_msg(q, &o, 0, deadline, err, errlen);
	if (r)
		return r;
	if (json_object_object_get_ex(o, "return", &v)) {
		if (ret)
			*ret = json_object_get(v);
		json_object_put(o);
		return 0;
	}
	err__set(err, errlen, -EIO, "QMP: %s: %s", cmd,
		 json_object_to_json_string(o));
	json_object_put(o);
	return -EIO;
}

int qmp__wait_event(struct qmp *q, const char *name, uint64_t deadline,
		    uint64_t *when_us, char *err, size_t errlen)
{
	for (;;) {
		unsigned int n = q->nr_events < QMP_MAX_EVENTS ? q->nr_events :
			QMP_MAX_EVENTS;
		struct json_object *o;
		int r;

		for (unsigned int i = 0; i < n; i++) {
			if (!strcmp(q->event[i], name)) {
				if (when_us)
					*when_us = q->event_us[i];
				return 0;
			}
		}
		r = read_msg(q, &o, 1, deadline, err, errlen);
		if (r)
			return r;
		json_object_put(o);
	}
}

int qmp__open(struct qmp *q, const char *path, uint64_t deadline,
	      char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct json_object *o = NULL;
	int r;

	memset(q, 0, sizeof(*q));
	if (strlen(path) >= sizeof(sun.sun_path))
		return err__set(err, errlen, -ENAMETOOLONG, "%s: path too long",
				path);
	strcpy(sun.sun_path, path);
	for (;;) {
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd < 0)
			return -errno;
		if (!connect(q->fd, (struct sockaddr *)&sun, sizeof(sun)))
			break;
		r = -errno;
		close(q->fd);
		q->fd = -1;
		if (util__now_ms() >= deadline)
			return err__set(err, errlen, r, "QMP %s: %s", path,
					strerror(-r));
		usleep(10000);
	}
	/* The greeting: {"QMP": {...}} */
	r = read_msg(q, &o, 0, deadline, err, errlen);
	if (r)
		goto fail;
	json_object_put(o);
	r = qmp__cmd(q, "{\"execute\":\"qmp_capabilities\"}", -1, NULL,
		     deadline, err, errlen);
	if (r)
		goto fail;
	return 0;
fail:
	qmp__close(q);
	return r;
}

void qmp__close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}
