# SPDX-License-Identifier: GPL-2.0
# Selftests of the snapshot files and memory backends: they drive the real
# handler and the real kernel (userfaultfd, io_uring, thaw.ko).
SNAP_SELFTESTS := $(patsubst selftests/%.c,$(O)/selftests/%,\
	$(wildcard selftests/snap/*_test.c))
SNAP_SELFTEST_OBJS := $(O)/vmm/mem/thaw.o $(O)/vmm/mem/mem.o $(LIBTHAW)
SELFTESTS += $(SNAP_SELFTESTS)

$(SNAP_SELFTESTS): $(O)/selftests/snap/%: selftests/snap/%.c \
		selftests/snap/snap_test.h $(SNAP_SELFTEST_OBJS) \
		$(O)/bin/thaw-uffd-handler
	$(call selftest,$(SNAP_SELFTEST_OBJS) $(LIBTHAW_LIBS))
