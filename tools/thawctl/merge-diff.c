// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl merge-diff BASE DIFF: apply a Diff snapshot's memory file to the
 * memory file of its base, in place, so that the Diff's state file can be
 * loaded with BASE as its memory (Documentation/admin-guide/api.rst).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/memfile.h"
#include "tools/thawctl/thawctl.h"

int thawctl__merge_diff(int argc, char **argv)
{
	struct memfile_stats st = { 0 };
	char err[512] = "";
	struct stat sb;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: thawctl merge-diff BASE DIFF\n"
		       "Write the pages of the Diff memory file DIFF into its base BASE.\n");
		return THAWCTL_OK;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: thawctl merge-diff BASE DIFF\n");
		return THAWCTL_USAGE;
	}
	if (stat(argv[1], &sb)) {
		fprintf(stderr, "thawctl merge-diff: %s: %m\n", argv[1]);
		return THAWCTL_ERROR;
	}
	ret = memfile__apply_diff(argv[1], argv[2], (uint64_t)sb.st_size, &st,
				  err, sizeof(err));
	if (ret) {
		fprintf(stderr, "thawctl merge-diff: %s\n", err);
		return THAWCTL_ERROR;
	}
	printf("%llu pages merged into %s\n",
	       (unsigned long long)st.pages_written, argv[1]);
	return THAWCTL_OK;
}
