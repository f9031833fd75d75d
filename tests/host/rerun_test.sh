#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The rerun policy of make check (Documentation/dev-tools/vmtest.rst,
# "Deaths under TCG"): how a dead test machine is classified (on canned
# logs, and on a real machine whose kernel is made to panic), and
# selftests/run rerunning once a program whose nested guest died under TCG,
# a second one in the group not at all, and nothing under KVM.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tools/testlib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
notok() { n=$((n + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
echo "1..16"

# --- vmtest_death on what tools/vmtest/run prints.
stopped='vmtest: the machine stopped without an exit status (qemu exit 0, accelerator tcg)'
death_of() { printf '%s\n' "$1" > "$tmp/log"; vmtest_death "$tmp/log" "$2"; }
check "guard page: guard" \
	'[ "$(death_of "[ 9.1] BUG: TASK stack guard page was hit at error_entry+0x1c/0xa0
[ 9.2] Kernel panic - not syncing: corrupted stack end detected inside scheduler
$stopped" 125)" = guard ]'
check "corrupted stack end alone: stackend" \
	'[ "$(death_of "[ 9.2] Kernel panic - not syncing: corrupted stack end detected inside scheduler
$stopped" 125)" = stackend ]'
check "a soft lockup made a panic: softlockup" \
	'[ "$(death_of "[ 77.2] watchdog: BUG: soft lockup - CPU#0 stuck for 41s! [vcpu0:374]
[ 77.3] Kernel panic - not syncing: softlockup: hung tasks
$stopped" 125)" = softlockup ]'
check "another panic: panic" \
	'[ "$(death_of "[ 3.0] Kernel panic - not syncing: Fatal exception
$stopped" 125)" = panic ]'
check "a stalled machine, stopped by the watchdog: stall" \
	'[ "$(death_of "vmtest: stalled, stopped (accelerator tcg): true" 124)" = stall ]'
check "a timeout: hang" \
	'[ "$(death_of "vmtest: timed out after 60 s (accelerator tcg): true" 124)" = hang ]'
check "no kernel message: machine" '[ "$(death_of "$stopped" 125)" = machine ]'
check "a command's own failure is no death" \
	'[ -z "$(death_of "not ok 1 x" 1)" ] && [ -z "$(death_of "ok 1 x" 0)" ]'
check "a setup refusal (status 125, no machine ran) is no death" \
	'[ -z "$(death_of "vmtest: no kernel in .cache: run make deps first" 125)" ]'

# --- A real death: the test machine's kernel panics on purpose.
if [ -s "${THAW_CACHE:-.cache}/kernel/current" ] && command -v qemu-system-x86_64 >/dev/null; then
	tools/vmtest/run --timeout 300 --no-kmod -- \
		sh -c 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger' \
		> "$tmp/panic.log" 2>&1
	rc=$?
	d=$(vmtest_death "$tmp/panic.log" "$rc")
	check "a machine whose kernel panics: status 125, classified panic ($rc, $d)" \
		'[ "$rc" = 125 ] && [ "$d" = panic ]' ||
		tail -n 20 "$tmp/panic.log" | sed 's/^/# /'
else
	skip "a machine whose kernel panics" "no kernel cache or QEMU: run make deps"
fi

# --- A real stall: every process but init stopped, so nothing writes the
# heartbeat and the machine idles; the watchdog must stop it well before
# its timeout, with the kernel's timers and tasks on the console.
if [ -s "${THAW_CACHE:-.cache}/kernel/current" ] && command -v qemu-system-x86_64 >/dev/null; then
	t0=$(date +%s)
	tools/vmtest/run --timeout 600 --stall 30 --no-kmod -- \
		sh -c 'kill -STOP $(pgrep -P 1); sleep 1000' > "$tmp/stall.log" 2>&1
	rc=$? secs=$(($(date +%s) - t0))
	d=$(vmtest_death "$tmp/stall.log" "$rc")
	check "an idle machine without a heartbeat is stopped as stalled in $secs s ($rc, $d), timers and tasks dumped" \
		'[ "$rc" = 124 ] && [ "$d" = stall ] && [ "$secs" -lt 300 ] &&
		 grep -q "Timer List" "$tmp/stall.log" && grep -q "sysrq: Show State" "$tmp/stall.log" &&
		 grep -q "qemu: LVTT" "$tmp/stall.log"' ||
		tail -n 20 "$tmp/stall.log" | sed 's/^/# /'
else
	skip "a stalled machine" "no kernel cache or QEMU: run make deps"
fi

# --- selftests/run: a program whose nested guest died runs once more.
# dies_once NAME: fails with a nested guest death the first time only.
dies_once() {
	cat > "$tmp/$1_test.sh" <<EOF
#!/bin/sh
echo 1..1
if [ -e "$tmp/$1.ran" ]; then echo "ok 1 $1"; exit 0; fi
touch "$tmp/$1.ran"
echo "# nested guest died: [thawvm 1.0] vCPU 0: triple fault (shutdown exit)"
echo "not ok 1 $1"
exit 1
EOF
	chmod +x "$tmp/$1_test.sh"
}
dies_once a
dies_once b
THAW_VMTEST_ACCEL=tcg SELFTEST_PROGS="$tmp/a_test.sh $tmp/b_test.sh" \
	selftests/run "$tmp/tcg" > "$tmp/tcg.out" 2>&1
check "under TCG the first program's rerun passes" \
	'grep -q "^# rerun: a_test: nested guest died: .*triple fault" "$tmp/tcg.out" &&
	 [ "$(tap_count "$tmp/tcg/a_test.tap" "$tmp/tcg/a_test.rc")" = "1 0 0" ] &&
	 [ -f "$tmp/tcg/a_test.tap.first" ]'
check "the second death in the group is not rerun and fails" \
	'grep -q "^# no rerun: b_test: " "$tmp/tcg.out" &&
	 [ "$(tap_count "$tmp/tcg/b_test.tap" "$tmp/tcg/b_test.rc")" = "0 1 0" ]'
check "the rerun is named with its signature in reruns" \
	'[ "$(wc -l < "$tmp/tcg/reruns")" = 1 ] &&
	 grep -q "^a_test: nested guest died: .*triple fault" "$tmp/tcg/reruns"'
rm -f "$tmp"/*.ran
SELFTEST_RERUNS=0 THAW_VMTEST_ACCEL=tcg SELFTEST_PROGS="$tmp/a_test.sh" \
	selftests/run "$tmp/again" > "$tmp/again.out" 2>&1
check "after the group's machine was rerun (SELFTEST_RERUNS=0) nothing is" \
	'! [ -e "$tmp/again/reruns" ] &&
	 [ "$(tap_count "$tmp/again/a_test.tap" "$tmp/again/a_test.rc")" = "0 1 0" ]'
rm -f "$tmp"/*.ran
THAW_VMTEST_ACCEL=kvm SELFTEST_PROGS="$tmp/a_test.sh" \
	selftests/run "$tmp/kvm" > "$tmp/kvm.out" 2>&1
check "under KVM a nested guest's death is never rerun" \
	'! grep -q "rerun" "$tmp/kvm.out" &&
	 [ "$(tap_count "$tmp/kvm/a_test.tap" "$tmp/kvm/a_test.rc")" = "0 1 0" ]'
