#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# thawvm's snapshot endpoints end to end on the stock kernel: the echo
# function booted through the API, snapshotted at ready (Full, then a Diff),
# restored in fresh thawvm processes with the File, Uffd and Thaw backends, with
# the same answers as the warm VM and a new vsock CID (a second clone given
# a running one's uds_path is refused); every bad snapshot
# refused with a message and without half-starting a VM; a Diff merged over
# its base; a thawvm killed in the middle of a load leaves no process and
# no socket in the way.
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"
. "$(dirname "$0")/../lib/thawvm-api.sh"
trap 'api_cleanup; vm_cleanup' EXIT

handler=$top/build/bin/thaw-uffd-handler
PLAN=64
VMM=thawvm
why=$(curl_missing)
[ -x "$handler" ] || why="thaw-uffd-handler not built"
tap_plan $PLAN snapshot "$why"

"$mkfunc" "$top/tools/guest/samples/echo/bootstrap" "$work/echo.cpio.gz" \
	--busybox 2>&1 | diag
snap=$work/snap
mkdir -p "$snap/base" "$snap/diff"
payload='{"n":1,"s":"snapshot"}'

invoke() { # UDS ID PAYLOAD
	"$thawctl" invoke --uds "$1" --request-id "$2" --payload "$3" \
		--timeout 120 2>&1
}
load_body() { # STATE BACKEND PATH CID UDS [EXTRA_JSON]
	echo "{\"snapshot_path\":\"$1\",\"mem_backend\":{\"backend_type\":\"$2\",\"backend_path\":\"$3\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$5\",\"guest_cid\":$4}${6:-}}"
}

# pid_wait PID SECONDS: PID's exit status (a child of this shell), 124 when
# it is still there; then its threads' kernel stacks go to the TAP log.
pid_wait() {
	local i t
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return; }
		sleep 0.1
	done
	for t in /proc/"$1"/task/*; do
		echo "$t $(cat "$t/comm") $(cat "$t/wchan")"
		cat "$t/stack"
	done 2>/dev/null | diag
	return 124
}

# --- The original VM, with dirty tracking for the Diff.
A=$work/a.sock
api_start a "$A"
req "$A" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128,"track_dirty_pages":true}'
req "$A" PUT /boot-source "{\"kernel_image_path\":\"$THAW_KERNEL\",\"initrd_path\":\"$work/echo.cpio.gz\",\"boot_args\":\"console=ttyS0 quiet panic=-1\"}"
req "$A" PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$work/a.vsock\"}"
"$thawctl" wait-ready --uds "$work/a.vsock" --timeout "$BOOT_TIMEOUT" \
	> "$work/a.ready" 2>&1 &
ready=$!
req "$A" PUT /actions '{"action_type":"InstanceStart"}'
if [ "$code" = 204 ] && wait "$ready"; then
	tap_ok "the original VM boots and is ready"
else
	tap_fail "the original VM boots and is ready ($code $body)"
	diag < "$work/a.ready"
	tail -n 20 "$work/a.console" | diag
fi
warm=$(invoke "$work/a.vsock" w-1 "$payload")
check "the warm VM answers" '[[ "$warm" == *"\"echo\":$payload"* ]]' ||
	echo "$warm" | diag

req "$A" PUT /snapshot/create "{\"snapshot_path\":\"$snap/base/state\",\"mem_file_path\":\"$snap/base/memory\"}"
expect "create while running: 400" 400 "only when the microVM is paused"
req "$A" PATCH /vm '{"state":"Paused"}'
req "$A" PUT /snapshot/create "{\"snapshot_path\":\"$snap/base/state\",\"mem_file_path\":\"$snap/base/memory\",\"snapshot_type\":\"Partial\"}"
expect "a bad snapshot_type: 400" 400 "Full or Diff"
req "$A" PUT /snapshot/create "{\"snapshot_path\":\"$snap/base/state\",\"mem_file_path\":\"$snap/base/memory\",\"snapshot_type\":\"Full\"}"
expect "Full snapshot of the paused VM" 204
size=$(stat -c %s "$snap/base/memory" 2>/dev/null || echo 0)
used=$(($(stat -c %b "$snap/base/memory" 2>/dev/null || echo 0) * 512))
check "the memory file is the RAM size and sparse ($used of $size bytes)" \
	'[ "$size" = $((128 << 20)) ] && [ "$used" -lt "$size" ]'
req "$A" PUT /snapshot/create "{\"snapshot_path\":\"/nonexistent/dir/state\",\"mem_file_path\":\"$snap/x.mem\"}"
expect "create into a missing folder: 400, nothing left" 400
check "a failed create leaves no memory file" '[ ! -e "$snap/x.mem" ]'

req "$A" PATCH /vm '{"state":"Resumed"}'
w2=$(invoke "$work/a.vsock" w-2 '{"n":2}')
check "the resumed VM answers again" '[[ "$w2" == *"\"echo\":{\"n\":2}"* ]]'
req "$A" PATCH /vm '{"state":"Paused"}'
req "$A" PUT /snapshot/create "{\"snapshot_path\":\"$snap/diff/state\",\"mem_file_path\":\"$snap/diff/memory\",\"snapshot_type\":\"Diff\"}"
expect "Diff snapshot" 204
dused=$(($(stat -c %b "$snap/diff/memory" 2>/dev/null || echo 0) * 512))
check "the Diff holds fewer pages than the Full ($dused < $used bytes)" \
	'[ "$dused" -gt 0 ] && [ "$dused" -lt "$used" ]'
req "$A" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 4 "$work/a2.vsock")"
expect "load on a process that booted: 400" 400 "after starting"
kill -TERM "${api_pid[a]}"
api_wait a 60
rc=$?
check "SIGTERM: the original thawvm exits 0 and removes its sockets (rc $rc)" \
	'[ $rc = 0 ] && [ ! -e "$A" ] && [ ! -e "$work/a.vsock" ]'

# --- File: same answer as the warm VM, a new CID, the snapshot's state.
B=$work/b.sock
api_start b "$B"
t0=$(date +%s%N)
req "$B" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 5 "$work/b.vsock")"
expect "load (File)" 204
probe=$("$thawctl" probe --uds "$work/b.vsock" --timeout 120 2>&1)
got=$(invoke "$work/b.vsock" w-1 "$payload")
ms=$((($(date +%s%N) - t0) / 1000000))
check "File clone: the warm VM's answer (load to answer: $ms ms)" '[ "$got" = "$warm" ]' ||
	{ echo "want $warm"; echo "got  $got"; } | diag
check "File clone: CID 5 and the snapshot's invocation count (1)" \
	'[[ "$probe" == *"\"cid\":5"* && "$probe" == *"\"invocations\":1,"* ]]' ||
	echo "$probe" | diag
req "$B" GET /
expect "File clone: GET / says Running" 200 '"state":"Running"'
req "$B" GET /vm/config
expect "File clone: GET /vm/config shows the restored machine" 200 '"guest_cid":5'
# A second clone of the snapshot given B's uds_path: refused, by name,
# and B keeps its socket.
S=$work/s.sock
api_start s "$S"
req "$S" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 16 "$work/b.vsock")"
expect "a load onto the uds_path a running clone listens on: 400" 400 \
	"$work/b.vsock: another process listens on it"
kill -TERM "${api_pid[s]}"
api_wait s 60 >/dev/null
got=$(invoke "$work/b.vsock" w-3 "$payload")
check "File clone: still answers on its uds_path" \
	'[[ "$got" == *"\"echo\":$payload"* ]]' || echo "$got" | diag
req "$B" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 6 "$work/b2.vsock")"
expect "a second load: 400" 400 "after starting"
req "$B" PUT /snapshot/wset "{\"wset_path\":\"$work/b.wset\"}"
expect "wset without record_wset: 400" 400 "record_wset"
kill -TERM "${api_pid[b]}"
api_wait b 60 >/dev/null

# --- File with recording, then a clone that prefetches that working set.
R=$work/r.sock
api_start r "$R"
req "$R" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 6 "$work/r.vsock" ',"record_wset":true')"
expect "load (File, record_wset)" 204
got=$(invoke "$work/r.vsock" w-1 "$payload")
req "$R" PUT /snapshot/wset "{\"wset_path\":\"$snap/base/wset\"}"
expect "PUT /snapshot/wset writes the working set" 204
check "the working set file exists" '[ -s "$snap/base/wset" ]'
kill -TERM "${api_pid[r]}"
api_wait r 60 >/dev/null
P=$work/p.sock
api_start p "$P"
req "$P" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 7 "$work/p.vsock" ",\"wset_path\":\"$snap/base/wset\"")"
expect "load (File, wset_path prefetch)" 204
got=$(invoke "$work/p.vsock" w-1 "$payload")
check "prefetched clone: the warm VM's answer" '[ "$got" = "$warm" ]'
check "the log counts the prefetched pages" \
	'grep -q "working-set pages mapped" "$work/p.vmm.log"'
kill -TERM "${api_pid[p]}"
api_wait p 60 >/dev/null

# --- Uffd: the handler serves the faults.
"$handler" "$work/h.sock" "$snap/base/memory" --once > "$work/h.out" \
	2> "$work/h.err" &
hpid=$!
for ((i = 0; i < 50; i++)); do [ -S "$work/h.sock" ] && break; sleep 0.1; done
C=$work/c.sock
api_start c "$C"
req "$C" PUT /snapshot/load "$(load_body "$snap/base/state" Uffd "$work/h.sock" 8 "$work/c.vsock")"
expect "load (Uffd)" 204
got=$(invoke "$work/c.vsock" w-1 "$payload")
check "Uffd clone: the warm VM's answer" '[ "$got" = "$warm" ]' ||
	echo "$got" | diag
kill -TERM "${api_pid[c]}"
api_wait c 60 >/dev/null
for ((i = 0; i < 100; i++)); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.1; done
wait "$hpid"
hrc=$?
faults=$(sed -n 's/.*total.* faults=\([0-9]*\).*/\1/p' "$work/h.out" | tail -n 1)
check "the handler served faults (${faults:-none}) and exited with the VM (rc $hrc)" \
	'[ "${faults:-0}" -gt 0 ] && [ $hrc = 0 ]' || diag < "$work/h.out"

# --- Thaw: guest RAM is a clone of thaw.ko's snapshot object.  The first
# clone records its working set in the module; the next has it premapped.
# A holder keeps the object between clones, as a worker host would.
"$thawctl" hold "$snap/base" > "$work/hold.out" 2> "$work/hold.err" &
hold=$!
for ((i = 0; i < 300; i++)); do [ -s "$work/hold.out" ] && break; sleep 0.1; done
# (thawvm registered the object at PUT /snapshot/create where thaw.ko
# keeps a cache: then the holder finds it there.)
check "thawctl hold creates or finds the snapshot's object and holds it" \
	'grep -q "\"object\":\"mem-" "$work/hold.out"' || diag < "$work/hold.err"
T=$work/t.sock
api_start t "$T"
req "$T" PUT /snapshot/load "$(load_body "$snap/base/state" Thaw "$snap/base/memory" 14 "$work/t.vsock" ',"record_wset":true')"
expect "load (Thaw, record_wset)" 204
tprobe=$("$thawctl" probe --uds "$work/t.vsock" --timeout 120 2>&1)
check "the first Thaw clone opens the held object" \
	'grep -q "(shared" "$work/t.vmm.log"' || grep restore: "$work/t.vmm.log" | diag
got=$(invoke "$work/t.vsock" w-1 "$payload")
check "Thaw clone: the warm VM's answer" '[ "$got" = "$warm" ]' ||
	echo "$got" | diag
req "$T" PUT /snapshot/wset "{\"wset_path\":\"$work/thaw.wset\"}"
expect "Thaw clone: PUT /snapshot/wset writes the module's log" 204
check "the Thaw working set file exists" '[ -s "$work/thaw.wset" ]'
U=$work/u.sock
api_start u "$U"
req "$U" PUT /snapshot/load "$(load_body "$snap/base/state" Thaw "$snap/base/memory" 15 "$work/u.vsock" ",\"wset_path\":\"$work/thaw.wset\"")"
expect "load (Thaw, premapped working set) beside a live Thaw clone" 204
uprobe=$("$thawctl" probe --uds "$work/u.vsock" --timeout 120 2>&1)
got=$(invoke "$work/u.vsock" w-1 "$payload")
check "premapped Thaw clone: the warm VM's answer" '[ "$got" = "$warm" ]'
check "the log counts the premapped pages, the object is shared" \
	'grep -q "premapped" "$work/u.vmm.log" && grep -q "(shared" "$work/u.vmm.log"' ||
	grep restore: "$work/u.vmm.log" | diag
ra=$(json_get <(echo "$tprobe") random)
rb=$(json_get <(echo "$uprobe") random)
check "two clones of one snapshot give different random bytes" \
	'[ -n "$ra" ] && [ "$ra" != "$rb" ]' || echo "$tprobe / $uprobe" | diag
kill -TERM "${api_pid[t]}" "${api_pid[u]}"
api_wait t 60 >/dev/null
api_wait u 60 >/dev/null
kill -TERM "$hold"
pid_wait "$hold" 30
rc=$?
check "thawctl hold lets go on SIGTERM (rc $rc)" '[ $rc = 0 ]'

# --- Bad snapshots: each refused, the process stays fresh for a good load.
bad=$work/bad
mkdir -p "$bad"
cp "$snap/base/state" "$bad/truncated"
truncate -s $(($(stat -c %s "$bad/truncated") - 100)) "$bad/truncated"
cp "$snap/base/state" "$bad/flipped"
printf '\xa5' | dd of="$bad/flipped" bs=1 seek=200 conv=notrunc 2>/dev/null
cp "$snap/base/state" "$bad/version"
printf '\x02' | dd of="$bad/version" bs=1 seek=8 conv=notrunc 2>/dev/null
cp --sparse=always "$snap/base/memory" "$bad/short.mem"
truncate -s $((64 << 20)) "$bad/short.mem"

D=$work/d.sock
api_start d "$D"
req "$D" PUT /snapshot/load "$(load_body "$bad/truncated" File "$snap/base/memory" 9 "$work/d.vsock")"
expect "truncated state file: 400" 400 "truncated"
req "$D" PUT /snapshot/load "$(load_body "$bad/flipped" File "$snap/base/memory" 9 "$work/d.vsock")"
expect "a flipped byte: 400 (checksum)" 400 "checksum"
req "$D" PUT /snapshot/load "$(load_body "$bad/version" File "$snap/base/memory" 9 "$work/d.vsock")"
expect "another format version: 400" 400 "version"
req "$D" PUT /snapshot/load "$(load_body "$snap/base/state" File "$bad/short.mem" 9 "$work/d.vsock")"
expect "memory file of the wrong size: 400" 400 "bytes"
req "$D" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 9 "$work/d.vsock" ",\"wset_path\":\"$bad/no-such-wset\"")"
expect "missing working-set file: 400" 400 "no-such-wset"
req "$D" PUT /snapshot/load "$(load_body "$bad/no-such-state" File "$snap/base/memory" 9 "$work/d.vsock")"
expect "missing state file: 400" 400 "no-such-state"
req "$D" PUT /snapshot/load "{\"snapshot_path\":\"$snap/base/state\",\"mem_backend\":{\"backend_type\":\"Uffd\",\"backend_path\":\"$work/no-handler.sock\"}}"
expect "Uffd with no handler listening: 400" 400
req "$D" PUT /snapshot/load "{\"snapshot_path\":\"$snap/base/state\",\"mem_backend\":{\"backend_type\":\"Tape\",\"backend_path\":\"x\"}}"
expect "unknown backend_type: 400" 400 "File, Uffd or Thaw"
req "$D" PUT /snapshot/load "{\"snapshot_path\":\"$snap/base/state\"}"
expect "no memory backend: 400" 400 "mem_backend"
req "$D" GET /
check "after every refusal the VM was never started" \
	'[[ "$body" == *"Not started"* ]] && [ ! -e "$work/d.vsock" ]'
req "$D" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 9 "$work/d.vsock")"
expect "then a good load on the same process" 204
got=$(invoke "$work/d.vsock" w-1 "$payload")
check "and it answers" '[ "$got" = "$warm" ]'
kill -TERM "${api_pid[d]}"
api_wait d 60 >/dev/null

E=$work/e.sock
api_start e "$E"
req "$E" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}'
req "$E" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 10 "$work/e.vsock")"
expect "load after configuring the machine: 400" 400 "configuring boot-specific resources"
kill -TERM "${api_pid[e]}"
api_wait e 60 >/dev/null

# --- The Diff over its base.
cp --sparse=always "$snap/base/memory" "$work/merged.mem"
out=$("$thawctl" merge-diff "$work/merged.mem" "$snap/diff/memory" 2>&1)
mrc=$?
check "thawctl merge-diff applies the Diff to a copy of its base" '[ $mrc = 0 ]' ||
	echo "$out" | diag
F=$work/f.sock
api_start f "$F"
req "$F" PUT /snapshot/load "$(load_body "$snap/diff/state" File "$work/merged.mem" 11 "$work/f.vsock")"
expect "load the Diff's state with the merged memory" 204
probe=$("$thawctl" probe --uds "$work/f.vsock" --timeout 120 2>&1)
check "the Diff clone is the VM after its second invocation" \
	'[[ "$probe" == *"\"invocations\":2,"* && "$probe" == *"\"cid\":11"* ]]' ||
	echo "$probe" | diag
got=$(invoke "$work/f.vsock" w-3 '{"n":3}')
check "and answers" '[[ "$got" == *"\"echo\":{\"n\":3}"* ]]'
kill -TERM "${api_pid[f]}"
pid_wait "${api_pid[f]}" 60 || echo "# the Diff clone did not exit on SIGTERM"

# --- Killed in the middle of a load.
"$handler" "$work/k.sock" "$snap/base/memory" > "$work/k.out" 2>&1 &
kpid=$!
for ((i = 0; i < 50; i++)); do [ -S "$work/k.sock" ] && break; sleep 0.1; done
K=$work/kill.sock
api_start kill "$K"
req "$K" PUT /snapshot/load "$(load_body "$snap/base/state" Uffd "$work/k.sock" 12 "$work/kill.vsock")" &
rpid=$!
sleep 0.3
kill -9 "${api_pid[kill]}"
pid_wait "${api_pid[kill]}" 30
krc=$?
check "SIGKILL mid-load: no thawvm left (rc $krc)" '[ $krc != 124 ]'
pid_wait "$rpid" 30 >/dev/null
kill -TERM "$kpid"
pid_wait "$kpid" 30
krc=$?
check "the handler ends cleanly after its VMM died (rc $krc)" '[ $krc = 0 ]' ||
	diag < "$work/k.out"
api_start kill2 "$K"
# The killed one's socket file is there from the start: wait for the new
# thawvm to have taken it over.
for ((i = 0; i < 100; i++)); do
	req "$K" GET /
	[ "$code" != 000 ] && break
	sleep 0.1
done
expect "a new thawvm takes over the killed one's socket" 200 "Not started"
kill -TERM "${api_pid[kill2]}"
api_wait kill2 60 >/dev/null
G=$work/g.sock
api_start g "$G"
req "$G" PUT /snapshot/load "$(load_body "$snap/base/state" File "$snap/base/memory" 13 "$work/g.vsock")" &
rpid=$!
sleep 0.2
kill -TERM "${api_pid[g]}"
api_wait g 60
rc=$?
pid_wait "$rpid" 30 >/dev/null
check "SIGTERM mid-load: thawvm exits and removes its sockets (rc $rc)" \
	'[ ! -e "$G" ] && [ ! -e "$work/g.vsock" ]'
leftover=$(pgrep -f "thawvm --api-sock $work" | wc -l)
check "no thawvm process is left ($leftover)" '[ "$leftover" = 0 ]'
