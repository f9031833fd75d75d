# SPDX-License-Identifier: GPL-2.0
# Unit tests of pure logic, cmocka, TAP output; 'make check' runs them in the
# ASan+UBSan build.  Add a test: tests/unit/NAME_test.c, its name in
# UNIT_TESTS and what it links (objects and archives) as its prerequisites,
# the libraries those need in UNIT_LIBS.
CMOCKA_LIBS := $(call pkg,cmocka)

$(O)/tests/unit/%_test: $(O)/tests/unit/%_test.o
	$(call link,$(CMOCKA_LIBS) $(UNIT_LIBS) -lpthread)

# lib/: CRC-32C, the snapshot files, working sets, the Uffd protocol,
# listening Unix sockets, token buckets and the log's rate limit.
UNIT_TESTS += $(addprefix $(O)/tests/unit/,crc32c_test snapfile_test \
	wset_test memfile_test uffd_msg_test unix_sock_test ratelimit_test)
$(O)/tests/unit/crc32c_test: $(LIBTHAW)
$(O)/tests/unit/snapfile_test: $(LIBTHAW)
$(O)/tests/unit/wset_test: $(LIBTHAW)
$(O)/tests/unit/memfile_test: $(LIBTHAW)
$(O)/tests/unit/memfile_test: UNIT_LIBS := $(call pkg,liburing)
$(O)/tests/unit/uffd_msg_test: $(LIBTHAW)
$(O)/tests/unit/uffd_msg_test: UNIT_LIBS := $(call pkg,json-c)
$(O)/tests/unit/unix_sock_test: $(LIBTHAW)
$(O)/tests/unit/ratelimit_test: $(LIBTHAW)

# The machine's pure logic (vmm/): the config parser, encoders, builders.
UNIT_TESTS += $(addprefix $(O)/tests/unit/,config_test aml_test acpi_test \
	bootparams_test virtq_test net_test cpuid_test)
$(O)/tests/unit/config_test: $(O)/vmm/config.o $(LIBTHAW)
$(O)/tests/unit/config_test: UNIT_LIBS := $(call pkg,json-c)
$(O)/tests/unit/aml_test: $(O)/vmm/x86/aml.o
$(O)/tests/unit/acpi_test: $(O)/vmm/x86/acpi.o $(O)/vmm/x86/aml.o \
	$(O)/vmm/mem/mem.o $(LIBTHAW)
$(O)/tests/unit/bootparams_test: $(O)/vmm/x86/boot.o $(O)/vmm/mem/mem.o \
	$(LIBTHAW)
$(O)/tests/unit/virtq_test: $(O)/vmm/virtio/queue.o $(O)/vmm/mem/mem.o \
	$(LIBTHAW)
$(O)/tests/unit/net_test: $(O)/vmm/virtio/net-rxtx.o \
	$(O)/vmm/virtio/queue.o $(O)/vmm/mem/mem.o $(LIBTHAW)
$(O)/tests/unit/cpuid_test: $(O)/vmm/x86/cpuid.o
# virtio-blk's request path on its io_uring, against hostile rings.
UNIT_TESTS += $(O)/tests/unit/blk_test
$(O)/tests/unit/blk_test: $(O)/vmm/config.o $(VMM_OBJS)
$(O)/tests/unit/blk_test: UNIT_LIBS = $(VMM_LIBS) $(call pkg,json-c)
# MMDS: the data store, tokens, the guest's requests, its frames.
UNIT_TESTS += $(O)/tests/unit/mmds_test
$(O)/tests/unit/mmds_test: $(addprefix $(O)/vmm/mmds/,store.o http.o token.o \
	frame.o) $(LIBTHAW)
$(O)/tests/unit/mmds_test: UNIT_LIBS := $(call pkg,json-c)
# MMDS's guest side on the real libslirp and libmicrohttpd, in-process.
UNIT_TESTS += $(O)/tests/unit/mmds_slirp_test
$(O)/tests/unit/mmds_slirp_test: $(addprefix $(O)/vmm/,mmds/mmds.o \
	mmds/store.o mmds/http.o mmds/token.o mmds/frame.o uring.o seccomp.o \
	virtio/queue.o mem/mem.o config.o) $(LIBTHAW)
$(O)/tests/unit/mmds_slirp_test: UNIT_LIBS = $(VMM_LIBS) $(call pkg,json-c)
# The device loop's restricted ring.
UNIT_TESTS += $(O)/tests/unit/uring_test
$(O)/tests/unit/uring_test: $(O)/vmm/uring.o $(LIBTHAW)
$(O)/tests/unit/uring_test: UNIT_LIBS := $(call pkg,liburing)

# The invocation protocol (proto/).
UNIT_TESTS += $(O)/tests/unit/proto_test
$(O)/tests/unit/proto_test: $(PROTO_OBJS)
$(O)/tests/unit/proto_test: UNIT_LIBS := $(call pkg,json-c)

# thaw-init's own unit tests live beside it (tools/guest/guest.mk).

# tools/lib: the vsock transport against a misbehaving VMM and guest; the
# thawvm API client and the process helpers against a fake thawvm.
UNIT_TESTS += $(O)/tests/unit/vsock_client_test $(O)/tests/unit/thawvm_api_test
$(O)/tests/unit/vsock_client_test: $(TOOLS_LIB) $(PROTO_OBJS) $(LIBTHAW)
$(O)/tests/unit/vsock_client_test: UNIT_LIBS := $(call pkg,json-c)
$(O)/tests/unit/thawvm_api_test: $(TOOLS_LIB) $(PROTO_OBJS) $(LIBTHAW)
$(O)/tests/unit/thawvm_api_test: UNIT_LIBS = $(TOOLS_LIB_LIBS)

# thawd's AWS Signature Version 4 verifier, against requests that Debian's
# awscli signed (sigv4_vectors.h, written by sigv4_vectors.py).
UNIT_TESTS += $(O)/tests/unit/sigv4_test
$(O)/tests/unit/sigv4_test: $(O)/tools/thawd/sigv4.o
$(O)/tests/unit/sigv4_test: UNIT_LIBS := $(call pkg,libcrypto)
# thawd's zip images: good and hostile zips unpacked.
UNIT_TESTS += $(O)/tests/unit/thawd_image_test
$(O)/tests/unit/thawd_image_test: $(O)/tools/thawd/image.o \
	$(O)/tools/thawd/catalog.o $(O)/tools/thawd/config.o $(TOOLS_LIB) \
	$(PROTO_OBJS) $(LIBTHAW)
$(O)/tests/unit/thawd_image_test: UNIT_LIBS = $(TOOLS_LIB_LIBS) \
	$(LIBTHAW_LIBS) $(call pkg,libarchive)
# thawd's configuration and function.json parsers, with bad files.
UNIT_TESTS += $(O)/tests/unit/thawd_config_test
$(O)/tests/unit/thawd_config_test: $(O)/tools/thawd/config.o \
	$(O)/tools/thawd/catalog.o $(O)/tools/thawd/image.o $(TOOLS_LIB) \
	$(PROTO_OBJS) $(LIBTHAW)
$(O)/tests/unit/thawd_config_test: UNIT_LIBS = $(TOOLS_LIB_LIBS) \
	$(LIBTHAW_LIBS) $(call pkg,libarchive)
