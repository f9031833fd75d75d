# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by tools/check (host) and selftests/run (inside vmtest): run a test
# program, keep its TAP output and exit status, and count results.
#
# A results folder holds NAME.tap (everything the program printed) and
# NAME.rc (its exit status) per program.  tap_count reads one pair and prints
# "pass fail skip"; it is strict:
#   - "ok ... # SKIP" counts as skipped, any other "ok" as passed, "not ok"
#     as failed (top-level lines only: nested TAP is indented);
#   - a plan "1..N" with fewer results than N counts the missing as failed;
#   - a program that exits non-zero without reporting a failure counts one
#     failure (a crash or a timeout), except kselftest's 4 (all skipped);
#   - a program that reports nothing at all counts one failure.

# run_tap DIR NAME TIMEOUT CMD...: run CMD, stream and keep its output.
run_tap() {
	local dir=$1 name=$2 t=$3 rc t0=$SECONDS
	shift 3
	mkdir -p "$dir/$(dirname "$name")"
	rm -f "$dir/$name.rc"
	echo "# === $name"
	timeout -k 10 "$t" "$@" 2>&1 | tee "$dir/$name.tap"
	rc=${PIPESTATUS[0]}
	echo "$rc" > "$dir/$name.rc"
	[ "$rc" = 124 ] && echo "not ok - $name: timed out after $t s" |
		tee -a "$dir/$name.tap"
	# Where the suite's time goes (kept out of NAME.tap).
	echo "# === $name: status $rc, $((SECONDS - t0)) s"
	return 0
}

# tap_count TAPFILE RCFILE
tap_count() {
	local rc
	rc=$(cat "$2" 2>/dev/null || echo missing)
	tr -d '\r' < "$1" | awk -v rc="$rc" '
		/^ok / { if (tolower($0) ~ /# skip/) skip++; else pass++ }
		/^not ok / { if (tolower($0) ~ /# todo/) skip++; else fail++ }
		/^1\.\.[0-9]+/ { split($1, p, "\\.\\."); plan += p[2] }
		END {
			seen = pass + fail + skip
			if (plan > seen) fail += plan - seen
			if (rc == "missing") fail++
			else if (rc != 0 && !(rc == 4 && skip > 0) && fail == 0) fail++
			if (seen == 0 && plan == 0 && fail == 0) fail++
			printf "%d %d %d\n", pass, fail, skip
		}'
}

# tap_total DIR: sum tap_count over every NAME.tap under DIR; prints
# "pass fail skip" and lists the programs that failed on stderr.
tap_total() {
	local p=0 f=0 s=0 a b c t
	while IFS= read -r -d '' t; do
		read -r a b c < <(tap_count "$t" "${t%.tap}.rc")
		p=$((p + a)) f=$((f + b)) s=$((s + c))
		[ "$b" -gt 0 ] && echo "  failed: ${t#"$1"/} ($b)" >&2
	done < <(find "$1" -name '*.tap' -print0 | sort -z)
	echo "$p $f $s"
}

# vmtest_death LOG STATUS: how a tools/vmtest/run machine died, from its
# output LOG and exit STATUS, or nothing if it did not (STATUS is then
# CMD's): guard (kernel stack guard page hit), stackend (corrupted stack
# end), softlockup (a CPU stuck 40 s: tools/vmtest/run panics on it),
# panic (another panic or oops), stall (idle with no heartbeat: tools/
# vmtest/run stopped it), hang (--timeout passed), machine (it
# stopped some other way).  Documentation/dev-tools/vmtest.rst, "Deaths
# under TCG".
vmtest_death() {
	case "$2" in 124|125) ;; *) return 0 ;; esac
	grep -q 'vmtest: .*accelerator \(tcg\|kvm\)' "$1" || return 0
	if grep -q 'stack guard page was hit' "$1"; then echo guard
	elif grep -q 'corrupted stack end detected' "$1"; then echo stackend
	elif grep -q 'Kernel panic - not syncing: softlockup' "$1"; then echo softlockup
	elif grep -qE 'Kernel panic|Oops:' "$1"; then echo panic
	elif grep -q '^vmtest: stalled, stopped' "$1"; then echo stall
	elif [ "$2" = 124 ]; then echo hang
	else echo machine
	fi
}
