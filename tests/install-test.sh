#!/bin/sh
# install-test.sh - `meson install` into a temporary DESTDIR puts everything
# in place (issue 3), and a C program compiles and links against the
# installed kbus.pc and runs against the installed kbusd.
# Usage: install-test.sh BUILDDIR SOURCEDIR
set -eu
build=$1 src=$2
dest=$(mktemp -d /tmp/kbus-install.XXXXXX)
trap 'kill $kbusd_pid 2>/dev/null || true; rm -rf "$dest"' EXIT
kbusd_pid=

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet
prefix=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"], o["bindir"], o["sbindir"], o["libdir"], o["includedir"], o["mandir"],
      o["b_sanitize"])')
set -- $prefix
root=$dest$1
check() { [ -e "$1" ] || { echo "install-test: missing $1" >&2; exit 1; }; }
check "$root/$3/kbusd"
for t in kbus-send kbus-listen kbus-ctl kbus-bench; do check "$root/$2/$t"; done
check "$root/$4/libkbus.so.1"
check "$root/$4/pkgconfig/kbus.pc"
check "$root/$5/kbus/kbus.h"
check "$root/$5/kbus/version.h"
check "$root/$4/pkgconfig/kbus-compat.pc"
check "$root/$5/kbus/compat/libkbus/kbus.h"
check "$root/$5/kbus/compat/linux/kbus_defns.h"
for m in man8/kbusd.8 man1/kbus-send.1 man1/kbus-listen.1 man1/kbus-ctl.1 man1/kbus-bench.1; do
        check "$root/$6/$m"
done
find "$dest" -name kbusd.service | grep -q . || { echo "install-test: no kbusd.service" >&2; exit 1; }
find "$dest" -name kbusd.socket | grep -q . || { echo "install-test: no kbusd.socket" >&2; exit 1; }
pkgdir=$(find "$dest" -path '*/kbus/__init__.py' | head -n 1)
[ -n "$pkgdir" ] || { echo "install-test: no Python package" >&2; exit 1; }
PYTHONPATH=$(dirname "$(dirname "$pkgdir")") python3 -c 'import kbus, kbus.aio; kbus.Ksock' ||
        { echo "install-test: the installed Python package does not import" >&2; exit 1; }
soname=$(readelf -d "$root/$4/libkbus.so.1" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libkbus.so.1 ] || { echo "install-test: soname is $soname" >&2; exit 1; }

# Compile the README's example against the installed headers and library only.
export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$root/$4/pkgconfig
# a sanitized libkbus needs a program built with the same sanitizers
san=
[ "$7" = none ] || san=-fsanitize=$7
cc -Wall -Wextra -Werror $san "$src/examples/c/kitchen.c" $(pkg-config --cflags --libs kbus) \
        -o "$dest/kitchen"

# A program in the original's style builds with kbus-compat, as C and as
# C++: the original include path, what that header brought in (errno,
# strlen, gettimeofday), and the original API.
cat > "$dest/compat.c" <<'PROG'
#include <libkbus/kbus.h>
int main(void)
{
        kbus_message_t *msg;
        struct timeval tv;
        int rv = kbus_msg_create_entire(&msg, "$.Old", strlen("$.Old"), NULL, 0, BIT(0));
        if (rv < 0 || gettimeofday(&tv, NULL) < 0)
                return 1;
        kbus_msg_print2(stdout, msg, KBUS_MSG_PRINT_FLAGS_ABBREVIATE);
        printf(" %d\n", kbus_msg_is_entire(msg));
        kbus_msg_delete(&msg);
        if (kbus_ksock_close(-1) < 0 && errno == EBADF)
                printf("%s\n", strerror(errno));
        return 0;
}
PROG
cc -std=c99 -Wall -Wextra -Werror $san "$dest/compat.c" $(pkg-config --cflags --libs kbus-compat) \
        -o "$dest/compat"
cp "$dest/compat.c" "$dest/compat.cpp"
c++ -Wall -Wextra -Werror $san "$dest/compat.cpp" $(pkg-config --cflags --libs kbus-compat) \
        -o "$dest/compat++"
for p in compat compat++; do
        out=$(LD_LIBRARY_PATH=$root/$4 "$dest/$p")
        [ "$out" = "<Request '\$.Old' flags=0x1 REQ> 1
Bad file descriptor" ] || { printf 'install-test: %s printed:\n%s\n' "$p" "$out" >&2; exit 1; }
done

# Run it against the installed kbusd.
sockdir=$dest/run
mkfifo "$dest/ready"
"$root/$3/kbusd" --socket-dir "$sockdir" > "$dest/ready" &
kbusd_pid=$!
read -r line < "$dest/ready"   # "kbusd: bus 0 listening on ...", or EOF if it failed
case $line in *listening*) ;; *) echo "install-test: kbusd did not start" >&2; exit 1 ;; esac
out=$(KBUS_SOCKET_DIR=$sockdir LD_LIBRARY_PATH=$root/$4 "$dest/kitchen")
kill $kbusd_pid; wait $kbusd_pid
kbusd_pid=
expected="asked, request id [0:1]
answer: 21.5 from ksock 1
<Reply '\$.Sensors.Kitchen.Temperature' id=[0:2] to=2 from=1 in_reply_to=[0:1] data=21.5>"
[ "$out" = "$expected" ] || { printf 'install-test: kitchen printed:\n%s\n' "$out" >&2; exit 1; }
echo "install-test: ok"
