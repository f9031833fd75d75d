# SPDX-License-Identifier: GPL-2.0
# Selftests in the kselftest style; they run inside tools/vmtest (see
# selftests/run).  kselftest_harness.h is used in place from Debian's
# linux-source-6.1 (unpacked by 'make deps' into $(THAW_CACHE)).  Each
# group's folder has its own rules (selftests/*/*.mk).
SELFTEST_CFLAGS = -I$(LINUX_SRC)/tools/testing/selftests -Wno-shadow \
	-Wno-missing-prototypes -Wno-sign-compare

# Compile and link the selftest $@ from its source $<; $(1): what else it
# links.
define selftest
	$(quiet) CC $@
	@mkdir -p $(dir $@)
	@test -f $(LINUX_SRC)/tools/testing/selftests/kselftest_harness.h || \
		{ echo "kselftest_harness.h missing: run 'make deps'" >&2; exit 1; }
	$(Q)$(CC) $(ALL_CFLAGS) $(SELFTEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(1)
endef

# The generic rule: one .c is one program; extra objects are its other
# prerequisites, extra libraries SELFTEST_LIBS_<name>.
$(O)/selftests/%: selftests/%.c uapi/linux/thaw.h
	$(call selftest,$(filter %.o,$^) $(SELFTEST_LIBS_$(notdir $@)) -lpthread)

include $(wildcard selftests/*/*.mk)
