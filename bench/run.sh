#!/bin/bash
# bench/run.sh - measures imagehook behind lighttpd against the transport ceiling
# (a FastCGI responder that only reads the body), the durable limit (one that only
# writes the body durably) and a Flask peer, per payload size, the cells interleaved.
#
# usage: bench/run.sh [--quick] [--no-peer] [--reps N] [--payloads "small big"]
#                     [--day-fill] [--no-table] [--s3] [--out FILE]
#   --quick     fewer requests and 5 s per cell instead of 20 s, 1 round (a smoke run)
#   --no-peer   skip the Flask + gunicorn peer even if it is available
#   --reps N    rounds over every payload and receiver (default 3; --quick 1)
#   --payloads  which payloads (default: small batch4 big huge)
#   --day-fill  also fill one day with small deliveries (IHBENCH_DAY_FILL, default
#               20000; --quick 2000) and compare the req/s of the first and last
#               twentieth (1,000 of 20,000)
#   --no-table  only the day-fill cell
#   --s3        also the S3 store beside the local one, with one and two receivers
#               on one Ceph bucket (bench/s3.sh, a throw-away cluster), appended
#   --out       where the markdown goes (default: bench/RESULTS.md in the source tree)
# Environment:
#   IHBENCH_BUILDDIR      the build tree (default: build/ of the source tree, the one
#                         scripts/setup.sh makes; configured there if it is not yet)
#   IHBENCH_PAYLOADS      reuse payloads generated earlier by bench/gen.py into this folder
#   IHBENCH_LIGHTTPD_CONF a lighttpd config template to use instead of the shipped one
#   IHBENCH_PEER_DIR      where peer_flask.py is (default: ../shared/bench beside the tree)
#   IHBENCH_KEEP=1        keep the temporary folder (configs, logs, payloads)
#   IHBENCH_UPLOAD_DIR    lighttpd's server.upload-dirs (default: a folder of the run's own)
#   TMPDIR                where the run's folder (outputs, payloads, spool) goes (default /tmp)
# Needs: lighttpd, python3 + python3-pil; for the peer python3-flask and gunicorn.
set -euo pipefail

args="$*"
quick=0 peer=1 out= reps= only= day_fill=0 table=1 s3=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--no-peer) peer=0 ;;
	--reps) reps=${2:?--reps needs a number}; shift ;;
	--payloads) only=${2:?--payloads needs names}; shift ;;
	--day-fill) day_fill=1 ;;
	--no-table) table=0 ;;
	--s3) s3=1 ;;
	--out) out=${2:?--out needs a file}; shift ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

top=$(cd "$(dirname "$0")/.." && pwd)
build=${IHBENCH_BUILDDIR:-$top/build}
# A source tree configured in place cannot also have a VPATH build: use it as it is.
if [ -z "${IHBENCH_BUILDDIR:-}" ] && [ -f "$top/config.status" ]; then build=$top; fi
out=${out:-$top/bench/RESULTS.md}
py=/usr/bin/python3
if [ $quick = 1 ]; then
	secs=5; counts="small=200 batch4=40 big=20 huge=6"; reps=${reps:-1}
	fill=${IHBENCH_DAY_FILL:-2000}
else
	secs=20; counts="small=1500 batch4=300 big=300 huge=60"; reps=${reps:-3}
	fill=${IHBENCH_DAY_FILL:-20000}
fi
case $reps in '' | *[!0-9]* | 0) echo "run.sh: --reps takes a number, 1 or more" >&2; exit 2 ;; esac
case $fill in '' | *[!0-9]*) echo "run.sh: IHBENCH_DAY_FILL takes a number" >&2; exit 2 ;; esac
if [ $fill -lt 100 ] || [ $fill -gt 200000 ]; then echo "run.sh: IHBENCH_DAY_FILL from 100 to 200000" >&2; exit 2; fi
if [ -n "$only" ]; then
	sel=
	for n in $only; do
		c=$(tr ' ' '\n' <<<"$counts" | grep "^$n=") || { echo "run.sh: no payload $n" >&2; exit 2; }
		sel="$sel $c"
	done
	counts=${sel# }
fi
conns=4   # ihbench connections for every cell, each with its warm-up request
if [ $table = 0 ]; then
	[ $day_fill = 1 ] || { echo "run.sh: --no-table without --day-fill measures nothing" >&2; exit 2; }
fi

for tool in lighttpd $py; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (Debian: apt-get install lighttpd python3-pil)" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/ihbench.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	if [ "${IHBENCH_KEEP:-0}" = 1 ]; then echo "run.sh: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '== %s\n' "$*" >&2; }

# --- build ------------------------------------------------------------------
# The bench programs and imagehook from the project's build tree; when the tree
# cannot be configured or imagehook does not build, the bench programs are compiled
# directly and the imagehook cells are skipped.
ihbin= nullbin= benchbin= durablebin=
if [ ! -f "$build/Makefile" ]; then
	say "configuring $build"
	{ [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi); } >"$T/configure.log" 2>&1 &&
		(mkdir -p "$build" && cd "$build" && "$top/configure") >>"$T/configure.log" 2>&1 ||
		say "configure failed (see $T/configure.log with IHBENCH_KEEP=1)"
fi
if [ -f "$build/Makefile" ]; then
	say "building in $build"
	if make -C "$build" -j"$(nproc)" imagehook >"$T/make.log" 2>&1; then
		ihbin=$build/imagehook
	else
		say "imagehook does not build: its cells are skipped (tail of the log:)"
		tail -n 5 "$T/make.log" >&2
	fi
	if make -C "$build" -j"$(nproc)" bench/null_responder bench/durable_responder bench/ihbench \
		>>"$T/make.log" 2>&1; then
		nullbin=$build/bench/null_responder benchbin=$build/bench/ihbench
		durablebin=$build/bench/durable_responder
	fi
fi
if [ -z "$benchbin" ]; then
	say "compiling the bench programs directly"
	cc=${CC:-cc}
	$cc -std=c11 -O2 -Wall -Wextra -o "$T/null_responder" "$top/bench/null_responder.c" \
		$(pkg-config --cflags --libs fcgi 2>/dev/null || echo -lfcgi)
	$cc -std=c11 -O2 -Wall -Wextra -o "$T/durable_responder" "$top/bench/durable_responder.c" \
		$(pkg-config --cflags --libs fcgi 2>/dev/null || echo -lfcgi)
	$cc -std=c11 -O2 -Wall -Wextra -pthread -o "$T/ihbench" "$top/bench/ihbench.c"
	nullbin=$T/null_responder benchbin=$T/ihbench durablebin=$T/durable_responder
fi

# --- payloads ---------------------------------------------------------------
payloads=${IHBENCH_PAYLOADS:-$T/payloads}
names=
for c in $counts; do names="$names ${c%%=*}"; done
need=$names
if [ $day_fill = 1 ] && ! grep -qw small <<<"$need"; then need="$need small"; fi
missing=
for n in $need; do [ -s "$payloads/$n.json" ] || missing="$missing $n"; done
if [ -n "$missing" ]; then
	say "generating payloads:$missing"
	$py "$top/bench/gen.py" "$payloads" $missing >&2
fi

# --- lighttpd ----------------------------------------------------------------
conf_in=${IHBENCH_LIGHTTPD_CONF:-}
if [ -z "$conf_in" ]; then
	for f in "$top/lighttpd-conf/imagehook.conf.in" "$top/lighttpd-conf/imagehook-spawn.conf.in"; do
		if [ -f "$f" ] && grep -q '"bin-path"' "$f"; then conf_in=$f; break; fi
	done
fi
if [ -z "$conf_in" ]; then
	# No shipped config yet: a minimal one of the same shape.
	conf_in=$T/fallback.conf.in
	cat >"$conf_in" <<-'EOF'
	server.modules += ( "mod_fastcgi" )
	$HTTP["url"] =~ "^/imagehook(/|$)" {
	    server.max-request-size = 66560
	    fastcgi.server = ( "/imagehook" => ((
	        "bin-path" => "@sbindir@/imagehook",
	        "socket" => "@runstatedir@/lighttpd/imagehook.sock",
	        "max-procs" => 2,
	        "check-local" => "disable",
	        "read-timeout" => 120,
	        "bin-environment" => (
	            "IMAGEHOOK_OUTPUT_DIR" => "@localstatedir@/lib/imagehook",
	            "IMAGEHOOK_LOG" => "@localstatedir@/log/imagehook/imagehook.log",
	            "IMAGEHOOK_TOKEN" => "@token@",
	        ),
	    )) )
	}
	EOF
	conf_name="bench's own minimal config (no shipped lighttpd-conf/imagehook.conf.in yet)"
else
	conf_name=${conf_in#"$top"/}
	# A snapshot: the shipped file may change while the run goes on.
	cp "$conf_in" "$T/shipped.conf.in"
	conf_in=$T/shipped.conf.in
fi
# The setting that changes the transport most: 0 (lighttpd's default) buffers the
# whole body before the backend sees it, 1 and 2 stream it through.
stream=$(sed -n 's/^[[:space:]]*server\.stream-request-body[[:space:]]*=[[:space:]]*\([0-9]\).*/\1/p' "$conf_in" | head -n 1)
conf_name="$conf_name (sha256 $(sha256sum "$conf_in" | cut -c1-12), server.stream-request-body ${stream:-0})"
path=$(sed -n 's/.*fastcgi\.server *= *( *"\([^"]*\)".*/\1/p' "$conf_in" | head -n 1)
path=${path:-/imagehook}
token=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')

free_port() {
	$py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # port seconds: waits until something listens on 127.0.0.1:port
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

children_hwm() { # pid: the largest VmHWM (kB) among its child processes
	local max=0 c k v kids
	kids=$(cat /proc/"$1"/task/*/children 2>/dev/null) || true
	for c in $kids; do
		while read -r k v _; do
			if [ "$k" = VmHWM: ] && [ "$v" -gt "$max" ]; then max=$v; fi
		done 2>/dev/null <"/proc/$c/status" || true
	done
	echo "$max"
}

rss_poll() { # pid file: writes the peak VmHWM of pid's children to file until killed
	local max=0 v
	while :; do
		v=$(children_hwm "$1")
		if [ "$v" -gt "$max" ]; then max=$v; echo "$max" >"$2"; fi
		sleep 0.2
	done
}

cells=$T/cells.jsonl
: >"$cells"

# The process count the config gives the backend: the peer gets as many workers.
procs=$(sed -n 's/.*"max-procs"[[:space:]]*=>[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$conf_in" | head -n 1)
procs=${procs:-1}

# run_ihbench server payload url [ihbench options...]: one measurement into $T/bench.json
run_ihbench() {
	local rc=0 server=$1 payload=$2 url=$3 count
	shift 3
	count=$(tr ' ' '\n' <<<"$counts" | sed -n "s/^$payload=//p")
	count=${count:-$(tr ' ' '\n' <<<"small=1500" | sed -n "s/^$payload=//p")}
	if [ $# -eq 0 ]; then set -- -n "$count" -d "$secs" -w 1; fi
	"$benchbin" -l "$server/$payload" -c "$conns" "$@" -b "$payloads/$payload.json" "$url" \
		>"$T/bench.json" || rc=$?
	if [ $rc -gt 1 ]; then say "ihbench failed ($rc) on $server/$payload"; return 1; fi
}

# retire dir: moves a finished cell's output out of the way, emptying its files but
# deleting none. ext4 without a journal (this project's test VMs) skips every inode
# freed in the last minute or more on each file it creates, looking each one up: the
# rm -rf of one cell's thousands of files made whichever cell came next pay for them,
# a different receiver each round. Truncated files give their space back and keep
# their inodes until the end of the run (cleanup's rm -rf).
retired=0
retire() {
	[ -e "$1" ] || return 0
	retired=$((retired + 1))
	mkdir -p "$T/retired"
	mv "$1" "$T/retired/$retired"
	find "$T/retired/$retired" -type f -size +0c -exec truncate -s 0 -- {} +
}

# lighttpd_start name binary: a fresh lighttpd (and output folder) serving binary; sets
# lp, port, poller (the RSS poller) and url.
lighttpd_start() {
	local server=$1 bin=$2
	retire "$T/var"
	rm -rf "$T/sbin" "$T/run" "$T/etc" "$T/upload"
	mkdir -p "$T/sbin" "$T/var/lib/imagehook" "$T/var/log/imagehook" "$T/run/lighttpd" \
		"$T/run/imagehook" "$T/etc/imagehook" "$T/upload" "$T/www"
	ln -s "$bin" "$T/sbin/imagehook"
	printf '%s\n' "$token" >"$T/etc/imagehook/token"
	chmod 600 "$T/etc/imagehook/token"
	sed -e "s|@sbindir@|$T/sbin|g" -e "s|@localstatedir@|$T/var|g" -e "s|@runstatedir@|$T/run|g" \
		-e "s|@sysconfdir@|$T/etc|g" -e "s|@token@|$token|g" "$conf_in" >"$T/imagehook.conf"
	port=$(free_port)
	cat >"$T/lighttpd.conf" <<-EOF
	server.document-root = "$T/www"
	server.bind = "127.0.0.1"
	server.port = $port
	server.errorlog = "$T/lighttpd-$server.log"
	server.upload-dirs = ( "${IHBENCH_UPLOAD_DIR:-$T/upload}" )
	include "$T/imagehook.conf"
	EOF
	# Its own stdio (and so its children's) away from ours: a backend that outlives
	# lighttpd must not hold the caller's pipe open.
	lighttpd -D -f "$T/lighttpd.conf" </dev/null >>"$T/lighttpd-stdio.log" 2>&1 &
	lp=$!
	pids+=("$lp")
	if ! wait_port "$port" 10; then
		say "lighttpd did not start:"; cat "$T/lighttpd-$server.log" >&2; return 1
	fi
	rm -f "$T/rss"
	rss_poll "$lp" "$T/rss" &
	poller=$!
	pids+=("$poller")
	url="http://127.0.0.1:$port$path?token=$token"
}

# backend_cpu pid: "PIDS NS": pid's child processes and the CPU time they have had so
# far, in nanoseconds (the first field of each thread's schedstat)
backend_cpu() {
	local c t=0 v kids ids=
	kids=$(cat /proc/"$1"/task/*/children 2>/dev/null) || true
	for c in $kids; do
		v=$(cat /proc/"$c"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }') || v=0
		t=$((t + v)) ids="$ids${ids:+,}$c"
	done
	echo "${ids:-none} $t"
}

# cpu_per pid-and-ns-before pid-and-ns-after deliveries: ms per delivery, or -1 when a
# process was replaced between the two (its time would be missing)
cpu_per() {
	awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		if (x[1] != y[1] || x[1] == "none" || n <= 0) { print -1; exit }
		printf "%.3f\n", (y[2] - x[2]) / 1e6 / n }' || echo -1
}

# lighttpd_stop name: stops it; sets rss (peak kB of a backend) and stray.
lighttpd_stop() {
	local k kids
	rss=$(children_hwm "$lp") # the processes still alive; the poller caught the others
	kill "$poller" && wait "$poller" 2>/dev/null || true
	if [ -s "$T/rss" ] && [ "$(cat "$T/rss")" -gt "$rss" ]; then rss=$(cat "$T/rss"); fi
	kids=$(cat /proc/"$lp"/task/*/children 2>/dev/null) || true
	kill "$lp" && wait "$lp" 2>/dev/null || true
	pids=("${pids[@]:0:${#pids[@]}-2}")
	# lighttpd sends its backends SIGTERM as it stops; one still there 2 s later
	# would serve nobody forever. Report it and end it.
	stray=0
	for k in $kids; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$k" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$k" 2>/dev/null; then
			stray=$((stray + 1))
			kill -KILL "$k" 2>/dev/null || true
		fi
	done
	if [ $stray -gt 0 ]; then
		say "$1: $stray FastCGI process(es) ignored lighttpd's SIGTERM (killed)"
	fi
}

# lighttpd_cell server binary payload round
lighttpd_cell() {
	local server=$1 bin=$2 payload=$3 round=$4 rc=0 files
	lighttpd_start "$server-$payload" "$bin" || return 1
	run_ihbench "$server" "$payload" "$url" || rc=1
	lighttpd_stop "$server/$payload"
	files=$(find "$T/var/lib/imagehook" -type f \( -name '*.png' -o -name '*.json' \) | wc -l)
	[ $rc = 0 ] || return 1
	printf '{"server":"%s","payload":"%s","round":%s,"rss_kb":%s,"files":%s,"stray":%s,"bench":%s}\n' \
		"$server" "$payload" "$round" "$rss" "$files" "$stray" "$(cat "$T/bench.json")" >>"$cells"
}

# --- the Flask peer: one gunicorn for the whole run, as many workers as imagehook has processes
peer_dir=${IHBENCH_PEER_DIR:-$top/../shared/bench}
# A worktree sits one level deeper than the main checkout.
if [ -z "${IHBENCH_PEER_DIR:-}" ] && [ ! -d "$peer_dir" ] && [ -d "$top/../../shared/bench" ]; then
	peer_dir=$(cd "$top/../../shared/bench" && pwd)
fi
peer_port=
start_peer() {
	if [ -f "$peer_dir/peer_flask.py" ] && command -v gunicorn >/dev/null &&
		$py -c 'import flask, PIL' 2>/dev/null; then
		peer_port=$(free_port)
		mkdir -p "$T/peer-out"
		OUT=$T/peer-out gunicorn -w "$procs" --timeout 300 -b "127.0.0.1:$peer_port" \
			--chdir "$peer_dir" peer_flask:app >"$T/gunicorn.log" 2>&1 &
		gp=$!
		pids+=("$gp")
		if ! wait_port "$peer_port" 20; then
			say "gunicorn did not start"; cat "$T/gunicorn.log" >&2; peer_port=
		fi
	else
		say "no peer: needs $peer_dir/peer_flask.py, gunicorn, python3-flask, python3-pil"
	fi
}

peer_cell() { # payload round
	[ -n "$peer_port" ] || return 1
	retire "$T/peer-out"
	mkdir -p "$T/peer-out"
	run_ihbench peer "$1" "http://127.0.0.1:$peer_port/callback" || return 1
	printf '{"server":"peer","payload":"%s","round":%s,"bench":%s}\n' "$1" "$2" \
		"$(cat "$T/bench.json")" >>"$cells"
}

# One cell of one receiver.
cell() { # server payload round
	case $1 in
	ceiling) lighttpd_cell ceiling "$nullbin" "$2" "$3" ;;
	durable) lighttpd_cell durable "$durablebin" "$2" "$3" ;;
	imagehook) lighttpd_cell imagehook "$ihbin" "$2" "$3" ;;
	peer) peer_cell "$2" "$3" ;;
	esac || say "$1/$2 (round $3): no result"
}

# Other work on the machine skews every number: keep a trace of it.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "lighttpd config: $conf_name, path $path, $procs backend processes, $secs s per cell at most"
servers="ceiling durable"
[ -n "$ihbin" ] && servers="$servers imagehook"
if [ $peer = 1 ] && [ $table = 1 ]; then
	start_peer
	[ -n "$peer_port" ] && servers="$servers peer"
fi
if [ $table = 1 ]; then
	# Interleaved: every receiver once per payload per round, starting one further along
	# each round, so that drift on a shared machine hits every receiver alike.
	set -- $servers
	nserv=$#
	for ((round = 1; round <= reps; round++)); do
		for n in $names; do
			for ((i = 0; i < nserv; i++)); do
				set -- $servers
				shift $(((i + round - 1) % nserv))
				say "round $round/$reps: $1/$n"
				cell "$1" "$n" "$round"
			done
		done
	done
fi
if [ -n "${gp:-}" ]; then
	kill "$gp" && wait "$gp" 2>/dev/null || true
fi

# --- a day filling up ------------------------------------------------------------
# $fill small deliveries into one day (one imagehook output folder, gallery on):
# the first and the last twentieth timed apart from the rest.
if [ $day_fill = 1 ] && [ -n "$ihbin" ]; then
	win=$((fill / 20)) mid=$((fill - 2 * (fill / 20)))
	say "day fill: $fill small deliveries into one day ($win timed at each end)"
	if lighttpd_start imagehook-dayfill "$ihbin"; then
		day0=$(date -u +%F)
		t0=$(date +%s)
		ok=1
		c0=$(backend_cpu "$lp")
		run_ihbench dayfill small "$url" -n "$win" -d 0 -w 1 && cp "$T/bench.json" "$T/fill-first.json" || ok=0
		c1=$(backend_cpu "$lp")
		[ $ok = 1 ] && { run_ihbench dayfill small "$url" -n "$mid" -d 0 -w 0 && cp "$T/bench.json" "$T/fill-mid.json" || ok=0; }
		c2=$(backend_cpu "$lp")
		[ $ok = 1 ] && { run_ihbench dayfill small "$url" -n "$win" -d 0 -w 0 && cp "$T/bench.json" "$T/fill-last.json" || ok=0; }
		c3=$(backend_cpu "$lp")
		# CPU ms of imagehook per delivery in each window (the first one's warm-ups,
		# one per connection, included); the machine's drift moves it far less than req/s.
		cpu_first=$(cpu_per "$c0" "$c1" $((win + conns)))
		cpu_last=$(cpu_per "$c2" "$c3" "$win")
		t1=$(date +%s)
		day1=$(date -u +%F)
		jobs=$(find "$T/var/lib/imagehook/jobs" -mindepth 4 -maxdepth 4 -type d | wc -l)
		pages=$(find "$T/var/lib/imagehook/gallery" -maxdepth 1 -name '*-p*.html' | wc -l)
		lighttpd_stop dayfill
		# The same count into an empty output folder right after: drift on a shared
		# machine moves both of these alike, as it may not the first and the last.
		echo '{}' >"$T/fill-fresh.json"
		if [ $ok = 1 ] && lighttpd_start imagehook-fresh "$ihbin"; then
			run_ihbench fresh small "$url" -n "$win" -d 0 -w 1 && cp "$T/bench.json" "$T/fill-fresh.json"
			lighttpd_stop fresh
		fi
		if [ $ok = 1 ]; then
			printf '{"server":"dayfill","payload":"small","fill":%s,"window":%s,"jobs":%s,"pages":%s,"seconds":%s,"one_day":%s,"rss_kb":%s,"cpu_first_ms":%s,"cpu_last_ms":%s,"first":%s,"mid":%s,"last":%s,"fresh":%s}\n' \
				"$fill" "$win" "$jobs" "$pages" "$((t1 - t0))" \
				"$([ "$day0" = "$day1" ] && echo true || echo false)" "$rss" "$cpu_first" "$cpu_last" \
				"$(cat "$T/fill-first.json")" "$(cat "$T/fill-mid.json")" "$(cat "$T/fill-last.json")" \
				"$(cat "$T/fill-fresh.json")" >>"$cells"
		else
			say "day fill: no result"
		fi
	fi
fi

# --- report ------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
# fs_of dir: the file system type, and for ext4 whether it has a journal: without one,
# ext4 looks up every inode freed in the last minute on each file it creates.
fs_of() {
	local type dev
	type=$(df -T "$1" | awk 'NR == 2 {print $2}')
	if [ "$type" = ext4 ]; then
		# The kernel's name of the device (dm-0, not /dev/mapper/...), as jbd2 lists it.
		dev=$(findmnt -no MAJ:MIN -T "$1" | tr -d ' ')
		dev=$(basename "$(readlink -f "/sys/dev/block/$dev")")
		if compgen -G "/proc/fs/jbd2/$dev-*" >/dev/null; then type="ext4 with a journal"
		else type="ext4 without a journal"; fi
	fi
	echo "$type on $(df "$1" | awk 'NR == 2 {print $1}')"
}

rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo none)
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no -- src 2>/dev/null)" ]; then
	rev="$rev, src/ modified"
fi
$py "$top/bench/report.py" "$cells" "$out" \
	"date=$(date -u +%Y-%m-%dT%H:%MZ)" \
	"command=bench/run.sh${args:+ $args}" \
	"cpu=${cpu:-unknown}, $(nproc) cores ($(nproc --all) online)" \
	"memory=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)" \
	"kernel=$(uname -sr)" \
	"lighttpd=$(lighttpd -v 2>&1 | head -n 1)" \
	"compiler=$(${CC:-cc} --version | head -n 1)" \
	"imagehook=$([ -n "$ihbin" ] && echo "$ihbin (built from commit $rev)" || echo 'not built')" \
	"lighttpd config=$conf_name, URL path $path, token in the query" \
	"load=ihbench, $conns connections, 1 warm-up request each, per cell at most $secs s and $counts requests; $reps round(s), the receivers interleaved" \
	"backend processes=$procs for each lighttpd receiver (max-procs), and $procs gunicorn workers for the peer" \
	"load average (1, 5, 15 min)=$load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after" \
	"filesystem of the output=$(fs_of "$T") ($T)"
if [ $s3 = 1 ]; then
	say "the S3 store (bench/s3.sh)"
	{
		printf '\n## The S3 store beside the local one (`bench/s3.sh`)\n'
		IHBENCH_BUILDDIR=$build bash "$top/bench/s3.sh" $([ $quick = 1 ] && echo --quick)
	} >>"$out"
fi
say "results written to $out"
