# SPDX-License-Identifier: GPL-2.0
# Selftests of the machine (selftests/vmm/*_test.c): kselftest harness
# programs that link the machine and fill a struct vm_config in code.
# A static pattern rule: explicit, so it wins over selftests.mk's generic
# one even before the objects exist.
VMM_SELFTESTS := $(patsubst selftests/%.c,$(O)/selftests/%,\
	$(wildcard selftests/vmm/*_test.c))
SELFTESTS += $(VMM_SELFTESTS) $(O)/selftests/vmm/vsock_peer \
	$(O)/selftests/vmm/sc_inject

$(VMM_SELFTESTS): $(O)/selftests/vmm/%_test: selftests/vmm/%_test.c \
		selftests/vmm/vmm_test.h $(O)/vmm/config.o $(VMM_OBJS)
	$(call selftest,$(O)/vmm/config.o $(VMM_OBJS) $(VMM_LIBS))

# The guest side of the vsock tests: static, it runs in a bare initramfs.
$(O)/selftests/vmm/vsock_peer: selftests/vmm/vsock_peer.c
	$(quiet) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -O2 -static -o $@ $<

# seccomp_test.sh's attacker: a forbidden call injected into a thread.
$(O)/selftests/vmm/sc_inject: selftests/vmm/sc_inject.c
	$(quiet) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -O2 -o $@ $<
