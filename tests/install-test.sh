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
for t in kbus-send kbus-listen kbus-ctl kbus-bench kbus-limpet; do check "$root/$2/$t"; done
check "$root/$4/libkbus.so.1"
check "$root/$4/pkgconfig/kbus.pc"
check "$root/$5/kbus/kbus.h"
check "$root/$5/kbus/version.h"
check "$root/$4/pkgconfig/kbus-compat.pc"
check "$root/$5/kbus/compat/libkbus/kbus.h"
check "$root/$5/kbus/compat/linux/kbus_defns.h"
check "$root/$5/kbus/limpet.h"
check "$root/$5/kbus/compat/libkbus/limpet.h"
for m in man8/kbusd.8 man1/kbus-send.1 man1/kbus-listen.1 man1/kbus-ctl.1 man1/kbus-bench.1 \
         man1/kbus-limpet.1; do
        check "$root/$6/$m"
done
find "$dest" -name kbusd.service | grep -q . || { echo "install-test: no kbusd.service" >&2; exit 1; }
find "$dest" -name kbusd.socket | grep -q . || { echo "install-test: no kbusd.socket" >&2; exit 1; }
find "$dest" -name 'kbus-limpet@.service' | grep -q . ||
        { echo "install-test: no kbus-limpet@.service" >&2; exit 1; }
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

# Programs in the original utilities' style (tests/compat/): a listener, a
# replier, a sender and a timing loop, built with kbus-compat only.
for p in listen reply send time; do
        cc -std=c99 -Wall -Wextra -Werror $san "$src/tests/compat/compat-$p.c" \
                $(pkg-config --cflags --libs kbus-compat) -o "$dest/compat-$p"
done

# Run them and the README's example against the installed kbusd.
sockdir=$dest/run
mkfifo "$dest/ready"
"$root/$3/kbusd" --socket-dir "$sockdir" > "$dest/ready" &
kbusd_pid=$!
read -r line < "$dest/ready"   # "kbusd: bus 0 listening on ...", or EOF if it failed
case $line in *listening*) ;; *) echo "install-test: kbusd did not start" >&2; exit 1 ;; esac
export KBUS_SOCKET_DIR=$sockdir LD_LIBRARY_PATH=$root/$4
out=$("$dest/kitchen")
expected="asked, request id [0:1]
answer: 21.5 from ksock 1
<Reply '\$.Sensors.Kitchen.Temperature' id=[0:2] to=2 from=1 in_reply_to=[0:1] data=21.5>"
[ "$out" = "$expected" ] || { printf 'install-test: kitchen printed:\n%s\n' "$out" >&2; exit 1; }

# compat-listen and compat-reply say "ready" once bound; their output comes
# through a fifo each (fds 3 and 4), read to the end once they exit.
mkfifo "$dest/listen.out" "$dest/reply.out"
"$dest/compat-listen" > "$dest/listen.out" &
listen_pid=$!
exec 3< "$dest/listen.out"
read -r line <&3
[ "$line" = ready ] || { echo "install-test: compat-listen did not start" >&2; exit 1; }
"$dest/compat-reply" > "$dest/reply.out" &
reply_pid=$!
exec 4< "$dest/reply.out"
read -r line <&4
[ "$line" = ready ] || { echo "install-test: compat-reply did not start" >&2; exit 1; }
expect() { # name, what it printed, what it should have
        [ "$2" = "$3" ] || { printf 'install-test: %s printed:\n%s\n' "$1" "$2" >&2; exit 1; }
}
expect compat-send "$("$dest/compat-send")" "sent [0:3]
sent [0:4]
<Reply '\$.Compat.Ask' id=[0:5] to=5 from=4 in_reply_to=[0:4] data=answer>
nobody: Cannot assign requested address
sent [0:6]"
expect compat-listen "$(cat <&3)" "<Announcement '\$.Compat.Hello' id=[0:3] from=5 data=hi>
<Request '\$.Compat.Ask' id=[0:4] from=5 flags=0x1 REQ data=question>
<Reply '\$.Compat.Ask' id=[0:5] to=5 from=4 in_reply_to=[0:4] data=answer>
<Announcement '\$.Compat.Stop' id=[0:6] from=5>"
expect compat-reply "$(sed 's/at 0x[0-9a-f]*/at ADDRESS/' <&4)" "kbus message at ADDRESS (entire, 116 bytes)
  start_guard  7375624b
  id           [0:4]
  in_reply_to  [0:0]
  to           0
  from         5
  orig_from    (0,0)
  final_to     (0,0)
  extra        0
  flags        0x3
  name_len     12
  data_len     8
  name         (nil)
  data         (nil)
  end_guard    4b627573
  the name:    \$.Compat.Ask
  the data:    question
  data bytes:
    71 75 65 73 74 69 6f 6e
  message bytes:
    4b 62 75 73 00 00 00 00 04 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 05 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    03 00 00 00 0c 00 00 00 08 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    73 75 62 4b 00 00 00 00 24 2e 43 6f 6d 70 61 74
    2e 41 73 6b 00 00 00 00 71 75 65 73 74 69 6f 6e
    73 75 62 4b
replied [0:5]"
wait $listen_pid || { echo "install-test: compat-listen failed" >&2; exit 1; }
wait $reply_pid || { echo "install-test: compat-reply failed" >&2; exit 1; }
expect compat-time "$("$dest/compat-time" 2>/dev/null)" "1000 sent, 1000 read back"
kill $kbusd_pid; wait $kbusd_pid
kbusd_pid=
echo "install-test: ok"
