#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The libFuzzer harnesses (tests/fuzz) build and none crashes: each runs
# over its committed seeds and then FUZZ_TIME seconds (3) of fuzzing from
# them, one at a time; one TAP line per harness, with its executions and
# coverage.  A crash is a failure, its input left in build/fuzz/crashes/.
# Without clang's libFuzzer (make deps installs it) every line is a SKIP.
# Documentation/dev-tools/fuzzing.rst.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

read -r -a names <<< "$(make -s --no-print-directory FUZZ=1 fuzz-names)"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' \
	> "$tmp/t.c"
if ! command -v clang >/dev/null ||
   ! clang -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" \
	>/dev/null 2>&1; then
	echo "1..${#names[@]}"
	i=0
	for n in "${names[@]}"; do
		echo "ok $((i += 1)) $n # SKIP no clang with libFuzzer: run make deps"
	done
	exit 0
fi

FUZZ_TAP=1 FUZZ_TIME=${FUZZ_TIME:-3} exec tests/fuzz/run
