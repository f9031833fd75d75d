#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# thaw-init's Lambda semantics end to end, in function VMs on the stock
# kernel (selftests/lib/function-vm.sh boots them; THAW_TEST_VMM picks the VMM):
# the runtime's environment, function errors, a runtime that exits, a
# timeout, response size limits, queued invocations, hostile protocol
# messages, an init error, and SIGTERM ending in a clean power-off.
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"

PLAN=33
tap_plan $PLAN "guest runtime"

img=$work/testfunc.cpio.gz
if ! "$mkfunc" "$top/selftests/guest/testfunc/bootstrap" "$img" --busybox \
	--name tf --handler my.handler --memory 128 --env CUSTOM=hello \
	2>&1 | diag; then
	for ((i = 0; i < PLAN; i++)); do tap_fail "mkfunc"; done
	exit 1
fi

# Three VMs: the main one, one whose init fails, one to shut down; each
# starts once the one before has booted (function-vm.sh, vm_wait_up).
vm_start main "$img" 3 thaw.env.CUSTOM2=world
vm_wait_up main
vm_start initfail "$img" 4 thaw.env.INIT_FAIL=1 thaw.user=0
vm_wait_up initfail
vm_start stop "$img" 5 thaw.user=0

if vm_wait_ready main; then
	tap_ok "main: ready notification: $(cat "$work/main.ready")"
else
	tap_fail "main: ready notification"
	diag < "$work/main.ready.err"
	vm_console main
fi

# --- the environment the runtime sees
out=$work/env.json
t0=$(($(date +%s%N) / 1000000))
vm_ctl main invoke --payload '{"action":"env"}' --request-id env-1 \
	--trace-id 'Root=1-abc;Sampled=1' --timeout 60 > "$out" 2>&1
rc=$?
diag < "$out"
check "env: invoke exits 0" '[ "$rc" = 0 ]'
expect() { # KEY VALUE
	local got
	got=$(json_get "$out" "$1")
	[ "$got" = "$2" ] || { echo "# $1: got '$got', want '$2'"; return 1; }
}
check "env: function name, handler, memory, version from mkfunc" \
	'expect name tf && expect handler my.handler && expect memory 128 &&
	 expect version "\$LATEST"'
check "env: Lambda paths, API address, region, TZ, HOME, cwd, init type" \
	'expect task_root /var/task && expect runtime_dir /var/runtime &&
	 expect api 127.0.0.1:9001 && expect region us-east-1 &&
	 expect tz :UTC && expect home /tmp && expect pwd /var/task &&
	 expect init_type on-demand'
check "env: --env from mkfunc and thaw.env.* from the command line" \
	'expect custom hello && expect custom2 world'
check "env: runs as Lambda's sandbox user, /tmp writable" \
	'expect uid 993 && expect tmp_writable true'
check "env: request id, trace id and default ARN headers" \
	'expect request_id env-1 && expect trace "Root=1-abc;Sampled=1" &&
	 expect arn arn:aws:lambda:us-east-1:000000000000:function:tf'
dl=$(json_get "$out" deadline_ms)
check "env: deadline header is host now + 60 s, clocks synced ($dl, $t0)" \
	'[ -n "$dl" ] && [ $((dl - t0 - 60000)) -gt -5000 ] &&
	 [ $((dl - t0 - 60000)) -lt 5000 ]'

# --- errors
vm_ctl main invoke --payload '{"action":"error"}' > "$work/err.out" \
	2> "$work/err.err"
rc=$?
cat "$work/err.out" "$work/err.err" | diag
check "function error: exit 3, error body and type" \
	'[ "$rc" = 3 ] && grep -q "failed on purpose" "$work/err.out" &&
	 grep -q Test.Failed "$work/err.err"'

vm_ctl main invoke --payload '{"action":"exit"}' > "$work/exit.out" \
	2> "$work/exit.err"
rc=$?
cat "$work/exit.out" "$work/exit.err" | diag
check "runtime exits mid-invocation: exit 3, Runtime.ExitError" \
	'[ "$rc" = 3 ] && grep -q Runtime.ExitError "$work/exit.err"'
out=$(vm_ctl main invoke --payload '{"n":1}' --request-id n-1 \
	--timeout 60 2>&1)
check "the restarted runtime answers the next invocation" \
	'[ "$out" = "{\"request_id\":\"n-1\",\"echo\":{\"n\":1}}" ]'

s=$(date +%s)
vm_ctl main invoke --payload '{"action":"sleep","seconds":60}' --timeout 3 \
	> "$work/to.out" 2> "$work/to.err"
rc=$?
e=$(($(date +%s) - s))
cat "$work/to.out" "$work/to.err" | diag
check "timeout: exit 5, Sandbox.Timedout, after ${e} s (deadline 3 s)" \
	'[ "$rc" = 5 ] && grep -q Sandbox.Timedout "$work/to.err" &&
	 [ "$e" -lt 30 ]'
out=$(vm_ctl main invoke --payload '{"n":2}' --request-id n-2 \
	--timeout 60 2>&1)
check "a fresh runtime answers after the timeout" \
	'[ "$out" = "{\"request_id\":\"n-2\",\"echo\":{\"n\":2}}" ]'

# --- sizes
vm_ctl main invoke --payload '{"action":"big","bytes":1048576}' \
	--timeout 120 > "$work/big.out" 2> "$work/big.err"
rc=$?
n=$(wc -c < "$work/big.out")
check "1 MiB response arrives whole (rc $rc, $n bytes)" \
	'[ "$rc" = 0 ] && [ "$n" = 1048578 ]' ||
	{ diag < "$work/big.err"; vm_alive main || vm_console main; }
vm_ctl main invoke --payload '{"action":"big","bytes":6291456}' \
	--timeout 180 > "$work/big2.out" 2> "$work/big2.err"
rc=$?
diag < "$work/big2.err"
check "response over 6 MiB: exit 3, Function.ResponseSizeTooLong" \
	'[ "$rc" = 3 ] && grep -q Function.ResponseSizeTooLong "$work/big2.err"'
head -c 524288 /dev/zero | tr '\0' b | sed 's/.*/{"pad":"&"}/' \
	> "$work/req.json"
n=$(vm_ctl main invoke --request-id pad-1 --timeout 120 \
	< "$work/req.json" 2>/dev/null | wc -c)
want=$(($(wc -c < "$work/req.json") + 30))
check "512 KiB request from stdin echoed whole ($n of $want bytes)" \
	'[ "$n" = "$want" ]'
head -c 6291457 /dev/zero > "$work/huge"
vm_ctl main invoke --raw < "$work/huge" > /dev/null 2>&1
rc=$?
check "thawctl refuses a payload over 6 MiB (exit 2, got $rc)" '[ "$rc" = 2 ]'

# --- queueing
pids=()
for i in 1 2 3; do
	vm_ctl main invoke --timeout 120 \
		--payload "{\"action\":\"sleep\",\"seconds\":1,\"i\":$i}" \
		> "$work/q$i.out" 2>&1 &
	pids+=($!)
done
qok=0
for i in 1 2 3; do
	wait "${pids[$((i - 1))]}" && grep -q '"slept":1' "$work/q$i.out" &&
		qok=$((qok + 1))
done
check "three concurrent invocations are queued and all answered ($qok/3)" \
	'[ "$qok" = 3 ]'

# --- hostile protocol messages: each refused, the guest keeps going
hostile() { # DESCRIPTION WANT-IN-ANSWER: stdin is the raw request
	local ans
	ans=$(raw_send main | tr -d '\0')
	if grep -q -- "$2" <<< "$ans"; then
		tap_ok "hostile: $1"
	else
		tap_fail "hostile: $1"
		echo "$ans" | head -c 300 | diag
	fi
}
m='{"request_id":"h1","deadline_ms":9999999999999}'
frame 1 "$m" '{}' | sed 's/^THAW/XXXX/' > "$work/h"
hostile "bad magic" Thaw.BadRequest < "$work/h"
frame 1 "$m" '{}' 2 > "$work/h"
hostile "protocol version 2" Thaw.ProtocolVersion < "$work/h"
frame 1 "$m" '{}' 1 1 > "$work/h"
hostile "nonzero flags" Thaw.BadRequest < "$work/h"
frame 4 '{}' > "$work/h"
hostile "a reply type as request" Thaw.BadRequest < "$work/h"
frame 1 "$m" '' 1 0 70000 > "$work/h"
hostile "meta length over 64 KiB" Thaw.BadRequest < "$work/h"
frame 1 "$m" '' 1 0 '' 7000000 > "$work/h"
hostile "body length over 6 MiB" Thaw.BadRequest < "$work/h"
bad_metas=(
	'{"request_id":'
	'[1,2]'
	'{"request_id":"a\r\nX-Evil: 1","deadline_ms":1}'
	'{"request_id":"h2","deadline_ms":"soon"}'
	'{"request_id":"h3","deadline_ms":9999999999999,"entropy":"abc"}'
	'{"request_id":"h4","deadline_ms":99999999999999999999999}'
	'{"a":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}'
)
bad_ok=0
for meta in "${bad_metas[@]}"; do
	ans=$(frame 1 "$meta" '{}' | raw_send main | tr -d '\0')
	if grep -q Thaw.BadRequest <<< "$ans"; then
		bad_ok=$((bad_ok + 1))
	else
		echo "# bad meta $meta: $(head -c 200 <<< "$ans")"
	fi
done
ans=$(frame 3 '{"random_bytes":100000}' | raw_send main | tr -d '\0')
grep -q Thaw.BadRequest <<< "$ans" && bad_ok=$((bad_ok + 1))
check "hostile: 8 bad metas (truncated, array, CRLF in id, string and huge deadline, odd hex, deep nesting, probe size) refused ($bad_ok/8)" \
	'[ "$bad_ok" = 8 ]'
frame 1 "$m" '{"x":1}' | head -c 30 | raw_send main > /dev/null
out=$(vm_ctl main probe --entropy 64 --sync-clock 2>&1)
echo "$out" | diag
check "after a truncated request and every refusal the guest still answers" \
	'grep -q "\"ready\":true" <<< "$out"'
echo "$out" > "$work/probe.json"
check "probe: CID 3, 16 random bytes, host entropy counted" \
	'[ "$(json_get "$work/probe.json" cid)" = 3 ] &&
	 [ "$(json_get "$work/probe.json" random | tr -d "\n" | wc -c)" = 32 ] &&
	 [ "$(json_get "$work/probe.json" entropy_bytes)" -ge 64 ]'
out=$(vm_ctl main invoke --payload '{"n":3}' --request-id n-3 2>&1)
check "an invocation after the hostile messages" \
	'[ "$out" = "{\"request_id\":\"n-3\",\"echo\":{\"n\":3}}" ]'

# --- init error (the VM started with INIT_FAIL=1)
vm_ctl initfail invoke --payload '{}' --timeout 120 > "$work/ie.out" \
	2> "$work/ie.err"
rc=$?
cat "$work/ie.out" "$work/ie.err" | diag
check "init error: exit 4, the runtime's error body and type" \
	'[ "$rc" = 4 ] && grep -q "init failed on purpose" "$work/ie.out" &&
	 grep -q Test.InitFailed "$work/ie.err"'
out=$(vm_ctl initfail probe 2>&1)
check "init error: the runtime is not ready, thaw-init keeps answering" \
	'grep -q "\"ready\":false" <<< "$out"'

# --- SIGTERM: thaw-init stops the runtime, syncs and powers off
if vm_wait_ready stop; then
	vm_ctl stop invoke --payload '{"action":"signal-init","signal":"TERM"}' \
		--timeout 60 > "$work/stop.out" 2>&1
	rc=$?
	diag < "$work/stop.out"
	check "SIGTERM: the invocation in flight is refused (Thaw.ShuttingDown)" \
		'[ "$rc" = 1 ] && grep -q Thaw.ShuttingDown "$work/stop.out"'
	vm_wait_exit stop 120
	rc=$?
	check "SIGTERM: the guest powers off and the VMM exits 0 (rc $rc)" \
		'[ "$rc" = 0 ] && grep -q "powering off" "$work/stop.console"'
else
	tap_fail "SIGTERM: stop VM ready"
	tap_fail "SIGTERM: power-off"
	vm_console stop
fi

check "main VM still running after all of it" 'vm_alive main' ||
	vm_console main
[ "$tap_n" = "$PLAN" ] || echo "# plan mismatch: ran $tap_n of $PLAN"
echo "# took $SECONDS s"
if [ -n "$(grep -l 'Kernel panic\|BUG:\|Oops' "$work"/*.console 2>/dev/null)" ]; then
	for v in main initfail stop; do vm_console "$v"; done
fi
exit 0
