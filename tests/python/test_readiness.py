# SPDX-License-Identifier: MPL-2.0
"""select, poll and selectors on a Ksock: readable exactly while a message waits.

The library reads ahead, so messages may wait in it while the socket is
empty; it then POKEs kbusd, whose NOP answer keeps the socket readable.
"Not readable" is checked with a zero timeout, "readable" with a generous
one that returns as soon as the socket is readable (never a sleep).
"""

import select
import selectors
import unittest

from kbusd_harness import KbusdTestCase
from kbus import Message

WAIT = 10.0


class ReadinessTest(KbusdTestCase):

    def setUp(self):
        super().setUp()
        self.sender = self.open()
        self.listener = self.open()
        self.listener.bind('$.A')

    def send(self, *words):
        for word in words:
            self.sender.send_msg(Message('$.A', word))

    def readable_select(self, timeout):
        return select.select([self.listener], [], [], timeout)[0] == [self.listener]

    def test_select_tracks_every_message(self):
        self.assertFalse(self.readable_select(0))
        self.send('a', 'b', 'c')
        for word in (b'a', b'b', b'c'):
            self.assertTrue(self.readable_select(WAIT))
            self.assertEqual(bytes(self.listener.read_next_msg().data), word)
        self.assertFalse(self.readable_select(0))
        self.assertIsNone(self.listener.read_next_msg())

    def test_readable_after_a_call_read_the_messages_ahead(self):
        self.send('a', 'b')
        self.assertEqual(self.listener.num_messages(), 2)  # the MSG frames are read now
        self.assertTrue(self.readable_select(WAIT))
        self.assertEqual(self.listener.read_next_msg().data, 'a')
        self.assertTrue(self.readable_select(WAIT))
        self.assertEqual(self.listener.read_next_msg().data, 'b')
        self.assertFalse(self.readable_select(0))

    def test_poll(self):
        poller = select.poll()
        poller.register(self.listener, select.POLLIN)
        self.assertEqual(poller.poll(0), [])
        self.send('a', 'b')
        for word in (b'a', b'b'):
            self.assertEqual(poller.poll(WAIT * 1000), [(self.listener.fileno(), select.POLLIN)])
            self.assertEqual(bytes(self.listener.read_next_msg().data), word)
        self.assertEqual(poller.poll(0), [])

    def test_selectors_with_two_ksocks(self):
        other = self.open()
        other.bind('$.B')
        sel = selectors.DefaultSelector()
        self.addCleanup(sel.close)
        sel.register(self.listener, selectors.EVENT_READ, 'listener')
        sel.register(other, selectors.EVENT_READ, 'other')
        self.assertEqual(sel.select(0), [])
        self.sender.send_msg(Message('$.B', 'for other'))
        self.assertEqual([key.data for key, _ in sel.select(WAIT)], ['other'])
        self.assertEqual(other.read_next_msg().data, 'for other')
        self.assertEqual(sel.select(0), [])

    def test_wait_for_msg_returns_when_a_message_comes(self):
        self.send('a')
        self.assertEqual(self.listener.wait_for_msg(WAIT).data, 'a')
        self.assertFalse(self.readable_select(0))


if __name__ == '__main__':
    unittest.main()
