# SPDX-License-Identifier: MPL-2.0
"""Where bus sockets live (SPEC §2), resolved exactly as src/proto/sockdir.c does.

The socket directory is, in order: ``$KBUS_SOCKET_DIR`` (if set and not
empty); ``/run/kbus`` when it exists as a directory, or does not exist and
this process could create it (``/run`` writable); ``$XDG_RUNTIME_DIR/kbus``;
``/tmp/kbus-<uid>``.  Bus N is ``<dir>/kbus<N>``.  A client may also name a
bus by socket path, or by the old device name ``/dev/kbus<N>``.
"""

import errno
import os
import stat
from typing import Optional, Tuple, Union

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


def socket_dir() -> str:
    """The socket directory this process should use."""
    env = os.environ.get(SOCKET_DIR_ENV)
    if env:
        return env
    if _run_usable():
        return RUN_DIR
    xdg = os.environ.get('XDG_RUNTIME_DIR')
    if xdg:
        return xdg + '/kbus'
    return '/tmp/kbus-%u' % os.getuid()


def bus_path(bus: int, directory: Optional[str] = None) -> str:
    """The socket path of bus @bus; OSError ENAMETOOLONG if it cannot be a socket path."""
    path = '%s/kbus%u' % (socket_dir() if directory is None else directory, bus)
    if len(os.fsencode(path)) >= SUN_PATH_MAX:
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG) +
                      ': the socket path of bus %u is too long for a Unix socket' % bus)
    return path


def parse_dev_name(name: str) -> Optional[int]:
    """Map the old device name ``/dev/kbus<N>`` (N a decimal below 256) to N, else None."""
    digits = name[len(DEV_PREFIX):] if name.startswith(DEV_PREFIX) else ''
    if not digits or not all('0' <= c <= '9' for c in digits):
        return None
    bus = int(digits)
    return bus if bus <= BUS_MAX else None


def resolve(which: Union[int, str, bytes, os.PathLike]) -> Tuple[str, str]:
    """Turn what a caller gave (bus number, device name or socket path) into a path.

    Returns (socket path, the name to show: ``/dev/kbus<N>`` or the path).
    """
    if isinstance(which, bool) or not isinstance(which, (int, str, bytes, os.PathLike)):
        raise TypeError('a bus is a number, a socket path or /dev/kbus<N>, not %r' % (which,))
    if isinstance(which, int):
        if which < 0 or which > 0xFFFFFFFF:
            raise ValueError('a bus number must be from 0 to 4294967295, not %d' % which)
        return bus_path(which), '%s%d' % (DEV_PREFIX, which)
    name = os.fsdecode(which)
    if not name:
        raise ValueError('an empty bus name')
    bus = parse_dev_name(name)
    if bus is not None:
        return bus_path(bus), name
    return name, name
