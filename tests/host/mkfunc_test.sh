#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tools/guest/mkfunc builds the function initramfs thaw-init expects, and
# refuses bad input.  Runs on the host: it only builds and unpacks archives.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
mkfunc=tools/guest/mkfunc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..13"
n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); echo "not ok $n $*"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

if [ ! -x build/bin/thaw-init ] || ! command -v busybox >/dev/null ||
   ! kver=$(cat "${THAW_CACHE:-.cache}/kernel/current" 2>/dev/null); then
	for i in $(seq 13); do
		echo "ok $i mkfunc # SKIP needs build/bin/thaw-init, busybox and the kernel cache"
	done
	exit 0
fi

mkdir -p "$tmp/fn" "$tmp/extra/lib"
printf '#!/bin/sh\necho hi\n' > "$tmp/fn/bootstrap"
chmod 0700 "$tmp/fn/bootstrap"
echo data > "$tmp/extra/lib/x.txt"
chmod 0600 "$tmp/extra/lib/x.txt"
out=$("$mkfunc" "$tmp/fn/bootstrap" "$tmp/f.cpio.gz" --busybox \
	--add "$tmp/extra:/opt/extra" --name fn-1 --memory 256 \
	--env 'GREETING=say "hi"\there' --set ready_port=0 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check "mkfunc builds an archive" '[ "$rc" = 0 ] && [ -s "$tmp/f.cpio.gz" ]'
mkdir "$tmp/root"
(cd "$tmp/root" && zcat "$tmp/f.cpio.gz" | cpio -id --quiet 2>/dev/null)
r=$tmp/root
check "/init is a static, stripped thaw-init" \
	'file "$r/init" | grep -q "statically linked" &&
	 ! file "$r/init" | grep -q "not stripped"'
check "the bootstrap is /var/task/bootstrap, readable and executable by all" \
	'cmp -s "$tmp/fn/bootstrap" "$r/var/task/bootstrap" &&
	 [ "$(stat -c %a "$r/var/task/bootstrap")" = 755 ]'
mods=$(cd "$r/lib/thaw/modules" && ls)
echo "$mods" | sed 's/^/# /'
check "the vsock modules in dependency order" \
	'echo "$mods" | tr "\n" " " | grep -q "virtio_ring.ko .*virtio.ko .*virtio_mmio.ko .*vsock.ko .*vmw_vsock_virtio_transport_common.ko .*vmw_vsock_virtio_transport.ko"'
netmods=$(cd "$r/lib/thaw/modules/virtio-1" 2>/dev/null && ls)
check "virtio_net and its dependencies apart, in virtio-1, in order" \
	'echo "$netmods" | tr "\n" " " | grep -q "failover.ko .*net_failover.ko .*virtio_net.ko" &&
	 ! echo "$netmods" | grep -q virtio_ring'
cfg=$(cat "$r/etc/thaw/function.json")
echo "# $cfg"
json_ok() {
	python3 - "$r/etc/thaw/function.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["function_name"] == "fn-1", c
assert c["memory_size"] == 256 and c["ready_port"] == 0, c
assert c["environment"]["GREETING"] == 'say "hi"\\there', c
PY
}
if command -v python3 >/dev/null; then
	check "function.json holds the settings, JSON-escaped" json_ok
else
	echo "ok $((n += 1)) function.json # SKIP no python3 to parse it"
fi
check "busybox and its applets (/bin/sh, wget)" \
	'[ -x "$r/bin/busybox" ] && [ -L "$r/bin/sh" ] &&
	 { [ -e "$r/usr/bin/wget" ] || [ -e "$r/bin/wget" ]; }'
check "--add copies a folder, made readable" \
	'[ "$(cat "$r/opt/extra/lib/x.txt")" = data ] &&
	 [ "$(stat -c %a "$r/opt/extra/lib/x.txt")" = 644 ]'
check "/tmp is there, mode 1777" '[ "$(stat -c %a "$r/tmp")" = 1777 ]'

bad=0
try_bad() { # what, mkfunc args...: must fail with a message
	local what=$1 msg
	shift
	if msg=$("$mkfunc" "$@" 2>&1); then
		echo "# accepted: $what"
		bad=$((bad + 1))
	elif [ -z "$msg" ]; then
		echo "# no message: $what"
		bad=$((bad + 1))
	fi
}
chmod -x "$tmp/fn/bootstrap"
try_bad "not executable" "$tmp/fn/bootstrap" "$tmp/x.gz"
chmod +x "$tmp/fn/bootstrap"
try_bad "missing bootstrap" "$tmp/nope" "$tmp/x.gz"
try_bad "relative --add" "$tmp/fn/bootstrap" "$tmp/x.gz" --add "$tmp/extra:opt"
try_bad "--add over /init" "$tmp/fn/bootstrap" "$tmp/x.gz" --add "$tmp/extra:/init"
try_bad "--add of nothing" "$tmp/fn/bootstrap" "$tmp/x.gz" --add "/nonexistent:/x"
try_bad "--config with --env" "$tmp/fn/bootstrap" "$tmp/x.gz" \
	--config "$r/etc/thaw/function.json" --env A=b
try_bad "bad --env name" "$tmp/fn/bootstrap" "$tmp/x.gz" --env 1A=b
try_bad "control character" "$tmp/fn/bootstrap" "$tmp/x.gz" \
	--env "A=$(printf 'a\001b')"
try_bad "no such modules folder" "$tmp/fn/bootstrap" "$tmp/x.gz" \
	--modules /nonexistent/lib/modules/1.0
try_bad "one argument" "$tmp/fn/bootstrap"
check "bad input is refused with a message ($bad accepted)" '[ "$bad" = 0 ]'
check "nothing is left behind by the refusals" '[ ! -e "$tmp/x.gz" ]'

# A name Lambda reserves is refused when the archive is built, by thaw-init's
# own rules, with the setting that controls it.
msg=$("$mkfunc" "$tmp/fn/bootstrap" "$tmp/r.gz" \
	--env AWS_LAMBDA_LOG_STREAM_NAME=x 2>&1)
rc=$?
echo "# $msg"
check "--env AWS_LAMBDA_LOG_STREAM_NAME=x fails, naming log_stream_name" \
	'[ "$rc" != 0 ] && [[ "$msg" == *AWS_LAMBDA_LOG_STREAM_NAME*log_stream_name* ]] &&
	 [ ! -e "$tmp/r.gz" ]'
msg=$("$mkfunc" "$tmp/fn/bootstrap" "$tmp/r.gz" --set colour=blue 2>&1)
rc=$?
echo "# $msg"
check "an unknown --set key fails at build time, by name" \
	'[ "$rc" != 0 ] && [[ "$msg" == *colour* ]] && [ ! -e "$tmp/r.gz" ]'
