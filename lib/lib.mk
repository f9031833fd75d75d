# SPDX-License-Identifier: GPL-2.0
# lib/: the code thawvm and the tools share (the snapshot state file, the
# memory file, working sets, the Uffd handler's protocol, CRC-32C, the log,
# listening Unix sockets, token buckets),
# built once into $(LIBTHAW), a static archive: every program lists it after
# its own objects and links $(LIBTHAW_LIBS).
LIB_OBJS := $(addprefix $(O)/lib/,crc32c.o log.o snapfile.o memfile.o \
	wset.o uffd.o thaw-object.o unix-sock.o token-bucket.o)
LIBTHAW := $(O)/lib/libthaw.a
LIBTHAW_LIBS = $(or $(call pkg,liburing),-luring) $(call pkg,json-c) -lpthread

$(LIBTHAW): $(LIB_OBJS)
	$(quiet) AR $@
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^
