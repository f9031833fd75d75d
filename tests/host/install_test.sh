#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make install and make install-dkms (dist/dist.mk): the tree they lay out
# under DESTDIR, listed file by file; the man pages render without a warning
# and name every option the programs take, and no other; the udev rule and
# the pkg-config file say what the manual says; the DKMS source builds
# thaw.ko with the tree's version.  The packages: packages_test.sh.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..7"
v=$(cat VERSION)
d=$tmp/root

if ! out=$(make -s install DESTDIR="$d" PREFIX=/usr LIBEXECDIR=/usr/libexec 2>&1); then
	echo "$out" | sed 's/^/# /'
	echo "Bail out! make install failed"
	exit 1
fi

# 1. Every file, where Debian's packages and the man pages say it is.
expected="/etc/modprobe.d/thaw.conf
/etc/thawd/thawd.json
/usr/bin/mkfunc
/usr/bin/thaw-jailer
/usr/bin/thaw-uffd-handler
/usr/bin/thawctl
/usr/bin/thawd
/usr/bin/thawvm
/usr/include/thaw/linux/thaw.h
/usr/lib/systemd/system/thaw-hold@.service
/usr/lib/systemd/system/thaw-uffd-handler@.service
/usr/lib/systemd/system/thawd.service
/usr/lib/sysusers.d/thaw.conf
/usr/lib/udev/rules.d/60-thaw.rules
/usr/libexec/thaw/thaw-init
/usr/share/doc/thaw/README.md
$(cd Documentation && ls admin-guide/*.rst | sed 's|^|/usr/share/doc/thaw/|')
/usr/share/doc/thaw/examples/echo/bootstrap
/usr/share/man/man1/mkfunc.1
/usr/share/man/man1/thaw-jailer.1
/usr/share/man/man1/thaw-uffd-handler.1
/usr/share/man/man1/thawctl.1
/usr/share/man/man1/thawvm.1
/usr/share/man/man4/thaw.4
/usr/share/man/man8/thaw-init.8
/usr/share/man/man8/thawd.8
/usr/share/pkgconfig/thaw.pc"
got=$(cd "$d" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort)
expected=$(echo "$expected" | LC_ALL=C sort)
if [ "$got" = "$expected" ]; then
	echo "$got" | sed 's/^/# /'
	echo "ok 1 make install DESTDIR PREFIX=/usr lays out the expected tree"
else
	diff <(echo "$expected") <(echo "$got") | sed 's/^/# /'
	echo "not ok 1 make install DESTDIR PREFIX=/usr lays out the expected tree"
fi

# 2. Modes, and the installed copies know the installed paths and version.
bad=
for f in usr/bin/{mkfunc,thawctl,thawd,thawvm,thaw-uffd-handler,thaw-jailer} \
	 usr/libexec/thaw/thaw-init usr/share/doc/thaw/examples/echo/bootstrap; do
	[ "$(stat -c %a "$d/$f")" = 755 ] || bad+=" $f:$(stat -c %a "$d/$f")"
done
for f in etc/modprobe.d/thaw.conf usr/include/thaw/linux/thaw.h \
	 usr/lib/udev/rules.d/60-thaw.rules usr/share/man/man1/thawctl.1; do
	[ "$(stat -c %a "$d/$f")" = 644 ] || bad+=" $f:$(stat -c %a "$d/$f")"
done
grep -qx 'libexecdir=/usr/libexec/thaw' "$d/usr/bin/mkfunc" || bad+=" mkfunc:libexecdir"
[ "$("$d/usr/bin/mkfunc" --version)" = "mkfunc $v" ] || bad+=" mkfunc:--version"
[ "$("$d/usr/bin/thawctl" --version)" = "thawctl $v" ] || bad+=" thawctl:--version"
grep -q '^ExecStart=/usr/bin/thawctl hold %f$' \
	"$d/usr/lib/systemd/system/thaw-hold@.service" || bad+=" thaw-hold@:ExecStart"
subst=$(grep -rIlE '@(PREFIX|BINDIR|INCLUDEDIR|VERSION)@' "$d")
[ -z "$subst" ] || bad+=" unsubstituted:$(echo $subst)"
if [ -z "$bad" ]; then
	echo "ok 2 modes, and the installed mkfunc, units and versions know the installed paths"
else
	echo "not ok 2 installed files:$bad"
fi

# 3. The man pages render, through man itself, with no groff warning.
bad=
for p in "$d"/usr/share/man/man*/*; do
	err=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 >"$tmp/page")
	n=$(basename "$p")
	if [ -n "$err" ] || ! grep -q "^NAME" "$tmp/page"; then
		echo "$err" | sed "s|^|# $n: |"
		bad+=" $n"
	fi
	grep -q "thaw $v" "$tmp/page" || bad+=" $n:version"
done
if [ -z "$bad" ]; then
	echo "ok 3 man -l renders every page (NAME, the version, no warning)"
else
	echo "not ok 3 man pages that do not render cleanly:$bad"
fi

# 4. The man pages name every option the programs' --help name, and no
# option a program does not take.
opts() { grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' | sed 's/^[^-]*//' | sort -u; }
bad=
# FOREIGN: other programs' options that the page cites (mkfunc's in
# thawctl's example, thawctl's in the handler's, modprobe's in mkfunc's).
check_page() { # PAGE HELPTEXT [FOREIGN...]
	local page=$1 help=$2 m h
	shift 2
	m=$(MANWIDTH=200 man -l "$d/usr/share/man/$page" 2>/dev/null | opts |
		grep -vxF -- "$(printf '%s\n' "$@" --none)")
	h=$(echo "$help" | opts)
	for o in $(comm -13 <(echo "$m") <(echo "$h")); do bad+=" $page:lacks:$o"; done
	for o in $(comm -23 <(echo "$m") <(echo "$h")); do bad+=" $page:extra:$o"; done
}
help=$(build/bin/thawvm --help 2>&1; echo --help --version)
check_page man1/thawvm.1 "$help"
help=$(for c in snapshot restore invoke wait-ready probe hold stats drop-cache api merge-diff; do
	build/bin/thawctl "$c" --help 2>&1; done; echo --help --version)
check_page man1/thawctl.1 "$help" --busybox
help=$(build/bin/thaw-uffd-handler --help 2>&1; echo --version)
check_page man1/thaw-uffd-handler.1 "$help" --backend --uffd-sock
help=$(build/bin/thaw-jailer --help 2>&1; echo --help --version)
check_page man1/thaw-jailer.1 "$help" --api-sock --start-time-us --start-time-cpu-us \
	--unix-socket
help=$(tools/guest/mkfunc --help 2>&1; echo --version)
check_page man1/mkfunc.1 "$help" --show-depends
help=$(build/bin/thaw-init --help 2>&1; echo --version)
check_page man8/thaw-init.8 "$help"
help=$(build/bin/thawd --help 2>&1; build/bin/thawd function --help 2>&1; echo --version)
check_page man8/thawd.8 "$help" --endpoint-url --function-name --cli-binary-format
params=$(modinfo -F parm kmod/thaw.ko 2>/dev/null | cut -d: -f1 | sort)
if [ -n "$params" ]; then
	for p in $params; do
		MANWIDTH=200 man -l "$d/usr/share/man/man4/thaw.4" 2>/dev/null |
			grep -qw "$p" || bad+=" thaw.4:lacks:$p"
	done
fi
if [ -z "$bad" ]; then
	echo "ok 4 the man pages name the programs' options and thaw.ko's parameters${params:+ (}$(echo $params)${params:+)}"
else
	echo "not ok 4 man pages and programs disagree:$bad"
fi

# 5. /dev/thaw for the group thaw, mode 0660; sysusers makes the group.
rule=$d/usr/lib/udev/rules.d/60-thaw.rules
if grep -qE '^KERNEL=="thaw", SUBSYSTEM=="misc", GROUP="thaw", MODE="0660"$' "$rule" &&
   grep -qE '^g thaw ' "$d/usr/lib/sysusers.d/thaw.conf"; then
	echo "ok 5 the udev rule gives /dev/thaw to the group thaw, mode 0660"
else
	echo "not ok 5 the udev rule gives /dev/thaw to the group thaw, mode 0660"
fi

# 6. pkg-config finds the header a program includes as <linux/thaw.h>.
pc() { PKG_CONFIG_PATH=$d/usr/share/pkgconfig PKG_CONFIG_SYSROOT_DIR=$d \
	pkg-config "$@" thaw 2>&1; }
printf '#include <linux/thaw.h>\nint main(void) { return THAW_API_VERSION == 0; }\n' > "$tmp/t.c"
# shellcheck disable=SC2046
if [ "$(pc --modversion)" = "$v" ] &&
   gcc -c -o "$tmp/t.o" "$tmp/t.c" $(pc --cflags) 2>"$tmp/cc"; then
	echo "ok 6 pkg-config thaw: version $v, and <linux/thaw.h> compiles with its cflags"
else
	sed 's/^/# /' "$tmp/cc"; echo "# pkg-config: $(pc --modversion --cflags)"
	echo "not ok 6 pkg-config thaw: version $v, and <linux/thaw.h> compiles with its cflags"
fi

# 7. The DKMS source: dkms.conf as DKMS reads it, and Kbuild builds thaw.ko
# from it alone with the tree's version.
s=$tmp/src/usr/src/thaw-$v
kver=$(cat "${THAW_CACHE:-$top/.cache}/kernel/current" 2>/dev/null)
kdir=/usr/src/linux-headers-$kver
if ! out=$(make -s install-dkms DESTDIR="$tmp/src" 2>&1); then
	echo "$out" | sed 's/^/# /'
	echo "not ok 7 make install-dkms"
elif ! grep -qx "PACKAGE_VERSION=\"$v\"" "$s/dkms.conf" ||
     ! grep -qx 'AUTOINSTALL="yes"' "$s/dkms.conf"; then
	echo "not ok 7 dkms.conf: PACKAGE_VERSION=\"$v\", AUTOINSTALL=\"yes\""
elif [ -z "$kver" ] || [ ! -d "$kdir" ]; then
	echo "ok 7 the DKMS source # SKIP no kernel headers: run make deps"
elif out=$(make -s -C "$kdir" M="$s" modules 2>&1) &&
     [ "$(modinfo -F version "$s/kmod/thaw.ko")" = "$v" ]; then
	echo "ok 7 make install-dkms: dkms.conf (AUTOINSTALL) and a source that builds thaw.ko $v for $kver"
else
	echo "$out" | tail -n 20 | sed 's/^/# /'
	echo "not ok 7 the DKMS source builds thaw.ko $v for $kver"
fi
