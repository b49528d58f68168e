#!/bin/sh
# header-test.sh - the public headers compile on their own, warning-free, as
# C99, C11 and C++ (issue 8): kbus.h for new programs, and the compatibility
# headers (libkbus/kbus.h, libkbus/limpet.h, linux/kbus_defns.h) for ported
# ones; kbus/limpet.h too.
# Usage: header-test.sh SOURCEDIR BUILDDIR
set -eu
src=$1 build=$2
inc="-I$src/include -I$build/include -I$src/include/kbus/compat"
tmp=$(mktemp -d /tmp/kbus-headers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for h in kbus/kbus.h kbus/limpet.h libkbus/kbus.h libkbus/limpet.h linux/kbus_defns.h; do
        printf '#include <%s>\nint main(void) { return 0; }\n' "$h" > "$tmp/t.c"
        cp "$tmp/t.c" "$tmp/t.cpp"
        for std in c99 c11; do
                cc -std=$std -Wall -Wextra -Werror -fsyntax-only $inc "$tmp/t.c" ||
                        { echo "header-test: $h does not compile as $std" >&2; exit 1; }
        done
        c++ -Wall -Wextra -Werror -fsyntax-only $inc "$tmp/t.cpp" ||
                { echo "header-test: $h does not compile as C++" >&2; exit 1; }
done
echo "header-test: ok"
