#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# virtio-blk and virtio-rng end to end on the stock kernel, through the
# API as a Firecracker orchestrator drives it: an ext4 root drive built
# with mke2fs -d and a read-only second drive, the entropy device; the
# guest (selftests/vmm/init, scenario blk) mounts root= (/dev/vda), reads
# and writes it, cannot write the read-only one, reads /dev/hwrng.  Then a
# snapshot, restored with the File backend onto the same disk and with
# the Thaw and Uffd backends onto copies (drive_overrides): each clone reads what
# the guest wrote before the snapshot from the disk and writes again, and
# the host finds every write in the images (debugfs).  Bad input: a
# missing backing file, two root devices, a bad drive id, PUT after the
# start, PATCH of a missing drive, a clone load onto a writable disk a
# running clone holds, an override of a drive the snapshot lacks, a
# rewind of a clone with a writable drive.
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"
. "$(dirname "$0")/../lib/thawvm-api.sh"
trap 'api_cleanup; vm_cleanup' EXIT

PLAN=41
VMM=thawvm
handler=$top/build/bin/thaw-uffd-handler
why=$(curl_missing)
[ -x "$handler" ] || why="thaw-uffd-handler not built"
command -v mke2fs >/dev/null && command -v debugfs >/dev/null ||
	why="e2fsprogs (mke2fs, debugfs) not installed"
[ -x "$top/build/selftests/vmm/vsock_peer" ] || why="vsock_peer not built"
tap_plan $PLAN blk "$why"

# --- The disks and the guest.
mkdir -p "$work/root" "$work/ro" "$work/snap"
echo "hello from the disk" > "$work/root/hello.txt"
echo "read-only disk" > "$work/ro/hello.txt"
mke2fs -q -F -t ext4 -d "$work/root" "$work/root.ext4" 16M 2>&1 | diag
mke2fs -q -F -t ext4 -d "$work/ro" "$work/ro.ext4" 8M 2>&1 | diag
cp "$work/ro.ext4" "$work/ro2.ext4"
"$top/selftests/vmm/mkinitramfs.sh" "$work/blk.cpio.gz" \
	"$top/build/selftests/vmm/vsock_peer" virtio_blk ext4 virtio-rng 2>&1 | diag

# disk_cat IMAGE FILE: FILE's contents in the ext4 IMAGE.  The guest
# synced but did not unmount: what it wrote may still be in the journal
# only, which debugfs does not read.  A copy gets the journal replayed.
disk_cat() {
	cp "$1" "$work/cat.ext4"
	e2fsck -fy -E journal_only "$work/cat.ext4" > /dev/null 2>&1
	debugfs -R "cat /$2" "$work/cat.ext4" 2>/dev/null
}
# wait_line CONSOLE PATTERN SECONDS: a THAW-TEST line matching PATTERN.
wait_line() {
	local i
	for ((i = 0; i < $3 * 2; i++)); do
		grep -q "THAW-TEST: $2" "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	tail -n 20 "$1" | diag
	return 1
}
drive() { # ID PATH ROOT RO [EXTRA]
	echo "{\"drive_id\":\"$1\",\"path_on_host\":\"$2\",\"is_root_device\":$3,\"is_read_only\":$4${5:-}}"
}
load_body() { # BACKEND CID VSOCK [EXTRA]
	echo "{\"snapshot_path\":\"$work/snap/state\",\"mem_backend\":{\"backend_type\":\"$1\",\"backend_path\":\"$work/snap/memory\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$3\",\"guest_cid\":$2}${4:-}}"
}

# --- The original VM, configured through the API.
A=$work/a.sock
api_start a "$A"
req "$A" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}'
req "$A" PUT /boot-source "{\"kernel_image_path\":\"$THAW_KERNEL\",\"initrd_path\":\"$work/blk.cpio.gz\",\"boot_args\":\"console=ttyS0 panic=-1 thaw_test=blk\"}"
req "$A" PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$work/a.vsock\"}"
req "$A" PUT /drives/rootfs "$(drive rootfs "$work/missing.ext4" true false)"
expect "a missing backing file: 400" 400 "cannot open path_on_host $work/missing.ext4"
req "$A" PUT /drives/rootfs "$(drive rootfs "$work/root.ext4" true false ',"io_engine":"Async","cache_type":"Writeback"')"
expect "PUT /drives/rootfs (root, Async, Writeback)" 204
req "$A" PUT /drives/data "$(drive data "$work/ro.ext4" true true)"
expect "a second root device: 400" 400 "root block device already exists"
req "$A" PUT /drives/bad-id "$(drive bad-id "$work/ro.ext4" false true)"
expect "a drive id with a dash: 400" 400 "letters, digits or underscores"
req "$A" PUT /drives/data "$(drive other "$work/ro.ext4" false true)"
expect "path and body ids differ: 400" 400 "differ"
req "$A" PUT /drives/data "$(drive data "$work/ro.ext4" false true ',"rate_limiter":{"bandwidth":{"size":1000,"refill_time":100}}')"
expect "a drive rate limiter that limits: 400" 400 "does not rate-limit"
req "$A" PUT /drives/data "$(drive data "$work/ro.ext4" false true ',"io_engine":"Sync"')"
expect "PUT /drives/data (read-only, Sync)" 204
req "$A" PATCH /drives/data "{\"drive_id\":\"data\",\"path_on_host\":\"$work/ro2.ext4\"}"
expect "PATCH before the start: 400" 400 "before starting"
req "$A" PUT /entropy '{}'
expect "PUT /entropy" 204
req "$A" GET /vm/config
expect "GET /vm/config lists the drives" 200 '"drive_id":"rootfs"'
req "$A" PUT /actions '{"action_type":"InstanceStart"}'
expect "InstanceStart with two drives and an entropy device" 204
wait_line "$work/a.console" "ready for snapshot" "$BOOT_TIMEOUT"
check "the guest got root=/dev/vda and virtio_rng" \
	'grep -q "THAW-TEST: root /dev/vda rng.*virtio_rng" "$work/a.console"'
check "the guest read 16 bytes from /dev/hwrng" \
	'grep -Eq "THAW-TEST: hwrng [0-9a-f]{32}" "$work/a.console"'
check "the guest reads both disks" \
	'grep -q "THAW-TEST: read hello from the disk ro read-only disk" "$work/a.console"'
check "the read-only drive is read-only in the guest" \
	'grep -q "THAW-TEST: vdb ro 1" "$work/a.console" && ! grep -q "write succeeded" "$work/a.console"'
req "$A" PUT /drives/late "$(drive late "$work/ro.ext4" false true)"
expect "PUT /drives after the start: 400" 400 "after starting"
req "$A" PATCH /drives/nope '{"drive_id":"nope","path_on_host":"/dev/null"}'
expect "PATCH of a drive the VM lacks: 400" 400 "no drive nope"
req "$A" PATCH /drives/data "{\"drive_id\":\"data\",\"path_on_host\":\"$work/missing.ext4\"}"
expect "PATCH to a missing file: 400, the drive kept" 400 "cannot open"
req "$A" PATCH /drives/data "{\"drive_id\":\"data\",\"path_on_host\":\"$work/ro2.ext4\"}"
expect "PATCH /drives/data to another file after the start" 204
req "$A" GET /vm/config
expect "GET /vm/config shows the new path" 200 "ro2.ext4"

req "$A" PATCH /vm '{"state":"Paused"}'
req "$A" PUT /snapshot/create "{\"snapshot_path\":\"$work/snap/state\",\"mem_file_path\":\"$work/snap/memory\"}"
expect "snapshot of the VM with its drives" 204
kill -TERM "${api_pid[a]}"
api_wait a 60
rc=$?
check "the original thawvm exits ($rc)" '[ $rc = 0 ]'
check "the guest's write before the snapshot is in the image" \
	'[ "$(disk_cat "$work/root.ext4" boot.txt)" = "written by the guest" ]'
# The disk as the snapshot knows it, for clones of their own.
cp "$work/root.ext4" "$work/root-c.ext4"
cp "$work/root.ext4" "$work/root-u.ext4"

# --- File backend, the same disk.
B=$work/b.sock
api_start b "$B"
req "$B" PUT /snapshot/load "$(load_body File 4 "$work/b.vsock" ',"drive_overrides":[{"drive_id":"nope","path_on_host":"/dev/null"}]')"
expect "an override of a drive the snapshot lacks: 400" 400 "no drive nope"
kill -TERM "${api_pid[b]}"
api_wait b 60 >/dev/null
api_start b "$B"
req "$B" PUT /snapshot/load "$(load_body File 4 "$work/b.vsock")"
expect "load (File) onto the snapshot's disks" 204
wait_line "$work/b.console" "wrote restore1" 120
check "File clone: reads the pre-snapshot write from the disk" \
	'grep -q "THAW-TEST: restored 1 read written by the guest" "$work/b.console"'
req "$B" GET /vm/config
expect "File clone: GET /vm/config has the snapshot's drives" 200 '"drive_id":"rootfs"'

# --- A second clone onto the disk B holds: refused; then its own copy.
C=$work/c.sock
api_start c "$C"
req "$C" PUT /snapshot/load "$(load_body Thaw 5 "$work/c.vsock")"
expect "a clone onto a writable disk another clone holds: 400" 400 \
	"open for writing by another thawvm"
req "$C" GET /
expect "the refused clone did not start" 200 '"state":"Not started"'
req "$C" PUT /snapshot/load "$(load_body Thaw 5 "$work/c.vsock" ",\"drive_overrides\":[{\"drive_id\":\"rootfs\",\"path_on_host\":\"$work/root-c.ext4\"}]")"
expect "load (Thaw) with drive_overrides onto its own copy" 204
wait_line "$work/c.console" "wrote restore1" 120
check "Thaw clone: reads the pre-snapshot write from its copy" \
	'grep -q "THAW-TEST: restored 1 read written by the guest" "$work/c.console"'
req "$C" PUT /snapshot/rewind '{}'
expect "a rewind of a clone with a writable drive: 400" 400 \
	"drive rootfs is writable"

# --- Uffd backend (the handler serves guest RAM), its own copy too.
"$handler" "$work/h.sock" "$work/snap/memory" --once > "$work/h.out" \
	2> "$work/h.err" &
hpid=$!
for ((i = 0; i < 50; i++)); do [ -S "$work/h.sock" ] && break; sleep 0.1; done
U=$work/u.sock
api_start u "$U"
req "$U" PUT /snapshot/load "{\"snapshot_path\":\"$work/snap/state\",\"mem_backend\":{\"backend_type\":\"Uffd\",\"backend_path\":\"$work/h.sock\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$work/u.vsock\",\"guest_cid\":6},\"drive_overrides\":[{\"drive_id\":\"rootfs\",\"path_on_host\":\"$work/root-u.ext4\"}]}"
expect "load (Uffd) with drive_overrides onto its own copy" 204
wait_line "$work/u.console" "wrote restore1" 120
check "Uffd clone: reads the pre-snapshot write from its copy" \
	'grep -q "THAW-TEST: restored 1 read written by the guest" "$work/u.console"'
kill -TERM "${api_pid[u]}"
api_wait u 60 >/dev/null
wait "$hpid"
check "Uffd clone's write is in its own copy" \
	'[ "$(disk_cat "$work/root-u.ext4" restore1.txt)" = "written after restore 1" ]'

kill -TERM "${api_pid[b]}" "${api_pid[c]}"
api_wait b 60
rc=$?
check "File clone exits ($rc)" '[ $rc = 0 ]'
api_wait c 60
rc=$?
check "Thaw clone exits ($rc)" '[ $rc = 0 ]'
check "File clone's write is in the shared image" \
	'[ "$(disk_cat "$work/root.ext4" restore1.txt)" = "written after restore 1" ]'
check "Thaw clone's write is in its own copy" \
	'[ "$(disk_cat "$work/root-c.ext4" restore1.txt)" = "written after restore 1" ]'
check "the read-only images are unchanged" \
	'cmp -s "$work/ro.ext4" "$work/ro2.ext4"'
check "no thawvm broke a virtio device" \
	'! grep -h "device needs a reset" "$work"/*.vmm.log'
