#!/bin/bash
# Sets everything up on a fresh Debian machine and runs imagehook for real: lighttpd on
# 127.0.0.1 (a free port) spawning imagehook with the shipped config, one sample A1111
# callback with real PNGs delivered, the stored files and the log line shown. Serves
# until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
bash scripts/setup.sh

demo=${IMAGEHOOK_DEMO_DIR:-$(mktemp -d /tmp/imagehook-demo.XXXXXX)}
mkdir -p "$demo"/{etc/imagehook,var/lib/imagehook,var/log/imagehook,run/lighttpd,www}
token=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$token" >"$demo/etc/imagehook/token"
chmod 600 "$demo/etc/imagehook/token"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The shipped config, with this checkout's paths in place of the installed ones.
sed -e "s|@sbindir@|$top/build|g" -e "s|@localstatedir@|$demo/var|g" \
	-e "s|@sysconfdir@|$demo/etc|g" -e "s|@runstatedir@|$demo/run|g" \
	lighttpd-conf/imagehook-spawn.conf.in >"$demo/imagehook.conf"
cat >"$demo/lighttpd.conf" <<CONF
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$demo/www"
server.errorlog = "$demo/var/log/lighttpd-error.log"
server.pid-file = "$demo/run/lighttpd.pid"
# The stored files and the gallery, read-only, for the browser.
server.modules += ( "mod_alias" )
alias.url += ( "/imagehook-files/" => "$demo/var/lib/imagehook/" )
include "$demo/imagehook.conf"
CONF
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
python3 tests/callbacks.py --images 3 --size 256x256 --pretty --seed "$(date +%s)" --id "sync-demo-$(date +%s)" >"$demo/sample.json"
build/imagehook send "$url" "$demo/sample.json"
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
	IMAGEHOOK_TOKEN_FILE="$demo/etc/imagehook/token" build/imagehook gallery >/dev/null
echo "== gallery: http://127.0.0.1:$port/imagehook-files/gallery/index.html"
echo "== imagehook stats"
IMAGEHOOK_LOG="$demo/var/log/imagehook/imagehook.log" IMAGEHOOK_ALLOW_OPEN=1 build/imagehook stats
echo
echo "== send your own: build/imagehook send '$url' [callback.json]"
echo "== serving until Ctrl-C (output folder: $demo/var/lib/imagehook)"
wait $lpid
