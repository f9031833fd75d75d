#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# thawvm's seccomp filters (Documentation/admin-guide/machine.rst,
# "Seccomp"): with a machine running, every thread is filtered (Seccomp: 2
# in /proc), none with --no-seccomp.  Then, one thawvm each, a call its
# role may not make is injected into each kind of thread
# (build/selftests/vmm/sc_inject, through ptrace: no hook in thawvm): thawvm
# ends with status 1 and its log names the call and the thread's role.
# io_uring_setup on the control plane fails with EPERM instead, and thawvm
# goes on serving.  That the allowed paths still work is the other vmm and
# snapshot selftests' job: they run with the filters on.
set -uo pipefail
. "$(dirname "$0")/../lib/function-vm.sh"

PLAN=11
tap_plan $PLAN seccomp "$(curl_missing)"

. "$(dirname "$0")/../lib/thawvm-api.sh"
trap 'api_cleanup; vm_cleanup' EXIT
inject=$top/build/selftests/vmm/sc_inject

# start_machine NAME [ARGS...]: a thawvm whose machine runs (the stock
# kernel, no initramfs: it stops at its panic, its threads stay).
start_machine() {
	local name=$1
	shift
	api_start "$name" "$work/$name.sock" "$@" || return 1
	req "$work/$name.sock" PUT /boot-source \
		"{\"kernel_image_path\":\"$THAW_KERNEL\",\"boot_args\":\"console=ttyS0 quiet panic=0\"}"
	req "$work/$name.sock" PUT /actions '{"action_type":"InstanceStart"}'
	[ "$code" = 204 ]
}

# thread NAME COMM: the id of the thread named COMM in NAME's thawvm; for
# main, its main thread's.
thread() {
	local t
	[ "$2" = main ] && echo "${api_pid[$1]}" && return 0
	for t in /proc/"${api_pid[$1]}"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && echo "${t##*/}" &&
			return 0
	done
	return 1
}

# modes NAME: "comm=mode" for each thread of NAME's thawvm (main for the
# main thread), sorted.
modes() {
	local pid=${api_pid[$1]} t comm
	for t in /proc/"$pid"/task/*; do
		comm=$(cat "$t/comm")
		[ "${t##*/}" = "$pid" ] && comm=main
		echo "$comm=$(awk '/^Seccomp:/ { print $2 }' "$t/status")"
	done | LC_ALL=C sort | tr '\n' ' '
}

# Every role's thread: main, the API's (MHD-single), signals, vcpu0,
# devices.
start_machine filtered
m=$(modes filtered)
check "every thread is filtered: $m" \
	'[[ "$m" == *devices=2* && "$m" == *vcpu0=2* && "$m" == *MHD-single=2* &&
	   "$m" == *signals=2* && "$m" == *main=2* && "$m" != *=0* ]]'
kill -TERM "${api_pid[filtered]}"
api_wait filtered 30

start_machine open --no-seccomp
m=$(modes open)
check "--no-seccomp: no thread is filtered: $m" \
	'[[ "$m" == *vcpu0=0* && "$m" == *devices=0* && "$m" != *=2* ]]'
kill -TERM "${api_pid[open]}"
api_wait open 30

# denied NAME COMM CALL ROLE SYSCALL: inject CALL into thread COMM of a
# fresh thawvm: it must die with status 1, naming SYSCALL and ROLE.
denied() {
	local name=$1 comm=$2 call=$3 role=$4 sys=$5 tid rc log
	if ! start_machine "$name" || ! tid=$(thread "$name" "$comm"); then
		tap_fail "$call in the $comm thread: no such thread"
		return
	fi
	"$inject" "$tid" "$call" 2>&1 | diag
	api_wait "$name" 30
	rc=$?
	log=$work/$name.vmm.log
	check "$call in the $comm thread: thawvm exits 1 (rc $rc), its log names $sys and the $role role" \
		'[ $rc = 1 ] && grep -q "the $role thread (tid $tid) made system call $sys " "$log"' ||
		tail -n 5 "$log" | diag
}

denied main main execve control execve
denied api MHD-single socket-packet control socket
denied api-mmap MHD-single mmap-exec control mmap
denied signals signals execve signals execve
denied vcpu vcpu0 mprotect-exec vcpu mprotect
denied vcpu-ring vcpu0 io_uring_setup vcpu io_uring_setup
denied devices devices io_uring_setup devices io_uring_setup
denied devices-sock devices socket-packet devices socket

# The control plane: io_uring_setup fails (lib/memfile.c then writes with
# pwrite) and nothing else happens.
start_machine ring
out=$("$inject" "${api_pid[ring]}" io_uring_setup --return 2>&1 | tail -n 1)
req "$work/ring.sock" GET /
check "io_uring_setup in the main thread: EPERM, thawvm serves on ($out)" \
	'[[ "$out" == *"returned -1"* ]] && [ "$code" = 200 ] &&
	 kill -0 "${api_pid[ring]}"'
