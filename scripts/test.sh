#!/bin/sh
# The test command: install what is missing, build, run every test.
# Usage: scripts/test.sh                        normal build (./build), every test, and
#                                               the packaging test (tests/packaging/run.sh)
#        scripts/test.sh --sanitize --valgrind --clang
#                                               also: an ASan+UBSan build (./build-san) running
#                                               every test, the integration suite with kbusd
#                                               under valgrind, and a clang UBSan build
#                                               (./build-clang) running every test (what CI runs)
set -eu
cd "$(dirname "$0")/.."
sanitize=no valgrind=no clang=no
for a in "$@"; do
        case $a in
        --sanitize) sanitize=yes ;;
        --valgrind) valgrind=yes ;;
        --clang) clang=yes ;;
        *) echo "usage: scripts/test.sh [--sanitize] [--valgrind] [--clang]" >&2; exit 2 ;;
        esac
done
extra=""
[ $clang = yes ] && extra=clang
scripts/deps.sh valgrind systemd python3 man-db $extra
scripts/build.sh build
meson test -C build --print-errorlogs --num-processes 2
echo "== the Debian packages: build, install, use, purge"
tests/packaging/run.sh
if [ $sanitize = yes ]; then
        echo "== ASan + UBSan build"
        scripts/build.sh build-san -Db_sanitize=address,undefined -Db_lundef=false
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                meson test -C build-san --print-errorlogs --num-processes 2
fi
if [ $valgrind = yes ]; then
        echo "== integration suite with kbusd under valgrind"
        KBUS_TEST_FLOOD=10000 \
        KBUSD_WRAPPER="valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99" \
                meson test -C build --suite integration --print-errorlogs --num-processes 2
fi
if [ $clang = yes ]; then
        # clang's UBSan also checks what gcc's does not (NULL + 0, for one)
        echo "== clang build, UBSan"
        CC=clang scripts/build.sh build-clang -Db_sanitize=undefined -Db_lundef=false
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                meson test -C build-clang --print-errorlogs --num-processes 2
fi
