#!/bin/bash
# Sets everything up on a fresh Debian machine and runs imagehook for real: lighttpd on
# 127.0.0.1 (a free port) spawning imagehook with the shipped config, one sample A1111
# callback with real PNGs delivered, the stored files and the log line shown, and the
# gallery served behind a password (lighttpd-conf/imagehook-gallery.conf).
#
# Run from a terminal, it serves until Ctrl-C.  Otherwise (no terminal on stdin, as in
# CI) it serves until stdin ends, so `demo.sh </dev/null` stops at once and a test can
# keep it up by holding a pipe open; IMAGEHOOK_DEMO_EXIT=1 stops it at once either way.
# IMAGEHOOK_BIN=path/to/imagehook uses that binary and skips scripts/setup.sh (the
# package installs and the build); IMAGEHOOK_DEMO_DIR chooses the demo's folder.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
if [ -n "${IMAGEHOOK_BIN:-}" ]; then
	bin=$(cd "$(dirname "$IMAGEHOOK_BIN")" && pwd)/$(basename "$IMAGEHOOK_BIN")
else
	bash scripts/setup.sh
	bin=$top/build/imagehook
fi
bindir=$(dirname "$bin")

demo=${IMAGEHOOK_DEMO_DIR:-$(mktemp -d /tmp/imagehook-demo.XXXXXX)}
mkdir -p "$demo"/{etc/imagehook,var/lib/imagehook,var/log/imagehook,run/lighttpd,www}
token=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$token" >"$demo/etc/imagehook/token"
chmod 600 "$demo/etc/imagehook/token"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The shipped config, with this checkout's paths in place of the installed ones.
# (bin-path names the program: a copy called imagehook, wherever IMAGEHOOK_BIN was.)
if [ "$(basename "$bin")" != imagehook ]; then
	mkdir -p "$demo/sbin" && cp "$bin" "$demo/sbin/imagehook" && bin=$demo/sbin/imagehook
	bindir=$demo/sbin
fi
render() {
	sed -e "s|@sbindir@|$bindir|g" -e "s|@localstatedir@|$demo/var|g" \
		-e "s|@sysconfdir@|$demo/etc|g" -e "s|@runstatedir@|$demo/run|g" "$1"
}
render lighttpd-conf/imagehook-spawn.conf.in >"$demo/imagehook.conf"
render lighttpd-conf/imagehook-gallery.conf.in >"$demo/imagehook-gallery.conf"
# The gallery's password, for the shipped config (htpasswd: Debian's apache2-utils).
password=$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')
htpasswd -c -b -B "$demo/etc/imagehook/gallery.htpasswd" demo "$password" 2>/dev/null
cat >"$demo/lighttpd.conf" <<CONF
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$demo/www"
server.errorlog = "$demo/var/log/lighttpd-error.log"
server.pid-file = "$demo/run/lighttpd.pid"
server.upload-dirs = ( "$demo/run" )
# The gallery and job files, read-only, behind the password (mod_auth before mod_fastcgi).
include "$demo/imagehook-gallery.conf"
include "$demo/imagehook.conf"
CONF
# Types for the rest of the site, as Debian's lighttpd.conf has them (the gallery's
# config sets its own).
if [ -x /usr/share/lighttpd/create-mime.conf.pl ]; then
	echo 'include_shell "/usr/share/lighttpd/create-mime.conf.pl"' >>"$demo/lighttpd.conf"
fi
if [ "$(id -u)" -eq 0 ]; then
	# lighttpd would otherwise run imagehook as root; run both as www-data.
	echo 'server.username = "www-data"' >>"$demo/lighttpd.conf"
	echo 'server.groupname = "www-data"' >>"$demo/lighttpd.conf"
	chown -R www-data:www-data "$demo"
	chmod 755 "$demo"
fi

lighttpd -D -f "$demo/lighttpd.conf" &
lpid=$!
trap 'kill $lpid 2>/dev/null; wait $lpid 2>/dev/null; echo; echo "stopped; files are in $demo"' EXIT
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done

url="http://127.0.0.1:$port/imagehook?token=$token"
echo "== imagehook is listening behind lighttpd at http://127.0.0.1:$port/imagehook"
echo "== delivering a sample A1111 callback with 3 real PNGs"
python3 tests/callbacks.py --images 3 --size 512x512 --pretty --seed "$(date +%s)" --id "sync-demo-$(date +%s)" >"$demo/sample.json"
"$bin" send "$url" "$demo/sample.json"
echo "== the health path: http://127.0.0.1:$port/imagehook/health"
curl -sS "http://127.0.0.1:$port/imagehook/health"
echo "== stored files"
(cd "$demo/var/lib/imagehook" && find jobs -type f ! -name .lock | sort | xargs ls -l)
echo "== log line"
tail -n 1 "$demo/var/log/imagehook/imagehook.log"
echo
# Thumbnails are made off the request path; cron would run this every few minutes.
run_as=()
[ "$(id -u)" -ne 0 ] || run_as=(runuser -u www-data --)
"${run_as[@]}" env IMAGEHOOK_OUTPUT_DIR="$demo/var/lib/imagehook" \
	IMAGEHOOK_LOG="$demo/var/log/imagehook/imagehook.log" \
	IMAGEHOOK_TOKEN_FILE="$demo/etc/imagehook/token" "$bin" gallery >/dev/null
echo "== gallery (user demo, password $password):"
echo "   http://demo:$password@127.0.0.1:$port/imagehook-files/gallery/index.html"
echo "== imagehook stats"
IMAGEHOOK_LOG="$demo/var/log/imagehook/imagehook.log" IMAGEHOOK_ALLOW_OPEN=1 "$bin" stats
echo
echo "== send your own: $bin send '$url' [callback.json]"
if [ "${IMAGEHOOK_DEMO_EXIT:-0}" = 1 ]; then
	exit 0
elif [ -t 0 ]; then
	echo "== serving until Ctrl-C (output folder: $demo/var/lib/imagehook)"
	wait $lpid
else
	echo "== serving until stdin ends (output folder: $demo/var/lib/imagehook)"
	cat >/dev/null || true
fi
