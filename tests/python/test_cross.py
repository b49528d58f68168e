# SPDX-License-Identifier: MPL-2.0
"""Python and C on one bus: each side answers the other's requests.

The C side is tests/python/c/kbus-ask.c and kbus-answer.c, built against
libkbus by meson (paths in $KBUS_TEST_ASK, $KBUS_TEST_ANSWER), or compiled
here with cc from the build tree when run without meson; and the README's
kitchen example ($KBUS_EXAMPLE).
"""

import asyncio
import os
import shutil
import subprocess
import tempfile
import unittest

from kbusd_harness import (BUILD_ROOT, SOURCE_ROOT, KbusdTestCase, stop_process,
                           wait_for_line)
from kbus import Request, reply_to
import kbus.aio

TIMEOUT = 30


def build_helper(name, outdir):
    """Compile tests/python/c/<name>.c against the build tree; None if impossible."""
    cc = shutil.which('cc')
    lib_dir = os.path.join(BUILD_ROOT, 'src', 'lib')
    if not cc or not os.path.exists(os.path.join(lib_dir, 'libkbus.so')):
        return None
    out = os.path.join(outdir, name)
    subprocess.run([cc, '-I', os.path.join(SOURCE_ROOT, 'include'),
                    '-I', os.path.join(BUILD_ROOT, 'include'),
                    os.path.join(SOURCE_ROOT, 'tests', 'python', 'c', name + '.c'),
                    '-L', lib_dir, '-lkbus', '-Wl,-rpath,' + lib_dir, '-o', out], check=True)
    return out


class CrossLanguageTest(KbusdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='kbus-cross-')
        cls.ask = os.environ.get('KBUS_TEST_ASK') or build_helper('kbus-ask', cls.tmp)
        cls.answer = os.environ.get('KBUS_TEST_ANSWER') or build_helper('kbus-answer', cls.tmp)
        cls.kitchen = os.environ.get('KBUS_EXAMPLE') or os.path.join(BUILD_ROOT, 'examples',
                                                                     'kitchen')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, *argv):
        if not argv[0] or not os.path.exists(argv[0]):
            self.skipTest('C helper not built: %s' % (argv[0],))
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.kbusd.env())
        self.addCleanup(stop_process, proc)
        return proc

    def test_python_replier_answers_c_requester(self):
        replier = self.open()
        replier.bind('$.Cross.Py', True)
        asker = self.start(self.ask, '$.Cross.Py', 'hello from C')
        request = replier.wait_for_msg(TIMEOUT)
        self.assertEqual(str(request), "<Request '$.Cross.Py', id=[0:1], from=2, "
                                       "flags=0x3 (REQ,YOU), data='hello from C'>")
        replier.send_msg(reply_to(request, 'hello from Python'))
        out, err = asker.communicate(timeout=TIMEOUT)
        self.assertEqual(asker.returncode, 0, err)
        self.assertEqual(out, b"<Reply '$.Cross.Py' id=[0:2] to=2 from=1 in_reply_to=[0:1] "
                              b"data=hello from Python>\n")

    def test_c_replier_answers_python_requester(self):
        replier = self.start(self.answer, '$.Cross.C', 'hello from C', '1')
        self.assertEqual(wait_for_line(replier, 'ready'), 'ready 1')
        asker = self.open()
        asker.send_msg(Request('$.Cross.C', 'hello from Python'))
        reply = asker.wait_for_msg(TIMEOUT)
        self.assertEqual(str(reply), "<Reply '$.Cross.C', id=[0:2], to=2, from=1, "
                                     "in_reply_to=[0:1], data='hello from C'>")
        out, err = replier.communicate(timeout=TIMEOUT)
        self.assertEqual(replier.returncode, 0, err)
        self.assertEqual(out, b"<Request '$.Cross.C' id=[0:1] from=2 flags=0x3 REQ YOU "
                              b"data=hello from Python>\n")

    def test_c_replier_answers_asyncio_requests(self):
        replier = self.start(self.answer, '$.Cross.Aio', 'from C', '3')
        self.assertEqual(wait_for_line(replier, 'ready'), 'ready 1')

        async def scenario():
            async with await kbus.aio.connect(0) as asker:
                return await asyncio.gather(*[asker.request('$.Cross.Aio', 'q%d' % i,
                                                            timeout=TIMEOUT)
                                              for i in range(3)])

        replies = asyncio.run(scenario())
        self.assertEqual([(bytes(r.data), r.from_) for r in replies], [(b'from C', 1)] * 3)
        serials = [r.in_reply_to.serial_num for r in replies]
        self.assertEqual(serials, sorted(set(serials)))  # three requests, answered in order
        replier.communicate(timeout=TIMEOUT)
        self.assertEqual(replier.returncode, 0)

    def test_python_listener_hears_the_kitchen_example(self):
        listener = self.open()
        listener.bind('$.Sensors.*')
        kitchen = self.start(self.kitchen)
        out, err = kitchen.communicate(timeout=TIMEOUT)
        self.assertEqual(kitchen.returncode, 0, err)
        self.assertEqual([str(m) for m in listener], [
            "<Request '$.Sensors.Kitchen.Temperature', id=[0:1], from=3, flags=0x1 (REQ)>",
            "<Reply '$.Sensors.Kitchen.Temperature', id=[0:2], to=3, from=2, "
            "in_reply_to=[0:1], data='21.5'>"])
        self.assertIn(b'answer: 21.5 from ksock 2\n', out)


if __name__ == '__main__':
    unittest.main()
