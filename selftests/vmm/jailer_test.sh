#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# thawvm run by thaw-jailer (Documentation/admin-guide/jailer.rst): as a
# uid and gid that are not root, in a cgroup with memory.max and pids.max,
# pid 1 of its own pid namespace, in a jail without the host's files.  The
# echo function boots through the API socket (reached from outside in the
# jail's root), answers, is snapshotted into the jail; a second jail gets
# the snapshot files hard-linked in, as an orchestrator would, and its
# clone answers the same.  A cgroup too small for the guest kills it.  Bad
# inputs are refused with a message and leave nothing behind.
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"
. "$(dirname "$0")/../lib/thawvm-api.sh"

jailer=$top/build/bin/thaw-jailer
PLAN=35
why=$(curl_missing)
[ -x "$jailer" ] || why="thaw-jailer not built"
[ "$(id -u)" = 0 ] || why="not root"
tap_plan $PLAN jailer "$why"

# cgroup v2 where the jailer looks for it (vmtest mounts none).
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ]; then
	mkdir -p /sys/fs/cgroup
	mount -t cgroup2 none /sys/fs/cgroup 2>&1 | diag
fi
base=$work/jails
UID_=1234
GID_=2345
cg=/sys/fs/cgroup/thawvm

cleanup() {
	local f
	api_cleanup
	for f in "$base"/thawvm/*/root/thawvm.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	sleep 0.5
	for d in "$cg"/*/; do rmdir "$d" 2>/dev/null; done
	rmdir "$cg" /sys/fs/cgroup/jt-bad 2>/dev/null
	vm_cleanup
}
trap cleanup EXIT

# jail_start NAME ID [JAILER OPTIONS...]: thawvm jailed as ID, serving
# /run/api.sock in its jail; the jailer's pid in ${api_pid[NAME]}.
jail_start() {
	local name=$1 id=$2 i
	shift 2
	"$jailer" --id "$id" --exec-file "$thawvm" --uid $UID_ --gid $GID_ \
		--chroot-base-dir "$base" --new-pid-ns "$@" \
		-- --api-sock /run/api.sock --level Info \
		> "$work/$name.console" 2> "$work/$name.vmm.log" &
	api_pid[$name]=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$base/thawvm/$id/root/run/api.sock" ] && return 0
		sleep 0.1
	done
	return 1
}
root_of() { echo "$base/thawvm/$1/root"; }
vmm_pid() { cat "$(root_of "$1")/thawvm.pid" 2>/dev/null; }
status_ids() { # PID: "uid gid" (real ids)
	awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 } END { print u, g }' \
		"/proc/$1/status" 2>/dev/null
}
invoke() { # UDS ID PAYLOAD
	"$thawctl" invoke --uds "$1" --request-id "$2" --payload "$3" \
		--timeout 120 2>&1
}

"$mkfunc" "$top/tools/guest/samples/echo/bootstrap" "$work/echo.cpio.gz" \
	--busybox 2>&1 | diag
payload='{"n":1,"s":"jailed"}'
touch "$work/host-only-file"

# --- The original VM, jailed.
A=$(root_of fn)
jail_start fn fn --cgroup memory.max=536870912 --cgroup pids.max=64 \
	--resource-limit no-file=1024 --resource-limit fsize=1073741824
check "the jailer starts thawvm; its API socket is in the jail" \
	'[ -S "$A/run/api.sock" ]' || diag < "$work/fn.vmm.log"
req "$A/run/api.sock" GET /
expect "GET / through the jail's socket names the jail's id" 200 '"id":"fn"'
pid=$(vmm_pid fn)
check "the jailer wrote the VMM's pid (${pid:-none}) to thawvm.pid" \
	'[ -n "$pid" ] && [ -d "/proc/$pid" ]'
ids=$(status_ids "$pid")
check "the VMM runs as uid $UID_ gid $GID_ ($ids)" '[ "$ids" = "$UID_ $GID_" ]'
groups=$(awk '/^Groups:/ { print $2 }' "/proc/$pid/status")
check "with no supplementary groups ('$groups')" '[ -z "$groups" ]'
nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
check "it is pid 1 of its own pid namespace (NSpid $nspid)" '[ "$nspid" = 1 ]'
nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")
check "no new privileges ($nnp)" '[ "$nnp" = 1 ]'
cgline=$(cat "/proc/$pid/cgroup")
check "it is in the cgroup thawvm/fn ($cgline)" '[ "$cgline" = "0::/thawvm/fn" ]'
lim=$(awk '/^Max open files/ { f = $4 } /^Max file size/ { s = $4 }
	END { print f, s }' "/proc/$pid/limits")
check "its rlimits are the asked ones (no-file, fsize: $lim)" \
	'[ "$lim" = "1024 1073741824" ]'
mmax=$(cat "$cg/fn/memory.max" 2>/dev/null)
pmax=$(cat "$cg/fn/pids.max" 2>/dev/null)
check "the cgroup's memory.max and pids.max are the asked ones ($mmax, $pmax)" \
	'[ "$mmax" = 536870912 ] && [ "$pmax" = 64 ]'
check "from inside, a host file is absent and the jail's files are there" \
	'[ -e "$work/host-only-file" ] && [ ! -e "/proc/$pid/root$work/host-only-file" ] &&
	 [ ! -e "/proc/$pid/root/etc" ] && [ -x "/proc/$pid/root/thawvm" ] &&
	 [ -c "/proc/$pid/root/dev/kvm" ]'
nodes=$(stat -c '%u:%g %t:%T' "$A/dev/kvm")
want=$(stat -c '%t:%T' /dev/kvm)
check "the jail's /dev/kvm is the host's device, owned by the VMM ($nodes)" \
	'[ "$nodes" = "$UID_:$GID_ $want" ]'
procs=$(ls "/proc/$pid/root/proc" | grep -c '^[0-9]')
check "the jail's /proc shows only the VMM's namespace ($procs pids)" \
	'[ "$procs" = 1 ]'
check "the jailer passed --start-time-us; thawvm logged it" \
	'grep -q "started by a jailer" "$work/fn.vmm.log"'

# The orchestrator puts the guest's files in the jail, readable by the VMM.
cp "$THAW_KERNEL" "$A/vmlinux"
cp "$work/echo.cpio.gz" "$A/initrd"
install -d -o $UID_ -g $GID_ "$A/snap"
req "$A/run/api.sock" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}'
req "$A/run/api.sock" PUT /boot-source '{"kernel_image_path":"/vmlinux","initrd_path":"/initrd","boot_args":"console=ttyS0 quiet panic=-1"}'
req "$A/run/api.sock" PUT /vsock '{"guest_cid":3,"uds_path":"/run/v.sock"}'
expect "paths in the API are the jail's" 204
# The guest connects out to a listener in the jail: the VMM's uid must be
# able to connect to it.
(umask 0; exec "$thawctl" wait-ready --uds "$A/run/v.sock" \
	--timeout "$BOOT_TIMEOUT") > "$work/fn.ready" 2>&1 &
ready=$!
req "$A/run/api.sock" PUT /actions '{"action_type":"InstanceStart"}'
if [ "$code" = 204 ] && wait "$ready"; then
	tap_ok "the jailed VM boots and is ready"
else
	tap_fail "the jailed VM boots and is ready ($code $body)"
	diag < "$work/fn.ready"
	tail -n 20 "$work/fn.console" "$work/fn.vmm.log" | diag
fi
warm=$(invoke "$A/run/v.sock" w-1 "$payload")
check "the jailed VM answers" '[[ "$warm" == *"\"echo\":$payload"* ]]' ||
	echo "$warm" | diag
req "$A/run/api.sock" PATCH /vm '{"state":"Paused"}'
req "$A/run/api.sock" PUT /snapshot/create '{"snapshot_path":"/snap/state","mem_file_path":"/snap/memory"}'
expect "a snapshot into the jail" 204
check "the snapshot files are in the jail's root, the VMM's" \
	'[ "$(stat -c %u "$A/snap/state" 2>/dev/null)" = $UID_ ] &&
	 [ -s "$A/snap/memory" ]'
kill -TERM "${api_pid[fn]}"
api_wait fn 60
rc=$?
check "SIGTERM to the jailer stops the VMM; the jailer exits 0 (rc $rc)" \
	'[ $rc = 0 ] && [ ! -d "/proc/$pid" ]'

# --- A clone in a second jail: the snapshot files hard-linked in.
B=$(root_of clone-1)
jail_start clone clone-1 --cgroup memory.max=536870912 --cgroup pids.max=64
install -d -o $UID_ -g $GID_ "$B/snap"
ln "$A/snap/state" "$A/snap/memory" "$B/snap/"
req "$B/run/api.sock" PUT /snapshot/load '{"snapshot_path":"/snap/state","mem_backend":{"backend_type":"File","backend_path":"/snap/memory"},"resume_vm":true,"vsock_override":{"uds_path":"/run/v.sock","guest_cid":4}}'
expect "the clone's jail loads the linked snapshot" 204
got=$(invoke "$B/run/v.sock" w-1 "$payload")
check "the jailed clone gives the warm VM's answer" '[ "$got" = "$warm" ]' ||
	{ echo "want $warm"; echo "got  $got"; tail -n 5 "$work/clone.vmm.log"; } | diag
cpid=$(vmm_pid clone-1)
check "the clone is jailed too: uid, cgroup, no host file" \
	'[ "$(status_ids "$cpid")" = "$UID_ $GID_" ] &&
	 [ "$(cat "/proc/$cpid/cgroup")" = "0::/thawvm/clone-1" ] &&
	 [ ! -e "/proc/$cpid/root$work/host-only-file" ]'
kill -TERM "${api_pid[clone]}"
api_wait clone 60 >/dev/null

# --- Without --new-pid-ns the jailer becomes the VMM; --daemonize.
P=$(root_of plain)
"$jailer" --id plain --exec-file "$thawvm" --uid $UID_ --gid $GID_ \
	--chroot-base-dir "$base" -- --api-sock /run/api.sock \
	> "$work/plain.console" 2> "$work/plain.vmm.log" &
api_pid[plain]=$!
for ((i = 0; i < 100; i++)); do [ -S "$P/run/api.sock" ] && break; sleep 0.1; done
req "$P/run/api.sock" GET /
comm=$(cat "/proc/${api_pid[plain]}/comm" 2>/dev/null)
check "without --new-pid-ns the jailer execs thawvm in place ($comm), no /proc in its jail" \
	'[ "$code" = 200 ] && [ "$comm" = thawvm ] &&
	 [ "$(status_ids "${api_pid[plain]}")" = "$UID_ $GID_" ] &&
	 [ ! -e "/proc/${api_pid[plain]}/root/proc" ]'
kill -TERM "${api_pid[plain]}"
api_wait plain 60 >/dev/null
D=$(root_of daemon)
"$jailer" --id daemon --exec-file "$thawvm" --uid $UID_ --gid $GID_ \
	--chroot-base-dir "$base" --new-pid-ns --daemonize \
	-- --api-sock /run/api.sock > "$work/daemon.out" 2>&1 &
wait $!
drc=$?
for ((i = 0; i < 100; i++)); do [ -S "$D/run/api.sock" ] && break; sleep 0.1; done
req "$D/run/api.sock" GET /
dpid=$(vmm_pid daemon)
sid=$(awk '{ print $6 }' "/proc/$dpid/stat" 2>/dev/null)
check "--daemonize: the jailer exits $drc, the VMM runs on in its own session ($sid), stdio on /dev/null" \
	'[ "$drc" = 0 ] && [ "$code" = 200 ] && [ "$(readlink "/proc/$dpid/fd/1")" = /dev/null ] &&
	 [ "$sid" != "$(awk "{ print \$6 }" /proc/$$/stat)" ]'
kill -TERM "$dpid" 2>/dev/null

# --- memory.max is enforced: 24 MiB cannot hold a booting 128 MiB guest.
S=$(root_of small)
jail_start small small --cgroup memory.max=25165824
cp "$THAW_KERNEL" "$S/vmlinux"
cp "$work/echo.cpio.gz" "$S/initrd"
req "$S/run/api.sock" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}'
req "$S/run/api.sock" PUT /boot-source '{"kernel_image_path":"/vmlinux","initrd_path":"/initrd","boot_args":"console=ttyS0 quiet panic=-1"}'
req "$S/run/api.sock" PUT /actions '{"action_type":"InstanceStart"}'
api_wait small 240
rc=$?
ooms=$(awk '/^oom_kill / { print $2 }' "$cg/small/memory.events" 2>/dev/null)
check "a guest bigger than memory.max is OOM-killed (rc $rc, oom_kill ${ooms:-none})" \
	'[ "$rc" = $((128 + 9)) ] && [ "${ooms:-0}" -ge 1 ]'

# --- Bad inputs: refused by name, nothing left behind.
touch "$work/a-file"
# refused WHAT RC PATTERN JAILER ARGS...: thaw-jailer fails with RC and
# PATTERN on stderr; no jail named bad-* or cgroup jt-bad is left.
refused() {
	local what=$1 want=$2 pat=$3 out rc
	shift 3
	out=$("$jailer" "$@" -- --api-sock /run/api.sock 2>&1)
	rc=$?
	if [ $rc = "$want" ] && [[ "$out" == *$pat* ]] &&
	   ! compgen -G "$base/thawvm/bad*" >/dev/null &&
	   [ ! -e /sys/fs/cgroup/jt-bad/bad ]; then
		tap_ok "$what: refused (rc $rc), nothing left"
	else
		tap_fail "$what (rc $rc): $out"
	fi
}
ok=(--exec-file "$thawvm" --uid $UID_ --gid $GID_ --chroot-base-dir "$base")
refused "an id with '_'" 2 "--id 'bad_id'" --id bad_id "${ok[@]}"
refused "an id of 65 characters" 2 "1 to 64" --id "$(printf 'b%.0s' {1..65})" "${ok[@]}"
refused "a missing exec file" 2 "no-such-vmm: No such file" --id bad \
	--exec-file "$work/no-such-vmm" --uid $UID_ --gid $GID_ --chroot-base-dir "$base"
refused "a cgroup key with '..'" 2 "without '/' or '..'" --id bad "${ok[@]}" \
	--cgroup ../../memory.max=1
refused "a cgroup.* key" 2 "cgroup.* files" --id bad "${ok[@]}" \
	--cgroup cgroup.procs=1
refused "uid 0" 2 "must not run as root" --id bad --exec-file "$thawvm" \
	--uid 0 --gid $GID_ --chroot-base-dir "$base"
refused "a chroot base that is a file" 2 "not a directory" --id bad \
	--exec-file "$thawvm" --uid $UID_ --gid $GID_ --chroot-base-dir "$work/a-file"
refused "cgroup version 1" 2 "only cgroup v2" --id bad "${ok[@]}" --cgroup-version 1
refused "a cgroup file that does not exist (after the jail was built)" 1 \
	"memory.nosuchfile" --id bad "${ok[@]}" --parent-cgroup jt-bad \
	--cgroup memory.nosuchfile=1
