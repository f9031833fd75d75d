// SPDX-License-Identifier: GPL-2.0
/*
 * thawctl stats: thaw.ko's counters (module, snapshot objects, clones),
 * read through the "thaw" generic netlink family with libnl-genl-3.
 * Documentation/userspace-api/thaw.rst describes the family.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <linux/thaw.h>

#include "tools/lib/thaw-genl.h"
#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

struct stats_ctx {
	FILE *out;
	int rows;
};

static int on_summary(struct nlattr **tb, void *arg)
{
	struct stats_ctx *ctx = arg;

	fprintf(ctx->out,
		"thaw: %" PRIu64 " snapshots, %" PRIu64 " clones, %" PRIu64
		" of %" PRIu64 " pages pinned (%" PRIu64
		" held past their object by others)\n",
		thaw_genl__u64(tb, THAW_A_SNAPSHOTS),
		thaw_genl__u64(tb, THAW_A_CLONES),
		thaw_genl__u64(tb, THAW_A_PINNED_PAGES),
		thaw_genl__u64(tb, THAW_A_PINNED_LIMIT),
		thaw_genl__u64(tb, THAW_A_LINGERING_PAGES));
	fprintf(ctx->out,
		"cache: %" PRIu64 " objects, %" PRIu64 " of %" PRIu64
		" pages, %" PRIu64 " evicted; regions filled: %" PRIu64
		" by faults, %" PRIu64 " by premaps, %" PRIu64
		" in the background, %" PRIu64 " waits, %" PRIu64 " errors\n",
		thaw_genl__u64(tb, THAW_A_CACHED_OBJECTS),
		thaw_genl__u64(tb, THAW_A_CACHED_PAGES),
		thaw_genl__u64(tb, THAW_A_CACHE_LIMIT),
		thaw_genl__u64(tb, THAW_A_EVICTIONS),
		thaw_genl__u64(tb, THAW_A_FILLED_FAULT),
		thaw_genl__u64(tb, THAW_A_FILLED_PREMAP),
		thaw_genl__u64(tb, THAW_A_FILLED_BACKGROUND),
		thaw_genl__u64(tb, THAW_A_FILL_WAITS),
		thaw_genl__u64(tb, THAW_A_FILL_ERRORS));
	ctx->rows++;
	return 0;
}

/* An object's state, as one word. */
static const char *snap_state(uint32_t state)
{
	if (state & THAW_SNAP_STATE_CACHED)
		return state & THAW_SNAP_STATE_FILLING ? "cached,filling" :
							 "cached";
	if (state & THAW_SNAP_STATE_FILLING)
		return "filling";
	return state & THAW_SNAP_STATE_LAZY ? "filled" : "-";
}

static int on_snapshot(struct nlattr **tb, void *arg)
{
	struct stats_ctx *ctx = arg;
	char owner[16] = "-";
	uint32_t state;

	state = thaw_genl__u32(tb, THAW_A_SNAP_STATE);
	/* A module before the owner was shown leaves the column blank. */
	if (tb[THAW_A_SNAP_OWNER_UID])
		snprintf(owner, sizeof(owner), "%" PRIu32,
			 thaw_genl__u32(tb, THAW_A_SNAP_OWNER_UID));
	fprintf(ctx->out,
		"%8" PRIu64 " %-20s %9" PRIu64 " %9" PRIu64 " %9" PRIu64
		" %9" PRIu64 " %6" PRIu64 " %8" PRIu64 " %9" PRIu64 " %9" PRIu64
		" %9" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		" %8" PRIu64 " %7" PRIu64 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64
		" %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %-14s %s\n",
		thaw_genl__u64(tb, THAW_A_SNAP_ID),
		thaw_genl__str(tb, THAW_A_SNAP_NAME) ?: "-",
		thaw_genl__u64(tb, THAW_A_PAGES),
		thaw_genl__u64(tb, THAW_A_DATA_PAGES),
		thaw_genl__u64(tb, THAW_A_ZERO_PAGES),
		thaw_genl__u64(tb, THAW_A_PINNED_PAGES),
		thaw_genl__u64(tb, THAW_A_CLONES),
		thaw_genl__u64(tb, THAW_A_WSET_PAGES),
		thaw_genl__u64(tb, THAW_A_FAULTS),
		thaw_genl__u64(tb, THAW_A_PREMAPPED),
		thaw_genl__u64(tb, THAW_A_PRIVATE_PAGES),
		thaw_genl__u64(tb, THAW_A_HUGE_REGIONS),
		thaw_genl__u64(tb, THAW_A_ZERO_REGIONS),
		thaw_genl__u64(tb, THAW_A_SMALL_REGIONS),
		thaw_genl__u64(tb, THAW_A_HUGE_FALLBACKS),
		thaw_genl__u64(tb, THAW_A_WSET_WRITTEN),
		thaw_genl__u64(tb, THAW_A_REGIONS),
		thaw_genl__u64(tb, THAW_A_FILLED_REGIONS),
		thaw_genl__u64(tb, THAW_A_FILLED_FAULT),
		thaw_genl__u64(tb, THAW_A_FILLED_PREMAP),
		thaw_genl__u64(tb, THAW_A_FILLED_BACKGROUND),
		thaw_genl__u64(tb, THAW_A_FILL_WAITS),
		thaw_genl__u64(tb, THAW_A_FILL_ERRORS), snap_state(state),
		owner);
	ctx->rows++;
	return 0;
}

static int on_clone(struct nlattr **tb, void *arg)
{
	struct stats_ctx *ctx = arg;
	uint32_t state;

	state = thaw_genl__u32(tb, THAW_A_STATE);
	fprintf(ctx->out,
		"%8" PRIu64 " %8" PRIu64 " %8u %9" PRIu64 " %9" PRIu64
		" %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64
		" %9" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		" %6" PRIu64 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64 " %7" PRIu64
		" %6" PRIu64 " %7" PRIu64 " %s\n",
		thaw_genl__u64(tb, THAW_A_CLONE_ID),
		thaw_genl__u64(tb, THAW_A_SNAP_ID),
		thaw_genl__u32(tb, THAW_A_PID),
		thaw_genl__u64(tb, THAW_A_PAGES),
		thaw_genl__u64(tb, THAW_A_SHARED_PAGES),
		thaw_genl__u64(tb, THAW_A_ZERO_PAGES),
		thaw_genl__u64(tb, THAW_A_PRIVATE_PAGES),
		thaw_genl__u64(tb, THAW_A_FAULTS),
		thaw_genl__u64(tb, THAW_A_COW_FAULTS),
		thaw_genl__u64(tb, THAW_A_PREMAPPED),
		thaw_genl__u64(tb, THAW_A_RECORDED),
		thaw_genl__u64(tb, THAW_A_RESETS),
		thaw_genl__u64(tb, THAW_A_PMD_REGIONS),
		thaw_genl__u64(tb, THAW_A_PMD_MAPS),
		thaw_genl__u64(tb, THAW_A_SPLITS),
		thaw_genl__u64(tb, THAW_A_PRIVATE_REGIONS),
		thaw_genl__u64(tb, THAW_A_PRIVATE_MADE),
		thaw_genl__u64(tb, THAW_A_PRIVATE_BUDGET),
		thaw_genl__u64(tb, THAW_A_PRIVATE_CHOSEN),
		thaw_genl__u64(tb, THAW_A_PRIVATE_OVER_BUDGET),
		thaw_genl__u64(tb, THAW_A_PRIVATE_ALLOC_FAILED),
		thaw_genl__u64(tb, THAW_A_PRIVATE_REFRESHED),
		state & THAW_CLONE_STATE_RECORDING ? "recording" : "-");
	ctx->rows++;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawctl stats [--summary]\n"
		"Print thaw.ko's counters: the module's totals, then one line\n"
		"per snapshot object and per clone mapping (pages and events).\n"
		"  -s, --summary   only the totals line\n");
}

int thawctl__stats(int argc, char **argv)
{
	bool summary = false;
	const struct opt opts[] = {
		{ "summary", OPT_FLAG, &summary, .short_name = 's' },
		{}
	};
	struct stats_ctx ctx = { .out = stdout };
	struct thaw_genl *g;
	char err[512] = "";
	int ret, rc;

	if (!options__parse("stats", argc, argv, opts, usage, &rc))
		return rc;
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	ret = thaw_genl__open(&g, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "thawctl stats: %s\n", err);
		return 1;
	}
	ret = thaw_genl__request(g, THAW_CMD_GET_STATS, false, on_summary,
				 &ctx, err, sizeof(err));
	if (ret || summary)
		goto done;
	fprintf(ctx.out,
		"\n%8s %-20s %9s %9s %9s %9s %6s %8s %9s %9s %9s %6s %6s %6s %6s %8s %7s %7s %6s %6s %6s %6s %6s %-14s %s\n",
		"SNAPSHOT", "NAME", "PAGES", "DATA", "ZERO", "PINNED", "CLONES",
		"WSET", "FAULTS", "PREMAPPED", "PRIVATE", "R2M", "RZERO",
		"R4K", "R2MERR", "WWRITTEN", "REGIONS", "FILLED", "FFAULT",
		"FPREMAP", "FBG", "FWAIT", "FERR", "STATE", "OWNER");
	ret = thaw_genl__request(g, THAW_CMD_GET_SNAPSHOT, true, on_snapshot,
				 &ctx, err, sizeof(err));
	if (ret)
		goto done;
	fprintf(ctx.out,
		"\n%8s %8s %8s %9s %9s %9s %9s %9s %9s %9s %9s %6s %6s %6s %6s %6s %7s %6s %6s %7s %6s %7s %s\n",
		"CLONE", "SNAPSHOT", "PID", "PAGES", "SHARED", "ZERO",
		"PRIVATE", "FAULTS", "COW", "PREMAPPED", "RECORDED", "RESETS",
		"PMD", "PMDMAP", "SPLITS", "P2M", "P2MMADE", "BUDGET", "CHOSEN",
		"OVERBUD", "P2MERR", "P2MRFSH", "STATE");
	ret = thaw_genl__request(g, THAW_CMD_GET_CLONE, true, on_clone, &ctx,
				 err, sizeof(err));
done:
	if (ret)
		fprintf(stderr, "thawctl stats: %s\n", err);
	thaw_genl__close(g);
	fflush(ctx.out);
	return ret ? 1 : 0;
}
