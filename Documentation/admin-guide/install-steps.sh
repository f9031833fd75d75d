# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# The commands of install.rst, step by step: the guide shows each step
# (literalinclude, from one "# step:" line to the next) and
# tests/host/packages_test.sh runs the same lines, in a throwaway Debian
# root and in vmtest, so that the guide cannot drift from what works.
# The steps use $ver (thaw's version), $kver (the kernel the function VMs
# boot: the host's own, $(uname -r)) and $user (who runs the VMs).

# step: check
grep -m 1 -o -w -E 'vmx|svm' /proc/cpuinfo
ls -l /dev/kvm

# step: install
dpkg -i "thaw-dkms_${ver}_all.deb" "thaw_${ver}_amd64.deb"
dkms status thaw

# step: load
modprobe thaw
ls -l /dev/thaw
modinfo -F version thaw

# step: user
adduser "$user" kvm
adduser "$user" thaw
echo "$user - memlock 4194304" > "/etc/security/limits.d/thaw-$user.conf"

# step: function
cp -r /usr/share/doc/thaw/examples/echo . && chmod +x echo/bootstrap
mkfunc echo/bootstrap echo.cpio.gz --busybox --modules "/lib/modules/$kver"

# step: snapshot
thawctl snapshot echo.cpio.gz snap --kernel "/boot/vmlinuz-$kver"

# step: restore
thawctl restore snap --api-sock clone.sock --uds clone.vsock --cid 3 \
	--backend Thaw --invoke '{"hello":"world"}' > clone.out
cat clone.out
thawctl invoke --uds clone.vsock --payload '{"hello":"again"}'
thawctl api --api-sock clone.sock GET /version
kill "$(head -n 1 clone.out)"

# step: versions
thawctl --version
thawvm --version
modinfo -F version thaw
man thawctl | head -n 5

# step: remove
modprobe -r thaw
dpkg -r thaw thaw-dkms
dkms status thaw

# step: end
