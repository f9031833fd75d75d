# SPDX-License-Identifier: GPL-2.0
# Userspace tools: thawctl, the guest init, benches.

# thawctl stats: thaw.ko's counters through the "thaw" generic netlink
# family, with libnl-genl-3.  The thawctl binary links THAWCTL_STATS_OBJS and
# NLGENL_LIBS; the netlink selftests link them too.
NLGENL_LIBS := $(call pkg,libnl-genl-3.0)
CFLAGS_stats := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
THAWCTL_STATS_OBJS := $(O)/tools/thawctl/stats.o

# Benches: programs that print a table (tools/bench/, run them in vmtest).
PROGS += $(O)/bin/bench-thaw-mem

$(O)/bin/bench-thaw-mem: $(O)/tools/bench/thaw-mem.o
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

JSONC_LIBS := $(call pkg,json-c)

# thaw-init: PID 1 of a function VM, static so that an initramfs needs
# nothing else.  libevent (core + extra for evhttp) rather than
# libmicrohttpd: Debian's libmicrohttpd.a needs libgnutls.a, which needs
# libp11-kit, shipped only as a shared library, so it cannot link statically.
# The sanitizer build cannot be static; it links dynamically.
THAW_INIT_OBJS := $(addprefix $(O)/tools/guest/,main.o system.o runtime.o \
	runtime_api.o bridge.o config.o lambda.o) $(PROTO_OBJS)
THAW_INIT_STATIC := $(if $(filter 1,$(SAN)),,-static)
PROGS += $(O)/bin/thaw-init

$(O)/bin/thaw-init: $(THAW_INIT_OBJS)
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(THAW_INIT_STATIC) -o $@ $^ \
		-levent_extra -levent_core -ljson-c

# What drives thawvm: the API client (libcurl), starting and loading
# clones, one invocation.  thawctl and the restore bench link them.
CURL_LIBS := $(or $(call pkg,libcurl),-lcurl)
THAWCTL_VM_OBJS := $(addprefix $(O)/tools/thawctl/,vmapi.o vmproc.o \
	clone.o invoke.o vsock.o util.o vmstat.o) $(PROTO_OBJS)
THAWCTL_VM_LIBS = $(CURL_LIBS) $(JSONC_LIBS)

# thawctl: the command-line client.  merge-diff uses the snapshot files'
# code (lib/memfile.c).
THAWCTL_OBJS := $(addprefix $(O)/tools/thawctl/,main.o ready.o probe.o \
	snapshot.o restore.o merge.o api.o hold.o) $(THAWCTL_VM_OBJS) \
	$(THAWCTL_STATS_OBJS) $(LIBTHAW)
PROGS += $(O)/bin/thawctl

$(O)/bin/thawctl: $(THAWCTL_OBJS)
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(THAWCTL_VM_LIBS) $(NLGENL_LIBS) \
		$(SNAP_LIBS)

# The restore bench's driver: N VMs from go to first response, thawvm or
# QEMU (tools/bench/restore runs it and makes the table and the plot).
PROGS += $(O)/bin/bench-firstresp
$(O)/bin/bench-firstresp: $(O)/tools/bench/firstresp.o $(O)/tools/bench/qmp.o \
		$(THAWCTL_VM_OBJS) $(LIBTHAW)
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(THAWCTL_VM_LIBS) $(LIBTHAW_LIBS)
