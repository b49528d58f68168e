#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""kbus beside its peers, in C and from asyncio Python (bench/compare/run.sh).

The C table (cside.py) runs every system through its own C library.  The
Python table runs the same workload for each: a 64-byte request and its 64-byte answer
between two processes, one at a time (round trip p50, p99) and with 64 in
flight (requests per second, and the requester's CPU per request):

- raw: a plain asyncio Unix socket to an echo server (the ceiling);
- kbus: kbus.aio, through a private kbusd;
- zmq: pyzmq DEALER to a ROUTER echo over ipc:// (no broker at all);
- dbus: dbus-next method calls through a private dbus-daemon.

The kinds run in interleaved rounds (raw, kbus, zmq, dbus, raw, ...) so
each sees the machine in the same moods; each figure is the median of its
rounds, and the ratios are to raw.  Servers are private (temporary socket
directory) and stopped by PID.  Peers whose Python module or daemon is
missing are left out with a line saying so.
"""

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'bench', 'python'))

import bench  # noqa: E402  (bench/python/bench.py: raw and kbus, and the timing)
import cside  # noqa: E402  (the C half)

ROUNDS = 3
DBUS_NAME = 'org.kbus.Bench'
DBUS_PATH = '/org/kbus/Bench'


# ---- servers, as child processes ---------------------------------------------

def zmq_server(path):
    import zmq
    sock = zmq.Context().socket(zmq.ROUTER)
    sock.bind('ipc://' + path)
    print('ready', flush=True)
    while True:
        sock.send_multipart(sock.recv_multipart())


async def dbus_server(address):
    from dbus_next.aio import MessageBus
    from dbus_next.service import ServiceInterface, method

    class Bench(ServiceInterface):
        def __init__(self):
            super().__init__(DBUS_NAME)

        @method()
        def Echo(self, data: 'ay') -> 'ay':  # noqa: F821 (a D-Bus signature)
            return data

    bus = await MessageBus(bus_address=address).connect()
    bus.export(DBUS_PATH, Bench())
    await bus.request_name(DBUS_NAME)
    print('ready', flush=True)
    await asyncio.Event().wait()


def child(role, arg):
    if role == 'zmq':
        zmq_server(arg)
    else:
        asyncio.run(dbus_server(arg))


def start_child(role, arg):
    """This file's server @role, as a child process (bench.start_child())."""
    return bench.start_child(role, arg, script=__file__)


# ---- clients ---------------------------------------------------------------------

async def zmq_figures(path, n, req):
    import zmq
    import zmq.asyncio
    sock = zmq.asyncio.Context().socket(zmq.DEALER)
    sock.connect('ipc://' + path)
    waiters = []

    async def read():
        while True:
            await sock.recv()
            waiters.pop(0).set_result(None)

    reader = asyncio.ensure_future(read())

    def request():
        fut = asyncio.get_running_loop().create_future()
        waiters.append(fut)
        sock.send(bench.PAYLOAD, copy=True)
        return fut

    try:
        return await bench.figures(request, n, req)
    finally:
        reader.cancel()
        sock.close(linger=0)


async def dbus_figures(address, n, req):
    from dbus_next import Message
    from dbus_next.aio import MessageBus
    bus = await MessageBus(bus_address=address).connect()

    def request():
        return bus.call(Message(destination=DBUS_NAME, path=DBUS_PATH, interface=DBUS_NAME,
                                member='Echo', signature='ay', body=[bench.PAYLOAD]))

    try:
        return await bench.figures(request, n, req)
    finally:
        bus.disconnect()


# ---- the private daemons -----------------------------------------------------

def start_dbus(sockdir):
    """A private dbus-daemon listening in @sockdir: (process, address), or None."""
    if not shutil.which('dbus-daemon'):
        return None
    conf = os.path.join(sockdir, 'dbus.conf')
    with open(conf, 'w') as f:
        f.write('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0'
                '//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
                '<busconfig><type>session</type><listen>unix:path=%s/dbus</listen>'
                '<auth>EXTERNAL</auth><policy context="default">'
                '<allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>'
                '<allow own="*"/></policy></busconfig>\n'
                % sockdir)
    proc = subprocess.Popen(['dbus-daemon', '--config-file=' + conf, '--nofork',
                             '--print-address'], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    address = proc.stdout.readline().strip()
    return proc, address


def have(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        child(sys.argv[2], sys.argv[3])
        return
    p = argparse.ArgumentParser(description='kbus beside its peers, from asyncio Python.')
    p.add_argument('--kbusd', default=os.path.join(ROOT, 'build', 'src', 'broker', 'kbusd'))
    p.add_argument('--round-trips', type=int, default=6000)
    p.add_argument('--requests', type=int, default=15000)
    p.add_argument('--c-peers', metavar='DIR', help='the built c/peer-* programs')
    p.add_argument('--kbus-bench', default=os.path.join(ROOT, 'build', 'tools', 'kbus-bench'))
    p.add_argument('--c-round-trips', type=int, default=20000)
    p.add_argument('--only', choices=('c', 'python'))
    o = p.parse_args()
    sockdir = tempfile.mkdtemp(prefix='kbus-compare.')
    try:
        dbus = start_dbus(sockdir)
        try:
            if o.only != 'python':
                c_table(o, sockdir, dbus)
            if o.only != 'c':
                python_table(o, sockdir, dbus if have('dbus_next') else None)
        finally:
            if dbus:
                bench.stop_child(dbus[0])
    finally:
        shutil.rmtree(sockdir, ignore_errors=True)


def c_table(o, sockdir, dbus):
    side = cside.CSide(o.c_peers, o.kbus_bench, o.kbusd, sockdir, dbus)
    runs = {}
    try:
        for _ in range(ROUNDS):
            for workload in cside.WORKLOADS:
                for system in side.systems:
                    runs.setdefault((system, workload), []).append(
                        side.measure(system, workload, o.c_round_trips))
    finally:
        side.stop()
    cside.report(side.systems, {k: tuple(map(statistics.median, zip(*v)))
                                for k, v in runs.items()}, side.missing, o.c_round_trips, ROUNDS)
    print()


def python_table(o, sockdir, dbus):
    kbusd = bench.start_kbusd(o.kbusd, sockdir)
    kinds = ['raw', 'kbus'] + (['zmq'] if have('zmq') else []) + (['dbus'] if dbus else [])
    runs = {kind: [] for kind in kinds}
    n, req = o.round_trips // ROUNDS, o.requests // ROUNDS
    try:
        for _ in range(ROUNDS):
            for kind in kinds:
                runs[kind].append(measure(kind, sockdir, dbus, n, req))
    finally:
        bench.stop_child(kbusd)
    report(kinds, {k: tuple(map(statistics.median, zip(*v))) for k, v in runs.items()}, o)


def measure(kind, sockdir, dbus, n, req):
    """One round of @kind: (p50 us, p99 us, req/s, CPU us/req)."""
    if kind == 'raw':
        path = os.path.join(sockdir, 'echo')
        server = bench.start_child('raw', path)
        try:
            return asyncio.run(bench.raw_figures(path, n, req))
        finally:
            bench.stop_child(server)
            os.unlink(path)
    if kind == 'kbus':
        server = bench.start_child('replier')
        try:
            return asyncio.run(bench.aio_figures(n, req))
        finally:
            bench.stop_child(server)
    if kind == 'zmq':
        path = os.path.join(sockdir, 'zmq')
        server = start_child('zmq', path)
        try:
            return asyncio.run(zmq_figures(path, n, req))
        finally:
            bench.stop_child(server)
    server = start_child('dbus', dbus[1])
    try:
        return asyncio.run(dbus_figures(dbus[1], n, req))
    finally:
        bench.stop_child(server)


LABELS = {'raw': 'raw asyncio Unix socket', 'kbus': 'kbus.aio + kbusd',
          'zmq': 'pyzmq DEALER/ROUTER ipc', 'dbus': 'dbus-next + dbus-daemon'}


def report(kinds, rows, o):
    print('asyncio Python %s, 64-byte request and answer, %d round trips and %d requests with '
          '64 in flight, %d interleaved rounds (medians)'
          % (sys.version.split()[0], o.round_trips, o.requests, ROUNDS))
    print('| | p50 | p99 | req/s, 64 in flight | requester CPU/req | p50 vs raw | rate vs raw |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    raw = rows['raw']
    for kind in kinds:
        p50, p99, rate, cpu = rows[kind]
        print('| %s | %.0f us | %.0f us | %.0f | %.1f us | %.2fx | %.2f |'
              % (LABELS[kind], p50, p99, rate, cpu, p50 / raw[0], rate / raw[2]))
    for kind, what in (('zmq', 'python3-zmq'), ('dbus', 'python3-dbus-next and dbus-daemon')):
        if kind not in kinds:
            print('(%s left out: %s not installed)' % (LABELS[kind], what))


if __name__ == '__main__':
    main()
