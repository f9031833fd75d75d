# SPDX-License-Identifier: GPL-2.0
# thaw-init: PID 1 of a function VM, static so that an initramfs needs
# nothing else.  libevent (core + extra for evhttp) rather than
# libmicrohttpd: Debian's libmicrohttpd.a needs libgnutls.a, which needs
# libp11-kit, shipped only as a shared library, so it cannot link statically.
# The sanitizer build cannot be static; it links dynamically.
THAW_INIT_OBJS := $(addprefix $(O)/tools/guest/,main.o system.o runtime.o \
	runtime_api.o queue.o bridge.o config.o lambda.o)
THAW_INIT_STATIC := $(if $(filter 1,$(SAN)),,-static)
PROGS += $(O)/bin/thaw-init

$(O)/bin/thaw-init: $(THAW_INIT_OBJS) $(PROTO_OBJS) $(LIBTHAW)
	$(call link,$(THAW_INIT_STATIC) -levent_extra -levent_core -ljson-c)
