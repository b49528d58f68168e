# SPDX-License-Identifier: MPL-2.0
"""Start and stop a real kbusd for the Python tests.

kbusd runs in a fresh temporary socket directory, which the tests put in
$KBUS_SOCKET_DIR so that ``Ksock(0)`` finds it.  Readiness is kbusd's own
"bus N listening on ..." lines on stdout, read with a time limit, never a
sleep.  kbusd gets PR_SET_PDEATHSIG, so a crashed test leaves none behind.
The binary is $KBUSD, else build/src/broker/kbusd in this source tree.
"""

import ctypes
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
KBUSD = os.environ.get('KBUSD') or os.path.join(SOURCE_ROOT, 'build', 'src', 'broker', 'kbusd')
BUILD_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(KBUSD))))
PYTHON_DIR = os.path.join(SOURCE_ROOT, 'python')
READY_SECONDS = 10.0

if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)


def _die_with_parent():
    """In the child: get SIGKILL if the test process dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def read_line(stream_fd, buffer, deadline):
    """One line from @stream_fd (bytes kept in @buffer between calls); None at EOF/timeout."""
    while b'\n' not in buffer:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream_fd], [], [], left)[0]:
            return None
        chunk = os.read(stream_fd, 4096)
        if not chunk:
            return None
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b'\n')
    buffer[:] = rest
    return line.decode('utf-8', 'replace')


def wait_for_line(proc, text, seconds=READY_SECONDS, buffer=None):
    """Read @proc's stdout until a line containing @text; return that line.

    Bytes read past that line stay in @buffer, for the next call to share.
    """
    buffer = bytearray() if buffer is None else buffer
    deadline = time.monotonic() + seconds
    while True:
        line = read_line(proc.stdout.fileno(), buffer, deadline)
        if line is None:
            raise RuntimeError('%s: no line with %r' % (proc.args[0], text))
        if text in line:
            return line


def stop_process(proc, seconds=10):
    """Stop a helper process (SIGTERM, then SIGKILL) and close its pipes."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


class Kbusd:
    """One kbusd on its own socket directory."""

    def __init__(self, *args, buses=1):
        self.args = list(args)
        self.buses = buses
        self.dir = tempfile.mkdtemp(prefix='kbus-pytest-')
        self.proc = None

    def start(self):
        """Start kbusd and return once every bus listens."""
        argv = [KBUSD, '--socket-dir', self.dir, '--buses', str(self.buses)] + self.args
        self.log = open(os.path.join(self.dir, 'kbusd.log'), 'wb')
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log,
                                     preexec_fn=_die_with_parent)
        unread = bytearray()
        for _ in range(self.buses):
            wait_for_line(self.proc, 'listening on', buffer=unread)
        return self

    def env(self):
        """The environment for a client process of this kbusd."""
        return dict(os.environ, KBUS_SOCKET_DIR=self.dir, PYTHONPATH=PYTHON_DIR)

    def kill(self):
        """SIGKILL: kbusd vanishes without closing anything itself."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """SIGTERM (SIGKILL if it does not stop), then remove the socket directory."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc:
            self.proc.stdout.close()
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def held_sends(ksock):
    """How many ALL_OR_WAIT sends kbusd holds on @ksock's bus (the stats query, semantics §12)."""
    from kbus import wire
    answer = ksock._request(wire.query(wire.QUERY_STATS))
    return struct.unpack_from('<I', answer.payload, 20)[0]  # count, bus, ksocks, ..., held


def wait_until(predicate, seconds=READY_SECONDS):
    """Poll @predicate (each call a round trip to kbusd, never a sleep) until true."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('condition not reached in %g s' % seconds)


class KbusdTestCase(unittest.TestCase):
    """A test with its own fresh kbusd; ``self.open()`` opens ksocks closed at the end."""

    kbusd_args = ()
    buses = 1

    def setUp(self):
        self.kbusd = Kbusd(*self.kbusd_args, buses=self.buses).start()
        self.addCleanup(self.kbusd.stop)
        saved = os.environ.get('KBUS_SOCKET_DIR')
        os.environ['KBUS_SOCKET_DIR'] = self.kbusd.dir
        self.addCleanup(self._restore_env, saved)

    @staticmethod
    def _restore_env(saved):
        if saved is None:
            os.environ.pop('KBUS_SOCKET_DIR', None)
        else:
            os.environ['KBUS_SOCKET_DIR'] = saved

    def open(self, which=0, mode='rw'):
        """A Ksock closed when the test ends."""
        from kbus import Ksock
        ksock = Ksock(which, mode)
        self.addCleanup(ksock.close)
        return ksock

    def assertRaisesErrno(self, err, func, *args, **kwargs):
        """Assert that @func raises OSError with errno @err; return the exception."""
        with self.assertRaises(OSError) as cm:
            func(*args, **kwargs)
        self.assertEqual(cm.exception.errno, err, str(cm.exception))
        return cm.exception
