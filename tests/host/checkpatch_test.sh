#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Kernel code is checkpatch-clean (checkpatch.pl from Debian's
# linux-source-6.1, used in place), builds without W=1 warnings and is
# sparse-clean.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
cache=${THAW_CACHE:-$top/.cache}
cp=$cache/linux-source/current/scripts/checkpatch.pl
kver=$(cat "$cache/kernel/current" 2>/dev/null)
kdir=/usr/src/linux-headers-$kver

files=$(ls kmod/*.[ch] uapi/linux/*.h 2>/dev/null | grep -v "\.mod\.c$")
n=$(echo "$files" | wc -w)
echo "1..$((n + 2))"
i=0
for f in $files; do
	i=$((i + 1))
	if [ ! -f "$cp" ]; then
		echo "ok $i checkpatch $f # SKIP checkpatch.pl missing: run make deps"
		continue
	fi
	out=$(perl "$cp" --no-tree --quiet --show-types -f "$f" 2>&1)
	if [ -z "$out" ]; then
		echo "ok $i checkpatch $f"
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok $i checkpatch $f"
	fi
done

# Build the module in a scratch copy so the tree's thaw.ko is not touched.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r Kbuild VERSION kmod uapi "$scratch/"
rm -f "$scratch"/kmod/*.o "$scratch"/kmod/*.ko "$scratch"/kmod/.*.cmd
i=$((i + 1))
if [ ! -d "$kdir" ]; then
	echo "ok $i W=1 build # SKIP no headers for $kver"
else
	out=$(make -s -C "$kdir" M="$scratch" W=1 modules 2>&1)
	rc=$?
	warn=$(echo "$out" | grep -E 'warning:|error:')
	if [ $rc = 0 ] && [ -z "$warn" ]; then
		echo "ok $i thaw.ko builds with W=1 and no warning"
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok $i thaw.ko builds with W=1 and no warning"
	fi
fi
i=$((i + 1))
if ! command -v sparse >/dev/null || [ ! -d "$kdir" ]; then
	echo "ok $i sparse # SKIP sparse or headers missing"
else
	rm -f "$scratch"/kmod/*.o
	out=$(make -s -C "$kdir" M="$scratch" C=2 modules 2>&1 |
		grep -vE 'Skipping BTF|^\s*$')
	if [ -z "$out" ]; then
		echo "ok $i sparse reports nothing"
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok $i sparse reports nothing"
	fi
fi
