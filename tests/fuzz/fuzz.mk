# SPDX-License-Identifier: GPL-2.0
# libFuzzer harnesses of the parsers and the devices' state machines
# (Documentation/dev-tools/fuzzing.rst).  They build only with FUZZ=1:
# clang, ASan+UBSan and libFuzzer's coverage on every object, into
# build/fuzz.  'make fuzz' builds and runs them (tests/fuzz/run);
# 'make check' runs them briefly (tests/host/fuzz_test.sh).  Add one:
# tests/fuzz/NAME_fuzz.c, NAME in FUZZ_NAMES, what it links as its
# prerequisites and the libraries in FUZZ_LIBS, a seed corpus in
# tests/fuzz/corpus/NAME/.
FUZZ_NAMES := snapshot wset config proto api pio vsock
FUZZ_TARGETS := $(addprefix $(O)/bin/,$(addsuffix _fuzz,$(FUZZ_NAMES)))

$(O)/bin/%_fuzz: $(O)/tests/fuzz/%_fuzz.o
	$(call link,-fsanitize=fuzzer $(FUZZ_LDFLAGS) $(FUZZ_LIBS))

$(O)/bin/snapshot_fuzz: $(O)/vmm/config.o $(VMM_OBJS)
$(O)/bin/snapshot_fuzz: FUZZ_LIBS = $(VMM_LIBS) $(call pkg,json-c)
$(O)/bin/wset_fuzz: $(LIBTHAW)
$(O)/bin/wset_fuzz: FUZZ_LIBS = $(LIBTHAW_LIBS)
$(O)/bin/config_fuzz: $(O)/vmm/config.o $(LIBTHAW)
$(O)/bin/config_fuzz: FUZZ_LIBS = $(LIBTHAW_LIBS)
$(O)/bin/proto_fuzz: $(PROTO_OBJS)
$(O)/bin/proto_fuzz: FUZZ_LIBS = $(call pkg,json-c)
# The routes with a fake machine (api_fuzz.c); every open(2) is its own.
$(O)/bin/api_fuzz: $(O)/vmm/api-route.o $(O)/vmm/config.o \
	$(O)/vmm/virtio/tap.o $(O)/vmm/mmds/store.o $(LIBTHAW)
$(O)/bin/api_fuzz: FUZZ_LIBS = $(LIBTHAW_LIBS) $(call pkg,json-c)
$(O)/bin/api_fuzz: FUZZ_LDFLAGS = -Wl,--wrap=open
# The devices on a machine without KVM: the harnesses stand in for
# vmm/kvm.c (pio_fuzz.c, vsock_fuzz.c).
$(O)/bin/pio_fuzz: $(addprefix $(O)/vmm/,hw/serial.o hw/i8042.o hw/pm.o bus.o) \
	$(LIBTHAW)
$(O)/bin/pio_fuzz: FUZZ_LIBS = $(LIBTHAW_LIBS)
$(O)/bin/vsock_fuzz: $(addprefix $(O)/vmm/,virtio/vsock.o \
	virtio/vsock-uds.o virtio/mmio.o virtio/queue.o mem/mem.o \
	bus.o) $(LIBTHAW)
$(O)/bin/vsock_fuzz: FUZZ_LIBS = $(LIBTHAW_LIBS)

FUZZ_TIME ?= 60

.PHONY: fuzz fuzz-build fuzz-names
.SECONDARY: $(patsubst $(O)/bin/%,$(O)/tests/fuzz/%.o,$(FUZZ_TARGETS))
fuzz-build: $(FUZZ_TARGETS)
fuzz:
	$(Q)FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run
fuzz-names:
	@echo $(FUZZ_NAMES)

# The binary seeds (tests/fuzz/mkcorpus.c); not a harness.
$(O)/bin/fuzz-mkcorpus: $(O)/tests/fuzz/mkcorpus.o $(LIBTHAW)
	$(call link,$(LIBTHAW_LIBS))
