# SPDX-License-Identifier: MPL-2.0
"""Every status of semantics §9: a reply for every request, from Python.

The held (ALL_OR_WAIT) cases use kbus.aio for the requester, whose send
waits for the held request without blocking the test.
"""

import asyncio
import errno
import unittest

from kbusd_harness import KbusdTestCase
from kbus import Message, MessageId, Request, Status, reply_to
import kbus.aio


class StatusTest(KbusdTestCase):

    def setUp(self):
        super().setUp()
        self.asker = self.open()
        self.replier = self.open()
        self.replier.bind('$.Q', True)
        self.request_id = self.asker.send_msg(Request('$.Q', 'are you there?'))

    def expect_status(self, name, from_):
        status = self.asker.read_next_msg()
        self.assertEqual(str(status), "<Status '%s', id=[0:2], to=1, from=%d, in_reply_to=[0:1], "
                                      "flags=0x4 (SYN)>" % (name, from_))
        self.assertEqual(status.in_reply_to, self.request_id)
        self.assertIsNone(status.data)
        self.assertTrue(status.is_synthetic())
        self.assertIs(type(status.cast()), Status)
        self.assertIsNone(self.asker.read_next_msg())

    def test_unbound(self):
        self.assertEqual(self.replier.num_messages(), 1)  # pushed, read ahead, not taken
        self.replier.unbind('$.Q', True)
        self.expect_status('$.KBUS.Replier.Unbound', 2)
        self.assertIsNone(self.replier.read_next_msg())  # it left the replier's queue too

    def test_gone_away(self):
        self.assertEqual(self.replier.num_messages(), 1)  # pushed, read ahead, not taken
        self.replier.close()
        self.expect_status('$.KBUS.Replier.GoneAway', 2)

    def test_ignored(self):
        self.assertTrue(self.replier.read_next_msg().wants_us_to_reply())
        self.replier.close()
        self.expect_status('$.KBUS.Replier.Ignored', 2)

    def test_requester_gone_first(self):
        request = self.replier.read_next_msg()
        self.asker.close()
        self.assertRaisesErrno(errno.EADDRNOTAVAIL, self.replier.send_msg,
                               reply_to(request, 'too late'))
        self.assertEqual(self.replier.num_unreplied_to(), 0)


class HeldStatusTest(KbusdTestCase):
    """Statuses of held ALL_OR_WAIT requests (kbusd makes them, from 0)."""

    def fill(self, replier):
        """Make @replier's queue full, so that a request for it must wait."""
        replier.set_max_messages(1)
        replier.bind('$.Fill')
        self.open().send_msg(Message('$.Fill'))

    def test_disappeared(self):
        replier = self.open()
        replier.bind('$.Q', True)
        self.fill(replier)

        async def scenario():
            async with await kbus.aio.connect(0) as asker:
                request = Request('$.Q', flags=Message.ALL_OR_WAIT)
                sending = asyncio.ensure_future(asker.send(request))
                await asker.num_messages()  # answered after the SEND: it is held now
                self.assertFalse(sending.done())
                replier.close()
                request_id = await sending
                status = await asker.recv()
                return request_id, status

        request_id, status = asyncio.run(scenario())
        self.assertEqual(request_id, MessageId(0, 2))
        self.assertEqual(str(status), "<Status '$.KBUS.Replier.Disappeared', id=[0:3], to=3, "
                                      "in_reply_to=[0:2], flags=0x4 (SYN)>")

    def test_error_sending(self):
        replier, newcomer = self.open(), self.open()
        replier.bind('$.Coin.*', True)
        self.fill(replier)

        async def scenario():
            async with await kbus.aio.connect(0) as asker:
                request = Request('$.Coin.Toss', to=replier.ksock_id(),
                                  flags=Message.ALL_OR_WAIT)
                asking = asyncio.ensure_future(asker.request(request))
                await asker.num_messages()  # answered after the SEND: it is held now
                self.assertFalse(asking.done())
                newcomer.bind('$.Coin.Toss', True)  # a more specific replier: not 'to'
                with self.assertRaises(kbus.aio.ErrorSending) as cm:
                    await asking
                return cm.exception

        error = asyncio.run(scenario())
        self.assertEqual(str(error.status), "<Status '$.KBUS.ErrorSending', id=[0:3], to=4, "
                                            "in_reply_to=[0:2], flags=0x4 (SYN)>")
        self.assertEqual(error.request_id, MessageId(0, 2))
        self.assertEqual(str(error), "request [0:2] '$.Coin.Toss' was not answered: it could "
                                     "not be delivered ($.KBUS.ErrorSending)")


if __name__ == '__main__':
    unittest.main()
