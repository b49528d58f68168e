#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# run.sh - kbus beside its peers, in C and in asyncio Python: two tables.
#
# Usage: bench/compare/run.sh [compare.py options, e.g. --only c|python]
#
# Installs what it needs from Debian if missing (as root): the brokers
# (mosquitto, nats-server, dbus-daemon), their C libraries (libzmq3-dev,
# libnats-dev, libmosquitto-dev, libsystemd-dev) and Python modules
# (python3-zmq, python3-dbus-next).  Builds kbus and the C peer programs
# (bench/compare/c/) into a temporary directory, and runs compare.py with
# Debian's python3: private servers on a temporary socket directory, the
# same 64-byte workloads for each, interleaved rounds, ratios to the
# ceiling.  Not in CI: it takes a few minutes and measures the machine.
set -eu
cd "$(dirname "$0")/../.."
scripts/deps.sh python3 python3-zmq python3-dbus-next dbus-daemon mosquitto nats-server \
        libzmq3-dev libnats-dev libmosquitto-dev libsystemd-dev pkg-config gcc
scripts/build.sh build >/dev/null
peers=$(mktemp -d /tmp/kbus-compare-peers.XXXXXX)
trap 'rm -rf "$peers"' EXIT
c=bench/compare/c
cc() { gcc -O2 -Wall -Wextra -o "$peers/peer-$1" "$c/peer.c" "$c/peer-$1.c" $2; }
cc zmq -lzmq
cc nats -lnats
cc mosquitto -lmosquitto
cc sdbus "$(pkg-config --libs libsystemd)"
/usr/bin/python3 bench/compare/compare.py --kbusd build/src/broker/kbusd \
        --kbus-bench build/tools/kbus-bench --c-peers "$peers" "$@"
