#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net end to end on the stock kernel, this test machine as the
# host: a function VM booted through the API with a tap NIC (thaw-init
# loads virtio_net and applies ip=) reaches a TCP server on the host and
# the host reaches a server in the guest; it survives a snapshot and
# restores with the File and Thaw backends, with traffic after each
# restore; 4 clones of that snapshot, each in its own network namespace
# (tools/netns-clones) with the same guest IP and MAC, reach a host server
# at once, each seen from its own address and getting only its own
# answer.  Bad input is refused with a message and nothing half-started:
# a tap that does not exist, a MAC that is not one, network_overrides
# naming an interface the snapshot lacks, a PUT after boot.
# selftest-timeout: 1200
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"
. "$(dirname "$0")/../lib/thawvm-api.sh"

PLAN=30
CLONES=4
TAP=vmtap0
GUEST=172.16.0.2
SERVICE=10.199.0.1
MAC=06:00:ac:10:00:02
netns=$top/tools/netns-clones
export NETNS_CLONES_PREFIX=thawnt
server_pids=()
cleanup() {
	api_cleanup
	kill "${server_pids[@]}" 2>/dev/null
	"$netns" teardown $CLONES > /dev/null 2>&1
	ip link del $TAP 2>/dev/null
}
trap cleanup EXIT

VMM=thawvm
why=$(curl_missing)
[ -z "$why" ] && ! command -v python3 > /dev/null && why="python3 not installed"
[ -z "$why" ] && ! command -v nft > /dev/null && why="nft not installed (nftables)"
[ -z "$why" ] && ! command -v ip > /dev/null && why="ip not installed (iproute2)"
if [ -z "$why" ]; then
	modprobe tun 2> /dev/null
	[ -c /dev/net/tun ] || why="no /dev/net/tun"
fi
tap_plan $PLAN net "$why"

"$mkfunc" "$top/selftests/vmm/netfunc/bootstrap" "$work/net.cpio.gz" \
	--busybox --name netfunc 2>&1 | diag

invoke() { # UDS ID PAYLOAD
	"$thawctl" invoke --uds "$1" --request-id "$2" --payload "$3" \
		--timeout 120 2>&1
}
# ask UDS ID HOST MSG: the function asks HOST:8000 for /MSG; its reply.
ask() {
	invoke "$1" "$2" "{\"host\":\"$3\",\"port\":8000,\"msg\":\"$4\"}"
}
load_body() { # STATE BACKEND PATH CID UDS [EXTRA_JSON]
	echo "{\"snapshot_path\":\"$1\",\"mem_backend\":{\"backend_type\":\"$2\",\"backend_path\":\"$3\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$5\",\"guest_cid\":$4}${6:-}}"
}
# server ADDR LOG: an HTTP server on ADDR:8000 answering GET /MSG with
# "PEER MSG" (PEER: the client's address as the host sees it), and
# logging that line.
server() {
	python3 - "$1" "$2" <<'PY' 2> /dev/null &
import http.server, sys
addr, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        line = "%s %s" % (self.client_address[0], self.path.lstrip("/"))
        with open(log, "a") as f:
            f.write(line + "\n")
        body = (line + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((addr, 8000), H).serve_forever()
PY
	server_pids+=($!)
	sleep 1
}

ip tuntap add $TAP mode tap
# The clones' taps get this MAC too (tools/netns-clones' default): the
# guest's ARP entry for its gateway holds in every clone.
ip link set $TAP address 06:00:ac:10:00:01
ip addr add 172.16.0.1/24 dev $TAP
ip link set $TAP up
server 172.16.0.1 "$work/host.log"

# --- Bad input before boot.
A=$work/a.sock
api_start a "$A"
req "$A" PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"nosuchtap9"}'
expect "a tap that does not exist: 400" 400 "tap nosuchtap9 does not exist"
check "... and no such tap was left behind" '! ip link show nosuchtap9 > /dev/null 2>&1'
req "$A" PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"$TAP\",\"guest_mac\":\"06:00:ac:10:00\"}"
expect "a MAC that is not one: 400" 400 "not a unicast MAC"
req "$A" PUT /network-interfaces/eth0 "{\"iface_id\":\"eth1\",\"host_dev_name\":\"$TAP\"}"
expect "the path's and the body's iface_id differ: 400" 400 "differ"
req "$A" PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"$TAP\",\"rx_rate_limiter\":{\"bandwidth\":{\"size\":1,\"refill_time\":1}}}"
expect "a rate limiter: 400" 400 "no rate limiters"

# --- Boot through the API with the NIC.
req "$A" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}'
req "$A" PUT /boot-source "{\"kernel_image_path\":\"$THAW_KERNEL\",\"initrd_path\":\"$work/net.cpio.gz\",\"boot_args\":\"console=ttyS0 quiet panic=-1 ip=$GUEST::172.16.0.1:255.255.255.0::eth0:off\"}"
req "$A" PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$work/a.vsock\"}"
req "$A" PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"$TAP\",\"guest_mac\":\"$MAC\"}"
expect "PUT /network-interfaces/eth0" 204
req "$A" PUT /network-interfaces/eth1 "{\"iface_id\":\"eth1\",\"host_dev_name\":\"$TAP\"}"
expect "a second interface on the same tap: 400" 400 "already interface eth0's"
"$thawctl" wait-ready --uds "$work/a.vsock" --timeout "$BOOT_TIMEOUT" \
	> "$work/a.ready" 2>&1 &
ready=$!
req "$A" PUT /actions '{"action_type":"InstanceStart"}'
if [ "$code" = 204 ] && wait "$ready"; then
	tap_ok "the VM with a tap NIC boots and is ready"
else
	tap_fail "the VM with a tap NIC boots and is ready ($code $body)"
	diag < "$work/a.ready"
	tail -n 30 "$work/a.console" | diag
fi
req "$A" PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"$TAP\"}"
expect "PUT /network-interfaces after boot: 400" 400 "after starting"
req "$A" PATCH /network-interfaces/eth0 '{"iface_id":"eth0"}'
expect "PATCH without rate limiters after boot: 204" 204
req "$A" GET /vm/config
expect "GET /vm/config lists the interface" 200 "\"host_dev_name\":\"$TAP\""
got=$(ask "$work/a.vsock" w-1 172.16.0.1 warm)
check "guest -> host: the host server saw the guest's address" \
	'[[ "$got" == *"\"reply\":\"$GUEST warm\""* ]]' || echo "$got" | diag
got=$(curl -s -m 30 "http://$GUEST:8080/")
check "host -> guest: the guest's server answers with its MAC" \
	'[ "$got" = "guest $MAC" ]' || echo "got: $got" | diag
req "$A" PATCH /vm '{"state":"Paused"}'
req "$A" PUT /snapshot/create "{\"snapshot_path\":\"$work/state\",\"mem_file_path\":\"$work/memory\"}"
expect "snapshot of the VM with its NIC" 204
kill -TERM "${api_pid[a]}"
api_wait a 60 > /dev/null

# --- Restores: File, then Thaw; traffic after each.
n=0
for backend in File Thaw; do
	n=$((n + 1))
	S=$work/r$n.sock
	api_start r$n "$S"
	req "$S" PUT /snapshot/load "$(load_body "$work/state" $backend "$work/memory" $((4 + n)) "$work/r$n.vsock")"
	expect "load ($backend)" 204
	got=$(ask "$work/r$n.vsock" r-$n 172.16.0.1 "after-$backend")
	check "$backend clone -> host after the restore" \
		'[[ "$got" == *"\"reply\":\"$GUEST after-$backend\""* ]]' ||
		{ echo "$got"; tail -n 20 "$work/r$n.vmm.log"; } | diag
	got=$(curl -s -m 30 "http://$GUEST:8080/")
	check "host -> $backend clone after the restore" \
		'[ "$got" = "guest $MAC" ]' || echo "got: $got" | diag
	kill -TERM "${api_pid[r$n]}"
	api_wait r$n 60 > /dev/null
done

# --- Bad loads: nothing starts.
S=$work/bad.sock
api_start bad "$S"
req "$S" PUT /snapshot/load "$(load_body "$work/state" File "$work/memory" 9 "$work/bad.vsock" ',"network_overrides":[{"iface_id":"eth7","host_dev_name":"vmtap0"}]')"
expect "network_overrides naming an interface the snapshot lacks: 400" 400 "no interface \`eth7\`"
req "$S" PUT /snapshot/load "$(load_body "$work/state" File "$work/memory" 9 "$work/bad.vsock" ',"network_overrides":[{"iface_id":"eth0","host_dev_name":"nosuchtap9"}]')"
expect "network_overrides naming a tap that does not exist: 400" 400 "nosuchtap9 does not exist"
req "$S" GET /
expect "... and the process is still not started" 200 '"state":"Not started"'
kill -TERM "${api_pid[bad]}"
api_wait bad 60 > /dev/null

# --- 4 clones, each in its own namespace, the same guest IP and MAC.
ip link del $TAP
if "$netns" setup $CLONES --service $SERVICE 2>&1 | diag; then
	tap_ok "tools/netns-clones setup $CLONES"
else
	tap_fail "tools/netns-clones setup $CLONES"
fi
: > "$work/clones.log"
server $SERVICE "$work/clones.log"
for ((i = 1; i <= CLONES; i++)); do
	S=$work/c$i.sock
	"$netns" exec $i "$thawvm" --api-sock "$S" --id c$i --level Info \
		> "$work/c$i.console" 2> "$work/c$i.vmm.log" &
	api_pid[c$i]=$!
	for ((t = 0; t < 100; t++)); do [ -S "$S" ] && break; sleep 0.1; done
	req "$S" PUT /snapshot/load "$(load_body "$work/state" Thaw "$work/memory" $((20 + i)) "$work/c$i.vsock")"
	[ "$code" = 204 ] || echo "clone $i: $code $body" | diag
done
ok=0
for ((i = 1; i <= CLONES; i++)); do
	[ -S "$work/c$i.vsock" ] && ok=$((ok + 1))
done
check "$CLONES clones loaded, each in its namespace ($ok)" '[ $ok = $CLONES ]'
pids=()
for ((i = 1; i <= CLONES; i++)); do
	ask "$work/c$i.vsock" c-$i $SERVICE "clone$i" > "$work/c$i.out" &
	pids+=($!)
done
wait "${pids[@]}"
good=0
for ((i = 1; i <= CLONES; i++)); do
	a=$("$netns" addr $i)
	if grep -q "\"reply\":\"$a clone$i\"" "$work/c$i.out"; then
		good=$((good + 1))
	else
		diag < "$work/c$i.out"
	fi
done
check "each clone reached the host at once, seen from its own address, with its own answer ($good of $CLONES)" \
	'[ $good = $CLONES ]'
lines=$(sort -u "$work/clones.log" | wc -l)
cross=0
for ((i = 1; i <= CLONES; i++)); do
	a=$("$netns" addr $i)
	cross=$((cross + $(grep -c "clone$i\$" "$work/clones.log") - $(grep -c "^$a clone$i\$" "$work/clones.log")))
done
check "the server saw $CLONES distinct clients, no clone's message from another's address ($lines lines, $cross crossed)" \
	'[ "$lines" = $CLONES ] && [ $cross = 0 ]' || diag < "$work/clones.log"
good=0
for ((i = 1; i <= CLONES; i++)); do
	a=$("$netns" addr $i)
	got=$(curl -s -m 30 "http://$a:8080/")
	[ "$got" = "guest $MAC" ] && good=$((good + 1))
done
check "the host reaches each clone's guest at its unique address ($good of $CLONES)" \
	'[ $good = $CLONES ]'
snat=0
for ((i = 1; i <= CLONES; i++)); do
	c=$("$netns" exec $i nft list chain ip thaw post 2> /dev/null |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
	[ "${c:-0}" -gt 0 ] && snat=$((snat + 1))
done
check "each namespace translated its own clone's traffic ($snat of $CLONES)" \
	'[ $snat = $CLONES ]'
for ((i = 1; i <= CLONES; i++)); do
	kill -TERM "${api_pid[c$i]}" 2> /dev/null
done
alive=0
for ((i = 1; i <= CLONES; i++)); do
	api_wait c$i 60 > /dev/null || :
	kill -0 "${api_pid[c$i]}" 2> /dev/null && alive=$((alive + 1))
done
check "every clone's thawvm exits on SIGTERM" '[ $alive = 0 ]'
