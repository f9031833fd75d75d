# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by the guest, snapshot and vmm selftests (*_test.sh): boot a
# function VM on the stock kernel and reach it over vsock, and TAP
# helpers.  Runs inside tools/vmtest.
#
# THAW_TEST_VMM picks the VMM:
#   qemu    qemu-system-x86_64 -M microvm with vhost-vsock-device;
#           thawctl reaches the guest with --cid, the guest the host over
#           AF_VSOCK
#   thawvm  (default) build/bin/thawvm --no-api --config-file (Firecracker's schema);
#           thawctl reaches the guest with --uds (Firecracker's protocol)
# Every VM gets its own CID and, for thawvm, its own socket, so several may
# run at once.  VM_MEM_MIB (default 128) is the RAM of the VMs vm_start
# boots.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMM=${THAW_TEST_VMM:-thawvm}
thawctl=$top/build/bin/thawctl
mkfunc=$top/tools/guest/mkfunc
# A nested guest boots in 10-20 s under TCG; leave room for a busy host.
BOOT_TIMEOUT=${THAW_TEST_BOOT_TIMEOUT:-300}
work=$(mktemp -d "${TMPDIR:-/tmp}/guest-test.XXXXXX")

vm_names=()
declare -A vm_pid vm_cid vm_target vm_ready_pid vm_ready_port vm_img vm_args

tap_n=0
tap_ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n $*"; }
tap_fail() { tap_n=$((tap_n + 1)); echo "not ok $tap_n $*"; }
tap_skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n $* # SKIP $SKIP_REASON"; }

# tap_plan N NAME [WHY]: print the TAP plan of N tests.  When no function
# VM can run here (vm_missing), or else WHY is not empty, all N are skipped
# as NAME and the test exits.
tap_plan() {
	local i

	echo "1..$1"
	SKIP_REASON=$(vm_missing)
	[ -n "$SKIP_REASON" ] || SKIP_REASON=${3:-}
	[ -n "$SKIP_REASON" ] || return 0
	for ((i = 0; i < $1; i++)); do tap_skip "$2"; done
	exit 0
}

# curl_missing: why the tests that drive thawvm's API cannot, or nothing.
curl_missing() {
	command -v curl >/dev/null || echo "curl not installed"
}
# check DESCRIPTION CONDITION: ok if the shell CONDITION (a string, run
# with eval when check is called) holds.
check() {
	if eval "$2"; then tap_ok "$1"; else tap_fail "$1"; return 1; fi
}
diag() { sed -e 's/^/# /' -e '$a\'; }

# Why the machine cannot run these tests, or nothing.
vm_missing() {
	[ -n "${THAW_KERNEL:-}" ] && [ -f "$THAW_KERNEL" ] ||
		{ echo "THAW_KERNEL is not set (run inside tools/vmtest)"; return; }
	[ -w /dev/kvm ] || { echo "no usable /dev/kvm"; return; }
	[ -x "$thawctl" ] && [ -x "$top/build/bin/thaw-init" ] ||
		{ echo "thawctl or thaw-init not built"; return; }
	command -v busybox >/dev/null || { echo "busybox not installed"; return; }
	case "$VMM" in
	qemu)
		command -v qemu-system-x86_64 >/dev/null ||
			{ echo "qemu-system-x86_64 not installed"; return; }
		[ -e /dev/vhost-vsock ] || modprobe vhost_vsock 2>/dev/null
		[ -e /dev/vhost-vsock ] ||
			{ echo "no /dev/vhost-vsock (vhost_vsock)"; return; }
		;;
	thawvm)
		[ -x "$top/build/bin/thawvm" ] ||
			{ echo "build/bin/thawvm not built"; return; }
		;;
	*)
		echo "THAW_TEST_VMM must be qemu or thawvm, not $VMM"
		return
		;;
	esac
}

# qemu_run NAME INITRD ARGS CID [QEMU OPTIONS...]: one QEMU microvm with
# vhost-vsock and a monitor socket, in the background.
qemu_run() {
	local name=$1 img=$2 args=$3 cid=$4
	shift 4
	qemu-system-x86_64 -M microvm,acpi=on,auto-kernel-cmdline=off \
		-enable-kvm -cpu host -m "${VM_MEM_MIB:-128}" -smp 1 -nodefaults \
		-no-user-config -display none -no-reboot \
		-kernel "$THAW_KERNEL" -initrd "$img" -append "$args" \
		-serial "file:$work/$name.console" \
		-device "vhost-vsock-device,guest-cid=$cid" \
		-monitor "unix:$work/$name.mon,server,nowait" "$@" \
		> "$work/$name.vmm.log" 2>&1 &
	vm_pid[$name]=$!
}

# hmp NAME COMMAND: one QEMU monitor command, its output on stdout.
hmp() {
	printf '%s\n' "$2" |
		socat -t 120 - "UNIX-CONNECT:$work/$1.mon" 2>/dev/null |
		tr -d '\r' | sed 's/\x1b\[[0-9;]*[A-Za-z]//g'
}

# vm_snapshot NAME FILE: QEMU's own snapshot of a VM (paused first, then
# migrated to a file); the VM is left paused.
vm_snapshot() {
	hmp "$1" stop > /dev/null
	hmp "$1" "migrate \"exec:cat > $2\"" > /dev/null
	hmp "$1" "info migrate" | grep -q 'Migration status: completed'
}

# vm_restore NAME FROM CID FILE: a clone of FROM from its snapshot FILE,
# with vsock CID CID, running.  QEMU resets the clone's vsock transport on
# load.
vm_restore() {
	local name=$1 from=$2 cid=$3 i st
	vm_names+=("$name")
	vm_cid[$name]=$cid
	vm_target[$name]="--cid $cid"
	qemu_run "$name" "${vm_img[$from]}" "${vm_args[$from]}" "$cid" \
		-incoming "exec:cat $4"
	# The snapshot was of a paused VM: resume the clone once it is loaded.
	for ((i = 0; i < 600; i++)); do
		st=$(hmp "$name" "info status")
		case "$st" in
		*running*) return 0 ;;
		*inmigrate*|'') sleep 0.2 ;;
		*paused*) hmp "$name" cont > /dev/null ;;
		esac
		vm_alive "$name" || return 1
	done
	return 1
}

# vm_start NAME INITRD CID [KERNEL ARGS...]: boot a function VM and start
# waiting for its ready notification (on port 9900+CID with qemu, where all
# VMs share the host's vsock ports).
vm_start() {
	local name=$1 img=$2 cid=$3 ready_port=9999
	shift 3
	local args="console=ttyS0 quiet panic=-1 $*"

	vm_names+=("$name")
	vm_cid[$name]=$cid
	case "$VMM" in
	qemu)
		ready_port=$((9900 + cid))
		args+=" thaw.ready_port=$ready_port"
		vm_target[$name]="--cid $cid"
		"$thawctl" wait-ready --vsock --port "$ready_port" \
			--timeout "$BOOT_TIMEOUT" > "$work/$name.ready" \
			2> "$work/$name.ready.err" &
		vm_ready_pid[$name]=$!
		vm_img[$name]=$img
		vm_args[$name]=$args
		qemu_run "$name" "$img" "$args" "$cid"
		;;
	thawvm)
		local uds=$work/$name.vsock
		vm_target[$name]="--uds $uds"
		"$thawctl" wait-ready --uds "$uds" --timeout "$BOOT_TIMEOUT" \
			> "$work/$name.ready" 2> "$work/$name.ready.err" &
		vm_ready_pid[$name]=$!
		cat > "$work/$name.json" <<EOF
{
  "boot-source": {
    "kernel_image_path": "$THAW_KERNEL",
    "initrd_path": "$img",
    "boot_args": "$args"
  },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": ${VM_MEM_MIB:-128} },
  "vsock": { "guest_cid": $cid, "uds_path": "$uds" }
}
EOF
		"$top/build/bin/thawvm" --no-api --config-file "$work/$name.json" \
			> "$work/$name.console" 2> "$work/$name.vmm.log" &
		vm_pid[$name]=$!
		;;
	esac
	vm_ready_port[$name]=$ready_port
}

# vm_wait_up NAME: wait until the guest's thaw-init is up (its kernel has
# booted).  The tests boot one VM at a time: a booting nested guest is the
# heaviest load vmtest's CPUs see, and several at once made boot times
# swing past any sane timeout on a busy host.
vm_wait_up() {
	local i
	for ((i = 0; i < BOOT_TIMEOUT * 5; i++)); do
		grep -q 'thaw-init: up' "$work/$1.console" 2>/dev/null && return 0
		vm_alive "$1" || return 1
		sleep 0.2
	done
	return 1
}

# vm_wait_ready NAME: 0 once the guest said it is ready; its message is in
# $work/NAME.ready.
vm_wait_ready() {
	wait "${vm_ready_pid[$1]}"
}

# vm_ctl NAME COMMAND [ARGS...]: thawctl COMMAND aimed at the VM.
vm_ctl() {
	local name=$1 cmd=$2
	shift 2
	# shellcheck disable=SC2086
	"$thawctl" "$cmd" ${vm_target[$name]} "$@"
}

vm_alive() { kill -0 "${vm_pid[$1]}" 2>/dev/null; }

# vm_wait_exit NAME SECONDS: the VMM's exit status, 124 on timeout.
vm_wait_exit() {
	local name=$1 t=$2 i
	for ((i = 0; i < t * 10; i++)); do
		vm_alive "$name" || { wait "${vm_pid[$name]}"; return; }
		sleep 0.1
	done
	return 124
}

vm_console() {
	echo "# --- console of $1 (last 30 lines)"
	tail -n 30 "$work/$1.console" 2>/dev/null | diag
	if [ -s "$work/$1.vmm.log" ]; then
		echo "# --- VMM log of $1"
		tail -n 30 "$work/$1.vmm.log" | diag
	fi
}

vm_cleanup() {
	local name hung=()
	for name in "${vm_names[@]}"; do
		# Never ready in BOOT_TIMEOUT while its VMM ran on, with no
		# error from it: a nested guest hung (under TCG the emulation
		# has done this; "Deaths under TCG" in vmtest.rst).
		if [ "$VMM" = thawvm ] && vm_alive "$name" &&
		   grep -q 'no ready notification' "$work/$name.ready.err" 2>/dev/null &&
		   [ ! -s "$work/$name.vmm.log" ]; then
			hung+=("$name")
		fi
		kill "${vm_ready_pid[$name]:-}" 2>/dev/null
		if vm_alive "$name"; then
			kill "${vm_pid[$name]}" 2>/dev/null
			vm_wait_exit "$name" 10 ||
				kill -9 "${vm_pid[$name]}" 2>/dev/null
		fi
	done
	wait 2>/dev/null
	# A guest that died of a triple fault says so in the TAP output
	# (selftests/run reruns such a test once under TCG).
	grep -h 'triple fault' "$work"/*.vmm.log 2>/dev/null |
		sed 's/^/nested guest died: /' | diag
	for name in "${hung[@]}"; do
		echo "nested guest died: $name: hung, no ready notification in $BOOT_TIMEOUT s, its VMM running and silent" | diag
	done
	rm -rf "$work"
}
trap vm_cleanup EXIT

# json_get FILE KEY: a top-level string or number member of a one-line
# JSON object (enough for thaw-init's flat messages).
json_get() {
	sed -n "s/.*\"$2\":\(\"\([^\"]*\)\"\|\([^,}]*\)\).*/\2\3/p" "$1"
}

# frame TYPE META [BODY] [VERSION] [FLAGS] [META_LEN] [BODY_LEN]: one
# protocol message as raw bytes, lengths overridable to lie.
le32() {
	printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) \
		$((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}
frame() {
	local type=$1 meta=$2 body=${3:-} ver=${4:-1} flags=${5:-0}
	local mlen=${6:-${#meta}} blen=${7:-${#body}}
	# shellcheck disable=SC2059
	printf "THAW\\x$(printf %02x "$ver")\\x$(printf %02x "$type")\\x$(printf %02x "$flags")\\x00$(le32 "$mlen")$(le32 "$blen")"
	printf '%s%s' "$meta" "$body"
}

# raw_send NAME: stdin to the guest's invoke port, its answer (minus the
# 16-byte header) on stdout; closes after 5 s of quiet.
raw_send() {
	local name=$1
	case "$VMM" in
	qemu)
		socat -t 5 -T 20 - "VSOCK-CONNECT:${vm_cid[$name]}:9000" |
			tail -c +17
		;;
	thawvm)
		{ printf 'CONNECT 9000\n'; cat; } |
			socat -t 5 -T 20 - "UNIX-CONNECT:$work/$name.vsock" |
			sed '1d' | tail -c +17
		;;
	esac
}
