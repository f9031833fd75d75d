// SPDX-License-Identifier: GPL-2.0
/* thawctl's option parser (tools/thawctl/options.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tools/lib/clone.h"
#include "tools/lib/util.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

/* More than any subcommand has. */
#define OPTIONS_MAX	32
/* getopt_long's value for opts[i] without a short name. */
#define LONG_ONLY	256

static bool takes_arg(const struct opt *o)
{
	return o->type != OPT_FLAG && o->type != OPT_CLEAR;
}

/* Store @arg as @o says; 0 or -EINVAL (the reason in @why, if any). */
static int store(const struct opt *o, const char *arg, char *why,
		 size_t whylen)
{
	switch (o->type) {
	case OPT_FLAG:
		*(bool *)o->dst = true;
		return 0;
	case OPT_CLEAR:
		*(bool *)o->dst = false;
		return 0;
	case OPT_STRING:
		*(const char **)o->dst = arg;
		return 0;
	case OPT_U32:
		return util__parse_u32(arg, o->min, o->max, o->dst);
	case OPT_SECONDS:
		return util__parse_seconds(arg, o->dst);
	case OPT_FUNC:
		return o->parse(arg, o->dst, why, whylen);
	}
	return -EINVAL;
}

bool options__parse(const char *cmd, int argc, char **argv,
		    const struct opt *opts, void (*usage)(FILE *f), int *rc)
{
	struct option lo[OPTIONS_MAX + 2];
	char so[3 * OPTIONS_MAX + 2] = "h", *s = so + 1, why[128];
	const struct opt *o;
	size_t n;
	int c;

	for (n = 0; opts[n].name && n < OPTIONS_MAX; n++) {
		o = &opts[n];
		lo[n] = (struct option){
			.name = o->name,
			.has_arg = takes_arg(o) ? required_argument :
				   no_argument,
			.val = o->short_name ? o->short_name :
			       LONG_ONLY + (int)n,
		};
		if (o->short_name) {
			*s++ = o->short_name;
			if (takes_arg(o))
				*s++ = ':';
		}
	}
	*s = '\0';
	lo[n] = (struct option){ .name = "help", .val = 'h' };
	memset(&lo[n + 1], 0, sizeof(lo[n + 1]));

	optind = 1;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			*rc = THAWCTL_OK;
			return false;
		}
		o = NULL;
		if (c >= LONG_ONLY && c < LONG_ONLY + (int)n)
			o = &opts[c - LONG_ONLY];
		for (size_t i = 0; !o && c > 0 && i < n; i++)
			if (opts[i].short_name == c)
				o = &opts[i];
		if (!o) {
			usage(stderr);
			*rc = THAWCTL_USAGE;
			return false;
		}
		why[0] = '\0';
		if (store(o, optarg, why, sizeof(why))) {
			if (why[0])
				fprintf(stderr, "thawctl %s: --%s %s\n", cmd,
					o->name, why);
			else
				fprintf(stderr,
					"thawctl %s: bad value for --%s: '%s'\n",
					cmd, o->name, optarg);
			*rc = THAWCTL_USAGE;
			return false;
		}
		if (o->seen)
			*o->seen = true;
	}
	return true;
}

int options__backend(const char *arg, void *dst, char *why, size_t whylen)
{
	return clone__parse_backend(arg, dst);
}

bool options__one_target(const char *cmd, int argc,
			 const struct target_opts *o)
{
	if (optind != argc || !o->t.uds == !o->have_cid) {
		fprintf(stderr, "thawctl %s: give exactly one of --uds and --cid\n",
			cmd);
		return false;
	}
	return true;
}
