# SPDX-License-Identifier: MPL-2.0
"""What a program written for the original KBUS binding sees (docs/compat.md).

Each test is one behaviour the original binding had with the kernel module,
written in its terms: num_messages() counts the unbind events set aside for
a ksock, the drain ends in $.KBUS.UnbindEventsLost, a replier unbind that
cannot be announced fails with EAGAIN, write-time errors, select()
exactness, read_bindings(), the device file ``fd``.
"""

import errno
import select
import unittest

from kbusd_harness import KbusdTestCase
from kbus import Ksock, Message, read_bindings, split_replier_bind_event_data

EVENT = '$.KBUS.ReplierBindEvent'
LOST = '$.KBUS.UnbindEventsLost'
SET_ASIDE_MAX = 1000


class SetAsideCountTest(KbusdTestCase):

    def event_listener(self):
        """A ksock hearing replier bind events, with room for one message."""
        k = self.open()
        k.report_replier_binds(True)
        k.bind(EVENT)
        k.set_max_messages(1)
        return k

    def test_num_messages_counts_set_aside_events(self):
        first = self.event_listener()
        with Ksock(0, 'rw') as second:
            second_id = second.ksock_id()
            second.bind('$.Question', True)
            self.assertEqual(first.num_messages(), 1)  # the bind event: full now
        # The close's unbind event is set aside, and counted.
        self.assertEqual(first.num_messages(), 2)
        self.assertEqual(split_replier_bind_event_data(first.read_next_msg().data),
                         (1, second_id, '$.Question'))
        self.assertEqual(first.num_messages(), 1)
        self.assertEqual(split_replier_bind_event_data(first.read_next_msg().data),
                         (0, second_id, '$.Question'))
        self.assertEqual(first.num_messages(), 0)

    def test_drain_by_num_messages_ends_in_events_lost(self):
        first, other = self.event_listener(), self.event_listener()
        with Ksock(0, 'rw') as second:
            second_id = second.ksock_id()
            for i in range(SET_ASIDE_MAX + 200):
                second.bind('$.Question%d' % i, True)
                self.assertEqual(first.read_next_msg(), other.read_next_msg())
        # One event in each queue, 1000 set aside on the bus (shared by the
        # two listeners: 500 each) and the lost notice.
        count = first.num_messages()
        self.assertEqual(count, 1 + SET_ASIDE_MAX // 2 + 1)
        self.assertEqual(other.num_messages(), count)
        for _ in range(count - 1):
            got = first.read_next_msg()
            self.assertEqual(got.name, EVENT)
            is_bind, binder, _ = split_replier_bind_event_data(got.data)
            self.assertEqual((is_bind, binder), (0, second_id))
            self.assertEqual(other.read_next_msg(), got)
        self.assertEqual(first.num_messages(), 1)
        lost = first.read_next_msg()
        self.assertEqual((lost.name, lost.data), (LOST, None))
        self.assertEqual(other.read_next_msg(), lost)  # the same message, id and all
        self.assertEqual((first.num_messages(), other.num_messages()), (0, 0))


class UnbindRefusedTest(KbusdTestCase):

    def test_replier_unbind_with_a_full_listener(self):
        binder, listener = self.open(), self.open()
        listener.set_max_messages(1)
        listener.bind(EVENT)
        binder.report_replier_binds(True)
        binder.bind('$.Fred', True)  # its event fills the listener
        self.assertRaisesErrno(errno.EAGAIN, binder.unbind, '$.Fred', True)
        self.assertEqual(binder.find_replier('$.Fred'), binder.ksock_id())  # kept
        self.assertEqual(listener.num_messages(), 1)
        binder.unbind('$.Fred', True, set_aside=True)  # semantics §11: made, event waits
        self.assertIsNone(binder.find_replier('$.Fred'))
        self.assertEqual(listener.num_messages(), 2)
        self.assertEqual(split_replier_bind_event_data(listener.read_next_msg().data)[0], 1)
        self.assertEqual(split_replier_bind_event_data(listener.read_next_msg().data)[0], 0)

    def test_listener_unbind_is_never_refused(self):
        binder, listener = self.open(), self.open()
        listener.set_max_messages(1)
        listener.bind(EVENT)
        binder.report_replier_binds(True)
        binder.bind('$.Fred', True)
        binder.bind('$.Jim')
        binder.unbind('$.Jim')
        self.assertEqual(listener.num_messages(), 1)


class WriteTimeErrorsTest(KbusdTestCase):

    def test_wildcard_name_fails_at_send(self):
        k = self.open()
        k.write_msg(Message('$.Fred.*'))
        self.assertRaisesErrno(errno.EBADMSG, k.send)
        self.assertRaisesErrno(errno.ENOMSG, k.send)  # the failed send dropped it
        self.assertRaisesErrno(errno.EBADMSG, k.send_msg, Message('$.Jim.%'))

    def test_write_data_too_large(self):
        k, other = self.open(), self.open()
        self.assertEqual(k.set_max_message_size(100), 100)
        fits = Message('$.Fred', b'x' * (100 - 56 - 8))
        too_big = Message('$.Fred', b'x' * (100 - 56 - 8 + 1))
        self.assertEqual(fits.total_length(), 100)
        k.write_data(fits.to_bytes())
        k.send()
        self.assertRaisesErrno(errno.EMSGSIZE, k.write_data, too_big.to_bytes())
        self.assertRaisesErrno(errno.EMSGSIZE, k.write_msg, too_big)
        # Only the fixed part, which already says the message is too big.
        self.assertRaisesErrno(errno.EMSGSIZE, k.write_data, too_big.to_bytes()[:56])
        self.assertRaisesErrno(errno.ENOMSG, k.send)  # nothing was kept
        # Past the end of a whole message: EMSGSIZE, and both are dropped.
        k.write_data(fits.to_bytes())
        self.assertRaisesErrno(errno.EMSGSIZE, k.write_data, b'x')
        self.assertRaisesErrno(errno.ENOMSG, k.send)
        # Raised by another ksock: this one asks kbusd before refusing.
        self.assertEqual(other.set_max_message_size(200), 200)
        k.write_msg(too_big)
        k.send()

    def test_device_file(self):
        sender, listener = self.open(), self.open()
        listener.bind('$.Fred')
        self.assertEqual(listener.fd.read(1), b'')  # nothing taken
        sender.fd.write(Message('$.Fred', b'dada').to_bytes())
        sender.send()
        size = listener.next_msg()
        data = listener.fd.read(size)
        self.assertEqual(len(data), size)
        self.assertEqual(Message.from_bytes(data).data, b'dada')
        self.assertEqual(listener.fd.fileno(), listener.fileno())

    def test_header_length(self):
        from kbus.messages import MSG_HEADER_LEN
        self.assertEqual(len(Message('$.ABC', b'xy').to_bytes()), MSG_HEADER_LEN + 8 + 2)

    def test_bus_that_cannot_exist(self):
        for mode in ('r', 'rw'):
            self.assertRaisesErrno(errno.ENOENT, Ksock, -1, mode)


class SelectExactTest(KbusdTestCase):

    def test_readable_right_after_num_messages(self):
        sender, listener = self.open(), self.open(0, 'r')
        listener.bind('$.Fred')
        for i in range(2000):
            sender.send_msg(Message('$.Fred', b'%d' % i))
            self.assertEqual(listener.num_messages(), 1)
            self.assertEqual(select.select([listener], [], [], 0)[0], [listener], i)
            self.assertEqual(listener.read_next_msg().data, b'%d' % i)
            self.assertEqual(select.select([listener], [], [], 0)[0], [], i)


    def test_writable_only_if_opened_for_writing(self):
        sender, reader, both = self.open(0, 'rw'), self.open(0, 'r'), self.open(0, 'rw')
        self.assertEqual(select.select([reader, both], [sender, reader, both], [], 0),
                         ([], [sender, both], []))
        reader.bind('$.Fred')
        both.bind('$.Fred')
        sender.send_msg(Message('$.Fred'))
        self.assertEqual(select.select([reader, both], [sender, reader, both], [], 0),
                         ([reader, both], [sender, both], []))
        reader.read_next_msg()
        self.assertEqual(select.select([reader], [reader], [], 0), ([], [], []))


class ReadBindingsTest(KbusdTestCase):

    buses = 2

    def test_every_bus(self):
        a, b, c = self.open(0), self.open(0), self.open(1)
        a.bind('$.Fred', True)
        b.bind('$.Fred.*')
        c.bind('$.Jim')
        self.assertEqual(sorted(read_bindings()), sorted([
            (a.ksock_id(), True, '$.Fred'), (b.ksock_id(), False, '$.Fred.*'),
            (c.ksock_id(), False, '$.Jim')]))
        self.assertEqual(read_bindings({a.ksock_id(): 'a'}, buses=[0]),
                         [('a', True, '$.Fred'), (b.ksock_id(), False, '$.Fred.*')])
        record = c.bindings()[0]
        self.assertEqual((record.bus, record.ksock_id, record.is_replier, record.name),
                         (1, c.ksock_id(), False, '$.Jim'))


if __name__ == '__main__':
    unittest.main()
