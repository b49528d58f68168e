# SPDX-License-Identifier: MPL-2.0
"""KBUS messages: Message and its kinds, ids, and the helpers that make replies.

The classes and their printing follow the original KBUS Python binding, so
that its sessions run unchanged::

    >>> m = Message('$.Actor.Speak', 'Ahem', from_=113, id=MessageId(0, 338))
    >>> m
    Message('$.Actor.Speak', data='Ahem', from_=113, id=MessageId(0, 338))
    >>> print(m)
    <Announcement '$.Actor.Speak', id=[0:338], from=113, data='Ahem'>

Data is bytes; a str given as data is encoded (UTF-8 unless ``encoding``
says otherwise).  ``msg.data`` is a Data, a bytes subclass that also
compares equal to the str it encodes, so ``toss.data == 'Head'`` works as it
did in Python 2; it is None when the message has no data, as in the
original.  Printing shows data that is valid UTF-8 as the repr of that text
(``data='Ahem'``, no b prefix, as the original printed it), and any other
data as a bytes literal (``data=b'\\xff\\x00'``), so the repr of a message
always evaluates back to an equal message.
"""

import functools
import struct
from typing import Optional, Tuple

from . import wire
from .names import name_bytes

_U32_MAX = 0xFFFFFFFF
_BIND_EVENT = struct.Struct('=III')
BIND_EVENT_NAME = '$.KBUS.ReplierBindEvent'
# The fixed part of to_bytes(), before the name (the original: its C header's size).
MSG_HEADER_LEN = wire.MSG_FIXED_LEN


def data_repr(data: bytes) -> str:
    """How message printing shows @data: the text's repr if UTF-8, else the bytes literal."""
    try:
        return repr(bytes(data).decode('utf-8'))
    except UnicodeDecodeError:
        return repr(bytes(data))


class Data(bytes):
    """Message data: bytes that also compare equal to the str they encode as UTF-8.

    ``str(data)`` is the text itself when the data is valid UTF-8 (so
    ``print('So,', count.data)`` prints ``So, Head count is 1``).  Only
    equality and str() know about text; everything else is plain bytes.
    """

    __slots__ = ()

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                return bytes(self) == other.encode('utf-8')
            except UnicodeEncodeError:
                return False
        return bytes.__eq__(self, other)

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = bytes.__hash__

    def __str__(self):
        try:
            return bytes(self).decode('utf-8')
        except UnicodeDecodeError:
            return repr(bytes(self))


def _u32(value, what: str) -> int:
    """Check that @value is an unsigned 32-bit integer."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _U32_MAX:
        raise ValueError('%s must be an integer from 0 to %d, not %r' % (what, _U32_MAX, value))
    return value


@functools.total_ordering
class MessageId:
    """A message id: {network_id, serial_num}; ordered, hashable, ``id + n`` adds to the serial.

    >>> MessageId(0, 337)
    MessageId(0, 337)
    >>> print(MessageId(0, 337))
    [0:337]
    """

    __slots__ = ('network_id', 'serial_num')

    def __init__(self, network_id: int = 0, serial_num: int = 0):
        self.network_id = _u32(network_id, 'network_id')
        self.serial_num = _u32(serial_num, 'serial_num')


    def __repr__(self):
        return 'MessageId(%u, %u)' % (self.network_id, self.serial_num)

    def __str__(self):
        return '[%u:%u]' % (self.network_id, self.serial_num)

    def _key(self) -> Tuple[int, int]:
        return (self.network_id, self.serial_num)

    def __eq__(self, other):
        if not isinstance(other, MessageId):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other):
        if not isinstance(other, MessageId):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self):
        return hash(('MessageId',) + self._key())

    def __add__(self, other):
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return MessageId(self.network_id, self.serial_num + other)

    def __iter__(self):
        return iter(self._key())


@functools.total_ordering
class OrigFrom:
    """{network_id, local_id}: the type of orig_from and final_to (Limpets, semantics §13)."""

    __slots__ = ('network_id', 'local_id')

    def __init__(self, network_id: int = 0, local_id: int = 0):
        self.network_id = _u32(network_id, 'network_id')
        self.local_id = _u32(local_id, 'local_id')


    def __repr__(self):
        return 'OrigFrom(%u, %u)' % (self.network_id, self.local_id)

    def __str__(self):
        return '(%u,%u)' % (self.network_id, self.local_id)

    def _key(self) -> Tuple[int, int]:
        return (self.network_id, self.local_id)

    def __eq__(self, other):
        if not isinstance(other, OrigFrom):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other):
        if not isinstance(other, OrigFrom):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self):
        return hash(('OrigFrom',) + self._key())

    def __iter__(self):
        return iter(self._key())


def _message_id(network_id: int, serial_num: int) -> MessageId:
    """A MessageId from two values known to be u32s (decoded from the wire): no checks."""
    pair = object.__new__(MessageId)
    pair.network_id = network_id
    pair.serial_num = serial_num
    return pair


def _orig_from(network_id: int, local_id: int) -> OrigFrom:
    """An OrigFrom from two values known to be u32s (decoded from the wire): no checks."""
    pair = object.__new__(OrigFrom)
    pair.network_id = network_id
    pair.local_id = local_id
    return pair


def _pair(value, cls, what: str):
    """Accept None, a @cls instance or a 2-tuple; return a @cls."""
    if value is None:
        return _message_id(0, 0) if cls is MessageId else _orig_from(0, 0)
    if isinstance(value, cls):  # a copy: the fields of a message are its own
        return _message_id(*value._key()) if cls is MessageId else _orig_from(*value._key())
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return cls(*value)
    raise ValueError('%s must be a %s, not %r' % (what, cls.__name__, value))


def _data_bytes(data, encoding: str, errors: str) -> bytes:
    """Message data as bytes: a str is encoded, None is empty."""
    if data is None:
        return b''
    if isinstance(data, str):
        return data.encode(encoding, errors)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError('message data must be bytes or str, not %s' % type(data).__name__)


_FIELDS = ('data', 'to', 'from_', 'orig_from', 'final_to', 'in_reply_to', 'flags', 'id')


class Message:
    """A KBUS message.

    ``Message(arg, data=None, to=None, from_=None, orig_from=None,
    final_to=None, in_reply_to=None, flags=None, id=None)``: @arg is a
    message name (which must start ``$.``), another Message (whose fields
    the keyword arguments override), a 9-item sequence as ``extract()``
    returns, or the bytes of ``to_bytes()`` (then no other argument).
    """

    START_GUARD = 0x7375624B
    END_GUARD = 0x4B627573

    WANT_A_REPLY = 0x1
    WANT_YOU_TO_REPLY = 0x2
    SYNTHETIC = 0x4
    URGENT = 0x8
    ALL_OR_WAIT = 0x100
    ALL_OR_FAIL = 0x200

    _REPR_FIELDS = _FIELDS

    def __init__(self, arg, data=None, to=None, from_=None, orig_from=None, final_to=None,
                 in_reply_to=None, flags=None, id=None, encoding='utf-8', errors='strict'):
        self._set(arg, dict(data=data, to=to, from_=from_, orig_from=orig_from,
                            final_to=final_to, in_reply_to=in_reply_to, flags=flags, id=id),
                  encoding, errors)
        self._normalise()

    # ---- construction -------------------------------------------------

    def _set(self, arg, overrides: dict, encoding: str, errors: str) -> None:
        """Fill the fields from @arg, then from the keyword arguments that are not None."""
        self.extra = 0
        if isinstance(arg, Message):
            fields = dict(zip(('id', 'in_reply_to', 'to', 'from_', 'orig_from', 'final_to',
                               'flags', 'name', 'data'), arg.extract()))
            self.extra = arg.extra
        elif isinstance(arg, (tuple, list)):
            if len(arg) != 9:
                raise ValueError('a sequence given to Message() must have 9 values, not %d'
                                 % len(arg))
            fields = dict(zip(('id', 'in_reply_to', 'to', 'from_', 'orig_from', 'final_to',
                               'flags', 'name', 'data'), arg))
        elif isinstance(arg, (bytes, bytearray, memoryview)):
            if any(v is not None for v in overrides.values()):
                raise ValueError('if a message is given as bytes, no other arguments are '
                                 'allowed')
            self._set_wire(_decode(bytes(arg)), 0)
            return
        elif isinstance(arg, str):
            if not arg.startswith('$.'):
                raise ValueError('Message name "%s" does not start "$."' % arg)
            fields = dict(name=arg)
        else:
            raise ValueError('Argument %r does not seem to make sense' % (arg,))
        fields.update({k: v for k, v in overrides.items() if v is not None})
        self._set_fields(fields, encoding, errors)

    def _set_fields(self, f: dict, encoding: str, errors: str) -> None:
        """Store and check the fields named in @f (missing ones are zero)."""
        name = f['name']
        if isinstance(name, (bytes, bytearray)):
            name = bytes(name).decode('utf-8', 'surrogateescape')
        if not isinstance(name, str):
            raise ValueError('a message name must be a str, not %r' % (name,))
        if len(name_bytes(name)) < 3:
            raise ValueError("Message name is %d long, minimum is 3 (e.g., '$.*')"
                             % len(name_bytes(name)))
        self._name = name
        self._data = _data_bytes(f.get('data'), encoding, errors)
        self._id = _pair(f.get('id'), MessageId, 'id')
        self._in_reply_to = _pair(f.get('in_reply_to'), MessageId, 'in_reply_to')
        self._to = _u32(f['to'], 'to') if f.get('to') else 0
        self._from = _u32(f['from_'], 'from_') if f.get('from_') else 0
        self._orig_from = _pair(f.get('orig_from'), OrigFrom, 'orig_from')
        self._final_to = _pair(f.get('final_to'), OrigFrom, 'final_to')
        self._flags = _u32(f['flags'], 'flags') if f.get('flags') else 0

    def _set_wire(self, w: wire.WireMessage, extra_flags: int) -> None:
        """Store the fields of a decoded wire message (u32s already: no checks)."""
        self._name = w.name.decode('utf-8', 'surrogateescape')
        self._data = w.data
        self._id = _message_id(w.id_net, w.id_serial)
        self._in_reply_to = _message_id(w.irt_net, w.irt_serial)
        self._to = w.to
        self._from = w.from_
        self._orig_from = _orig_from(w.orig_net, w.orig_local)
        self._final_to = _orig_from(w.final_net, w.final_local)
        self._flags = w.flags | extra_flags
        self.extra = w.extra

    def _normalise(self) -> None:
        """What a kind of message insists on; nothing for a plain Message."""

    @classmethod
    def from_message(cls, msg, **overrides):
        """A new message of this class from @msg, with fields overridden by keyword."""
        return cls._build(msg, overrides)

    @classmethod
    def from_sequence(cls, seq, **overrides):
        """A new message of this class from a 9-item sequence as ``extract()`` gives."""
        if len(seq) != 9:
            raise ValueError('a sequence given to from_sequence() must have 9 values, not %d'
                             % len(seq))
        return cls._build(tuple(seq), overrides)

    @classmethod
    def from_bytes(cls, data):
        """A new message of this class from the bytes ``to_bytes()`` gives."""
        return cls._build(bytes(data), {})

    @classmethod
    def _build(cls, arg, overrides: dict):
        encoding = overrides.pop('encoding', 'utf-8')
        errors = overrides.pop('errors', 'strict')
        unknown = set(overrides) - set(_FIELDS)
        if unknown:
            raise TypeError('unexpected keyword argument %r' % sorted(unknown)[0])
        message = cls.__new__(cls)
        message._set(arg, {k: overrides.get(k) for k in _FIELDS}, encoding, errors)
        message._normalise()
        return message

    @classmethod
    def _from_wire(cls, w: wire.WireMessage, extra_flags: int = 0):
        """A message received from kbusd (internal)."""
        message = cls.__new__(cls)
        message._set_wire(w, extra_flags)
        return message

    def _to_wire(self) -> wire.WireMessage:
        """This message in wire form (internal)."""
        return wire.WireMessage(
            self._id.network_id, self._id.serial_num, self._in_reply_to.network_id,
            self._in_reply_to.serial_num, self._to, self._from, self._orig_from.network_id,
            self._orig_from.local_id, self._final_to.network_id, self._final_to.local_id,
            self.extra, self._flags, name_bytes(self._name), self._data)

    # ---- fields -------------------------------------------------------

    @property
    def name(self) -> str:
        """The message name."""
        return self._name

    @property
    def data(self) -> Optional[Data]:
        """The data (a Data, which is bytes), or None if there is none."""
        return Data(self._data) if self._data else None

    @property
    def id(self) -> Optional[MessageId]:
        """The message id, or None if unset."""
        return MessageId(*self._id) if any(self._id) else None

    @property
    def in_reply_to(self) -> Optional[MessageId]:
        """The id of the request this answers, or None."""
        return MessageId(*self._in_reply_to) if any(self._in_reply_to) else None

    @property
    def to(self) -> int:
        """The ksock id this is for (0: anyone)."""
        return self._to

    @property
    def from_(self) -> int:
        """The ksock id of the sender (set by kbusd)."""
        return self._from

    @property
    def orig_from(self) -> Optional[OrigFrom]:
        """Where a message bridged by Limpets came from, or None."""
        return OrigFrom(*self._orig_from) if any(self._orig_from) else None

    @property
    def final_to(self) -> Optional[OrigFrom]:
        """Where a stateful request bridged by Limpets goes, or None."""
        return OrigFrom(*self._final_to) if any(self._final_to) else None

    @property
    def flags(self) -> int:
        """The flags (semantics §4)."""
        return self._flags

    def extract(self) -> tuple:
        """(id, in_reply_to, to, from_, orig_from, final_to, flags, name, data)."""
        return (self.id, self.in_reply_to, self.to, self.from_, self.orig_from, self.final_to,
                self.flags, self.name, self.data)

    def to_bytes(self) -> bytes:
        """The message encoded as kbus sends it (docs/protocol.md, "Messages")."""
        return wire.encode_message(self._to_wire())

    def total_length(self) -> int:
        """The length of ``to_bytes()``: the size the bus maximum limits."""
        return wire.message_size(len(name_bytes(self._name)), len(self._data))

    # ---- flags --------------------------------------------------------

    def _set_flag(self, bit: int, value: bool) -> None:
        self._flags = (self._flags | bit) if value else (self._flags & ~bit)

    def set_want_reply(self, value=True) -> None:
        """Set or clear WANT_A_REPLY."""
        self._set_flag(Message.WANT_A_REPLY, value)

    def set_urgent(self, value=True) -> None:
        """Set or clear URGENT (the message goes to the front of each queue)."""
        self._set_flag(Message.URGENT, value)

    def wants_us_to_reply(self) -> bool:
        """Whether this copy of a request is ours to answer (WANT_YOU_TO_REPLY, as the original)."""
        return bool(self._flags & Message.WANT_YOU_TO_REPLY)

    def is_synthetic(self) -> bool:
        """Whether kbusd made this message (a status or bind event)."""
        return bool(self._flags & Message.SYNTHETIC)

    def is_urgent(self) -> bool:
        """Whether URGENT is set."""
        return bool(self._flags & Message.URGENT)

    def is_reply(self) -> bool:
        """Whether in_reply_to is set (replies and statuses)."""
        return any(self._in_reply_to)

    def is_request(self) -> bool:
        """Whether WANT_A_REPLY is set."""
        return bool(self._flags & Message.WANT_A_REPLY)

    def is_stateful_request(self) -> bool:
        """Whether this is a request for one particular replier (``to`` set)."""
        return self.is_request() and self._to != 0

    # ---- comparing ----------------------------------------------------

    def _key(self) -> tuple:
        return (self._id, self._in_reply_to, self._to, self._from, self._orig_from,
                self._final_to, self._flags, self._name, self._data)

    def __eq__(self, other):
        if not isinstance(other, Message):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None

    def equivalent(self, other) -> bool:
        """Equal, ignoring id, flags, in_reply_to, from_, orig_from and final_to."""
        return (isinstance(other, Message) and self._to == other._to and
                self._name == other._name and self._data == other._data)

    def cast(self):
        """A copy of this message as Status, Reply, Request or Announcement."""
        if self.is_reply():
            return (Status if self._name.startswith('$.KBUS.') else Reply).from_message(self)
        if self.is_request():
            return Request.from_message(self)
        return Announcement.from_message(self)

    # ---- printing -----------------------------------------------------

    def _repr_part(self, field: str) -> Optional[str]:
        """One keyword of the repr, or None if that field is unset."""
        value = {'data': self._data, 'to': self._to, 'from_': self._from,
                 'orig_from': self.orig_from, 'final_to': self.final_to,
                 'in_reply_to': self.in_reply_to, 'flags': self._flags, 'id': self.id}[field]
        if not value:
            return None
        if field == 'data':
            return 'data=' + data_repr(value)
        if field == 'flags':
            return 'flags=0x%08x' % value
        return '%s=%r' % (field, value)

    def __repr__(self):
        parts = [repr(self._name)]
        parts += [p for p in map(self._repr_part, self._REPR_FIELDS) if p]
        return '%s(%s)' % (type(self).__name__, ', '.join(parts))

    def _kind(self) -> str:
        """What str() calls this message."""
        if self._name == BIND_EVENT_NAME and not self.is_reply():
            return 'ReplierBindEvent'
        if self.is_reply():
            return 'Status' if self._name.startswith('$.KBUS.') else 'Reply'
        return 'Request' if self.is_request() else 'Announcement'

    def _flag_text(self) -> str:
        """The known flags as REQ,YOU,SYN,URG,aFL,aWT."""
        labels = ((Message.WANT_A_REPLY, 'REQ'), (Message.WANT_YOU_TO_REPLY, 'YOU'),
                  (Message.SYNTHETIC, 'SYN'), (Message.URGENT, 'URG'),
                  (Message.ALL_OR_FAIL, 'aFL'), (Message.ALL_OR_WAIT, 'aWT'))
        return ','.join(label for bit, label in labels if self._flags & bit)

    def _data_text(self, kind: str) -> str:
        """The data part of str(): a bind event's contents, or data=..."""
        if kind == 'ReplierBindEvent':
            try:
                is_bind, binder, name = split_replier_bind_event_data(self._data)
                return '[%s %r for %u]' % ('Bind' if is_bind else 'Unbind', name, binder)
            except ValueError:
                pass
        return 'data=' + data_repr(self._data)

    def __str__(self):
        kind = self._kind()
        parts = [] if kind == 'ReplierBindEvent' else [repr(self._name)]
        if any(self._id):
            parts.append('id=%s' % self._id)
        if self._to:
            parts.append('to=%d' % self._to)
        if self._from:
            parts.append('from=%d' % self._from)
        if any(self._orig_from):
            parts.append('orig_from=%s' % self._orig_from)
        if any(self._final_to):
            parts.append('final_to=%s' % self._final_to)
        if any(self._in_reply_to):
            parts.append('in_reply_to=%s' % self._in_reply_to)
        if self._flags:
            text = self._flag_text()
            parts.append('flags=0x%x (%s)' % (self._flags, text) if text
                         else 'flags=0x%x' % self._flags)
        if self._data:
            parts.append(self._data_text(kind))
        return '<%s %s>' % (kind, ', '.join(parts))


class Announcement(Message):
    """A message that wants no reply; in_reply_to, orig_from and final_to are always unset."""

    _REPR_FIELDS = ('data', 'to', 'from_', 'flags', 'id')

    def __init__(self, arg, data=None, to=None, from_=None, flags=None, id=None,
                 encoding='utf-8', errors='strict'):
        super().__init__(arg, data=data, to=to, from_=from_, flags=flags, id=id,
                         encoding=encoding, errors=errors)

    def _normalise(self) -> None:
        self._in_reply_to = MessageId(0, 0)
        self._orig_from = OrigFrom(0, 0)
        self._final_to = OrigFrom(0, 0)

    def set_want_reply(self, value=True) -> None:
        """Announcements are not Requests."""
        raise TypeError('Announcements are not Requests')


class Request(Message):
    """A message that wants a reply: WANT_A_REPLY is always set.

    With ``to`` set it is a stateful request (see stateful_request()).
    """

    _REPR_FIELDS = ('data', 'to', 'from_', 'orig_from', 'final_to', 'flags', 'id')

    def __init__(self, arg, data=None, to=None, from_=None, final_to=None, flags=None, id=None,
                 encoding='utf-8', errors='strict'):
        super().__init__(arg, data=data, to=to, from_=from_, final_to=final_to, flags=flags,
                         id=id, encoding=encoding, errors=errors)

    def _normalise(self) -> None:
        self._flags |= Message.WANT_A_REPLY

    def set_want_reply(self, value=True) -> None:
        """A Request always wants a reply."""
        raise TypeError('Request always has "want a reply" set')


class Reply(Message):
    """A reply: in_reply_to must be set.  reply_to() is the usual way to make one."""

    _REPR_FIELDS = ('data', 'to', 'from_', 'orig_from', 'in_reply_to', 'flags', 'id')

    def __init__(self, arg, data=None, to=None, from_=None, orig_from=None, in_reply_to=None,
                 flags=None, id=None, encoding='utf-8', errors='strict'):
        super().__init__(arg, data=data, to=to, from_=from_, orig_from=orig_from,
                         in_reply_to=in_reply_to, flags=flags, id=id, encoding=encoding,
                         errors=errors)

    def _normalise(self) -> None:
        if not self.is_reply():
            raise ValueError('A Reply must specify in_reply_to')


class Status(Message):
    """A reply made by kbusd (a name under ``$.KBUS.``), wrapping a received message.

    ``Status(message)`` or ``Status.from_bytes(data)``; orig_from and final_to
    are not kept.
    """

    _REPR_FIELDS = ('data', 'to', 'from_', 'in_reply_to', 'flags', 'id')

    def __init__(self, original):
        if not isinstance(original, (Message, bytes, bytearray, memoryview)):
            raise ValueError('a Status wraps a Message or its bytes, not %r' % (original,))
        super().__init__(original)

    def _normalise(self) -> None:
        self._orig_from = OrigFrom(0, 0)
        self._final_to = OrigFrom(0, 0)


def _decode(data: bytes) -> wire.WireMessage:
    """Decode to_bytes() output; ValueError if it is not a message."""
    try:
        return wire.decode_message(data)
    except wire.ProtocolError as e:
        raise ValueError('not an encoded message: %s' % e) from None


def check_can_reply(original) -> None:
    """ValueError unless @original is a request we are to answer."""
    both = Message.WANT_A_REPLY | Message.WANT_YOU_TO_REPLY
    if original.flags & both != both:
        raise ValueError('Cannot form a reply to a message that does not have WANT_A_REPLY '
                         'and WANT_YOU_TO_REPLY set: %s' % original)


def reply_to(original, data=None, flags=0, encoding='utf-8', errors='strict') -> Reply:
    """The Reply to @original, which must be a request we are to answer.

    The reply has the request's name, goes to its sender and answers its id.
    """
    check_can_reply(original)
    # Built field by field: @original's name, id and sender were checked when it was
    # made (or decoded), so only the new data and flags need checking (a hot path).
    reply = Reply.__new__(Reply)
    reply.extra = 0
    reply._name = original.name
    reply._data = _data_bytes(data, encoding, errors)
    reply._id = _message_id(0, 0)
    reply._in_reply_to = _message_id(*original.id)
    reply._to = original.from_
    reply._from = 0
    reply._orig_from = _orig_from(0, 0)
    reply._final_to = _orig_from(0, 0)
    reply._flags = _u32(flags or 0, 'flags')
    reply._normalise()
    return reply


def stateful_request(earlier_msg, name, data=None, from_=None, flags=None, id=None,
                     encoding='utf-8', errors='strict') -> Request:
    """A Request that only the replier of @earlier_msg may answer.

    From a Reply, ``to`` is its sender and ``final_to`` its orig_from; from an
    earlier stateful Request, both are copied.  Sending it fails with EPIPE if
    another ksock has become the replier since.
    """
    if earlier_msg.is_reply():
        to, final_to = earlier_msg.from_, earlier_msg.orig_from
    elif earlier_msg.is_stateful_request():
        to, final_to = earlier_msg.to, earlier_msg.final_to
    else:
        raise ValueError('The first argument of stateful_request() must be a Reply or a '
                         'previous Stateful Request')
    return Request(name, data=data, to=to, from_=from_, final_to=final_to, flags=flags, id=id,
                   encoding=encoding, errors=errors)


def split_replier_bind_event_data(data) -> Tuple[int, int, str]:
    """Split the data of a ``$.KBUS.ReplierBindEvent``: (is_bind, binder, name).

    The data is u32 is_bind, u32 binder ksock id, u32 name length (host byte
    order), then the name padded with NULs (semantics §11).
    """
    raw = bytes(data or b'')
    if len(raw) < _BIND_EVENT.size:
        raise ValueError('bind event data too short')
    is_bind, binder, name_len = _BIND_EVENT.unpack_from(raw)
    if name_len > len(raw) - _BIND_EVENT.size:
        raise ValueError('bind event name longer than its data')
    name = raw[_BIND_EVENT.size:_BIND_EVENT.size + name_len]
    return is_bind, binder, name.decode('utf-8', 'surrogateescape')
