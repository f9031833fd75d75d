# SPDX-License-Identifier: GPL-2.0
# Snapshot building blocks: the state-file container, sparse memory files
# through io_uring, working-set files and the Uffd backend (VMM side), plus
# the page-fault handler, its selftests and the memory-file bench.
# thawvm links $(SNAP_OBJS) with $(SNAP_LIBS).  They also need
# $(O)/vmm/crc32c.o, which thawvm has already (VMM_LIB_OBJS in vmm.mk): it
# is not repeated here so that one link line never names it twice.
SNAP_OBJS := $(O)/vmm/snapfile.o $(O)/vmm/memfile.o $(O)/vmm/wset.o \
	$(O)/vmm/uffd.o $(O)/vmm/mem-thaw.o
SNAP_LIBS = $(call pkg,liburing json-c) -lpthread
# What the programs and tests below link (mem-thaw.o needs mem.o, log.o).
SNAP_ALL_OBJS := $(SNAP_OBJS) $(O)/vmm/crc32c.o $(O)/vmm/mem.o \
	$(O)/vmm/log.o

# The page-fault handler for the Uffd backend.
UFFD_HANDLER_OBJS := $(O)/tools/uffd-handler/main.o \
	$(O)/tools/uffd-handler/serve.o
PROGS += $(O)/bin/thaw-uffd-handler
$(O)/bin/thaw-uffd-handler: $(UFFD_HANDLER_OBJS) $(SNAP_ALL_OBJS)
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SNAP_LIBS)

# Benches (tools/bench/): programs that print a table.
PROGS += $(O)/bin/bench-memfile
$(O)/bin/bench-memfile: $(O)/tools/bench/memfile.o $(SNAP_ALL_OBJS)
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SNAP_LIBS)

PROGS += $(O)/bin/bench-uffd
$(O)/bin/bench-uffd: $(O)/tools/bench/uffd.o $(SNAP_ALL_OBJS) \
		| $(O)/bin/thaw-uffd-handler
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SNAP_LIBS)

# Unit tests (cmocka, run under ASan+UBSan by make check).
UNIT_TESTS += $(O)/tests/unit/snapfile_test $(O)/tests/unit/wset_test \
	$(O)/tests/unit/memfile_test $(O)/tests/unit/uffd_msg_test
$(O)/tests/unit/snapfile_test: $(O)/vmm/snapfile.o $(O)/vmm/crc32c.o
$(O)/tests/unit/wset_test: $(O)/vmm/wset.o $(O)/vmm/snapfile.o \
	$(O)/vmm/crc32c.o
$(O)/tests/unit/memfile_test: $(O)/vmm/memfile.o
$(O)/tests/unit/memfile_test: UNIT_LIBS := $(call pkg,liburing)
$(O)/tests/unit/uffd_msg_test: $(O)/vmm/uffd.o
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
