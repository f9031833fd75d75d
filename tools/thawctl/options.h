/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one option parser of thawctl's subcommands.  A subcommand lists its
 * options as a table of struct opt, each naming where its value goes, and
 * calls options__parse(); -h/--help is there for every subcommand.  The
 * options that name the VM a command talks to (--uds/--cid, --port,
 * --timeout) are one block, TARGET_OPTS(), checked by
 * options__one_target().
 *
 *	struct target_opts t = { .t.port = THAW_INVOKE_PORT,
 *				 .timeout_ms = 10000 };
 *	bool clock = false;
 *	const struct opt opts[] = {
 *		TARGET_OPTS(&t),
 *		{ "sync-clock", OPT_FLAG, &clock },
 *		{}
 *	};
 *	if (!options__parse("probe", argc, argv, opts, usage, &rc))
 *		return rc;
 *	(operands from argv[optind] on)
 */
#ifndef THAW_THAWCTL_OPTIONS_H
#define THAW_THAWCTL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/lib/vsock-client.h"

enum opt_type {
	OPT_FLAG,		/* bool: set to true */
	OPT_CLEAR,		/* bool: set to false (--paused, --no-...) */
	OPT_STRING,		/* const char *: the argument itself */
	OPT_U32,		/* uint32_t in [min, max] */
	OPT_SECONDS,		/* uint64_t ms (util__parse_seconds()) */
	OPT_FUNC,		/* parse() stores it */
};

struct opt {
	const char *name;	/* the long option, without "--" */
	enum opt_type type;
	void *dst;
	uint32_t min, max;	/* OPT_U32 */
	/*
	 * OPT_FUNC: 0, or -EINVAL with, where it can say more than "bad
	 * value", the reason in @why ("must be ...").
	 */
	int (*parse)(const char *arg, void *dst, char *why, size_t whylen);
	bool *seen;		/* if set: true once the option is given */
	char short_name;	/* also -C, or 0 */
};

/*
 * Parse the options of subcommand @cmd (argv[0] is its name; the table
 * ends with an entry without a name).  True when every option was good:
 * the operands start at argv[optind].  Otherwise the subcommand returns
 * *@rc: THAWCTL_OK after --help (@usage printed to stdout), THAWCTL_USAGE
 * after a bad option (a message, or @usage to stderr).
 */
bool options__parse(const char *cmd, int argc, char **argv,
		    const struct opt *opts, void (*usage)(FILE *f), int *rc);

/* OPT_FUNC for a memory backend's name: File, Uffd, Thaw (clone.h). */
int options__backend(const char *arg, void *dst, char *why, size_t whylen);

/* The VM a command reaches: --uds PATH or --cid CID, --port, --timeout. */
struct target_opts {
	struct vsock_target t;
	bool have_cid;
	uint64_t timeout_ms;
};

#define TARGET_OPTS(o)							\
	{ "uds", OPT_STRING, &(o)->t.uds },				\
	{ "cid", OPT_U32, &(o)->t.cid, 1, 0xfffffffe,			\
	  .seen = &(o)->have_cid },					\
	{ "port", OPT_U32, &(o)->t.port, 1, 0xfffffffe },		\
	{ "timeout", OPT_SECONDS, &(o)->timeout_ms }

/*
 * After options__parse(): no operands and exactly one of --uds and --cid?
 * If not, says so on stderr.
 */
bool options__one_target(const char *cmd, int argc,
			 const struct target_opts *o);

#endif
