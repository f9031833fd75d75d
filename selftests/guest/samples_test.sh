#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The sample functions (tools/guest/samples), built with mkfunc and booted
# on the stock kernel (THAW_TEST_VMM picks the VMM, see selftests/lib/function-vm.sh): the echo
# function answers THAW_TEST_INVOCATIONS (default 100) invocations with
# exactly the right bodies; the heavy one does its init once and reports
# the digest of it.
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"

N=${THAW_TEST_INVOCATIONS:-100}
HEAVY_MB=4
PLAN=9
tap_plan $PLAN samples

samples=$top/tools/guest/samples
if ! "$mkfunc" "$samples/echo/bootstrap" "$work/echo.cpio.gz" --busybox \
	2>&1 | diag ||
   ! "$mkfunc" "$samples/heavy/bootstrap" "$work/heavy.cpio.gz" --busybox \
	--env HEAVY_INIT_MB=$HEAVY_MB 2>&1 | diag; then
	for ((i = 0; i < PLAN; i++)); do tap_fail "mkfunc"; done
	exit 1
fi

start=$(date +%s)
vm_start echo "$work/echo.cpio.gz" 3
vm_wait_up echo
vm_start heavy "$work/heavy.cpio.gz" 4

if vm_wait_ready echo; then
	tap_ok "echo: ready after $(($(date +%s) - start)) s: $(cat "$work/echo.ready")"
else
	tap_fail "echo: ready notification"
	diag < "$work/echo.ready.err"
	vm_console echo
fi
check "echo: the ready message names the function and CID 3" \
	'[ "$(json_get "$work/echo.ready" function_name)" = echo ] &&
	 [ "$(json_get "$work/echo.ready" cid)" = 3 ]'

# Payloads with escapes and UTF-8: the function must pass them through.
bad=0
t0=$(date +%s%N)
for ((i = 1; i <= N; i++)); do
	p="{\"i\":$i,\"s\":\"h\\u00e9llo \\\"q\\\" \\\\ / é\",\"a\":[1,2.5,null,true]}"
	want="{\"request_id\":\"e-$i\",\"function\":\"echo\",\"bytes\":$(printf %s "$p" | wc -c),\"echo\":$p}"
	got=$(vm_ctl echo invoke --request-id "e-$i" --payload "$p" \
		--timeout 60 2>&1)
	if [ "$got" != "$want" ]; then
		bad=$((bad + 1))
		[ "$bad" -le 3 ] && { echo "# want $want"; echo "# got  $got"; }
	fi
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "echo: $N invocations, every body exact ($bad wrong, $((ms / N)) ms each)" \
	'[ "$bad" = 0 ]'
out=$(vm_ctl echo probe 2>&1)
echo "$out" > "$work/echo.probe"
check "echo: probe counts the $N invocations" \
	'[ "$(json_get "$work/echo.probe" invocations)" = "$N" ]'

if vm_wait_ready heavy; then
	tap_ok "heavy: ready: $(cat "$work/heavy.ready")"
else
	tap_fail "heavy: ready notification"
	diag < "$work/heavy.ready.err"
	vm_console heavy
fi
digest=$(head -c $((HEAVY_MB * 1048576)) /dev/zero | sha256sum | cut -d' ' -f1)
vm_ctl heavy invoke --payload '{"k":1}' --timeout 60 > "$work/h1" 2>&1
rc=$?
diag < "$work/h1"
check "heavy: the response carries the init's SHA-256 of $HEAVY_MB MiB" \
	'[ "$rc" = 0 ] && [ "$(json_get "$work/h1" init_digest)" = "$digest" ] &&
	 [ "$(json_get "$work/h1" init_mb)" = "$HEAVY_MB" ] &&
	 grep -q "\"event\":{\"k\":1}}$" "$work/h1"'
vm_ctl heavy invoke --payload '{"k":2}' --timeout 60 > "$work/h2" 2>&1
check "heavy: init ran once (same init_ms, same digest on the next call)" \
	'[ "$(json_get "$work/h2" init_ms)" = "$(json_get "$work/h1" init_ms)" ] &&
	 [ "$(json_get "$work/h2" init_digest)" = "$digest" ]'
check "heavy: init took measurable time ($(json_get "$work/h1" init_ms) ms for $HEAVY_MB MiB)" \
	'[ "$(json_get "$work/h1" init_ms)" -gt 0 ]'

check "both VMs still running" 'vm_alive echo && vm_alive heavy'
[ "$tap_n" = "$PLAN" ] || echo "# plan mismatch: ran $tap_n of $PLAN"
echo "# took $SECONDS s"
exit 0
