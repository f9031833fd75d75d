#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# thawctl snapshot and thawctl restore end to end on the stock kernel: the
# echo sample snapshotted at ready with a recorded working set, then 20
# clones restored one after the other, rotating the File, Uffd and Thaw
# backends with and without the working-set prefetch, each answering its
# first invocation with the warm VM's answer and leaving no process or
# socket behind; then thawctl's refusals (bad snapshot folder, missing
# thawvm, bad arguments, missing working set, Thaw without thaw.ko), each
# with a clear message, exit status and nothing left running.
set -uo pipefail
here=$(dirname "$0")
. "$here/../lib/function-vm.sh"
. "$here/../lib/snapshot.sh"
trap clone_cleanup EXIT

PLAN=34
RESTORES=${THAW_TEST_RESTORES:-20}
VMM=thawvm
tap_plan $PLAN "snapshot restore" "$(curl_missing)"
thaw_dev=0
[ -c /dev/thaw ] && thaw_dev=1

snap=$work/snap
t0=$(date +%s%N)
snap_make "$snap"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "thawctl snapshot --record-wset: the echo sample at ready ($ms ms, rc $rc)" \
	'[ $rc = 0 ] && [ -s "$snap/state" ] && [ -s "$snap/memory" ] && [ -s "$snap/wset" ]' ||
	{ diag < "$work/snap.err"; tail -n 20 "$work/snap.console" 2>/dev/null | diag; }
check "its JSON names the snapshot and its working set" \
	'grep -q "\"snapshot\"" "$work/snap.json" && grep -q "\"wset_size\"" "$work/snap.json"' ||
	diag < "$work/snap.json"
"$thawctl" snapshot "$work/echo.cpio.gz" "$snap" > /dev/null 2> "$work/again.err"
rc=$?
check "a second snapshot into the same folder is refused without --force (rc $rc)" \
	'[ $rc = 1 ] && [ -s "$snap/state" ] && [ -s "$snap/wset" ]' || diag < "$work/again.err"

# --- Sequential restores, every backend, with and without the prefetch.
backends=(File Uffd Thaw)
ok=0 bad=() gone=0 times=()
for ((i = 0; i < RESTORES; i++)); do
	b=${backends[i % 3]}
	[ "$b" = Thaw ] && [ $thaw_dev = 0 ] && b=File
	opts=(--backend "$b" --invoke "{\"clone\":\"seq$i\"}")
	((i / 3 % 2)) && { opts+=(--wset); b+=+wset; }
	out=$work/seq$i.json
	clone_start "seq$i" $((100 + i)) "$out" "${opts[@]}"
	rc=$?
	j=$(cat "$out" 2>/dev/null)
	pid=$(json_num "$out" pid)
	[ -n "$pid" ] && clone_pids+=("$pid")
	if [ $rc = 0 ] && [[ "$j" == *"\"echo\":{\"clone\":\"seq$i\"}"* ]]; then
		ok=$((ok + 1))
		ms=$(json_num "$out" restore_to_response_ms)
		times+=("$b:${ms%.*}")
	else
		bad+=("seq$i($b, rc $rc)")
		{ echo "seq$i: $j"; cat "$out.err"; tail -n 5 "$work/seq$i.vmm.log"; } | diag
	fi
	if [ -n "$pid" ] && clone_stop "$pid" && [ ! -e "$work/seq$i.sock" ] &&
		[ ! -e "$work/seq$i.vsock" ]; then
		gone=$((gone + 1))
	fi
done
echo "# restore to first response, ms: ${times[*]}"
check "$RESTORES sequential restores (File, Uffd, Thaw, +wset) all answer ($ok)" \
	'[ $ok = "$RESTORES" ]' || echo "failed: ${bad[*]}" | diag
check "each clone exits on SIGTERM and removes its sockets ($gone)" \
	'[ $gone = "$RESTORES" ]'
n=$(grep -l '"backend":"Uffd"' "$work"/seq*.json 2>/dev/null | wc -l)
check "the Uffd backend was among them ($n)" '[ "$n" -ge 1 ]'
if [ $thaw_dev = 1 ]; then
	n=$(grep -l '"backend":"Thaw"' "$work"/seq*.json 2>/dev/null | wc -l)
	check "the Thaw backend was among them ($n)" '[ "$n" -ge 1 ]'
	st=$("$thawctl" stats 2>&1)
	check "thaw.ko holds no clone once they are gone" \
		'[[ "$st" == *"thaw: 0 snapshots, 0 clones"* ]]' || echo "$st" | diag
else
	SKIP_REASON="no /dev/thaw"
	tap_skip "the Thaw backend was among them"
	tap_skip "thaw.ko holds no clone once they are gone"
fi
left=$(pgrep -f "$work/" | wc -l)
check "no thawvm or uffd handler is left ($left)" '[ "$left" = 0 ]'

# --- The Uffd clone's prefetch shows in its handler's log.
pf=$(sed -n 's/.* prefetched=\([0-9]*\).*/\1/p' "$work/seq4.vmm.log" 2>/dev/null | tail -n 1)
check "Uffd + wset: the handler prefetched the working set (${pf:-none} pages)" \
	'[ "${pf:-0}" -gt 0 ]' ||
	tail -n 5 "$work/seq4.vmm.log" | diag

# --- Refusals.
# expect_fail DESC RC PATTERN CMD...: CMD exits RC and says PATTERN.
expect_fail() {
	local desc=$1 want=$2 pat=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = "$want" ] && [[ "$out" == *$pat* ]]; then
		tap_ok "$desc"
	else
		tap_fail "$desc (rc $rc)"
		echo "$out" | diag
	fi
}
R=(--api-sock "$work/x.sock" --uds "$work/x.vsock" --cid 50)
expect_fail "restore: a missing snapshot folder" 1 "$work/none" \
	"$thawctl" restore "$work/none" "${R[@]}"
mkdir -p "$work/empty"
expect_fail "restore: a folder with no state file" 1 "state" \
	"$thawctl" restore "$work/empty" "${R[@]}"
mkdir -p "$work/nomem"
cp "$snap/state" "$work/nomem/state"
expect_fail "restore: a folder with no memory file" 1 "memory" \
	"$thawctl" restore "$work/nomem" "${R[@]}"
mkdir -p "$work/nowset"
ln "$snap/state" "$work/nowset/state"
ln "$snap/memory" "$work/nowset/memory"
expect_fail "restore --wset: a folder with no working set" 1 "wset" \
	"$thawctl" restore "$work/nowset" "${R[@]}" --wset
truncate -s 100 "$work/nomem/state"
ln -f "$snap/memory" "$work/nomem/memory"
expect_fail "restore: a truncated state file is refused by thawvm" 1 "truncated" \
	"$thawctl" restore "$work/nomem" "${R[@]}"
expect_fail "restore: thawvm missing" 1 "$work/no-thawvm" \
	"$thawctl" restore "$snap" "${R[@]}" --thawvm "$work/no-thawvm"
expect_fail "restore: thawvm not executable" 1 "$snap/state" \
	"$thawctl" restore "$snap" "${R[@]}" --thawvm "$snap/state"
expect_fail "restore: no --cid" 2 "cid" \
	"$thawctl" restore "$snap" --api-sock "$work/x.sock" --uds "$work/x.vsock"
expect_fail "restore: --cid 2 (the host's)" 2 "cid" \
	"$thawctl" restore "$snap" --api-sock "$work/x.sock" --uds "$work/x.vsock" --cid 2
expect_fail "restore: --cid not a number" 2 "cid" \
	"$thawctl" restore "$snap" --api-sock "$work/x.sock" --uds "$work/x.vsock" --cid 7x
expect_fail "restore: an unknown backend" 2 "Tape" \
	"$thawctl" restore "$snap" "${R[@]}" --backend Tape
expect_fail "restore: a --uds path over 95 bytes" 1 "at most 95 bytes" \
	"$thawctl" restore "$snap" --api-sock "$work/x.sock" --cid 50 \
	--uds "$work/$(printf 'u%.0s' {1..100})"
expect_fail "restore: --invoke with a payload that is not JSON" 2 "JSON" \
	"$thawctl" restore "$snap" "${R[@]}" --invoke '{not json'
expect_fail "restore: an unknown option" 2 "" \
	"$thawctl" restore "$snap" "${R[@]}" --no-such-option
expect_fail "snapshot: a missing function image" 2 "$work/none.cpio.gz" \
	"$thawctl" snapshot "$work/none.cpio.gz" "$work/s2"
expect_fail "snapshot: no SNAPDIR" 2 "" \
	"$thawctl" snapshot "$work/echo.cpio.gz"
expect_fail "snapshot: --payload without --record-wset" 2 "record-wset" \
	"$thawctl" snapshot "$work/echo.cpio.gz" "$work/s2" --payload '{}'
expect_fail "snapshot: thawvm missing" 1 "$work/no-thawvm" \
	"$thawctl" snapshot "$work/echo.cpio.gz" "$work/s2" --thawvm "$work/no-thawvm"
check "a failed snapshot leaves no folder behind" '[ ! -e "$work/s2/state" ]'
check "nothing was left running or listening" \
	'[ "$(pgrep -f "$work/" | wc -l)" = 0 ] && [ ! -e "$work/x.sock" ] && [ ! -e "$work/x.vsock" ]'

# --- Thaw without thaw.ko: rmmod it when nothing uses it, then put it back.
ko=$top/kmod/thaw.ko
if [ $thaw_dev = 1 ] && [ -f "$ko" ] && rmmod thaw 2>/dev/null; then
	expect_fail "restore --backend Thaw without thaw.ko: a clear error" 1 "thaw" \
		"$thawctl" restore "$snap" "${R[@]}" --backend Thaw
	check "and nothing is left running" \
		'[ "$(pgrep -f "$work/" | wc -l)" = 0 ] && [ ! -e "$work/x.sock" ]'
	insmod "$ko"
	check "thaw.ko goes back in" '[ -c /dev/thaw ] || { sleep 1; [ -c /dev/thaw ]; }'
	clone_start back 90 "$work/back.json" --backend Thaw --wset \
		--invoke '{"clone":"back"}'
	rc=$?
	pid=$(json_num "$work/back.json" pid)
	check "and a Thaw clone answers again (rc $rc)" \
		'[ $rc = 0 ] && grep -q "\"echo\":{\"clone\":\"back\"}" "$work/back.json"' ||
		diag < "$work/back.json.err"
	[ -n "$pid" ] && clone_stop "$pid"
else
	SKIP_REASON="thaw.ko not loaded or in use"
	tap_skip "restore --backend Thaw without thaw.ko"
	tap_skip "and nothing is left running"
	tap_skip "thaw.ko goes back in"
	tap_skip "and a Thaw clone answers again"
fi
