# SPDX-License-Identifier: GPL-2.0
# thawctl: main.c, one file per subcommand, and options.c, the parser they
# share; what a subcommand does beyond its options is in tools/lib/.
# stats reads thaw.ko's counters through the "thaw" generic netlink family
# (tools/lib/thaw-genl.c); the netlink selftests run it too: they link
# THAWCTL_STATS_OBJS, $(PROTO_OBJS) and THAWCTL_STATS_LIBS.
THAWCTL_STATS_OBJS := $(O)/tools/thawctl/stats.o $(O)/tools/thawctl/options.o
THAWCTL_STATS_LIBS = $(TOOLS_LIB) $(LIBTHAW) $(NLGENL_LIBS) \
	$(TOOLS_LIB_LIBS) $(LIBTHAW_LIBS)
THAWCTL_OBJS := $(addprefix $(O)/tools/thawctl/,main.o api.o drop-cache.o \
	hold.o invoke.o merge-diff.o probe.o restore.o rewind.o snapshot.o \
	stats.o wait-ready.o options.o)
PROGS += $(O)/bin/thawctl

$(O)/bin/thawctl: $(THAWCTL_OBJS) $(TOOLS_LIB) $(PROTO_OBJS) $(LIBTHAW)
	$(call link,$(TOOLS_LIB_LIBS) $(NLGENL_LIBS) $(LIBTHAW_LIBS))
