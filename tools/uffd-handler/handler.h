/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thaw-uffd-handler: serves the page faults of VMs restored with the Uffd
 * backend from a memory file.  main.c owns the process (arguments, the
 * listening socket, signals, the working-set recorder); serve.c runs one
 * session per connected VM on its own thread.
 */
#ifndef THAW_UFFD_HANDLER_H
#define THAW_UFFD_HANDLER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct wset;

/* The memory file, mapped once and shared by every session. */
struct memsrc {
	int fd;
	const uint8_t *map;		/* PROT_READ, the whole file */
	uint64_t size;
	uint64_t *data;			/* bit per 4 KiB: not a hole */
};

struct vm_stats {
	uint64_t faults;		/* page-fault events read */
	uint64_t pages_copied;		/* placed with UFFDIO_COPY of data */
	uint64_t zero_pages;		/* placed as zero pages */
	uint64_t prefetched;		/* placed before any fault was served */
	uint64_t removed;		/* pages UFFD_EVENT_REMOVE dropped */
	uint64_t already_present;	/* EEXIST: woken only */
	uint64_t retries;		/* EAGAIN: served again later */
};

struct handler {
	struct memsrc mem;
	const struct wset *prefetch;	/* NULL: no prefetch */
	const char *record_path;	/* NULL: no recording */
	int stop_fd;			/* eventfd: readable when stopping */
	int handshake_ms;

	pthread_mutex_t lock;
	/* Under lock: */
	struct wset *record;		/* the first VM's touches */
	bool record_claimed;
	struct vm_stats totals;
	unsigned int vms;
};

/* Why a session ended. */
enum session_end {
	END_REFUSED,			/* bad handshake: never served */
	END_ERROR,			/* a failure while serving */
	END_VMM_EXIT,			/* the VMM process is gone */
	END_UNMAPPED,			/* all guest memory unmapped */
	END_HANGUP,			/* the VMM closed the socket */
	END_STOP,			/* the handler is stopping */
};

struct session_result {
	enum session_end end;
	pid_t pid;			/* the VMM, 0 if unknown */
	bool recorded;			/* this session fed the recorder */
	struct vm_stats st;
};

/* Serve one connected VM until it ends; @conn is closed. */
void serve__session(struct handler *h, int conn, unsigned int id,
		    struct session_result *res);
const char *serve__end_name(enum session_end end);

#endif
