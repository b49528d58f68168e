#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Thousands of ksocks in one Python process: memory per ksock, and the time
to open, use and close them (issue: the binding at production scale).

    /usr/bin/python3 bench/python/scale.py [--ksocks N] [--kbusd PATH]

Starts a private kbusd, raises this process's descriptor limit, then, for
blocking kbus.Ksock and for kbus.aio connections in one event loop: opens N
(default 10,000), binds a name on each, sends one message to every 100th
and reads it, and closes them all.  Prints the process's resident memory
per ksock (VmRSS before and after opening, over N) and each phase's time.
"""

import argparse
import asyncio
import os
import resource
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'python'))
sys.path.insert(0, HERE)

import bench  # noqa: E402  (start_kbusd, stop_child)
import kbus  # noqa: E402
import kbus.aio  # noqa: E402


def rss_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def timed(what, results, fn):
    start = time.perf_counter()
    value = fn()
    results[what] = time.perf_counter() - start
    return value


def blocking(n):
    results = {}
    before = rss_kib()
    ksocks = timed('open', results, lambda: [kbus.Ksock(0) for _ in range(n)])
    results['bytes per ksock'] = (rss_kib() - before) * 1024 / n

    def use():
        for i, k in enumerate(ksocks):
            k.bind('$.Scale.%d' % i)
        for i in range(0, n, 100):
            ksocks[0].send_msg(kbus.Message('$.Scale.%d' % i, b'x'))
        for i in range(0, n, 100):
            assert ksocks[i].read_next_msg().data == b'x'
    timed('bind, send and read', results, use)
    timed('close', results, lambda: [k.close() for k in ksocks])
    return results


def aio(n):
    results = {}

    async def scenario():
        before = rss_kib()
        start = time.perf_counter()
        conns = [await kbus.aio.connect(0) for _ in range(n)]
        results['open'] = time.perf_counter() - start
        results['bytes per ksock'] = (rss_kib() - before) * 1024 / n
        start = time.perf_counter()
        await asyncio.gather(*(c.bind('$.AScale.%d' % i) for i, c in enumerate(conns)))
        await asyncio.gather(*(conns[0].send('$.AScale.%d' % i, b'x') for i in range(0, n, 100)))
        got = await asyncio.gather(*(conns[i].recv() for i in range(0, n, 100)))
        assert all(m.data == b'x' for m in got)
        results['bind, send and read'] = time.perf_counter() - start
        start = time.perf_counter()
        await asyncio.gather(*(c.aclose() for c in conns))
        results['close'] = time.perf_counter() - start
    asyncio.run(scenario())
    return results


def main():
    p = argparse.ArgumentParser(description='Thousands of ksocks in one Python process.')
    p.add_argument('--ksocks', type=int, default=10000)
    p.add_argument('--kbusd', default=os.path.join(ROOT, 'build', 'src', 'broker', 'kbusd'))
    o = p.parse_args()
    # Two descriptors per blocking ksock where it maps kbusd's page (CPython's
    # mmap keeps a copy of the page's descriptor), one per aio connection.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = o.ksocks * 2 + 1000
    if hard != resource.RLIM_INFINITY and hard < need:
        sys.exit('scale.py: %d ksocks need %d descriptors; the hard limit is %d (try '
                 '--ksocks %d)' % (o.ksocks, need, hard, (hard - 1000) // 2))
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    sockdir = tempfile.mkdtemp(prefix='kbus-scale.')
    kbusd = bench.start_kbusd(o.kbusd, sockdir)
    try:
        print('kbus %s from Python %s, %d ksocks in one process'
              % (kbus.__version__, sys.version.split()[0], o.ksocks))
        for label, fn in (('blocking kbus.Ksock', blocking), ('kbus.aio, one loop', aio)):
            r = fn(o.ksocks)
            print('%-20s %6.0f bytes per ksock (RSS)   open %5.2f s   bind, send and read '
                  '%5.2f s   close %5.2f s' % (label, r['bytes per ksock'], r['open'],
                                              r['bind, send and read'], r['close']))
    finally:
        bench.stop_child(kbusd)
        shutil.rmtree(sockdir, ignore_errors=True)


if __name__ == '__main__':
    main()
