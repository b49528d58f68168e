# SPDX-License-Identifier: MPL-2.0
"""The page kbusd shares with a ksock: takes without a frame, or a round trip, each.

kbusd pushes messages ahead of the application; it must still know exactly
which ones the application has taken (room in the queue, GoneAway against
Ignored, what an unbind removes).  With this page, taking a message is two
stores into shared memory that kbusd reads whenever the answer depends on
them; without it, a TAKE frame and a round trip to be sure kbusd applied it.
The layout and the rules are docs/protocol.md's "The queue, pushed messages
and the take log"; the C library's are the same.

One rule needs a full memory fence: store ``taken``, then load ``notify``
(kbusd sets notify, then reloads taken; the fences make sure one side sees
the other).  Python has no fence of its own.  On x86-64 every locked
instruction is one, and acquiring and releasing a ``threading.Lock`` runs
such instructions; on other processors a lock is only acquire/release, so
there the binding does not ask for the page and keeps the TAKE frames.
The C library uses real atomics everywhere.

kbusd's half of the page is untrusted like every byte from the server:
counters that run backwards make the connection fail with EPROTO.
"""

import fcntl
import mmap
import os
import platform
import stat
import sys
import threading

LOG_LEN = 1024
SIZE = 8192           # SHM_SIZE: KbusShm rounded up to pages
_PUSHED, _URGENT, _CONSUMED = 0, 8, 9   # u64 indexes (bytes 0, 64, 72)
_NOTIFY = 20                            # u32 index (byte 80)
_TAKEN = 16                             # u64 index (byte 128)
_LOG = 48                               # u32 index (byte 192)

_fence_lock = threading.Lock()


def usable() -> bool:
    """Whether this machine's Python can keep the page's fence rule (see above)."""
    return (platform.machine() in ('x86_64', 'AMD64') and sys.byteorder == 'little'
            and hasattr(fcntl, 'F_GET_SEALS'))


def _full_fence() -> None:
    with _fence_lock:  # lock-prefixed instructions: a full fence on x86-64
        pass


class PageError(Exception):
    """The page kbusd gave is not one kbusd gives."""


class SharedPage:
    """One ksock's page, mapped from the descriptor the WELCOME carried."""

    def __init__(self, fd: int, size: int):
        st = os.fstat(fd)
        if size < SIZE or not stat.S_ISREG(st.st_mode) or st.st_size < SIZE:
            raise PageError('its shared page is not a file of %d bytes' % SIZE)
        if not fcntl.fcntl(fd, fcntl.F_GET_SEALS) & fcntl.F_SEAL_SHRINK:
            raise PageError('its shared page could shrink under us')
        self._map = mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self._u64 = memoryview(self._map).cast('Q')
        self._u32 = memoryview(self._map).cast('I')
        self.taken = 0  # our own count: the page is kbusd's to write as well

    def close(self) -> None:
        if self._map is not None:
            self._u64.release()
            self._u32.release()
            self._map.close()
            self._map = None

    def pushed(self) -> int:
        """The newest sequence number kbusd has queued for us."""
        return self._u64[_PUSHED]

    def urgent(self) -> int:
        """The sequence number of the newest URGENT message queued for us."""
        return self._u64[_URGENT]

    def log_full(self) -> bool:
        """Whether kbusd must read the log before the next take (send WAKE SYNC)."""
        consumed = self._u64[_CONSUMED]
        if consumed > self.taken:
            raise PageError('kbusd read take-log entries nobody wrote')
        return self.taken - consumed >= LOG_LEN

    def take(self, seq: int) -> bool:
        """Log the take of @seq; True if kbusd asked to be told (send WAKE)."""
        t = self.taken
        self._u32[_LOG + t % LOG_LEN] = seq & 0xffffffff
        self._u64[_TAKEN] = t + 1  # x86-64 keeps stores in order: the entry is seen first
        self.taken = t + 1
        _full_fence()
        if not self._u32[_NOTIFY]:
            return False
        # kbusd may set it again meanwhile; it then also rereads taken and
        # sees this take, and re-arms on the WAKE that follows.
        self._u32[_NOTIFY] = 0
        return True
