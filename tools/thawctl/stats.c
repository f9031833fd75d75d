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

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/thaw.h>

#include "tools/thawctl/options.h"
#include "tools/thawctl/thawctl.h"

static struct nla_policy stats_policy[THAW_A_MAX + 1] = {
	[THAW_A_SNAP_NAME] = { .type = NLA_STRING, .maxlen = THAW_NAME_MAX },
	[THAW_A_PID] = { .type = NLA_U32 },
	[THAW_A_STATE] = { .type = NLA_U32 },
	[THAW_A_SNAP_STATE] = { .type = NLA_U32 },
};

static void stats_policy_init(void)
{
	static const int u64s[] = {
		THAW_A_SNAPSHOTS, THAW_A_CLONES, THAW_A_PINNED_PAGES,
		THAW_A_PINNED_LIMIT, THAW_A_SNAP_ID, THAW_A_PAGES,
		THAW_A_DATA_PAGES, THAW_A_ZERO_PAGES, THAW_A_WSET_PAGES,
		THAW_A_FAULTS, THAW_A_PREMAPPED, THAW_A_PRIVATE_PAGES,
		THAW_A_CLONE_ID, THAW_A_SHARED_PAGES, THAW_A_COW_FAULTS,
		THAW_A_RECORDED, THAW_A_RESETS, THAW_A_RESET_PAGES,
		THAW_A_HUGE_REGIONS, THAW_A_SMALL_REGIONS, THAW_A_ZERO_REGIONS,
		THAW_A_HUGE_FALLBACKS, THAW_A_PMD_MAPS, THAW_A_PMD_REGIONS,
		THAW_A_SPLITS, THAW_A_WSET_WRITTEN, THAW_A_PRIVATE_REGIONS,
		THAW_A_PRIVATE_MADE, THAW_A_PRIVATE_BUDGET,
		THAW_A_PRIVATE_CHOSEN, THAW_A_PRIVATE_OVER_BUDGET,
		THAW_A_PRIVATE_ALLOC_FAILED, THAW_A_CACHED_OBJECTS,
		THAW_A_CACHED_PAGES, THAW_A_CACHE_LIMIT, THAW_A_EVICTIONS,
		THAW_A_FILLED_FAULT, THAW_A_FILLED_PREMAP,
		THAW_A_FILLED_BACKGROUND, THAW_A_FILL_WAITS,
		THAW_A_FILL_ERRORS, THAW_A_REGIONS, THAW_A_FILLED_REGIONS,
		THAW_A_PRIVATE_REFRESHED,
	};

	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		stats_policy[u64s[i]].type = NLA_U64;
}

/* An attribute the module always sends; 0 when an old module did not. */
static uint64_t u64_or_zero(struct nlattr **tb, int attr)
{
	return tb[attr] ? nla_get_u64(tb[attr]) : 0;
}

struct stats_ctx {
	FILE *out;
	int rows;
};

static int stats_parse(struct nl_msg *msg, struct nlattr **tb)
{
	return genlmsg_parse(nlmsg_hdr(msg), 0, tb, THAW_A_MAX, stats_policy);
}

static int on_summary(struct nl_msg *msg, void *arg)
{
	struct stats_ctx *ctx = arg;
	struct nlattr *tb[THAW_A_MAX + 1];

	if (stats_parse(msg, tb) < 0)
		return NL_SKIP;
	fprintf(ctx->out,
		"thaw: %" PRIu64 " snapshots, %" PRIu64 " clones, %" PRIu64
		" of %" PRIu64 " pages pinned\n",
		u64_or_zero(tb, THAW_A_SNAPSHOTS),
		u64_or_zero(tb, THAW_A_CLONES),
		u64_or_zero(tb, THAW_A_PINNED_PAGES),
		u64_or_zero(tb, THAW_A_PINNED_LIMIT));
	fprintf(ctx->out,
		"cache: %" PRIu64 " objects, %" PRIu64 " of %" PRIu64
		" pages, %" PRIu64 " evicted; regions filled: %" PRIu64
		" by faults, %" PRIu64 " by premaps, %" PRIu64
		" in the background, %" PRIu64 " waits, %" PRIu64 " errors\n",
		u64_or_zero(tb, THAW_A_CACHED_OBJECTS),
		u64_or_zero(tb, THAW_A_CACHED_PAGES),
		u64_or_zero(tb, THAW_A_CACHE_LIMIT),
		u64_or_zero(tb, THAW_A_EVICTIONS),
		u64_or_zero(tb, THAW_A_FILLED_FAULT),
		u64_or_zero(tb, THAW_A_FILLED_PREMAP),
		u64_or_zero(tb, THAW_A_FILLED_BACKGROUND),
		u64_or_zero(tb, THAW_A_FILL_WAITS),
		u64_or_zero(tb, THAW_A_FILL_ERRORS));
	ctx->rows++;
	return NL_OK;
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

static int on_snapshot(struct nl_msg *msg, void *arg)
{
	struct stats_ctx *ctx = arg;
	struct nlattr *tb[THAW_A_MAX + 1];
	uint32_t state;

	if (stats_parse(msg, tb) < 0)
		return NL_SKIP;
	state = tb[THAW_A_SNAP_STATE] ? nla_get_u32(tb[THAW_A_SNAP_STATE]) : 0;
	fprintf(ctx->out,
		"%8" PRIu64 " %-20s %9" PRIu64 " %9" PRIu64 " %9" PRIu64
		" %9" PRIu64 " %6" PRIu64 " %8" PRIu64 " %9" PRIu64 " %9" PRIu64
		" %9" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		" %8" PRIu64 " %7" PRIu64 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64
		" %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %s\n",
		u64_or_zero(tb, THAW_A_SNAP_ID),
		tb[THAW_A_SNAP_NAME] ? nla_get_string(tb[THAW_A_SNAP_NAME]) :
				       "-",
		u64_or_zero(tb, THAW_A_PAGES),
		u64_or_zero(tb, THAW_A_DATA_PAGES),
		u64_or_zero(tb, THAW_A_ZERO_PAGES),
		u64_or_zero(tb, THAW_A_PINNED_PAGES),
		u64_or_zero(tb, THAW_A_CLONES),
		u64_or_zero(tb, THAW_A_WSET_PAGES),
		u64_or_zero(tb, THAW_A_FAULTS),
		u64_or_zero(tb, THAW_A_PREMAPPED),
		u64_or_zero(tb, THAW_A_PRIVATE_PAGES),
		u64_or_zero(tb, THAW_A_HUGE_REGIONS),
		u64_or_zero(tb, THAW_A_ZERO_REGIONS),
		u64_or_zero(tb, THAW_A_SMALL_REGIONS),
		u64_or_zero(tb, THAW_A_HUGE_FALLBACKS),
		u64_or_zero(tb, THAW_A_WSET_WRITTEN),
		u64_or_zero(tb, THAW_A_REGIONS),
		u64_or_zero(tb, THAW_A_FILLED_REGIONS),
		u64_or_zero(tb, THAW_A_FILLED_FAULT),
		u64_or_zero(tb, THAW_A_FILLED_PREMAP),
		u64_or_zero(tb, THAW_A_FILLED_BACKGROUND),
		u64_or_zero(tb, THAW_A_FILL_WAITS),
		u64_or_zero(tb, THAW_A_FILL_ERRORS), snap_state(state));
	ctx->rows++;
	return NL_OK;
}

static int on_clone(struct nl_msg *msg, void *arg)
{
	struct stats_ctx *ctx = arg;
	struct nlattr *tb[THAW_A_MAX + 1];
	uint32_t state;

	if (stats_parse(msg, tb) < 0)
		return NL_SKIP;
	state = tb[THAW_A_STATE] ? nla_get_u32(tb[THAW_A_STATE]) : 0;
	fprintf(ctx->out,
		"%8" PRIu64 " %8" PRIu64 " %8u %9" PRIu64 " %9" PRIu64
		" %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64
		" %9" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		" %6" PRIu64 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64 " %7" PRIu64
		" %6" PRIu64 " %7" PRIu64 " %s\n",
		u64_or_zero(tb, THAW_A_CLONE_ID),
		u64_or_zero(tb, THAW_A_SNAP_ID),
		tb[THAW_A_PID] ? nla_get_u32(tb[THAW_A_PID]) : 0,
		u64_or_zero(tb, THAW_A_PAGES),
		u64_or_zero(tb, THAW_A_SHARED_PAGES),
		u64_or_zero(tb, THAW_A_ZERO_PAGES),
		u64_or_zero(tb, THAW_A_PRIVATE_PAGES),
		u64_or_zero(tb, THAW_A_FAULTS),
		u64_or_zero(tb, THAW_A_COW_FAULTS),
		u64_or_zero(tb, THAW_A_PREMAPPED),
		u64_or_zero(tb, THAW_A_RECORDED),
		u64_or_zero(tb, THAW_A_RESETS),
		u64_or_zero(tb, THAW_A_PMD_REGIONS),
		u64_or_zero(tb, THAW_A_PMD_MAPS),
		u64_or_zero(tb, THAW_A_SPLITS),
		u64_or_zero(tb, THAW_A_PRIVATE_REGIONS),
		u64_or_zero(tb, THAW_A_PRIVATE_MADE),
		u64_or_zero(tb, THAW_A_PRIVATE_BUDGET),
		u64_or_zero(tb, THAW_A_PRIVATE_CHOSEN),
		u64_or_zero(tb, THAW_A_PRIVATE_OVER_BUDGET),
		u64_or_zero(tb, THAW_A_PRIVATE_ALLOC_FAILED),
		u64_or_zero(tb, THAW_A_PRIVATE_REFRESHED),
		state & THAW_CLONE_STATE_RECORDING ? "recording" : "-");
	ctx->rows++;
	return NL_OK;
}

/*
 * Send @cmd (a dump when @dump) and feed every reply to @cb.  Auto-ack is
 * off: a do request is answered by one reply or one error, a dump by its
 * messages and NLMSG_DONE.
 */
static int stats_request(struct nl_sock *sk, int family, uint8_t cmd,
			 int dump, nl_recvmsg_msg_cb_t cb, struct stats_ctx *ctx)
{
	struct nl_msg *msg;
	int ret;

	msg = nlmsg_alloc();
	if (!msg)
		return -NLE_NOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, THAW_GENL_VERSION)) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	ret = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, ctx);
	if (ret >= 0)
		ret = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return ret;
	return nl_recvmsgs_default(sk);
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
	int family, ret, rc;
	struct nl_sock *sk;

	if (!options__parse("stats", argc, argv, opts, usage, &rc))
		return rc;
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	stats_policy_init();

	sk = nl_socket_alloc();
	if (!sk) {
		fprintf(stderr, "thawctl stats: out of memory\n");
		return 1;
	}
	nl_socket_disable_auto_ack(sk);
	ret = genl_connect(sk);
	if (ret < 0) {
		fprintf(stderr, "thawctl stats: generic netlink: %s\n",
			nl_geterror(ret));
		goto out;
	}
	family = genl_ctrl_resolve(sk, THAW_GENL_NAME);
	if (family < 0) {
		fprintf(stderr,
			"thawctl stats: thaw.ko is not loaded (no generic netlink family \"%s\")\n",
			THAW_GENL_NAME);
		ret = family;
		goto out;
	}

	ret = stats_request(sk, family, THAW_CMD_GET_STATS, 0, on_summary,
			    &ctx);
	if (ret < 0 || summary)
		goto done;
	fprintf(ctx.out,
		"\n%8s %-20s %9s %9s %9s %9s %6s %8s %9s %9s %9s %6s %6s %6s %6s %8s %7s %7s %6s %6s %6s %6s %6s %s\n",
		"SNAPSHOT", "NAME", "PAGES", "DATA", "ZERO", "PINNED", "CLONES",
		"WSET", "FAULTS", "PREMAPPED", "PRIVATE", "R2M", "RZERO",
		"R4K", "R2MERR", "WWRITTEN", "REGIONS", "FILLED", "FFAULT",
		"FPREMAP", "FBG", "FWAIT", "FERR", "STATE");
	ret = stats_request(sk, family, THAW_CMD_GET_SNAPSHOT, 1, on_snapshot,
			    &ctx);
	if (ret < 0)
		goto done;
	fprintf(ctx.out,
		"\n%8s %8s %8s %9s %9s %9s %9s %9s %9s %9s %9s %6s %6s %6s %6s %6s %7s %6s %6s %7s %6s %7s %s\n",
		"CLONE", "SNAPSHOT", "PID", "PAGES", "SHARED", "ZERO",
		"PRIVATE", "FAULTS", "COW", "PREMAPPED", "RECORDED", "RESETS",
		"PMD", "PMDMAP", "SPLITS", "P2M", "P2MMADE", "BUDGET", "CHOSEN",
		"OVERBUD", "P2MERR", "P2MRFSH", "STATE");
	ret = stats_request(sk, family, THAW_CMD_GET_CLONE, 1, on_clone, &ctx);
done:
	if (ret < 0)
		fprintf(stderr, "thawctl stats: %s\n", nl_geterror(ret));
out:
	nl_socket_free(sk);
	fflush(ctx.out);
	return ret < 0 ? 1 : 0;
}
