#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# thawd end to end, in vmtest: two functions in its catalogue (the shell
# test function, from a zip of its code, and the heavy-init sample, from
# mkfunc's image), each made by 'thawd function create' (boot, SnapStart
# snapshot, working set), served on the Invoke API to Debian's unmodified
# awscli (SigV4-signed) and to curl --aws-sigv4 for the load:
# RequestResponse, Event, DryRun, the log tail, an unknown function, a
# wrong signature; a published version and an alias (qualifiers in the
# path, the query and awscli's --qualifier; unknown and malformed ones);
# reserved concurrency N against 4N requests at once over $LATEST and the
# alias (exactly N run, the rest 429 at once, /metrics agrees, promtool
# accepts it); a timeout; a VM killed in the middle of an invocation; 100
# Event invocations across a SIGKILL of the agent; a SIGTERM drain.
# selftest-timeout: 1500
set -uo pipefail
here=$(dirname "$0")
. "$here/../lib/function-vm.sh"

PLAN=36
thawd=$top/build/bin/thawd
aws=/usr/bin/aws
tap_plan $PLAN "thawd" "$([ -x "$thawd" ] || echo "build/bin/thawd not built")"

port=19091
url=http://127.0.0.1:$port
key=AKIDTHAWDTEST
secret=thawd-test-secret
state=$work/state
run=$work/run
cfg=$work/thawd.json
N=2				# the shell function's reserved concurrency
TO=6				# and its timeout, in s (a shell function
				# under TCG takes a second beside its sleep)
cat > "$cfg" <<EOF
{
	"listen": "127.0.0.1:$port",
	"state_dir": "$state",
	"run_dir": "$run",
	"max_concurrency": 16,
	"max_vms": 12,
	"cid_base": 3000,
	"async": { "workers": 2, "retries": 2, "backoff_ms": 500 },
	"credentials": [ { "access_key_id": "$key", "secret_access_key": "$secret" } ]
}
EOF

# On any failure, thawd's own log ends the output.
failed=0
tap_fail() { tap_n=$((tap_n + 1)); failed=1; echo "not ok $tap_n $*"; }
thawd_pid=
cleanup() {
	[ $failed = 0 ] || { echo "thawd's log:"; tail -n 60 "$work/thawd.log"; } | diag
	[ -n "$thawd_pid" ] && kill -9 "$thawd_pid" 2>/dev/null
	pkill -9 -f "thawvm --api-sock $run/" 2>/dev/null
	vm_cleanup
}
trap cleanup EXIT

start_thawd() {
	local t
	"$thawd" --config "$cfg" >> "$work/thawd.log" 2>&1 &
	thawd_pid=$!
	for ((t = 0; t < 100; t++)); do
		curl -sf "$url/ping" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# awscli as a user runs it: signed with the key above, no retries.
awsi() {
	env HOME="$work" AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY="${SECRET:-$secret}" \
		AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
		AWS_MAX_ATTEMPTS=1 AWS_CONFIG_FILE=/dev/null \
		AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER= \
		"$aws" lambda invoke --endpoint-url "$url" \
		--cli-read-timeout 300 --cli-binary-format raw-in-base64-out "$@"
}
# inv NAME[?Qualifier=Q] PAYLOAD OUT [CURL ARGS]: a signed invocation;
# prints the status.  (curl signs the path as it is, where SigV4 wants it
# encoded twice: a qualifier goes in the query, NAME:Q is awscli's.)
inv() {
	local name=${1%%\?*} query=${1#"${1%%\?*}"} payload=$2 out=$3
	shift 3
	curl -s --max-time 120 --aws-sigv4 "aws:amz:us-east-1:lambda" \
		--user "$key:$secret" -o "$out" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' --data-binary "$payload" \
		"$@" "$url/2015-03-31/functions/$name/invocations$query"
}
metric() {
	curl -s "$url/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
have_aws() { [ -x "$aws" ]; }

# --- The catalogue: shell from a zip (as Lambda takes a custom runtime's
# code: bootstrap at the top; Python's zipfile keeps its mode), heavy from
# mkfunc's image.
export MKFUNC=$mkfunc
mkdir -p "$work/code/lib"
cp "$here/../guest/testfunc/bootstrap" "$work/code/bootstrap"
echo hello > "$work/code/lib/hello.txt"
(cd "$work/code" && python3 -m zipfile -c "$work/shell.zip" bootstrap lib)
"$mkfunc" "$top/tools/guest/samples/heavy/bootstrap" "$work/heavy.cpio.gz" \
	--busybox --name heavy --env HEAVY_INIT_MB=4 2>&1 | diag
t0=$(date +%s)
"$thawd" function create shell "$work/shell.zip" --config "$cfg" \
	--timeout $TO --reserved $N --payload '{"action":"sum"}' \
	--handler index.handler --env CUSTOM=fromzip \
	--boot-timeout "$BOOT_TIMEOUT" > "$work/create-shell.out" 2>&1 &
p1=$!
"$thawd" function create heavy "$work/heavy.cpio.gz" --config "$cfg" \
	--memory 128 --timeout 10 --boot-timeout "$BOOT_TIMEOUT" \
	> "$work/create-heavy.out" 2>&1 &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
# A nested guest that hung at boot under TCG (vmtest.rst, "Deaths under
# TCG"): say so, so that selftests/run reruns this program once.
for f in shell heavy; do
	grep -q "was not ready in time" "$work/create-$f.out" &&
		echo "# nested guest died: thawd function create $f: no ready notification in $BOOT_TIMEOUT s (hung at boot)"
done
check "function create shell from a zip: snapshot and working set ($(($(date +%s) - t0)) s)" \
	'[ $rc1 = 0 ] && [ -s "$state/functions/shell/snapshot/wset" ]' ||
	{ diag < "$work/create-shell.out"; tail -n 30 "$state/functions/.shell.new-"*/snapshot.console 2>/dev/null | diag; }
check "function create heavy" \
	'[ $rc2 = 0 ] && [ -s "$state/functions/heavy/snapshot/state" ]' ||
	diag < "$work/create-heavy.out"
"$thawd" function list --config "$cfg" > "$work/list" 2>&1
check "function list shows both, shell with reserved concurrency $N" \
	'grep -q "^heavy " "$work/list" && grep -Eq "^shell +1 +128 +1 +$TO +$N " "$work/list"' ||
	diag < "$work/list"
"$thawd" function create shell "$work/heavy.cpio.gz" --config "$cfg" \
	> "$work/dup" 2>&1
check "function create of an existing name is refused" \
	'[ $? != 0 ] && grep -q "already exists" "$work/dup"'
# Without both functions nothing below means anything: fail the rest at
# once (a nested guest that hung at boot is then rerun, cheaply).
if [ $rc1 != 0 ] || [ $rc2 != 0 ]; then
	while [ $tap_n -lt $PLAN ]; do tap_fail "not run: a function could not be created"; done
	exit 1
fi
"$thawd" --config "$cfg" --check-config > "$work/cc" 2>&1
check "thawd --check-config" '[ $? = 0 ] && grep -q ": ok;" "$work/cc"' ||
	diag < "$work/cc"

start_thawd
check "thawd serves on $url" '[ $? = 0 ]' || diag < "$work/thawd.log"

# --- Versions and aliases: version 1 of shell, the alias live on it.
"$thawd" function publish shell --config "$cfg" > "$work/pub" 2>&1 &&
	"$thawd" function alias shell live 1 --config "$cfg" >> "$work/pub" 2>&1
check "function publish shell, alias live -> 1" \
	'grep -q "^shell version 1 " "$work/pub" && grep -q "^shell:live -> 1" "$work/pub" &&
	 [ -s "$state/versions/shell/1/snapshot/state" ]' || diag < "$work/pub"
code=$(inv 'shell?Qualifier=live' '{"action":"env"}' "$work/live.out" -D "$work/live.hdr")
check "alias live runs version 1, with the zip's handler and environment ($code)" \
	'[ "$code" = 200 ] && grep -qi "^X-Amz-Executed-Version: 1" "$work/live.hdr" &&
	 grep -q "\"arn\":\"arn:aws:lambda:us-east-1:[0-9]*:function:shell:live\"" "$work/live.out" &&
	 grep -q "\"handler\":\"index.handler\"" "$work/live.out" &&
	 grep -q "\"custom\":\"fromzip\"" "$work/live.out" &&
	 grep -q "\"task_root\":\"/var/task\"" "$work/live.out"' ||
	cat "$work/live.hdr" "$work/live.out" | diag
code=$(inv 'shell?Qualifier=1' '{}' "$work/q1.out" -D "$work/q1.hdr")
check "?Qualifier=1: version 1 ($code)" \
	'[ "$code" = 200 ] && grep -qi "^X-Amz-Executed-Version: 1" "$work/q1.hdr"' ||
	cat "$work/q1.hdr" "$work/q1.out" | diag
c1=$(inv 'shell?Qualifier=7' '{}' "$work/v7.out")
c2=$(inv 'shell?Qualifier=no.such' '{}' "$work/v8.out")
check "an unknown version: 404 ($c1); a malformed qualifier: 400 ($c2)" \
	'[ "$c1" = 404 ] && grep -q "function:shell:7" "$work/v7.out" && [ "$c2" = 400 ]' ||
	cat "$work/v7.out" "$work/v8.out" | diag
"$thawd" function delete shell:1 --config "$cfg" > "$work/del1" 2>&1
check "deleting version 1 while live points at it is refused" \
	'[ $? != 0 ] && grep -q "alias .live. points at version 1" "$work/del1" &&
	 [ -d "$state/versions/shell/1" ]' || diag < "$work/del1"

# --- awscli, unmodified: four calls at once (Python is slow under TCG).
SKIP_REASON="Debian's awscli is not installed"
if have_aws; then
	awsi --function-name shell --log-type Tail \
		--payload '{"action":"log","tag":"tailtest"}' "$work/r1.json" \
		> "$work/r1.meta" 2> "$work/r1.err" &
	a1=$!
	awsi --function-name shell --invocation-type Event \
		--payload '{"action":"log","tag":"awsevent"}' "$work/r2.json" \
		> "$work/r2.meta" 2> "$work/r2.err" &
	a2=$!
	awsi --function-name nosuch "$work/r3.json" > /dev/null 2> "$work/r3.err" &
	a3=$!
	SECRET=wrong awsi --function-name shell "$work/r4.json" > /dev/null \
		2> "$work/r4.err" &
	a4=$!
	wait $a1; wait $a2
	wait $a3; rc3=$?
	wait $a4; rc4=$?
	# After the others: shell's reserved concurrency is 2.
	awsi --function-name shell:live "$work/r5.json" > "$work/r5.meta" \
		2> "$work/r5.err"
	check "aws lambda invoke shell: the function's answer" \
		'grep -q "\"StatusCode\": 200" "$work/r1.meta" &&
		 grep -q "\"logged\":\"tailtest\"" "$work/r1.json" &&
		 grep -q "\"ExecutedVersion\": \"\$LATEST\"" "$work/r1.meta"' ||
		cat "$work/r1.meta" "$work/r1.err" "$work/r1.json" "$work/thawd.log" | diag
	sed -n 's/.*"LogResult": "\([^"]*\)".*/\1/p' "$work/r1.meta" |
		base64 -d > "$work/r1.log" 2>/dev/null
	check "aws lambda invoke --log-type Tail: the function's output, END and REPORT" \
		'grep -q "testfunc: log tailtest" "$work/r1.log" &&
		 grep -q "^END RequestId: " "$work/r1.log" &&
		 grep -q "^REPORT RequestId: .*Duration: .*Memory Size: 128 MB" "$work/r1.log"' ||
		cat "$work/r1.log" | diag
	check "aws lambda invoke --invocation-type Event: 202" \
		'grep -q "\"StatusCode\": 202" "$work/r2.meta"' ||
		cat "$work/r2.meta" "$work/r2.err" | diag
	check "an unknown function: ResourceNotFoundException" \
		'[ $rc3 != 0 ] && grep -q ResourceNotFoundException "$work/r3.err"' ||
		diag < "$work/r3.err"
	check "a wrong SigV4 signature: 403 InvalidSignatureException" \
		'[ $rc4 != 0 ] && grep -q "InvalidSignatureException" "$work/r4.err"' ||
		diag < "$work/r4.err"
	check "aws lambda invoke --function-name shell:live: ExecutedVersion 1" \
		'grep -q "\"StatusCode\": 200" "$work/r5.meta" &&
		 grep -q "\"ExecutedVersion\": \"1\"" "$work/r5.meta"' ||
		cat "$work/r5.meta" "$work/r5.err" | diag
else
	for ((i = 0; i < 6; i++)); do tap_skip "awscli"; done
fi
code=$(inv heavy '{}' "$work/heavy.out")
check "heavy: the digest its init computed ($code)" \
	'[ "$code" = 200 ] && grep -q "\"init_digest\":\"[0-9a-f]\{64\}\"" "$work/heavy.out"' ||
	diag < "$work/heavy.out"
code=$(inv shell '{}' /dev/null -H 'X-Amz-Invocation-Type: DryRun')
check "DryRun: 204 ($code)" '[ "$code" = 204 ]'
code=$(curl -s -o "$work/unsigned" -w '%{http_code}' -X POST -d '{}' \
	"$url/2015-03-31/functions/shell/invocations")
check "an unsigned request: 403 ($code)" '[ "$code" = 403 ]'

# --- Reserved concurrency: N at once, the rest 429 at once (each 429
# back before the first of the N running ones ends).  Half the requests
# go to the alias: the limit is the function's, whatever the qualifier.
# shellm KEY: a metric of shell, summed over $LATEST and version 1.
shellm() {
	local v1 v2
	v1=$(metric "${1/function=\"shell\"/function=\"shell\",version=\"\$LATEST\"}")
	v2=$(metric "${1/function=\"shell\"/function=\"shell\",version=\"1\"}")
	echo $((${v1:-0} + ${v2:-0}))
}
curl -s "$url/metrics" > "$work/metrics0"
base_thr=$(shellm 'thawd_throttles_total{function="shell"}')
# What ran: ok, or a timeout where the restore of the alias's first VM
# and the sleep together pass the timeout in a loaded test machine (the
# client sees a 200 then too, with X-Amz-Function-Error).
ran() {
	echo $(($(shellm 'thawd_invocation_outcomes_total{function="shell",outcome="ok"}') +
		$(shellm 'thawd_invocation_outcomes_total{function="shell",outcome="timeout"}')))
}
base_ok=$(ran)
declare -a cpid
for ((i = 0; i < 4 * N; i++)); do
	q=shell
	[ $((i % 2)) = 1 ] && q='shell?Qualifier=live'
	(
		s=$(date +%s%N)
		c=$(inv $q '{"action":"sleep","seconds":"2"}' "$work/c$i.out")
		echo "$c $(($(date +%s%N) / 1000000)) $(((s) / 1000000))" > "$work/c$i.code"
	) &
	cpid[$i]=$!
done
for ((i = 0; i < 4 * N; i++)); do wait "${cpid[$i]}"; done
ok=0 thr=0 other=() first_ok=99999999999999 last_thr=0
for ((i = 0; i < 4 * N; i++)); do
	read -r c end _ < "$work/c$i.code"
	case "$c" in
	200) ok=$((ok + 1)); [ "$end" -lt "$first_ok" ] && first_ok=$end ;;
	429) thr=$((thr + 1)); [ "$end" -gt "$last_thr" ] && last_thr=$end ;;
	*) other+=("$c") ;;
	esac
done
check "$((4 * N)) requests at once to \$LATEST and live, reserved $N: $ok ran, $thr got 429" \
	'[ $ok = $N ] && [ $thr = $((3 * N)) ]' ||
	{ echo "other: ${other[*]}"; cat "$work"/c*.code; cat "$work"/c*.out; } | diag
check "every 429 came at once: the last $((first_ok - last_thr)) ms before the first answer" \
	'[ $thr -gt 0 ] && [ $last_thr -lt $first_ok ]'
curl -s "$url/metrics" > "$work/metrics"
d_thr=$(($(shellm 'thawd_throttles_total{function="shell"}') - base_thr))
d_ok=$(($(ran) - base_ok))
check "/metrics agrees with the clients: $d_thr throttles, $d_ok more ran" \
	'[ $d_thr = $((3 * N)) ] && [ $d_ok -ge $N ]' ||
	{ echo "before: $base_thr throttles, $base_ok ran"; grep -h '_\(outcomes\|throttles\)_total{function="shell"' "$work/metrics0" "$work/metrics"; } | diag
mval() { awk -v k="$1" '$1 == k { print $2 }' "$work/metrics"; }
SKIP_REASON="no thaw.ko: the VMs are File clones"
if [ -c /dev/thaw ]; then
	check "/metrics has thaw.ko's memory: up $(mval thaw_module_up), $(mval thaw_module_snapshots) objects, $(mval thaw_module_clones) clones, $(mval thaw_module_pinned_bytes) bytes pinned, $(mval thaw_clones_private_bytes) private" \
		'[ "$(mval thaw_module_up)" = 1 ] && [ "$(mval thaw_module_snapshots)" -ge 1 ] &&
		 [ "$(mval thaw_module_clones)" -ge 1 ] && [ "$(mval thaw_module_pinned_bytes)" -gt 0 ] &&
		 [ -n "$(mval thaw_clones_shared_bytes)" ]' ||
		grep "^thaw_" "$work/metrics" | diag
else
	tap_skip "thaw.ko's memory in /metrics"
fi
SKIP_REASON="promtool (Debian's prometheus) is not installed"
if command -v promtool >/dev/null; then
	promtool check metrics < "$work/metrics" > "$work/promtool" 2>&1
	check "promtool check metrics accepts /metrics" '[ $? = 0 ]' ||
		diag < "$work/promtool"
else
	tap_skip "promtool"
fi

# --- A timeout on a warm VM, then a VM killed in an invocation.
inv shell '{}' "$work/warm.out" > /dev/null
read -r code secs < <(inv shell '{"action":"sleep","seconds":"30"}' "$work/to.out" \
	-D "$work/to.hdr" -w '%{http_code} %{time_total}')
ms=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')
check "a function past its $TO s timeout: Task timed out in $ms ms (curl's time)" \
	'[ "$code" = 200 ] && grep -qi "^X-Amz-Function-Error: Unhandled" "$work/to.hdr" &&
	 grep -q "Task timed out after $TO.00 seconds" "$work/to.out" &&
	 [ $ms -ge $((TO * 1000)) ] && [ $ms -lt $((TO * 1000 + 1000)) ]' ||
	{ cat "$work/to.hdr" "$work/to.out"; } | diag
code=$(inv shell '{}' "$work/after.out")
check "the next invocation is answered ($code)" '[ "$code" = 200 ]'
inv shell '{"action":"sleep","seconds":"5"}' "$work/kill.out" -D "$work/kill.hdr" \
	> "$work/kill.code" &
kp=$!
sleep 2
pkill -9 -f "thawvm --api-sock $run/" 2>/dev/null
wait $kp
code=$(cat "$work/kill.code")
check "a VM killed in an invocation: 5xx ServiceException ($code)" \
	'[ "${code:0:1}" = 5 ] && grep -qi "^x-amzn-ErrorType: ServiceException" "$work/kill.hdr"' ||
	cat "$work/kill.hdr" "$work/kill.out" | diag
code=$(inv shell '{}' "$work/next.out")
check "and the next invocation succeeds on a new VM ($code)" \
	'[ "$code" = 200 ] && grep -q "\"echo\":{}" "$work/next.out"' ||
	{ diag < "$work/next.out"; tail -n 20 "$work/thawd.log" | diag; }

# --- 100 Event invocations across a SIGKILL of the agent.
EV=100
bad=0
for ((i = 0; i < EV; i++)); do
	[ $i = 40 ] && {
		sleep 1
		kill -9 "$thawd_pid"
		wait "$thawd_pid" 2>/dev/null
		start_thawd || bad=$((bad + 1000))
	}
	code=$(inv shell "{\"action\":\"log\",\"tag\":\"ev$i\"}" /dev/null \
		-H 'X-Amz-Invocation-Type: Event')
	[ "$code" = 202 ] || bad=$((bad + 1))
done
check "$EV Events accepted with 202 across a SIGKILL and restart ($bad refused)" \
	'[ $bad = 0 ]'
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 600 ]; do
	[ -z "$(ls -A "$state/queue/ready")$(ls -A "$state/queue/running")" ] && break
	sleep 1
done
t=$((SECONDS - t0))
missing=()
for ((i = 0; i < EV; i++)); do
	grep -q "testfunc: log ev$i " "$state/logs/shell.log" || missing+=("ev$i")
done
check "every Event ran at least once (${#missing[@]} missing, queue empty after $t s)" \
	'[ ${#missing[@]} = 0 ] && [ -z "$(ls -A "$state/queue/dead")" ]' ||
	{ echo "missing: ${missing[*]}"; ls -l "$state/queue"/*; } | diag
check "the restarted agent stopped the VMs the killed one left" \
	'grep -q "left by an earlier thawd" "$work/thawd.log"' ||
	tail -n 20 "$work/thawd.log" | diag

# --- Event retries: a function error, twice retried, then a dead letter.
inv shell '{"action":"error"}' /dev/null -H 'X-Amz-Invocation-Type: Event' > /dev/null
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 120 ]; do
	[ -n "$(ls -A "$state/queue/dead" 2>/dev/null)" ] && break
	sleep 1
done
dl=$(ls "$state/queue/dead" 2>/dev/null | head -n 1)
check "a failing Event: tried 3 times, then in dead/ with its error" \
	'[ -n "$dl" ] && head -n 1 "$state/queue/dead/$dl" | grep -q "\"attempt\":3" &&
	 head -n 1 "$state/queue/dead/$dl" | grep -q "Test.Failed"' ||
	{ ls -l "$state/queue"/*; head -n 1 "$state/queue/dead/"* 2>/dev/null; } | diag

# --- SIGTERM drains: the running invocation finishes, then nothing is left.
inv shell '{"action":"sleep","seconds":"2"}' "$work/drain.out" > "$work/drain.code" &
dp=$!
sleep 1
kill -TERM "$thawd_pid"
wait $dp
wait "$thawd_pid"
rc=$?
check "SIGTERM: the running invocation is answered ($(cat "$work/drain.code")), thawd exits 0 ($rc)" \
	'[ "$(cat "$work/drain.code")" = 200 ] && [ $rc = 0 ]'
thawd_pid=
sleep 1
left=$(pgrep -f "thawvm --api-sock $run/" | wc -l)
socks=$(find "$run" -name 'vm-*' 2>/dev/null | wc -l)
check "no VM, socket or pid file left ($left VMs, $socks files)" \
	'[ "$left" = 0 ] && [ "$socks" = 0 ]' || ls -l "$run" | diag
check "START, END and REPORT lines in the function's log" \
	'grep -q "^START RequestId: " "$state/logs/shell.log" &&
	 grep -q "Restore Duration: " "$state/logs/shell.log"'
