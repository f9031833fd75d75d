# SPDX-License-Identifier: GPL-2.0
# tools/lib/: the code the tools share (thawctl and the benches): reaching
# a guest over vsock, thawvm's API client, starting processes and clones,
# one invocation, a VMM's counters, thaw.ko's counters (generic netlink).
# Built into $(TOOLS_LIB), a static archive that a program lists before
# $(PROTO_OBJS) and $(LIBTHAW), with $(TOOLS_LIB_LIBS), and $(NLGENL_LIBS)
# if it reads thaw.ko's counters.
TOOLS_LIB_OBJS := $(addprefix $(O)/tools/lib/,vsock-client.o thawvm-api.o \
	proc.o clone.o invoke.o vm-counts.o util.o thaw-genl.o)
NLGENL_LIBS := $(call pkg,libnl-genl-3.0)
CFLAGS_thaw-genl := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
TOOLS_LIB := $(O)/tools/lib/libthawtools.a
TOOLS_LIB_LIBS = $(or $(call pkg,libcurl),-lcurl) $(call pkg,json-c)

$(TOOLS_LIB): $(TOOLS_LIB_OBJS)
	$(quiet) AR $@
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^
