# SPDX-License-Identifier: GPL-2.0
# The Uffd page-fault handler, its selftests, the memory-file benches and
# the unit tests of lib/'s snapshot files.
SNAP_LIBS = $(LIBTHAW_LIBS)
# What the selftests below link: the Thaw backend and lib/.
SNAP_ALL_OBJS := $(O)/vmm/mem/thaw.o $(O)/vmm/mem/mem.o $(LIBTHAW)

# The page-fault handler for the Uffd backend.
UFFD_HANDLER_OBJS := $(O)/tools/uffd-handler/main.o \
	$(O)/tools/uffd-handler/serve.o
PROGS += $(O)/bin/thaw-uffd-handler
$(O)/bin/thaw-uffd-handler: $(UFFD_HANDLER_OBJS) $(LIBTHAW)
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SNAP_LIBS)

# Benches (tools/bench/): programs that print a table.
PROGS += $(O)/bin/bench-memfile
$(O)/bin/bench-memfile: $(O)/tools/bench/memfile.o $(LIBTHAW)
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SNAP_LIBS)

PROGS += $(O)/bin/bench-uffd
$(O)/bin/bench-uffd: $(O)/tools/bench/uffd.o $(LIBTHAW) \
		| $(O)/bin/thaw-uffd-handler
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SNAP_LIBS)

# Unit tests (cmocka, run under ASan+UBSan by make check).
UNIT_TESTS += $(O)/tests/unit/snapfile_test $(O)/tests/unit/wset_test \
	$(O)/tests/unit/memfile_test $(O)/tests/unit/uffd_msg_test
$(O)/tests/unit/snapfile_test: $(LIBTHAW)
$(O)/tests/unit/wset_test: $(LIBTHAW)
$(O)/tests/unit/memfile_test: $(LIBTHAW)
$(O)/tests/unit/memfile_test: UNIT_LIBS := $(call pkg,liburing)
$(O)/tests/unit/uffd_msg_test: $(LIBTHAW)
$(O)/tests/unit/uffd_msg_test: UNIT_LIBS := $(call pkg,json-c)

# Selftests (kselftest harness) run inside vmtest by selftests/run; they
# drive the real handler and the real kernel (userfaultfd, io_uring).
SNAP_SELFTESTS := $(patsubst selftests/%.c,$(O)/selftests/%,\
	$(wildcard selftests/snap/*_test.c))
SELFTESTS += $(SNAP_SELFTESTS)
$(SNAP_SELFTESTS): $(O)/selftests/snap/%: selftests/snap/%.c \
		selftests/snap/snap_test.h $(SNAP_ALL_OBJS) \
		$(O)/bin/thaw-uffd-handler
	$(quiet) CC $@
	@mkdir -p $(dir $@)
	@test -f $(LINUX_SRC)/tools/testing/selftests/kselftest_harness.h || \
		{ echo "kselftest_harness.h missing: run 'make deps'" >&2; exit 1; }
	$(Q)$(CC) $(ALL_CFLAGS) $(SELFTEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(SNAP_ALL_OBJS) $(SNAP_LIBS)
