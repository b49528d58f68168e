#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""kbus from Python beside a plain Unix socket, in one run (docs: README "Speed").

Usage: bench/python/bench.py [--kbusd PATH] [--round-trips N] [--requests N]
                             [--messages N] [--only NAME]

Starts a private kbusd on a temporary socket directory and measures, with
64-byte payloads:

- raw: a request/reply round trip over a plain asyncio Unix socket to an
  echo server (asyncio.Protocol on both sides): the ceiling for Python;
- aio: the same through kbusd with kbus.aio (requester and replier);
- ksock: the requester with the blocking kbus.Ksock instead;
- for raw and aio also requests per second with 64 in flight, and the
  requester's CPU per request;
- post: pipelined announcements posted from Python (kbus.aio post()),
  received by a Python process, in messages per second.

Each figure runs in its own processes; the round-trip figures in three
interleaved rounds (raw, aio, ksock, raw, ...), reported as medians.  The
ratios are to the raw socket of the same run.  Machines are noisy: compare
within a run.
"""

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'python'))

import kbus  # noqa: E402
import kbus.aio  # noqa: E402

PAYLOAD = b'x' * 64
NAME = '$.Bench.Ask'
ANNOUNCE = '$.Bench.Data'
IN_FLIGHT = 64
ROUNDS = 3


# ---- the two servers, run as child processes -------------------------------

class Echo(asyncio.Protocol):
    """Echoes whole 64-byte requests."""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def raw_server(path):
    loop = asyncio.get_running_loop()
    server = await loop.create_unix_server(Echo, path)
    print('ready', flush=True)
    await asyncio.Event().wait()
    server.close()


async def kbus_replier():
    """Answers each request in a task of its own, as a server with many clients would."""
    async with await kbus.aio.connect(0) as k:
        await k.bind(NAME, True)
        print('ready', flush=True)
        tasks = set()
        async for msg in k:
            task = asyncio.ensure_future(k.reply(msg, msg.data))
            tasks.add(task)
            task.add_done_callback(tasks.discard)


async def kbus_receiver(count):
    """Counts @count announcements, once told to start (until then they wait in kbusd)."""
    async with await kbus.aio.connect(0) as k:
        await k.set_max_messages(1 << 20)
        await k.bind(ANNOUNCE)
        print('ready', flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        got = 0
        last = time.monotonic()
        while got < count:
            msg = await k.wait_for_msg(3)
            if msg is None:
                break
            got += 1
            last = time.monotonic()
        print('got %d %.9f' % (got, last), flush=True)


def child(role, arg):
    if role == 'raw':
        asyncio.run(raw_server(arg))
    elif role == 'replier':
        asyncio.run(kbus_replier())
    else:
        asyncio.run(kbus_receiver(int(arg)))


def start_child(role, arg='', script=__file__):
    """Run @script's --child @role @arg; return once it says it is ready."""
    proc = subprocess.Popen([sys.executable, script, '--child', role, arg],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != 'ready':
        raise RuntimeError('the %s did not start' % role)
    return proc


def stop_child(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait()


# ---- the clients -------------------------------------------------------------

class RawClient(asyncio.Protocol):
    """Requests over a plain socket: each 64-byte answer resolves the oldest waiter."""

    def __init__(self):
        self.waiters = []
        self.have = bytearray()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.have += data
        while len(self.have) >= len(PAYLOAD):
            del self.have[:len(PAYLOAD)]
            self.waiters.pop(0).set_result(None)

    def request(self):
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        self.transport.write(PAYLOAD)
        return fut


async def raw_figures(path, rtt_n, req_n):
    loop = asyncio.get_running_loop()
    _, client = await loop.create_unix_connection(RawClient, path)
    return await figures(client.request, rtt_n, req_n)


async def aio_figures(rtt_n, req_n):
    async with await kbus.aio.connect(0) as k:
        return await figures(lambda: k.request(NAME, PAYLOAD), rtt_n, req_n)


async def figures(request, rtt_n, req_n):
    """(p50 us, p99 us, requests/s with IN_FLIGHT outstanding, requester CPU us/request)."""
    for _ in range(100):
        await request()
    times = []
    for _ in range(rtt_n):
        t = time.perf_counter()
        await request()
        times.append(time.perf_counter() - t)
    times.sort()

    async def worker(n):
        for _ in range(n):
            await request()
    cpu, t = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(req_n // IN_FLIGHT) for _ in range(IN_FLIGHT)))
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    done = req_n // IN_FLIGHT * IN_FLIGHT
    return (times[len(times) // 2] * 1e6, times[len(times) * 99 // 100] * 1e6, done / elapsed,
            cpu / done * 1e6)


def ksock_rtt(rtt_n):
    with kbus.Ksock(0) as k:
        times = []
        for i in range(rtt_n + 100):
            t = time.perf_counter()
            k.send_msg(kbus.Request(NAME, PAYLOAD))
            k.wait_for_msg()
            if i >= 100:
                times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1e6, times[len(times) * 99 // 100] * 1e6


async def post_rate(n):
    """Announcements posted from Python (kbus.aio post()): (msgs/s, lost).

    The rate is the sender's: from the first post until kbusd has queued the
    last (a sent marker's answer comes after them).  The receiver, which may
    be slower, counts them afterwards, so that it does not share the CPU.
    """
    rx = start_child('receiver', str(n + 1))
    async with await kbus.aio.connect(0) as k:
        t = time.perf_counter()
        for i in range(n):
            k.post(ANNOUNCE, PAYLOAD)
            if i % 256 == 255:
                await asyncio.sleep(0)  # let the loop write them
        await k.send(ANNOUNCE, b'marker')
        elapsed = time.perf_counter() - t
    rx.stdin.write('go\n')
    rx.stdin.flush()
    got = int(rx.stdout.readline().split()[1])
    rx.wait()
    return n / elapsed, n + 1 - got


# ---- the run -------------------------------------------------------------------

def start_kbusd(kbusd, sockdir):
    proc = subprocess.Popen([kbusd, '--socket-dir', sockdir, '--buses', '1'],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while 'listening on' not in proc.stdout.readline():
        if proc.poll() is not None:
            raise RuntimeError('kbusd did not start')
    os.environ['KBUS_SOCKET_DIR'] = sockdir
    return proc


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        child(sys.argv[2], sys.argv[3])
        return
    p = argparse.ArgumentParser(description='kbus from Python beside a plain Unix socket.')
    p.add_argument('--kbusd', default=os.path.join(ROOT, 'build', 'src', 'broker', 'kbusd'))
    p.add_argument('--round-trips', type=int, default=5000)
    p.add_argument('--requests', type=int, default=20000)
    p.add_argument('--messages', type=int, default=200000)
    p.add_argument('--only', choices=['raw', 'aio', 'ksock', 'post'])
    o = p.parse_args()
    sockdir = tempfile.mkdtemp(prefix='kbus-pybench.')
    kbusd = start_kbusd(o.kbusd, sockdir)
    rows = {}
    try:
        for _ in range(ROUNDS):  # interleaved: each kind sees the machine in the same moods
            run_round(o, sockdir, rows)
        if o.only in (None, 'post'):
            rows['post'] = [asyncio.run(post_rate(o.messages))]
    finally:
        kbusd.terminate()
        kbusd.wait()
        shutil.rmtree(sockdir, ignore_errors=True)
    report({name: median_row(runs) for name, runs in rows.items()}, o)


def run_round(o, sockdir, rows):
    """One measurement of each round-trip figure asked for, appended to @rows."""
    n, req = o.round_trips // ROUNDS, o.requests // ROUNDS
    if o.only in (None, 'raw'):
        path = os.path.join(sockdir, 'echo')
        server = start_child('raw', path)
        rows.setdefault('raw', []).append(asyncio.run(raw_figures(path, n, req)))
        stop_child(server)
        os.unlink(path)
    if o.only in (None, 'aio', 'ksock'):
        replier = start_child('replier')
        if o.only in (None, 'aio'):
            rows.setdefault('aio', []).append(asyncio.run(aio_figures(n, req)))
        if o.only in (None, 'ksock'):
            rows.setdefault('ksock', []).append(ksock_rtt(n))
        stop_child(replier)


def median_row(runs):
    """Each figure's median over the rounds."""
    return tuple(statistics.median(values) for values in zip(*runs))


def report(rows, o):
    print('kbus %s from Python %s, 64-byte payloads, %d round trips, %d requests with %d in '
          'flight, in %d interleaved rounds (medians)'
          % (kbus.__version__, sys.version.split()[0], o.round_trips, o.requests, IN_FLIGHT,
             ROUNDS))
    raw = rows.get('raw')
    for name, label in (('raw', 'raw asyncio Unix socket'), ('aio', 'kbus.aio + kbusd')):
        if name in rows:
            p50, p99, rate, cpu = rows[name]
            ratio = '  %.2fx raw, %.2f of its rate' % (p50 / raw[0], rate / raw[2]) if raw else ''
            print('%-24s p50 %7.1f us  p99 %7.1f us  %8.0f req/s  CPU %6.1f us/req%s'
                  % (label, p50, p99, rate, cpu, ratio))
    if 'ksock' in rows:
        p50, p99 = rows['ksock']
        ratio = '  %.2fx raw' % (p50 / raw[0]) if raw else ''
        print('%-24s p50 %7.1f us  p99 %7.1f us%s' % ('kbus.Ksock (blocking)', p50, p99, ratio))
    if 'post' in rows:
        rate, lost = rows['post']
        print('%-24s %8.0f msgs/s  lost %d' % ('announcements from aio', rate, lost))


if __name__ == '__main__':
    main()
