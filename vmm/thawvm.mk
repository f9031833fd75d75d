# SPDX-License-Identifier: GPL-2.0
# thawvm: main, the API and the config parser, over the machine's
# $(VMM_OBJS) from vmm/vmm.mk.
THAWVM_OBJS := $(O)/vmm/main.o $(O)/vmm/api.o $(O)/vmm/config.o \
	$(VMM_OBJS)
PROGS += $(O)/bin/thawvm

$(O)/bin/thawvm: $(THAWVM_OBJS)
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(VMM_LIBS) $(LIBTHAW_LIBS) \
		$(call pkg,json-c libmicrohttpd) -lpthread
