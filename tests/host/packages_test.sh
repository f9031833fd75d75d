#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The Debian packages (make deb, debian/).  On the host: they build with
# the tree's version, lintian finds no error and no warning, each holds
# what it should.  In a throwaway Debian 12 root (tools/pkgroot, made by
# debootstrap; the machine's own system is left alone): they install with
# dpkg -i, DKMS builds thaw.ko for the test machine's kernel, the installed
# programs say the version and man thawctl renders.  In vmtest, in that
# root (tests/host/packages-vm.sh): the DKMS-built module loads with
# modprobe (after DKMS's depmod), udev gives /dev/thaw to the group thaw
# with mode 0660, the install guide's steps (Documentation/admin-guide/
# install-steps.sh: a function image, a snapshot, a Thaw clone invoked)
# run as an ordinary user with the installed programs, every version
# agrees, the module unloads.  Back here the packages remove cleanly
# (dpkg -r, the module gone from DKMS): depmod over vmtest's 9p share of
# the root takes minutes under TCG, natively seconds.
# THAW_PKG_VM=0 leaves out vmtest.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export THAW_CACHE=${THAW_CACHE:-$top/.cache}
v=$(cat VERSION)
kver=$(cat "$THAW_CACHE/kernel/current" 2>/dev/null)
out=build/deb
root=$top/build/pkgtest/root
echo "1..15"
n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
fail() { n=$((n + 1)); echo "not ok $n $*"; }
check() { if eval "$2"; then ok "$1"; else fail "$1"; return 1; fi; }
skip_rest() { while [ "$n" -lt 15 ]; do ok "$1 # SKIP $2"; done; exit 0; }
diag() { sed -e 's/^/# /' -e '$a\'; }

# 1-3: build and lint.
rm -rf "$out"
if ! make -s deb > "$top/build/deb.out" 2>&1; then
	diag < "$top/build/deb.out"
fi
debs=$(cd "$out" 2>/dev/null && ls thaw_*.deb thaw-dkms_*.deb 2>/dev/null | tr '\n' ' ')
check "make deb builds thaw and thaw-dkms $v ($debs)" \
	'[ "$debs" = "thaw-dkms_${v}_all.deb thaw_${v}_amd64.deb " ] &&
	 [ "$(dpkg-deb -f $out/thaw_${v}_amd64.deb Version)" = "$v" ] &&
	 [ "$(dpkg-deb -f $out/thaw-dkms_${v}_all.deb Version)" = "$v" ]' ||
	skip_rest "the packages" "make deb failed"
tags=$(grep -E '^[EW]: ' "$out/lintian.txt")
[ -z "$tags" ] || echo "$tags" | diag
check "lintian on the packages: no error, no warning (overrides: debian/*.lintian-overrides)" \
	'[ -f "$out/lintian.txt" ] && [ -z "$tags" ]'
dkms_conf=$(dpkg-deb --fsys-tarfile "$out/thaw-dkms_${v}_all.deb" |
	tar -xO "./usr/src/thaw-$v/dkms.conf" 2>/dev/null)
files=$(dpkg-deb -c "$out/thaw_${v}_amd64.deb" | awk '{print $6}')
missing=
for f in ./usr/bin/thawvm ./usr/bin/thawctl ./usr/bin/thaw-uffd-handler \
	 ./usr/bin/mkfunc ./usr/libexec/thaw/thaw-init \
	 ./lib/udev/rules.d/60-thaw.rules ./lib/systemd/system/thaw-hold@.service \
	 ./lib/systemd/system/thaw-uffd-handler@.service \
	 ./usr/share/man/man1/thawctl.1.gz ./usr/share/man/man4/thaw.4.gz \
	 ./usr/include/thaw/linux/thaw.h ./usr/share/pkgconfig/thaw.pc \
	 ./etc/modprobe.d/thaw.conf; do
	echo "$files" | grep -qxF "$f" || missing+=" $f"
done
check "thaw-dkms: dkms.conf (thaw $v, AUTOINSTALL); thaw: programs, man pages, udev rule, units${missing:+ (missing:$missing)}" \
	'echo "$dkms_conf" | grep -qx "PACKAGE_VERSION=\"$v\"" &&
	 echo "$dkms_conf" | grep -qx "AUTOINSTALL=\"yes\"" && [ -z "$missing" ]'

# 4-7: the throwaway root.
[ "$(id -u)" = 0 ] || skip_rest "the packages in a Debian root" "needs root (chroot)"
command -v debootstrap >/dev/null ||
	skip_rest "the packages in a Debian root" "debootstrap missing: run make deps"
[ -n "$kver" ] || skip_rest "the packages in a Debian root" "no kernel cache: run make deps"
# What the packages need from Debian is there before dpkg -i, as apt-get
# would fetch it: their Depends, DKMS and the kernel headers, udev, and
# what the guide's steps use (busybox for the echo sample, man).
needs=$(dpkg-deb -f "$out/thaw_${v}_amd64.deb" Depends |
	tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | sort -u)
# shellcheck disable=SC2086
if ! tools/pkgroot "$root" $needs dkms "linux-headers-$kver" udev \
	busybox-static man-db binutils > build/pkgroot.out 2>&1; then
	diag < build/pkgroot.out
	fail "a Debian 12 root with debootstrap"
	skip_rest "the packages in a Debian root" "no root"
fi
ok "a Debian 12 root with debootstrap and the packages' dependencies ($(du -sm "$root" | cut -f1) MiB)"
# DKMS needs /proc and /dev/fd: a proc of the root's own while this test
# runs, and /dev/fd as a link in the root's /dev (never the host's /dev).
for f in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 \
	 stderr:/proc/self/fd/2; do
	[ -e "$root/dev/${f%%:*}" ] || ln -s "${f#*:}" "$root/dev/${f%%:*}"
done
# The root (about 1 GiB) goes at the end, unless something is still
# mounted in it: rm -rf must never go through a mount.
cleanup() {
	umount "$root/proc" 2>/dev/null
	grep -q " $root/" /proc/mounts || rm -rf --one-file-system "$root"
}
trap cleanup EXIT
mount -t proc proc "$root/proc" || skip_rest "the packages in a Debian root" "cannot mount proc"

cp "$out/thaw_${v}_amd64.deb" "$out/thaw-dkms_${v}_all.deb" "$root/root/"
# The test machine's kernel, as its linux-image package would lay it out:
# the image the guide boots in /boot, the modules mkfunc packs and DKMS's
# depmod indexes beside thaw.ko.
kimage=$THAW_CACHE/kernel/$kver/root
cp "$kimage/boot/vmlinuz-$kver" "$root/boot/"
mkdir -p "$root/lib/modules/$kver"
cp -a "$kimage/lib/modules/$kver/kernel" "$kimage/lib/modules/$kver"/modules.builtin* \
	"$kimage/lib/modules/$kver/modules.order" "$root/lib/modules/$kver/"
# A guide step in the root: the lines of install-steps.sh from "# step:
# NAME" to the next step, with the guide's variables.
steps=Documentation/admin-guide/install-steps.sh
step() { awk -v s="# step: $1" '$0 == s { on = 1; next } /^# step: / { on = 0 } on' "$steps"; }
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root \
	ver="$v" kver="$kver" user=tester "$@"; }
in_root bash -ec "cd /root; $(step install)" > build/pkginstall.out 2>&1
rc=$?
diag < build/pkginstall.out
ko=/lib/modules/$kver/updates/dkms/thaw.ko
# DKMS builds for the running kernel and the newest installed one; here the
# root's only kernel is the test machine's (its headers).
if ! grep -q "^thaw/$v, $kver, .*: installed" build/pkginstall.out; then
	in_root dkms autoinstall -k "$kver" 2>&1 | diag
fi
check "dpkg -i thaw-dkms thaw (rc $rc): DKMS builds thaw.ko $v for $kver, depmod indexes it" \
	'[ $rc = 0 ] && in_root dkms status thaw 2>/dev/null | grep -q "^thaw/$v, $kver, .*: installed" &&
	 grep -q "^updates/dkms/thaw.ko:" "$root/lib/modules/$kver/modules.dep" &&
	 grep -q "^kernel/.*/vsock.ko:" "$root/lib/modules/$kver/modules.dep" &&
	 [ "$(modinfo -F version "$root$ko")" = "$v" ] &&
	 [ "$(modinfo -F vermagic "$root$ko" | cut -d" " -f1)" = "$kver" ]'
check "the group and user thaw exist; the udev rule is in /lib/udev/rules.d" \
	'in_root getent group thaw >/dev/null && in_root getent passwd thaw >/dev/null &&
	 grep -q "GROUP=\"thaw\", MODE=\"0660\"" "$root/lib/udev/rules.d/60-thaw.rules"'
vers=$(in_root sh -c 'thawctl --version; thawvm --version; thaw-uffd-handler --version; mkfunc --version' 2>&1)
page=$(in_root sh -c 'MANWIDTH=80 man thawctl 2>&1' | head -n 20)
echo "$vers" | diag
check "installed: thawctl, thawvm, thaw-uffd-handler, mkfunc --version say $v; man thawctl renders" \
	'[ "$(echo "$vers" | grep -c " $v$")" = 4 ] && echo "$page" | grep -q "^NAME" &&
	 echo "$page" | grep -q "thawctl - snapshot, restore and invoke"' || echo "$page" | diag

# 8-14: in vmtest; 15: dpkg -r, here.
remove_here() {
	in_root bash -ec "$(step remove | grep -v '^modprobe')" 2>&1 | diag
	check "dpkg -r thaw thaw-dkms: removed, and thaw.ko gone from DKMS" \
		'[ -z "$(in_root dkms status thaw 2>&1)" ] && [ ! -e "$root$ko" ] &&
		 [ ! -e "$root/usr/bin/thawctl" ] && [ ! -d "$root/usr/src/thaw-$v" ] &&
		 ! grep -q thaw.ko "$root/lib/modules/$kver/modules.dep"'
}
if [ "${THAW_PKG_VM:-1}" = 0 ]; then
	while [ "$n" -lt 14 ]; do ok "in vmtest # SKIP THAW_PKG_VM=0"; done
	remove_here
	exit 0
fi
first=$((n + 1))
umount "$root/proc"
tools/vmtest/run --no-kmod --timeout 900 --mem 3072 -- \
	bash tests/host/packages-vm.sh build/pkgtest/root "$first" "$v" \
	> build/pkgvm.out 2>&1
rc=$?
# The machine's TAP lines are this test's next ones; the rest is diagnostics.
while IFS= read -r l; do
	case "$l" in
	"ok "*|"not ok "*) echo "$l"; n=$((n + 1)) ;;
	*) echo "# $l" ;;
	esac
done < <(tr -d '\r' < build/pkgvm.out | grep -v '^\s*$' | tail -n 300)
while [ "$n" -lt 14 ]; do fail "in vmtest: not reached (vmtest status $rc)"; done
mount -t proc proc "$root/proc"
remove_here
exit 0
