#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The ELF vmlinux inside a bzImage: find the xz stream the kernel was
# compressed with (Debian's: CONFIG_KERNEL_XZ) and decompress it.
#   vmlinux.sh VMLINUZ OUT
set -eu
in=$1
out=$2
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$in" | head -n 1 | cut -d: -f1)
[ -n "$off" ] || { echo "vmlinux.sh: no xz stream in $in" >&2; exit 1; }
tail -c +"$((off + 1))" "$in" | xz -dc --single-stream > "$out"
[ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = "177ELF" ] ||
	{ echo "vmlinux.sh: $in did not hold an ELF vmlinux" >&2; exit 1; }
