# SPDX-License-Identifier: MPL-2.0
"""Message names and bindings (semantics §3), checked as kbusd checks them.

A name is ``$.`` followed by one or more words separated by single dots; a
word is one or more ASCII letters, digits, ``_`` or ``-``.  Names are
case-sensitive and 3 to 1000 bytes long.  A binding may end in ``.*`` (that
level and every level below) or ``.%`` (exactly one word there); ``$.*`` and
``$.%`` are valid bindings.  A sent message may not have a wildcard.
Checking here means a bad name costs no round trip; kbusd checks again.
"""

import errno
import re
from typing import Union

NAME_LEN_MIN = 3
NAME_LEN_MAX = 1000

_WORDS = re.compile(rb'[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\Z')


def name_bytes(name: Union[str, bytes]) -> bytes:
    """Return @name as bytes (a str is encoded as UTF-8)."""
    if isinstance(name, str):
        return name.encode('utf-8', 'surrogateescape')
    if isinstance(name, (bytes, bytearray, memoryview)):
        return bytes(name)
    raise TypeError('a message name must be str or bytes, not %s' % type(name).__name__)


def name_errno(name: Union[str, bytes], wildcard: bool) -> int:
    """Return 0 if @name is valid, else the errno semantics §15 gives it.

    @wildcard is true for bindings, false for the names of sent messages.
    The result is 0, errno.ENAMETOOLONG or errno.EBADMSG.
    """
    raw = name_bytes(name)
    if len(raw) > NAME_LEN_MAX:
        return errno.ENAMETOOLONG
    if len(raw) < NAME_LEN_MIN or not raw.startswith(b'$.'):
        return errno.EBADMSG
    words = raw[2:]
    if words in (b'*', b'%'):
        return 0 if wildcard else errno.EBADMSG
    if words.endswith((b'.*', b'.%')):
        if not wildcard:
            return errno.EBADMSG
        words = words[:-2]
    return 0 if _WORDS.match(words) else errno.EBADMSG


_MESSAGE_NAMES_CHECKED = {}  # message name -> its name_errno()
_MESSAGE_NAMES_CHECKED_MAX = 4096


def message_name_errno(raw: bytes) -> int:
    """name_errno(@raw, False) for a message name, remembered: names repeat."""
    err = _MESSAGE_NAMES_CHECKED.get(raw)
    if err is None:
        err = name_errno(raw, False)
        if len(_MESSAGE_NAMES_CHECKED) >= _MESSAGE_NAMES_CHECKED_MAX:
            _MESSAGE_NAMES_CHECKED.clear()
        _MESSAGE_NAMES_CHECKED[raw] = err
    return err
