#!/bin/sh
# Install what building and testing kbus needs, on Debian 12, if missing.
# Usage: scripts/deps.sh [extra-package...]
set -eu
need="meson ninja-build pkg-config gcc g++ libc6-dev libevent-dev libbsd-dev libcmocka-dev libsystemd-dev libssl-dev openssl $*"
missing=""
for p in $need; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
        echo "kbus: missing packages:$missing (run as root, or: sudo apt-get install -y$missing)" >&2
        exit 1
fi
echo "kbus: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q $missing >/dev/null
