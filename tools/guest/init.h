/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thaw-init: PID 1 of a function VM.  One libevent loop on one thread runs
 * everything:
 *
 *   main.c         setup, signals, shutdown and power-off
 *   system.c       mounts, kernel modules, lo, the boot-timer port, RNG and
 *                  clock (what a restored clone needs), power-off
 *   runtime.c      the function's bootstrap process: start, reap, restart
 *   runtime_api.c  the Lambda Runtime API on 127.0.0.1:9001 (evhttp)
 *   bridge.c       vsock: invocations and probes from the host, the
 *                  "ready" notification to it
 *   queue.c        the invocations waiting for the runtime, and the one
 *                  it runs
 *   generation.c   the VM generation: restores seen in the kernel log,
 *                  the counter file, SnapStart's restore/next
 *
 * Nothing here is shared between threads, so nothing needs a lock.
 */
#ifndef THAW_GUEST_INIT_H
#define THAW_GUEST_INIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "proto/proto.h"
#include "tools/guest/config.h"

#define THAW_INIT_VERSION	"1"
/* Invocations waiting for the runtime, beyond the one it works on. */
#define INIT_QUEUE_MAX		16
/* Request data a host may make thaw-init hold, all connections together. */
#define INIT_BUFFER_MAX		(16 * 1024 * 1024)
/* A clock further off than this from the host's is stepped. */
#define INIT_CLOCK_STEP_NS	(100 * 1000 * 1000LL)

struct event_base;
struct event;
struct evbuffer;
struct evhttp;
struct evhttp_request;
struct evconnlistener;
struct host_conn;

enum inv_state { INV_QUEUED, INV_RUNNING };

struct invocation {
	TAILQ_ENTRY(invocation) link;		/* in init.queue if QUEUED */
	struct init *init;
	struct thaw_invoke req;
	uint64_t deadline_ms;			/* guest clock, after sync */
	struct evbuffer *payload;
	size_t reserved;			/* bytes of the bridge's budget */
	struct host_conn *conn;			/* NULL: the host went away */
	struct event *deadline;
	enum inv_state state;
};

TAILQ_HEAD(inv_queue, invocation);

enum runtime_state {
	RUNTIME_STOPPED,	/* not running; maybe a restart is scheduled */
	RUNTIME_INIT,		/* started, has not called next yet */
	RUNTIME_RESTORE_WAIT,	/* in GET restore/next: the checkpoint */
	RUNTIME_RESTORING,	/* restore/next answered: after-restore hooks */
	RUNTIME_READY,		/* has called next at least once */
};

/* Past its initialization (the checkpoint): what "ready" means. */
#define RUNTIME_PAST_INIT(st)	((st) >= RUNTIME_RESTORE_WAIT)

struct init {
	struct event_base *base;
	struct guest_config cfg;
	uint32_t memory_mb;
	bool pid1;			/* false: an ordinary process (tests) */
	bool stopping;

	/* runtime.c */
	enum runtime_state rt_state;
	pid_t rt_pid;
	uint64_t rt_started_ns;		/* CLOCK_MONOTONIC */
	uint64_t init_ms;		/* of the runtime that became ready */
	unsigned int rt_restarts;	/* in a row without becoming ready */
	bool rt_posted_init_error;	/* this runtime posted /init/error */
	bool restore_failed;		/* init_error* is a restore/error */
	struct event *rt_restart;
	struct event *rt_kill;
	char **env;

	/* The init error the next invocation gets, if any. */
	bool init_error;
	char init_error_type[THAW_ERROR_TYPE_MAX + 1];
	struct evbuffer *init_error_body;

	/* runtime_api.c */
	struct evhttp *http;
	struct evhttp_request *next_req;	/* the runtime's pending next */
	struct event *next_watch;		/* its connection closing */
	struct evhttp_request *restore_req;	/* pending restore/next */

	/* generation.c */
	uint64_t generation;			/* restores seen since boot */
	int kmsg_fd;				/* -1: not following the log */
	struct event *kmsg_ev;

	/* queue.c */
	struct inv_queue queue;
	unsigned int queued;
	struct invocation *current;		/* handed to the runtime */
	uint64_t invocations;			/* answered, any status */
	/*
	 * Requests being read plus payloads waiting or running: what a host
	 * can make the guest hold in memory, all together (bridge.c, and
	 * queue.c as it frees payloads).
	 */
	size_t buffered_bytes;

	/* bridge.c */
	struct evconnlistener *listener;
	struct event *relisten;
	bool ready_sent;
	struct event *ready_retry;
	uint64_t ready_first_try_ns;
	int64_t clock_step_ns;			/* last step applied */
	uint64_t entropy_bytes;			/* fed, all together */
};

/* main.c */
void init__log(const struct init *init, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void init__err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t init__now_ns(int clock);
/* @len bytes for names and ids (not secrets): never blocks. */
void init__random(uint8_t *buf, size_t len);
/* The runtime is gone and stopping was asked: finish the shutdown. */
void init__stopped(struct init *init);

/* system.c */
int system__setup(struct init *init);
/*
 * After the settings: root=/dev/vdX on the command line makes that disk
 * the root (thaw-init goes on in it), and the code_disk setting mounts
 * one read-only on task_root.  -errno, reported.
 */
int system__mount_disks(struct init *init);
void system__boot_done(void);
int system__add_entropy(const uint8_t *buf, size_t len);
int system__sync_clock(int64_t host_ns, int64_t *stepped_ns);
uint32_t system__memory_mb(void);
int64_t system__local_cid(int fd);
void system__power_off(void);

/* runtime.c */
int runtime__init(struct init *init);
int runtime__start(struct init *init);
void runtime__reap(struct init *init);
void runtime__kill(struct init *init);
void runtime__stop(struct init *init);
/*
 * The runtime finished its initialization (its first next, or SnapStart's
 * restore/next): it is now in state @st.
 */
void runtime__ready(struct init *init, enum runtime_state st);
/* Keep an init error for the next invocation; @body's content is moved. */
void runtime__set_init_error(struct init *init, const char *type,
			     struct evbuffer *body);
void runtime__free(struct init *init);

/* runtime_api.c */
int runtime_api__start(struct init *init);
bool runtime_api__has_next(struct init *init);
/* Answer the pending next with @inv; the payload buffer is consumed. */
int runtime_api__deliver(struct init *init, struct invocation *inv);
void runtime_api__drop_next(struct init *init);
/*
 * The VM was restored, or is being invoked without a restore: answer a
 * pending GET restore/next so that the runtime goes on to its next.
 */
void runtime_api__restored(struct init *init);
void runtime_api__free(struct init *init);

/* queue.c */
/* A new invocation's payload buffer and deadline timer; 0 or -ENOMEM. */
int queue__prepare(struct init *init, struct invocation *inv);
/* Queue @inv (read, with its payload) and start its deadline. */
void queue__add(struct init *init, struct invocation *inv);
bool queue__full(struct init *init);
/* Is request @id queued or running? */
bool queue__has(struct init *init, const char *id);
/* Hand queued work to the runtime if it is waiting for it. */
void queue__dispatch(struct init *init);
/*
 * Finish @inv (the current one, or a queued one) with a result to the host;
 * @body may be NULL; its content is moved out.
 */
void queue__finish(struct init *init, struct invocation *inv,
		   enum thaw_status status, const char *error_type,
		   struct evbuffer *body);
/* Finish with a Lambda-style error body built from @message. */
void queue__fail(struct init *init, struct invocation *inv,
		 enum thaw_status status, const char *error_type,
		 const char *message);
/* The host of a queued @inv went away: forget it (a running one stays). */
void queue__drop(struct init *init, struct invocation *inv);
/* Refuse everything queued and the running one (shutdown). */
void queue__stop(struct init *init);
void queue__free(struct init *init, struct invocation *inv);

/* generation.c */
/* Write the counter file (0) and start following the kernel log. */
int generation__start(struct init *init);
/* Read what the kernel logged since; a restore bumps the counter. */
void generation__check(struct init *init);
void generation__free(struct init *init);

/* generation.c */
/* Write the counter file (0) and start following the kernel log. */
int generation__start(struct init *init);
/* Read what the kernel logged since; a restore bumps the counter. */
void generation__check(struct init *init);
void generation__free(struct init *init);

/* bridge.c */
int bridge__start(struct init *init);
/*
 * Send @inv's result to the host that asked for it, if it is still there;
 * @body may be NULL; its content is moved out.
 */
void bridge__reply(struct invocation *inv, enum thaw_status status,
		   const char *error_type, struct evbuffer *body);
/* The runtime asked for its first next: tell the host (once per boot). */
void bridge__notify_ready(struct init *init);
/* Stop listening; refuse everything queued (shutdown). */
void bridge__stop(struct init *init);
void bridge__free(struct init *init);

#endif
