# SPDX-License-Identifier: GPL-2.0
# Selftests of thaw.ko (selftests/thaw/*_test.c), each one program built by
# selftests.mk's generic rule; extra objects are prerequisites here, extra
# libraries SELFTEST_LIBS_<name>.
THAW_SELFTESTS := $(patsubst selftests/%.c,$(O)/selftests/%,\
	$(wildcard selftests/thaw/*_test.c))
SELFTESTS += $(THAW_SELFTESTS)
$(THAW_SELFTESTS): selftests/thaw/thaw_test.h

# netlink_test runs thawctl stats.
$(O)/selftests/thaw/netlink_test: $(THAWCTL_STATS_OBJS) $(TOOLS_LIB) \
	$(PROTO_OBJS) $(LIBTHAW)
SELFTEST_LIBS_netlink_test = $(THAWCTL_STATS_LIBS)
