#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# run.sh - build the libFuzzer targets and run each for a while.
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS  how long to run each target (default 30)
#   TARGET   codec, name, core (default: every tests/fuzz/fuzz-*.c; without
#            FUZZ_BUILDDIR, those on src/proto alone: codec and name)
# Environment: FUZZ_BUILDDIR (a meson build directory configured with
# clang, e.g. build-clang: its fuzz-<target> binaries are brought up to
# date with ninja and run; unset: each target is built by hand into a
# temporary directory from tests/fuzz/fuzz-<target>.c and src/proto/*.c),
# CC (for the build by hand; default clang), FUZZ_ARTIFACTS (where crashing
# inputs are written; default tests/fuzz/artifacts), FUZZ_JOBS (parallel
# workers per target, default 1).
#
# Each target runs on a scratch copy of its committed seed corpus
# (tests/fuzz/corpus-<target>), so the committed corpus only changes by
# hand.  Exits non-zero if a target crashed (or could not be built).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-30}
[ $# -gt 0 ] && shift
targets=$*
# Targets built by hand (without FUZZ_BUILDDIR) are those on src/proto alone.
by_hand="codec name"
if [ -z "$targets" ]; then
        for f in "$here"/fuzz-*.c; do
                t=${f##*/fuzz-}
                t=${t%.c}
                if [ -z "${FUZZ_BUILDDIR:-}" ] && ! echo " $by_hand " | grep -q " $t "; then
                        echo "run.sh: skipping fuzz-$t: it needs FUZZ_BUILDDIR (a clang build)" >&2
                        continue
                fi
                targets="$targets $t"
        done
fi
cc=${CC:-clang}
builddir=
if [ -n "${FUZZ_BUILDDIR:-}" ]; then
        builddir=$(cd "$FUZZ_BUILDDIR" && pwd)
fi
artifacts=${FUZZ_ARTIFACTS:-$here/artifacts}
jobs=${FUZZ_JOBS:-1}

case $secs in
'' | *[!0-9]*) echo "run.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kbus-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# -std and -D_GNU_SOURCE as in the top meson.build
cflags="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I$root/src/proto"

# build_target TARGET: leaves the libFuzzer binary at $tmp/fuzz-TARGET
build_target() {
        if [ -n "$builddir" ]; then
                echo "== fuzz-$1: building in $builddir"
                if ! ninja -C "$builddir" "tests/fuzz/fuzz-$1" >"$tmp/build-$1" 2>&1; then
                        cat "$tmp/build-$1" >&2
                        echo "== fuzz-$1: ninja failed: an error above, or not a clang build" \
                                "with libFuzzer" >&2
                        return 1
                fi
                ln -s "$builddir/tests/fuzz/fuzz-$1" "$tmp/fuzz-$1"
        else
                if ! echo " $by_hand " | grep -q " $1 "; then
                        echo "== fuzz-$1: needs FUZZ_BUILDDIR (a clang build directory)" >&2
                        return 1
                fi
                echo "== fuzz-$1: building"
                # only targets on src/proto build by hand; others need FUZZ_BUILDDIR
                # shellcheck disable=SC2086
                $cc $cflags -o "$tmp/fuzz-$1" "$here/fuzz-$1.c" "$root"/src/proto/*.c
        fi
}

failed=0
for t in $targets; do
        if [ ! -f "$here/fuzz-$t.c" ] || [ ! -d "$here/corpus-$t" ]; then
                echo "run.sh: unknown target '$t' (no fuzz-$t.c and corpus-$t/)" >&2
                exit 2
        fi
        case $t in
        name) max_len=1100 ;; # names past the 1000-byte limit
        *) max_len=4096 ;;    # core: scripts of up to 400 steps
        esac
        if ! build_target "$t"; then
                echo "== fuzz-$t: BUILD FAILED" >&2
                failed=1
                continue
        fi
        mkdir -p "$tmp/corpus-$t"
        cp "$here/corpus-$t"/* "$tmp/corpus-$t/"
        mkdir -p "$tmp/artifacts-$t"
        par=
        [ "$jobs" -gt 1 ] && par="-jobs=$jobs -workers=$jobs"
        echo "== fuzz-$t: running for ${secs}s"
        # from $tmp: with -jobs, libFuzzer writes fuzz-N.log files in the current directory
        # shellcheck disable=SC2086
        if (cd "$tmp" && UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                "$tmp/fuzz-$t" -max_total_time="$secs" -max_len="$max_len" -timeout=10 $par \
                -print_final_stats=1 -artifact_prefix="$tmp/artifacts-$t/" "$tmp/corpus-$t" \
                >"$tmp/log-$t" 2>&1); then
                # with FUZZ_JOBS, each worker's figures are in its fuzz-N.log
                cat "$tmp"/fuzz-*.log >>"$tmp/log-$t" 2>/dev/null || true
                grep -E '^stat::(number_of_executed_units|new_units_added)' "$tmp/log-$t" || true
                echo "== fuzz-$t: no crash"
        else
                cat "$tmp"/fuzz-*.log >>"$tmp/log-$t" 2>/dev/null || true
                tail -n 60 "$tmp/log-$t" >&2
                mkdir -p "$artifacts"
                cp "$tmp/artifacts-$t"/* "$artifacts/" 2>/dev/null || true
                echo "== fuzz-$t: CRASH; inputs copied to $artifacts/ - keep each as a" \
                        "regression seed in tests/fuzz/corpus-$t/" >&2
                failed=1
        fi
        rm -f "$tmp"/fuzz-*.log # the next target's workers write their own
done
exit $failed
