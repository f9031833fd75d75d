#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# thaw-jailer's argument checks, which need no VM and no privilege: every
# bad value refused with exit status 2 and a message naming it, before
# anything is made (the chroot base stays absent).  The jail itself is
# selftests/vmm/jailer_test.sh's, in vmtest.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jailer=build/bin/thaw-jailer
echo "1..26"
n=0
if [ ! -x "$jailer" ]; then
	for ((i = 1; i <= 26; i++)); do
		echo "ok $i # SKIP $jailer not built"
	done
	exit 0
fi

base=$tmp/base
touch "$tmp/file" "$tmp/not-exec"
ok=(--exec-file "$top/build/bin/thawvm" --uid 1000 --gid 1000
    --chroot-base-dir "$base")

# refused DESC PATTERN ARGS...: exit status 2, PATTERN in the message,
# nothing made.
refused() {
	local desc=$1 pat=$2 out rc
	shift 2
	out=$("$jailer" "$@" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ $rc = 2 ] && [[ "$out" == *"$pat"* ]] && [ ! -e "$base" ]; then
		echo "ok $n $desc: ${out%%$'\n'*}"
	else
		echo "not ok $n $desc (rc $rc): $out"
	fi
}

refused "no arguments" "--id, --exec-file, --uid and --gid are needed"
refused "no --uid" "are needed" --id a --exec-file "$top/build/bin/thawvm" --gid 1
refused "an id with '_'" "--id 'a_b'" --id a_b "${ok[@]}"
refused "an id with '/'" "--id '../x'" --id ../x "${ok[@]}"
refused "an empty id" "--id ''" --id "" "${ok[@]}"
refused "an id of 65 characters" "1 to 64" --id "$(printf 'a%.0s' {1..65})" "${ok[@]}"
refused "a missing exec file" "No such file" --id a --exec-file "$tmp/none" \
	--uid 1 --gid 1
refused "an exec file that is not executable" "not an executable file" \
	--id a --exec-file "$tmp/not-exec" --uid 1 --gid 1
refused "uid 0" "--uid 0: the VMM must not run as root" --id a \
	--exec-file "$top/build/bin/thawvm" --uid 0 --gid 1
refused "gid 0" "--gid 0" --id a --exec-file "$top/build/bin/thawvm" \
	--uid 1 --gid 0
refused "a uid that is not a number" "--uid 'root'" --id a \
	--exec-file "$top/build/bin/thawvm" --uid root --gid 1
refused "a relative chroot base" "an absolute path" --id a \
	--exec-file "$top/build/bin/thawvm" --uid 1 --gid 1 --chroot-base-dir rel
refused "a chroot base that is a file" "not a directory" --id a \
	--exec-file "$top/build/bin/thawvm" --uid 1 --gid 1 \
	--chroot-base-dir "$tmp/file"
refused "a cgroup key with '..'" "without '/' or '..'" --id a "${ok[@]}" \
	--cgroup ../memory.max=1
refused "a cgroup key with '/'" "without '/' or '..'" --id a "${ok[@]}" \
	--cgroup x/memory.max=1
refused "a cgroup key without a controller" "CONTROLLER.NAME" --id a \
	"${ok[@]}" --cgroup max=1
refused "a cgroup.* key" "cgroup.* files are the jailer's" --id a \
	"${ok[@]}" --cgroup cgroup.procs=1
refused "a cgroup value missing" "KEY=VALUE" --id a "${ok[@]}" \
	--cgroup memory.max
refused "a parent cgroup with '..'" "--parent-cgroup '../up'" --id a \
	"${ok[@]}" --parent-cgroup ../up
refused "cgroup version 1" "only cgroup v2" --id a "${ok[@]}" --cgroup-version 1
refused "an unknown resource limit" "fsize=BYTES or no-file=N" --id a \
	"${ok[@]}" --resource-limit core=0
refused "a netns that does not exist" "--netns $tmp/no-ns" --id a \
	"${ok[@]}" --netns "$tmp/no-ns"
refused "VMM arguments without '--'" "go after '--'" --id a "${ok[@]}" \
	--api-sock /x

n=$((n + 1))
out=$("$jailer" --help 2>&1)
if [ $? = 0 ] && [[ "$out" == *"usage: thaw-jailer"* ]]; then
	echo "ok $n --help prints the usage"
else
	echo "not ok $n --help: $out"
fi

# thawvm's side of the jailer's command line.
n=$((n + 1))
out=$(build/bin/thawvm --seccomp-filter /x 2>&1)
if [ $? = 2 ] && [[ "$out" == *"--seccomp-filter is not supported"* ]]; then
	echo "ok $n thawvm refuses Firecracker's --seccomp-filter: $out"
else
	echo "not ok $n thawvm --seccomp-filter: $out"
fi
n=$((n + 1))
out=$(build/bin/thawvm --start-time-us 12x 2>&1)
if [ $? = 2 ] && [[ "$out" == *"--start-time-us '12x'"* ]]; then
	echo "ok $n thawvm refuses a --start-time-us that is not a number"
else
	echo "not ok $n thawvm --start-time-us 12x: $out"
fi
