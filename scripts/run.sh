#!/bin/sh
# The run command: install what is missing, build, and run kbusd on the
# default bus in the foreground, logging every open, bind, unbind and close.
# Ctrl-C stops it (and removes its socket).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
exec build/src/broker/kbusd --verbose "$@"
