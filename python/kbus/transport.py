# SPDX-License-Identifier: MPL-2.0
"""Connecting to a bus socket (shared by Ksock and kbus.aio)."""

import errno
import os
import select
import socket
import time

from . import errors


def connect_error(err: OSError, path: str) -> OSError:
    """The OSError for a failed connect(): no socket, or nobody listening, is ENOENT."""
    if err.errno in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTDIR):
        return errors.kbus_error(errno.ENOENT, 'no such bus: no kbusd is listening on %s'
                                 % path)
    return err


def new_socket() -> socket.socket:
    """A non-blocking Unix stream socket (close-on-exec, as Python makes them)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    return sock


def connect(path: str) -> socket.socket:
    """Connect a non-blocking socket to the bus socket at @path."""
    sock = new_socket()
    try:
        sock.setblocking(True)
        sock.connect(path)
        sock.setblocking(False)
    except OSError as e:
        sock.close()
        raise connect_error(e, path) from None
    return sock


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
            if left <= 0 or not select.select([sock], [], [], left)[0]:
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
