// SPDX-License-Identifier: GPL-2.0
/* thawctl: the command-line client of thaw. */
#include <stdio.h>
#include <string.h>

#include "thaw-version.h"
#include "tools/thawctl/thawctl.h"

static const struct thawctl_cmd cmds[] = {
	{ "invoke", "send one invocation to a function VM", thawctl__invoke },
	{ "stats", "thaw.ko's counters: module, snapshots, clones",
	  thawctl__stats },
	{ "wait-ready", "wait for a function VM's ready notification",
	  thawctl__wait_ready },
	{ "probe", "ask a function VM's init for its CID, random bytes, state",
	  thawctl__probe },
	{ "snapshot", "boot a function and snapshot it when it is ready",
	  thawctl__snapshot },
	{ "restore", "start a clone of a snapshot in a new thawvm",
	  thawctl__restore },
	{ "rewind", "return a clone to its snapshot, in place",
	  thawctl__rewind },
	{ "merge-diff", "apply a Diff snapshot's memory file to its base",
	  thawctl__merge_diff },
	{ "api", "send one request to a thawvm's API socket",
	  thawctl__api },
	{ "hold", "keep thaw.ko's object for a snapshot alive between clones",
	  thawctl__hold },
	{ "drop-cache", "free the snapshot objects thaw.ko keeps unused",
	  thawctl__drop_cache },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: thawctl COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-11s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'thawctl COMMAND --help' describes one; "
		"'thawctl --version' prints the version.\n");
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage(stdout);
	if (!strcmp(argv[1], "--version")) {
		printf("thawctl %s\n", THAW_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "thawctl: unknown command '%s'\n", argv[1]);
	return usage(stderr);
}
