// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl snapshot: turn a function initramfs into a ready snapshot
 * directory (boot it in a thawvm, wait for the runtime's first "next",
 * pause, PUT /snapshot/create), optionally recording the working set of
 * one invocation in a clone; or snapshot a running VM through its API
 * socket (Full or Diff).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "lib/snapfile.h"
#include "proto/proto.h"
#include "tools/lib/clone.h"
#include "tools/lib/invoke.h"
#include "tools/lib/proc.h"
#include "tools/lib/thawvm-api.h"
#include "tools/lib/util.h"
#include "tools/lib/vsock-client.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

#define DEFAULT_MEM_MIB		128
#define DEFAULT_TIMEOUT_MS	300000	/* a nested guest under TCG */
#define API_TIMEOUT_MS		120000	/* one request (a large create) */
#define SOURCE_CID		3
#define RECORD_CID		4
#define PROGRESS_MS		500
#define BOOT_ARGS		"console=ttyS0 quiet panic=-1"

struct snap_args {
	const char *func, *dir, *kernel, *boot_args, *thawvm, *handler;
	const char *log, *console, *payload, *api_sock;
	uint32_t mem_mib, vcpus;
	uint64_t timeout_ms;
	enum clone_backend record_backend;
	bool record, force, diff, resume, track_dirty;
	bool created_dir;		/* SNAPDIR is ours to remove on failure */
};

/* The files of one run, in a private temporary folder. */
#define WORK_DIR_MAX	64
#define WORK_PATH_MAX	(WORK_DIR_MAX + 16)
struct work {
	char dir[WORK_DIR_MAX];
	char api[WORK_PATH_MAX], uds[WORK_PATH_MAX], console[WORK_PATH_MAX];
	char log[WORK_PATH_MAX], rapi[WORK_PATH_MAX], ruds[WORK_PATH_MAX];
	bool progress;
	uint64_t t0;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl snapshot FUNC.cpio.gz SNAPDIR [options]\n"
		"       thawctl snapshot --api-sock PATH SNAPDIR [--diff] [--resume]\n"
		"Boot a function initramfs, wait until its runtime asks for its first\n"
		"invocation, and snapshot it there into SNAPDIR/{state,memory}.\n"
		"  --mem MIB           guest RAM (default %d)\n"
		"  --vcpus N           (default 1)\n"
		"  --kernel PATH       the guest kernel (default $THAW_KERNEL)\n"
		"  --boot-args ARGS    added to \"%s\"\n"
		"  --track-dirty       boot with dirty-page tracking\n"
		"  --record-wset       then restore it once, invoke --payload and\n"
		"                      record the pages touched into SNAPDIR/wset\n"
		"  --payload JSON      the recording invocation's event\n"
		"  --record-backend B  File, Uffd or Thaw (default: Thaw where\n"
		"                      /dev/thaw is, else File)\n"
		"  --force             replace a snapshot already in SNAPDIR\n"
		"  --timeout SEC       for the guest to get ready (default %d)\n"
		"  --log FILE          thawvm's log (default: shown on failure)\n"
		"  --console FILE      the guest console (default: shown on failure)\n"
		"  --thawvm PATH, --uffd-handler PATH   the programs\n"
		"The second form snapshots a running VM through its API socket:\n"
		"pause, create (--diff: only the pages dirtied since the last\n"
		"snapshot or load), and resume with --resume.\n"
		"Prints one JSON object: the snapshot's files and timings.\n"
		"Exit status: 0, 1 error (SNAPDIR is left as it was), 2 usage,\n"
		"4 the function failed to initialize, 5 timeout.\n",
		DEFAULT_MEM_MIB, BOOT_ARGS, DEFAULT_TIMEOUT_MS / 1000);
}

static double ms_since(uint64_t t)
{
	return (util__now_ns() - t) / 1e6;
}

static void progress(struct work *w, const char *what)
{
	if (!w->progress)
		return;
	fprintf(stderr, "\r\033[Kthawctl snapshot: %s (%.1f s)", what,
		ms_since(w->t0) / 1000);
	fflush(stderr);
}

static void progress_end(struct work *w)
{
	if (w->progress)
		fprintf(stderr, "\r\033[K");
}


static void show_tail(const char *what, const char *path, int lines)
{
	char buf[8192];
	ssize_t n = util__read_tail(path, buf, sizeof(buf));
	char *p;

	if (n <= 0)
		return;
	p = buf + n;
	while (p > buf && lines >= 0)
		if (*--p == '\n')
			lines--;
	if (*p == '\n')
		p++;
	fprintf(stderr, "thawctl snapshot: the last lines of %s:\n%s%s", what,
		p, buf[n - 1] == '\n' ? "" : "\n");
}

static void work_cleanup(struct work *w)
{
	const char *files[] = { w->api, w->uds, w->console, w->log, w->rapi,
				w->ruds };
	char p[PATH_MAX + 16];

	if (!w->dir[0])
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!files[i][0])
			continue;
		unlink(files[i]);
		snprintf(p, sizeof(p), "%s_%u", files[i], THAW_READY_PORT);
		unlink(p);
		snprintf(p, sizeof(p), "%s.uffd", files[i]);
		unlink(p);
	}
	rmdir(w->dir);
}

static int work_init(struct work *w, const struct snap_args *a)
{
	const char *tmp = getenv("TMPDIR");

	memset(w, 0, sizeof(*w));
	w->t0 = util__now_ns();
	w->progress = isatty(2);
	/* Short: vsock socket paths are limited to 95 bytes. */
	if (!tmp || strlen(tmp) > WORK_DIR_MAX - 16)
		tmp = "/tmp";
	snprintf(w->dir, sizeof(w->dir), "%s/thawctl.XXXXXX", tmp);
	if (!mkdtemp(w->dir)) {
		w->dir[0] = '\0';
		return -errno;
	}
	snprintf(w->api, sizeof(w->api), "%s/api.sock", w->dir);
	snprintf(w->uds, sizeof(w->uds), "%s/vsock", w->dir);
	snprintf(w->rapi, sizeof(w->rapi), "%s/rec.sock", w->dir);
	snprintf(w->ruds, sizeof(w->ruds), "%s/rec.vsock", w->dir);
	if (!a->console)
		snprintf(w->console, sizeof(w->console), "%s/console", w->dir);
	if (!a->log)
		snprintf(w->log, sizeof(w->log), "%s/log", w->dir);
	return 0;
}

static const char *console_path(const struct work *w,
				const struct snap_args *a)
{
	return a->console ? a->console : w->console;
}

static const char *log_path(const struct work *w, const struct snap_args *a)
{
	return a->log ? a->log : w->log;
}

static int put(const char *sock, const char *path, struct json_object *b,
	       char *err, size_t errlen)
{
	int ret = thawvm_api__do(sock, "PUT", path, b, API_TIMEOUT_MS, err, errlen);

	json_object_put(b);
	return ret;
}

static int configure(const struct snap_args *a, const struct work *w,
		     char *err, size_t errlen)
{
	struct boot_opts b = {
		.kernel = a->kernel, .initrd = a->func, .mem_mib = a->mem_mib,
		.vcpus = a->vcpus, .cid = SOURCE_CID, .uds = w->uds,
		.track_dirty = a->track_dirty,
	};
	char args[4096];

	snprintf(args, sizeof(args), "%s%s%s", BOOT_ARGS,
		 a->boot_args ? " " : "", a->boot_args ? a->boot_args : "");
	b.boot_args = args;
	return clone__configure_boot(w->api, &b, API_TIMEOUT_MS, err, errlen);
}

/*
 * Wait for the guest's READY on <uds>_9999 (listening since before the
 * boot), watching that thawvm still runs.  0 and the message in @ready.
 */
static int wait_ready(int lfd, pid_t pid, struct work *w, uint64_t deadline,
		      struct json_object **ready, char *err, size_t errlen)
{
	struct thaw_msg_hdr hdr;
	char sbuf[64];
	int st;

	for (;;) {
		uint64_t now = util__now_ms(), until;
		char *body = NULL;
		int fd, ret;

		if (now >= deadline)
			return err__set(err, errlen, -ETIMEDOUT,
					"the guest was not ready in time");
		until = now + PROGRESS_MS < deadline ? now + PROGRESS_MS :
			deadline;
		progress(w, "booting, waiting for the runtime's first next");
		fd = vsock_client__accept(lfd, until);
		if (fd == -ETIMEDOUT) {
			if (!proc__exited(pid, &st))
				continue;
			proc__status_str(st, sbuf, sizeof(sbuf));
			return err__set(err, errlen, -ECHILD,
					"thawvm ended (%s) before the guest was ready",
					sbuf);
		}
		if (fd < 0)
			return err__set(err, errlen, fd, "accept: %s",
					strerror(-fd));
		ret = vsock_client__recv_msg(fd, &hdr, ready, &body,
					     util__now_ms() + 10000, err,
					     errlen);
		close(fd);
		free(body);
		if (!ret && hdr.type == THAW_MSG_READY)
			return 0;
		json_object_put(*ready);
		*ready = NULL;
	}
}

static int set_state(const char *sock, const char *state, char *err,
		     size_t errlen)
{
	struct json_object *b = json_object_new_object();
	int ret;

	json_object_object_add(b, "state", json_object_new_string(state));
	ret = thawvm_api__do(sock, "PATCH", "/vm", b, API_TIMEOUT_MS, err, errlen);
	json_object_put(b);
	return ret;
}

/*
 * The guest never got ready: a runtime that fails its init never asks for
 * an invocation, and thaw-init answers any invocation with that init
 * error.  Ask once (the VM is discarded anyway) to tell the two apart.
 */
static bool init_failed(struct work *w, char *err, size_t errlen)
{
	struct vsock_target t = { .uds = w->uds, .port = THAW_INVOKE_PORT };
	struct thaw_invoke inv = {};
	struct invoke_reply r;
	char e[256];
	bool failed;

	invoke__prepare(&inv, 5000, 0, false);
	if (invoke__call(&t, &inv, "{}", 2, 5000, 0, &r, e, sizeof(e)))
		return false;
	failed = r.res.status == THAW_STATUS_INIT_ERROR;
	if (failed)
		err__set(err, errlen, true,
			 "the function failed to initialize: %s: %.*s",
			 r.res.error_type, 300, r.body ? r.body : "");
	invoke__reply_free(&r);
	return failed;
}

static int pause_and_create(const char *sock, const char *dir, bool diff,
			    double *pause_ms, double *create_ms,
			    char *err, size_t errlen)
{
	char state[PATH_MAX], mem[PATH_MAX];
	struct json_object *b;
	uint64_t t;
	int ret;

	if (util__path(state, dir, SNAP_DIR_STATE) ||
	    util__path(mem, dir, SNAP_DIR_MEMORY))
		return err__set(err, errlen, -ENAMETOOLONG, "%s: path too long",
				dir);
	t = util__now_ns();
	ret = set_state(sock, "Paused", err, errlen);
	if (ret)
		return ret;
	*pause_ms = ms_since(t);
	t = util__now_ns();
	b = json_object_new_object();
	json_object_object_add(b, "snapshot_path",
			       json_object_new_string(state));
	json_object_object_add(b, "mem_file_path", json_object_new_string(mem));
	json_object_object_add(b, "snapshot_type",
			       json_object_new_string(diff ? "Diff" : "Full"));
	ret = put(sock, "/snapshot/create", b, err, errlen);
	*create_ms = ms_since(t);
	return ret;
}

/* Restore once with record_wset, invoke, write SNAPDIR/wset. */
static int record_wset(const struct snap_args *a, struct work *w,
		       double *record_ms, char *err, size_t errlen)
{
	struct clone_opts o = {
		.snapdir = a->dir, .api_sock = w->rapi, .uds = w->ruds,
		.cid = RECORD_CID, .backend = a->record_backend,
		.record_wset = true, .resume = true, .thawvm = a->thawvm,
		.uffd_handler = a->handler, .id = "thawctl-record",
		.log = log_path(w, a), .console = console_path(w, a),
		.timeout_ms = API_TIMEOUT_MS,
	};
	struct vsock_target t = { .uds = w->ruds, .port = THAW_INVOKE_PORT };
	struct thaw_invoke inv = {};
	struct invoke_reply r;
	char wset[PATH_MAX];
	struct json_object *b;
	uint64_t t0 = util__now_ns();
	struct clone c;
	int ret;

	if (util__path(wset, a->dir, SNAP_DIR_WSET))
		return err__set(err, errlen, -ENAMETOOLONG, "%s: path too long",
				a->dir);
	progress(w, "recording the working set");
	ret = clone__spawn(&o, &c, err, errlen);
	if (!ret)
		ret = clone__load(&o, &c, err, errlen);
	if (ret)
		return ret;
	invoke__prepare(&inv, API_TIMEOUT_MS, 32, true);
	ret = invoke__call(&t, &inv, a->payload, strlen(a->payload),
			   API_TIMEOUT_MS, INVOKE_RETRY_CONNECT, &r, err,
			   errlen);
	if (!ret && r.res.status != THAW_STATUS_OK) {
		ret = err__set(err, errlen, -EIO,
			       "the recording invocation failed: %s%s%s",
			       proto__status_name(r.res.status),
			       r.res.error_type[0] ? ": " : "",
			       r.res.error_type);
	}
	if (!ret)
		invoke__reply_free(&r);
	if (!ret) {
		b = json_object_new_object();
		json_object_object_add(b, "wset_path",
				       json_object_new_string(wset));
		ret = put(w->rapi, "/snapshot/wset", b, err, errlen);
	}
	clone__stop(&c);
	*record_ms = ms_since(t0);
	return ret;
}

static long long file_blocks_bytes(const char *dir, const char *name,
				   long long *size)
{
	char p[PATH_MAX];
	struct stat st;

	if (util__path(p, dir, name) || stat(p, &st))
		return -1;
	if (size)
		*size = st.st_size;
	return (long long)st.st_blocks * 512;
}

static int prepare_dir(struct snap_args *a, char *err, size_t errlen)
{
	char p[PATH_MAX];
	struct stat st;
	int ret;

	if (mkdir(a->dir, 0700) && errno != EEXIST) {
		ret = -errno;
		return err__set(err, errlen, ret, "%s: %s", a->dir,
				strerror(errno));
	}
	if (stat(a->dir, &st) || !S_ISDIR(st.st_mode))
		return err__set(err, errlen, -ENOTDIR, "%s: not a directory",
				a->dir);
	if (util__path(p, a->dir, SNAP_DIR_STATE))
		return err__set(err, errlen, -ENAMETOOLONG, "%s: path too long",
				a->dir);
	if (!a->force && !access(p, F_OK))
		return err__set(err, errlen, -EEXIST,
				"%s already holds a snapshot (--force replaces it)",
				a->dir);
	/* A working set recorded for another snapshot would mislead. */
	util__path(p, a->dir, SNAP_DIR_WSET);
	if (unlink(p) && errno != ENOENT) {
		ret = -errno;
		return err__set(err, errlen, ret, "%.900s: %s", p,
				strerror(errno));
	}
	return 0;
}

static void print_result(const struct snap_args *a, struct json_object *ready,
			 double boot_ms, double pause_ms, double create_ms,
			 double record_ms)
{
	struct json_object *o = json_object_new_object();
	long long size = 0, used;

	json_object_object_add(o, "snapshot", json_object_new_string(a->dir));
	if (ready)
		json_object_object_add(o, "ready", json_object_get(ready));
	if (boot_ms >= 0)
		json_object_object_add(o, "boot_to_ready_ms",
				       json_object_new_double(boot_ms));
	json_object_object_add(o, "pause_ms", json_object_new_double(pause_ms));
	json_object_object_add(o, "create_ms",
			       json_object_new_double(create_ms));
	used = file_blocks_bytes(a->dir, SNAP_DIR_MEMORY, &size);
	json_object_object_add(o, "memory_size", json_object_new_int64(size));
	json_object_object_add(o, "memory_allocated",
			       json_object_new_int64(used));
	json_object_object_add(o, "state_size", json_object_new_int64(
			file_blocks_bytes(a->dir, SNAP_DIR_STATE, &size) < 0 ?
			-1 : size));
	if (record_ms >= 0) {
		json_object_object_add(o, "record_ms",
				       json_object_new_double(record_ms));
		json_object_object_add(o, "wset_size", json_object_new_int64(
			file_blocks_bytes(a->dir, SNAP_DIR_WSET, &size) < 0 ?
			-1 : size));
	}
	printf("%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(o);
}

/*
 * thawctl snapshot --api-sock PATH SNAPDIR: a VM that already runs.  A
 * VM that was running and is not to be resumed stays paused; a failure
 * leaves it as it was.
 */
static int snapshot_running(struct snap_args *a)
{
	double pause_ms = 0, create_ms = 0;
	struct json_object *st;
	struct thawvm_api_resp r;
	bool was_running;
	char err[1024], e2[256];
	int ret;

	ret = thawvm_api__call(a->api_sock, "GET", "/", NULL, API_TIMEOUT_MS,
			       &r, err, sizeof(err));
	if (ret)
		goto fail;
	was_running = r.json && json_object_object_get_ex(r.json, "state",
							  &st) &&
		!strcmp(json_object_get_string(st), "Running");
	thawvm_api__resp_free(&r);
	ret = prepare_dir(a, err, sizeof(err));
	if (ret)
		goto fail;
	ret = pause_and_create(a->api_sock, a->dir, a->diff, &pause_ms,
			       &create_ms, err, sizeof(err));
	if ((ret || a->resume) && was_running &&
	    set_state(a->api_sock, "Resumed", e2, sizeof(e2)) && !ret) {
		ret = err__set(err, sizeof(err), -EIO, "%s", e2);
	}
	if (ret)
		goto fail;
	print_result(a, NULL, -1, pause_ms, create_ms, -1);
	return THAWCTL_OK;
fail:
	if (a->created_dir)
		rmdir(a->dir);
	fprintf(stderr, "thawctl snapshot: %s\n", err);
	return THAWCTL_ERROR;
}

static int snapshot_boot(struct snap_args *a)
{
	struct json_object *ready = NULL;
	double boot_ms, pause_ms = 0, create_ms = 0, record_ms = -1;
	char prog[PATH_MAX], lpath[PATH_MAX], err[1024];
	const char *argv[6];
	uint64_t t_boot;
	struct work w;
	pid_t pid = 0;
	int lfd = -1, ret, rc = THAWCTL_ERROR;

	ret = prepare_dir(a, err, sizeof(err));
	if (ret)
		goto fail;
	ret = proc__find(prog, sizeof(prog), "thawvm", a->thawvm, "THAWVM");
	if (ret) {
		err__set(err, sizeof(err), 0, "%s", prog);
		goto fail;
	}
	ret = work_init(&w, a);
	if (ret) {
		err__set(err, sizeof(err), 0, "a temporary folder: %s",
			 strerror(-ret));
		goto fail;
	}
	argv[0] = prog;
	argv[1] = "--api-sock";
	argv[2] = w.api;
	argv[3] = "--id";
	argv[4] = "thawctl-snapshot";
	argv[5] = NULL;
	progress(&w, "starting thawvm");
	ret = proc__spawn(argv, console_path(&w, a), log_path(&w, a), &pid, err,
			  sizeof(err));
	if (ret) {
		pid = 0;
		goto out;
	}
	ret = proc__wait_socket(w.api, pid, util__now_ms() + API_TIMEOUT_MS,
				NULL, err, sizeof(err));
	if (ret)
		goto out;
	lfd = vsock_client__listen(w.uds, THAW_READY_PORT, lpath, sizeof(lpath),
				   err, sizeof(err));
	if (lfd < 0) {
		ret = lfd;
		goto out;
	}
	ret = configure(a, &w, err, sizeof(err));
	if (ret)
		goto out;
	t_boot = util__now_ns();
	ret = clone__start_boot(w.api, API_TIMEOUT_MS, err, sizeof(err));
	if (ret)
		goto out;
	ret = wait_ready(lfd, pid, &w, util__now_ms() + a->timeout_ms,
			 &ready, err, sizeof(err));
	if (ret == -ETIMEDOUT && init_failed(&w, err, sizeof(err)))
		rc = THAWCTL_INIT_ERROR;
	if (ret)
		goto out;
	boot_ms = ms_since(t_boot);
	progress(&w, "pausing and writing the snapshot");
	ret = pause_and_create(w.api, a->dir, false, &pause_ms, &create_ms,
			       err, sizeof(err));
	if (ret)
		goto out;
	proc__stop(pid, 5000);
	pid = 0;
	if (a->record) {
		ret = record_wset(a, &w, &record_ms, err, sizeof(err));
		if (ret)
			goto out;
	}
	progress_end(&w);
	print_result(a, ready, boot_ms, pause_ms, create_ms, record_ms);
	rc = THAWCTL_OK;
out:
	progress_end(&w);
	if (lfd >= 0)
		close(lfd);
	if (pid > 0)
		proc__stop(pid, 5000);
	if (rc != THAWCTL_OK) {
		fprintf(stderr, "thawctl snapshot: %s\n", err);
		if (!a->log)
			show_tail("thawvm's log", w.log, 10);
		if (!a->console)
			show_tail("the guest console", w.console, 20);
		if (ret == -ETIMEDOUT && rc == THAWCTL_ERROR)
			rc = THAWCTL_TIMEOUT;
	}
	work_cleanup(&w);
	json_object_put(ready);
	if (rc != THAWCTL_OK && a->created_dir)
		rmdir(a->dir);
	return rc;
fail:
	if (a->created_dir)
		rmdir(a->dir);
	fprintf(stderr, "thawctl snapshot: %s\n", err);
	return THAWCTL_ERROR;
}

static bool regular_file(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st)) {
		fprintf(stderr, "thawctl snapshot: %s %s: %s\n", what, path,
			strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "thawctl snapshot: %s %s: not a regular file\n",
			what, path);
		return false;
	}
	return true;
}

int thawctl__snapshot(int argc, char **argv)
{
	struct snap_args a = {
		.mem_mib = DEFAULT_MEM_MIB, .vcpus = 1,
		.timeout_ms = DEFAULT_TIMEOUT_MS,
		/*
		 * thaw.ko records first touches exactly (no fault-around)
		 * and which pages the guest wrote: where it is loaded, it
		 * records.
		 */
		.record_backend = access("/dev/thaw", R_OK | W_OK) ?
				  CLONE_FILE : CLONE_THAW,
	};
	/* Options that only a boot (not --api-sock) takes. */
	bool boot_only = false;
	const struct opt opts[] = {
		{ "mem", OPT_U32, &a.mem_mib, 1, 1u << 20,
		  .seen = &boot_only },
		{ "vcpus", OPT_U32, &a.vcpus, 1, 32, .seen = &boot_only },
		{ "kernel", OPT_STRING, &a.kernel },
		{ "boot-args", OPT_STRING, &a.boot_args, .seen = &boot_only },
		{ "track-dirty", OPT_FLAG, &a.track_dirty,
		  .seen = &boot_only },
		{ "record-wset", OPT_FLAG, &a.record, .seen = &boot_only },
		{ "payload", OPT_STRING, &a.payload },
		{ "record-backend", OPT_FUNC, &a.record_backend,
		  .parse = options__backend },
		{ "force", OPT_FLAG, &a.force },
		{ "timeout", OPT_SECONDS, &a.timeout_ms },
		{ "log", OPT_STRING, &a.log },
		{ "console", OPT_STRING, &a.console },
		{ "thawvm", OPT_STRING, &a.thawvm },
		{ "uffd-handler", OPT_STRING, &a.handler },
		{ "api-sock", OPT_STRING, &a.api_sock },
		{ "diff", OPT_FLAG, &a.diff },
		{ "resume", OPT_FLAG, &a.resume },
		{}
	};
	int nargs, rc;

	if (!options__parse("snapshot", argc, argv, opts, usage, &rc))
		return rc;
	nargs = argc - optind;
	if (a.api_sock) {
		if (nargs != 1 || boot_only || a.kernel || a.payload) {
			fprintf(stderr, "thawctl snapshot: with --api-sock give only SNAPDIR (and --diff, --resume, --force)\n");
			return THAWCTL_USAGE;
		}
		a.dir = argv[optind];
		if (thawvm_api__global_init())
			return THAWCTL_ERROR;
		return snapshot_running(&a);
	}
	if (nargs != 2 || a.diff || a.resume) {
		fprintf(stderr, "thawctl snapshot: %s\n", nargs != 2 ?
			"give FUNC.cpio.gz and SNAPDIR" :
			"--diff and --resume need --api-sock");
		usage(stderr);
		return THAWCTL_USAGE;
	}
	a.func = argv[optind];
	a.dir = argv[optind + 1];
	if (a.record != !!a.payload) {
		fprintf(stderr, "thawctl snapshot: --record-wset and --payload go together\n");
		return THAWCTL_USAGE;
	}
	if (a.payload) {
		struct json_object *p = json_tokener_parse(a.payload);

		if (!p) {
			fprintf(stderr, "thawctl snapshot: the --payload is not valid JSON\n");
			return THAWCTL_USAGE;
		}
		json_object_put(p);
	}
	if (!a.kernel)
		a.kernel = getenv("THAW_KERNEL");
	if (!a.kernel || !*a.kernel) {
		fprintf(stderr, "thawctl snapshot: no kernel: give --kernel or set THAW_KERNEL\n");
		return THAWCTL_USAGE;
	}
	if (!regular_file(a.func, "the function") ||
	    !regular_file(a.kernel, "the kernel"))
		return THAWCTL_USAGE;
	if (thawvm_api__global_init())
		return THAWCTL_ERROR;
	return snapshot_boot(&a);
}
