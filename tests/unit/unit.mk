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
