# SPDX-License-Identifier: GPL-2.0
# thawvm and the objects its unit tests share with it.
VMM_LIB_OBJS := $(O)/vmm/crc32c.o
