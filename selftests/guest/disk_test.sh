#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# thaw-init and drives: with root=/dev/vda (an ext4 root drive, as
# Firecracker boots) it loads virtio_blk and ext4 from the initramfs,
# makes the disk the root and runs the function from it; with the
# code_disk setting it mounts a read-only drive on /var/task and runs the
# code package found there.  In both the disk's bootstrap answers (its
# reply says "disk"), not the initramfs's.
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"
. "$(dirname "$0")/../lib/thawvm-api.sh"
trap 'api_cleanup; vm_cleanup' EXIT

PLAN=8
VMM=thawvm
why=$(curl_missing)
command -v mke2fs >/dev/null || why="e2fsprogs (mke2fs) not installed"
tap_plan $PLAN disk "$why"

bootstrap=$top/tools/guest/samples/echo/bootstrap
# The disks' bootstrap: echo's, answering "disk" where echo says "echo".
mkdir -p "$work/code" "$work/rootfs"
sed 's/"echo":/"disk":/' "$bootstrap" > "$work/code/bootstrap"
chmod 0755 "$work/code/bootstrap"

"$mkfunc" "$bootstrap" "$work/echo.cpio.gz" --busybox 2>&1 | diag
"$mkfunc" "$bootstrap" "$work/code.cpio.gz" --busybox \
	--set code_disk=/dev/vda 2>&1 | diag
# The root disk: the function's whole tree, its bootstrap the disk's.
(cd "$work/rootfs" && zcat "$work/echo.cpio.gz" | cpio -idm --quiet)
cp "$work/code/bootstrap" "$work/rootfs/var/task/bootstrap"
mke2fs -q -F -t ext4 -d "$work/rootfs" "$work/root.ext4" 64M 2>&1 | diag
mke2fs -q -F -t ext4 -d "$work/code" "$work/code.ext4" 8M 2>&1 | diag

# boot NAME INITRD DRIVE_JSON: a VM through the API, ready or not.
boot() {
	local sock=$work/$1.sock
	api_start "$1" "$sock"
	req "$sock" PUT /boot-source "{\"kernel_image_path\":\"$THAW_KERNEL\",\"initrd_path\":\"$2\",\"boot_args\":\"console=ttyS0 panic=-1\"}"
	req "$sock" PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$work/$1.vsock\"}"
	req "$sock" PUT /drives/disk "$3"
	"$thawctl" wait-ready --uds "$work/$1.vsock" --timeout "$BOOT_TIMEOUT" \
		> "$work/$1.ready" 2>&1 &
	local ready=$!
	req "$sock" PUT /actions '{"action_type":"InstanceStart"}'
	[ "$code" = 204 ] && wait "$ready"
}
invoke() { # NAME
	"$thawctl" invoke --uds "$work/$1.vsock" --request-id r-1 \
		--payload '{"n":1}' --timeout 120 2>&1
}

if boot root "$work/echo.cpio.gz" "{\"drive_id\":\"disk\",\"path_on_host\":\"$work/root.ext4\",\"is_root_device\":true,\"is_read_only\":false}"; then
	tap_ok "a function VM with an ext4 root drive boots and is ready"
else
	tap_fail "a function VM with an ext4 root drive boots and is ready"
	tail -n 30 "$work/root.console" | diag
fi
check "thaw-init loaded virtio_blk and ext4" \
	'grep -q "loaded /lib/thaw/modules/virtio-2/.*virtio_blk" "$work/root.console" &&
	 grep -q "loaded /lib/thaw/modules/virtio-2/.*ext4" "$work/root.console"'
check "thaw-init made /dev/vda the root" \
	'grep -q "root is /dev/vda (ext4, rw)" "$work/root.console"'
got=$(invoke root)
check "the root disk's bootstrap answers" '[[ "$got" == *"\"disk\":{\"n\":1}"* ]]' ||
	echo "$got" | diag
kill -TERM "${api_pid[root]}"
api_wait root 60 >/dev/null

if boot code "$work/code.cpio.gz" "{\"drive_id\":\"disk\",\"path_on_host\":\"$work/code.ext4\",\"is_root_device\":false,\"is_read_only\":true}"; then
	tap_ok "a function VM with a code disk boots and is ready"
else
	tap_fail "a function VM with a code disk boots and is ready"
	tail -n 30 "$work/code.console" | diag
fi
check "thaw-init mounted the code disk on /var/task" \
	'grep -q "code disk /dev/vda on /var/task" "$work/code.console"'
got=$(invoke code)
check "the code disk's bootstrap answers" '[[ "$got" == *"\"disk\":{\"n\":1}"* ]]' ||
	echo "$got" | diag
kill -TERM "${api_pid[code]}"
api_wait code 60
rc=$?
check "the code-disk VM ends cleanly ($rc)" '[ $rc = 0 ]'
