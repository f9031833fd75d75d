/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thawd: the worker-host agent.  It owns the function VMs of one host,
 * keeps them warm or restores them from their SnapStart snapshots, and
 * answers AWS Lambda's Invoke API over HTTP.
 * Documentation/admin-guide/thawd.rst is the manual.
 *
 * The pieces:
 *   config.c	the agent's configuration file (--config, --check-config)
 *   catalog.c	the functions on disk (STATE/functions/NAME/function.json,
 *		its image and snapshot; published versions and aliases),
 *		and 'thawd function ...'
 *   image.c	a function's image from a zip of its code (libarchive,
 *		mkfunc)
 *   pool.c	execution environments: one invocation per VM at a time,
 *		warm reuse, restore on a miss, rewind, limits, idle reaping
 *   invoke.c	one invocation on a VM: the log tail, START/END/REPORT
 *   http.c	the Invoke API and /metrics (libmicrohttpd)
 *   queue.c	Event invocations: an on-disk queue, retries, dead letters
 *   metrics.c	the counters and their Prometheus text
 *   sigv4.c	AWS Signature Version 4 verification (libcrypto)
 *
 * Locking: one mutex, thawd_lock, guards the function table, every
 * function's pool lists and counters, and the CID set.  Nothing slow runs
 * under it: starting, loading, invoking, rewinding and stopping a VM
 * happen with it released, on a VM that one thread owns at that moment.
 */
#ifndef THAW_THAWD_H
#define THAW_THAWD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "tools/lib/clone.h"
#include "tools/thawd/sigv4.h"

#define THAWD_NAME_MAX		64	/* Lambda: 64 characters */
#define THAWD_SYNC_MAX		(6 * 1024 * 1024)	/* RequestResponse */
#define THAWD_ASYNC_MAX		(256 * 1024)		/* Event */
#define THAWD_LOG_TAIL		4096	/* X-Amz-Log-Result, before base64 */
#define THAWD_CLIENT_CONTEXT_MAX 3583	/* base64 bytes, as Lambda */
#define THAWD_PATH_MAX		108	/* a Unix socket path */

/* The agent's configuration (config.c). */
struct thawd_config {
	char *listen;			/* "HOST:PORT"; NULL or "": none */
	char *unix_socket;		/* an API socket too, or NULL */
	char *state_dir;		/* catalogue, queue, logs */
	char *run_dir;			/* the VMs' sockets and consoles */
	char *region;			/* ARNs and SigV4's scope */
	char *account;			/* 12 digits, for ARNs */
	uint32_t max_concurrency;	/* invocations at once, host-wide */
	uint32_t max_vms;		/* VMs at once, busy or idle */
	uint32_t cid_base, cid_count;	/* the CIDs the VMs get */
	uint32_t idle_ttl_s;		/* a warm VM's life without work */
	uint32_t async_workers;
	uint32_t async_retries;		/* after the first try (Lambda: 2) */
	uint32_t async_backoff_ms;	/* before the first retry; doubles */
	bool backend_auto;		/* Thaw where /dev/thaw is, else File */
	enum clone_backend backend;
	char *thawvm;			/* program paths; NULL: proc__find */
	char *thawctl;
	char *uffd_handler;
	struct sigv4_key *keys;		/* empty: requests are not verified */
	size_t n_keys;
};

int config__load(struct thawd_config *c, const char *path, char *err,
		 size_t errlen);
void config__defaults(struct thawd_config *c);
void config__free(struct thawd_config *c);

/* A function's settings, as STATE/functions/NAME/function.json has them. */
struct fn_config {
	char name[THAWD_NAME_MAX + 1];
	uint32_t memory_mib, vcpus;
	uint32_t timeout_s;		/* 1 .. 900 */
	int32_t reserved;		/* -1: none (the unreserved pool) */
	uint32_t provisioned;		/* VMs kept restored and ready */
	bool fresh;			/* rewind after every invocation */
	int backend;			/* -1: the agent's choice */
	char description[256];
	uint64_t revision;		/* bumped by every update; a version
					 * keeps the one it was published from
					 */
	uint32_t version;		/* 0: $LATEST; else a published one */
};

#define THAWD_ALIAS_MAX		128	/* Lambda: 128 characters */
#define THAWD_QUAL_MAX		(THAWD_ALIAS_MAX + 1)

struct vm;

/* How a VM came to serve an invocation. */
enum vm_start {
	VM_WARM,			/* it served one before */
	VM_RESTORED,			/* restored for this one */
	VM_PROVISIONED,			/* restored ahead of it */
	VM_REWOUND,			/* returned to the snapshot after one */
	VM_START_COUNT,
};

/* What an invocation ended in, for the metrics and the VM's fate. */
enum inv_outcome {
	INV_OK,
	INV_FUNCTION_ERROR,		/* the function answered an error */
	INV_INIT_ERROR,
	INV_TIMEOUT,
	INV_SERVICE_ERROR,		/* the VM failed: died, no answer */
	INV_OUTCOME_COUNT,
};

#define METRIC_BUCKETS	14

struct histogram {
	uint64_t counts[METRIC_BUCKETS + 1];	/* the last: +Inf */
	uint64_t n;
	double sum;				/* seconds */
};

/* Counters of one function; under thawd_lock. */
struct fn_metrics {
	uint64_t invocations[2];		/* sync, async */
	uint64_t starts[VM_START_COUNT];
	uint64_t outcomes[INV_OUTCOME_COUNT];
	uint64_t throttles;
	uint64_t dry_runs;
	uint64_t async_retries, async_dead;
	struct histogram duration, restore, rewind;
};

/*
 * One entry per function and qualifier that has been invoked: $LATEST,
 * and each published version (an alias resolves to one of these).  The
 * $LATEST entry is the root: it holds the function-wide settings
 * (reserved concurrency) and the function-wide count of invocations.
 */
struct function {
	struct fn_config cfg;
	struct function *root;		/* the $LATEST entry; itself there */
	char label[THAWD_NAME_MAX + 48];/* the metrics' labels */
	char dir[512];			/* STATE/functions/NAME, or
					 * STATE/versions/NAME/N
					 */
	struct timespec mtime;		/* of function.json, when read */
	bool gone;			/* deleted from the catalogue */
	uint64_t epoch;			/* one more at every change of the
					 * settings, revision or existence:
					 * a VM of another epoch is retired
					 */
	uint32_t running;		/* invocations now, this qualifier */
	uint32_t fn_running;		/* root only: every qualifier's */
	uint32_t vms;			/* VMs, idle or busy or starting */
	uint32_t starting;		/* of those, being restored */
	struct vm *idle;		/* ready VMs, most recently used first */
	uint32_t n_idle;
	struct fn_metrics m;
	struct function *next;
};

struct vm {
	struct function *fn;
	uint64_t epoch;			/* fn->epoch it was made in */
	uint32_t cid;
	struct clone c;
	struct clone_opts o;
	char api_sock[THAWD_PATH_MAX], uds[THAWD_PATH_MAX];
	char console[512], log[512], id[32];
	enum vm_start next_start;	/* what its next invocation counts as */
	uint64_t idle_since_ms;
	uint64_t restore_ms;		/* the restore it came from, for REPORT */
	uint32_t invocations;
	struct vm *next;
};

/* The agent's state. */
struct thawd {
	struct thawd_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* a VM freed, a function released */
	struct function *fns;
	uint32_t running;		/* invocations, host-wide */
	uint32_t vms;
	uint8_t *cids;			/* in use: 1 byte per CID of the range */
	uint32_t cid_next;
	volatile bool draining;		/* SIGTERM: no new work */
	bool have_thaw;			/* /dev/thaw is there */
	uint64_t started_ms;
	uint64_t sigv4_refused;
	uint64_t http_requests;
	/* The async queue's gauges, kept by queue.c under lock. */
	uint64_t queue_depth;
	uint64_t queue_oldest_ms;	/* CLOCK_REALTIME ms; 0: empty */
};

extern struct thawd thawd;

/* catalog.c */
/* snprintf() for paths: -ENAMETOOLONG instead of a truncated one. */
int thawd__pathf(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int catalog__path(char *out, size_t len, const char *state_dir,
		  const char *name, const char *file);
bool catalog__name_ok(const char *name);
/* The folder of @name's @version (0: $LATEST). */
int catalog__dir(char *out, size_t len, const char *state_dir,
		 const char *name, uint32_t version);
int catalog__read(const char *state_dir, const char *name,
		  uint32_t version, struct fn_config *fc,
		  struct timespec *mtime, char *err, size_t errlen);
/*
 * The version a qualifier names: "" and "$LATEST" are 0, digits are a
 * version (which may not exist), anything else an alias, read from the
 * catalogue.  -EINVAL: not a qualifier; -ENOENT: no such alias.
 */
int catalog__resolve(const char *state_dir, const char *name,
		     const char *qual, uint32_t *version, char *err,
		     size_t errlen);
int thawd__function_cmd(int argc, char **argv);

/* image.c */
struct image_opts {
	const char *name;		/* the function's */
	uint32_t memory_mib;
	const char *handler;		/* _HANDLER, or NULL */
	char **envs;			/* NAME=VALUE, the function's environment */
	size_t n_envs;
	const char *mkfunc;		/* NULL: $MKFUNC, beside us, or $PATH */
};

#define IMAGE_UNZIPPED_MAX	(250ull << 20)	/* Lambda's limit */

/* 1 if @path is a zip, 0 if not, -errno if it cannot be read. */
int image__is_zip(const char *path);
/*
 * Unpack @zip into the folder @dest: files, folders and links only, no
 * absolute path or `..`, nothing through a link, at most @max_bytes.
 */
int image__unzip(const char *zip, const char *dest, uint64_t max_bytes,
		 char *err, size_t errlen);
/*
 * Unpack @zip into @code (made here; the caller removes it) and make the
 * initramfs @out from it with mkfunc.
 */
int image__from_zip(const char *zip, const char *code, const char *out,
		    const struct image_opts *o, char *err, size_t errlen);

/*
 * pool.c: find a function's entry for a qualifier (reloading it when its
 * file changed).  -ENOENT: no such function, version or alias;
 * -EINVAL: @qual is not a qualifier; -EIO: its settings are unreadable.
 */
int pool__function(const char *name, const char *qual,
		   struct function **out, char *err, size_t errlen);
/* "$LATEST" or the version number, as X-Amz-Executed-Version has it. */
void fn__version_name(const struct function *fn, char *out, size_t len);
/*
 * Take a VM of @fn for one invocation.  -EAGAIN when a concurrency limit
 * says no (then *@reason is "ReservedFunctionConcurrentInvocationLimitExceeded"
 * or "ConcurrentInvocationLimitExceeded"), -errno with @err when no VM
 * could be started.  @wait: wait for room instead of -EAGAIN (Event
 * invocations) until @deadline_ms.
 */
int pool__acquire(struct function *fn, bool wait, uint64_t deadline_ms,
		  struct vm **out, const char **reason, char *err,
		  size_t errlen);
/* Give the VM back after an invocation that ended in @outcome. */
void pool__release(struct vm *vm, enum inv_outcome outcome);
int pool__start(void);
void pool__stop_all(void);
/* Wait until no invocation runs, at most @timeout_ms; true if none. */
bool pool__wait_idle(uint64_t timeout_ms);

/* invoke.c */
struct inv_request {
	const char *request_id;
	const char *qualifier;		/* as the caller gave it, or "" */
	const char *payload;
	size_t len;
	const char *client_context;	/* decoded JSON, or NULL */
	bool want_tail;
};

struct inv_result {
	enum inv_outcome outcome;
	int http_status;		/* 200, or a 5xx with error_type */
	char error_type[128];		/* X-Amz-Function-Error or x-amzn-ErrorType */
	char *body;			/* malloc'd */
	size_t body_len;
	char *tail_b64;			/* X-Amz-Log-Result, or NULL */
	enum vm_start start;
	struct vm *vm;			/* to pool__release(), or NULL */
};

/*
 * Run @rq on a VM of @fn.  -EAGAIN when a limit refused it (*@reason
 * says which); else 0 and *@res says how it went: the caller gives
 * res->vm back with pool__release(res->vm, res->outcome) once the answer
 * is out.  @wait: an Event invocation, which waits for room until
 * @wait_deadline_ms instead.
 */
int invoke__run(struct function *fn, const struct inv_request *rq,
		bool wait, uint64_t wait_deadline_ms, struct inv_result *res,
		const char **reason);
void invoke__result_free(struct inv_result *r);
void invoke__new_request_id(char out[37]);

/* http.c */
int http__start(char *err, size_t errlen);
void http__quiesce(void);
void http__stop(void);

/* queue.c */
int queue__start(char *err, size_t errlen);
/* Write an Event invocation to the queue, durably; 0 or -errno. */
int queue__put(const char *function, const char *qualifier,
	       const char *request_id, const char *payload, size_t len,
	       const char *client_context);
void queue__stop(void);
/* Count what is queued into thawd.queue_depth and queue_oldest_ms. */
void queue__gauges(void);

/* metrics.c (each takes thawd_lock) */
void metrics__restore(struct function *fn, double seconds);
void metrics__rewind(struct function *fn, double seconds);
void metrics__invocation(struct function *fn, bool async,
			 enum vm_start start, enum inv_outcome outcome,
			 double seconds);
/* The Prometheus text of every counter; malloc'd, *@len its length. */
char *metrics__text(size_t *len);

#endif
