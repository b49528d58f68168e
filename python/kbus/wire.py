# SPDX-License-Identifier: MPL-2.0
"""The kbus socket protocol: frames, their layouts and codecs (docs/protocol.md).

Everything here is pure: bytes in, values out, no sockets.  All integers on
the wire are little-endian.  A frame is an 8-byte header (total length,
type, flags) followed by a body whose layout depends on the type.  The C
definitions are in src/proto/wire.h; the two must agree.
"""

import struct
from typing import List, NamedTuple, Tuple

from .names import NAME_LEN_MAX

PROTO_MAGIC = 0x5355424B  # the bytes "KBUS"
PROTO_VERSION = 1

FRAME_HDR = struct.Struct('<IHH')
FRAME_HDR_LEN = FRAME_HDR.size
FRAME_LEN_MAX = 64 * 1024 * 1024

# Frames a client sends.
HELLO = 1
SEND = 2
BIND = 3
UNBIND = 4
CTL = 5
REPLIER = 6
TAKE = 7
WAKE = 8
DISCARD = 9
QUERY = 10
POKE = 11

# Frames kbusd sends.
WELCOME = 0x81
RESULT = 0x82
MSG = 0x83
DONE = 0x84
ERROR = 0x85
NOP = 0x86

SEND_WAIT = 0x1
SEND_POST = 0x2
BIND_REPLIER = 0x1
UNBIND_OR_FAIL = 0x2
MSG_YOU_REPLY = 0x1
WAKE_SYNC = 0x1      # WAKE: read the take log now, and answer with a NOP

MODE_READ = 0x1
MODE_WRITE = 0x2

# CTL operations (semantics §5).
CTL_MAX_MESSAGES = 1
CTL_NUM_MESSAGES = 2
CTL_UNREPLIED_TO = 3
CTL_LAST_SENT = 4
CTL_ONLY_ONCE = 5
CTL_REPORT_BINDS = 6
CTL_VERBOSE = 7
CTL_NEW_BUS = 8
CTL_MAX_MSG_SIZE = 9
CTL_ASK = 0xFFFFFFFF

QUERY_BINDINGS = 1
QUERY_STATS = 2

# Message sizes (semantics §4): the encoded size is what the bus maximum limits.
MSG_SIZE_MIN = 100
MSG_SIZE_ABS_MAX = 16 * 1024 * 1024

# What a client accepts from kbusd (docs/protocol.md "What a client checks").
ERRNO_MAX = 4095        # an errno kbusd reports is in [-ERRNO_MAX, -1]
ERROR_TEXT_MAX = 4096   # the longest text an ERROR frame may carry
BUS_MAX = 255           # kbusd serves at most 256 buses

_HELLO = struct.Struct('<IHHII')
_WELCOME = struct.Struct('<IHHiIIIII')
_RESULT = struct.Struct('<iII')
_ERROR = struct.Struct('<iHH')
_U32 = struct.Struct('<I')
_CTL = struct.Struct('<II')
_MSG_FIXED = struct.Struct('<14I')
MSG_FIXED_LEN = _MSG_FIXED.size
MSG_PREFIX_LEN = 8

# The body lengths each frame type kbusd sends may have: (least, most).
_BODY_BOUNDS = {
    MSG: (MSG_PREFIX_LEN + MSG_FIXED_LEN, MSG_PREFIX_LEN + MSG_SIZE_ABS_MAX),
    RESULT: (_RESULT.size, FRAME_LEN_MAX - FRAME_HDR_LEN),
    DONE: (_RESULT.size, _RESULT.size),
    ERROR: (_ERROR.size, _ERROR.size + ERROR_TEXT_MAX),
    NOP: (0, 0),
    WELCOME: (_WELCOME.size, _WELCOME.size),
}


class ProtocolError(Exception):
    """kbusd sent something this library cannot make sense of."""


class Welcome(NamedTuple):
    """kbusd's answer to HELLO."""
    magic: int
    version: int
    reserved: int
    status: int
    ksock_id: int
    bus: int
    max_msg_size: int
    max_messages: int
    shm_size: int


class Answer(NamedTuple):
    """The answer to one request: a RESULT, or an ERROR about that frame."""
    status: int
    value0: int = 0
    value1: int = 0
    payload: bytes = b''


class WireMessage(NamedTuple):
    """A message as the protocol carries it (SEND body, MSG body after its prefix)."""
    id_net: int = 0
    id_serial: int = 0
    irt_net: int = 0
    irt_serial: int = 0
    to: int = 0
    from_: int = 0
    orig_net: int = 0
    orig_local: int = 0
    final_net: int = 0
    final_local: int = 0
    extra: int = 0
    flags: int = 0
    name: bytes = b''
    data: bytes = b''


def frame(ftype: int, body: bytes = b'', flags: int = 0) -> bytes:
    """Return one frame: the header for @body, then @body."""
    return FRAME_HDR.pack(FRAME_HDR_LEN + len(body), ftype, flags) + body


HELLO_OPT_SHM = 0x1  # the client wants the shared take-log page (shm.py)


def hello(read_write: bool, shared_page: bool = False) -> bytes:
    """The HELLO frame; with @shared_page, asking for the take-log page."""
    mode = MODE_READ | (MODE_WRITE if read_write else 0)
    options = HELLO_OPT_SHM if shared_page else 0
    return frame(HELLO, _HELLO.pack(PROTO_MAGIC, PROTO_VERSION, mode, options, 0))


def take(seq: int) -> bytes:
    """The TAKE frame saying the application took MSG number @seq."""
    return frame(TAKE, _U32.pack(seq & 0xFFFFFFFF))


def ctl(op: int, arg: int) -> bytes:
    """A CTL frame."""
    return frame(CTL, _CTL.pack(op, arg))


def query(what: int) -> bytes:
    """A QUERY frame."""
    return frame(QUERY, _U32.pack(what))


def name_pad(name_len: int) -> int:
    """Length of a name on the wire: padded to 4 bytes with at least one NUL."""
    return (name_len + 4) & ~3


def message_size(name_len: int, data_len: int) -> int:
    """The encoded size of a message, which the bus maximum limits."""
    return MSG_FIXED_LEN + name_pad(name_len) + data_len


def declared_size(head: bytes) -> int:
    """The encoded size that a message's fixed part (@head, at least MSG_FIXED_LEN bytes) gives."""
    fields = _MSG_FIXED.unpack_from(head)
    return message_size(fields[12], fields[13])


def encode_message(w: WireMessage) -> bytes:
    """Encode a message as the body of a SEND frame."""
    fixed = _MSG_FIXED.pack(w.id_net, w.id_serial, w.irt_net, w.irt_serial, w.to, w.from_,
                            w.orig_net, w.orig_local, w.final_net, w.final_local, w.extra,
                            w.flags, len(w.name), len(w.data))
    padding = b'\0' * (name_pad(len(w.name)) - len(w.name))
    return b''.join((fixed, w.name, padding, w.data))


_SIMPLE_HEAD = struct.Struct('<IHH14I')  # a SEND frame's header, then the fixed part


def simple_send(padded_name: bytes, name_len: int, data: bytes, flags: int,
                frame_flags: int = 0, irt_net: int = 0, irt_serial: int = 0,
                to: int = 0) -> bytes:
    """The SEND frame of a message with only a name, data, @flags and, for a
    reply, the id it answers and its recipient set.

    @padded_name is the name NUL-padded as name_pad() says, @name_len its
    length; @frame_flags is SEND_POST for a posted one.  (The hot path of
    requests, replies and posts: no WireMessage is built.)
    """
    return b''.join((_SIMPLE_HEAD.pack(FRAME_HDR_LEN + MSG_FIXED_LEN + len(padded_name) +
                                       len(data), SEND, frame_flags, 0, 0, irt_net, irt_serial,
                                       to, 0, 0, 0, 0, 0, 0, flags, name_len, len(data)),
                     padded_name, data))


def decode_message(body: bytes) -> WireMessage:
    """Decode an encoded message, checking every length; ProtocolError if malformed."""
    if len(body) < MSG_FIXED_LEN:
        raise ProtocolError('message shorter than its fixed part')
    f = _MSG_FIXED.unpack_from(body)
    name_len, data_len = f[12], f[13]
    padded = name_pad(name_len)
    if MSG_FIXED_LEN + padded + data_len != len(body):
        raise ProtocolError('message lengths do not add up')
    name_end = MSG_FIXED_LEN + name_len
    if body[name_end:MSG_FIXED_LEN + padded].strip(b'\0'):
        raise ProtocolError('message name padding is not NUL')
    return WireMessage(*f[:12], name=bytes(body[MSG_FIXED_LEN:name_end]),
                       data=bytes(body[MSG_FIXED_LEN + padded:]))


class BindingRecord(NamedTuple):
    """One binding, as the bindings query reports it (semantics §12)."""
    bus: int
    ksock_id: int
    pid: int
    uid: int
    is_replier: bool
    name: str


_BINDING_FIXED = struct.Struct('<6I')


def decode_bindings(payload: bytes) -> List[BindingRecord]:
    """Decode a bindings query's payload into BindingRecords; ProtocolError if malformed."""
    if len(payload) < _U32.size:
        raise ProtocolError('bindings answer without a count')
    count, = _U32.unpack_from(payload)
    records = []
    at = _U32.size
    for _ in range(count):
        if at + _BINDING_FIXED.size > len(payload):
            raise ProtocolError('bindings answer shorter than its count')
        bus, ksock_id, pid, uid, replier, name_len = _BINDING_FIXED.unpack_from(payload, at)
        at += _BINDING_FIXED.size
        end = at + name_pad(name_len)
        if name_len > NAME_LEN_MAX or end > len(payload) or payload[at + name_len:end].strip(b'\0'):
            raise ProtocolError('bindings answer with a malformed name')
        name = bytes(payload[at:at + name_len]).decode('ascii', 'replace')
        records.append(BindingRecord(bus, ksock_id, pid, uid, bool(replier), name))
        at = end
    if at != len(payload):
        raise ProtocolError('bindings answer longer than its records')
    return records


def decode_welcome(body: bytes) -> Welcome:
    """Decode a WELCOME body."""
    if len(body) != _WELCOME.size:
        raise ProtocolError('WELCOME of the wrong length')
    return Welcome(*_WELCOME.unpack(body))


def decode_result(body: bytes) -> Answer:
    """Decode a RESULT body (status, two values, then any payload)."""
    if len(body) < _RESULT.size:
        raise ProtocolError('RESULT too short')
    status, v0, v1 = _RESULT.unpack_from(body)
    return Answer(status, v0, v1, bytes(body[_RESULT.size:]))


def decode_done(body: bytes) -> Tuple[int, int, int]:
    """Decode a DONE body: (status, id network, id serial)."""
    if len(body) != _RESULT.size:
        raise ProtocolError('DONE of the wrong length')
    return _RESULT.unpack(body)


def decode_error(body: bytes) -> Tuple[int, int, int, str]:
    """Decode an ERROR body: (status, about type, about flags, text)."""
    if len(body) < _ERROR.size:
        raise ProtocolError('ERROR too short')
    status, about_type, about_flags = _ERROR.unpack_from(body)
    text = bytes(body[_ERROR.size:]).decode('utf-8', 'replace')
    return status, about_type, about_flags, text


def decode_msg_prefix(body: bytes) -> Tuple[int, bytes]:
    """Split a MSG body into (binding id, encoded message)."""
    if len(body) < MSG_PREFIX_LEN:
        raise ProtocolError('MSG too short')
    return _U32.unpack_from(body)[0], body[MSG_PREFIX_LEN:]


class FrameReader:
    """Cuts a byte stream from kbusd into frames; keeps any partial frame for next time.

    Each frame is judged by its header before its body is kept: a length
    outside [8, 64 MiB], or outside the bounds of its type, raises
    ProtocolError at once (nothing is kept, or waited for, on the word of a
    header); a WELCOME may only come first.  The buffer grows with the bytes
    that arrive.  Frames of types this library does not know are skipped
    as their bytes arrive, without being kept (kbusd may add some).
    """

    def __init__(self):
        self._buf = bytearray()
        self._skip = 0
        self._first = True

    def _kept(self, length: int, ftype: int) -> bool:
        """Whether a frame of @ftype, @length long, is kept (False: skipped)."""
        if length < FRAME_HDR_LEN or length > FRAME_LEN_MAX:
            raise ProtocolError('impossible frame length %d' % length)
        bounds = _BODY_BOUNDS.get(ftype)
        if bounds is None:
            return False
        least, most = bounds
        if not least <= length - FRAME_HDR_LEN <= most:
            raise ProtocolError('a frame of type 0x%x cannot be %d bytes long' % (ftype, length))
        if ftype == WELCOME and not self._first:
            raise ProtocolError('a second WELCOME')
        return True

    def feed(self, data: bytes) -> List[Tuple[int, int, bytes]]:
        """Add @data; return every complete frame as (type, flags, body)."""
        self._buf += data
        frames = []
        pos = 0
        buf = self._buf
        while True:
            if self._skip:
                n = min(self._skip, len(buf) - pos)
                pos += n
                self._skip -= n
                if self._skip:
                    break
            if len(buf) - pos < FRAME_HDR_LEN:
                break
            length, ftype, flags = FRAME_HDR.unpack_from(buf, pos)
            if not self._kept(length, ftype):
                self._skip = length
                continue
            if len(buf) - pos < length:
                break
            frames.append((ftype, flags, bytes(buf[pos + FRAME_HDR_LEN:pos + length])))
            self._first = False
            pos += length
        del buf[:pos]
        return frames

    def pending(self) -> int:
        """How many bytes of a partial frame are kept."""
        return len(self._buf)
