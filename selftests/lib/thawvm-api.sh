# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for tests that drive thawvm's HTTP API with curl (sourced after
# selftests/lib/function-vm.sh, which provides $work, $top, tap_* and
# check).

thawvm=$top/build/bin/thawvm

# req SOCK METHOD PATH [BODY]: sets $code and $body (the response).
req() {
	local sock=$1 out
	shift
	if [ $# -ge 3 ]; then
		out=$(curl -s -m 300 --unix-socket "$sock" -X "$1" \
			-H 'Content-Type: application/json' --data-binary "$3" \
			-w '\n%{http_code}' "http://localhost$2")
	else
		out=$(curl -s -m 300 --unix-socket "$sock" -X "$1" \
			-w '\n%{http_code}' "http://localhost$2")
	fi
	code=${out##*$'\n'}
	body=${out%$'\n'*}
}

# expect DESC CODE [BODY_PATTERN]: check the last response.
expect() {
	if [ "$code" = "$2" ] && { [ -z "${3:-}" ] || [[ "$body" == *$3* ]]; }; then
		tap_ok "$1"
	else
		tap_fail "$1 (got $code: $body)"
		return 1
	fi
}

# api_start NAME SOCK [ARGS...]: a thawvm serving SOCK in the background;
# its pid in ${api_pid[NAME]}, console and log in $work/NAME.*.
declare -A api_pid
api_start() {
	local name=$1 sock=$2 i
	shift 2
	"$thawvm" --api-sock "$sock" --id "$name" --level Info "$@" \
		> "$work/$name.console" 2> "$work/$name.vmm.log" &
	api_pid[$name]=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$sock" ] && return 0
		sleep 0.1
	done
	return 1
}

# api_wait NAME SECONDS: thawvm's exit status, 124 on timeout.
api_wait() {
	local pid=${api_pid[$1]} i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid"; return; }
		sleep 0.1
	done
	return 124
}

api_cleanup() {
	local name
	for name in "${!api_pid[@]}"; do
		kill -9 "${api_pid[$name]}" 2>/dev/null
	done
}
