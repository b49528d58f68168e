#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# run.sh - kbus beside its peers, from asyncio Python, in one table.
#
# Usage: bench/compare/run.sh [compare.py options: --round-trips N --requests N]
#
# Installs what it needs from Debian if missing (as root: python3-zmq,
# python3-dbus-next, dbus-daemon), builds kbus, and runs compare.py with
# Debian's python3: private servers on a temporary socket directory, the
# same 64-byte round trip and 64-in-flight load for each, interleaved
# rounds, one table with ratios to a plain asyncio Unix socket.
# Not in CI: it takes a few minutes and measures the machine.
set -eu
cd "$(dirname "$0")/../.."
scripts/deps.sh python3 python3-zmq python3-dbus-next dbus-daemon
scripts/build.sh build >/dev/null
exec /usr/bin/python3 bench/compare/compare.py --kbusd build/src/broker/kbusd "$@"
