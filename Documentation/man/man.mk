# SPDX-License-Identifier: GPL-2.0
# The man pages: scdoc sources here, rendered to roff in $(O)/man with the
# tree's version (make man; make install installs them).
MAN_SRC := $(wildcard Documentation/man/*.scd)
MAN_PAGES := $(patsubst Documentation/man/%.scd,$(O)/man/%,$(MAN_SRC))
MAN_SECTIONS := $(sort $(foreach p,$(MAN_PAGES),$(subst .,,$(suffix $(p)))))

.PHONY: man
man: $(MAN_PAGES)

$(O)/man/%: Documentation/man/%.scd VERSION
	$(quiet) SCDOC $@
	$(Q)command -v scdoc >/dev/null || \
		{ echo "scdoc not found: run 'make deps'" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(Q)sed 's/@VERSION@/$(THAW_VERSION)/g' $< | scdoc > $@.tmp && mv $@.tmp $@
