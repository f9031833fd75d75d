#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build the initramfs of selftests/vmm/boot_test: static busybox, the
# virtio-mmio and vsock modules of the stock kernel in dependency order,
# vsock_peer, and selftests/vmm/init as /init; any further MODULE (virtio_blk,
# ext4, virtio-rng: blk_test.sh) with its dependencies too.
#   mkinitramfs.sh OUT.cpio.gz VSOCK_PEER [MODULE...]
# Needs THAW_MODULES (the guest kernel's /lib/modules/V), as vmtest sets.
set -eu
out=$1
peer=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
: "${THAW_MODULES:?THAW_MODULES is not set}"
kver=$(basename "$THAW_MODULES")
root=$(dirname "$(dirname "$(dirname "$THAW_MODULES")")")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib/modules" "$stage/proc" "$stage/sys" \
	"$stage/dev" "$stage/tmp"
cp /bin/busybox "$stage/bin/busybox"
cp "$peer" "$stage/bin/vsock_peer"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
for m in virtio_mmio vmw_vsock_virtio_transport "$@"; do
	modprobe -d "$root" -S "$kver" --show-depends "$m" |
		awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r f; do
	cp "$f" "$stage/lib/modules/"
	basename "$f"
done > "$stage/modules"
[ "$(wc -l < "$stage/modules")" -ge 6 ] || {
	echo "mkinitramfs: modules missing from $THAW_MODULES" >&2
	exit 1
}
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
	gzip -1 > "$out"
