# SPDX-License-Identifier: GPL-2.0
#
# make            userspace programs (build/) and kmod/thaw.ko
# make deps       install the Debian packages and fill the kernel cache
# make check      every test: unit (ASan/UBSan), host, selftests in vmtest
# make demo       the main job, end to end, in vmtest (tools/demo)
# make docs       the manual (Documentation/) as HTML into build/docs/html
# make kmod       only the module;  make -C $(KDIR) M=$(PWD) works too
# make SAN=1      the ASan+UBSan variant, into build/san
# make V=1        show the commands;  WERROR=0 lets warnings pass
#
# The kernel side is built by Kbuild (see ./Kbuild); this file is only read
# by make itself.

THAW_CACHE ?= $(CURDIR)/.cache
export THAW_CACHE

# The stock Debian kernel vmtest boots and thaw.ko is checked against.
KVER ?= $(shell cat $(THAW_CACHE)/kernel/current 2>/dev/null)
# The running kernel's build dir when there is one, else the Debian headers
# of the vmtest kernel, else the newest installed Debian headers.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(if $(KVER),$(wildcard /usr/src/linux-headers-$(KVER))) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))
# The headers matching the vmtest kernel: what 'make check' builds against.
VMTEST_KDIR = /usr/src/linux-headers-$(KVER)

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-7s %s\n'
endif

SAN ?= 0
WERROR ?= 1
ifeq ($(SAN),1)
O ?= build/san
else
O ?= build
endif

CC ?= gcc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wundef \
	-Wshadow -Wformat=2 -Wpointer-arith -Wno-unused-parameter \
	-Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I$(CURDIR)/uapi -I$(CURDIR) \
	-fno-strict-aliasing -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	-MMD -MP
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
BASE_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(BASE_CFLAGS))
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(WARNINGS) $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

pkg = $(shell pkg-config --cflags --libs $(1) 2>/dev/null)

LINUX_SRC = $(THAW_CACHE)/linux-source/current

.DEFAULT_GOAL := all

# Link the program $@ from the objects and archives among its
# prerequisites; $(1): the libraries they need.
define link
	$(quiet) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(1)
endef

# Each part of the tree adds its programs to these lists in its own .mk file.
PROGS :=
UNIT_TESTS :=
SELFTESTS :=

# Each folder has its build rules; what a folder's code needs from
# another folder comes in through that folder's variables, so the order
# below is the order of dependence.
include lib/lib.mk
include proto/proto.mk
include tools/lib/lib.mk
include vmm/vmm.mk
include tools/thawctl/thawctl.mk
include tools/guest/guest.mk
include tools/uffd-handler/uffd-handler.mk
include tools/bench/bench.mk
include tests/unit/unit.mk
include selftests/selftests.mk

.PHONY: all kmod deps check demo unit selftests clean checkpatch
all: $(PROGS) $(SELFTESTS) kmod

$(O)/%.o: %.c
	$(quiet) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(CFLAGS_$(notdir $*)) -c -o $@ $<

kmod:
ifeq ($(KDIR),)
	@echo "no kernel headers found: run 'make deps' or set KDIR" >&2; exit 1
else
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(filter 1,$(V)),V=1) modules
endif

unit: $(UNIT_TESTS)
selftests: $(SELFTESTS)

deps:
	$(Q)tools/deps

check:
	$(Q)tools/check

demo:
	$(Q)tools/demo

checkpatch:
	$(Q)tests/host/checkpatch_test.sh

# Warnings, references to nothing (-n) included, are errors.  Sphinx
# re-reads only the pages that changed, so it would not report again what an
# unchanged page got wrong: a failed build drops its cache, and the next one
# reads every page.
DOCS_O ?= build/docs
.PHONY: docs
docs:
	$(quiet) DOCS $(DOCS_O)/html
	$(Q)command -v sphinx-build >/dev/null || \
		{ echo "sphinx-build not found: run 'make deps'" >&2; exit 1; }
	$(Q)sphinx-build -b html -n -W --keep-going -q -d $(DOCS_O)/doctrees \
		Documentation $(DOCS_O)/html || \
		{ rm -rf $(DOCS_O)/doctrees; exit 1; }

clean:
	$(Q)rm -rf build
	$(Q)if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean >/dev/null; fi

-include $(shell find $(O) -name '*.d' 2>/dev/null)
