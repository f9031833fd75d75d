#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# SnapStart's restore hooks and the VM generation, with thawvm snapshots:
# the test function (initialization_type snap-start) calls GET
# restore/next after its init; thawctl snapshot takes the VM there; in each
# clone restore/next returns once the kernel has seen the new VM
# generation ID, so the after-restore hook reads generation 1 in
# /run/thaw/generation (0 before), as the invocation does.  The hooks
# outside their moment answer 403; a failing after-restore hook
# (restore/error) makes the invocation an init error with the hook's type,
# and the runtime starts afresh.
set -uo pipefail
here=$(dirname "$0")
. "$here/../lib/function-vm.sh"
. "$here/../lib/snapshot.sh"
trap clone_cleanup EXIT

PLAN=8
VMM=thawvm
tap_plan $PLAN "snapstart hooks" "$(curl_missing)"

img=$work/snapstart.cpio.gz
"$mkfunc" "$here/testfunc/bootstrap" "$img" --busybox --name snapfn \
	--set initialization_type=snap-start 2>&1 | diag

snap=$work/snap
"$thawctl" snapshot "$img" "$snap" --timeout "$BOOT_TIMEOUT" \
	--log "$work/snap.vmm.log" --console "$work/snap.console" \
	> "$work/snap.json" 2> "$work/snap.err"
rc=$?
check "thawctl snapshot: READY at the runtime's restore/next (rc $rc)" \
	'[ $rc = 0 ] && [ -s "$snap/state" ]' ||
	{ diag < "$work/snap.err"; tail -n 20 "$work/snap.console" | diag; }
grep -q 'runtime ready' "$work/snap.console" 2>/dev/null ||
	echo "# no 'runtime ready' line in the snapshot VM's console"

ok=0
for i in 0 1; do
	clone_start "c$i" $((60 + i)) "$work/c$i.json" --backend File \
		--invoke '{"action":"restore"}'
	rc=$?
	pid=$(json_num "$work/c$i.json" pid)
	[ -n "$pid" ] && clone_pids+=("$pid")
	sed 's/.*"response"://' "$work/c$i.json" > "$work/c$i.resp"
	diag < "$work/c$i.resp"
	if [ $rc = 0 ] && [ "$(json_get "$work/c$i.resp" gen_before)" = 0 ] &&
	   [ "$(json_get "$work/c$i.resp" gen_after)" = 1 ] &&
	   [ "$(json_get "$work/c$i.resp" restore_rc)" = 0 ] &&
	   [ "$(json_get "$work/c$i.resp" generation)" = 1 ]; then
		ok=$((ok + 1))
	else
		{ echo "c$i: rc $rc"; cat "$work/c$i.json.err"; tail -n 10 "$work/c$i.console"; } | diag
	fi
done
check "two clones: restore/next returned after the restore, generation 0 -> 1 ($ok)" \
	'[ $ok = 2 ]'
p=$("$thawctl" probe --uds "$work/c0.vsock" --timeout 60 2>&1)
check "the probe reports generation 1 and a ready runtime" \
	'[[ "$p" == *"\"generation\":1"* && "$p" == *"\"ready\":true"* ]]' ||
	echo "$p" | diag
grep -h 'restored: VM generation\|answered restore/next' "$work"/c0.console |
	head -n 4 | diag

out=$("$thawctl" invoke --uds "$work/c0.vsock" --payload '{"action":"hooks"}' \
	--timeout 60 2>&1)
check "restore/next and restore/error after next: 403 InvalidStateTransition" \
	'[[ "$out" == *"\"restore_next\":\"403\""* && "$out" == *"\"restore_error\":\"403\""* ]]' ||
	echo "$out" | diag
out=$("$thawctl" invoke --uds "$work/c1.vsock" --payload '{"n":1}' \
	--request-id again --timeout 60 2>&1)
check "a clone's second invocation is an ordinary one" \
	'[ "$out" = "{\"request_id\":\"again\",\"echo\":{\"n\":1}}" ]' || echo "$out" | diag
for p in "${clone_pids[@]}"; do clone_stop "$p"; done

# --- A VM invoked without a restore: restore/next is answered when the
# invocation arrives; a failing after-restore hook fails it.
vm_start fail "$img" 3 thaw.env.RESTORE_FAIL=1
if vm_wait_ready fail; then
	tap_ok "cold boot of a snap-start function: READY at restore/next"
else
	tap_fail "cold boot of a snap-start function: READY at restore/next"
	vm_console fail
fi
vm_ctl fail invoke --payload '{}' --timeout 60 > "$work/f.out" 2> "$work/f.err"
rc=$?
cat "$work/f.out" "$work/f.err" | diag
check "restore/error: the invocation is an init error (exit 4) of the hook's type" \
	'[ $rc = 4 ] && grep -q Test.RestoreFailed "$work/f.err" &&
	 grep -q "failed on purpose" "$work/f.out"'
grep -q 'the runtime reported a restore error: Test.RestoreFailed' \
	"$work/fail.console"
r1=$?
for ((i = 0; i < 100; i++)); do
	n=$(grep -c 'started /var/task/bootstrap' "$work/fail.console")
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
check "thaw-init logged the restore error and started the runtime afresh ($n starts)" \
	'[ $r1 = 0 ] && [ "$n" -ge 2 ]' || vm_console fail
