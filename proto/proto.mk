# SPDX-License-Identifier: GPL-2.0
# proto/: the host<->guest invocation protocol, linked by thaw-init (the
# guest) and by thawctl and the benches (the host).
PROTO_OBJS := $(O)/proto/proto.o
