#!/bin/sh
# The run command: install what is missing, build, start kbusd on the
# default bus, and show messages flowing: a bus monitor (kbus-listen '$.*'),
# a replier, one announcement and one request.  kbusd then stays in the
# foreground with the monitor printing; Ctrl-C stops both (and kbusd
# removes its socket).  Extra arguments go to kbusd.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
bin=build/tools
tmp=$(mktemp -d /tmp/kbus-run.XXXXXX)
pids=
stop() {
        trap - INT TERM EXIT
        [ -n "$pids" ] && kill $pids 2>/dev/null
        wait 2>/dev/null
        rm -rf "$tmp"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

mkfifo "$tmp/ready"
build/src/broker/kbusd "$@" > "$tmp/ready" &
kbusd=$!
pids=$kbusd
read -r line < "$tmp/ready" || true
case $line in
*listening*) echo "$line" ;;
*) echo "run: kbusd did not start (is another kbusd serving bus 0?)" >&2; exit 1 ;;
esac
busdir=$(dirname "${line##* listening on }")
export KBUS_SOCKET_DIR="$busdir"

bound() { "$bin/kbus-ctl" bindings 2>/dev/null | grep -qF "$1"; }
wait_bound() {
        for i in $(seq 200); do bound "$1" && return 0; sleep 0.05; done
        echo "run: '$1' was never bound" >&2; exit 1
}

echo "== a bus monitor: kbus-listen '\$.*' (its lines are marked 'monitor:')"
"$bin/kbus-listen" --quiet '$.*' | sed -u 's/^/   monitor: /' &
pids="$pids $!"
wait_bound '$.*'
echo "== a replier: kbus-listen --replier --exec 'date ...' '\$.Demo.Time'"
"$bin/kbus-listen" --quiet --replier --exec 'printf "it is %s" "$(date +%H:%M:%S)"' \
        '$.Demo.Time' > /dev/null &
pids="$pids $!"
wait_bound '$.Demo.Time'

echo "== kbus-send '\$.Demo.Hello' 'hello, bus'"
"$bin/kbus-send" '$.Demo.Hello' 'hello, bus' > /dev/null
echo "== kbus-send --request '\$.Demo.Time' 'what time is it?'  (it prints the reply)"
"$bin/kbus-send" --request --timeout 5 '$.Demo.Time' 'what time is it?' | tail -n 1 |
        sed 's/^/   kbus-send: /'
echo "== kbus-ctl bindings"
"$bin/kbus-ctl" bindings
echo "== kbusd keeps running on $busdir/kbus0; try '$bin/kbus-send \$.Demo.Hello hi' in"
echo "   another terminal (with KBUS_SOCKET_DIR=$busdir). Ctrl-C stops it."
wait $kbusd
