# SPDX-License-Identifier: GPL-2.0
# Benches: programs that print a table (tools/bench/; run them in vmtest).
PROGS += $(O)/bin/bench-thaw-mem $(O)/bin/bench-memfile $(O)/bin/bench-uffd \
	$(O)/bin/bench-firstresp

$(O)/bin/bench-thaw-mem: $(O)/tools/bench/thaw-mem.o $(LIBTHAW)
	$(call link,)

$(O)/bin/bench-memfile: $(O)/tools/bench/memfile.o $(LIBTHAW)
	$(call link,$(LIBTHAW_LIBS))

$(O)/bin/bench-uffd: $(O)/tools/bench/uffd.o $(LIBTHAW) \
		| $(O)/bin/thaw-uffd-handler
	$(call link,$(LIBTHAW_LIBS))

# The restore bench's driver: N VMs from go to first response, thawvm or
# QEMU (tools/bench/restore runs it and makes the table and the plot).
$(O)/bin/bench-firstresp: $(O)/tools/bench/firstresp.o \
		$(O)/tools/bench/qmp.o $(TOOLS_LIB) $(PROTO_OBJS) $(LIBTHAW)
	$(call link,$(TOOLS_LIB_LIBS) $(NLGENL_LIBS) $(LIBTHAW_LIBS))

# Per 2 MiB region of guest RAM: what a clone touched and wrote
# (tools/bench/regions runs it).
PROGS += $(O)/bin/bench-regions
$(O)/bin/bench-regions: $(O)/tools/bench/regions.o $(LIBTHAW)
	$(call link,$(LIBTHAW_LIBS))
