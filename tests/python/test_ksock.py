# SPDX-License-Identifier: MPL-2.0
"""Every method of kbus.Ksock (semantics §14) against a real kbusd."""

import errno
import os
import threading
import unittest

from kbusd_harness import KbusdTestCase, held_sends, wait_until
from kbus import shm
from kbus import Ksock, Message, MessageId, Request, reply_to, split_replier_bind_event_data


class OpenCloseTest(KbusdTestCase):

    def test_open_by_number_device_and_path(self):
        a = self.open(0)
        b = self.open('/dev/kbus0')
        path = os.path.join(self.kbusd.dir, 'kbus0')
        c = self.open(path)
        self.assertEqual([a.ksock_id(), b.ksock_id(), c.ksock_id()], [1, 2, 3])
        self.assertEqual(str(a), 'Ksock device 0, id 1, mode read/write')
        self.assertEqual(repr(a), '<Ksock /dev/kbus0 open for read/write>')
        self.assertEqual(repr(b), '<Ksock /dev/kbus0 open for read/write>')
        self.assertEqual(repr(c), '<Ksock %s open for read/write>' % path)
        self.assertEqual((a.which, a.name, a.bus), (0, '/dev/kbus0', 0))

    def test_read_only(self):
        r = self.open(0, 'r')
        self.assertEqual(str(r), 'Ksock device 0, id 1, mode read')
        self.assertEqual(repr(r), '<Ksock /dev/kbus0 open for read>')
        r.bind('$.A')
        self.open().send_msg(Message('$.A', 'x'))
        self.assertEqual(r.read_next_msg().data, b'x')

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "should be 'r' or 'rw', not 'w'"):
            Ksock(0, 'w')
        with self.assertRaises(TypeError):
            Ksock(0.5)

    def test_close(self):
        k = Ksock(0)
        k.close()
        k.close()
        self.assertEqual(str(k), 'Ksock device 0 (closed)')
        self.assertEqual(repr(k), '<Ksock /dev/kbus0 closed>')
        for call in (k.ksock_id, k.fileno, k.read_next_msg, k.num_messages,
                     lambda: k.bind('$.A'), lambda: k.send_msg(Message('$.A'))):
            self.assertRaisesErrno(errno.EBADF, call)

    def test_context_manager_closes_and_drops_bindings(self):
        other = self.open()
        with Ksock(0) as k:
            k.bind('$.A', True)
            self.assertEqual(other.find_replier('$.A'), k.ksock_id())
        self.assertEqual(str(k), 'Ksock device 0 (closed)')
        self.assertIsNone(other.find_replier('$.A'))
        with self.assertRaises(KeyError):
            with Ksock(0) as k2:
                raise KeyError('x')
        self.assertEqual(repr(k2), '<Ksock /dev/kbus0 closed>')

    def test_fileno(self):
        k = self.open()
        self.assertIsInstance(k.fileno(), int)
        self.assertEqual(k.fileno(), k._sock.fileno())


class ReadWriteTest(KbusdTestCase):

    def setUp(self):
        super().setUp()
        self.sender = self.open()
        self.listener = self.open()
        self.listener.bind('$.A')

    def test_send_and_read(self):
        msg_id = self.sender.send_msg(Message('$.A', 'hello'))
        self.assertEqual(msg_id, MessageId(0, 1))
        got = self.listener.read_next_msg()
        self.assertIs(type(got), Message)
        self.assertEqual(got, Message('$.A', 'hello', from_=1, id=MessageId(0, 1)))
        self.assertIsNone(self.listener.read_next_msg())

    def test_iteration_stops_when_empty(self):
        for word in ('a', 'b', 'c'):
            self.sender.send_msg(Message('$.A', word))
        self.assertEqual([bytes(m.data) for m in self.listener], [b'a', b'b', b'c'])
        self.assertEqual(list(self.listener), [])
        self.sender.send_msg(Message('$.A', 'd'))
        self.assertEqual([bytes(m.data) for m in self.listener], [b'd'])

    def test_next_msg_read_msg_len_left(self):
        sent = Message('$.A', 'hello')
        self.assertEqual(self.listener.next_msg(), 0)
        self.sender.send_msg(sent)
        length = self.listener.next_msg()
        self.assertEqual(length, sent.total_length())
        self.assertEqual(self.listener.len_left(), length)
        self.assertRaisesErrno(errno.EMSGSIZE, self.listener.read_msg, length - 1)
        got = self.listener.read_msg(length)
        self.assertEqual(got.data, 'hello')
        self.assertEqual(self.listener.len_left(), 0)
        self.assertIsNone(self.listener.read_msg(length))

    def test_read_data(self):
        self.sender.send_msg(Message('$.A', 'hello'))
        length = self.listener.next_msg()
        raw = self.listener.read_data(10) + self.listener.read_data(length)
        self.assertEqual(len(raw), length)
        self.assertEqual(Message.from_bytes(raw), Message('$.A', 'hello', from_=1,
                                                          id=MessageId(0, 1)))
        self.assertEqual(self.listener.read_data(10), b'')

    def test_write_msg_send_discard(self):
        self.sender.write_msg(Message('$.A', 'one'))
        self.assertEqual(self.sender.send(), MessageId(0, 1))
        self.assertRaisesErrno(errno.ENOMSG, self.sender.send)
        self.sender.write_msg(Message('$.A', 'two'))
        self.sender.discard()
        self.assertRaisesErrno(errno.ENOMSG, self.sender.send)
        self.assertEqual([bytes(m.data) for m in self.listener], [b'one'])

    def test_write_data(self):
        raw = Message('$.A', 'raw').to_bytes()
        self.assertEqual(self.sender.write_data(raw[:20]), 20)
        self.sender.write_data(raw[20:])
        self.assertEqual(self.sender.send(), MessageId(0, 1))
        self.assertEqual(self.listener.read_next_msg().data, 'raw')

    def test_last_msg_id(self):
        self.assertEqual(self.sender.last_msg_id(), MessageId(0, 0))
        self.sender.send_msg(Message('$.A'))
        msg_id = self.sender.send_msg(Message('$.A'))
        self.assertEqual(self.sender.last_msg_id(), msg_id)
        self.assertEqual(msg_id, MessageId(0, 2))

    def test_wait_for_msg(self):
        self.assertIsNone(self.listener.wait_for_msg(0.05))
        self.sender.send_msg(Message('$.A', 'x'))
        self.assertEqual(self.listener.wait_for_msg().data, 'x')
        self.assertEqual(self.listener.wait_for_msg(0), None)

    def test_urgent_first_newest_first(self):
        for word in ('a', 'b'):
            self.sender.send_msg(Message('$.A', word))
        for word in ('u1', 'u2'):
            urgent = Message('$.A', word)
            urgent.set_urgent()
            self.sender.send_msg(urgent)
        self.assertEqual([bytes(m.data) for m in self.listener], [b'u2', b'u1', b'a', b'b'])

    def test_urgent_read_after_queue_was_read_ahead(self):
        self.sender.send_msg(Message('$.A', 'a'))
        self.assertEqual(self.listener.num_messages(), 1)  # the library has read 'a' ahead
        urgent = Message('$.A', 'u')
        urgent.set_urgent()
        self.sender.send_msg(urgent)
        self.assertEqual([bytes(m.data) for m in self.listener], [b'u', b'a'])

    def test_unbind_removes_that_bindings_messages_only(self):
        self.listener.bind('$.*')
        self.sender.send_msg(Message('$.A', 'x'))
        self.assertEqual(self.listener.num_messages(), 2)  # and both are read ahead
        self.listener.unbind('$.*')
        self.assertEqual(self.listener.num_messages(), 1)
        self.assertEqual([bytes(m.data) for m in self.listener], [b'x'])

    def test_unbind_most_recent_of_two_equal_bindings(self):
        self.listener.bind('$.A')
        self.sender.send_msg(Message('$.A', 'x'))
        self.listener.unbind('$.A')
        self.assertEqual(len(list(self.listener)), 1)
        self.listener.unbind('$.A')
        self.assertRaisesErrno(errno.EINVAL, self.listener.unbind, '$.A')


class AllOrWaitTest(KbusdTestCase):

    def full_listener(self):
        sender, listener = self.open(), self.open()
        listener.set_max_messages(1)
        listener.bind('$.A')
        sender.send_msg(Message('$.A', 'fill'))
        return sender, listener

    def test_eagain_then_pending_as_the_original(self):
        sender, listener = self.full_listener()
        waiting = Message('$.A', 'waited', flags=Message.ALL_OR_WAIT)
        self.assertRaisesErrno(errno.EAGAIN, sender.send_msg, waiting)
        self.assertEqual(held_sends(listener), 1)  # kbusd keeps it
        # While it is pending, nothing else may be written or sent.
        self.assertRaisesErrno(errno.EALREADY, sender.write_msg, Message('$.A'))
        self.assertRaisesErrno(errno.EALREADY, sender.write_data, Message('$.A').to_bytes())
        self.assertRaisesErrno(errno.EALREADY, sender.send_msg, Message('$.A'))
        self.assertRaisesErrno(errno.EALREADY, sender.send)
        self.assertEqual(listener.read_next_msg().data, 'fill')  # room: kbusd sends it
        got = listener.wait_for_msg(30)
        self.assertEqual((got.data, got.id), ('waited', MessageId(0, 2)))
        # The pending send is over: the sender may send again.
        self.assertEqual(sender.send_msg(Message('$.A', 'next')), MessageId(0, 3))
        self.assertEqual(listener.read_next_msg().data, 'next')

    def test_discard_drops_the_pending_send(self):
        sender, listener = self.full_listener()
        self.assertRaisesErrno(errno.EAGAIN, sender.send_msg,
                               Message('$.A', 'dropped', flags=Message.ALL_OR_WAIT))
        sender.discard()
        self.assertEqual(held_sends(listener), 0)
        self.assertEqual(listener.read_next_msg().data, 'fill')
        self.assertIsNone(listener.read_next_msg())
        sender.send_msg(Message('$.A', 'after'))
        self.assertEqual(listener.read_next_msg().data, 'after')

    def test_send_blocks_until_delivered(self):
        sender, listener = self.full_listener()
        result = {}
        sending = threading.Thread(target=lambda: result.update(
            id=sender.send_msg(Message('$.A', 'waited', flags=Message.ALL_OR_WAIT), wait=True)))
        sending.start()
        wait_until(lambda: held_sends(listener) == 1)  # the send waits in kbusd
        self.assertTrue(sending.is_alive())
        self.assertEqual(listener.read_next_msg().data, 'fill')  # room: the send completes
        sending.join(30)
        self.assertEqual(result, {'id': MessageId(0, 2)})
        self.assertEqual(listener.wait_for_msg(30).data, 'waited')

    def test_all_or_fail_delivers_when_there_is_room(self):
        sender, listener = self.open(), self.open()
        listener.bind('$.A')
        self.assertEqual(sender.send_msg(Message('$.A', flags=Message.ALL_OR_FAIL)),
                         MessageId(0, 1))
        self.assertEqual(listener.read_next_msg().flags, Message.ALL_OR_FAIL)


class SharedPageTest(KbusdTestCase):
    """Takes through the page kbusd shares (kbus.shm), where this machine can."""

    def test_page_is_used_where_it_can_be(self):
        self.assertEqual(self.open()._page is not None, shm.usable())

    def test_take_is_counted_at_once(self):
        """When read_next_msg() returns, kbusd counts the take: no round trip needed."""
        sender, listener = self.open(), self.open()
        listener.set_max_messages(1)
        listener.bind('$.A')
        for i in range(50):
            sender.send_msg(Message('$.A', str(i), flags=Message.ALL_OR_FAIL))
            self.assertEqual(listener.read_next_msg().data, str(i))
        self.assertEqual(listener.num_messages(), 0)

    def test_takes_past_the_log(self):
        """More takes than the log holds: the binding makes kbusd read it (WAKE SYNC)."""
        sender, listener = self.open(), self.open()
        listener.set_max_messages(3000)
        listener.bind('$.A')
        for i in range(2500):
            sender.send_msg(Message('$.A', b'%d' % i))
        for i in range(2500):
            self.assertEqual(listener.read_next_msg().data, b'%d' % i)
        self.assertEqual(listener.num_messages(), 0)
        self.assertIsNone(listener.read_next_msg())
        sender.send_msg(Message('$.A', b'last'))
        self.assertEqual(listener.num_messages(), 1)


class ControlsTest(KbusdTestCase):

    def test_find_replier(self):
        k, r = self.open(), self.open()
        self.assertIsNone(k.find_replier('$.Fred.Jim'))
        r.bind('$.Fred.*', True)
        self.assertEqual(k.find_replier('$.Fred.Jim'), r.ksock_id())
        self.assertIsNone(k.find_replier('$.Other'))
        self.assertRaisesErrno(errno.EBADMSG, k.find_replier, '$.Fred.*')

    def test_max_messages(self):
        k = self.open()
        self.assertEqual(k.max_messages(), 100)
        self.assertEqual(k.set_max_messages(5), 5)
        self.assertEqual(k.max_messages(), 5)
        self.assertEqual(k.set_max_messages(0), 5)
        self.assertEqual(k.set_max_messages(2000000), 1048576)
        self.assertRaisesErrno(errno.EINVAL, k.set_max_messages, -1)

    def test_num_messages(self):
        s, k = self.open(), self.open()
        k.bind('$.A')
        self.assertEqual(k.num_messages(), 0)
        s.send_msg(Message('$.A'))
        s.send_msg(Message('$.A'))
        self.assertEqual(k.num_messages(), 2)
        k.read_next_msg()
        self.assertEqual(k.num_messages(), 1)

    def test_num_unreplied_to(self):
        asker, replier = self.open(), self.open()
        replier.bind('$.Q', True)
        asker.send_msg(Request('$.Q'))
        self.assertEqual(replier.num_unreplied_to(), 0)
        request = replier.read_next_msg()
        self.assertEqual(replier.num_unreplied_to(), 1)
        replier.send_msg(reply_to(request, 'ok'))
        self.assertEqual(replier.num_unreplied_to(), 0)

    def test_replier_copy_before_listener_copy(self):
        asker, replier = self.open(), self.open()
        replier.bind('$.Q')
        replier.bind('$.Q', True)
        asker.send_msg(Request('$.Q'))
        self.assertEqual([m.flags for m in replier], [3, 1])

    def test_want_messages_once(self):
        s, k = self.open(), self.open()
        self.assertEqual(k.want_messages_once(just_ask=True), 0)
        self.assertEqual(k.want_messages_once(True), 0)
        self.assertEqual(k.want_messages_once(just_ask=True), 1)
        k.bind('$.A')
        k.bind('$.*')
        s.send_msg(Message('$.A'))
        self.assertEqual(k.num_messages(), 1)
        self.assertEqual(k.want_messages_once(False), 1)
        s.send_msg(Message('$.A'))
        self.assertEqual(k.num_messages(), 3)

    def test_report_replier_binds(self):
        watcher, replier = self.open(), self.open()
        watcher.bind('$.KBUS.ReplierBindEvent')
        self.assertEqual(watcher.report_replier_binds(just_ask=True), 0)
        self.assertEqual(watcher.report_replier_binds(), 0)
        self.assertEqual(watcher.report_replier_binds(just_ask=True), 1)
        replier.bind('$.Fred', True)
        replier.unbind('$.Fred', True)
        bind, unbind = list(watcher)
        rid = replier.ksock_id()
        self.assertEqual(str(bind), "<ReplierBindEvent id=[0:1], flags=0x4 (SYN), "
                                    "[Bind '$.Fred' for %d]>" % rid)
        self.assertEqual(str(unbind), "<ReplierBindEvent id=[0:2], flags=0x4 (SYN), "
                                      "[Unbind '$.Fred' for %d]>" % rid)
        self.assertEqual(split_replier_bind_event_data(bind.data), (1, rid, '$.Fred'))
        self.assertEqual(watcher.report_replier_binds(False), 1)
        replier.bind('$.Fred', True)
        self.assertIsNone(watcher.read_next_msg())

    def test_kernel_module_verbose(self):
        k = self.open()
        self.assertEqual(k.kernel_module_verbose(just_ask=True), 0)
        self.assertEqual(k.kernel_module_verbose(), 0)
        self.assertEqual(k.kernel_module_verbose(just_ask=True), 1)
        self.assertEqual(k.kernel_module_verbose(False), 1)
        self.assertEqual(k.kernel_module_verbose(just_ask=True), 0)

    def test_new_device(self):
        k = self.open()
        self.assertEqual(k.new_device(), 1)
        on_one = self.open(1)
        by_name = self.open('/dev/kbus1')
        self.assertEqual((on_one.bus, by_name.bus, on_one.ksock_id()), (1, 1, 1))
        self.assertEqual(str(on_one), 'Ksock device 1, id 1, mode read/write')
        on_one.bind('$.A')
        k.bind('$.A')
        by_name.send_msg(Message('$.A', 'bus 1'))
        self.assertEqual(on_one.read_next_msg().data, 'bus 1')
        self.assertIsNone(k.read_next_msg())  # buses are isolated

    def test_max_message_size(self):
        k = self.open()
        self.assertEqual(k.max_message_size(), 65536)
        self.assertEqual(k.set_max_message_size(0), 65536)
        self.assertEqual(k.set_max_message_size(1), 16 * 1024 * 1024)
        self.assertEqual(k.set_max_message_size(200), 200)
        self.assertEqual(k.max_message_size(), 200)
        self.assertEqual(self.open().max_message_size(), 200)  # per bus
        self.assertRaisesErrno(errno.EINVAL, k.set_max_message_size, 99)
        self.assertRaisesErrno(errno.EINVAL, k.set_max_message_size, 16 * 1024 * 1024 + 1)


if __name__ == '__main__':
    unittest.main()
