# SPDX-License-Identifier: MPL-2.0
"""Where bus sockets live (semantics §2), resolved exactly as src/proto/sockdir.c does.

The socket directory is, in order: ``$KBUS_SOCKET_DIR`` (if set and not
empty); ``/run/kbus`` when it exists as a directory, or does not exist and
this process could create it (``/run`` writable); ``$XDG_RUNTIME_DIR/kbus``;
``/tmp/kbus-<uid>``.  Bus N is ``<dir>/kbus<N>``.  A client may also name a
bus by socket path, or by the old device name ``/dev/kbus<N>``.

The two per-user fallbacks could have been made by anyone first (another
user can create ``/tmp/kbus-<your uid>`` and run a kbusd in it), so before
connecting there a client checks the directory (``check_dir``: a real
directory, not a symlink, owned by you or root, that neither group nor
others may write) and, once connected, the uid the server runs as
(``check_peer``: root or you); either failing is OSError EPERM (semantics §18).
``$KBUS_SOCKET_DIR`` and ``/run/kbus`` are not checked: the first is the
user's own choice, the second a system directory.  The rules are those of
src/proto/sockdir.c.
"""

import errno
import os
import socket
import stat
import struct
from typing import List, Optional, Tuple, Union

from . import errors

SOCKET_DIR_ENV = 'KBUS_SOCKET_DIR'
RUN_DIR = '/run/kbus'
SUN_PATH_MAX = 108
DEV_PREFIX = '/dev/kbus'
BUS_MAX = 255


def _run_usable() -> bool:
    """Whether /run/kbus exists as a directory, or could be created."""
    try:
        return stat.S_ISDIR(os.stat(RUN_DIR).st_mode)
    except OSError:
        return os.access('/run', os.W_OK | os.X_OK)


# Where socket_dir_source() found the directory.
SOURCE_ENV = 'env'
SOURCE_RUN = 'run'
SOURCE_XDG = 'xdg'  # a per-user fallback: checked
SOURCE_TMP = 'tmp'  # a per-user fallback: checked
FALLBACKS = (SOURCE_XDG, SOURCE_TMP)

_UCRED = struct.Struct('iII')  # pid, uid, gid


def socket_dir_source() -> Tuple[str, str]:
    """The socket directory this process should use, and which rule chose it."""
    env = os.environ.get(SOCKET_DIR_ENV)
    if env:
        return env, SOURCE_ENV
    if _run_usable():
        return RUN_DIR, SOURCE_RUN
    xdg = os.environ.get('XDG_RUNTIME_DIR')
    if xdg:
        return xdg + '/kbus', SOURCE_XDG
    return '/tmp/kbus-%u' % os.getuid(), SOURCE_TMP


_REASONS = {
    SOURCE_ENV: 'from $KBUS_SOCKET_DIR',
    SOURCE_RUN: "the system's socket directory; $KBUS_SOCKET_DIR is not set",
    SOURCE_XDG: '$KBUS_SOCKET_DIR is not set and /run/kbus is not usable',
    SOURCE_TMP: '$KBUS_SOCKET_DIR and $XDG_RUNTIME_DIR are not set, and /run/kbus is not '
                'usable',
}


def no_kbusd_hint(path: str) -> str:
    """After "no kbusd is listening on @path": where we looked, and how to start one.

    The socket directories, in order: $KBUS_SOCKET_DIR, /run/kbus,
    $XDG_RUNTIME_DIR/kbus, /tmp/kbus-UID.  (The tools say the same.)
    """
    directory, source = socket_dir_source()
    if os.path.dirname(path) != directory:
        return "nothing listens on that socket; 'kbusd --socket-dir DIR' serves DIR/kbus0"
    if source == SOURCE_RUN:
        start = "start kbusd with 'systemctl start kbusd.socket', or run 'kbusd' in a terminal"
    else:
        start = "start kbusd there by running 'kbusd --socket-dir %s' in a terminal" % directory
    return 'looked in %s (%s); %s' % (directory, _REASONS[source], start)


def socket_dir() -> str:
    """The socket directory this process should use."""
    return socket_dir_source()[0]


def _unsafe(directory: str, why: str) -> OSError:
    return errors.kbus_error(errno.EPERM, 'the socket directory %s is not safe: %s'
                             % (directory, why))


def check_dir(directory: str) -> None:
    """Refuse (OSError EPERM) a socket directory others could have made or can change.

    It must be a directory, not a symlink (O_NOFOLLOW), owned by this uid or
    root, and neither group nor others may write to it.  A directory that
    does not exist is ENOENT: there is no bus there.
    """
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            try:
                if stat.S_ISLNK(os.lstat(directory).st_mode):
                    raise _unsafe(directory, 'it is a symbolic link') from None
            except FileNotFoundError:
                pass
            raise _unsafe(directory, 'it is not a directory') from None
        if e.errno == errno.ENOENT:
            raise errors.kbus_error(errno.ENOENT, 'no such bus: the socket directory %s does '
                                                  'not exist' % directory) from None
        raise
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISDIR(st.st_mode):
        raise _unsafe(directory, 'it is not a directory')
    if st.st_uid not in (0, os.getuid()):
        raise _unsafe(directory, 'it is owned by uid %d (it must belong to you or root)'
                      % st.st_uid)
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _unsafe(directory, 'group or others may write to it (chmod go-w, or use '
                                 'another directory)')


def check_peer(sock: socket.socket, path: str) -> None:
    """Refuse (OSError EPERM) a server that runs as neither root nor this uid.

    SO_PEERCRED gives the uid the server had when it started listening.
    """
    _, uid, _ = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                              _UCRED.size))
    if uid not in (0, os.getuid()):
        raise errors.kbus_error(errno.EPERM, 'kbusd at %s runs as uid %d, not root or you'
                                % (path, uid))


def bus_path(bus: int, directory: Optional[str] = None) -> str:
    """The socket path of bus @bus; OSError ENAMETOOLONG if it cannot be a socket path."""
    path = '%s/kbus%u' % (socket_dir() if directory is None else directory, bus)
    if len(os.fsencode(path)) >= SUN_PATH_MAX:
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG) +
                      ': the socket path of bus %u is too long for a Unix socket' % bus)
    return path


def served_buses(directory: Optional[str] = None) -> List[int]:
    """The bus numbers whose sockets are in the socket directory, in order."""
    try:
        entries = os.listdir(socket_dir() if directory is None else directory)
    except OSError:
        return []
    buses = [parse_dev_name(DEV_PREFIX + e[len('kbus'):]) for e in entries
             if e.startswith('kbus')]
    return sorted(b for b in buses if b is not None)


def parse_dev_name(name: str) -> Optional[int]:
    """Map the old device name ``/dev/kbus<N>`` (N a decimal below 256) to N, else None."""
    digits = name[len(DEV_PREFIX):] if name.startswith(DEV_PREFIX) else ''
    if not digits or not all('0' <= c <= '9' for c in digits):
        return None
    bus = int(digits)
    return bus if bus <= BUS_MAX else None


def _bus(bus: int) -> Tuple[str, Optional[str]]:
    """(socket path of @bus, its directory if that is a per-user fallback, else None)."""
    directory, source = socket_dir_source()
    return bus_path(bus, directory), directory if source in FALLBACKS else None


def resolve_source(which: Union[int, str, bytes, os.PathLike]) \
        -> Tuple[str, str, Optional[str]]:
    """Turn what a caller gave (bus number, device name or socket path) into a path.

    Returns (socket path, the name to show: ``/dev/kbus<N>`` or the path,
    the socket directory to check with check_dir() and check_peer() when it
    is a per-user fallback, else None).  A socket path given by the caller
    is never checked: the caller chose it.
    """
    if isinstance(which, bool) or not isinstance(which, (int, str, bytes, os.PathLike)):
        raise TypeError('a bus is a number, a socket path or /dev/kbus<N>, not %r' % (which,))
    if isinstance(which, int):
        if which < 0 or which > 0xFFFFFFFF:  # as opening /dev/kbus-1 was: no such device
            raise errors.kbus_error(errno.ENOENT, 'no such bus: %d (buses are numbered from 0)'
                                    % which)
        path, fallback = _bus(which)
        return path, '%s%d' % (DEV_PREFIX, which), fallback
    name = os.fsdecode(which)
    if not name:
        raise ValueError('an empty bus name')
    bus = parse_dev_name(name)
    if bus is not None:
        path, fallback = _bus(bus)
        return path, name, fallback
    return name, name, None


def resolve(which: Union[int, str, bytes, os.PathLike]) -> Tuple[str, str]:
    """resolve_source() without the directory: (socket path, the name to show)."""
    return resolve_source(which)[:2]
