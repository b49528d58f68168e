#!/bin/sh
# The test command: install what is missing, build, run every test.
# Usage: scripts/test.sh            (normal build in ./build)
#        scripts/test.sh --sanitize (also ASan+UBSan build in ./build-san)
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh valgrind
scripts/build.sh build
meson test -C build --print-errorlogs --num-processes 2
if [ "${1:-}" = "--sanitize" ]; then
        scripts/build.sh build-san -Db_sanitize=address,undefined -Db_lundef=false
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                meson test -C build-san --print-errorlogs --num-processes 2
fi
