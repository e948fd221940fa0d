#!/bin/bash
# Installs the Debian packages imagehook needs, then bootstraps and builds it in build/.
# Sourced by scripts/test.sh and scripts/demo.sh; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(build-essential autoconf automake autoconf-archive pkg-config
	libfcgi-dev libjson-c-dev libpng-dev zlib1g-dev libssl-dev libcmocka-dev
	python3 lighttpd apache2 libapache2-mod-fcgid nginx-light spawn-fcgi
	valgrind curl clang libclang-rt-14-dev chromium logrotate strace
	libcurl4-openssl-dev ceph-mon ceph-osd radosgw ceph-common
	dpkg-dev debhelper dh-autoreconf fakeroot lintian apache2-utils
	prometheus python3-prometheus-client
	python3-pil python3-flask gunicorn
	python3-cryptography libfcgi-bin)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "== installing Debian packages: ${missing[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	# The packaged web servers must not start on their public ports: we run our own on 127.0.0.1.
	added_policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
		$SUDO chmod 755 /usr/sbin/policy-rc.d
		added_policy=yes
	fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
	[ -z "$added_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi

echo "== building imagehook in build/"
[ -x configure ] || autoreconf -fi >/dev/null
# Builds live in build/ (and build-san/): an in-tree configuration would forbid them.
[ ! -f Makefile ] || make -s distclean >/dev/null
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure -q; } && make -s -j"$(nproc)" >/dev/null)
