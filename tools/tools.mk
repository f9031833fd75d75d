# SPDX-License-Identifier: GPL-2.0
# Userspace tools: thawctl, the guest init, benches.

# thawctl stats: thaw.ko's counters through the "thaw" generic netlink
# family, with libnl-genl-3.  The thawctl binary links THAWCTL_STATS_OBJS and
# NLGENL_LIBS (its rule comes with 'invoke'); the netlink selftests link them
# too.
NLGENL_LIBS := $(call pkg,libnl-genl-3.0)
CFLAGS_stats := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
THAWCTL_STATS_OBJS := $(O)/tools/thawctl/stats.o

# Benches: programs that print a table (tools/bench/, run them in vmtest).
PROGS += $(O)/bench/thaw-mem

$(O)/bench/thaw-mem: $(O)/tools/bench/thaw-mem.o
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^
