/* SPDX-License-Identifier: GPL-2.0 */
#ifndef THAW_THAWCTL_H
#define THAW_THAWCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/*
 * One subcommand: thawctl NAME [ARGS...].  run() gets argv with argv[0] the
 * subcommand's name and returns the process exit status.
 */
struct thawctl_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Exit codes, documented in Documentation/admin-guide/thawctl.rst. */
enum thawctl_exit {
	THAWCTL_OK = 0,
	THAWCTL_ERROR = 1,		/* transport, protocol, refused */
	THAWCTL_USAGE = 2,
	THAWCTL_FUNCTION_ERROR = 3,	/* the function reported an error */
	THAWCTL_INIT_ERROR = 4,		/* the function failed to initialize */
	THAWCTL_TIMEOUT = 5,		/* the deadline passed */
};

int thawctl__invoke(int argc, char **argv);
int thawctl__stats(int argc, char **argv);
int thawctl__wait_ready(int argc, char **argv);
int thawctl__probe(int argc, char **argv);
int thawctl__snapshot(int argc, char **argv);
int thawctl__restore(int argc, char **argv);
int thawctl__rewind(int argc, char **argv);
int thawctl__merge_diff(int argc, char **argv);
int thawctl__api(int argc, char **argv);
int thawctl__hold(int argc, char **argv);
int thawctl__drop_cache(int argc, char **argv);

/* thawctl's exit status for a function's status (invoke.c). */
int thawctl__exit_code(enum thaw_status status);

#endif
