# SPDX-License-Identifier: GPL-2.0
# thawd: the worker-host agent (tools/thawd/thawd.h has the map).  The HTTP
# side is libmicrohttpd, as thawvm's API; SigV4's hashes and base64 are
# OpenSSL's libcrypto.  Its option-less subcommands share nothing with
# thawctl's parser; what starting and invoking a VM takes is in tools/lib/.
# A function's code as a zip is read with libarchive (image.c).
THAWD_OBJS := $(addprefix $(O)/tools/thawd/,main.o config.o catalog.o \
	image.o pool.o invoke.o http.o queue.o metrics.o sigv4.o)
PROGS += $(O)/bin/thawd

$(O)/bin/thawd: $(THAWD_OBJS) $(TOOLS_LIB) $(PROTO_OBJS) $(LIBTHAW)
	$(call link,$(TOOLS_LIB_LIBS) $(NLGENL_LIBS) $(LIBTHAW_LIBS) \
		$(call pkg,libmicrohttpd) $(call pkg,libcrypto) \
		$(call pkg,libarchive) -lpthread)
