# SPDX-License-Identifier: GPL-2.0
# Unit tests of pure logic, cmocka, TAP output; 'make check' runs them in the
# ASan+UBSan build.  Add a test: tests/unit/NAME_test.c plus one line below.
CMOCKA_LIBS := $(call pkg,cmocka)

UNIT_TESTS += $(O)/tests/unit/crc32c_test
$(O)/tests/unit/crc32c_test: $(LIBTHAW)

$(O)/tests/unit/%_test: $(O)/tests/unit/%_test.o
	$(quiet) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(UNIT_LIBS) -lpthread

UNIT_TESTS += $(O)/tests/unit/config_test
$(O)/tests/unit/config_test: $(O)/vmm/config.o $(LIBTHAW)
$(O)/tests/unit/config_test: UNIT_LIBS := $(call pkg,json-c)

# The machine's pure logic (vmm/): encoders, parsers, builders.
UNIT_TESTS += $(O)/tests/unit/aml_test $(O)/tests/unit/acpi_test \
	$(O)/tests/unit/bootparams_test $(O)/tests/unit/virtq_test \
	$(O)/tests/unit/cpuid_test
$(O)/tests/unit/aml_test: $(O)/vmm/x86/aml.o
$(O)/tests/unit/acpi_test: $(O)/vmm/x86/acpi.o $(O)/vmm/x86/aml.o $(O)/vmm/mem/mem.o \
	$(LIBTHAW)
$(O)/tests/unit/bootparams_test: $(O)/vmm/x86/boot.o $(O)/vmm/mem/mem.o $(LIBTHAW)
$(O)/tests/unit/virtq_test: $(O)/vmm/virtio/queue.o $(O)/vmm/mem/mem.o \
	$(LIBTHAW)
$(O)/tests/unit/cpuid_test: $(O)/vmm/x86/cpuid.o

# The invocation protocol (proto/).
UNIT_TESTS += $(O)/tests/unit/proto_test
$(O)/tests/unit/proto_test: $(PROTO_OBJS)
$(O)/tests/unit/proto_test: UNIT_LIBS := $(call pkg,json-c)

# thaw-init's pure logic (tools/guest): settings, Runtime API.
UNIT_TESTS += $(O)/tests/unit/guest_config_test \
	$(O)/tests/unit/guest_lambda_test
$(O)/tests/unit/guest_config_test: $(O)/tools/guest/config.o
$(O)/tests/unit/guest_lambda_test: $(O)/tools/guest/lambda.o \
	$(PROTO_OBJS)
$(O)/tests/unit/guest_%_test: UNIT_LIBS := $(call pkg,json-c)

# thawctl's vsock transport against a misbehaving VMM and guest.
UNIT_TESTS += $(O)/tests/unit/thawctl_vsock_test
$(O)/tests/unit/thawctl_vsock_test: $(O)/tools/thawctl/vsock.o \
	$(PROTO_OBJS) $(LIBTHAW)
$(O)/tests/unit/thawctl_vsock_test: UNIT_LIBS := $(call pkg,json-c)

# thawctl's thawvm API client and process helpers against a fake thawvm.
UNIT_TESTS += $(O)/tests/unit/thawctl_vmapi_test
$(O)/tests/unit/thawctl_vmapi_test: $(O)/tools/thawctl/vmapi.o \
	$(O)/tools/thawctl/vmproc.o $(O)/tools/thawctl/vsock.o \
	$(O)/tools/thawctl/util.o $(PROTO_OBJS) $(LIBTHAW)
$(O)/tests/unit/thawctl_vmapi_test: UNIT_LIBS := $(CURL_LIBS) $(call pkg,json-c)
