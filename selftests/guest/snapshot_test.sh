#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# SnapStart on the guest side, with QEMU's own snapshot (a migration to a
# file) as the VMM: a function VM is snapshotted at its ready point, and
# again with an invocation in flight; a clone is restored from each, with
# new vsock CIDs.
# Each clone re-reads its CID after the transport reset, keeps thaw-init's
# listener working although every old connection died, answers the
# runtime's pending "next" with its first invocation, and, fed fresh host
# entropy, gives random bytes of its own.  thawvm's snapshots are tested
# with thawvm's snapshot work; this test runs with THAW_TEST_VMM=qemu.
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"

PLAN=10
why=
[ "$VMM" != qemu ] && why="QEMU's snapshots only (THAW_TEST_VMM=$VMM)"
tap_plan $PLAN "snapshot and clones" "$why"

img=$work/testfunc.cpio.gz
if ! "$mkfunc" "$top/selftests/guest/testfunc/bootstrap" "$img" --busybox \
	--name snap 2>&1 | diag; then
	for ((i = 0; i < PLAN; i++)); do tap_fail "mkfunc"; done
	exit 1
fi

vm_start src "$img" 3
if ! vm_wait_ready src; then
	diag < "$work/src.ready.err"
	vm_console src
	for ((i = 0; i < PLAN; i++)); do tap_fail "source VM ready"; done
	exit 0
fi
tap_ok "source ready: $(cat "$work/src.ready")"
vm_ctl src probe --random-bytes 16 > "$work/src.probe" 2>&1

# Snapshot 1 at the ready point: the runtime's "next" is pending.
s=$(date +%s%N)
vm_snapshot src "$work/snap1"
rc=$?
ms=$((($(date +%s%N) - s) / 1000000))
check "snapshot of the ready VM in $ms ms ($(du -k "$work/snap1" | cut -f1) KiB)" \
	'[ "$rc" = 0 ] && [ -s "$work/snap1" ]'
hmp src cont > /dev/null

# Snapshot 2 with an invocation in flight: its connection dies with the
# transport reset; the clone finishes it unheard.
vm_ctl src invoke --payload '{"action":"sleep","seconds":15}' --timeout 120 \
	> "$work/inflight.out" 2>&1 &
inflight=$!
sleep 3
vm_snapshot src "$work/snap2"
rc=$?
kill "${vm_pid[src]}"
vm_wait_exit src 20
wait "$inflight"
rc2=$?
check "snapshot with an invocation in flight; that one ends with the source (rc $rc2)" \
	'[ "$rc" = 0 ] && [ "$rc2" != 0 ]'

# One clone at a time (see vm_wait_up in function-vm.sh); each is reachable once
# QEMU has loaded it and reset its vsock transport.
for v in a b; do
	if [ "$v" = a ]; then
		vm_restore a src 4 "$work/snap1"
	else
		vm_restore b src 5 "$work/snap2"
	fi
	for ((i = 0; i < 60; i++)); do
		vm_ctl "$v" probe --random-bytes 16 --timeout 5 \
			> "$work/$v.probe0" 2>/dev/null && break
		sleep 1
	done
done
check "each clone answers a probe with its new CID (4 and 5)" \
	'[ "$(json_get "$work/a.probe0" cid)" = 4 ] &&
	 [ "$(json_get "$work/b.probe0" cid)" = 5 ]'
check "the clones are past their init: ready, init time of the source" \
	'[ "$(json_get "$work/a.probe0" ready)" = true ] &&
	 [ "$(json_get "$work/a.probe0" init_ms)" = "$(json_get "$work/src.ready" init_ms)" ] &&
	 [ "$(json_get "$work/b.probe0" init_ms)" = "$(json_get "$work/src.ready" init_ms)" ]'

for v in a b; do
	vm_ctl "$v" probe --random-bytes 32 --entropy 32 --sync-clock \
		> "$work/$v.probe1" 2>&1
done
ra=$(json_get "$work/a.probe1" random)
rb=$(json_get "$work/b.probe1" random)
r0=$(json_get "$work/src.probe" random)
check "fed fresh host entropy, the clones' random bytes differ ($ra, $rb)" \
	'[ "${#ra}" = 64 ] && [ "${#rb}" = 64 ] && [ "$ra" != "$rb" ] &&
	 [ "$(json_get "$work/a.probe1" entropy_bytes)" = 32 ]'
# The clone's clock restarts where the snapshot left it: the sync steps
# it, and afterwards it reads the host's time of the probe's round trip.
before=$(date +%s%N)
vm_ctl a probe --sync-clock > "$work/a.probe2" 2>&1
after=$(date +%s%N)
ga=$(json_get "$work/a.probe2" realtime_ns)
step=$(json_get "$work/a.probe1" clock_step_ns)
check "a clone's clock: stepped by $((${step:-0} / 1000000)) ms, then within the host's probe round trip" \
	'[ -n "$ga" ] && [ "${step:-0}" != 0 ] &&
	 [ "$ga" -ge $((before - 200000000)) ] &&
	 [ "$ga" -le $((after + 200000000)) ]'

# Clone a's runtime was waiting in "next": that request answers the first
# invocation.  Clone b's answers it once the orphaned sleep is done.
for v in a b; do
	vm_ctl "$v" invoke --request-id "first-$v" --payload "{\"clone\":\"$v\"}" \
		--timeout 120 > "$work/$v.first" 2>&1
	echo "rc=$?" >> "$work/$v.first"
done
diag < "$work/a.first"
check "each clone answers its first invocation" \
	'grep -q "^{\"request_id\":\"first-a\",\"echo\":{\"clone\":\"a\"}}rc=0$" "$work/a.first" &&
	 grep -q "^{\"request_id\":\"first-b\",\"echo\":{\"clone\":\"b\"}}rc=0$" "$work/b.first"'
for v in a b; do
	vm_ctl "$v" invoke --payload '{"action":"random"}' > "$work/$v.rand" 2>&1
	diag < "$work/$v.rand"
done
fa=$(json_get "$work/a.rand" random)
fb=$(json_get "$work/b.rand" random)
check "the function itself reads different random bytes in each clone" \
	'[ "${#fa}" = 32 ] && [ "${#fb}" = 32 ] && [ "$fa" != "$fb" ]'
ok=0
for ((i = 1; i <= 5; i++)); do
	for v in a b; do
		out=$(vm_ctl "$v" invoke --request-id "$v-$i" --payload "{\"i\":$i}" 2>&1)
		[ "$out" = "{\"request_id\":\"$v-$i\",\"echo\":{\"i\":$i}}" ] &&
			ok=$((ok + 1))
	done
done
check "both clones keep answering ($ok/10)" '[ "$ok" = 10 ]'
[ "$tap_n" = "$PLAN" ] || echo "# plan mismatch: ran $tap_n of $PLAN"
echo "# took $SECONDS s"
exit 0
