/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small QMP client (QEMU's JSON monitor protocol on a Unix socket), for
 * driving QEMU as the in-run peer of the restore bench: commands, an fd
 * passed along with a command (SCM_RIGHTS, for "getfd"), and events.
 *
 *	struct qmp q;
 *	qmp__open(&q, "/run/vm.qmp", deadline, err, sizeof(err));
 *	qmp__cmd(&q, "{\"execute\":\"stop\"}", -1, NULL, deadline, err, n);
 *	qmp__wait_event(&q, "RESUME", deadline, &ts_us, err, n);
 *	qmp__close(&q);
 *
 * json-c parses each line; QMP puts one JSON object on each.
 */
#ifndef THAW_BENCH_QMP_H
#define THAW_BENCH_QMP_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define QMP_MAX_EVENTS	32

struct qmp {
	int fd;
	char buf[64 * 1024];
	size_t len;
	/* Events seen while waiting for command answers. */
	unsigned int nr_events;
	char event[QMP_MAX_EVENTS][32];
	uint64_t event_us[QMP_MAX_EVENTS];	/* their CLOCK_REALTIME µs */
};

/* Connect (retrying until @deadline), read the greeting, negotiate. */
int qmp__open(struct qmp *q, const char *path, uint64_t deadline,
	      char *err, size_t errlen);
/*
 * Send one command (a JSON text) with @fd attached when >= 0, and wait for
 * its answer: 0 and the "return" value in @ret (may be NULL), or -EIO with
 * the error's description.
 */
int qmp__cmd(struct qmp *q, const char *cmd, int fd, struct json_object **ret,
	     uint64_t deadline, char *err, size_t errlen);
/* Wait for event @name (or find it among those already seen). */
int qmp__wait_event(struct qmp *q, const char *name, uint64_t deadline,
		    uint64_t *when_us, char *err, size_t errlen);
void qmp__close(struct qmp *q);

#endif
