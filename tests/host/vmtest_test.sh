#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The contract of tools/vmtest/run that every other test stands on.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
run=tools/vmtest/run
echo "1..5"

out=$($run -- sh -c 'ls /dev/kvm /dev/thaw && cat /proc/modules' 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
if [ $rc = 0 ] && echo "$out" | grep -q '^/dev/kvm' &&
   echo "$out" | grep -qE '^kvm_(amd|intel) ' &&
   echo "$out" | grep -q '^thaw '; then
	echo "ok 1 /dev/kvm and /dev/thaw present, kvm and thaw loaded"
else
	echo "not ok 1 /dev/kvm and /dev/thaw present, kvm and thaw loaded (rc $rc)"
fi

$run -- false >/dev/null 2>&1
rc=$?
[ $rc = 1 ] && echo "ok 2 'false' exits 1" || echo "not ok 2 'false' exits 1 (got $rc)"

$run --timeout 20 -- sleep 300 >/dev/null 2>&1
rc=$?
[ $rc = 124 ] && echo "ok 3 timeout exits 124" ||
	echo "not ok 3 timeout exits 124 (got $rc)"

# Arguments arrive intact, --add copies in, the tree is at /thaw, and the
# stock kernel is named by THAW_KERNEL.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "payload $$" > "$tmp/file"
out=$($run --no-kmod --add "$tmp/file:/in/f" --add "$tmp" -- \
	sh -c 'cat /in/f "$1/file"; echo "arg=[$2]"; test -f /thaw/tools/vmtest/run && echo tree; test -f "$THAW_KERNEL" && echo kernel; echo "thaw=$(grep -c "^thaw " /proc/modules)"' \
	sh "$tmp" "a b  'c'" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
exp="payload $$
payload $$
arg=[a b  'c']
tree
kernel
thaw=0"
# The machine's own console lines (its kernel prints warnings: loglevel 5)
# are not the command's.
if [ $rc = 0 ] && [ "$(echo "$out" | grep -vE '^vmtest:|^\[ *[0-9]+\.[0-9]+\] ')" = "$exp" ]; then
	echo "ok 4 arguments, --add, /thaw, THAW_KERNEL, --no-kmod"
else
	echo "not ok 4 arguments, --add, /thaw, THAW_KERNEL, --no-kmod (rc $rc)"
fi

$run --mem 512 --cpus 1 -- sh -c 'test $(grep -c ^processor /proc/cpuinfo) = 1 && test $(awk "/MemTotal/ {print \$2}" /proc/meminfo) -lt 524288' >/dev/null 2>&1
rc=$?
[ $rc = 0 ] && echo "ok 5 --mem and --cpus" || echo "not ok 5 --mem and --cpus (got $rc)"
