#!/bin/bash
# ceph-cluster.sh - a throw-away Ceph cluster for the S3 tests: one monitor, one
# memstore OSD and radosgw (beast) on 127.0.0.1, under a folder of its own.
#
#   ceph-cluster.sh start DIR   bootstrap and start; writes DIR/s3.env (endpoint,
#                               bucket, credentials file) and DIR/credentials
#   ceph-cluster.sh stop DIR    stop radosgw, then the OSD, then the monitor
#   ceph-cluster.sh stop-rgw DIR / start-rgw DIR   stop or start radosgw alone
#
# Exit status 0 when the cluster is up (or stopped); anything else means it is not,
# and DIR/*.log say why.  Needs Debian's ceph-mon, ceph-osd, radosgw, ceph-common.
#
# Traps met on Ceph 16.2 (issue 13): with "auth none" the monitor must also accept
# the "crc" mode, or radosgw's first auth request is refused and it hangs for 300 s;
# paxos_propose_interval 0.05 cuts the monitor's start from ~20 s to ~3 s; without
# cluster_addr the OSD binds 0.0.0.0.  radosgw must stop before the OSD (else it
# blocks on in-flight requests), and every wait checks that the daemon still runs.
set -euo pipefail

PATH=$PATH:/usr/sbin:/sbin
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|stop-rgw|start-rgw DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/ceph.conf
CEPH=(ceph -c "$conf" -n client.admin --connect-timeout 10)

die() { echo "ceph-cluster: $*" >&2; exit 1; }

# A TCP port on 127.0.0.1 nothing listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# alive NAME: the daemon whose pid file is DIR/NAME.pid is running.
alive() {
	local pid
	pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# wait_for NAME SECONDS COMMAND...: run COMMAND until it succeeds while NAME runs.
wait_for() {
	local name=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		# The pid file appears only once the daemon has forked: allow it a moment.
		if [ "$i" -gt 20 ] && ! alive "$name"; then
			tail -n 20 "$dir/$name.log" >&2 2>/dev/null || true
			die "$name is not running"
		fi
		sleep 0.1
	done
	tail -n 20 "$dir/$name.log" >&2 2>/dev/null || true
	die "$name not ready within $secs s: $*"
}

# stop_daemon NAME: SIGTERM, then SIGKILL after 10 s; waits until it is gone.
stop_daemon() {
	local pid i
	pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || { rm -f "$dir/$1.pid"; return 0; }
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$dir/$1.pid"; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$dir/$1.pid"
}

rgw_up() {
	curl -s -o /dev/null -m 2 "http://127.0.0.1:$(cat "$dir/rgw.port")/"
}

start_rgw() {
	alive rgw && return 0
	radosgw -c "$conf" -n client.rgw.a 2>>"$dir/rgw.err"
	wait_for rgw 60 rgw_up
}

start() {
	[ ! -e "$dir/ceph.conf" ] || die "$dir already holds a cluster"
	for p in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool; do
		command -v "$p" >/dev/null || die "$p is not installed (Debian: ceph-mon ceph-osd radosgw ceph-common)"
	done
	local fsid mon_port rgw_port
	fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
	mon_port=$(free_port)
	rgw_port=$(free_port)
	echo "$rgw_port" >"$dir/rgw.port"
	mkdir -p "$dir/mon.a" "$dir/osd.0" "$dir/rgw.a" "$dir/run"
	cat >"$conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_msgr2 = true
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc secure
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
pid_file = $dir/\$type.\$id.pid
log_file = $dir/\$type.\$id.log
log_to_stderr = false
err_to_stderr = true
mon_cluster_log_file = $dir/cluster.log
crash_dir = $dir/crash
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
[mon]
mon_data = $dir/mon.\$id
paxos_propose_interval = 0.05
mon_osd_reporter_subtree_level = osd
[osd]
osd_data = $dir/osd.\$id
osd_objectstore = memstore
memstore_device_bytes = 4294967296
osd_max_object_size = 134217728
[client.rgw.a]
rgw_data = $dir/rgw.a
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port
rgw_dns_name = localhost
log_file = $dir/rgw.log
pid_file = $dir/rgw.pid
EOF
	# The pid and log names the helpers above use: mon.a, osd.0, rgw.
	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
	ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/mkfs.log" 2>&1 ||
		{ cat "$dir/mkfs.log" >&2; die "ceph-mon --mkfs failed"; }
	ceph-mon -c "$conf" -i a 2>>"$dir/mon.a.err"
	wait_for mon.a 30 "${CEPH[@]}" mon stat

	local uuid id
	uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
	id=$("${CEPH[@]}" osd new "$uuid")
	[ "$id" = 0 ] || die "ceph osd new gave id $id, expected 0"
	ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" >>"$dir/mkfs.log" 2>&1 ||
		{ cat "$dir/mkfs.log" >&2; die "ceph-osd --mkfs failed"; }
	ceph-osd -c "$conf" -i 0 2>>"$dir/osd.0.err"
	osd_up() { "${CEPH[@]}" osd dump | grep -q '^osd.0 up'; }
	wait_for osd.0 60 osd_up

	start_rgw

	# Credentials: made here, written to a file only the test user reads.
	local access secret
	access=$(python3 -c 'import secrets; print("IH" + secrets.token_hex(9).upper())')
	secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30))')
	radosgw-admin -c "$conf" -n client.admin user create --uid=imagehook \
		--display-name=imagehook --access-key="$access" --secret-key="$secret" \
		>"$dir/user.json" 2>>"$dir/mkfs.log" || { cat "$dir/mkfs.log" >&2; die "radosgw-admin user create failed"; }
	umask 077
	printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$access" "$secret" \
		>"$dir/credentials"
	umask 022
	# The bucket, by a signed PUT: curl's --aws-sigv4 leaves out x-amz-content-sha256,
	# which RGW requires, so it is sent (and signed) here.
	local empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 code
	code=$(curl -s -o "$dir/bucket.out" -w '%{http_code}' -m 20 -X PUT \
		--aws-sigv4 "aws:amz:default:s3" --user "$access:$secret" \
		-H "x-amz-content-sha256: $empty_sha" \
		"http://127.0.0.1:$rgw_port/imagehook")
	[ "$code" = 200 ] || { cat "$dir/bucket.out" >&2; die "creating the bucket: HTTP $code"; }
	cat >"$dir/s3.env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$rgw_port
S3_BUCKET=imagehook
S3_REGION=default
S3_CREDENTIALS=$dir/credentials
EOF
}

stop() {
	stop_daemon rgw
	stop_daemon osd.0
	stop_daemon mon.a
}

case $cmd in
start)
	# A cluster half started is stopped again: nothing is left running on failure.
	trap 'rc=$?; [ "$rc" -eq 0 ] || stop; exit "$rc"' EXIT
	start
	;;
stop) stop ;;
stop-rgw) stop_daemon rgw ;;
start-rgw) start_rgw ;;
*) die "unknown command $cmd" ;;
esac
