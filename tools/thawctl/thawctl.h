/* SPDX-License-Identifier: GPL-2.0 */
#ifndef THAW_THAWCTL_H
#define THAW_THAWCTL_H

/*
 * One subcommand: thawctl NAME [ARGS...].  run() gets argv with argv[0] the
 * subcommand's name and returns the process exit status.
 */
struct thawctl_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

int thawctl__invoke(int argc, char **argv);
int thawctl__stats(int argc, char **argv);

#endif
