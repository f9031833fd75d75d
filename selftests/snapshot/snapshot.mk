# SPDX-License-Identifier: GPL-2.0
# The snapshot group: the C selftests of the snapshot files and memory
# backends drive the real handler and the real kernel (userfaultfd,
# io_uring, thaw.ko); the *_test.sh ones snapshot and restore function VMs
# with thawctl.
SNAPSHOT_SELFTESTS := $(patsubst selftests/%.c,$(O)/selftests/%,\
	$(wildcard selftests/snapshot/*_test.c))
SNAPSHOT_SELFTEST_OBJS := $(O)/vmm/mem/thaw.o $(O)/vmm/mem/mem.o $(LIBTHAW)
SELFTESTS += $(SNAPSHOT_SELFTESTS)

$(SNAPSHOT_SELFTESTS): $(O)/selftests/snapshot/%: selftests/snapshot/%.c \
		selftests/snapshot/snap_test.h $(SNAPSHOT_SELFTEST_OBJS) \
		$(O)/bin/thaw-uffd-handler
	$(call selftest,$(SNAPSHOT_SELFTEST_OBJS) $(LIBTHAW_LIBS))
