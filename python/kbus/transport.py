# SPDX-License-Identifier: MPL-2.0
"""Connecting to a bus socket (shared by Ksock and kbus.aio).

Opening a ksock is bounded in time, connect and handshake together (semantics
§18: a silent server makes a call fail, never hang): the connect is
non-blocking, and a listener whose backlog is full, which refuses with
EAGAIN and offers nothing to wait on, is tried again at growing intervals
until the deadline.  Past it the open raises OSError ETIMEDOUT.
"""

import asyncio
import errno
import os
import select
import socket
import time
from typing import Optional, Tuple

from . import errors, sockdir

# While a full backlog refuses the connection, retry after 1, 2, 4 ... 50 ms.
_PAUSE_FIRST = 0.001
_PAUSE_MAX = 0.05
# Room for a few descriptors in a handshake read; every one received is closed.
_FDS_SPACE = socket.CMSG_SPACE(8 * 4)


def check_timeout(timeout, default: float) -> float:
    """The open bound in seconds: @timeout (a positive number), or @default for None."""
    if timeout is None:
        return default
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError('timeout must be a number of seconds, not %r' % (timeout,))
    if not timeout > 0:
        raise ValueError('timeout must be more than 0 seconds, not %r' % (timeout,))
    return float(timeout)


def connect_error(err: OSError, path: str) -> OSError:
    """The OSError for a failed connect(): no socket, or nobody listening, is ENOENT."""
    if err.errno in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTDIR):
        return errors.kbus_error(errno.ENOENT, 'no such bus: no kbusd is listening on %s; %s'
                                 % (path, sockdir.no_kbusd_hint(path)))
    return err


def timeout_error(path: str, timeout: float, what: str) -> OSError:
    """The OSError for an open that did not finish in time."""
    return errors.kbus_error(errno.ETIMEDOUT, '%s at %s within %g s' % (what, path, timeout))


def new_socket() -> socket.socket:
    """A non-blocking Unix stream socket (close-on-exec, as Python makes them)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    return sock


def wait(sock: socket.socket, events: int, timeout: Optional[float]) -> int:
    """Wait (select.poll) until @sock has @events or @timeout seconds pass; the revents."""
    poller = select.poll()
    poller.register(sock, events)
    ms = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
    for _, revents in poller.poll(ms):
        return revents
    return 0


def _connect_step(sock: socket.socket, path: str) -> bool:
    """One connect attempt: True if connected, False if the backlog is full."""
    try:
        sock.connect(path)
        return True
    except BlockingIOError as e:
        if e.errno == errno.EINPROGRESS:
            raise
        return False
    except InterruptedError:
        return False
    except OSError as e:
        if e.errno == errno.EISCONN:
            return True
        raise connect_error(e, path) from None


def connect(path: str, deadline: float, timeout: float) -> socket.socket:
    """Connect a non-blocking socket to the bus socket at @path before @deadline."""
    sock = new_socket()
    pause = _PAUSE_FIRST
    try:
        while True:
            try:
                if _connect_step(sock, path):
                    return sock
            except BlockingIOError:  # EINPROGRESS: wait for the outcome
                if not wait(sock, select.POLLOUT, max(0.0, deadline - time.monotonic())):
                    raise timeout_error(path, timeout, 'no kbusd accepted the connection') \
                        from None
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise connect_error(OSError(err, os.strerror(err)), path) from None
                return sock
            left = deadline - time.monotonic()
            if left <= 0:
                raise timeout_error(path, timeout, 'no kbusd accepted the connection')
            time.sleep(min(pause, left))
            pause = min(pause * 2, _PAUSE_MAX)
    except BaseException:
        sock.close()
        raise


async def connect_async(loop, sock: socket.socket, path: str) -> None:
    """Connect @sock to @path without blocking the loop (the caller bounds the time).

    loop.sock_connect() is not used: a Unix socket whose listener's backlog
    is full fails with EAGAIN, which it would take for "under way".
    """
    pause = _PAUSE_FIRST
    while True:
        try:
            if _connect_step(sock, path):
                return
        except BlockingIOError:
            await readiness(loop, sock, writable=True)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise connect_error(OSError(err, os.strerror(err)), path) from None
            return
        await asyncio.sleep(pause)
        pause = min(pause * 2, _PAUSE_MAX)


async def readiness(loop, sock: socket.socket, writable: bool = False) -> None:
    """Wait until @sock is readable (or writable) in the asyncio loop."""
    fut = loop.create_future()

    def ready():
        if not fut.done():
            fut.set_result(None)

    fd = sock.fileno()
    if writable:
        loop.add_writer(fd, ready)
    else:
        loop.add_reader(fd, ready)
    try:
        await fut
    finally:
        if writable:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


def recv_closing_fds(sock: socket.socket, size: int) -> bytes:
    """recv() for the handshake: any descriptor that comes with the bytes is closed.

    For a client that did not ask for kbusd's shared page (it sends TAKE
    frames): a WELCOME that carries a descriptor all the same must not leak it.
    """
    data, fd = recv_keeping_fd(sock, size)
    if fd is not None:
        os.close(fd)
    return data


def recv_keeping_fd(sock: socket.socket, size: int) -> Tuple[bytes, Optional[int]]:
    """recv() for the handshake: keep the first descriptor that came, close any other."""
    data, ancdata, _, _ = sock.recvmsg(size, _FDS_SPACE)
    kept = None
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            for fd in memoryview(payload)[:usable].cast('i'):
                if kept is None:
                    kept = fd
                    continue
                try:
                    os.close(fd)
                except OSError:
                    pass
    return data, kept


def close_and_wait(sock: socket.socket, seconds: float, owner_pid: int) -> None:
    """Close @sock after kbusd has seen the close: shut our side, read to its EOF.

    kbusd acts on a closed connection at once (drops bindings, sends
    statuses) and then closes its end; waiting for that makes close()
    synchronous, as closing a kernel file was.  Anything still arriving is
    discarded.  Gives up after @seconds.  In a forked child (@owner_pid is
    not us) the socket is only closed: shutting it down would end the
    parent's connection too, and the ksock lives until every copy is closed.
    """
    if os.getpid() != owner_pid:
        sock.close()
        return
    deadline = time.monotonic() + seconds
    try:
        sock.shutdown(socket.SHUT_WR)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not wait(sock, select.POLLIN, left):
                break
            try:
                if not sock.recv(65536):
                    break
            except (BlockingIOError, InterruptedError):
                continue
    except OSError:
        pass
    finally:
        sock.close()
