#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The packaging test: build the Debian packages (debian/) from a copy of this
# tree, install them, use the installed kbusd, tools, Python package and C
# library, then purge them and check that nothing is left behind.
#
# Usage (as root, on Debian 12): tests/packaging/run.sh
#
# It installs what it needs with apt-get (dpkg-dev, the Build-Depends), and
# installs and purges kbusd, libkbus1, libkbus-dev, kbus-tools and
# python3-kbus, so it refuses to run where any of them is installed already.
# It skips (exit 0, saying why) only when dpkg-buildpackage cannot be had.
# The kbusd it runs is private: its own socket directory, stopped by PID; a
# kbusd running as a service, or any other, is not touched.
# Exit status: 0 passed (or skipped), 1 failed.
#
# shellcheck disable=SC2016  # the strings given to wait_for are eval'd there
# shellcheck disable=SC2046,SC2086  # $PACKAGES and pkg-config's output are word lists
set -eu

PACKAGES="kbusd libkbus1 libkbus-dev kbus-tools python3-kbus"
NAME=packaging
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
unset PYTHONPATH PYTHONHOME

root=$(cd "$(dirname "$0")/../.." && pwd)
start=$(date +%s)
n=0
tmp=""
kbusd_pid=""
listen_pid=""
installed=no

step() {
	n=$((n + 1))
	echo "$NAME: [$n] $*"
}

fail() {
	echo "$NAME: FAIL: $*" >&2
	exit 1
}

# fail, showing the end of a log first
fail_log() {
	log=$1
	shift
	if [ -s "$log" ]; then
		echo "--- last lines of $(basename "$log"):" >&2
		tail -n 30 "$log" >&2
		echo "---" >&2
	fi
	fail "$@"
}

cleanup() {
	status=$?
	trap - EXIT INT TERM HUP
	set +e
	[ -n "$listen_pid" ] && kill "$listen_pid" 2>/dev/null
	if [ -n "$kbusd_pid" ]; then
		kill "$kbusd_pid" 2>/dev/null
		wait "$kbusd_pid" 2>/dev/null
	fi
	if [ "$installed" = yes ]; then
		echo "$NAME: cleanup: purging the packages this run installed" >&2
		apt-get purge -y -q $PACKAGES >/dev/null 2>&1
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The PIDs of processes running the installed kbusd (also once deleted).
installed_kbusd_pids() {
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in
		/usr/sbin/kbusd | "/usr/sbin/kbusd (deleted)") echo "${p#/proc/}" ;;
		esac
	done
}

# Wait up to $2 tenths of a second for the command $1 to succeed.
wait_for() {
	i=0
	while ! eval "$1"; do
		i=$((i + 1))
		[ "$i" -ge "$2" ] && return 1
		sleep 0.1
	done
	return 0
}

# --- 1. dpkg-buildpackage, or a skip
step "dpkg-buildpackage available"
if ! command -v dpkg-buildpackage >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "$NAME: SKIP: dpkg-buildpackage is not installed and cannot be installed here" \
			"(needs root and apt-get)"
		exit 0
	fi
	if ! { apt-get update -q && apt-get install -y -q dpkg-dev; } >/dev/null 2>&1 ||
		! command -v dpkg-buildpackage >/dev/null 2>&1; then
		echo "$NAME: SKIP: dpkg-buildpackage is not installed and apt-get install dpkg-dev failed"
		exit 0
	fi
	echo "$NAME:     installed dpkg-dev"
fi
[ "$(id -u)" -eq 0 ] || fail "must run as root: it installs and purges packages"
for p in $PACKAGES; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $s in
	"" | "unknown ok not-installed" | "purge ok not-installed") ;;
	*) fail "package $p is on this system already ($s): this test installs and purges" \
		"the kbus packages; apt-get purge -y $PACKAGES first" ;;
	esac
done
if [ -e /etc/kbus ]; then
	fail "/etc/kbus exists already: this test checks that purging removes it"
fi
[ -z "$(installed_kbusd_pids)" ] || fail "/usr/sbin/kbusd is running already"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kbus-packaging.XXXXXX")
# apt's download sandbox user (_apt) must read the .debs
chmod 755 "$tmp"

# --- 2. a copy of the source tree: the files git tracks (as they are in the
# working tree, committed or not) and new files it does not ignore; without
# git, the tree minus build directories.
step "copy the source tree"
version=$(cd "$root" && dpkg-parsechangelog -S Version)
src="$tmp/build/kbus-$version"
mkdir -p "$src"
# (safe.directory: root may copy a checkout that another user owns)
if command -v git >/dev/null 2>&1 &&
	git -c safe.directory="$root" -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$root" && git -c safe.directory="$root" ls-files -z --cached --others --exclude-standard --deduplicate |
		xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done; exit 0' sh |
		tar -cf - --null --no-recursion -T -) | tar -xf - -C "$src"
	how="files git tracks or does not ignore"
else
	(cd "$root" && tar -cf - --exclude=./.git --exclude='./build*' --exclude=./debian/build \
		--exclude=./debian/tmp .) | tar -xf - -C "$src"
	how="not a git checkout: the whole tree but build directories"
fi
echo "$NAME:     $(find "$src" -type f | wc -l) files ($how) in $src"
if [ ! -f "$src/debian/control" ] || [ ! -f "$src/meson.build" ]; then
	fail "the copy in $src has no debian/control or meson.build"
fi

# --- 3. build dependencies (as scripts/deps.sh: only when something is missing)
step "build dependencies"
if ! (cd "$src" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
	{ apt-get update -q && apt-get build-dep -y -q "$src"; } >"$tmp/apt-build-dep.log" 2>&1 ||
		fail_log "$tmp/apt-build-dep.log" "apt-get build-dep failed"
	(cd "$src" && dpkg-checkbuilddeps) || fail "build dependencies still missing after apt-get build-dep"
	echo "$NAME:     installed with apt-get build-dep:" \
		"$(sed -n 's/^Setting up \([^ :]*\).*/\1/p' "$tmp/apt-build-dep.log" | wc -l) packages"
fi

# --- 4. build
step "dpkg-buildpackage -us -uc -b"
jobs=$(nproc 2>/dev/null || echo 1)
(cd "$src" && DEB_BUILD_OPTIONS="noautodbgsym parallel=$jobs" dpkg-buildpackage -us -uc -b) \
	>"$tmp/build.log" 2>&1 || fail_log "$tmp/build.log" "dpkg-buildpackage failed"
cd "$tmp/build"
for p in $PACKAGES; do
	ls "${p}"_*.deb >/dev/null 2>&1 || fail "no ${p}_*.deb built"
done
if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error ./*.changes >"$tmp/lintian.log" 2>&1 ||
		fail_log "$tmp/lintian.log" "lintian reports errors"
	echo "$NAME:     lintian: no errors"
fi

# Nothing the packages ship may exist before they are installed (else
# "gone after purge" would prove nothing, and dpkg would overwrite it).
# (Directories, listed with a trailing /, may exist: /usr/bin, /lib, ...)
for deb in ./*.deb; do
	dpkg-deb --fsys-tarfile "$deb" | tar -tf - | sed -e 's|^\./|/|' -e '\|/$|d'
done | sort -u >"$tmp/shipped"
while read -r f; do
	if [ -e "$f" ] || [ -L "$f" ]; then
		fail "$f exists before the packages are installed"
	fi
done <"$tmp/shipped"

# --- 5. install
step "apt-get install -y ./*.deb"
installed=yes
apt-get install -y -q ./*.deb >"$tmp/install.log" 2>&1 || fail_log "$tmp/install.log" "apt-get install failed"
for p in $PACKAGES; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$s" = "install ok installed" ] || fail "$p is not installed ($s)"
done
: >"$tmp/files"
for p in $PACKAGES; do
	dpkg -L "$p" >>"$tmp/files"
done
sort -u -o "$tmp/files" "$tmp/files"
for f in /usr/sbin/kbusd /usr/bin/kbus-send /usr/bin/kbus-listen /usr/bin/kbus-ctl \
	/usr/bin/kbus-limpet /usr/bin/kbus-bench /etc/kbus/policy.conf \
	/lib/systemd/system/kbusd.service /lib/systemd/system/kbusd.socket \
	/lib/systemd/system/kbus-limpet@.service /usr/include/kbus/kbus.h \
	/usr/lib/python3/dist-packages/kbus/__init__.py; do
	grep -qxF "$f" "$tmp/files" || fail "no package ships $f"
done
# The socket is enabled (what starts kbusd), the service itself is not.
[ -L /etc/systemd/system/sockets.target.wants/kbusd.socket ] ||
	fail "kbusd.socket is not enabled (no /etc/systemd/system/sockets.target.wants/kbusd.socket)"
[ ! -e /etc/systemd/system/multi-user.target.wants/kbusd.service ] ||
	fail "kbusd.service is enabled: kbusd.socket should be what starts kbusd"

# --- 6. the installed kbusd, on a private socket directory, with the
# shipped policy file (which must be accepted and change nothing)
step "start /usr/sbin/kbusd --socket-dir DIR --policy /etc/kbus/policy.conf"
export KBUS_SOCKET_DIR="$tmp/sockets"
/usr/sbin/kbusd --socket-dir "$KBUS_SOCKET_DIR" --policy /etc/kbus/policy.conf >"$tmp/kbusd.log" 2>&1 &
kbusd_pid=$!
wait_for '[ -S "$KBUS_SOCKET_DIR/kbus0" ] || ! kill -0 "$kbusd_pid" 2>/dev/null' 100 || true
if [ ! -S "$KBUS_SOCKET_DIR/kbus0" ] || ! kill -0 "$kbusd_pid" 2>/dev/null; then
	fail_log "$tmp/kbusd.log" "kbusd did not start listening on $KBUS_SOCKET_DIR/kbus0"
fi
/usr/bin/kbus-ctl policy >"$tmp/policy.out" 2>&1 || fail_log "$tmp/policy.out" "kbus-ctl policy failed"
grep -q '^# policy: /etc/kbus/policy.conf' "$tmp/policy.out" ||
	fail_log "$tmp/policy.out" "kbusd does not report /etc/kbus/policy.conf as its policy"
if grep -q '# /etc/kbus/policy.conf:[0-9]' "$tmp/policy.out"; then
	fail_log "$tmp/policy.out" "the shipped /etc/kbus/policy.conf has rules: it should change nothing"
fi

# --- 7. the installed tools: kbus-listen hears what kbus-send sends
step "kbus-send to kbus-listen"
/usr/bin/kbus-listen --count 1 --timeout 20 '$.Test.Packaging' >"$tmp/listen.out" 2>"$tmp/listen.err" &
listen_pid=$!
wait_for 'grep -q "listening to" "$tmp/listen.err" || ! kill -0 "$listen_pid" 2>/dev/null' 100 || true
grep -q "listening to" "$tmp/listen.err" || fail_log "$tmp/listen.err" "kbus-listen did not bind its name"
/usr/bin/kbus-send '$.Test.Packaging' 'hello from kbus-send' >"$tmp/send.out" 2>&1 ||
	fail_log "$tmp/send.out" "kbus-send failed"
if ! wait "$listen_pid"; then
	listen_pid=""
	fail_log "$tmp/listen.err" "kbus-listen failed"
fi
listen_pid=""
grep -q 'announcement .*\$\.Test\.Packaging "hello from kbus-send"' "$tmp/listen.out" ||
	fail_log "$tmp/listen.out" "kbus-listen did not print the message kbus-send sent"

# --- the installed kbus-ctl's doctor finds nothing wrong with the installed kbusd and policy
step "kbus-ctl doctor, version"
/usr/bin/kbus-ctl doctor --policy /etc/kbus/policy.conf >"$tmp/doctor.out" 2>&1 ||
	fail_log "$tmp/doctor.out" "kbus-ctl doctor found a problem"
version=$(dpkg-query -W -f='${Version}' kbusd)
[ "$(/usr/bin/kbus-ctl version)" = "kbusd $version" ] ||
	fail "kbus-ctl version says '$(/usr/bin/kbus-ctl version)', the package is $version"

# --- 8. the installed Python package, from outside the source tree, with no
# PYTHONPATH (-I: no environment PYTHON* variables, no user site, no cwd)
step "python3 -c 'import kbus; ...' (installed package)"
(cd "$tmp" && /usr/bin/python3 -I -c '
import kbus
from kbus import Ksock, Message
where = "/usr/lib/python3/dist-packages/kbus/"
assert kbus.__file__.startswith(where), "kbus imported from %s, not %s" % (kbus.__file__, where)
name = "$.Test.Packaging.Python"
listener, sender = Ksock(0), Ksock(0)
listener.bind(name)
sent = sender.send_msg(Message(name, "hello from python"))
got = listener.wait_for_msg(10)
assert got is not None, "no message within 10 s"
assert got.name == name and got.data == "hello from python" and got.id == sent, got
listener.close()
sender.close()
print("received", got)
') >"$tmp/python.out" 2>&1 || fail_log "$tmp/python.out" "the Python binding could not send and receive"

# --- 9. the README's C example, built with pkg-config against the
# installed libkbus-dev and run against the private kbusd
step "cc README C example \$(pkg-config --cflags --libs kbus) and run it"
awk '/^## Using kbus from C/ { s = 1 } s == 1 && /^```c$/ { s = 2; next }
	s == 2 && /^```$/ { exit } s == 2 { print }' "$root/README.md" >"$tmp/readme-example.c"
if grep -q 'int main' "$tmp/readme-example.c"; then
	example="$tmp/readme-example.c"
else
	echo "$NAME:     no C program in README.md's 'Using kbus from C': using examples/c/kitchen.c"
	example="$root/examples/c/kitchen.c"
fi
cp "$example" "$tmp/kitchen.c"
(cd "$tmp" && cc -Wall -Werror -o kitchen kitchen.c $(pkg-config --cflags --libs kbus)) \
	>"$tmp/cc.log" 2>&1 || fail_log "$tmp/cc.log" "the C example does not build against the installed kbus.pc"
ldd "$tmp/kitchen" | grep -Eq 'libkbus\.so\.1 => (/usr)?/lib/[^ ]+/libkbus\.so\.1 ' ||
	fail "the C example is not linked with the installed libkbus.so.1"
"$tmp/kitchen" >"$tmp/kitchen.out" 2>&1 || fail_log "$tmp/kitchen.out" "the C example failed"
grep -q '^answer: 21.5 from ksock' "$tmp/kitchen.out" ||
	fail_log "$tmp/kitchen.out" "the C example did not get its answer"
# the original KBUS include paths, through kbus-compat.pc
cat >"$tmp/compat.c" <<'EOF'
#include <libkbus/kbus.h>
int main(void)
{
	kbus_ksock_t ks = kbus_ksock_open(0, O_RDWR);
	if (ks < 0)
		return 1;
	return kbus_ksock_close(ks) < 0;
}
EOF
(cd "$tmp" && cc -Wall -o compat compat.c $(pkg-config --cflags --libs kbus-compat) && ./compat) \
	>"$tmp/compat.log" 2>&1 || fail_log "$tmp/compat.log" "a program using kbus-compat.pc does not build or run"

# --- 10. stop kbusd
step "stop kbusd (pid $kbusd_pid)"
kill -TERM "$kbusd_pid"
st=0
wait "$kbusd_pid" || st=$?
kbusd_pid=""
[ "$st" -eq 0 ] || fail_log "$tmp/kbusd.log" "kbusd exited with status $st on SIGTERM"
[ ! -e "$KBUS_SOCKET_DIR/kbus0" ] || fail "kbusd left its socket $KBUS_SOCKET_DIR/kbus0"
[ -z "$(installed_kbusd_pids)" ] || fail "a /usr/sbin/kbusd process is still running"

# --- 11. purge, and check that nothing is left
step "apt-get purge -y $PACKAGES"
apt-get purge -y -q $PACKAGES >"$tmp/purge.log" 2>&1 || fail_log "$tmp/purge.log" "apt-get purge failed"
installed=no
for p in $PACKAGES; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $s in
	"" | "unknown ok not-installed" | "purge ok not-installed") ;;
	*) fail "$p is still known to dpkg after purge ($s)" ;;
	esac
done
# Every path the packages had is gone, but for directories other packages own.
left=""
while read -r f; do
	[ "$f" = /. ] && continue
	if [ -e "$f" ] || [ -L "$f" ]; then
		if [ -d "$f" ] && dpkg-query -S "$f" >/dev/null 2>&1; then
			continue
		fi
		left="$left $f"
	fi
done <"$tmp/files"
[ -z "$left" ] || fail "left behind after purge:$left"
[ ! -e /etc/kbus ] || fail "/etc/kbus is still there after purge"
for f in /etc/systemd/system/kbus* /etc/systemd/system/*/kbus* \
	/var/lib/systemd/deb-systemd-helper-enabled/*kbus* \
	/var/lib/systemd/deb-systemd-helper-enabled/*/kbus* /var/lib/systemd/deb-systemd-helper-masked/*kbus* \
	/var/lib/dpkg/info/kbusd.* /var/lib/dpkg/info/libkbus* /var/lib/dpkg/info/kbus-tools.* \
	/var/lib/dpkg/info/python3-kbus.*; do
	if [ -e "$f" ] || [ -L "$f" ]; then
		fail "left behind after purge: $f"
	fi
done
[ -z "$(installed_kbusd_pids)" ] || fail "a /usr/sbin/kbusd process is running after purge"

echo "$NAME: PASS ($(($(date +%s) - start)) s)"
