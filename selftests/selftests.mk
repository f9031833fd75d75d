# SPDX-License-Identifier: GPL-2.0
# Selftests in the kselftest style; they run inside tools/vmtest (see
# selftests/run).  kselftest_harness.h is used in place from Debian's
# linux-source-6.1 (unpacked by 'make deps' into $(THAW_CACHE)).
SELFTEST_CFLAGS = -I$(LINUX_SRC)/tools/testing/selftests -Wno-shadow \
	-Wno-missing-prototypes -Wno-sign-compare
# Every selftests/thaw/*_test.c is one program; other folders add theirs.
SELFTEST_NAMES := $(patsubst selftests/%.c,%,$(wildcard selftests/thaw/*_test.c))
SELFTESTS += $(addprefix $(O)/selftests/,$(SELFTEST_NAMES))

$(O)/selftests/%: selftests/%.c selftests/thaw/thaw_test.h uapi/linux/thaw.h
	$(quiet) CC $@
	@mkdir -p $(dir $@)
	@test -f $(LINUX_SRC)/tools/testing/selftests/kselftest_harness.h || \
		{ echo "kselftest_harness.h missing: run 'make deps'" >&2; exit 1; }
	$(Q)$(CC) $(ALL_CFLAGS) $(SELFTEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(filter %.o,$^) $(SELFTEST_LIBS_$(notdir $@)) -lpthread

# Selftests that link program code: extra objects as prerequisites, extra
# libraries in SELFTEST_LIBS_<name>.
$(O)/selftests/thaw/netlink_test: $(THAWCTL_STATS_OBJS)
SELFTEST_LIBS_netlink_test = $(NLGENL_LIBS)
