# SPDX-License-Identifier: MPL-2.0
"""The client side of the kbus protocol, without I/O (shared by Ksock and kbus.aio).

kbusd pushes every message queued for a ksock to its socket at once (a MSG
frame).  The message stays in the ksock's queue (semantics §5) until the
application *takes* it; this library then sends a TAKE frame naming the
message's sequence number (the n-th MSG frame on a connection is number n).
It does not ask for the shared page the C library uses.

What this module keeps:

* the Inbox: pushed messages not yet taken, URGENT ones put in front of
  every other one held (semantics §8), minus those of a binding just unbound
  (kbusd removed them from the queue: semantics §6);
* the parsing of frames into calls of ``_on_msg``, ``_on_answer``,
  ``_on_done`` and ``_on_nop``, which the blocking and asyncio front ends
  implement.

Every request frame gets exactly one answer (RESULT or ERROR), in order,
except TAKE, WAKE, POKE (answered by NOP) and posted SENDs; so a client that
remembers what it asked, in order, knows what each answer belongs to.

kbusd is not trusted blindly (semantics §18): every WELCOME field is checked,
frames are bounded by type before they are kept (wire.FrameReader), a MSG
must carry a message kbusd could have delivered (it decodes, its name is
valid, it fits the largest bus), statuses must be 0 or an errno.  Anything
else makes the connection unusable with EPROTO.
"""

import collections
import errno
from typing import NamedTuple, Optional, Tuple

from . import errors, wire
from .messages import Message
from .names import name_bytes, name_errno, message_name_errno


class Held(NamedTuple):
    """A pushed message the application has not taken yet."""
    seq: int
    binding_id: int
    message: Message
    size: int


class Inbox:
    """Pushed messages not yet taken, in the order the application will take them."""

    def __init__(self):
        self._held = collections.deque()
        self.received = 0

    def receive(self, binding_id: int, message: Message, size: int) -> Held:
        """Number the next MSG frame's message (the n-th MSG frame is number n)."""
        self.received += 1
        return Held(self.received, binding_id, message, size)

    def add(self, held: Held) -> None:
        """Keep @held until it is taken; URGENT ones go to the front (semantics §8)."""
        if held.message.flags & Message.URGENT:
            self._held.appendleft(held)
        else:
            self._held.append(held)

    def pop(self) -> Optional[Held]:
        """The next message to take, or None."""
        return self._held.popleft() if self._held else None

    def pop_where(self, predicate) -> Optional[Held]:
        """The first held message for which @predicate is true, removed; or None."""
        for held in self._held:
            if predicate(held):
                self._held.remove(held)
                return held
        return None

    def drop_binding(self, binding_id: int) -> int:
        """Forget the messages queued by one binding (it was unbound); return how many."""
        kept = [h for h in self._held if h.binding_id != binding_id]
        dropped = len(self._held) - len(kept)
        self._held = collections.deque(kept)
        return dropped

    def clear(self) -> None:
        """Forget everything held."""
        self._held.clear()

    def __len__(self):
        return len(self._held)


def status_ok(status: int) -> bool:
    """Whether @status is one kbusd may send: 0 or a negative errno."""
    return -wire.ERRNO_MAX <= status <= 0


def _bad_welcome(why: str) -> OSError:
    return errors.kbus_error(errno.EPROTO, 'not a kbusd, or a broken one: its WELCOME has %s'
                             % why)


def check_welcome(w: wire.Welcome) -> None:
    """Raise the right OSError if the WELCOME refuses us, or is not one kbusd sends."""
    if w.magic != wire.PROTO_MAGIC:
        raise errors.kbus_error(errno.EPROTO, 'the bus socket is not a kbusd')
    if not status_ok(w.status):
        raise _bad_welcome('status %d' % w.status)
    if w.status == -errno.EPROTONOSUPPORT:
        raise errors.kbus_error(errno.EPROTO, 'kbusd speaks protocol version %d, not %d'
                                % (w.version, wire.PROTO_VERSION))
    if w.status < 0:
        raise errors.kbus_error(-w.status, 'kbusd refused the connection: %s'
                                % errors.MEANINGS.get(-w.status, 'no reason given'))
    if w.version != wire.PROTO_VERSION:
        raise _bad_welcome('version %d' % w.version)
    if w.ksock_id == 0:
        raise _bad_welcome('ksock id 0')
    if w.bus > wire.BUS_MAX:
        raise _bad_welcome('bus %d' % w.bus)
    if not wire.MSG_SIZE_MIN <= w.max_msg_size <= wire.MSG_SIZE_ABS_MAX:
        raise _bad_welcome('maximum message size %d' % w.max_msg_size)


def decode_pushed(body: bytes) -> Tuple[int, bytes, wire.WireMessage]:
    """A MSG body as (binding id, encoded message, message), or ProtocolError.

    The message must be one kbusd could have delivered: it decodes, its
    name is a valid message name, and it fits the largest bus.
    """
    binding_id, encoded = wire.decode_msg_prefix(body)
    w = wire.decode_message(encoded)
    if len(encoded) > wire.MSG_SIZE_ABS_MAX:
        raise wire.ProtocolError('a message larger than any bus allows')
    if message_name_errno(w.name):
        raise wire.ProtocolError('a message with an invalid name')
    return binding_id, encoded, w


def first_frame_welcome(ftype: int, body: bytes) -> wire.Welcome:
    """The WELCOME a connection must start with, checked."""
    if ftype == wire.ERROR:
        status, _, _, text = wire.decode_error(body)
        raise errors.kbus_error(errno.EPROTO, 'kbusd refused the handshake: %s' % text)
    if ftype != wire.WELCOME:
        raise errors.kbus_error(errno.EPROTO, 'kbusd did not answer the handshake')
    try:
        welcome = wire.decode_welcome(body)
    except wire.ProtocolError as e:
        raise errors.kbus_error(errno.EPROTO, str(e)) from None
    check_welcome(welcome)
    return welcome


def bindings_answer(answer: wire.Answer) -> list:
    """The BindingRecords of a bindings query's answer, checked (semantics §12, §18)."""
    if answer.status < 0:
        raise errors.kbus_error(-answer.status)
    try:
        if answer.value0 != len(answer.payload):
            raise wire.ProtocolError('a query answer whose length is not its payload\'s')
        return wire.decode_bindings(answer.payload)
    except wire.ProtocolError as e:
        raise errors.kbus_error(errno.EPROTO, str(e)) from None


def name_frame(ftype: int, name, wildcard: bool, flags: int = 0) -> bytes:
    """A BIND, UNBIND or REPLIER frame for @name, after checking the name here."""
    raw = name_bytes(name)
    err = name_errno(raw, wildcard)
    if err:
        shown = name if isinstance(name, str) else raw.decode('utf-8', 'replace')
        if err == errno.ENAMETOOLONG:
            raise errors.kbus_error(err, 'message names are at most 1000 bytes long, '
                                         'not %d' % len(raw))
        raise errors.kbus_error(err, '%r is not a valid %s' % (
            shown, 'binding' if wildcard else 'message name'))
    return wire.frame(ftype, raw, flags)


def encode_for_send(message: Message) -> bytes:
    """The SEND body for @message, after the checks kbusd would make (semantics §7 step 1)."""
    if not isinstance(message, Message):
        raise TypeError('send a Message, not %s' % type(message).__name__)
    w = message._to_wire()
    err = message_name_errno(w.name)
    if err == errno.ENAMETOOLONG:
        raise errors.kbus_error(err, 'message names are at most 1000 bytes long, not %d'
                                % len(w.name))
    if err:
        raise errors.send_error(err, message.name)
    all_or = Message.ALL_OR_WAIT | Message.ALL_OR_FAIL
    if w.flags & all_or == all_or or (message.is_request() and message.is_reply()):
        raise errors.send_error(errno.EINVAL, message.name)
    if wire.message_size(len(w.name), len(w.data)) > wire.MSG_SIZE_ABS_MAX:
        raise errors.kbus_error(errno.EMSGSIZE, 'the message is larger than any bus allows '
                                               '(16 MiB)')
    return wire.encode_message(w)


def describe_send(body: bytes) -> Tuple[str, int, bool, bool]:
    """(name, to, is_request, is_reply) of an encoded message, for error texts."""
    try:
        w = wire.decode_message(body)
    except wire.ProtocolError:
        return '', 0, False, False
    return (w.name.decode('utf-8', 'replace'), w.to, bool(w.flags & Message.WANT_A_REPLY),
            bool(w.irt_net or w.irt_serial))


def send_failure(status: int, body: bytes) -> OSError:
    """The OSError for a SEND kbusd refused with @status."""
    name, to, is_request, is_reply = describe_send(body)
    return errors.send_error(-status, name, to, is_request, is_reply)


def check_u32(value, what: str) -> int:
    """An argument that travels as a u32; EINVAL otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise errors.kbus_error(errno.EINVAL, '%s must be an integer from 0 to 4294967295, '
                                              'not %r' % (what, value))
    return value


def switch_arg(on, just_ask: bool) -> int:
    """The CTL argument of an on/off/ask switch."""
    return wire.CTL_ASK if just_ask else (1 if on else 0)


class ClientCore:
    """What both front ends share: frame parsing, the inbox, the ksock's identity."""

    def __init__(self, can_write: bool):
        self._reader = wire.FrameReader()
        self._inbox = Inbox()
        self._can_write = can_write
        self._dead = 0
        self._id = 0
        self.bus = None
        self._max_msg_size = 0

    def _welcomed(self, w: wire.Welcome) -> None:
        """Remember what the WELCOME said."""
        self._id = w.ksock_id
        self.bus = w.bus
        self._max_msg_size = w.max_msg_size

    def _handshake_data(self, data: bytes) -> bool:
        """Take bytes read during the handshake; True once the WELCOME was handled.

        Both front ends send HELLO, then feed what they read here until it
        returns True; frames that came with the WELCOME are acted on too.
        """
        if not data:
            raise errors.kbus_error(errno.EPROTO, 'kbusd closed the connection during '
                                                  'the handshake')
        try:
            frames = self._reader.feed(data)
        except wire.ProtocolError:
            raise errors.kbus_error(errno.EPROTO, 'the bus socket is not a kbusd') from None
        if not frames:
            return False
        ftype, _, body = frames[0]
        self._welcomed(first_frame_welcome(ftype, body))
        self._act_on(frames[1:])
        if self._dead:
            raise errors.kbus_error(self._dead, 'kbusd sent something no kbusd sends')
        return True

    def _feed(self, data: bytes) -> None:
        """Parse @data from kbusd and act on every complete frame."""
        try:
            frames = self._reader.feed(data)
        except wire.ProtocolError:
            self._fail(errno.EPROTO)
            return
        self._act_on(frames)

    def _act_on(self, frames) -> None:
        """Act on each frame in turn, until one is not what kbusd sends."""
        for ftype, flags, body in frames:
            if self._dead:
                return
            try:
                self._on_frame(ftype, flags, body)
            except wire.ProtocolError:
                self._fail(errno.EPROTO)
                return

    def _on_frame(self, ftype: int, flags: int, body: bytes) -> None:
        """Dispatch one frame; frames of unknown types are skipped."""
        if ftype == wire.MSG:
            binding_id, encoded, w = decode_pushed(body)
            you = Message.WANT_YOU_TO_REPLY if flags & wire.MSG_YOU_REPLY else 0
            message = Message._from_wire(w, you)
            self._on_msg(self._inbox.receive(binding_id, message, len(encoded)))
        elif ftype == wire.RESULT:
            answer = wire.decode_result(body)
            if not status_ok(answer.status):
                raise wire.ProtocolError('a RESULT with status %d' % answer.status)
            self._on_answer(answer)
        elif ftype == wire.ERROR:
            status, about_type, about_flags, _ = wire.decode_error(body)
            if status == 0 or not status_ok(status):
                raise wire.ProtocolError('an ERROR with status %d' % status)
            if about_type == wire.SEND and about_flags & wire.SEND_POST:
                self._on_post_error(status)
            else:
                self._on_answer(wire.Answer(status))
        elif ftype == wire.DONE:
            status, id_net, id_serial = wire.decode_done(body)
            if not status_ok(status):
                raise wire.ProtocolError('a DONE with status %d' % status)
            self._on_done(status, id_net, id_serial)
        elif ftype == wire.NOP:
            self._on_nop()
        elif ftype == wire.WELCOME:
            raise wire.ProtocolError('a second WELCOME')

    def _on_msg(self, held: Held) -> None:
        """A message was pushed: keep it until the application takes it."""
        self._inbox.add(held)

    def _on_answer(self, answer: wire.Answer) -> None:
        """The answer to the oldest unanswered request."""

    def _on_done(self, status: int, id_net: int, id_serial: int) -> None:
        """A held ALL_OR_WAIT send completed."""

    def _on_nop(self) -> None:
        """kbusd answered a POKE."""

    def _on_post_error(self, status: int) -> None:
        """kbusd refused a posted message."""

    def _fail(self, err: int) -> None:
        """The connection can no longer be used."""
        if not self._dead:
            self._dead = err
