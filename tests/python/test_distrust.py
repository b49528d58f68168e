# SPDX-License-Identifier: MPL-2.0
"""The Python binding distrusts the server (semantics §18; docs/protocol.md "What a client checks").

Fake servers written here (a listening Unix socket in a private temporary
directory, served by a thread) stay silent, never accept, answer the
handshake with bad WELCOMEs, or, after a good handshake, send frames no
kbusd sends.  Each must make the call raise OSError with the documented
errno, promptly: a watchdog (SIGALRM) turns a hang into a failure.

The socket-directory checks need the per-user fallbacks to be chosen,
which happens only when /run/kbus is not usable: the client runs in a
forked child with a private mount namespace whose /run is an empty
read-only tmpfs (it stays root, so nothing else changes).  "Another user"
is uid 1234, a forked fake server that starts listening after dropping to
it (SO_PEERCRED reports who called listen()).  Skipped when this process
cannot make a mount namespace (not root).
"""

import array
import asyncio
import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
import unittest

from kbusd_harness import Kbusd
import kbus.aio
from kbus import Ksock, shm

OTHER_UID = 1234
PROMPT = 2.0           # seconds: "well under 2 s" for a 0.3 s bound
WATCHDOG = 10          # seconds before a hang fails the test
PAGE_BYTES = 8192

_HDR = struct.Struct('<IHH')
_WELCOME = struct.Struct('<IHHiIIIII')
_RESULT = struct.Struct('<iII')
MAGIC = 0x5355424B
WELCOME, RESULT, MSG, DONE, ERROR = 0x81, 0x82, 0x83, 0x84, 0x85


def frame(ftype, body=b'', length=None):
    """A frame whose header declares @length (default: the real length)."""
    return _HDR.pack(len(body) + 8 if length is None else length, ftype, 0) + body


def welcome(magic=MAGIC, version=1, status=0, ksock_id=7, bus=0, max_size=65536,
            shm_size=0, length=None):
    body = _WELCOME.pack(magic, version, 0, status, ksock_id, bus, max_size, 100, shm_size)
    return frame(WELCOME, body, length)


def result(status=0, value0=0):
    return frame(RESULT, _RESULT.pack(status, value0, 0))


def msg(name, declared_len=None):
    """A MSG frame for a message called @name (bytes)."""
    pad = (len(name) + 4) & ~3
    fixed = struct.pack('<14I', *([0] * 12), len(name) if declared_len is None else declared_len,
                        0)
    return frame(MSG, struct.pack('<II', 0, 0) + fixed + name + b'\0' * (pad - len(name)))


def recv_exact(conn, n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


@contextlib.contextmanager
def watchdog(seconds=WATCHDOG):
    """Fail, instead of hanging, if the block takes longer than @seconds."""
    def expired(signum, frame_):
        raise AssertionError('still waiting after %d s: the client hangs' % seconds)
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


class FakeServer:
    """A bus socket served by a thread that follows a script, for one connection."""

    def __init__(self, hello_answer=b'', fds=(), silent=False, after=b'', close_after=False,
                 backlog=8, accept=True):
        self.dir = tempfile.mkdtemp(prefix='kbus-fake-')
        self.path = os.path.join(self.dir, 'kbus0')
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(backlog)
        self.hello_answer, self.fds, self.silent = hello_answer, fds, silent
        self.after, self.close_after = after, close_after
        self.done = threading.Event()
        self.thread = None
        if accept:
            self.thread = threading.Thread(target=self._serve, daemon=True)
            self.thread.start()

    def _serve(self):
        self.listener.settimeout(WATCHDOG)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(WATCHDOG)
            try:
                self._talk(conn)
            except (OSError, EOFError):
                pass

    def _talk(self, conn):
        recv_exact(conn, 24)  # the HELLO
        if self.silent:
            self.done.wait(WATCHDOG)
            return
        ancillary = []
        if self.fds:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', self.fds))]
        conn.sendmsg([self.hello_answer], ancillary)
        if self.after:
            length, _, _ = _HDR.unpack(recv_exact(conn, 8))
            recv_exact(conn, length - 8)
            conn.sendall(self.after)
        if self.close_after:
            return
        while not self.done.is_set() and conn.recv(4096):
            pass

    def stop(self):
        self.done.set()
        self.listener.close()
        if self.thread:
            self.thread.join(WATCHDOG)
        shutil.rmtree(self.dir, ignore_errors=True)


class DistrustCase(unittest.TestCase):

    def fake(self, *args, **kwargs):
        server = FakeServer(*args, **kwargs)
        self.addCleanup(server.stop)
        return server

    def assertErrno(self, err, func, *args, **kwargs):
        """@func raises OSError @err, within PROMPT seconds; returns the exception."""
        start = time.monotonic()
        with watchdog(), self.assertRaises(OSError) as cm:
            func(*args, **kwargs)
        self.assertEqual(cm.exception.errno, err, str(cm.exception))
        self.assertLess(time.monotonic() - start, PROMPT, str(cm.exception))
        return cm.exception

    @staticmethod
    def aio_open(path, timeout=None):
        async def scenario():
            ksock = await kbus.aio.connect(path, 'rw', timeout)
            ksock.close()
        asyncio.run(scenario())


class SilentServerTest(DistrustCase):
    """A server that never answers the handshake is ETIMEDOUT within the bound."""

    def test_silent_handshake(self):
        server = self.fake(silent=True)
        e = self.assertErrno(errno.ETIMEDOUT, Ksock, server.path, 'rw', 0.3)
        self.assertIn('no answer to the handshake at %s within 0.3 s' % server.path, str(e))

    def test_silent_handshake_aio(self):
        server = self.fake(silent=True)
        self.assertErrno(errno.ETIMEDOUT, self.aio_open, server.path, 0.3)

    def test_never_accepts(self):
        """A full backlog makes connect() block: it must not, past the bound."""
        server = self.fake(backlog=0, accept=False)
        queued = []
        self.addCleanup(lambda: [s.close() for s in queued])
        while len(queued) < 64:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(server.path)
            except BlockingIOError:
                s.close()
                break
            queued.append(s)
        self.assertLess(len(queued), 64)
        e = self.assertErrno(errno.ETIMEDOUT, Ksock, server.path, timeout=0.3)
        self.assertIn('no kbusd accepted the connection', str(e))
        self.assertErrno(errno.ETIMEDOUT, self.aio_open, server.path, 0.3)

    def test_timeout_argument(self):
        with self.assertRaises(ValueError):
            Ksock('/nowhere/kbus0', 'rw', 0)
        with self.assertRaises(TypeError):
            Ksock('/nowhere/kbus0', 'rw', '5')

    def test_positional_api_against_kbusd(self):
        """The original API still opens a real kbusd, with or without a bound."""
        kbusd = Kbusd().start()
        self.addCleanup(kbusd.stop)
        path = os.path.join(kbusd.dir, 'kbus0')
        for args in ((path,), (path, 'r'), (path, 'rw', 5)):
            with Ksock(*args) as ksock:
                self.assertGreater(ksock.ksock_id(), 0)
        self.aio_open(path, 5)


class WelcomeTest(DistrustCase):
    """Every field of the WELCOME is checked."""

    def open_against(self, answer, fds=()):
        server = self.fake(answer, fds)
        with watchdog():
            Ksock(server.path, 'rw', 5).close()

    def test_bad_fields(self):
        cases = [
            ('wrong magic', welcome(magic=0x12345678), errno.EPROTO),
            ('version 2', welcome(version=2), errno.EPROTO),
            ('ksock id 0', welcome(ksock_id=0), errno.EPROTO),
            ('bus 256', welcome(bus=256), errno.EPROTO),
            ('max size 99', welcome(max_size=99), errno.EPROTO),
            ('max size past 16 MiB', welcome(max_size=16 * 1024 * 1024 + 1), errno.EPROTO),
            ('status > 0', welcome(status=5), errno.EPROTO),
            ('status below -4095', welcome(status=-5000), errno.EPROTO),
            ('frame length 36', welcome(length=36)[:36], errno.EPROTO),
            ('a RESULT first', result(), errno.EPROTO),
            ('status -EPERM: kbusd refuses', welcome(status=-errno.EPERM), errno.EPERM),
        ]
        for what, answer, err in cases:
            with self.subTest(what):
                self.assertErrno(err, self.open_against, answer)

    def test_good_welcome(self):
        """The fake is good enough for a right WELCOME to be taken."""
        self.open_against(welcome())

    def fd_count_after_open(self, answer, fds, err=None):
        """Open against a fake that sends @answer with @fds; the fds we hold after."""
        server = self.fake(answer, fds)
        before = len(os.listdir('/proc/self/fd'))
        with watchdog():
            if err is None:
                Ksock(server.path, 'rw', 5).close()
            else:
                self.assertErrno(err, Ksock, server.path, 'rw', 5)
        server.thread.join(WATCHDOG)  # its end of the connection is closed too
        return before, len(os.listdir('/proc/self/fd'))

    def memfd(self, sealed):
        fd = os.memfd_create('fake-page', os.MFD_ALLOW_SEALING)
        os.ftruncate(fd, PAGE_BYTES)
        if sealed:
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
        self.addCleanup(os.close, fd)
        return fd

    def test_page_descriptor_is_closed(self):
        """A good shared page is mapped (shm.usable()) or not asked for; either way
        its descriptor is closed after the handshake, and the mapping on close()."""
        before, after = self.fd_count_after_open(welcome(shm_size=PAGE_BYTES),
                                                 [self.memfd(sealed=True)])
        self.assertEqual(after, before)

    def test_page_that_can_shrink(self):
        """An unsealed page could shrink under the binding: refused, when it maps
        pages at all, and the descriptor is closed in any case."""
        err = errno.EPROTO if shm.usable() else None
        before, after = self.fd_count_after_open(welcome(shm_size=PAGE_BYTES),
                                                 [self.memfd(sealed=False)], err)
        self.assertEqual(after, before)

    def test_page_size_without_page(self):
        """A WELCOME with a page size and no descriptor is not one kbusd sends."""
        if not shm.usable():
            self.skipTest('this machine takes with TAKE frames: the size is not looked at')
        self.fd_count_after_open(welcome(shm_size=PAGE_BYTES), [], errno.EPROTO)

    def test_page_too_small(self):
        """A page smaller than the layout needs is refused."""
        if not shm.usable():
            self.skipTest('this machine takes with TAKE frames: the page is not looked at')
        self.fd_count_after_open(welcome(shm_size=4096), [self.memfd(sealed=True)],
                                 errno.EPROTO)


class BadFrameTest(DistrustCase):
    """After a good handshake, a frame no kbusd sends makes the next call fail."""

    def call_against(self, after, close_after=False):
        server = self.fake(welcome(), after=after, close_after=close_after)
        with watchdog():
            with Ksock(server.path, 'rw', 5) as ksock:
                return ksock.num_messages()

    def test_good_answer(self):
        self.assertEqual(self.call_against(result(0, 7)), 7)

    def test_bad_frames(self):
        cases = [
            ('garbage', b'this is not a kbus frame at all'),
            ('an impossible length', frame(RESULT, length=4)),
            ('a 64 MiB MSG that never comes', frame(MSG, length=64 << 20)),
            ('a MSG past any bus maximum', frame(MSG, length=8 + 8 + (16 << 20) + 1)),
            ('a MSG that does not decode', msg(b'$.Fake', declared_len=600) + result(0, 7)),
            ('a MSG with a bad name', msg(b'$.Fake name') + result(0, 7)),
            ('a short RESULT', frame(RESULT, b'\0' * 4)),
            ('a RESULT status > 0', result(3, 7)),
            ('an ERROR with status 0', frame(ERROR, b'\0' * 8)),
            ('an ERROR with 8 KiB of text',
             frame(ERROR, struct.pack('<iHH', -errno.EINVAL, 0, 0) + b'x' * 8192)),
            ('a DONE of the wrong length', frame(DONE, b'\0' * 4) + result(0, 7)),
            ('a second WELCOME', welcome() + result(0, 7)),
        ]
        for what, after in cases:
            with self.subTest(what):
                self.assertErrno(errno.EPROTO, self.call_against, after)

    def test_bad_frames_aio(self):
        async def scenario(path):
            ksock = await kbus.aio.connect(path, 'rw', 5)
            try:
                return await ksock.num_messages()
            finally:
                ksock.close()
        for after in (frame(MSG, length=64 << 20), msg(b'$.Fake name') + result(0, 7)):
            server = self.fake(welcome(), after=after)
            self.assertErrno(errno.EPROTO, asyncio.run, scenario(server.path))

    def test_stray_answer(self):
        """An answer that comes before anything was asked is not kept for later."""
        server = self.fake(welcome() + result(0, 7))
        self.assertErrno(errno.EPROTO, Ksock, server.path, 'rw', 5)

    def test_unknown_frames_skipped(self):
        """Frames of a type kbusd may add later are skipped (and not kept)."""
        after = frame(0x99, b'u' * 100) + frame(0x9A, b'\0' * (1 << 20)) + result(0, 7)
        self.assertEqual(self.call_against(after), 7)

    def test_big_msg_cut_short(self):
        """A big MSG that stops half-way is the end of the connection, not a hang."""
        after = frame(MSG, b'\0' * (100 * 1024), length=8 + 8 + (16 << 20))
        self.assertErrno(errno.ECONNRESET, self.call_against, after, True)


# ---- socket directories -------------------------------------------------------

CLONE_NEWNS = 0x00020000
MS_RDONLY = 0x1
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
NS_SKIP, NS_CONNECTED, NS_OTHER = 254, 251, 250


def _private_run():
    """In a forked child: a private mount namespace whose /run is empty and read-only.

    So /run/kbus is neither there nor creatable, and the per-user fallbacks
    are chosen, as for any user but root; /tmp is still the shared one.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p)
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    return (libc.mount(None, b'/', None, MS_REC | MS_PRIVATE, None) == 0 and
            libc.mount(b'tmpfs', b'/run', b'tmpfs', MS_RDONLY, b'mode=0755') == 0)


def _listen_as(path, uid, notify_w):
    """Fork a fake kbusd that listens at @path as @uid; it says b'c' on each accept."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            sock.listen(8)
            os.write(ready_w, b'r')
            while True:
                conn, _ = sock.accept()
                os.write(notify_w, b'c')
                try:
                    recv_exact(conn, 24)
                    conn.sendall(welcome())
                    while conn.recv(4096):
                        pass
                except (OSError, EOFError):
                    pass
                conn.close()
        finally:
            os._exit(code)
    sock.close()
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    return pid


class SockdirTest(unittest.TestCase):
    """A per-user fallback directory is checked before connecting; the server's uid after."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('needs root: other uids and a mount namespace')
        self.base = tempfile.mkdtemp(prefix='kbus-xdg-')
        self.addCleanup(shutil.rmtree, self.base, True)
        self.sockdir = os.path.join(self.base, 'kbus')

    def make_dir(self, mode=0o700, uid=0):
        os.mkdir(self.sockdir)
        os.chmod(self.sockdir, mode)
        os.chown(self.sockdir, uid, uid)
        return self.sockdir

    def run_client(self, real_dir, server_uid, use_aio=False):
        """Serve bus 0 from @real_dir as @server_uid; open bus 0 with XDG_RUNTIME_DIR = base.

        Returns 0 or the errno the open raised; fails if an unsafe directory
        was connected through.
        """
        notify_r, notify_w = os.pipe()
        server = _listen_as(os.path.join(real_dir, 'kbus0'), server_uid, notify_w)
        self.addCleanup(self._reap, server)
        pid = os.fork()
        if pid == 0:
            code = NS_OTHER
            try:
                if not _private_run():
                    code = NS_SKIP
                else:
                    os.environ.pop('KBUS_SOCKET_DIR', None)
                    os.environ['XDG_RUNTIME_DIR'] = self.base
                    signal.alarm(WATCHDOG)
                    if use_aio:
                        self.aio_open_bus0()
                    else:
                        Ksock(0, 'rw', 5).close()
                    code = 0
            except OSError as e:
                code = e.errno
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        os.close(notify_w)
        os.set_blocking(notify_r, False)
        try:
            connected = os.read(notify_r, 1) == b'c'
        except BlockingIOError:
            connected = False
        os.close(notify_r)
        self.assertTrue(os.WIFEXITED(status), 'the client was killed (a hang or a crash)')
        code = os.WEXITSTATUS(status)
        if code == NS_SKIP:
            self.skipTest('cannot make a private mount namespace here')
        self.connected = connected
        return code

    @staticmethod
    def aio_open_bus0():
        async def scenario():
            (await kbus.aio.connect(0, 'rw', 5)).close()
        asyncio.run(scenario())

    @staticmethod
    def _reap(pid):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    def assertRefusedUnconnected(self, code):
        self.assertEqual(code, errno.EPERM)
        self.assertFalse(self.connected, 'connected through an unsafe directory')

    def test_symlink(self):
        elsewhere = os.path.join(self.base, 'elsewhere')
        os.mkdir(elsewhere)
        os.symlink(elsewhere, self.sockdir)
        self.assertRefusedUnconnected(self.run_client(elsewhere, 0))

    def test_other_owner(self):
        self.assertRefusedUnconnected(self.run_client(self.make_dir(0o755, OTHER_UID), 0))

    def test_writable(self):
        self.assertRefusedUnconnected(self.run_client(self.make_dir(0o777), 0))

    def test_group_writable_aio(self):
        self.assertRefusedUnconnected(self.run_client(self.make_dir(0o770), 0, use_aio=True))

    def test_server_of_another_user(self):
        self.assertEqual(self.run_client(self.make_dir(), OTHER_UID), errno.EPERM)
        self.assertEqual(self.run_client_again(OTHER_UID, use_aio=True), errno.EPERM)

    def run_client_again(self, server_uid, use_aio):
        os.unlink(os.path.join(self.sockdir, 'kbus0'))
        return self.run_client(self.sockdir, server_uid, use_aio)

    def test_accepted(self):
        """A safe directory and a server of root (or our own uid) are fine."""
        self.assertEqual(self.run_client(self.make_dir(), 0), 0)
        self.assertTrue(self.connected)
        self.assertEqual(self.run_client_again(0, use_aio=True), 0)

    def test_messages(self):
        from kbus import sockdir
        os.symlink('/', self.sockdir)
        with self.assertRaises(OSError) as cm:
            sockdir.check_dir(self.sockdir)
        self.assertEqual(cm.exception.errno, errno.EPERM)
        self.assertIn('the socket directory %s is not safe: it is a symbolic link'
                      % self.sockdir, str(cm.exception))
        os.unlink(self.sockdir)
        self.make_dir(0o775)
        with self.assertRaises(OSError) as cm:
            sockdir.check_dir(self.sockdir)
        self.assertIn('group or others may write to it', str(cm.exception))


if __name__ == '__main__':
    unittest.main()
