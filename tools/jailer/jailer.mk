# SPDX-License-Identifier: GPL-2.0
# thaw-jailer: puts thawvm in a jail (chroot, namespaces, cgroup, rlimits,
# no privileges) and execs it; plain libc.
JAILER_OBJS := $(addprefix $(O)/tools/jailer/,main.o options.o fs.o \
	cgroup.o)
PROGS += $(O)/bin/thaw-jailer

$(O)/bin/thaw-jailer: $(JAILER_OBJS)
	$(call link,)
