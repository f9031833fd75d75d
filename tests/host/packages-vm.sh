#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The vmtest half of tests/host/packages_test.sh: in the Debian root ROOT
# where the packages were installed with dpkg -i, DKMS built thaw.ko and
# depmod indexed it beside the stock kernel's modules, with udev running
# as on a host, run the install guide's steps: modprobe thaw, /dev/thaw's
# group and mode, a function image, a snapshot and a Thaw clone invoked as
# an ordinary user in the groups kvm and thaw, the versions, modprobe -r.
# Prints TAP lines numbered from FIRST.  Runs as root inside tools/vmtest
# (--no-kmod: the module is the root's, not the tree's).
set -uo pipefail
[ $# = 3 ] || { echo "usage: packages-vm.sh ROOT FIRST VERSION" >&2; exit 2; }
root=$(cd "$1" && pwd)
n=$(($2 - 1))
v=$3
kver=$(uname -r)
steps=$PWD/Documentation/admin-guide/install-steps.sh
ok() { n=$((n + 1)); echo "ok $n $*"; }
fail() { n=$((n + 1)); echo "not ok $n $*"; }
check() { if eval "$2"; then ok "$1"; else fail "$1"; return 1; fi; }
diag() { sed -e 's/^/# /' -e '$a\'; }
step() { awk -v s="# step: $1" '$0 == s { on = 1; next } /^# step: / { on = 0 } on' "$steps"; }
# udevadm does nothing in a chroot unless told to.
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive SYSTEMD_IGNORE_CHROOT=1 LC_ALL=C.UTF-8 HOME=/root ver="$v" kver="$kver" user=tester "$@"; }
# As the user the guide's user step made, in its home, with the memlock
# limit its limits.d line gives at a login (pam_limits; not in a chroot).
as_user() { chroot "$root" prlimit --memlock=4294967296 \
	setpriv --reuid=tester --regid=tester --init-groups \
	env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 HOME=/home/tester ver="$v" \
	kver="$kver" bash -ec "cd /home/tester; $1"; }

cleanup() {
	[ -n "${udevd:-}" ] && in_root udevadm control --exit 2>/dev/null
	for m in home/tester tmp run dev sys proc; do
		umount -R "$root/$m" 2>/dev/null
	done
}
trap cleanup EXIT

# A real host's view: proc, sys, dev, a tmpfs /run and /tmp.
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"

# udev, as on a host: the rules of the root's udev and of the thaw package.
in_root /lib/systemd/systemd-udevd --daemon 2>&1 | diag
udevd=1
in_root udevadm trigger --action=add --subsystem-match=misc 2>&1 | diag
in_root udevadm settle --timeout=60

# 8. The guide's check step (the test machine's CPU has svm or vmx, and
# kvm is loaded), then its load step.
hw=$(in_root bash -ec "$(step check)" 2>&1)
hwrc=$?
echo "$hw" | diag
# A parameter set as thaw(4) says, in /etc/modprobe.d/thaw.conf.
echo "options thaw max_snapshots=4000" >> "$root/etc/modprobe.d/thaw.conf"
t0=$(date +%s)
out=$(in_root bash -ec "$(step load)" 2>&1)
rc=$?
in_root udevadm settle --timeout=60
echo "$out" | diag
check "the guide's check finds $(echo "$hw" | head -n 1) and /dev/kvm; modprobe thaw loads the DKMS-built thaw.ko with modprobe.d's max_snapshots (rc $hwrc $rc, $(($(date +%s) - t0)) s)" \
	'[ $hwrc = 0 ] && [ $rc = 0 ] && grep -q "^thaw " /proc/modules &&
	 [ "$(cat /sys/module/thaw/version)" = "$v" ] &&
	 [ "$(cat /sys/module/thaw/parameters/max_snapshots)" = 4000 ] &&
	 in_root modinfo -n thaw | grep -q "/updates/dkms/thaw.ko"' ||
	in_root modinfo -n thaw 2>&1 | diag

# 9. udev gave /dev/thaw to the group thaw, mode 0660.
st=$(in_root stat -c '%U %G %a' /dev/thaw 2>&1)
check "udev: /dev/thaw is $st (root thaw 660)" '[ "$st" = "root thaw 660" ]'

# 10. The guide's user step, then its function step as that user.
in_root useradd -m -s /bin/bash tester 2>&1 | diag
mount -t tmpfs -o mode=0755 tmpfs "$root/home/tester"
in_root chown tester: /home/tester
out=$(in_root bash -ec "$(step user)" 2>&1)
rc=$?
echo "$out" | diag
echo "# /dev/kvm: $(in_root stat -c '%U %G %a' /dev/kvm)"
out=$(as_user "$(step function)" 2>&1)
rc2=$?
echo "$out" | diag
check "as a user in kvm and thaw: mkfunc makes the echo image from the stock kernel's modules (rc $rc $rc2)" \
	'[ $rc = 0 ] && [ $rc2 = 0 ] && [ -s "$root/home/tester/echo.cpio.gz" ]'

# 11-12. The guide's snapshot and restore steps, as that user.
t0=$(date +%s)
out=$(as_user "$(step snapshot)" 2>&1)
rc=$?
echo "$out" | tail -n 30 | diag
check "thawctl snapshot boots /boot/vmlinuz-$kver and snapshots at ready (rc $rc, $(($(date +%s) - t0)) s)" \
	'[ $rc = 0 ] && [ -s "$root/home/tester/snap/state" ]'
t0=$(date +%s)
out=$(as_user "$(step restore)" 2>&1)
rc=$?
echo "$out" | diag
pid=$(head -n 1 "$root/home/tester/clone.out" 2>/dev/null)
check "a Thaw clone answers the guide's two invocations; its API says $v (rc $rc, $(($(date +%s) - t0)) s)" \
	'[ $rc = 0 ] && echo "$out" | grep -q "\"echo\":{\"hello\":\"world\"}" &&
	 echo "$out" | grep -q "\"echo\":{\"hello\":\"again\"}" &&
	 echo "$out" | grep -q "\"thawvm_version\":\"$v\""'
for _ in $(seq 100); do
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || break
	sleep 0.1
done

# 13. Versions.
out=$(in_root bash -ec "$(step versions)" 2>&1)
rc=$?
echo "$out" | diag
check "thawctl, thawvm, modinfo thaw, the API and man thawctl say $v" \
	'[ $rc = 0 ] && [ "$(echo "$out" | grep -cxE "(thawctl |thawvm )?$v")" = 3 ] &&
	 echo "$out" | grep -q "thawctl(1)"'

# 14. The guide's remove step begins with unloading the module (the rest,
# dpkg -r, runs outside: packages_test.sh).
out=$(in_root bash -ec "$(step remove | grep '^modprobe')" 2>&1)
rc=$?
echo "$out" | diag
check "modprobe -r thaw once the clone is gone (rc $rc)" \
	'[ $rc = 0 ] && ! grep -q "^thaw " /proc/modules && [ ! -e /dev/thaw ]'
