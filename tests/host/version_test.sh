#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# One version for the whole tree, from ./VERSION: every program's --version,
# thaw.ko's MODULE_VERSION, the API's GET /version and the manual say it,
# and no source file holds a version of its own.  (The packages carry it
# too: tests/host/packages_test.sh.)
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
echo "1..5"

v=$(cat VERSION)
if [ "$(wc -l < VERSION)" = 1 ] && [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	echo "ok 1 VERSION is one line, MAJOR.MINOR.PATCH ($v)"
else
	echo "not ok 1 VERSION is one line, MAJOR.MINOR.PATCH (got '$v')"
fi

bad=
for p in build/bin/thawvm build/bin/thawctl build/bin/thaw-uffd-handler \
	 build/bin/thaw-jailer build/bin/thaw-init tools/guest/mkfunc; do
	out=$("$p" --version 2>&1)
	echo "# $p --version: $out"
	[ "$out" = "$(basename "$p") $v" ] || bad+=" $p"
done
if [ -z "$bad" ]; then
	echo "ok 2 thawvm, thawctl, thaw-uffd-handler, thaw-jailer, thaw-init, mkfunc --version say $v"
else
	echo "not ok 2 --version says $v:$bad do not"
fi

if [ -f kmod/thaw.ko ]; then
	mv=$(modinfo -F version kmod/thaw.ko)
	if [ "$mv" = "$v" ]; then
		echo "ok 3 modinfo kmod/thaw.ko: version $mv"
	else
		echo "not ok 3 modinfo kmod/thaw.ko: version '$mv', VERSION $v"
	fi
else
	echo "ok 3 thaw.ko's version # SKIP kmod/thaw.ko is not built"
fi

# The API needs no VM: thawvm serves it before one is configured.
build/bin/thawvm --api-sock "$tmp/api.sock" --no-seccomp \
	> "$tmp/vmm.log" 2>&1 &
pid=$!
for _ in $(seq 50); do [ -S "$tmp/api.sock" ] && break; sleep 0.1; done
out=$(build/bin/thawctl api --api-sock "$tmp/api.sock" GET /version 2>&1)
echo "# GET /version: $out"
if [[ "$out" == *"\"thawvm_version\":\"$v\""* ]]; then
	echo "ok 4 thawvm's API: GET /version says $v"
else
	echo "not ok 4 thawvm's API: GET /version says $v"
fi

# Versions written anywhere else would drift: none in the code, the
# manual's comes from VERSION (Documentation/conf.py).
found=$(git grep -nE 'MODULE_VERSION\("|define[[:space:]]+THAW_(MODULE_)?VERSION[[:space:]]+"|^Version:[[:space:]]*[0-9]' \
	-- '*.c' '*.h' '*.in' 'debian/*' 2>/dev/null)
echo "$found" | sed '/^$/d; s/^/# /'
if [ -z "$found" ] && grep -q "VERSION" Documentation/conf.py; then
	echo "ok 5 no source file holds a version of its own"
else
	echo "not ok 5 no source file holds a version of its own"
fi
