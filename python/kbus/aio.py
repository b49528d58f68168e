# SPDX-License-Identifier: MPL-2.0
"""kbus for asyncio: the same protocol, read and written from the event loop.

::

    import kbus.aio

    async def main():
        async with await kbus.aio.connect(0) as ksock:
            await ksock.bind('$.Sensors.*')
            reply = await ksock.request('$.Sensors.Kitchen.Temperature', timeout=5)
            print(reply.data)
            async for msg in ksock:          # every other message, as it comes
                print(msg)

No threads: the socket is watched with ``loop.add_reader``.  Requests to
kbusd (bind, send, controls) are written at once and answered in order, so
any number may be outstanding on one connection.  ``request()`` sends a
request and waits for its reply; replies are matched by ``in_reply_to``,
taken from the queue as they arrive, and never appear in ``async for``.  A
status instead of a reply (semantics §9: the replier went away, ...) raises a
StatusError subclass such as ReplierGoneAway.

A request abandoned by cancellation or a timeout leaves the connection
usable: its reply, which kbusd always sends (semantics §9), is taken and dropped
when it comes.  If kbusd goes away, every pending call raises
ConnectionResetError (OSError ECONNRESET).  A connection made before
fork() raises RuntimeError in the child on any use but close().  An ALL_OR_WAIT ``send()`` waits
without blocking the loop until kbusd has delivered it; cancelling it
discards the held message.
"""

import asyncio
import collections
import errno
import os
import socket
import weakref
from typing import Optional

from . import errors, protocol, sockdir, transport, wire
from .errors import (ErrorSending, ReplierDisappeared, ReplierGoneAway,  # noqa: F401
                     ReplierIgnored, ReplierUnbound, StatusError)
from .messages import (Announcement, Message, MessageId, Request, Status,
                       check_can_reply, reply_to)
from .names import message_name_errno, name_bytes

_CHUNK = 64 * 1024
CLOSE_WAIT = 5.0
HANDSHAKE_WAIT = 30.0

__all__ = ['connect', 'AsyncKsock', 'StatusError', 'ReplierUnbound', 'ReplierGoneAway',
           'ReplierIgnored', 'ReplierDisappeared', 'ErrorSending']


# Every AsyncKsock, so that a child of fork() can mark them unusable without
# a getpid() call on each send.
_LIVE = weakref.WeakSet()


def _after_fork() -> None:
    for ksock in list(_LIVE):
        ksock._forked = True


os.register_at_fork(after_in_child=_after_fork)


async def connect(bus=0, mode='rw', timeout=None) -> 'AsyncKsock':
    """Open a ksock on @bus (a number, a socket path or ``/dev/kbus<N>``).

    @mode is ``'rw'`` or ``'r'`` (read-only: sending fails with EBADF).
    @timeout bounds connecting and the handshake together, in seconds (None:
    HANDSHAKE_WAIT); past it, OSError ETIMEDOUT.  As with Ksock, a per-user
    fallback socket directory that is not safe, or a kbusd that runs as
    another user, is OSError EPERM, and a server that is not a kbusd EPROTO.
    """
    if mode not in ('r', 'rw'):
        raise ValueError("Ksock mode should be 'r' or 'rw', not '%s'" % (mode,))
    timeout = transport.check_timeout(timeout, HANDSHAKE_WAIT)
    path, name, fallback = sockdir.resolve_source(bus)
    if fallback is not None:
        sockdir.check_dir(fallback)
    loop = asyncio.get_running_loop()
    ksock = AsyncKsock(transport.new_socket(), loop, mode == 'rw', name)
    try:
        await asyncio.wait_for(ksock._open(path, fallback is not None), timeout)
    except asyncio.TimeoutError:
        ksock.close()
        raise transport.timeout_error(path, timeout, ksock._opening) from None
    except BaseException:
        ksock.close()
        raise
    return ksock


_POST_NAMES = {}  # name -> (its wire bytes NUL-padded, its length): post() is a hot path
_POST_NAMES_MAX = 4096


def _post_name(name) -> tuple:
    """@name (str or bytes) checked as a sent message's name, encoded, and remembered."""
    raw = name_bytes(name)
    err = message_name_errno(raw)
    if err:
        raise errors.send_error(err, raw.decode('utf-8', 'replace'))
    padded = (raw + b'\0' * (wire.name_pad(len(raw)) - len(raw)), len(raw))
    if len(_POST_NAMES) >= _POST_NAMES_MAX:
        _POST_NAMES.clear()
    _POST_NAMES[name] = padded
    return padded


def _retrieved(fut: asyncio.Future) -> None:
    """Mark @fut's exception as seen (its waiter, if any, still gets it)."""
    if not fut.cancelled():
        fut.exception()


class _Send:
    """One SEND in flight: who waits for its id, or for its reply."""

    __slots__ = ('frame', 'result', 'reply', 'name', 'abandoned')

    def __init__(self, frame: bytes, result=None, reply=None, name: str = ''):
        self.frame = frame  # the whole SEND frame
        self.result = result
        self.reply = reply
        self.name = name
        self.abandoned = False


class AsyncKsock(protocol.ClientCore):
    """A ksock driven by an asyncio loop; make one with ``await connect()``."""

    def __init__(self, sock, loop, can_write: bool, name: str):
        super().__init__(can_write)
        self.name = name
        self._sock = sock
        self._owner_pid = os.getpid()
        self._forked = False  # set in a child of fork() (_after_fork): unusable there
        _LIVE.add(self)
        self._loop = loop
        self._closed = False
        self._out = bytearray()
        self._writing = False
        self._flush_due = False
        self._post_error = 0
        self._pending = collections.deque()
        self._replies = {}
        self._abandoned = set()
        self._held = None
        self._recv_waiters = []
        self._opening = ''

    # ---- the connection -----------------------------------------------

    async def _open(self, path: str, check_peer: bool) -> None:
        """Connect, check who serves if asked, and shake hands (connect() bounds it)."""
        self._opening = 'no kbusd accepted the connection'
        await transport.connect_async(self._loop, self._sock, path)
        if check_peer:
            sockdir.check_peer(self._sock, path)
        self._opening = 'no answer to the handshake'
        await self._handshake()

    async def _handshake(self) -> None:
        """Say HELLO, wait for the WELCOME, then watch the socket."""
        try:
            await self._loop.sock_sendall(self._sock, wire.hello(self._can_write))
        except (BrokenPipeError, ConnectionResetError):
            pass  # kbusd may have refused us at once: its WELCOME says why
        while not self._handshake_data(await self._recv_handshake()):
            pass
        self._loop.add_reader(self._sock.fileno(), self._on_readable)

    async def _recv_handshake(self) -> bytes:
        """Some bytes of the handshake (b'' at end of stream); descriptors are closed."""
        while True:
            try:
                return transport.recv_closing_fds(self._sock, _CHUNK)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                return b''
            await transport.readiness(self._loop, self._sock)

    def _on_readable(self) -> None:
        """Read what the socket has and act on it."""
        while not self._dead and not self._closed:
            try:
                data = self._sock.recv(_CHUNK)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b''
            if not data:
                self._fail(errno.ECONNRESET)
                return
            self._feed(data)
            if len(data) < _CHUNK:
                return  # most likely all there was: the loop calls again if not

    def _write(self, data: bytes) -> None:
        """Queue @data for kbusd: what one pass of the loop writes goes in one send."""
        if self._dead or self._closed:
            return
        self._out += data
        if not self._writing and not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self._flush_queued)

    def _flush_queued(self) -> None:
        """The loop's pass that queued bytes is over: write them."""
        self._flush_due = False
        if not self._writing and not self._closed:
            self._flush()

    def _flush(self) -> None:
        """Write queued bytes; wait for writability if the socket is full."""
        while self._out and not self._dead:
            try:
                sent = self._sock.send(self._out)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self._fail(errno.ECONNRESET)
                return
            del self._out[:sent]
        want = bool(self._out) and not self._dead
        if want and not self._writing:
            self._loop.add_writer(self._sock.fileno(), self._flush)
        elif not want and self._writing:
            self._loop.remove_writer(self._sock.fileno())
        self._writing = want

    def _fail(self, err: int) -> None:
        """kbusd has gone (or spoke nonsense): every waiter gets the error."""
        if self._dead:
            return
        super()._fail(err)
        self._unwatch()
        self._fail_waiters(errors.kbus_error(err))

    def _unwatch(self) -> None:
        """Stop watching the socket."""
        if self._sock is not None and self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            if self._writing:
                self._loop.remove_writer(self._sock.fileno())
        self._writing = False

    def _fail_waiters(self, error: OSError) -> None:
        """Give @error to every pending call and wake every receiver."""
        futures = [fut for fut, _ in self._pending]
        futures += [s.reply for s in self._replies.values()]
        if self._held is not None:
            futures += [self._held.result, self._held.reply]
        for fut in futures:
            if fut is not None and not fut.done():
                fut.set_exception(error)
        self._pending.clear()
        self._replies.clear()
        self._held = None
        self._wake_receivers()

    def _check_usable(self) -> None:
        """Raise if this ksock is closed, kbusd has gone, or this is a forked child."""
        if self._forked:
            raise RuntimeError('this kbus.aio connection was made by process %d: a child '
                               'made by fork() must connect its own (it may only close '
                               'this one)' % self._owner_pid)
        if self._closed:
            raise errors.closed_error()
        if self._dead:
            raise errors.kbus_error(self._dead)

    def _submit(self, frame: bytes, on_answer=None) -> asyncio.Future:
        """Write a request frame; the future gets its answer (@on_answer runs first)."""
        self._check_usable()
        fut = self._loop.create_future()
        fut.add_done_callback(_retrieved)  # SENDs report through their own futures
        self._pending.append((fut, on_answer))
        self._write(frame)
        return fut

    async def _request(self, frame: bytes, on_answer=None) -> wire.Answer:
        """Write a request frame and wait for its answer."""
        return await self._submit(frame, on_answer)

    def _on_answer(self, answer: wire.Answer) -> None:
        if not self._pending:
            self._fail(errno.EPROTO)  # an answer to nothing we asked
            return
        fut, on_answer = self._pending.popleft()
        if on_answer is not None:
            on_answer(answer)
        if not fut.done():
            fut.set_result(answer)

    async def _ctl(self, op: int, arg: int = 0) -> wire.Answer:
        """A CTL request; raises on a failure status."""
        answer = await self._request(wire.ctl(op, arg))
        if answer.status < 0:
            raise errors.kbus_error(-answer.status)
        return answer

    # ---- messages arriving ----------------------------------------------

    def _on_msg(self, held: protocol.Held) -> None:
        """A pushed message: a reply someone awaits, an abandoned reply, or the inbox's."""
        irt = held.message.in_reply_to
        if irt is not None and irt in self._replies:
            # the requester's task runs before the TAKE goes: its next send goes with it
            self._deliver_reply(self._replies.pop(irt), held.message)
            self._take(held)
        elif irt is not None and irt in self._abandoned:
            self._abandoned.discard(irt)
            self._take(held)
        else:
            self._inbox.add(held)
            self._wake_receivers()

    def _deliver_reply(self, send: _Send, message: Message) -> None:
        """Give the reply (or raise the status) to the request() that waits for it."""
        if send.reply.done():
            return
        if message.is_synthetic():  # a status made by kbusd (clients cannot set SYNTHETIC)
            send.reply.set_exception(errors.status_error(Status(message), send.name))
        else:
            send.reply.set_result(message)

    def _take(self, held: protocol.Held) -> None:
        """Tell kbusd the application took @held (semantics §9 "read")."""
        self._write(wire.take(held.seq))

    def _wake_receivers(self) -> None:
        """Wake every recv() waiting for a message."""
        waiters, self._recv_waiters = self._recv_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    # ---- sending --------------------------------------------------------

    def _send_frame(self, send: _Send, all_or_wait: bool) -> None:
        """Write a SEND; resolve @send when kbusd has delivered or refused it."""

        def on_answer(answer: wire.Answer) -> None:
            if answer.status == 0:
                self._sent(send, MessageId(answer.value0, answer.value1))
            elif answer.status == -errno.EAGAIN and all_or_wait:
                self._held = send  # completes with a DONE frame
                if send.abandoned:
                    self._abandon(send)
            else:
                self._refused(send, answer.status)

        self._submit(send.frame, on_answer)

    def _sent(self, send: _Send, msg_id: MessageId, after_done: bool = False) -> None:
        """kbusd delivered @send with id @msg_id (a DONE frame said so if @after_done)."""
        if send.reply is not None:
            self._expect_reply(send, msg_id, after_done)
        if send.result is not None and not send.result.done():
            send.result.set_result(msg_id)

    def _refused(self, send: _Send, status: int) -> None:
        """kbusd refused @send."""
        error = protocol.send_failure(status, send.frame[wire.FRAME_HDR_LEN:])
        for fut in (send.result, send.reply):
            if fut is not None and not fut.done():
                fut.set_exception(error)

    def _expect_reply(self, send: _Send, msg_id: MessageId, after_done: bool) -> None:
        """Route the reply to @msg_id to @send, or drop it if @send was abandoned.

        A held request that kbusd fails is answered by a status queued before
        the DONE frame that gives its id, so then look in the inbox first.
        (A RESULT always comes before the reply.)
        """
        early = None
        if after_done:
            early = self._inbox.pop_where(lambda held: held.message.in_reply_to == msg_id)
        if early is not None:
            self._take(early)
            if not (send.abandoned or send.reply.done()):
                self._deliver_reply(send, early.message)
        elif send.abandoned or send.reply.done():
            self._abandoned.add(msg_id)
        else:
            self._replies[msg_id] = send

    def _on_done(self, status: int, id_net: int, id_serial: int) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        if status == 0:
            self._sent(held, MessageId(id_net, id_serial), after_done=True)
        else:
            self._refused(held, status)

    def _abandon(self, send: _Send) -> None:
        """The caller gave up on @send: drop its reply when it comes; discard it if held."""
        send.abandoned = True
        for msg_id, waiting in list(self._replies.items()):
            if waiting is send:
                del self._replies[msg_id]
                self._abandoned.add(msg_id)
        if self._held is send and not self._dead and not self._closed:
            self._submit(wire.frame(wire.DISCARD), lambda answer: self._discarded(send))

    def _discarded(self, send: _Send) -> None:
        """kbusd answered DISCARD: if no DONE came first, @send was dropped."""
        if self._held is send:
            self._held = None

    def _check_writable(self) -> None:
        """Raise unless this ksock is usable and may send."""
        self._check_usable()
        if not self._can_write:
            raise errors.kbus_error(errno.EBADF, "the ksock was opened read-only ('r'), so it "
                                                 "cannot send")

    def _prepare(self, message) -> bytes:
        """Check @message and encode it (errors are raised here, not by kbusd)."""
        self._check_writable()
        return protocol.encode_for_send(message)

    async def _await_send(self, send: _Send, fut: asyncio.Future, timeout: Optional[float]):
        """Wait for @fut (of @send); abandon @send if the wait ends without a result."""
        try:
            if timeout is None:
                return await fut
            return await asyncio.wait_for(fut, timeout)
        finally:
            if not fut.done() or fut.cancelled():
                self._abandon(send)

    async def send(self, message, data=None) -> MessageId:
        """Send @message (a Message, or a name and @data for an Announcement).

        Returns the id kbusd gave it, once it is in every recipient's queue.
        A request sent this way gets its reply in the queue like any message.
        """
        if not isinstance(message, Message):
            message = Announcement(message, data)
        self._raise_post_error()
        send = _Send(wire.frame(wire.SEND, self._prepare(message)),
                     result=self._loop.create_future(),
                     name=message.name)
        self._send_frame(send, bool(message.flags & Message.ALL_OR_WAIT))
        return await self._await_send(send, send.result, None)

    def post(self, message, data=None) -> None:
        """Send an announcement without waiting for kbusd: pipelined, for streams.

        @message is a name (with @data, bytes or str) or an Announcement.  It
        goes out with this pass of the loop's other writes, and kbusd answers
        nothing when it delivers it.  One kbusd refuses (a name the policy
        forbids, too large for the bus) makes a later post() or send() raise
        that error, as libkbus's kbus_ksock_post_msg() does.  Requests,
        replies and ALL_OR_WAIT / ALL_OR_FAIL messages need send().
        """
        self._raise_post_error()
        if isinstance(message, Message):
            if message.is_request() or message.is_reply() or (
                    message.flags & (Message.ALL_OR_WAIT | Message.ALL_OR_FAIL)):
                raise errors.kbus_error(errno.EINVAL, 'only announcements can be posted: '
                                                      'send() the others')
            frame = wire.frame(wire.SEND, self._prepare(message), wire.SEND_POST)
        else:
            if not isinstance(message, (str, bytes)):
                message = name_bytes(message)  # a bytearray or memoryview; else TypeError
            frame = self._simple_frame(message, data, 0, wire.SEND_POST)
        self._write(frame)

    def _simple_frame(self, name, data, flags: int, frame_flags: int, irt_net: int = 0,
                      irt_serial: int = 0, to: int = 0) -> bytes:
        """The SEND of a message @name with @data and @flags (and, for a reply,
        @irt_net, @irt_serial and @to), checked as send() checks it."""
        if self._closed or self._dead or self._forked or not self._can_write:
            self._check_writable()
        padded = _POST_NAMES.get(name)
        if padded is None:
            padded = _post_name(name)
        if data is None:
            data = b''
        elif data.__class__ is not bytes:
            data = data.encode('utf-8') if isinstance(data, str) else bytes(data)
        if len(data) > wire.MSG_SIZE_ABS_MAX - wire.MSG_FIXED_LEN - len(padded[0]):
            raise errors.kbus_error(errno.EMSGSIZE, 'the message is larger than any bus allows '
                                                    '(16 MiB)')
        return wire.simple_send(padded[0], padded[1], data, flags, frame_flags, irt_net,
                                irt_serial, to)

    def _raise_post_error(self) -> None:
        """Raise the error of a posted message kbusd refused, once."""
        status, self._post_error = self._post_error, 0
        if status:
            raise errors.kbus_error(-status, 'kbusd refused a posted message')

    def _on_post_error(self, status: int) -> None:
        if not self._post_error:
            self._post_error = status

    async def request(self, message, data=None, *, timeout: Optional[float] = None) -> Message:
        """Send a request and return its reply.

        @message is a Request (or a Message, which is made one), or a name
        with @data.  A status instead of a reply raises a StatusError
        subclass (ReplierGoneAway, ...); no reply within @timeout seconds
        raises asyncio.TimeoutError.  Either way the connection stays usable.
        """
        if isinstance(message, (str, bytes)):  # the common case, without a Message object
            frame = self._simple_frame(message, data, Message.WANT_A_REPLY, 0)
            send = _Send(frame, reply=self._loop.create_future(),
                         name=message if isinstance(message, str) else message.decode('utf-8',
                                                                                      'replace'))
            self._send_frame(send, False)
            return await self._await_send(send, send.reply, timeout)
        if not isinstance(message, Message):
            message = Request(message, data)
        elif not message.is_request():
            message = Request.from_message(message)
        send = _Send(wire.frame(wire.SEND, self._prepare(message)),
                     reply=self._loop.create_future(), name=message.name)
        self._send_frame(send, bool(message.flags & Message.ALL_OR_WAIT))
        return await self._await_send(send, send.reply, timeout)

    async def reply(self, request: Message, data=None, flags: int = 0) -> MessageId:
        """Answer @request (which must want us to reply) with @data."""
        if flags:
            return await self.send(reply_to(request, data, flags))
        check_can_reply(request)  # the common case, without a Reply object
        irt = request.id
        send = _Send(self._simple_frame(request.name, data, 0, 0, irt.network_id, irt.serial_num,
                                        request.from_),
                     result=self._loop.create_future(), name=request.name)
        self._send_frame(send, False)
        return await self._await_send(send, send.result, None)

    # ---- receiving ------------------------------------------------------

    async def recv(self) -> Message:
        """Take the next message, waiting for one; URGENT ones come first."""
        while True:
            held = self._inbox.pop()
            if held is not None:
                self._take(held)
                return held.message
            self._check_usable()
            fut = self._loop.create_future()
            self._recv_waiters.append(fut)
            try:
                await fut
            finally:
                if fut in self._recv_waiters:
                    self._recv_waiters.remove(fut)

    async def wait_for_msg(self, timeout: Optional[float] = None) -> Optional[Message]:
        """recv(), or None if no message comes within @timeout seconds."""
        try:
            return await asyncio.wait_for(self.recv(), timeout)
        except asyncio.TimeoutError:
            return None

    def read_next_msg(self) -> Optional[Message]:
        """Take the next message already received, or None (never waits)."""
        self._check_usable()
        held = self._inbox.pop()
        if held is None:
            return None
        self._take(held)
        return held.message

    def __aiter__(self):
        return self

    async def __anext__(self) -> Message:
        if self._closed:
            raise StopAsyncIteration
        try:
            return await self.recv()
        except OSError:
            if self._closed:
                raise StopAsyncIteration from None
            raise

    # ---- bindings and controls ------------------------------------------

    async def bind(self, name, replier: bool = False) -> None:
        """Listen to @name (wildcards allowed), or become its one replier."""
        frame = protocol.name_frame(wire.BIND, name, True, wire.BIND_REPLIER if replier else 0)
        answer = await self._request(frame)
        if answer.status < 0:
            raise errors.bind_error(-answer.status, str(name), bool(replier))

    async def unbind(self, name, replier: bool = False) -> None:
        """Remove the most recent binding matching @name and @replier, and what it queued."""
        frame = protocol.name_frame(wire.UNBIND, name, True, wire.BIND_REPLIER if replier else 0)

        def drop(answer: wire.Answer) -> None:
            if answer.status == 0:
                self._inbox.drop_binding(answer.value0)

        answer = await self._request(frame, drop)
        if answer.status < 0:
            raise errors.bind_error(-answer.status, str(name), bool(replier), unbind=True)

    async def find_replier(self, name) -> Optional[int]:
        """The ksock id of the replier for @name, or None."""
        answer = await self._request(protocol.name_frame(wire.REPLIER, name, False))
        if answer.status < 0:
            raise errors.kbus_error(-answer.status)
        return answer.value0 or None

    def ksock_id(self) -> int:
        """This ksock's id on its bus."""
        if self._closed:
            raise errors.closed_error()
        return self._id

    def fileno(self) -> int:
        """The socket's file descriptor."""
        if self._closed:
            raise errors.closed_error()
        return self._sock.fileno()

    async def num_messages(self) -> int:
        """How many messages are queued for this ksock and not yet taken."""
        return (await self._ctl(wire.CTL_NUM_MESSAGES)).value0

    async def num_unreplied_to(self) -> int:
        """How many requests this ksock has taken as replier and not answered."""
        return (await self._ctl(wire.CTL_UNREPLIED_TO)).value0

    async def max_messages(self) -> int:
        """The length limit of this ksock's queue."""
        return (await self._ctl(wire.CTL_MAX_MESSAGES, 0)).value0

    async def set_max_messages(self, count: int) -> int:
        """Set the queue length limit (0 only asks); return the limit in force."""
        arg = protocol.check_u32(count, 'count')
        return (await self._ctl(wire.CTL_MAX_MESSAGES, arg)).value0

    async def last_msg_id(self) -> MessageId:
        """The id of the last message this ksock sent."""
        answer = await self._ctl(wire.CTL_LAST_SENT)
        return MessageId(answer.value0, answer.value1)

    async def want_messages_once(self, only_once=False, just_ask=False) -> int:
        """Only one copy of each message; return the state before."""
        arg = protocol.switch_arg(only_once, just_ask)
        return (await self._ctl(wire.CTL_ONLY_ONCE, arg)).value0

    async def report_replier_binds(self, report_events=True, just_ask=False) -> int:
        """Ask for $.KBUS.ReplierBindEvent messages; return this ksock's state before."""
        arg = protocol.switch_arg(report_events, just_ask)
        return (await self._ctl(wire.CTL_REPORT_BINDS, arg)).value0

    # ---- closing ----------------------------------------------------------

    def _shut(self) -> bool:
        """Stop using the connection (pending calls raise EBADF); False if already shut."""
        if self._closed:
            return False
        self._closed = True
        if self._forked:
            # A child of fork() shares the parent's connection and its event
            # loop's epoll set: write nothing, unwatch nothing, only let go.
            return True
        if self._out and not self._dead:
            try:
                self._sock.send(self._out)  # last TAKEs, if the socket takes them
            except OSError:
                pass
        self._unwatch()
        self._inbox.clear()
        self._fail_waiters(errors.closed_error())
        return True

    def close(self) -> None:
        """Close the ksock at once; pending calls raise EBADF, ``async for`` ends.

        kbusd acts on the close when it reads it; ``await aclose()`` waits for that.
        """
        if self._shut():
            self._sock.close()

    async def aclose(self, timeout: float = CLOSE_WAIT) -> None:
        """close(), then wait until kbusd has acted on it, as Ksock.close() does.

        When it returns, kbusd has dropped the bindings and answered what
        this ksock owed (semantics §9).  ``async with`` ends with this.
        """
        if not self._shut():
            return
        try:
            # in a forked child only close: shutting down would end the parent's ksock
            if not self._dead and os.getpid() == self._owner_pid:
                self._sock.shutdown(socket.SHUT_WR)
                await asyncio.wait_for(self._drain_to_eof(), timeout)
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            self._sock.close()

    async def _drain_to_eof(self) -> None:
        """Read (and drop) until kbusd closes its end."""
        while await self._loop.sock_recv(self._sock, _CHUNK):
            pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, etype, value, tb):
        await self.aclose()
        return False

    def __repr__(self):
        state = 'closed' if self._closed else 'open, id %d' % self._id
        return '<kbus.aio.AsyncKsock %s %s>' % (self.name, state)
