// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl hold SNAPDIR [--wset] [--dev PATH]: keep thaw.ko's snapshot
 * object for SNAPDIR/memory alive until SIGTERM, SIGINT or SIGHUP, so that
 * Thaw restores of that snapshot share it instead of each creating it
 * again from the file (Documentation/admin-guide/snapshots.rst).
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/thaw-object.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl hold SNAPDIR [--wset] [--dev PATH]\n"
		"Hold thaw.ko's snapshot object for SNAPDIR/memory (create it\n"
		"if no one has it) until SIGTERM, SIGINT or SIGHUP, so that every\n"
		"Thaw restore of SNAPDIR opens it instead of copying the file.\n"
		"  --wset      make SNAPDIR/wset the object's working set\n"
		"  --dev PATH  thaw.ko's device (default /dev/thaw)\n"
		"Prints one JSON line once the object is held.\n"
		"Exit status: 0 after a signal, 1 error, 2 usage.\n");
}

int thawctl__hold(int argc, char **argv)
{
	const char *dev = NULL;
	bool use_wset = false;
	const struct opt opts[] = {
		{ "wset", OPT_FLAG, &use_wset },
		{ "dev", OPT_STRING, &dev },
		{}
	};
	char mem[PATH_MAX], wset[PATH_MAX], err[512] = "";
	struct thaw_object_info info;
	sigset_t set;
	int fd, sig, rc;

	if (!options__parse("hold", argc, argv, opts, usage, &rc))
		return rc;
	if (optind + 1 != argc) {
		usage(stderr);
		return THAWCTL_USAGE;
	}
	if (snprintf(mem, sizeof(mem), "%s/memory", argv[optind]) >=
	    (int)sizeof(mem) ||
	    snprintf(wset, sizeof(wset), "%s/wset", argv[optind]) >=
	    (int)sizeof(wset)) {
		fprintf(stderr, "thawctl hold: path too long\n");
		return THAWCTL_USAGE;
	}

	/* Block the signals first: one sent right after the JSON line counts. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	fd = thaw_object__hold(mem, use_wset ? wset : NULL, dev, &info, err,
			       sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "thawctl hold: %s\n", err);
		return THAWCTL_ERROR;
	}
	printf("{\"pid\":%d,\"object\":\"%s\",\"created\":%s,\"create_ms\":%.1f,\"wset_pages\":%llu}\n",
	       (int)getpid(), info.name, info.created ? "true" : "false",
	       info.create_ns / 1e6, (unsigned long long)info.wset_pages);
	fflush(stdout);
	sigwait(&set, &sig);
	close(fd);
	return THAWCTL_OK;
}
