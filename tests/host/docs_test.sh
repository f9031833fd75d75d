#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The manual builds: 'make docs' into a fresh folder (no cache from an
# earlier build hides what an unchanged page gets wrong), warnings as
# errors, and every page of Documentation/ is in it, reached from the index:
# Sphinx warns about a page no toctree includes unless it says :orphan:.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..2"

if ! command -v sphinx-build >/dev/null; then
	for i in 1 2; do
		echo "ok $i docs # SKIP sphinx-build missing: run make deps"
	done
	exit 0
fi

if out=$(make -s docs DOCS_O="$tmp" 2>&1); then
	echo "ok 1 make docs builds Documentation/ with warnings as errors"
else
	echo "$out" | sed 's/^/# /'
	echo "not ok 1 make docs builds Documentation/ with warnings as errors"
fi

missing=$(cd Documentation && find . -name '*.rst' | sort |
	while read -r f; do
		f=${f#./}
		if [ ! -f "$tmp/html/${f%.rst}.html" ]; then
			echo "$f: not built"
		elif grep -q '^:orphan:' "$f"; then
			echo "$f: :orphan:, in no toctree"
		fi
	done)
if [ -z "$missing" ]; then
	echo "ok 2 every page of Documentation/ is built and in a toctree"
else
	echo "$missing" | sed 's/^/# /'
	echo "not ok 2 every page of Documentation/ is built and in a toctree"
fi
