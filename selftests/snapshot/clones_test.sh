#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Clones: 8 thawvm processes restored at once from one snapshot of the echo
# sample (thawctl restore, each with its own API socket, vsock socket and
# CID; File, Uffd and Thaw backends, half with the working-set prefetch).
# Before any invocation each clone is asked, with no host entropy fed,
# for its CID and 16 random bytes read in the guest: every CID is the one
# it was given and every clone's bytes differ (its CRNG was reseeded on
# restore).  Then all 8 are invoked at once and answer, and stopping them
# leaves no process, socket or thaw.ko object.
set -uo pipefail
here=$(dirname "$0")
. "$here/../lib/function-vm.sh"
. "$here/../lib/snapshot.sh"
trap clone_cleanup EXIT

PLAN=12
N=${THAW_TEST_CLONES:-8}
VMM=thawvm
tap_plan $PLAN "snapshot clones" "$(curl_missing)"
backends=(File Uffd Thaw)
[ -c /dev/thaw ] || backends=(File Uffd)

snap=$work/snap
snap_make "$snap"
rc=$?
check "thawctl snapshot --record-wset of the echo sample (rc $rc)" \
	'[ $rc = 0 ] && [ -s "$snap/wset" ]' ||
	{ diag < "$work/snap.err"; tail -n 20 "$work/snap.console" 2>/dev/null | diag; }

# --- N clones at once, left waiting for their first invocation.
t0=$(date +%s%N)
declare -A spid
for ((i = 0; i < N; i++)); do
	opts=(--backend "${backends[i % ${#backends[@]}]}")
	((i % 2)) && opts+=(--wset)
	clone_start "c$i" $((200 + i)) "$work/c$i.json" "${opts[@]}" &
	spid[$i]=$!
done
started=0 pids=()
for ((i = 0; i < N; i++)); do
	wait "${spid[$i]}"
	rc=$?
	pid=$(json_num "$work/c$i.json" pid)
	[ -n "$pid" ] && { clone_pids+=("$pid"); pids+=("$pid"); }
	if [ $rc = 0 ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		started=$((started + 1))
	else
		{ echo "c$i: rc $rc"; cat "$work/c$i.json.err"; tail -n 5 "$work/c$i.vmm.log"; } | diag
	fi
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "$N clones restored at once ($started running, $ms ms for all)" '[ $started = "$N" ]'
check "each clone is its own thawvm process" \
	'[ "$(printf "%s\n" "${pids[@]}" | sort -u | wc -l)" = "$N" ]'
n=$(cat "$work"/c*.json 2>/dev/null | grep -o '"backend":"[A-Za-z]*"' | sort -u | wc -l)
check "they use ${#backends[@]} backends ($n)" '[ "$n" = ${#backends[@]} ]'

# --- Ask each for its CID and random bytes before any invocation.
cids=() rnds=() wrong=()
for ((i = 0; i < N; i++)); do
	p=$("$thawctl" probe --uds "$work/c$i.vsock" --random-bytes 16 \
		--timeout 120 2> "$work/p$i.err")
	cid=$(sed -n 's/.*"cid":\([0-9]*\).*/\1/p' <<< "$p")
	rnd=$(sed -n 's/.*"random":"\([0-9a-f]*\)".*/\1/p' <<< "$p")
	cids+=("${cid:-none}")
	rnds+=("${rnd:-none$i}")
	[ "${cid:-}" = $((200 + i)) ] || wrong+=("c$i:${cid:-none}")
	[ -n "$rnd" ] || { echo "c$i: $p"; cat "$work/p$i.err"; } | diag
done
echo "# CIDs: ${cids[*]}"
echo "# random: ${rnds[*]}"
check "every clone reports the CID it was given" '[ ${#wrong[@]} = 0 ]' ||
	echo "wrong: ${wrong[*]}" | diag
check "the CIDs are distinct" \
	'[ "$(printf "%s\n" "${cids[@]}" | sort -u | wc -l)" = "$N" ]'
check "every clone read random bytes" \
	'! printf "%s\n" "${rnds[@]}" | grep -q none'
check "the clones' random bytes are distinct (CRNG reseeded on restore)" \
	'[ "$(printf "%s\n" "${rnds[@]}" | sort -u | wc -l)" = "$N" ]'

# --- All invoked at once.
for ((i = 0; i < N; i++)); do
	"$thawctl" invoke --uds "$work/c$i.vsock" --payload "{\"clone\":$i}" \
		--timeout 120 > "$work/i$i.out" 2>&1 &
	spid[$i]=$!
done
answered=0
for ((i = 0; i < N; i++)); do
	wait "${spid[$i]}"
	rc=$?
	if [ $rc = 0 ] && grep -q "\"echo\":{\"clone\":$i}" "$work/i$i.out"; then
		answered=$((answered + 1))
	else
		{ echo "c$i: rc $rc"; cat "$work/i$i.out"; } | diag
	fi
done
check "all $N clones answer their first invocation, sent at once ($answered)" \
	'[ $answered = "$N" ]'

# --- A clone's memory is its own: c0's answer is still c0's after the rest.
out=$("$thawctl" invoke --uds "$work/c0.vsock" --payload '{"again":0}' --timeout 60 2>&1)
check "a second invocation of one clone answers" '[[ "$out" == *"\"echo\":{\"again\":0}"* ]]' ||
	echo "$out" | diag

# --- Stop them all.
gone=0
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]}"; do clone_stop "$p" && gone=$((gone + 1)); done
sleep 0.5
left=$(pgrep -f "$work/" | wc -l)
socks=$(find "$work" -name '*.sock' -o -name '*.vsock' | wc -l)
check "SIGTERM stops all $N ($gone); no process ($left) or socket ($socks) left" \
	'[ $gone = "$N" ] && [ "$left" = 0 ] && [ "$socks" = 0 ]'
if [ -c /dev/thaw ]; then
	st=$("$thawctl" stats 2>&1)
	check "thaw.ko holds no snapshot or clone afterwards" \
		'[[ "$st" == *"thaw: 0 snapshots, 0 clones"* ]]' || echo "$st" | diag
else
	SKIP_REASON="no /dev/thaw"
	tap_skip "thaw.ko holds no snapshot or clone afterwards"
fi
