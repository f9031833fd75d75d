#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Rewind (PUT /snapshot/rewind, thawctl rewind) end to end on the stock
# kernel.  A snapshot of the test function, which filled 4 MiB of its RAM
# with random bytes at init; per backend (Thaw, File with enable_rewind) a
# clone that is invoked, rewrites that area, is rewound, and then:
#   - reads the snapshot's area again, byte for byte (its checksum), and
#     its invocation counter is back to 1 (its shell's own memory too);
#   - reads new random bytes after every rewind (VMGenID: CRNG reseeded);
#   - takes a new CID when asked, and answers;
#   - paused right after a rewind, snapshots to a memory file that differs
#     from the snapshot's in at most a few bytes (the new VMGenID and the
#     transport-reset event): memory compared on the host;
#   - KVM keeps its mappings of the pages the rewind did not return
#     (debugfs pages_4k loses at most the pages returned);
#   - survives THAW_TEST_REWINDS (default 30) rewinds in a row, after
#     which thaw.ko's counters and thawvm's open files are where they were.
# Two rewinds sent at once are served one after the other.
# Then the refusals, each a 400 with a message that leaves the VM running:
# a Uffd clone, a File clone loaded without enable_rewind, bad bodies, a
# VM booted cold; and a Uffd load that asks for enable_rewind.
set -uo pipefail
here=$(dirname "$0")
. "$here/../lib/function-vm.sh"
. "$here/../lib/snapshot.sh"
. "$here/../lib/thawvm-api.sh"
cleanup() { api_cleanup; clone_cleanup; }
trap cleanup EXIT

PLAN=40
REWINDS=${THAW_TEST_REWINDS:-30}
VMM=thawvm
tap_plan $PLAN "snapshot rewind" "$(curl_missing)"
backends=(Thaw File)
[ -c /dev/thaw ] || backends=(File)

snap=$work/snap
"$mkfunc" "$top/selftests/guest/testfunc/bootstrap" "$work/tf.cpio.gz" \
	--busybox --env AREA_MB=4 2>&1 | diag
"$thawctl" snapshot "$work/tf.cpio.gz" "$snap" --timeout "$BOOT_TIMEOUT" \
	--log "$work/snap.vmm.log" --console "$work/snap.console" \
	> "$work/snap.json" 2> "$work/snap.err"
rc=$?
check "a snapshot of the test function with a 4 MiB area (rc $rc)" \
	'[ $rc = 0 ] && [ -s "$snap/state" ] && [ -s "$snap/memory" ]' ||
	{ diag < "$work/snap.err"; tail -n 20 "$work/snap.console" 2>/dev/null | diag; }

# inv NAME PAYLOAD: one invocation of clone NAME, its answer on stdout.
inv() {
	"$thawctl" invoke --uds "$work/$1.vsock" --payload "$2" --timeout 120 2>&1
}
# field JSON KEY: a member of a flat JSON object.
field() {
	sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" <<< "$1" | head -n 1
}
rewind() {
	local name=$1
	shift
	"$thawctl" rewind --api-sock "$work/$name.sock" --timeout 120 "$@"
}
# stats_of PID: thaw.ko's totals and the snapshot's pinned, clones and
# private pages, and the clone of PID's private pages.
stats_of() {
	"$thawctl" stats 2>&1 | awk -v pid="$1" '
		/^thaw:/ { print; next }
		$1 !~ /^[0-9]+$/ { next }
		$2 !~ /^[0-9]+$/ { print "snapshot", $6, $7; print "snapshot private", $11 }
		$3 == pid { print "clone private", $7 }'
}
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# kvm_stat PID NAME: KVM's debugfs counter NAME of thawvm PID's VM (its
# folder is named after the thread that made the VM and the VM's fd).
kvm_stat() {
	local f d t
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = "anon_inode:kvm-vm" ] || continue
		for d in /sys/kernel/debug/kvm/*-"${f##*/}"; do
			t=${d##*/}
			[ -e "/proc/$1/task/${t%-*}" ] && cat "$d/$2" && return
		done
	done
	echo none
}

cid=400
for b in "${backends[@]}"; do
	name=rw$b
	cid=$((cid + 100))
	clone_start "$name" "$cid" "$work/$name.json" --backend "$b" \
		--enable-rewind
	rc=$?
	pid=$(json_num "$work/$name.json" pid)
	[ -n "$pid" ] && clone_pids+=("$pid")
	out0=$(inv "$name" '{"action":"sum"}')
	s0=$(field "$out0" sum)
	check "$b: a clone that can rewind answers (rc $rc): count $(field "$out0" count), sum ${s0:0:8}" \
		'[ $rc = 0 ] && [ "$(field "$out0" count)" = 1 ] && [ ${#s0} = 32 ]' ||
		{ echo "$out0"; cat "$work/$name.json.err"; tail -n 5 "$work/$name.vmm.log"; } | diag
	out1=$(inv "$name" '{"action":"write"}')
	s1=$(field "$out1" sum)
	check "$b: it rewrites its 4 MiB area (count $(field "$out1" count))" \
		'[ "$(field "$out1" count)" = 2 ] && [ ${#s1} = 32 ] && [ "$s1" != "$s0" ]' ||
		echo "$out1" | diag

	r=$(rewind "$name" 2> "$work/$name.rw.err")
	pages=$(field "$r" pages)
	echo "# $b: restore load_ms $(json_num "$work/$name.json" load_ms), rewind: $r"
	check "$b: thawctl rewind returns at least the 1024 pages written (${pages:-none})" \
		'[ "${pages:-0}" -ge 1024 ] && [ "$(field "$r" backend)" = "$b" ]' ||
		diag < "$work/$name.rw.err"
	out2=$(inv "$name" '{"action":"sum"}')
	check "$b: after the rewind the area is the snapshot's and the counter restarts" \
		'[ "$(field "$out2" sum)" = "$s0" ] && [ "$(field "$out2" count)" = 1 ]' ||
		echo "$out2 (snapshot's sum $s0)" | diag

	rnds=()
	for k in 1 2 3; do
		rewind "$name" > /dev/null 2>> "$work/$name.rw.err"
		p=$("$thawctl" probe --uds "$work/$name.vsock" --random-bytes 16 \
			--timeout 120 2>&1)
		rnds+=("$(field "$p" random)")
	done
	echo "# $b: random bytes after 3 rewinds: ${rnds[*]}"
	check "$b: new random bytes after every rewind (VMGenID)" \
		'[ "$(printf "%s\n" "${rnds[@]}" | grep -c "^[0-9a-f]\{32\}$")" = 3 ] &&
		 [ "$(printf "%s\n" "${rnds[@]}" | sort -u | wc -l)" = 3 ]'

	r=$(rewind "$name" --cid $((cid + 50)) 2>> "$work/$name.rw.err")
	p=$("$thawctl" probe --uds "$work/$name.vsock" --random-bytes 0 \
		--timeout 120 2>&1)
	check "$b: rewind --cid $((cid + 50)): the guest has it" \
		'[ "$(field "$r" cid)" = $((cid + 50)) ] && [ "$(field "$p" cid)" = $((cid + 50)) ]' ||
		echo "$r / $p" | diag
	out=$(inv "$name" '{"after":"cid"}')
	check "$b: and answers an echo" '[[ "$out" == *"\"echo\":{\"after\":\"cid\"}"* ]]' ||
		echo "$out" | diag

	# Byte for byte, on the host: rewound and paused, its memory is the
	# snapshot's but for what the rewind itself wrote.  And KVM's own
	# mappings of the pages it did not return are still there.
	inv "$name" '{"action":"write"}' > /dev/null
	"$thawctl" api --api-sock "$work/$name.sock" PATCH /vm '{"state":"Paused"}' \
		> /dev/null 2>> "$work/$name.rw.err"
	m0=$(kvm_stat "$pid" pages_4k)
	r=$(rewind "$name" --paused 2>> "$work/$name.rw.err")
	m1=$(kvm_stat "$pid" pages_4k)
	pages=$(field "$r" pages)
	if [ "$m0" = none ] || [ ! -r /sys/kernel/debug/kvm ]; then
		SKIP_REASON="no KVM debugfs"
		tap_skip "$b: KVM keeps its mappings of the pages not returned"
	else
		check "$b: KVM keeps its mappings of the pages not returned (pages_4k $m0 -> $m1, $pages returned)" \
			'[ "$m1" -ge $((m0 - pages)) ] && [ "$m1" -gt 0 ] && [ "$m1" -le "$m0" ]'
	fi
	"$thawctl" api --api-sock "$work/$name.sock" PUT /snapshot/create \
		"{\"snapshot_path\":\"$work/$name.state\",\"mem_file_path\":\"$work/$name.mem\"}" \
		> /dev/null 2>> "$work/$name.rw.err"
	ndiff=$(cmp -l "$snap/memory" "$work/$name.mem" 2>/dev/null | wc -l)
	check "$b: paused after a rewind, its memory differs from the snapshot's in $ndiff bytes (at most 64)" \
		'[ -s "$work/$name.mem" ] && [ "$ndiff" -le 64 ]' ||
		{ tail -n 3 "$work/$name.rw.err"; cmp -l "$snap/memory" "$work/$name.mem" | head; } | diag
	rm -f "$work/$name.mem" "$work/$name.state"
	"$thawctl" api --api-sock "$work/$name.sock" PATCH /vm '{"state":"Resumed"}' \
		> /dev/null 2>> "$work/$name.rw.err"
	out=$(inv "$name" '{"action":"sum"}')
	check "$b: resumed, it reads the snapshot's area (count $(field "$out" count))" \
		'[ "$(field "$out" sum)" = "$s0" ] && [ "$(field "$out" count)" = 1 ]' ||
		echo "$out" | diag

	# Many rewinds in a row; every one answered, now and then invoked.
	rewind "$name" --paused > /dev/null 2>> "$work/$name.rw.err"
	st0=$(stats_of "$pid")
	fd0=$(nfds "$pid")
	"$thawctl" api --api-sock "$work/$name.sock" PATCH /vm '{"state":"Resumed"}' \
		> /dev/null 2>> "$work/$name.rw.err"
	t0=$(date +%s%N) bad=0 badinv=0
	for ((k = 1; k <= REWINDS; k++)); do
		rewind "$name" > /dev/null 2>> "$work/$name.rw.err" || bad=$((bad + 1))
		if ((k % 25 == 0)); then
			out=$(inv "$name" '{"action":"write"}')
			[ "$(field "$out" count)" = 1 ] || { badinv=$((badinv + 1)); echo "$out" | diag; }
		fi
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "$b: $REWINDS rewinds in a row ($ms ms), none refused ($bad), every invocation fresh ($badinv)" \
		'[ $bad = 0 ] && [ $badinv = 0 ] && kill -0 "$pid"' ||
		tail -n 5 "$work/$name.rw.err" | diag
	rewind "$name" --paused > /dev/null 2>> "$work/$name.rw.err"
	st1=$(stats_of "$pid")
	for ((k = 0; k < 20; k++)); do
		fd1=$(nfds "$pid")
		[ "$fd1" = "$fd0" ] && break
		sleep 0.1
	done
	check "$b: thawvm has as many open files as before them ($fd0, $fd1)" \
		'[ "$fd1" = "$fd0" ]'
	if [ "$b" = Thaw ]; then
		# The clone's private pages are the ones its rewinds keep and
		# rewrite in place (THAW_CLONE_RESET_KEEP): every page the
		# guest ever wrote, so a few more when a round writes a page
		# none before it did; bounded, never per rewind.
		p0=$(echo "$st0" | sed -n 's/^clone private //p')
		p1=$(echo "$st1" | sed -n 's/^clone private //p')
		check "Thaw: thaw.ko's counters are where they were, the clone's kept pages grew by at most 64 ($p0 -> $p1)" \
			'[ -n "$st0" ] && [ "$(echo "$st0" | grep -v " private ")" = "$(echo "$st1" | grep -v " private ")" ] &&
			 [ -n "$p0" ] && [ -n "$p1" ] && [ "$p1" -ge "$p0" ] && [ "$p1" -le $((p0 + 64)) ]' ||
			printf 'before:\n%s\nafter:\n%s\n' "$st0" "$st1" | diag
	else
		SKIP_REASON="thaw.ko's counters: a Thaw clone's"
		tap_skip "$b: thaw.ko's counters are where they were"
	fi
	"$thawctl" api --api-sock "$work/$name.sock" PATCH /vm '{"state":"Resumed"}' \
		> /dev/null 2>&1
done
if [ ${#backends[@]} = 1 ]; then
	SKIP_REASON="no /dev/thaw"
	for ((k = 0; k < 13; k++)); do tap_skip "Thaw rewind"; done
fi
keep=rw${backends[-1]}

# --- Refusals: a 400 with a message, the VM left as it was.
clone_start rwUffd 700 "$work/rwUffd.json" --backend Uffd
pid=$(json_num "$work/rwUffd.json" pid)
[ -n "$pid" ] && clone_pids+=("$pid")
out=$(rewind rwUffd 2>&1)
check "Uffd: rewind refused with a message" '[[ "$out" == *"Uffd backend cannot rewind"* ]]' ||
	echo "$out" | diag
out=$(inv rwUffd '{"still":"up"}')
check "Uffd: and the clone answers" '[[ "$out" == *"\"echo\":{\"still\":\"up\"}"* ]]' ||
	echo "$out" | diag
[ -n "$pid" ] && clone_stop "$pid"
clone_start rwUffd2 701 "$work/rwUffd2.json" --backend Uffd --enable-rewind
rc=$?
check "Uffd: a load with enable_rewind is refused (rc $rc)" \
	'[ $rc = 1 ] && grep -q "Uffd backend cannot rewind" "$work/rwUffd2.json.err"' ||
	diag < "$work/rwUffd2.json.err"

clone_start rwPlain 702 "$work/rwPlain.json" --backend File
pid=$(json_num "$work/rwPlain.json" pid)
[ -n "$pid" ] && clone_pids+=("$pid")
out=$(rewind rwPlain 2>&1)
check "File without enable_rewind: refused with a message" \
	'[[ "$out" == *"without enable_rewind"* ]]' || echo "$out" | diag
out=$(inv rwPlain '{"still":"up"}')
check "File without enable_rewind: and the clone answers" \
	'[[ "$out" == *"\"echo\":{\"still\":\"up\"}"* ]]' || echo "$out" | diag
[ -n "$pid" ] && clone_stop "$pid"

sock=$work/$keep.sock
rewind "$keep" > "$work/conc1.out" 2>&1 &
cpid=$!
rewind "$keep" > "$work/conc2.out" 2>&1
rc2=$?
wait "$cpid"
rc1=$?
out=$(inv "$keep" '{"action":"sum"}')
check "two rewinds at once: both served (rc $rc1, $rc2), and a fresh invocation after" \
	'[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ "$(field "$out" count)" = 1 ]' ||
	cat "$work/conc1.out" "$work/conc2.out" <(echo "$out") | diag
req "$sock" PUT /snapshot/rewind '{"resume_vm":1}'
expect "bad body: resume_vm not a bool" 400 "must be true or false"
req "$sock" PUT /snapshot/rewind '{"resume_vm":'
expect "bad body: not JSON" 400 "Invalid JSON"
req "$sock" PUT /snapshot/rewind '{"vsock_override":{"guest_cid":2}}'
expect "bad body: CID 2" 400 "guest_cid"
req "$sock" PUT /snapshot/rewind '{"vsock_override":{"guest_cid":9,"uds_path":"/x"}}'
expect "bad body: a new uds_path" 400 "cannot change on a rewind"
req "$sock" GET /
st=$body
out=$(inv "$keep" '{"still":"up"}')
check "after the bad bodies it is Running and answers" \
	'[[ "$st" == *"\"state\":\"Running\""* ]] && [[ "$out" == *"\"echo\":{\"still\":\"up\"}"* ]]' ||
	echo "$st / $out" | diag

# A VM booted cold has no snapshot to go back to.
cat > "$work/cold.json" <<EOF
{
  "boot-source": { "kernel_image_path": "$THAW_KERNEL",
		   "initrd_path": "$work/tf.cpio.gz",
		   "boot_args": "console=ttyS0 quiet panic=-1" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 128 },
  "vsock": { "guest_cid": 703, "uds_path": "$work/cold.vsock" }
}
EOF
api_start cold "$work/cold.sock" --config-file "$work/cold.json"
req "$work/cold.sock" PUT /snapshot/rewind '{}'
expect "a VM booted cold: refused" 400 "not loaded from a snapshot"
req "$work/cold.sock" GET /
expect "and it runs on" 200 '"state":"Running"'
