// SPDX-License-Identifier: GPL-2.0
/*
 * Event invocations: an on-disk queue under STATE/queue/.
 *
 *	tmp/		an event being written
 *	ready/		events waiting, one file each
 *	running/	events a worker has taken
 *	dead/		events given up on, with their last error
 *
 * An event's file is named NOTBEFORE-SEQ-REQUESTID (NOTBEFORE: Unix ms,
 * 13 digits, so that names sort by time) and holds one line of JSON
 * (function, request_id, attempt, enqueued_ms, client_context,
 * last_error) then the payload as it came.  It is written in tmp/,
 * fsync'd, renamed into ready/ and the folder fsync'd before the client
 * gets its 202.  A worker takes an event by renaming it into running/
 * (one rename wins); an agent that starts puts everything in running/
 * back into ready/: an event is run at least once, never lost.  A failed
 * event (function error, timeout, a VM that failed) is tried again
 * async.retries times, async.backoff_ms later and doubling, as Lambda
 * does, then moved to dead/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "lib/log.h"
#include "tools/lib/util.h"
#include "tools/thawd/thawd.h"

#define IDLE_WAIT_MS	500
#define THROTTLED_MS	1000	/* an event the limits held back */
#define WAIT_ROOM_MS	10000

static pthread_t *workers;
static uint32_t n_workers;
static bool stopping;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static uint64_t seq;
static char qdir[PATH_MAX - 256];

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static int fsync_dir(const char *sub)
{
	char path[PATH_MAX];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", qdir, sub);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

/* Write an event durably into SUB/ (ready or dead) as NAME. */
static int write_event(const char *sub, const char *name,
		       struct json_object *meta, const char *payload,
		       size_t len)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	const char *m = json_object_to_json_string_ext(meta,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", qdir, name);
	snprintf(dst, sizeof(dst), "%s/%s/%s", qdir, sub, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (write(fd, m, strlen(m)) != (ssize_t)strlen(m) ||
	    write(fd, "\n", 1) != 1 ||
	    (len && write(fd, payload, len) != (ssize_t)len) || fsync(fd))
		ret = errno ? -errno : -EIO;
	close(fd);
	if (!ret && rename(tmp, dst))
		ret = -errno;
	if (!ret)
		ret = fsync_dir(sub);
	if (ret)
		unlink(tmp);
	return ret;
}

static void event_name(char *out, size_t len, uint64_t not_before,
		       const char *request_id)
{
	uint64_t n = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);

	snprintf(out, len, "%013llu-%06llu-%s", (unsigned long long)not_before,
		 (unsigned long long)(n % 1000000), request_id);
}

int queue__put(const char *function, const char *qualifier,
	       const char *request_id, const char *payload, size_t len,
	       const char *client_context)
{
	struct json_object *meta = json_object_new_object();
	uint64_t now = realtime_ms();
	char name[256];
	int ret;

	json_object_object_add(meta, "function",
			       json_object_new_string(function));
	/* As given: an alias is resolved when the event runs. */
	if (qualifier && qualifier[0])
		json_object_object_add(meta, "qualifier",
				       json_object_new_string(qualifier));
	json_object_object_add(meta, "request_id",
			       json_object_new_string(request_id));
	json_object_object_add(meta, "attempt", json_object_new_int(0));
	json_object_object_add(meta, "enqueued_ms",
			       json_object_new_int64((int64_t)now));
	if (client_context)
		json_object_object_add(meta, "client_context",
				       json_object_new_string(client_context));
	event_name(name, sizeof(name), now, request_id);
	ret = write_event("ready", name, meta, payload, len);
	json_object_put(meta);
	if (ret)
		return ret;
	pthread_mutex_lock(&thawd.lock);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&thawd.lock);
	return 0;
}

static int not_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Take the first ready event that is due: its name in @name. */
static bool claim(char *name, size_t len)
{
	char from[PATH_MAX], to[PATH_MAX], path[PATH_MAX];
	uint64_t now = realtime_ms();
	struct dirent **ents;
	bool got = false;
	int n;

	snprintf(path, sizeof(path), "%s/ready", qdir);
	n = scandir(path, &ents, not_dot, alphasort);
	if (n < 0)
		return false;
	for (int i = 0; i < n; i++) {
		if (!got && strtoull(ents[i]->d_name, NULL, 10) <= now) {
			thawd__pathf(from, sizeof(from), "%s/ready/%s", qdir,
				 ents[i]->d_name);
			thawd__pathf(to, sizeof(to), "%s/running/%s", qdir,
				 ents[i]->d_name);
			if (!rename(from, to)) {
				snprintf(name, len, "%s", ents[i]->d_name);
				got = true;
			}
		}
		free(ents[i]);
	}
	free(ents);
	return got;
}

/* Read running/NAME: its meta and payload. */
static int load(const char *name, struct json_object **meta, char **payload,
		size_t *len)
{
	char path[PATH_MAX], *buf, *nl;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/running/%s", qdir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size > THAWD_ASYNC_MAX + 65536) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc(st.st_size + 1);
	n = buf ? read(fd, buf, st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return -EIO;
	}
	buf[n] = '\0';
	nl = memchr(buf, '\n', n);
	if (!nl) {
		free(buf);
		return -EINVAL;
	}
	*nl = '\0';
	*meta = json_tokener_parse(buf);
	if (!*meta || !json_object_is_type(*meta, json_type_object)) {
		json_object_put(*meta);
		free(buf);
		return -EINVAL;
	}
	*len = n - (nl + 1 - buf);
	memmove(buf, nl + 1, *len);
	buf[*len] = '\0';
	*payload = buf;
	return 0;
}

static const char *meta_str(struct json_object *m, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(m, key, &v) &&
	       json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static void drop_running(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/running/%s", qdir, name);
	unlink(path);
}

/* Back to ready/ under a new name, due at @not_before. */
static void requeue(const char *name, struct json_object *meta,
		    const char *payload, size_t len, uint64_t not_before)
{
	const char *id = meta_str(meta, "request_id");
	char fresh[256];
	int ret;

	event_name(fresh, sizeof(fresh), not_before, id ? id : "unknown");
	ret = write_event("ready", fresh, meta, payload, len);
	if (ret) {
		pr_err("async: %s: cannot queue it again: %s (left in running/)",
		       name, strerror(-ret));
		return;
	}
	drop_running(name);
}

static void dead_letter(const char *name, struct function *fn,
			struct json_object *meta, const char *payload,
			size_t len, const char *error)
{
	int ret;

	json_object_object_add(meta, "last_error",
			       json_object_new_string(error));
	ret = write_event("dead", name, meta, payload, len);
	if (ret) {
		pr_err("async: %s: cannot write the dead letter: %s (left in running/)",
		       name, strerror(-ret));
		return;
	}
	pr_warn("async: %s: given up after its retries: %s", name, error);
	drop_running(name);
	if (fn) {
		pthread_mutex_lock(&thawd.lock);
		fn->m.async_dead++;
		pthread_mutex_unlock(&thawd.lock);
	}
}

static void run_one(const char *name)
{
	struct json_object *meta = NULL, *v;
	const char *fname, *qual, *id, *reason = NULL;
	struct inv_request rq = {};
	struct inv_result res;
	struct function *fn = NULL;
	char err[256], *payload = NULL, *error = NULL;
	size_t len = 0;
	int attempt = 0, ret;

	ret = load(name, &meta, &payload, &len);
	if (ret) {
		char bad[PATH_MAX], to[PATH_MAX];

		pr_err("async: %s: unreadable (%s); moved to dead/", name,
		       strerror(-ret));
		snprintf(bad, sizeof(bad), "%s/running/%s", qdir, name);
		snprintf(to, sizeof(to), "%s/dead/%s", qdir, name);
		rename(bad, to);
		return;
	}
	fname = meta_str(meta, "function");
	id = meta_str(meta, "request_id");
	if (json_object_object_get_ex(meta, "attempt", &v))
		attempt = json_object_get_int(v);
	qual = meta_str(meta, "qualifier");
	if (fname)
		pool__function(fname, qual ? qual : "", &fn, err, sizeof(err));
	if (!fn || !id) {
		dead_letter(name, NULL, meta, payload, len,
			    "ResourceNotFoundException: the function is gone");
		goto out;
	}
	rq.request_id = id;
	rq.qualifier = qual;
	rq.payload = payload;
	rq.len = len;
	rq.client_context = meta_str(meta, "client_context");
	ret = invoke__run(fn, &rq, true, util__now_ms() + WAIT_ROOM_MS, &res,
			  &reason);
	if (ret == -EAGAIN) {
		requeue(name, meta, payload, len, realtime_ms() + THROTTLED_MS);
		goto out;
	}
	if (res.vm)
		pool__release(res.vm, res.outcome);
	if (res.outcome == INV_SERVICE_ERROR && thawd.draining) {
		/* Not the event's fault: it waits for the next start. */
		char from[PATH_MAX], to[PATH_MAX];

		thawd__pathf(from, sizeof(from), "%s/running/%s", qdir, name);
		thawd__pathf(to, sizeof(to), "%s/ready/%s", qdir, name);
		if (rename(from, to))
			pr_err("async: %s: %s (left in running/)", name,
			       strerror(errno));
	} else if (res.outcome == INV_OK) {
		drop_running(name);
	} else {
		if (asprintf(&error, "%s: %.*s", res.error_type,
			     (int)(res.body_len > 512 ? 512 : res.body_len),
			     res.body ? res.body : "") < 0)
			error = NULL;
		attempt++;
		json_object_object_add(meta, "attempt",
				       json_object_new_int(attempt));
		if ((uint32_t)attempt > thawd.cfg.async_retries) {
			dead_letter(name, fn, meta, payload, len,
				    error ? error : "error");
		} else {
			json_object_object_add(meta, "last_error",
					       json_object_new_string(error ? error : "error"));
			pthread_mutex_lock(&thawd.lock);
			fn->m.async_retries++;
			pthread_mutex_unlock(&thawd.lock);
			requeue(name, meta, payload, len, realtime_ms() +
				((uint64_t)thawd.cfg.async_backoff_ms <<
				 (attempt - 1)));
		}
		free(error);
	}
	invoke__result_free(&res);
out:
	json_object_put(meta);
	free(payload);
}

static void *worker_main(void *arg)
{
	char name[256];
	struct timespec ts;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&thawd.lock);
		if (stopping || thawd.draining) {
			pthread_mutex_unlock(&thawd.lock);
			return NULL;
		}
		pthread_mutex_unlock(&thawd.lock);
		if (claim(name, sizeof(name))) {
			run_one(name);
			continue;
		}
		pthread_mutex_lock(&thawd.lock);
		if (!stopping && !thawd.draining) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += IDLE_WAIT_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&wake, &thawd.lock, &ts);
		}
		pthread_mutex_unlock(&thawd.lock);
	}
}

/* Events a killed agent had taken go back to ready/. */
static int recover(void)
{
	char path[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	struct dirent **ents;
	int n, back = 0;

	snprintf(path, sizeof(path), "%s/running", qdir);
	n = scandir(path, &ents, not_dot, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		thawd__pathf(from, sizeof(from), "%s/running/%s", qdir,
			 ents[i]->d_name);
		thawd__pathf(to, sizeof(to), "%s/ready/%s", qdir, ents[i]->d_name);
		if (!rename(from, to))
			back++;
		free(ents[i]);
	}
	free(ents);
	if (back)
		pr_info("async: %d events an earlier agent had started are queued again",
			back);
	return fsync_dir("ready");
}

static uint64_t count_dir(const char *sub, uint64_t *oldest)
{
	char path[PATH_MAX];
	struct dirent *e;
	uint64_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", qdir, sub);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct stat st;
		uint64_t ms;

		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, 0))
			continue;
		n++;
		ms = st.st_mtim.tv_sec * 1000ull + st.st_mtim.tv_nsec / 1000000;
		if (!*oldest || ms < *oldest)
			*oldest = ms;
	}
	closedir(d);
	return n;
}

void queue__gauges(void)
{
	uint64_t oldest = 0, n;

	n = count_dir("ready", &oldest) + count_dir("running", &oldest);
	pthread_mutex_lock(&thawd.lock);
	thawd.queue_depth = n;
	thawd.queue_oldest_ms = oldest;
	pthread_mutex_unlock(&thawd.lock);
}

int queue__start(char *err, size_t errlen)
{
	static const char *const subs[] = { "", "/tmp", "/ready", "/running",
					    "/dead" };
	char path[PATH_MAX];
	int ret;

	snprintf(qdir, sizeof(qdir), "%s/queue", thawd.cfg.state_dir);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", qdir, subs[i]);
		if (mkdir(path, 0750) && errno != EEXIST)
			return err__set(err, errlen, -errno, "%s: %s", path,
					strerror(errno));
	}
	ret = recover();
	if (ret)
		return err__set(err, errlen, ret, "%s/ready: %s", qdir,
				strerror(-ret));
	workers = calloc(thawd.cfg.async_workers, sizeof(*workers));
	if (!workers)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	for (n_workers = 0; n_workers < thawd.cfg.async_workers; n_workers++)
		if (pthread_create(&workers[n_workers], NULL, worker_main,
				   NULL))
			return err__set(err, errlen, -EAGAIN,
					"cannot start the async workers");
	return 0;
}

void queue__stop(void)
{
	pthread_mutex_lock(&thawd.lock);
	stopping = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&thawd.lock);
	for (uint32_t i = 0; i < n_workers; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	workers = NULL;
	n_workers = 0;
}
