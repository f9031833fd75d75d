# SPDX-License-Identifier: GPL-2.0
# The machine: every vmm object but the control plane's (main.o, api.o,
# config.o), which the lead links into $(O)/bin/thawvm with $(VMM_OBJS) and
# $(VMM_LIBS).
VMM_OBJS := $(addprefix $(O)/vmm/, \
	kvm.o kvm-cpu.o kvm-state.o bus.o devices.o vmm.o uring.o seccomp.o \
	x86/aml.o x86/acpi.o x86/boot.o x86/cpuid.o \
	hw/serial.o hw/i8042.o hw/pm.o hw/boot-timer.o hw/vmgenid.o \
	mem/mem.o mem/restore.o mem/thaw.o \
	virtio/queue.o virtio/mmio.o virtio/vsock.o virtio/vsock-uds.o \
	snapshot/snapshot.o) $(LIBTHAW)
VMM_LIBS := $(or $(call pkg,liburing),-luring) \
	$(or $(call pkg,libseccomp),-lseccomp) -lpthread

# Selftests of the machine (selftests/vmm/*_test.c): kselftest harness
# programs that link the machine and fill a struct vm_config in code.
# A static pattern rule: explicit, so it wins over selftests.mk's generic
# one even before the objects exist.
VMM_SELFTESTS := $(patsubst selftests/%.c,$(O)/selftests/%,\
	$(wildcard selftests/vmm/*_test.c))
SELFTESTS += $(VMM_SELFTESTS) $(O)/selftests/vmm/vsock_peer

$(VMM_SELFTESTS): $(O)/selftests/vmm/%_test: selftests/vmm/%_test.c \
		selftests/vmm/vmm_test.h $(O)/vmm/config.o $(VMM_OBJS)
	$(quiet) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SELFTEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(O)/vmm/config.o $(VMM_OBJS) $(VMM_LIBS) $(LIBTHAW_LIBS)

# The guest side of the vsock tests: static, it runs in a bare initramfs.
$(O)/selftests/vmm/vsock_peer: selftests/vmm/vsock_peer.c
	$(quiet) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -O2 -static -o $@ $<
