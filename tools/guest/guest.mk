# SPDX-License-Identifier: GPL-2.0
# thaw-init: PID 1 of a function VM, static so that an initramfs needs
# nothing else.  libevent (core + extra for evhttp) rather than
# libmicrohttpd: Debian's libmicrohttpd.a needs libgnutls.a, which needs
# libp11-kit, shipped only as a shared library, so it cannot link statically.
# The sanitizer build cannot be static; it links dynamically.
THAW_INIT_OBJS := $(addprefix $(O)/tools/guest/,main.o system.o runtime.o \
	runtime_api.o queue.o bridge.o generation.o config.o lambda.o kmsg.o \
	ipconfig.o)
THAW_INIT_STATIC := $(if $(filter 1,$(SAN)),,-static)
PROGS += $(O)/bin/thaw-init

$(O)/bin/thaw-init: $(THAW_INIT_OBJS) $(PROTO_OBJS) $(LIBTHAW)
	$(call link,$(THAW_INIT_STATIC) -levent_extra -levent_core -ljson-c)

# thaw-init's pure logic (settings, the Runtime API), unit-tested in
# tools/guest/tests/ (cmocka; built with the other unit tests, so that make
# check runs them in the ASan+UBSan build).  Beside the code they test: no
# file outside tools/guest/ includes its headers.
UNIT_TESTS += $(O)/tests/unit/guest_config_test \
	$(O)/tests/unit/guest_lambda_test $(O)/tests/unit/guest_kmsg_test \
	$(O)/tests/unit/guest_ipconfig_test
$(O)/tests/unit/guest_config_test: $(O)/tools/guest/tests/config_test.o \
		$(O)/tools/guest/config.o
	$(call link,$(CMOCKA_LIBS) $(call pkg,json-c) -lpthread)
$(O)/tests/unit/guest_lambda_test: $(O)/tools/guest/tests/lambda_test.o \
		$(O)/tools/guest/lambda.o $(PROTO_OBJS)
	$(call link,$(CMOCKA_LIBS) $(call pkg,json-c) -lpthread)
$(O)/tests/unit/guest_kmsg_test: $(O)/tools/guest/tests/kmsg_test.o \
		$(O)/tools/guest/kmsg.o
	$(call link,$(CMOCKA_LIBS) -lpthread)
$(O)/tests/unit/guest_ipconfig_test: $(O)/tools/guest/tests/ipconfig_test.o \
		$(O)/tools/guest/ipconfig.o
	$(call link,$(CMOCKA_LIBS) -lpthread)
