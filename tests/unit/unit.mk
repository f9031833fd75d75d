# SPDX-License-Identifier: GPL-2.0
# Unit tests of pure logic, cmocka, TAP output; 'make check' runs them in the
# ASan+UBSan build.  Add a test: tests/unit/NAME_test.c plus one line below.
CMOCKA_LIBS := $(call pkg,cmocka)

UNIT_TESTS += $(O)/tests/unit/crc32c_test
$(O)/tests/unit/crc32c_test: $(O)/vmm/crc32c.o

$(O)/tests/unit/%_test: $(O)/tests/unit/%_test.o
	$(quiet) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LIBS_EXTRA) -lpthread

UNIT_TESTS += $(O)/tests/unit/config_test
$(O)/tests/unit/config_test: $(O)/vmm/config.o
$(O)/tests/unit/config_test: LIBS_EXTRA = $(call pkg,json-c)

# The machine's pure logic (vmm/): encoders, parsers, builders.
UNIT_TESTS += $(O)/tests/unit/aml_test $(O)/tests/unit/acpi_test \
	$(O)/tests/unit/bootparams_test $(O)/tests/unit/virtq_test \
	$(O)/tests/unit/cpuid_test
$(O)/tests/unit/aml_test: $(O)/vmm/aml.o
$(O)/tests/unit/acpi_test: $(O)/vmm/acpi.o $(O)/vmm/aml.o $(O)/vmm/mem.o \
	$(O)/vmm/log.o
$(O)/tests/unit/bootparams_test: $(O)/vmm/boot.o $(O)/vmm/mem.o $(O)/vmm/log.o
$(O)/tests/unit/virtq_test: $(O)/vmm/virtio/queue.o $(O)/vmm/mem.o \
	$(O)/vmm/log.o
$(O)/tests/unit/cpuid_test: $(O)/vmm/cpuid.o
