/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A clone: a fresh thawvm process that loads a snapshot directory with its
 * own API socket, vsock socket and CID.  thawctl restore is one clone;
 * the benches start many and load them at once.
 *
 * How to use:
 *
 *	struct clone_opts o = { .snapdir = "/snap/fn", .api_sock = "a.sock",
 *				.uds = "v.sock", .cid = 7,
 *				.backend = CLONE_FILE, .resume = true };
 *	struct clone c;
 *	clone__spawn(&o, &c, err, sizeof(err));	(process up, API ready)
 *	clone__load(&o, &c, err, sizeof(err));	(PUT /snapshot/load)
 *	... invoke it on o.uds ...
 *	clone__rewind(o.api_sock, 0, true, ...);	(and again, pristine)
 *	clone__stop(&c);			(or leave it running)
 *
 * On an error the clone is stopped and its sockets are gone: nothing
 * half-started stays behind.  With CLONE_UFFD and no .uffd_sock a
 * page-fault handler of its own is started beside it (thaw-uffd-handler
 * --once, socket "<api_sock>.uffd"), which exits with the clone.
 */
#ifndef THAW_TOOLS_LIB_CLONE_H
#define THAW_TOOLS_LIB_CLONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum clone_backend {
	CLONE_FILE,
	CLONE_UFFD,
	CLONE_THAW,
};

struct clone_opts {
	const char *snapdir;
	const char *api_sock;		/* the clone's API socket */
	const char *uds;		/* its vsock socket */
	uint32_t cid;			/* its vsock CID */
	enum clone_backend backend;
	bool wset;			/* prefetch SNAPDIR/wset */
	bool record_wset;		/* record for PUT /snapshot/wset */
	bool resume;			/* resume_vm */
	bool track_dirty;		/* track_dirty_pages (Diff later) */
	bool enable_rewind;		/* File: rewindable (dirty log) */
	const char *uffd_sock;		/* a running handler; NULL: own one */
	const char *thawvm;		/* program paths; NULL: proc__find */
	const char *uffd_handler;
	const char *id;			/* --id of thawvm */
	const char *log;		/* thawvm's stderr and the handler's
					 * output (appended); NULL: none
					 */
	const char *console;		/* the guest console; NULL: none */
	const char *metrics;		/* PUT /metrics first; NULL: none */
	uint64_t timeout_ms;		/* each step; 0: 60 s */
};

struct clone {
	pid_t pid;			/* thawvm */
	pid_t handler_pid;		/* our own Uffd handler, or 0 */
	const char *api_sock;		/* the options' paths */
	const char *uds;
	char handler_sock[108];
	/* CLOCK_MONOTONIC ns: */
	uint64_t t_spawn;		/* thawvm started */
	uint64_t t_api;			/* its API socket answers */
	uint64_t t_load;		/* PUT /snapshot/load sent */
	uint64_t t_loaded;		/* and answered */
};

/* A cold boot instead of a load: what PUT /boot-source, /machine-config
 * and /vsock say.
 */
struct boot_opts {
	const char *kernel;
	const char *initrd;
	const char *boot_args;		/* the whole command line */
	uint32_t mem_mib, vcpus, cid;
	const char *uds;
	bool track_dirty;
};

/* Configure a fresh thawvm at @api_sock for a boot (not started). */
int clone__configure_boot(const char *api_sock, const struct boot_opts *b,
			  uint64_t timeout_ms, char *err, size_t errlen);
/* PUT /actions InstanceStart. */
int clone__start_boot(const char *api_sock, uint64_t timeout_ms,
		      char *err, size_t errlen);

const char *clone__backend_name(enum clone_backend b);
int clone__parse_backend(const char *s, enum clone_backend *b);

int clone__spawn(const struct clone_opts *o, struct clone *c,
		 char *err, size_t errlen);
int clone__load(const struct clone_opts *o, struct clone *c,
		char *err, size_t errlen);
/* Stop thawvm (and our handler), wait for them; sockets are removed. */
void clone__stop(struct clone *c);

/*
 * PUT /snapshot/rewind on the thawvm at @api_sock: back to the snapshot
 * it loaded.  @cid: a new vsock CID, or 0; @resume: resume_vm.  What the
 * VMM did and when the request went and came back, in *@out.
 */
struct clone_rewind {
	char backend[16];
	uint64_t pages;			/* returned to the snapshot */
	uint64_t pause_us, memory_us, state_us;	/* thawvm's own times */
	uint32_t guest_cid;		/* 0: no vsock device */
	uint64_t t_sent, t_done;	/* CLOCK_MONOTONIC ns */
};

int clone__rewind(const char *api_sock, uint32_t cid, bool resume,
		  uint64_t timeout_ms, struct clone_rewind *out, char *err,
		  size_t errlen);

uint64_t clone__now_ns(void);

#endif
