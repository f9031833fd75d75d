# SPDX-License-Identifier: GPL-2.0
# make install: what a host needs to run thaw, laid out under DESTDIR with
# the usual directory variables (PREFIX /usr/local by default); make
# install-dkms: thaw.ko's source as DKMS wants it in /usr/src.  The Debian
# packages (debian/, make deb) are made of the same two.
#
# Files that only work where their tools look stay put whatever PREFIX
# says: modprobe reads /etc/modprobe.d, not PREFIX/etc.  Debian 12 keeps
# udev rules and units in /lib: debian/rules sets UDEVDIR and
# SYSTEMDUNITDIR.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/thaw
PKGCONFIGDIR ?= $(DATADIR)/pkgconfig
UDEVDIR ?= $(PREFIX)/lib/udev
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MODPROBEDIR ?= /etc/modprobe.d
DKMSDIR ?= /usr/src

# Programs for BINDIR, and thaw-init, which only runs inside a function VM,
# for LIBEXECDIR/thaw (mkfunc packs it).  The benches stay in the tree.
INSTALL_BIN := $(addprefix $(O)/bin/,thawvm thawctl thawd thaw-uffd-handler \
	thaw-jailer)
INSTALL_LIBEXEC := $(O)/bin/thaw-init
# The services: one object holder and one Uffd handler per snapshot, and
# the worker agent (its configuration in /etc/thawd, like modprobe's in
# /etc whatever PREFIX says).
SYSTEMD_UNITS := thaw-hold@.service thaw-uffd-handler@.service thawd.service
THAWD_CONFDIR ?= /etc/thawd
# thaw.ko's DKMS source: what Kbuild reads, and dkms.conf.
DKMS_SRC := Kbuild VERSION kmod/Kbuild uapi/linux/thaw.h \
	$(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h)

INSTALL ?= install
# The installed copies of the tree's scripts and templates know the
# installed paths and the version.
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(THAW_VERSION)|g'

.PHONY: programs install install-dkms deb
programs: $(INSTALL_BIN) $(INSTALL_LIBEXEC)

install: programs man
	$(quiet) INSTALL $(DESTDIR)$(PREFIX)
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/thaw \
		$(DESTDIR)$(INCLUDEDIR)/thaw/linux $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(DOCDIR)/examples/echo $(DESTDIR)$(DOCDIR)/admin-guide \
		$(DESTDIR)$(UDEVDIR)/rules.d \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(MODPROBEDIR) $(DESTDIR)$(THAWD_CONFDIR) \
		$(addprefix $(DESTDIR)$(MANDIR)/man,$(sort $(MAN_SECTIONS)))
	$(Q)$(INSTALL) -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/
	$(Q)sed -e 's|^libexecdir=$$|libexecdir=$(LIBEXECDIR)/thaw|' \
		-e 's|^version=$$|version=$(THAW_VERSION)|' tools/guest/mkfunc \
		> $(DESTDIR)$(BINDIR)/mkfunc
	$(Q)chmod 0755 $(DESTDIR)$(BINDIR)/mkfunc
	$(Q)$(INSTALL) -m 0755 $(INSTALL_LIBEXEC) $(DESTDIR)$(LIBEXECDIR)/thaw/
	$(Q)$(INSTALL) -m 0644 uapi/linux/thaw.h $(DESTDIR)$(INCLUDEDIR)/thaw/linux/
	$(Q)$(SUBST) dist/thaw.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/thaw.pc
	$(Q)for p in $(MAN_PAGES); do \
		s=$${p##*.}; \
		$(INSTALL) -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/ || exit; \
	done
	$(Q)$(INSTALL) -m 0644 dist/udev/60-thaw.rules $(DESTDIR)$(UDEVDIR)/rules.d/
	$(Q)for u in $(SYSTEMD_UNITS); do \
		$(SUBST) dist/systemd/$$u.in > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit; \
	done
	$(Q)$(INSTALL) -m 0644 dist/sysusers.d/thaw.conf $(DESTDIR)$(SYSUSERSDIR)/
	$(Q)$(INSTALL) -m 0644 dist/modprobe.d/thaw.conf $(DESTDIR)$(MODPROBEDIR)/
	$(Q)$(INSTALL) -m 0644 dist/thawd.json $(DESTDIR)$(THAWD_CONFDIR)/
	$(Q)$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	$(Q)$(INSTALL) -m 0644 Documentation/admin-guide/*.rst \
		$(DESTDIR)$(DOCDIR)/admin-guide/
	$(Q)$(INSTALL) -m 0755 tools/guest/samples/echo/bootstrap \
		$(DESTDIR)$(DOCDIR)/examples/echo/

# thaw.ko's source for DKMS in DKMSDIR/thaw-VERSION; then, as root,
# 'dkms install thaw/VERSION' builds and installs it for the running kernel
# and AUTOINSTALL rebuilds it at each kernel upgrade.
install-dkms:
	$(quiet) INSTALL $(DESTDIR)$(DKMSDIR)/thaw-$(THAW_VERSION)
	$(Q)d=$(DESTDIR)$(DKMSDIR)/thaw-$(THAW_VERSION); \
	$(INSTALL) -d $$d/kmod $$d/uapi/linux && \
	for f in $(DKMS_SRC); do $(INSTALL) -m 0644 $$f $$d/$$f || exit; done && \
	sed 's/#MODULE_VERSION#/$(THAW_VERSION)/' dkms.conf > $$d/dkms.conf

# The Debian packages thaw and thaw-dkms, built by dpkg-buildpackage from a
# copy of the tree in build/deb, then checked by lintian (dist/mkdeb).
deb:
	$(Q)dist/mkdeb
