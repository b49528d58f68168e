# SPDX-License-Identifier: MPL-2.0
"""The Python binding at production scale: past 1,024 descriptors, thousands
of ksocks, threads and forks (python/README.md, "Threads, fork and
descriptors").  Each test bounds itself in time; the full-size figures
(10,000 ksocks, memory per ksock) are bench/python/scale.py's.
"""

import asyncio
import os
import resource
import threading
import time
import unittest

from kbusd_harness import KbusdTestCase
from kbus import Ksock, Message
import kbus.aio

MANY_KSOCKS = 2000   # bench/python/scale.py does 10,000
MANY_AIO = 5000
THREADS = 8
PER_THREAD = 10000
LIMIT = 120.0        # seconds for any one scenario


def raise_fd_limit(need):
    """Raise this process's soft RLIMIT_NOFILE to at least @need (skip if the hard one is lower)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        raise unittest.SkipTest('RLIMIT_NOFILE hard limit %d is below %d' % (hard, need))
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


class DescriptorTest(KbusdTestCase):
    """A process that already holds more than 1,024 descriptors (select() cannot wait on them)."""

    def setUp(self):
        super().setUp()
        raise_fd_limit(4096)
        self.pipes = [os.pipe() for _ in range(600)]  # 1,200 descriptors
        self.addCleanup(lambda: [os.close(fd) for pair in self.pipes for fd in pair])

    def test_blocking_ksock_above_1024(self):
        listener, sender = self.open(), self.open()
        self.assertGreater(listener.fileno(), 1024)
        listener.bind('$.High')
        self.assertIsNone(listener.wait_for_msg(0.05))  # waits on a descriptor past 1024
        sender.send_msg(Message('$.High', b'x'))
        self.assertEqual(listener.wait_for_msg(5).data, b'x')
        listener.close()  # close() waits for kbusd too
        sender.close()

    def test_aio_above_1024(self):
        async def scenario():
            replier = await kbus.aio.connect(0)
            asker = await kbus.aio.connect(0)
            self.assertGreater(asker._sock.fileno(), 1024)
            await replier.bind('$.High.Ask', True)

            async def serve():
                msg = await replier.recv()
                await replier.reply(msg, b'answer')
            serving = asyncio.ensure_future(serve())
            reply = await asyncio.wait_for(asker.request('$.High.Ask', b'q'), 10)
            await serving
            self.assertEqual(reply.data, b'answer')
            await asker.aclose()
            await replier.aclose()
        asyncio.run(asyncio.wait_for(scenario(), LIMIT))


class ManyKsocksTest(KbusdTestCase):
    """Thousands of blocking ksocks in one process, opened, used and closed."""

    def test_many(self):
        raise_fd_limit(2 * MANY_KSOCKS + 1500)  # a page-mapping Ksock holds two (python/README.md)
        ksocks = [Ksock(0) for _ in range(MANY_KSOCKS)]
        try:
            for i, k in enumerate(ksocks):
                k.bind('$.Many.%d' % i)
            sender = ksocks[0]
            for i in range(0, MANY_KSOCKS, 97):
                sender.send_msg(Message('$.Many.%d' % i, b'%d' % i))
            for i in range(0, MANY_KSOCKS, 97):
                self.assertEqual(ksocks[i].read_next_msg().data, b'%d' % i)
            self.assertEqual(sum(k.num_messages() for k in ksocks[:10]), 0)
        finally:
            start = time.monotonic()
            for k in ksocks:
                k.close()
            took = time.monotonic() - start
        # Not a speed test: a bound that only a fixed wait per close (the bug
        # this guards against) would break, at 5 ms a close.
        self.assertLess(took, MANY_KSOCKS * 0.005)


class ThreadTest(KbusdTestCase):
    """One ksock per thread, concurrently; one ksock shared is refused, never mixed."""

    def test_ksock_per_thread(self):
        failures = []

        def run(i):
            try:
                with Ksock(0) as k:
                    k.set_max_messages(200)
                    k.bind('$.Thread.%d' % i)
                    for start in range(0, PER_THREAD, 100):
                        for j in range(start, start + 100):
                            k.send_msg(Message('$.Thread.%d' % i, b'%d:%d' % (i, j)))
                        for j in range(start, start + 100):
                            got = k.read_next_msg()
                            if got is None or got.data != b'%d:%d' % (i, j):
                                failures.append((i, j, got))
                                return
                    if k.read_next_msg() is not None:
                        failures.append((i, 'extra message'))
            except Exception as e:  # noqa: BLE001 (reported below, with its thread)
                failures.append((i, e))
        threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(LIMIT)
            self.assertFalse(t.is_alive())
        self.assertEqual(failures, [])

    def test_shared_ksock_refused_while_in_use(self):
        listener, sender = self.open(), self.open()
        listener.bind('$.Shared')
        got = []
        waiting = threading.Thread(target=lambda: got.append(listener.wait_for_msg(10)))
        waiting.start()
        deadline = time.monotonic() + 10
        while listener._thread is None and time.monotonic() < deadline:
            time.sleep(0.001)  # until the other thread is inside wait_for_msg()
        with self.assertRaisesRegex(RuntimeError, 'in use by another thread'):
            listener.num_messages()
        with self.assertRaisesRegex(RuntimeError, 'in use by another thread'):
            listener.bind('$.Other')
        sender.send_msg(Message('$.Shared', b'for the waiter'))
        waiting.join(10)
        self.assertEqual([m.data for m in got], [b'for the waiter'])
        # Once the other thread is out, this one may use it: nothing was mixed up.
        self.assertEqual(listener.num_messages(), 0)
        listener.bind('$.Other')
        sender.send_msg(Message('$.Other', b'next'))
        self.assertEqual(listener.read_next_msg().data, b'next')


class ForkTest(KbusdTestCase):
    """A child's inherited ksocks: closing them, or exiting, leaves the parent's working."""

    def fork_and_wait(self, child):
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                status = child()
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def test_child_closes_inherited_ksock(self):
        mine, sender = self.open(), self.open()
        mine.bind('$.Parent')

        def child():
            mine.close()
            sender.close()
            return 0
        self.assertEqual(self.fork_and_wait(child), 0)
        sender.send_msg(Message('$.Parent', b'still here'))
        self.assertEqual(mine.read_next_msg().data, b'still here')
        self.assertEqual([b.name for b in mine.bindings() if b.ksock_id == mine.ksock_id()],
                         ['$.Parent'])

    def test_child_exits_with_inherited_ksock(self):
        mine, sender = self.open(), self.open()
        mine.bind('$.Parent')
        pid = os.fork()
        if pid == 0:
            os._exit(0)  # no close at all: the kernel closes the child's descriptors
        os.waitpid(pid, 0)
        pid = os.fork()
        if pid == 0:
            del mine  # the child's last reference goes: __del__ closes its copy
            import gc
            gc.collect()
            os._exit(0)
        os.waitpid(pid, 0)
        sender.send_msg(Message('$.Parent', b'still here'))
        self.assertEqual(mine.read_next_msg().data, b'still here')

    def test_aio_unusable_in_child(self):
        async def scenario():
            conn = await kbus.aio.connect(0)
            await conn.bind('$.Aio.Parent')
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                try:
                    conn._check_usable()
                    verdict = b'usable'
                except RuntimeError as e:
                    verdict = b'refused' if b'fork()' in str(e).encode() else b'wrong error'
                try:
                    conn.post('$.Aio.Parent', b'from the child')
                    verdict += b', post went'
                except RuntimeError:
                    pass
                conn.close()
                os.write(w, verdict)
                os._exit(0)
            os.close(w)
            os.waitpid(pid, 0)
            self.assertEqual(os.read(r, 100), b'refused')
            os.close(r)
            with Ksock(0) as sender:
                sender.send_msg(Message('$.Aio.Parent', b'parent still works'))
            self.assertEqual((await asyncio.wait_for(conn.recv(), 10)).data,
                             b'parent still works')
            await conn.aclose()
        asyncio.run(asyncio.wait_for(scenario(), LIMIT))


class AioScaleTest(KbusdTestCase):
    """One event loop, thousands of kbus.aio connections, each making a request."""

    def test_many_connections(self):
        raise_fd_limit(MANY_AIO + 1500)

        async def scenario():
            replier = await kbus.aio.connect(0)
            await replier.set_max_messages(MANY_AIO + 10)
            await replier.bind('$.Scale.Ask', True)

            async def serve():
                async for msg in replier:
                    await replier.reply(msg, msg.data)
            serving = asyncio.ensure_future(serve())
            conns = []
            for _ in range(MANY_AIO):
                conns.append(await kbus.aio.connect(0))
            replies = await asyncio.gather(*(c.request('$.Scale.Ask', b'%d' % i)
                                             for i, c in enumerate(conns)))
            self.assertEqual([r.data for r in replies], [b'%d' % i for i in range(MANY_AIO)])
            for c in conns:
                c.close()
            serving.cancel()
            await replier.aclose()
        asyncio.run(asyncio.wait_for(scenario(), LIMIT))


if __name__ == '__main__':
    unittest.main()
