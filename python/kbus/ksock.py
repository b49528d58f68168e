# SPDX-License-Identifier: MPL-2.0
"""Ksock: one blocking connection to a bus, with the original KBUS Python API.

Each call that needs kbusd writes one request frame and waits for its
answer, keeping the messages kbusd pushes meanwhile.  Taking a message
(``next_msg``, ``read_next_msg``, iteration, ``wait_for_msg``) first reads
everything already in the socket, so that it sees every message kbusd has
queued by then (kbusd writes a message to its recipients before it answers
its sender), then tells kbusd: when a read returns, the message has left
the ksock's queue for every other ksock too, as NEXTMSG did with the kernel
module.  Where it can (shm.py: x86-64), the binding takes through the page
kbusd shares with it, as libkbus does: two stores, no frame.  Elsewhere it
sends a TAKE frame and a control request whose answer shows kbusd has
applied it.

``fileno()`` is the socket, for select/poll/selectors.  Since the library
reads ahead, messages may wait here while the socket is empty; then it
sends kbusd a POKE, which kbusd answers with a NOP frame, so that the
socket reads as readable while a message waits (docs/design.md, idea 6).
A readable socket therefore means "a message may be waiting": call
``read_next_msg()`` until it returns None.

Before saying that there is no message, it reads up to the newest message
the shared page says kbusd queued, or without the page asks kbusd how many
are queued (one round trip, only then), so a queued message is never missed.

Opening is bounded: connecting and the handshake must be done within
@timeout seconds (default HANDSHAKE_WAIT, 30 s), else OSError ETIMEDOUT.
A socket directory that is a per-user fallback ($XDG_RUNTIME_DIR/kbus,
/tmp/kbus-<uid>) is checked before connecting, and the server's uid after
(sockdir.check_dir, sockdir.check_peer): OSError EPERM if either fails.
kbusd's frames are checked as protocol.py says; one that is not what kbusd
sends makes every later call raise OSError EPROTO.

Threads: a ksock belongs to one thread at a time.  Each thread may have its
own ksocks and use them concurrently with the others'.  A call on a ksock
that another thread is inside (a wait_for_msg(), say) raises RuntimeError
at once rather than mix the two threads' frames on one connection; share a
ksock between threads only behind a lock of your own.

Fork: a child may close the ksocks it inherited, or just exit: that closes
its copy of the socket and leaves the parent's ksock working (the child
does not shut the connection down).  It must not otherwise use them: the
connection and its queue are the parent's.
"""

import errno
import fcntl
import os
import select
import struct
import functools
import termios
import threading
import time
from typing import Optional

from . import errors, protocol, shm, sockdir, transport, wire
from .messages import Message, MessageId

_CHUNK = 64 * 1024
CLOSE_WAIT = 5.0
HANDSHAKE_WAIT = 30.0
_FIONREAD = struct.Struct('i')


class _BeingRead:
    """The message next_msg() took and the application has not read yet.

    read_msg() hands it over whole; read_data() hands out its ``to_bytes()``
    in pieces, and @read counts the bytes handed out so far.
    """

    __slots__ = ('message', 'size', 'data', 'read')

    def __init__(self, message: Message, size: int):
        self.message = message
        self.size = size
        self.data = None  # to_bytes(), made when first needed
        self.read = 0

    def left(self) -> int:
        return self.size - self.read

    def piece(self, count: int) -> bytes:
        """The next @count bytes at most."""
        if self.data is None:
            self.data = self.message.to_bytes()
        piece = self.data[self.read:self.read + count]
        self.read += len(piece)
        return piece


class _DeviceFile:
    """What ``Ksock.fd`` was in the original binding, the open /dev/kbus<N> file.

    Reading gives the bytes of the message next_msg() took (read_data),
    writing appends to the message being written (write_data).  ioctl()
    on it is not possible: kbus has no device (docs/compat.md).
    """

    __slots__ = ('_ksock',)

    def __init__(self, ksock):
        self._ksock = ksock

    def read(self, count=-1) -> bytes:
        if count is None or count < 0:
            count = self._ksock.len_left()
        return self._ksock.read_data(count)

    def write(self, data) -> int:
        return self._ksock.write_data(data)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return self._ksock.fileno()


def _read_only_readiness(sock) -> select.epoll:
    """An epoll descriptor that is readable when @sock is, and never writable."""
    readiness = select.epoll()
    try:
        readiness.register(sock.fileno(), select.EPOLLIN)
    except BaseException:
        readiness.close()
        raise
    return readiness


class Ksock(protocol.ClientCore):
    """A connection to a bus: ``Ksock(which=0, mode='rw', timeout=None)``.

    @which is a bus number, a bus socket path, or ``/dev/kbus<N>`` (bus N).
    @mode is ``'r'`` (bind and read only: sending fails with EBADF) or
    ``'rw'``.  @timeout bounds connecting and the handshake together, in
    seconds (None: HANDSHAKE_WAIT).  Opening a bus nobody serves raises
    OSError ENOENT; one that does not answer in time, ETIMEDOUT; an unsafe
    per-user socket directory, or a kbusd running as another user, EPERM;
    a server that is not a kbusd, or breaks the protocol, EPROTO.
    """

    def __init__(self, which=0, mode='rw', timeout=None):
        if mode not in ('r', 'rw'):
            raise ValueError("Ksock mode should be 'r' or 'rw', not '%s'" % (mode,))
        timeout = transport.check_timeout(timeout, HANDSHAKE_WAIT)
        deadline = time.monotonic() + timeout
        super().__init__(mode == 'rw')
        self._sock = None
        path, self.name, fallback = sockdir.resolve_source(which)
        self.which = which
        self.mode = 'read/write' if mode == 'rw' else 'read'
        self._answers = []
        self._asked = 0
        self._skip = 0
        self._nops_asked = 0  # frames sent that kbusd answers with a NOP (POKE, WAKE SYNC)
        self._nops_got = 0
        self._written = None  # a Message (write_msg) or a bytearray (write_data)
        self._send_pending = False
        self._being_read = None
        self._readiness = None  # read-only: what fileno() gives (see there)
        self._entry = threading.Lock()  # held by the thread inside a call (_one_thread)
        self._thread = None
        self._page = None  # the shared take-log page (shm.py), if kbusd gave one
        self._page_fd = None
        self._page_size = 0
        if fallback is not None:
            sockdir.check_dir(fallback)
        sock = transport.connect(path, deadline, timeout)
        try:
            if fallback is not None:
                sockdir.check_peer(sock, path)
            self._sock = sock
            self._owner_pid = os.getpid()
            self._handshake(path, deadline, timeout)
            self._readiness = None if self._can_write else _read_only_readiness(sock)
        except BaseException:
            sock.close()  # not close(): that waits for a kbusd that may never answer
            self._sock = None
            raise

    # ---- the connection -----------------------------------------------

    def _handshake(self, path: str, deadline: float, timeout: float) -> None:
        """Say HELLO and wait for the WELCOME, all before @deadline."""
        hello = memoryview(wire.hello(self._can_write, shm.usable()))
        while hello:
            try:
                hello = hello[self._sock.send(hello):]
            except (BlockingIOError, InterruptedError):
                if not transport.wait(self._sock, select.POLLOUT, deadline - time.monotonic()):
                    raise transport.timeout_error(path, timeout, 'no answer to the handshake') \
                        from None
            except OSError:
                break  # kbusd may have refused us at once: its WELCOME says why
        try:
            while not self._handshake_data(self._recv_handshake(path, deadline, timeout)):
                pass
            self._map_page()
        finally:
            if self._page_fd is not None:
                os.close(self._page_fd)
                self._page_fd = None

    def _welcomed(self, w: wire.Welcome) -> None:
        super()._welcomed(w)
        self._page_size = w.shm_size

    def _map_page(self) -> None:
        """Map the page the WELCOME offered; without one, takes use TAKE frames."""
        if (self._page_fd is None) != (self._page_size == 0):
            raise errors.kbus_error(errno.EPROTO, 'not a kbusd, or a broken one: its WELCOME '
                                                  'has a shared page size without the page, '
                                                  'or the page without its size')
        if self._page_fd is not None:
            try:
                self._page = shm.SharedPage(self._page_fd, self._page_size)
            except (shm.PageError, OSError) as e:
                raise errors.kbus_error(errno.EPROTO, 'not a kbusd, or a broken one: %s'
                                        % e) from None

    def _recv_handshake(self, path: str, deadline: float, timeout: float) -> bytes:
        """Wait, until @deadline, for some bytes (b'' at end of stream)."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not transport.wait(self._sock, select.POLLIN, left):
                raise transport.timeout_error(path, timeout, 'no answer to the handshake')
            try:
                if not shm.usable():
                    return transport.recv_closing_fds(self._sock, _CHUNK)
                data, fd = transport.recv_keeping_fd(self._sock, _CHUNK)
                if fd is not None and self._page_fd is not None:
                    os.close(fd)  # only the WELCOME carries one
                elif fd is not None:
                    self._page_fd = fd
                return data
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return b''

    def _read_available(self) -> int:
        """Read everything already in the socket, without waiting; return the byte count."""
        total = 0
        while not self._dead:
            try:
                data = self._sock.recv(_CHUNK)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                data = b''
            if not data:
                self._fail(errno.ECONNRESET)
                break
            total += len(data)
            self._feed(data)
        return total

    def _wait_readable(self, timeout: Optional[float]) -> bool:
        """Wait until the socket is readable or @timeout passes."""
        return bool(transport.wait(self._sock, select.POLLIN, timeout))

    def _wait_input(self) -> None:
        """Wait until something arrives from kbusd, and read it."""
        while not self._dead:
            if self._read_available():
                return
            self._wait_readable(None)

    def _write(self, data: bytes) -> None:
        """Write all of @data, reading what kbusd sends meanwhile so neither side stalls."""
        view = memoryview(data)
        while view:
            if self._dead:
                raise errors.kbus_error(self._dead)
            try:
                view = view[self._sock.send(view):]
            except BlockingIOError:
                if transport.wait(self._sock, select.POLLIN | select.POLLOUT, None) & \
                        (select.POLLIN | select.POLLHUP | select.POLLERR):
                    self._read_available()
            except InterruptedError:
                continue
            except OSError:
                self._fail(errno.ECONNRESET)

    def _request(self, frame: bytes) -> wire.Answer:
        """Write a request frame and wait for its answer (a transport failure raises)."""
        self._check_open()
        if self._dead:
            raise errors.kbus_error(self._dead)
        self._asked += 1
        self._write(frame)
        answered = False
        try:
            while True:
                while not self._answers:
                    if self._dead:
                        raise errors.kbus_error(self._dead)
                    self._wait_input()
                answer = self._answers.pop(0)
                if self._skip:
                    self._skip -= 1  # the answer of a call that was interrupted
                    continue
                answered = True
                return answer
        finally:
            if not answered:
                self._skip += 1
            self._keep_readable()

    def _on_answer(self, answer: wire.Answer) -> None:
        if not self._asked:
            self._fail(errno.EPROTO)  # an answer to nothing we asked
            return
        self._asked -= 1
        self._answers.append(answer)

    def _on_nop(self) -> None:
        self._nops_got += 1

    @property
    def _poke_pending(self) -> bool:
        """A POKE (or WAKE SYNC) is out: its NOP will make the socket readable."""
        return self._nops_got < self._nops_asked

    def _ask_nop(self, frame: bytes) -> int:
        """Write @frame, which kbusd answers with a NOP; return that NOP's number."""
        self._nops_asked += 1
        self._write(frame)
        return self._nops_asked

    def _keep_readable(self) -> None:
        """POKE kbusd if messages wait here while the socket is empty (see above)."""
        if self._sock is None or self._dead or not self._inbox or self._poke_pending:
            return
        try:
            unread = _FIONREAD.unpack(fcntl.ioctl(self._sock.fileno(), termios.FIONREAD,
                                                  bytes(_FIONREAD.size)))[0]
        except OSError:
            unread = 0
        if unread > 0:
            return
        if self._page is not None and self._page.pushed() > self._inbox.received:
            return  # more is on its way: the socket will be readable
        try:
            self._ask_nop(wire.frame(wire.POKE))
        except OSError:
            return
        # Until the NOP is in, a select() right after this call would miss the
        # message waiting here; kbusd answers a POKE at once.
        self._wait_readable(CLOSE_WAIT)

    def _take(self, held) -> None:
        """Tell kbusd the application took @held, so that it counts at once.

        When next_msg() returns, the message has left the queue for everyone
        on the bus (room for other senders, GoneAway vs Ignored), as NEXTMSG
        did in the kernel module.  With the shared page kbusd reads our log
        whenever its answer depends on it.  Without it, the TAKE frame gets
        no answer, so a CTL round trip follows it.
        """
        try:
            if self._page is None:
                self._request(wire.take(held.seq) + wire.ctl(wire.CTL_NUM_MESSAGES, 0))
            elif self._take_logged(held.seq):
                # Someone waits for room here (a held send, a set-aside event):
                # wait until kbusd has acted, as it had for NEXTMSG.
                self._wait_nop(self._ask_nop(wire.frame(wire.WAKE, flags=wire.WAKE_SYNC)))
        except OSError:
            pass  # kbusd has gone; the message is still ours

    def _take_logged(self, seq: int) -> bool:
        """Log the take in the page, first making room; True if kbusd wants a WAKE."""
        try:
            if self._page.log_full():
                self._wait_nop(self._ask_nop(wire.frame(wire.WAKE, flags=wire.WAKE_SYNC)))
                if self._page.log_full() and not self._dead:
                    raise shm.PageError('kbusd did not read the take log')
            return self._page.take(seq)
        except shm.PageError:
            self._fail(errno.EPROTO)
            raise errors.kbus_error(errno.EPROTO) from None

    def _wait_nop(self, number: int) -> None:
        """Read until the @number-th NOP has arrived."""
        while not self._dead and self._nops_got < number:
            self._wait_input()

    def _catch_up(self, target: int) -> None:
        """Read until we hold every message up to sequence number @target."""
        while not self._dead and self._inbox.received < target:
            self._wait_input()

    def _confirm_empty(self) -> None:
        """Before saying "no message", ask kbusd how many it has queued for us.

        Every MSG frame kbusd queued for us precedes that answer on our own
        connection, so once it is in, every message kbusd counted is held
        here.  (Reading the socket alone is not enough: a held ALL_OR_WAIT
        send completed by our own TAKE can be reported to its sender before
        our copy is written to us.)  One round trip, only when nothing is held; none with the shared page,
        which says how many kbusd has queued.
        """
        if self._page is not None:
            self._catch_up(self._page.pushed())
        else:
            self._ctl(wire.CTL_NUM_MESSAGES)

    def _settle_poke(self) -> None:
        """Nothing is held but a POKE is out: wait for its NOP.

        Otherwise the NOP would make the socket readable later with no message
        waiting.  kbusd answers a POKE at once, in order.
        """
        while self._poke_pending and not self._inbox and not self._dead:
            self._wait_input()

    def _check_open(self) -> None:
        """Raise EBADF on a closed ksock."""
        if self._sock is None:
            raise errors.closed_error()

    def _ctl(self, op: int, arg: int = 0) -> wire.Answer:
        """A CTL request; raises on a failure status."""
        answer = self._request(wire.ctl(op, arg))
        if answer.status < 0:
            raise errors.kbus_error(-answer.status)
        return answer

    # ---- identity, printing, closing ----------------------------------

    def ksock_id(self) -> int:
        """This ksock's id on its bus (never 0)."""
        self._check_open()
        return self._id

    def fileno(self) -> int:
        """The descriptor to select/poll on: readable while a message may wait.

        For a read-write ksock it is the socket, always writable.  For a
        read-only one it is an epoll descriptor watching the socket, which
        is never writable, as a read-only /dev/kbus file was not.
        """
        self._check_open()
        if self._readiness is not None:
            return self._readiness.fileno()
        return self._sock.fileno()

    @property
    def fd(self) -> _DeviceFile:
        """The original binding's device file: read() and write() of message bytes."""
        self._check_open()
        return _DeviceFile(self)

    def close(self) -> None:
        """Close the ksock; kbusd drops its bindings and settles what it owed (semantics §9).

        As with the kernel module, when close() returns kbusd has done so: the
        library shuts its side of the socket and waits (at most CLOSE_WAIT
        seconds) for kbusd to close the other.
        """
        if self._sock is not None:
            transport.close_and_wait(self._sock, CLOSE_WAIT if not self._dead else 0,
                                         self._owner_pid)
            self._sock = None
        if getattr(self, '_readiness', None) is not None:
            self._readiness.close()
            self._readiness = None
        self._inbox.clear()
        self._being_read = None
        self._written = None
        if getattr(self, '_page', None) is not None:
            self._page.close()
            self._page = None

    def __str__(self):
        if self._sock is None:
            return 'Ksock device %s (closed)' % self.bus
        return 'Ksock device %d, id %d, mode %s' % (self.bus, self._id, self.mode)

    def __repr__(self):
        if self._sock is None:
            return '<Ksock %s closed>' % self.name
        return '<Ksock %s open for %s>' % (self.name, self.mode)

    def __enter__(self):
        return self

    def __exit__(self, etype, value, tb):
        self.close()
        return False

    def __del__(self):
        if getattr(self, '_sock', None) is not None:
            self._sock.close()
        if getattr(self, '_readiness', None) is not None:
            self._readiness.close()

    # ---- bindings -----------------------------------------------------

    def bind(self, name, replier=False) -> None:
        """Listen to @name (wildcards allowed), or become its one replier."""
        flags = wire.BIND_REPLIER if replier else 0
        frame = protocol.name_frame(wire.BIND, name, True, flags)
        answer = self._request(frame)
        if answer.status < 0:
            raise errors.bind_error(-answer.status, _shown(name), bool(replier))

    def unbind(self, name, replier=False, set_aside=False) -> None:
        """Remove the most recent binding that matches @name and @replier exactly.

        The messages that binding queued are removed too (semantics §6).  While
        replier bind events are on, unbinding a replier when a listener of
        the event has a full queue raises EAGAIN and keeps the binding, as
        with the kernel module; with @set_aside the unbind is made and its
        event set aside until there is room (semantics §11).
        """
        flags = wire.BIND_REPLIER if replier else 0
        if replier and not set_aside:
            flags |= wire.UNBIND_OR_FAIL
        frame = protocol.name_frame(wire.UNBIND, name, True, flags)
        answer = self._request(frame)
        if answer.status < 0:
            raise errors.bind_error(-answer.status, _shown(name), bool(replier), unbind=True)
        self._inbox.drop_binding(answer.value0)
        self._settle_poke()

    def find_replier(self, name) -> Optional[int]:
        """The ksock id of the replier a request named @name would reach, or None."""
        answer = self._request(protocol.name_frame(wire.REPLIER, name, False))
        if answer.status < 0:
            raise errors.kbus_error(-answer.status)
        return answer.value0 or None

    def bindings(self) -> list:
        """Every binding on this ksock's bus, as BindingRecords (the old /proc/kbus/bindings).

        Each record is (bus, ksock_id, pid, uid, is_replier, name), in the
        order kbusd keeps them.  Anyone may ask (semantics §12).
        """
        return protocol.bindings_answer(self._request(wire.query(wire.QUERY_BINDINGS)))

    # ---- reading ------------------------------------------------------

    def next_msg(self) -> int:
        """Take the next message (the old NEXTMSG); return its length, 0 if none.

        The length is that of ``to_bytes()``; ``read_msg(length)`` returns
        the message.  A message taken but not yet read is thrown away.
        """
        return self._next_msg(confirm_empty=True)

    def _next_msg(self, confirm_empty: bool) -> int:
        """next_msg(); without @confirm_empty, 0 may mean "nothing here yet"."""
        self._check_open()
        self._being_read = None
        if not self._dead and (self._page is None or not self._inbox):
            self._read_available()
        if self._page is not None:
            self._catch_up(self._page.urgent())  # an URGENT one goes first
        held = self._inbox.pop()
        if held is None and not self._dead and confirm_empty:
            self._confirm_empty()
            held = self._inbox.pop()
        if held is None:
            if self._dead:
                raise errors.kbus_error(self._dead)
            return 0
        self._take(held)
        self._being_read = _BeingRead(held.message, held.size)
        self._settle_poke()
        self._keep_readable()
        return held.size

    def len_left(self) -> int:
        """Bytes of the message taken by next_msg() not yet read (0 if none)."""
        self._check_open()
        if self._being_read is None:
            return 0
        return self._being_read.left()

    def read_msg(self, length) -> Optional[Message]:
        """The message next_msg() took, given the length it returned; None if none.

        A @length smaller than the message raises EMSGSIZE.
        """
        self._check_open()
        if self._being_read is None:
            return None
        taken = self._being_read
        if length < taken.size:
            raise errors.kbus_error(errno.EMSGSIZE, 'the message is %d bytes, not %d'
                                    % (taken.size, length))
        self._being_read = None
        return taken.message

    def read_data(self, count) -> bytes:
        """The next @count bytes of the taken message's ``to_bytes()`` (b'' if none)."""
        self._check_open()
        if self._being_read is None:
            return b''
        data = self._being_read.piece(count)
        if self._being_read.left() <= 0:
            self._being_read = None
        return data

    def read_next_msg(self) -> Optional[Message]:
        """Take and return the next message, or None if the queue is empty."""
        length = self.next_msg()
        return self.read_msg(length) if length else None

    def wait_for_msg(self, timeout=None) -> Optional[Message]:
        """Wait for the next message and return it; None if @timeout seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            # kbusd is asked whether the queue is empty only before None is returned:
            # while there is time to wait, waiting is the answer
            length = self._next_msg(confirm_empty=left is not None and left <= 0)
            if length:
                return self.read_msg(length)
            if left is not None and left <= 0:
                return None
            self._wait_readable(left)

    def __iter__(self):
        return self

    def __next__(self) -> Message:
        message = self.read_next_msg()
        if message is None:
            raise StopIteration
        return message

    # ---- writing ------------------------------------------------------
    #
    # As with the kernel module: what is written waits here until send();
    # write_msg() and write_data() refuse a message larger than the bus
    # allows (EMSGSIZE), send() judges the rest (name, flags).  An
    # ALL_OR_WAIT send that must wait raises EAGAIN at once and stays
    # pending in kbusd, which sends it when there is room; until then
    # writing or sending again raises EALREADY.  send(wait=True) blocks
    # instead.

    def _check_can_write(self) -> None:
        """Raise EBADF on a read-only ksock, EALREADY while an ALL_OR_WAIT send is pending."""
        if not self._can_write:
            raise errors.kbus_error(errno.EBADF, "the ksock was opened read-only ('r'), so it "
                                                 "cannot send")
        if self._send_pending and not self._dead:
            # kbusd's DONE, if it has sent the message, comes before this answer
            self._request(wire.ctl(wire.CTL_LAST_SENT, 0))
        if self._send_pending:
            raise errors.kbus_error(errno.EALREADY)

    def _check_size(self, size: int) -> None:
        """EMSGSIZE (and nothing written) for a message larger than the bus allows.

        The bus maximum is remembered; another ksock may have raised it, so
        kbusd is asked before refusing (if it was lowered, kbusd refuses the send).
        """
        if size > self._max_msg_size:
            self.max_message_size()
        if size > self._max_msg_size:
            self._written = None
            raise errors.kbus_error(errno.EMSGSIZE, "the message is %d bytes, larger than the "
                                    "bus's maximum message size (%d)" % (size, self._max_msg_size))

    def write_msg(self, message) -> None:
        """Write @message, to be sent by send(); replaces anything written before."""
        self._check_open()
        self._check_can_write()
        if not isinstance(message, Message):
            raise TypeError('write a Message, not %s' % type(message).__name__)
        self._check_size(message.total_length())
        self._written = message

    def write_data(self, data) -> int:
        """Append raw bytes of an encoded message (as to_bytes() makes) for send()."""
        self._check_open()
        self._check_can_write()
        written = self._written
        if isinstance(written, Message):
            written = bytearray(written.to_bytes())
        elif written is None:
            written = bytearray()
        written += data
        self._check_size(len(written))
        if len(written) >= wire.MSG_FIXED_LEN:
            declared = wire.declared_size(written)
            self._check_size(declared)
            if len(written) > declared:  # bytes past a whole message: the kernel's EMSGSIZE
                self._written = None
                raise errors.kbus_error(errno.EMSGSIZE, 'written past the end of the message '
                                        '(%d bytes); send() it first' % declared)
        self._written = written
        return len(data)

    def send(self, wait=False) -> MessageId:
        """Send what was written; return the id kbusd gave it.

        When it returns, the message is in every recipient's queue.  An
        ALL_OR_WAIT message that must wait for room raises EAGAIN and is
        sent by kbusd later (see above); with @wait it blocks until sent.
        """
        self._check_open()
        self._check_can_write()
        written, self._written = self._written, None
        if written is None or (not isinstance(written, Message) and not written):
            raise errors.kbus_error(errno.ENOMSG)
        body = protocol.encode_for_send(written) if isinstance(written, Message) \
            else bytes(written)
        answer = self._request(wire.frame(wire.SEND, body, wire.SEND_WAIT if wait else 0))
        if answer.status == -errno.EAGAIN and not wait:
            self._send_pending = True
        if answer.status < 0:
            raise protocol.send_failure(answer.status, body)
        return MessageId(answer.value0, answer.value1)

    def send_msg(self, message, wait=False) -> MessageId:
        """write_msg(@message) then send(@wait); return the id kbusd gave it."""
        self.write_msg(message)
        return self.send(wait)

    def discard(self) -> None:
        """Throw away what was written and not sent, and a pending ALL_OR_WAIT send."""
        self._check_open()
        self._written = None
        if self._send_pending:
            self._request(wire.frame(wire.DISCARD))
            self._send_pending = False

    def _on_done(self, status: int, id_net: int, id_serial: int) -> None:
        self._send_pending = False  # kbusd sent the pending message, or gave up (statuses)

    def last_msg_id(self) -> MessageId:
        """The id of the last message this ksock sent (MessageId(0, 0) if none)."""
        answer = self._ctl(wire.CTL_LAST_SENT)
        return MessageId(answer.value0, answer.value1)

    # ---- controls (semantics §5) -------------------------------------------

    def max_messages(self) -> int:
        """The length limit of this ksock's queue."""
        return self._ctl(wire.CTL_MAX_MESSAGES, 0).value0

    def set_max_messages(self, count) -> int:
        """Set the queue length limit (0 only asks); return the limit in force."""
        return self._ctl(wire.CTL_MAX_MESSAGES, protocol.check_u32(count, 'count')).value0

    def num_messages(self) -> int:
        """How many messages are queued for this ksock (not yet taken)."""
        return self._ctl(wire.CTL_NUM_MESSAGES).value0

    def num_unreplied_to(self) -> int:
        """How many requests this ksock has taken as replier and not yet answered."""
        return self._ctl(wire.CTL_UNREPLIED_TO).value0

    def want_messages_once(self, only_once=False, just_ask=False) -> int:
        """Receive one copy of a message however many bindings match; return the old state."""
        return self._ctl(wire.CTL_ONLY_ONCE, protocol.switch_arg(only_once, just_ask)).value0

    def report_replier_binds(self, report_events=True, just_ask=False) -> int:
        """Ask for $.KBUS.ReplierBindEvent messages (semantics §11); return this ksock's old state."""
        arg = protocol.switch_arg(report_events, just_ask)
        return self._ctl(wire.CTL_REPORT_BINDS, arg).value0

    def kernel_module_verbose(self, verbose=True, just_ask=False) -> int:
        """Switch kbusd's verbose logging (the original name is kept); return the old state."""
        return self._ctl(wire.CTL_VERBOSE, protocol.switch_arg(verbose, just_ask)).value0

    def new_device(self) -> int:
        """Ask kbusd to open a new bus (the old NEWDEVICE); return its number."""
        return self._ctl(wire.CTL_NEW_BUS).value0

    def max_message_size(self) -> int:
        """The bus's maximum message size (the encoded size, see Message.total_length())."""
        self._max_msg_size = self._ctl(wire.CTL_MAX_MSG_SIZE, 0).value0
        return self._max_msg_size

    def set_max_message_size(self, size) -> int:
        """Set the bus's maximum message size (100 to 16 MiB); return the value in force.

        0 only asks; 1 asks the absolute maximum.  Out of range: EINVAL.
        """
        value = self._ctl(wire.CTL_MAX_MSG_SIZE, protocol.check_u32(size, 'size')).value0
        if size != 1:  # 1 asks the absolute maximum
            self._max_msg_size = value
        return value


def _one_thread(method):
    """Let one thread at a time into @method of a Ksock (see the module's "Threads")."""
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        me = threading.get_ident()
        if self._thread == me:  # a call from inside another call of the same thread
            return method(self, *args, **kwargs)
        if not self._entry.acquire(blocking=False):
            raise RuntimeError('kbus.Ksock %s is in use by another thread: a ksock belongs '
                               'to one thread at a time (open one per thread, or share it '
                               'behind a lock of your own)' % self.name)
        self._thread = me
        try:
            return method(self, *args, **kwargs)
        finally:
            self._thread = None
            self._entry.release()
    return guarded


for _name in ('close', 'bind', 'unbind', 'find_replier', 'bindings', 'next_msg', 'len_left',
              'read_msg', 'read_data', 'read_next_msg', 'wait_for_msg', '__next__',
              'write_msg', 'write_data', 'send', 'send_msg', 'discard', 'last_msg_id',
              'max_messages', 'set_max_messages', 'num_messages', 'num_unreplied_to',
              'want_messages_once', 'report_replier_binds', 'kernel_module_verbose',
              'new_device', 'max_message_size', 'set_max_message_size'):
    setattr(Ksock, _name, _one_thread(getattr(Ksock, _name)))


def read_bindings(names=None, buses=None) -> list:
    """The bindings of every bus, as the original read_bindings() read /proc/kbus/bindings.

    Returns a list of (id, is_replier, name) tuples, where id is the ksock
    id, or @names[ksock id] when @names (a dict) has it.  @buses is the bus
    numbers to ask (default: every bus socket in the socket directory).
    A bus that nobody serves is skipped.
    """
    names = names or {}
    if buses is None:
        buses = sockdir.served_buses()
    found = []
    for bus in buses:
        try:
            with Ksock(bus, 'r') as ksock:
                records = ksock.bindings()
        except FileNotFoundError:
            continue
        found += [(names.get(r.ksock_id, r.ksock_id), r.is_replier, r.name) for r in records]
    return found


def _shown(name) -> str:
    """A name as error texts show it."""
    return name if isinstance(name, str) else bytes(name).decode('utf-8', 'replace')
