# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by selftests/snapshot/*_test.sh (sourced after
# selftests/lib/function-vm.sh): one snapshot of the echo sample made with
# `thawctl snapshot --record-wset`, and clones of it started with
# `thawctl restore`, which prints one JSON object per clone.

# clone pids to stop on exit
clone_pids=()

# snap_make DIR: boot the echo sample, snapshot it at ready into DIR and
# record its working set; the command's JSON in $work/snap.json.
snap_make() {
	"$mkfunc" "$top/tools/guest/samples/echo/bootstrap" \
		"$work/echo.cpio.gz" --busybox 2>&1 | diag
	"$thawctl" snapshot "$work/echo.cpio.gz" "$1" --record-wset \
		--payload '{"record":1}' --timeout "$BOOT_TIMEOUT" \
		--log "$work/snap.vmm.log" --console "$work/snap.console" \
		> "$work/snap.json" 2> "$work/snap.err"
}

# clone_start NAME CID OUT [thawctl restore options...]: one clone of
# $snap (--invoke '{"clone":"NAME"}' among the options to have it answer
# a first invocation); thawctl's JSON in OUT, its stderr in OUT.err, its
# exit status returned.
clone_start() {
	local name=$1 cid=$2 out=$3
	shift 3
	"$thawctl" restore "$snap" --api-sock "$work/$name.sock" \
		--uds "$work/$name.vsock" --cid "$cid" --id "$name" \
		--json --timeout 120 \
		--log "$work/$name.vmm.log" --console "$work/$name.console" \
		"$@" > "$out" 2> "$out.err"
}

# json_num FILE KEY: a top-level number member of a JSON object.
json_num() {
	sed -n "s/.*\"$2\": *\([0-9.]*\).*/\1/p" "$1" | head -n 1
}

# clone_stop PID: SIGTERM, then wait up to 30 s for it to go.
clone_stop() {
	local i
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < 300; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	return 1
}

clone_cleanup() {
	local p
	for p in "${clone_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	vm_cleanup
}
