# SPDX-License-Identifier: GPL-2.0
# thawvm.  The machine is every vmm object but the control plane's
# (main.o, api.o, api-route.o, config.o): $(VMM_OBJS), which the
# selftests of the machine link too, with $(VMM_LIBS).
VMM_OBJS := $(addprefix $(O)/vmm/, \
	kvm.o kvm-cpu.o kvm-cpu-dump.o kvm-state.o bus.o devices.o vmm.o \
	uring.o seccomp.o \
	x86/aml.o x86/acpi.o x86/boot.o x86/cpuid.o \
	hw/serial.o hw/i8042.o hw/pm.o hw/boot-timer.o hw/vmgenid.o \
	mem/mem.o mem/restore.o mem/thaw.o \
	virtio/queue.o virtio/mmio.o virtio/vsock.o virtio/vsock-uds.o \
	virtio/blk.o virtio/blk-io.o virtio/blk-persist.o virtio/rng.o \
	virtio/net.o virtio/net-rxtx.o virtio/tap.o \
	mmds/mmds.o mmds/persist.o mmds/store.o mmds/http.o mmds/token.o \
	mmds/frame.o \
	snapshot/snapshot.o snapshot/rewind.o) $(LIBTHAW)
# MMDS: libslirp's pkg-config file asks for GLib's development files,
# which the build does not need: -lslirp when pkg-config says no.
VMM_LIBS = $(or $(call pkg,liburing),-luring) \
	$(or $(call pkg,libseccomp),-lseccomp) \
	$(or $(call pkg,slirp),-lslirp) $(call pkg,libmicrohttpd) \
	$(LIBTHAW_LIBS)

THAWVM_OBJS := $(O)/vmm/main.o $(O)/vmm/api.o $(O)/vmm/api-route.o \
	$(O)/vmm/config.o
PROGS += $(O)/bin/thawvm

$(O)/bin/thawvm: $(THAWVM_OBJS) $(VMM_OBJS)
	$(call link,$(VMM_LIBS) $(call pkg,json-c libmicrohttpd))
