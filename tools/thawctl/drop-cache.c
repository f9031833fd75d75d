// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl drop-cache [--all] [--dev PATH]: free the caller's snapshot
 * objects that thaw.ko keeps in its cache (objects no fd or clone refers
 * to), or every owner's, and print how many and the pages they held
 * (Documentation/admin-guide/snapshots.rst).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "lib/thaw-object.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl drop-cache [--all] [--dev PATH]\n"
		"Free your snapshot objects that thaw.ko keeps in its cache (no\n"
		"fd or clone refers to them); objects in use are not touched.\n"
		"  --all       every user's (needs CAP_SYS_ADMIN)\n"
		"  --dev PATH  thaw.ko's device (default /dev/thaw)\n"
		"Prints one JSON line: objects freed, pages they held.\n"
		"Exit status: 0, 1 error (no thaw.ko, or no cache), 2 usage.\n");
}

int thawctl__drop_cache(int argc, char **argv)
{
	const char *dev = NULL;
	bool all = false;
	const struct opt opts[] = {
		{ "all", OPT_FLAG, &all },
		{ "dev", OPT_STRING, &dev },
		{}
	};
	uint64_t objects = 0, pages = 0;
	char err[512] = "";
	int rc;

	if (!options__parse("drop-cache", argc, argv, opts, usage, &rc))
		return rc;
	if (optind != argc) {
		usage(stderr);
		return THAWCTL_USAGE;
	}
	if (thaw_object__drop_cache(dev, all, &objects, &pages, err,
				    sizeof(err))) {
		fprintf(stderr, "thawctl drop-cache: %s\n", err);
		return THAWCTL_ERROR;
	}
	printf("{\"objects\":%" PRIu64 ",\"pages\":%" PRIu64 "}\n", objects,
	       pages);
	return THAWCTL_OK;
}
