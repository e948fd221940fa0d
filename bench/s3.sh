#!/bin/bash
# bench/s3.sh - the S3 store beside the local one: req/s and p99 of imagehook behind
# lighttpd storing in a local folder, in a Ceph bucket with one receiver, and with two
# receivers on the same bucket (a throw-away cluster from tests/servers/ceph-cluster.sh).
#
# usage: bench/s3.sh [--quick]
#   --quick   5 s per cell instead of 20 s
# Environment:
#   IHBENCH_BUILDDIR  the configured build tree with imagehook and bench/ihbench
#                     (default: build/ beside this script's tree)
#   IHBENCH_KEEP=1    keep the temporary folder (configs, logs, the cluster's logs)
#   TMPDIR            where that folder goes (default /tmp), as for bench/run.sh
# Needs: lighttpd, python3, and Debian's ceph-mon ceph-osd radosgw ceph-common.
#
# Everything runs on this one machine, so two receivers share its cores with radosgw
# and the OSD: the two-receiver cell shows what sharing one bucket costs, not how far
# more machines scale. The OSD is memstore (RAM), so the bucket is faster than a real
# one across a network; the local cells fsync to this machine's disk.
set -euo pipefail

secs=20
case ${1:-} in
--quick) secs=5 ;;
"") ;;
-h | --help) sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
*) echo "s3.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
build=${IHBENCH_BUILDDIR:-$top/build}
for f in "$build/imagehook" "$build/bench/ihbench"; do
	[ -x "$f" ] || { echo "s3.sh: $f is not built (make -C $build imagehook bench/ihbench)" >&2; exit 1; }
done
command -v lighttpd >/dev/null || { echo "s3.sh: lighttpd not found" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ihbench-s3.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	"$top/tests/servers/ceph-cluster.sh" stop "$T/ceph" >/dev/null 2>&1 || true
	if [ "${IHBENCH_KEEP:-0}" = 1 ]; then echo "s3.sh: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf '== %s\n' "$*" >&2; }

say "starting a Ceph cluster in $T/ceph"
"$top/tests/servers/ceph-cluster.sh" start "$T/ceph" >"$T/ceph-start.log" 2>&1 ||
	{ cat "$T/ceph-start.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$T/ceph/s3.env"

say "generating payloads"
python3 - "$top" "$T" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1] + "/tests")
import callbacks
# (name, MB, images): the everyday small callback and a large batch.
for name, mb, n in (("small", 0.34, 1), ("big", 10, 8)):
    side = callbacks.size_for_mb(mb, n)
    body, _ = callbacks.callback(n, (side, side), jid="sync-IHBENCH-JOB-ID-PLACEHOLDER", seed=7)
    with open("%s/%s.json" % (sys.argv[2], name), "wb") as f:
        f.write(callbacks.encode(body))
EOF

token=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

# receiver NAME STORE: starts lighttpd + imagehook (the shipped spawn config) in
# $T/NAME storing locally (STORE=local) or in the bucket; sets rport to its port.
receiver() {
	local r=$T/$1 port
	mkdir -p "$r/sbin" "$r/var/lib/imagehook" "$r/var/log/imagehook" "$r/run/lighttpd" \
		"$r/etc/imagehook" "$r/upload" "$r/www"
	ln -sf "$build/imagehook" "$r/sbin/imagehook"
	printf '%s\n' "$token" >"$r/etc/imagehook/token"
	: >"$r/etc/imagehook/imagehook.conf"
	if [ "$2" = s3 ]; then
		cp "$S3_CREDENTIALS" "$r/etc/imagehook/s3-credentials"
		cat >"$r/etc/imagehook/imagehook.conf" <<-EOF
		IMAGEHOOK_STORE = s3://$S3_BUCKET/bench/
		IMAGEHOOK_S3_ENDPOINT = $S3_ENDPOINT
		IMAGEHOOK_S3_REGION = $S3_REGION
		IMAGEHOOK_S3_ADDRESSING = path
		IMAGEHOOK_S3_CREDENTIALS = $r/etc/imagehook/s3-credentials
		EOF
	fi
	sed -e "s|@sbindir@|$r/sbin|g" -e "s|@localstatedir@|$r/var|g" -e "s|@runstatedir@|$r/run|g" \
		-e "s|@sysconfdir@|$r/etc|g" \
		-e "s|\"IMAGEHOOK_MAX_BODY\" => \"67108864\",|&\n            \"IMAGEHOOK_CONFIG\" => \"$r/etc/imagehook/imagehook.conf\",|" \
		"$top/lighttpd-conf/imagehook-spawn.conf.in" >"$r/imagehook.conf"
	port=$(free_port)
	cat >"$r/lighttpd.conf" <<-EOF
	server.document-root = "$r/www"
	server.bind = "127.0.0.1"
	server.port = $port
	server.errorlog = "$r/lighttpd.log"
	server.upload-dirs = ( "$r/upload" )
	include "$r/imagehook.conf"
	EOF
	lighttpd -D -f "$r/lighttpd.conf" </dev/null >>"$r/lighttpd-stdio.log" 2>&1 &
	pids+=("$!")
	wait_port "$port" || { cat "$r/lighttpd.log" >&2; exit 1; }
	rport=$port
}

stop_receivers() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	pids=()
	sleep 1
}

# cell LABEL PAYLOAD PORT...: 4 connections in all, split over the receivers.
rows=()
cell() {
	local label=$1 payload=$2 n=0 p out benches=()
	shift 2
	local per=$((4 / $#))
	for p in "$@"; do
		"$build/bench/ihbench" -l "$label" -c "$per" -n 0 -d "$secs" -w 1 \
			-b "$T/$payload.json" "http://127.0.0.1:$p/imagehook?token=$token" \
			>"$T/out-$n.json" 2>>"$T/ihbench.log" &
		benches+=("$!")
		n=$((n + 1))
	done
	for p in "${benches[@]}"; do
		wait "$p" || true
	done
	out=$(python3 - "$T" "$n" <<-'EOF'
	import json, sys
	cells = [json.load(open("%s/out-%d.json" % (sys.argv[1], i))) for i in range(int(sys.argv[2]))]
	rps = sum(c["req_per_s"] for c in cells)
	p99 = max(c["p99_ms"] for c in cells)
	err = sum(c["errors"] for c in cells)
	print("%.1f|%.1f|%d" % (rps, p99, err))
	EOF
	)
	rows+=("$label|$payload|${out}")
	say "$label $payload: $out (req/s|p99 ms|errors)"
}

for payload in small big; do
	receiver "local-1-$payload" local
	cell "local folder, 1 receiver" "$payload" "$rport"
	stop_receivers
	receiver "s3-1-$payload" s3
	cell "Ceph bucket, 1 receiver" "$payload" "$rport"
	stop_receivers
	receiver "s3-a-$payload" s3
	pa=$rport
	receiver "s3-b-$payload" s3
	cell "Ceph bucket, 2 receivers" "$payload" "$pa" "$rport"
	stop_receivers
done

printf '\n| store | payload | req/s | p99 ms | errors |\n|---|---|---|---|---|\n'
for r in "${rows[@]}"; do
	IFS='|' read -r a b c d e <<<"$r"
	printf '| %s | %s | %s | %s | %s |\n' "$a" "$b" "$c" "$d" "$e"
done
printf '\n%s s per cell, 4 connections in all, %s cores, %s\n' "$secs" "$(nproc)" "$(date -u +%F)"
