#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# thawvm's HTTP API (Documentation/admin-guide/api.rst) with curl on the
# Unix socket: every endpoint's success path and its 400 cases, the
# pre-boot/post-boot rules, then a real boot of the stock kernel with the
# echo function through InstanceStart (a second thawvm given its uds_path
# is refused), pause/resume, metrics and SendCtrlAltDel ending thawvm
# cleanly.
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"

PLAN=54
VMM=thawvm
tap_plan $PLAN api "$(curl_missing)"

. "$(dirname "$0")/../lib/thawvm-api.sh"
trap 'api_cleanup; vm_cleanup' EXIT

sock=$work/api.sock
start_thawvm() { api_start "$1" "$sock"; }
wait_exit() { api_wait "$cur" "$1"; }
"$mkfunc" "$top/tools/guest/samples/echo/bootstrap" "$work/echo.cpio.gz" \
	--busybox 2>&1 | diag

# --- A fresh thawvm: configuration endpoints and their errors.
cur=cfg
start_thawvm cfg && tap_ok "thawvm serves the API socket" ||
	tap_fail "thawvm serves the API socket"

req "$sock" GET /
expect "GET /: Not started, id, app_name" 200 '"state":"Not started"'
check "GET /: id and app_name" \
	'[[ "$body" == *"\"id\":\"cfg\""* && "$body" == *"\"app_name\":\"thawvm\""* ]]'
req "$sock" GET /version
expect "GET /version" 200 firecracker_version
req "$sock" GET /machine-config
expect "GET /machine-config: Firecracker's defaults" 200 '"vcpu_count":1,"mem_size_mib":128'
req "$sock" PUT /machine-config '{"vcpu_count":2,"mem_size_mib":256,"track_dirty_pages":true}'
expect "PUT /machine-config" 204
req "$sock" PATCH /machine-config '{"vcpu_count":1}'
expect "PATCH /machine-config" 204
req "$sock" GET /machine-config
expect "GET /machine-config after PATCH keeps the rest" 200 '"vcpu_count":1,"mem_size_mib":256,"smt":false,"track_dirty_pages":true'
req "$sock" PUT /boot-source "{\"kernel_image_path\":\"$THAW_KERNEL\",\"initrd_path\":\"$work/echo.cpio.gz\",\"boot_args\":\"console=ttyS0 quiet panic=-1\"}"
expect "PUT /boot-source" 204
req "$sock" PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$work/api.vsock\"}"
expect "PUT /vsock" 204
req "$sock" PUT /logger "{\"log_path\":\"$work/thawvm.log\",\"level\":\"Info\",\"show_level\":true}"
expect "PUT /logger" 204
req "$sock" PUT /metrics "{\"metrics_path\":\"$work/metrics.json\"}"
expect "PUT /metrics" 204
req "$sock" PUT /metrics "{\"metrics_path\":\"$work/metrics2.json\"}"
expect "PUT /metrics twice: 400" 400 "already initialized"
req "$sock" PUT /serial "{\"serial_out_path\":\"$work/serial.out\"}"
expect "PUT /serial" 204
req "$sock" GET /vm/config
expect "GET /vm/config has every section" 200 '"vsock":{"guest_cid":3'
check "GET /vm/config names the kernel and the metrics" \
	'[[ "$body" == *"$THAW_KERNEL"* && "$body" == *metrics.json* ]]'

# 400s: empty body, bad JSON, unknown field, wrong type, missing field,
# out of range, unknown path or method, wrong state, too large, body on GET.
req "$sock" PUT /boot-source ''
expect "empty body: 400" 400 "Empty request body"
req "$sock" PUT /machine-config '{"vcpu_count":1,'
expect "malformed JSON: 400" 400 "Invalid JSON"
req "$sock" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128,"bogus":1}'
expect "unknown field: 400" 400 'unknown field `bogus`'
req "$sock" PUT /vsock "{\"guest_cid\":\"3\",\"uds_path\":\"$work/x\"}"
expect "wrong type: 400" 400 "must be an integer"
req "$sock" PUT /boot-source '{"initrd_path":"/x"}'
expect "missing field: 400" 400 'missing field `kernel_image_path`'
req "$sock" PUT /machine-config '{"vcpu_count":33,"mem_size_mib":128}'
expect "out of range: 400" 400 "between 1 and 32"
req "$sock" GET /nothing-here
expect "unknown path: 400" 400 "Invalid request method and/or path: GET /nothing-here."
req "$sock" DELETE /vm
expect "unknown method: 400" 400 "Invalid request method and/or path"
req "$sock" PATCH /vm '{"state":"Paused"}'
expect "PATCH /vm before InstanceStart: 400" 400 "before starting"
req "$sock" PUT /actions '{"action_type":"SendCtrlAltDel"}'
expect "SendCtrlAltDel before InstanceStart: 400" 400 "before starting"
req "$sock" PUT /actions '{"action_type":"Reboot"}'
expect "unknown action: 400" 400 "unknown action_type"
req "$sock" PUT /boot-source "{\"kernel_image_path\":\"$(head -c 60000 /dev/zero | tr '\0' a)\"}"
expect "body over 50 KiB: 400" 400 "larger than"
req "$sock" GET /machine-config '{}'
expect "GET with a body: 400" 400 "takes no body"
req "$sock" GET /machine-config
expect "failed requests changed nothing" 200 '"vcpu_count":1,"mem_size_mib":256'

# --- InstanceStart: the stock kernel boots the echo function.
"$thawctl" wait-ready --uds "$work/api.vsock" --timeout "$BOOT_TIMEOUT" \
	> "$work/ready" 2> "$work/ready.err" &
ready_pid=$!
req "$sock" PUT /actions '{"action_type":"InstanceStart"}'
expect "InstanceStart" 204
req "$sock" GET /
expect "GET /: Running" 200 '"state":"Running"'
if wait "$ready_pid"; then
	tap_ok "the guest reports ready: $(cat "$work/ready")"
else
	tap_fail "the guest reports ready"
	diag < "$work/ready.err"
	tail -n 20 "$work/serial.out" | diag
fi
out=$("$thawctl" invoke --uds "$work/api.vsock" --request-id api-1 \
	--payload '{"x":1}' --timeout 120 2>&1)
check "an invocation round-trips" '[[ "$out" == *"\"echo\":{\"x\":1}"* ]]' ||
	echo "$out" | diag

# A second thawvm given the running VM's uds_path: refused, by name, and
# the first keeps its socket (the invocations below go through it).
steal=$work/steal.sock
api_start steal "$steal"
req "$steal" PUT /boot-source "{\"kernel_image_path\":\"$THAW_KERNEL\"}"
req "$steal" PUT /vsock "{\"guest_cid\":4,\"uds_path\":\"$work/api.vsock\"}"
req "$steal" PUT /actions '{"action_type":"InstanceStart"}'
expect "InstanceStart on a uds_path another thawvm listens on: 400" 400 \
	"$work/api.vsock: another process listens on it"
kill -TERM "${api_pid[steal]}"
api_wait steal 20
rc=$?
check "the refused thawvm exits 0 and leaves the uds_path to the first (rc $rc)" \
	'[ $rc = 0 ] && [ -S "$work/api.vsock" ]'

t0=$(date +%s%N)
good=0
for ((i = 1; i <= 100; i++)); do
	out=$("$thawctl" invoke --uds "$work/api.vsock" --request-id "n-$i" \
		--payload "{\"i\":$i}" --timeout 60 2>&1)
	[[ "$out" == *"\"echo\":{\"i\":$i}"* ]] && good=$((good + 1))
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "100 invocations round-trip with their own results ($good/100 in $ms ms)" \
	'[ "$good" = 100 ]'

req "$sock" PUT /boot-source "{\"kernel_image_path\":\"$THAW_KERNEL\"}"
expect "PUT /boot-source after InstanceStart: 400" 400 "after starting"
req "$sock" PATCH /machine-config '{"mem_size_mib":512}'
expect "PATCH /machine-config after InstanceStart: 400" 400 "after starting"
req "$sock" PUT /actions '{"action_type":"InstanceStart"}'
expect "InstanceStart twice: 400" 400 "after starting"

req "$sock" PATCH /vm '{"state":"Paused"}'
expect "PATCH /vm Paused" 204
req "$sock" GET /
expect "GET /: Paused" 200 '"state":"Paused"'
req "$sock" PATCH /vm '{"state":"Resumed"}'
expect "PATCH /vm Resumed" 204
req "$sock" PATCH /vm '{"state":"Frozen"}'
expect "PATCH /vm with a bad state: 400" 400 "Paused or Resumed"
out=$("$thawctl" invoke --uds "$work/api.vsock" --request-id api-2 \
	--payload '{"after":"resume"}' --timeout 120 2>&1)
check "an invocation after pause and resume" \
	'[[ "$out" == *"\"echo\":{\"after\":\"resume\"}"* ]]' || echo "$out" | diag

req "$sock" PUT /actions '{"action_type":"FlushMetrics"}'
expect "FlushMetrics" 204
check "the metrics line counts exits and vsock packets" \
	'grep -q "\"exits_io\":[1-9]" "$work/metrics.json" && grep -q "\"vsock_tx_packets\":[1-9]" "$work/metrics.json"' ||
	diag < "$work/metrics.json"
check "the log file got the API's lines" 'grep -q "Info.*api: PUT /actions: 204" "$work/thawvm.log"'
check "the console went to serial_out_path" '[ -s "$work/serial.out" ]'

req "$sock" PUT /actions '{"action_type":"SendCtrlAltDel"}'
expect "SendCtrlAltDel" 204
wait_exit 120
rc=$?
check "SendCtrlAltDel: the guest powers off, thawvm exits 0 (rc $rc)" '[ $rc = 0 ]' ||
	tail -n 20 "$work/serial.out" | diag
check "thawvm removed its API socket" '[ ! -e "$sock" ]'

# --- Without a boot source, and a signal before any boot.
cur=nostart
start_thawvm nostart
req "$sock" PUT /actions '{"action_type":"InstanceStart"}'
expect "InstanceStart without a boot source: 400" 400 "without kernel configuration"
kill -TERM "${api_pid[nostart]}"
wait_exit 20
rc=$?
check "SIGTERM before boot: thawvm exits 0 and removes its socket (rc $rc)" \
	'[ $rc = 0 ] && [ ! -e "$sock" ]'
