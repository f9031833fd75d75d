#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# AWS's own Node.js runtime interface client (npm aws-lambda-ric, installed
# by tools/guest/node/install) runs a plain handler (selftests/node/fn)
# unmodified, in function VMs built by tools/guest/mkfunc-node (512 MiB,
# thawvm):
#   - a cold boot answers, with Lambda's environment (log stream and group,
#     AWS_EXECUTION_ENV, TZ, LANG, the platform's credentials, a trace id
#     per invocation as _X_AMZN_TRACE_ID), and a throwing handler gives the
#     runtime's error shape;
#   - thawctl snapshot takes it at its first next; three clones (thawctl
#     restore) answer with the init's state, each with its own CID, kernel
#     random bytes and a new VM generation;
#   - what the clones share is measured and printed as a table: the
#     randomness the runtime drew at init (OpenSSL's DRBG behind
#     crypto.randomBytes, V8's Math.random, randomUUID) repeats in every
#     clone: the hazard Documentation/admin-guide/clones.rst describes;
#   - the remedy it documents (on a new VM generation, draw again from the
#     kernel) gives every clone its own values.
set -uo pipefail
here=$(dirname "$0")
. "$here/../lib/function-vm.sh"
. "$here/../lib/snapshot.sh"
trap clone_cleanup EXIT

PLAN=19
N=3
VMM=thawvm
ric=$top/.cache/node/node_modules/aws-lambda-ric

node_missing() {
	command -v node >/dev/null || { echo "no node (Node.js) on this machine"; return; }
	[ -f "$ric/rapid-client.node" ] ||
		{ echo "aws-lambda-ric is not installed (tools/guest/node/install)"; return; }
	curl_missing
}
tap_plan $PLAN "node runtime interface client" "$(node_missing)"

img=$work/ric.cpio.gz
t0=$(date +%s)
"$top/tools/guest/mkfunc-node" "$here/fn" "$img" --name ric-fn --memory 512 \
	--gzip-level 1 \
	--env CUSTOM=hello --env INIT_MB=32 \
	--set access_key_id=AKIATHAWTEST --set secret_access_key=thaw/secret+key \
	> "$work/mkfunc.out" 2>&1
rc=$?
diag < "$work/mkfunc.out"
check "mkfunc-node builds the function image ($(($(date +%s) - t0)) s, rc $rc)" \
	'[ $rc = 0 ] && [ -s "$img" ]' || exit 1

# --- A cold boot: the session token comes from the kernel command line,
# as a platform hands it over per boot.
VM_MEM_MIB=512
t0=$(date +%s%N)
vm_start cold "$img" 3 thaw.session_token=tok-from-the-platform
if vm_wait_ready cold; then
	tap_ok "cold boot: the client reached its first next: $(cat "$work/cold.ready")"
else
	tap_fail "cold boot: the client reached its first next"
	diag < "$work/cold.ready.err"
	vm_console cold
fi
trace='Root=1-5e1b4151-5ac6c58f5b5dbaa0a1b2c3d4;Parent=53995c3f42cd8ad8;Sampled=1'
out=$work/state.json
vm_ctl cold invoke --payload '{}' --request-id cold-1 --trace-id "$trace" \
	--timeout 120 > "$out" 2> "$work/state.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
diag < "$out"
check "cold boot + init -> first response: answers (${ms} ms, rc $rc)" \
	'[ $rc = 0 ] && [ -n "$(json_get "$out" token)" ] &&
	 [ "$(json_get "$out" request_id)" = cold-1 ]' || { diag < "$work/state.err"; vm_console cold; }
expect() { # KEY VALUE
	local got
	got=$(json_get "$out" "$1")
	[ "$got" = "$2" ] || { echo "# $1: got '$got', want '$2'"; return 1; }
}
stream=$(json_get "$out" AWS_LAMBDA_LOG_STREAM_NAME)
check "AWS_LAMBDA_LOG_STREAM_NAME in Lambda's format ($stream), the context's too" \
	'[[ "$stream" =~ ^[0-9]{4}/[0-9]{2}/[0-9]{2}/\[\$LATEST\][0-9a-f]{32}$ ]] &&
	 expect log_stream "$stream"'
check "log group, AWS_EXECUTION_ENV, TZ, LANG, region, init type, --env" \
	'expect AWS_LAMBDA_LOG_GROUP_NAME /aws/lambda/ric-fn &&
	 expect log_group /aws/lambda/ric-fn &&
	 expect AWS_EXECUTION_ENV "AWS_Lambda_nodejs$(node -p "process.versions.node.split(\".\")[0]").x" &&
	 expect TZ :UTC && expect LANG en_US.UTF-8 && expect AWS_REGION us-east-1 &&
	 expect AWS_LAMBDA_INITIALIZATION_TYPE on-demand && expect CUSTOM hello &&
	 expect memory 512'
check "the platform's credentials: settings (mkfunc) and command line" \
	'expect AWS_ACCESS_KEY_ID AKIATHAWTEST &&
	 expect AWS_SECRET_ACCESS_KEY thaw/secret+key &&
	 expect AWS_SESSION_TOKEN tok-from-the-platform'
check "_X_AMZN_TRACE_ID is the invocation's trace header" \
	'expect _X_AMZN_TRACE_ID "$trace"'
vm_ctl cold invoke --payload '{}' --timeout 60 > "$work/notrace.json" 2>&1
t=$(json_get "$work/notrace.json" _X_AMZN_TRACE_ID)
check "without one from the host, thaw-init makes one ($t)" \
	'[[ "$t" =~ ^Root=1-[0-9a-f]{8}-[0-9a-f]{24}\;Parent=[0-9a-f]{16}\;Sampled=0$ ]]' ||
	diag < "$work/notrace.json"

vm_ctl cold invoke --payload '{"action":"throw"}' --timeout 60 \
	> "$work/throw.out" 2> "$work/throw.err"
rc=$?
cat "$work/throw.out" "$work/throw.err" | diag
check "a throwing handler: exit 3, the runtime's error shape (errorType, errorMessage, trace)" \
	'[ $rc = 3 ] && [ "$(json_get "$work/throw.out" errorType)" = TypeError ] &&
	 [ "$(json_get "$work/throw.out" errorMessage)" = "thrown on purpose" ] &&
	 grep -q "\"trace\":\[" "$work/throw.out" && grep -q TypeError "$work/throw.err"'
gen0=$(vm_ctl cold probe --timeout 60 2>/dev/null | sed -n 's/.*"generation":\([0-9]*\).*/\1/p')
kill "${vm_pid[cold]}" 2>/dev/null
vm_wait_exit cold 30 >/dev/null

# --- SnapStart: snapshot at the first next, three clones.
snap=$work/snap
t0=$(date +%s%N)
"$thawctl" snapshot "$img" "$snap" --mem 512 --timeout "$BOOT_TIMEOUT" \
	--log "$work/snap.vmm.log" --console "$work/snap.console" \
	> "$work/snap.json" 2> "$work/snap.err"
rc=$?
check "thawctl snapshot at the first next ($((($(date +%s%N) - t0) / 1000000)) ms, rc $rc)" \
	'[ $rc = 0 ] && [ -s "$snap/state" ]' ||
	{ diag < "$work/snap.err"; tail -n 20 "$work/snap.console" | diag; }
diag < "$work/snap.json"
snap_at=$(date +%s%3N)

cids=() rnds=() gens=() answered=0 rtimes=()
for ((i = 0; i < N; i++)); do
	cid=$((40 + i))
	clone_start "c$i" $cid "$work/c$i.json" --backend File
	rc=$?
	pid=$(json_num "$work/c$i.json" pid)
	[ -n "$pid" ] && clone_pids+=("$pid")
	[ $rc = 0 ] || { cat "$work/c$i.json.err"; tail -n 5 "$work/c$i.vmm.log"; } | diag
	p=$("$thawctl" probe --uds "$work/c$i.vsock" --random-bytes 16 \
		--timeout 120 2> "$work/p$i.err")
	cids+=("$(sed -n 's/.*"cid":\([0-9]*\).*/\1/p' <<< "$p")")
	rnds+=("$(sed -n 's/.*"random":"\([0-9a-f]*\)".*/\1/p' <<< "$p")")
	gens+=("$(sed -n 's/.*"generation":\([0-9]*\).*/\1/p' <<< "$p")")
	t1=$(date +%s%N)
	"$thawctl" invoke --uds "$work/c$i.vsock" --payload '{"action":"random"}' \
		--timeout 120 > "$work/r$i.json" 2> "$work/r$i.err"
	rc=$?
	rtimes+=("$((($(date +%s%N) - t1) / 1000000))")
	if [ $rc = 0 ] && [ -n "$(json_get "$work/r$i.json" token)" ]; then
		answered=$((answered + 1))
	else
		{ echo "c$i: rc $rc"; cat "$work/r$i.json" "$work/r$i.err"; } | diag
	fi
done
echo "# probes: cids ${cids[*]}; random ${rnds[*]}; generations ${gens[*]}"
echo "# first invocation of each clone, ms: ${rtimes[*]}"
for ((i = 0; i < N; i++)); do diag < "$work/r$i.json"; done
distinct() { printf '%s\n' "$@" | grep -v '^$' | sort -u | wc -l; }
check "$N clones restored from the snapshot answer ($answered)" '[ $answered = $N ]'
check "each clone has the CID it was given (${cids[*]})" \
	'[ "${cids[*]}" = "40 41 42" ]'
check "the clones' kernel random bytes are distinct (thawctl probe)" \
	'[ "$(distinct "${rnds[@]}")" = $N ] && [ ${#rnds[0]} = 32 ]'
check "the VM generation moved from ${gen0:-?} at boot to 1 in every clone" \
	'[ "$gen0" = 0 ] && [ "${gens[*]}" = "1 1 1" ]'
# vals KEY: the member of each clone's answer, one a line (the answers end
# without a newline, which sed keeps).
vals() {
	local i
	for ((i = 0; i < N; i++)); do echo "$(json_get "$work/r$i.json" "$1")"; done
}
tokens=$(vals token | sort -u | wc -l)
init_at=$(json_get "$work/r0.json" init_at)
check "they answer with the init's state: one token, one init time, before the snapshot" \
	'[ "$tokens" = 1 ] && [ "$(vals init_at | sort -u | wc -l)" = 1 ] &&
	 [ "$init_at" -lt "$snap_at" ] && [ "$(vals generation | sort -u)" = 1 ]'

# --- The table: which sources repeat across the clones.
echo "# what $N clones of one snapshot share (distinct values of $N):"
printf '# %-34s %-9s %s\n' source distinct "clone 0's value"
row() { # LABEL KEY
	local d
	d=$(vals "$2" | sort -u | wc -l)
	printf '# %-34s %-9s %s\n' "$1" "$d" "$(json_get "$work/r0.json" "$2")"
}
printf '# %-34s %-9s %s\n' "vsock CID (probe)" "$(distinct "${cids[@]}")" "${cids[0]}"
printf '# %-34s %-9s %s\n' "kernel CRNG (probe)" "$(distinct "${rnds[@]}")" "${rnds[0]}"
row "kernel CRNG (/dev/urandom in node)" kernel
row "crypto.randomBytes (OpenSSL DRBG)" crypto
row "Math.random (V8)" math
row "crypto.randomUUID" uuid
row "UUID drawn at init" init_uuid
row "Math.random drawn at init" init_math
row "process.pid" pid
row "kernel boot_id (read at init)" boot_id
row "AWS_LAMBDA_LOG_STREAM_NAME" log_stream
row "VM generation (/run/thaw/generation)" generation
row "remedy: id drawn again from kernel" remedy_instance_id
row "remedy: UUID from kernel bytes" remedy_uuid
row "remedy: float from kernel bytes" remedy_random

check "the hazard: crypto.randomBytes, Math.random and randomUUID repeat in every clone" \
	'[ "$(vals crypto | sort -u | wc -l)" = 1 ] && [ "$(vals math | sort -u | wc -l)" = 1 ] &&
	 [ "$(vals uuid | sort -u | wc -l)" = 1 ]'
check "the kernel's randomness read by the function differs per clone" \
	'[ "$(vals kernel | sort -u | wc -l)" = $N ]'
check "the remedy: on a new generation the function draws again, and every clone differs" \
	'[ "$(vals remedy_instance_id | sort -u | wc -l)" = $N ] &&
	 [ "$(vals remedy_uuid | sort -u | wc -l)" = $N ] &&
	 [ "$(vals remedy_random | sort -u | wc -l)" = $N ] &&
	 [ "$(vals restores | sort -u)" = 1 ]'

gone=0
for p in "${clone_pids[@]}"; do clone_stop "$p" && gone=$((gone + 1)); done
check "the clones stop on SIGTERM ($gone)" '[ $gone = $N ]'
