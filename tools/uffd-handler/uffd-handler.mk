# SPDX-License-Identifier: GPL-2.0
# thaw-uffd-handler: the page-fault handler of the Uffd backend
# (Firecracker's protocol, lib/uffd.h).
UFFD_HANDLER_OBJS := $(O)/tools/uffd-handler/main.o \
	$(O)/tools/uffd-handler/serve.o
PROGS += $(O)/bin/thaw-uffd-handler

$(O)/bin/thaw-uffd-handler: $(UFFD_HANDLER_OBJS) $(LIBTHAW)
	$(call link,$(LIBTHAW_LIBS))
