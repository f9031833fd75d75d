#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# MMDS end to end on the stock kernel, this test machine as the host: a
# function VM booted through the API with a tap NIC and mmds-config V2
# on it; the guest (busybox's nc: selftests/vmm/mmdsfunc) asks
# 169.254.169.254 for a session token and reads keys with it; a GET
# without a token, or with a forged one, is refused with 401; a PATCH
# from the host is seen by the next GET; the frames never reach the tap.
# Bad API input is refused with Firecracker's error shape.  A clone of a
# snapshot serves MMDS on its interface with an empty store and none of
# the old tokens, until its orchestrator PUTs the data again.
# selftest-timeout: 900
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"
. "$(dirname "$0")/../lib/thawvm-api.sh"

PLAN=30
TAP=vmtap1
GUEST=172.16.1.2
MAC=06:00:ac:10:01:02
cleanup() {
	api_cleanup
	ip link del $TAP 2>/dev/null
}
trap cleanup EXIT

VMM=thawvm
why=$(curl_missing)
[ -z "$why" ] && ! command -v ip > /dev/null && why="ip not installed (iproute2)"
if [ -z "$why" ]; then
	modprobe tun 2> /dev/null
	[ -c /dev/net/tun ] || why="no /dev/net/tun"
fi
tap_plan $PLAN mmds "$why"

"$mkfunc" "$top/selftests/vmm/mmdsfunc/bootstrap" "$work/mmds.cpio.gz" \
	--busybox --name mmdsfunc 2>&1 | diag

# mmds UDS ID JSON: the guest's HTTP request to MMDS (mmdsfunc's event);
# the whole HTTP response it got.
mmds() {
	"$thawctl" invoke --uds "$1" --request-id "$2" --payload "$3" \
		--timeout 120 2>&1 | sed 's|\\/|/|g' |
		sed -n 's/.*"reply":"\([A-Za-z0-9+\/=]*\)".*/\1/p' |
		base64 -d 2>/dev/null | tr -d '\r'
}
status() { head -n 1 <<< "$1" | cut -d' ' -f2; }
content() { sed '1,/^$/d' <<< "$1"; }
load_body() { # STATE PATH CID UDS
	echo "{\"snapshot_path\":\"$1\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$2\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$4\",\"guest_cid\":$3}}"
}

ip tuntap add $TAP mode tap
ip link set $TAP address 06:00:ac:10:01:01
ip addr add 172.16.1.1/24 dev $TAP
ip link set $TAP up

A=$work/a.sock
api_start a "$A"

# --- The API: bad input, then the store and the configuration.
req "$A" PUT /mmds/config '{"network_interfaces":["eth0"]}'
expect "mmds/config naming an interface not configured: 400" 400 '"fault_message":"mmds-config: the network interface ID `eth0` is not configured"'
req "$A" PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"$TAP\",\"guest_mac\":\"$MAC\"}"
req "$A" PUT /mmds/config '{"version":"V3","network_interfaces":["eth0"]}'
expect "mmds/config with version V3: 400" 400 'must be \\"V1\\" or \\"V2\\"'
req "$A" PUT /mmds/config '{"network_interfaces":["eth0"],"ipv4_address":"10.0.0.1"}'
expect "mmds/config with an address that is not link-local: 400" 400 "not a link-local"
req "$A" PUT /mmds/config '{"network_interfaces":[]}'
expect "mmds/config with no interface: 400" 400 "is empty"
req "$A" PUT /mmds/config '{"version":"V2","network_interfaces":["eth0"]}'
expect "PUT /mmds/config V2 on eth0" 204
req "$A" PUT /mmds '[1,2]'
expect "PUT /mmds with an array: 400" 400 "must be a JSON object"
req "$A" PATCH /mmds '{"a":'
expect "PATCH /mmds with broken JSON: 400" 400 '"fault_message"'
req "$A" PUT /mmds '{"latest":{"meta-data":{"id":"i-1","gone":"x"}}}'
expect "PUT /mmds" 204
req "$A" PATCH /mmds '{"latest":{"meta-data":{"gone":null,"zone":"z1"}}}'
expect "PATCH /mmds (merge patch)" 204
req "$A" GET /mmds
expect "GET /mmds: the merged store" 200 '{"latest":{"meta-data":{"id":"i-1","zone":"z1"}}}'

# --- Boot with the NIC and MMDS.
req "$A" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}'
req "$A" PUT /boot-source "{\"kernel_image_path\":\"$THAW_KERNEL\",\"initrd_path\":\"$work/mmds.cpio.gz\",\"boot_args\":\"console=ttyS0 quiet panic=-1 ip=$GUEST::172.16.1.1:255.255.255.0::eth0:off\"}"
req "$A" PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$work/a.vsock\"}"
"$thawctl" wait-ready --uds "$work/a.vsock" --timeout "$BOOT_TIMEOUT" \
	> "$work/a.ready" 2>&1 &
ready=$!
req "$A" PUT /actions '{"action_type":"InstanceStart"}'
if [ "$code" = 204 ] && wait "$ready"; then
	tap_ok "the VM with MMDS on its NIC boots and is ready"
else
	tap_fail "the VM with MMDS on its NIC boots and is ready ($code $body)"
	diag < "$work/a.ready"
	tail -n 30 "$work/a.console" | diag
	tail -n 30 "$work/a.vmm.log" | diag
fi
req "$A" PUT /mmds/config '{"version":"V2","network_interfaces":["eth0"]}'
expect "PUT /mmds/config after boot: 400" 400 "after starting"
tap_rx0=$(cat /sys/class/net/$TAP/statistics/rx_packets)

# --- The guest's side.
got=$(mmds "$work/a.vsock" g-1 '{"method":"GET","path":"/latest/meta-data/id"}')
check "guest GET without a token: 401" '[ "$(status "$got")" = 401 ]' ||
	{ echo "$got"; tail -n 20 "$work/a.vmm.log"; } | diag
got=$(mmds "$work/a.vsock" g-2 '{"method":"PUT","path":"/latest/api/token","ttl":"60"}')
token=$(content "$got")
check "guest PUT /latest/api/token: 200 and a token" \
	'[ "$(status "$got")" = 200 ] && [[ "$token" =~ ^[0-9a-f]{64}$ ]]' ||
	echo "$got" | diag
got=$(mmds "$work/a.vsock" g-3 "{\"method\":\"GET\",\"path\":\"/latest/meta-data/id\",\"token\":\"$token\"}")
check "guest GET with the token: 200 i-1" \
	'[ "$(status "$got")" = 200 ] && [ "$(content "$got")" = i-1 ]' ||
	echo "$got" | diag
got=$(mmds "$work/a.vsock" g-4 "{\"method\":\"GET\",\"path\":\"/latest/meta-data/\",\"token\":\"$token\"}")
check "guest GET of an object, IMDS text: its keys" \
	'[ "$(content "$got")" = "$(printf "id\nzone")" ]' || echo "$got" | diag
forged=$(tr 0-9a-f 1-9a-f0 <<< "$token")
got=$(mmds "$work/a.vsock" g-5 "{\"method\":\"GET\",\"path\":\"/latest/meta-data/id\",\"token\":\"$forged\"}")
check "guest GET with a forged token: 401" '[ "$(status "$got")" = 401 ]' ||
	echo "$got" | diag
got=$(mmds "$work/a.vsock" g-6 '{"method":"PUT","path":"/latest/api/token","ttl":"0"}')
check "guest PUT token with TTL 0: 400" '[ "$(status "$got")" = 400 ]' ||
	echo "$got" | diag
req "$A" PATCH /mmds '{"latest":{"meta-data":{"id":"i-2"}}}'
expect "PATCH /mmds after boot" 204
got=$(mmds "$work/a.vsock" g-7 "{\"method\":\"GET\",\"path\":\"/latest/meta-data/id\",\"token\":\"$token\",\"accept\":\"application/json\"}")
check "guest GET after the PATCH, as JSON: \"i-2\"" \
	'[ "$(status "$got")" = 200 ] && [ "$(content "$got")" = "\"i-2\"" ]' ||
	echo "$got" | diag
got=$(mmds "$work/a.vsock" g-8 "{\"method\":\"GET\",\"path\":\"/latest/nothing\",\"token\":\"$token\"}")
check "guest GET of a key that is not there: 404" \
	'[ "$(status "$got")" = 404 ]' || echo "$got" | diag
got=$(mmds "$work/a.vsock" g-9 "{\"method\":\"POST\",\"path\":\"/latest/api/token\"}")
check "guest POST: 405" '[ "$(status "$got")" = 405 ]' || echo "$got" | diag
tap_rx1=$(cat /sys/class/net/$TAP/statistics/rx_packets)
# Nine exchanges of at least six frames each went to MMDS; the tap may
# see the guest's own chatter (ARP, IPv6) in that time, not those.
check "MMDS's frames never reached the tap ($((tap_rx1 - tap_rx0)) packets on it)" \
	'[ $((tap_rx1 - tap_rx0)) -lt 20 ]'

# --- A clone: MMDS is there, its store empty and the old token gone.
req "$A" PATCH /vm '{"state":"Paused"}'
req "$A" PUT /snapshot/create "{\"snapshot_path\":\"$work/state\",\"mem_file_path\":\"$work/memory\"}"
expect "snapshot of the VM with MMDS" 204
kill -TERM "${api_pid[a]}"
api_wait a 60 > /dev/null
R=$work/r.sock
api_start r "$R"
req "$R" PUT /snapshot/load "$(load_body "$work/state" "$work/memory" 5 "$work/r.vsock")"
expect "load the clone" 204
req "$R" GET /mmds
expect "the clone's store is empty" 200 '{}'
got=$(mmds "$work/r.vsock" r-1 "{\"method\":\"GET\",\"path\":\"/latest/meta-data/id\",\"token\":\"$token\"}")
check "clone: the snapshot's token is not valid: 401" \
	'[ "$(status "$got")" = 401 ]' ||
	{ echo "$got"; tail -n 20 "$work/r.vmm.log"; } | diag
req "$R" PUT /mmds '{"latest":{"meta-data":{"id":"clone-1"}}}'
expect "PUT /mmds into the clone" 204
got=$(mmds "$work/r.vsock" r-2 '{"method":"PUT","path":"/latest/api/token","ttl":"60"}')
token=$(content "$got")
got=$(mmds "$work/r.vsock" r-3 "{\"method\":\"GET\",\"path\":\"/latest/meta-data/id\",\"token\":\"$token\"}")
check "clone: a new token, and its own data" \
	'[ "$(status "$got")" = 200 ] && [ "$(content "$got")" = clone-1 ]' ||
	echo "$got" | diag
kill -TERM "${api_pid[r]}"
api_wait r 60 > /dev/null
check "the clone's thawvm exits on SIGTERM" '! kill -0 "${api_pid[r]}" 2>/dev/null'
