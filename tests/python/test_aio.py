# SPDX-License-Identifier: MPL-2.0
"""kbus.aio against a real kbusd: concurrency, cancellation, timeouts, kbusd vanishing.

Every scenario runs under asyncio.wait_for(..., LIMIT), so a bug shows as a
failure, never as a hang.  "kbusd has acted on X" is established by a later
round trip on the same connection (answers come in order), never a sleep.
"""

import asyncio
import errno
import unittest

from kbusd_harness import KbusdTestCase
from kbus import Message, MessageId, reply_to
import kbus
import kbus.aio

LIMIT = 30.0


class AioTestCase(KbusdTestCase):

    def run_async(self, scenario):
        """Run the coroutine function @scenario with a time limit."""
        async def limited():
            return await asyncio.wait_for(scenario(), LIMIT)
        return asyncio.run(limited())

    async def connect(self, mode='rw'):
        ksock = await kbus.aio.connect(0, mode)
        self.addCleanup(ksock.close)
        return ksock


async def echo_replier(ksock):
    """Answer every request with b'echo:' + its data, until cancelled."""
    async for msg in ksock:
        if msg.wants_us_to_reply():
            await ksock.reply(msg, b'echo:' + bytes(msg.data or b''))


async def settle(ksock):
    """Two round trips: pushed frames before them are handled, and our TAKEs are seen."""
    await ksock.num_messages()
    return await ksock.num_messages()


class BasicsTest(AioTestCase):

    def test_send_recv_and_identity(self):
        async def scenario():
            a, b = await self.connect(), await self.connect()
            await b.bind('$.A')
            self.assertEqual(await a.send('$.A', 'hi'), MessageId(0, 1))
            msg = await b.recv()
            self.assertEqual(str(msg), "<Announcement '$.A', id=[0:1], from=1, data='hi'>")
            self.assertEqual((a.ksock_id(), b.ksock_id(), a.bus), (1, 2, 0))
            self.assertEqual(repr(a), '<kbus.aio.AsyncKsock /dev/kbus0 open, id 1>')
            self.assertEqual(await a.last_msg_id(), MessageId(0, 1))
            self.assertIsNone(b.read_next_msg())
        self.run_async(scenario)

    def test_async_with_and_async_for(self):
        async def scenario():
            sender = await self.connect()
            async with await kbus.aio.connect(0) as k:
                await k.bind('$.A')
                for word in ('a', 'b', 'c'):
                    await sender.send(Message('$.A', word))
                got = []
                async for msg in k:
                    got.append(bytes(msg.data))
                    if len(got) == 3:
                        break
            self.assertEqual(got, [b'a', b'b', b'c'])
            self.assertEqual(repr(k), '<kbus.aio.AsyncKsock /dev/kbus0 closed>')
            self.assertEqual([m async for m in k], [])  # a closed ksock's iteration ends
            with self.assertRaises(OSError) as cm:
                await k.send('$.A')
            self.assertEqual(cm.exception.errno, errno.EBADF)
        self.run_async(scenario)

    def test_aclose_waits_for_kbusd(self):
        async def scenario():
            other, k = await self.connect(), await kbus.aio.connect(0)
            await k.bind('$.Q', True)
            self.assertEqual(await other.find_replier('$.Q'), k.ksock_id())
            await k.aclose()
            self.assertIsNone(await other.find_replier('$.Q'))
            async with await kbus.aio.connect(0) as k2:
                await k2.bind('$.Q', True)
            self.assertIsNone(await other.find_replier('$.Q'))
        self.run_async(scenario)

    def test_urgent_and_unbind(self):
        async def scenario():
            sender, k = await self.connect(), await self.connect()
            await k.bind('$.A')
            await k.bind('$.*')
            await sender.send('$.A', 'plain')
            urgent = Message('$.A', 'urgent')
            urgent.set_urgent()
            await sender.send(urgent)
            await settle(k)
            await k.unbind('$.*')
            self.assertEqual(await k.num_messages(), 2)
            self.assertEqual([bytes((await k.recv()).data) for _ in range(2)],
                             [b'urgent', b'plain'])
            self.assertIsNone(await k.wait_for_msg(0.05))
        self.run_async(scenario)

    def test_controls(self):
        async def scenario():
            k, r = await self.connect(), await self.connect()
            await r.bind('$.Q', True)
            self.assertEqual(await k.find_replier('$.Q'), r.ksock_id())
            self.assertIsNone(await k.find_replier('$.Other'))
            self.assertEqual(await k.max_messages(), 100)
            self.assertEqual(await k.set_max_messages(7), 7)
            self.assertEqual(await k.want_messages_once(True), 0)
            self.assertEqual(await k.want_messages_once(just_ask=True), 1)
            self.assertEqual(await k.report_replier_binds(), 0)
            self.assertEqual(await k.num_unreplied_to(), 0)
            self.assertIsInstance(k.fileno(), int)
        self.run_async(scenario)

    def test_errors(self):
        async def scenario():
            reader, k = await self.connect('r'), await self.connect()
            with self.assertRaises(OSError) as cm:
                await reader.send('$.A')
            self.assertEqual(cm.exception.errno, errno.EBADF)
            with self.assertRaises(OSError) as cm:
                await k.request('$.Nobody', 'x')
            self.assertEqual(cm.exception.errno, errno.EADDRNOTAVAIL)
            for bad in ('$.Bad..Name', '$.Wild.*', b'$.Wild.%', 'NoDollar'):
                with self.assertRaises(OSError) as cm:
                    await k.request(bad, 'x')  # refused here, before any round trip
                self.assertEqual(cm.exception.errno, errno.EBADMSG, bad)
            with self.assertRaises(OSError) as cm:
                await reader.request('$.A')
            self.assertEqual(cm.exception.errno, errno.EBADF)
            with self.assertRaises(OSError) as cm:
                await k.bind('$.Bad..Name')
            self.assertEqual(cm.exception.errno, errno.EBADMSG)
            with self.assertRaises(OSError) as cm:
                await k.unbind('$.A')
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            with self.assertRaises(OSError) as cm:
                await kbus.aio.connect(5)
            self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.run_async(scenario)


class PostTest(AioTestCase):
    """post(): announcements pipelined, in order with everything else sent."""

    def test_posted_in_order_and_refusals(self):
        async def scenario():
            a, b = await self.connect(), await self.connect()
            await b.set_max_messages(1000)
            await b.bind('$.P.*')
            for i in range(300):
                a.post('$.P.Str', 'n%d' % i)
            a.post(b'$.P.Bytes', b'raw')
            a.post(Message('$.P.Msg', 'made'))
            await a.send('$.P.Last')
            got = [(await b.recv()) for _ in range(303)]
            self.assertEqual([m.data for m in got[:300]], ['n%d' % i for i in range(300)])
            self.assertEqual([(m.name, m.data) for m in got[300:]],
                             [('$.P.Bytes', 'raw'), ('$.P.Msg', 'made'), ('$.P.Last', None)])
            self.assertEqual(len({m.id for m in got}), 303)  # each its own id
            # refused here: nothing is written
            for bad, err in (('$.P.*', errno.EBADMSG), ('$.P..X', errno.EBADMSG),
                             (Message('$.P.R', flags=Message.WANT_A_REPLY), errno.EINVAL),
                             (Message('$.P.W', flags=Message.ALL_OR_WAIT), errno.EINVAL)):
                with self.assertRaises(OSError) as cm:
                    a.post(bad)
                self.assertEqual(cm.exception.errno, err, bad)
            with self.assertRaises(TypeError):
                a.post(17)
            reader = await self.connect('r')
            with self.assertRaises(OSError) as cm:
                reader.post('$.P.X')
            self.assertEqual(cm.exception.errno, errno.EBADF)
            # refused by kbusd ($.KBUS names are its own): said by the next post or send
            a.post('$.KBUS.Mine')
            await settle(a)
            with self.assertRaises(OSError) as cm:
                a.post('$.P.After')
            self.assertEqual(cm.exception.errno, errno.EPERM)
            a.post('$.P.After')  # said once
            await a.send('$.P.End')
            self.assertEqual([(await b.recv()).name for _ in range(2)], ['$.P.After', '$.P.End'])
        self.run_async(scenario)


class RequestTest(AioTestCase):

    def test_many_concurrent_requests(self):
        async def scenario():
            asker, replier = await self.connect(), await self.connect()
            await replier.bind('$.Echo', True)
            # each outstanding request reserves a place in the asker's queue, and waits
            # in the replier's (semantics §7): make room for all of them
            self.assertEqual(await asker.set_max_messages(200), 200)
            self.assertEqual(await replier.set_max_messages(200), 200)
            serving = asyncio.ensure_future(echo_replier(replier))
            try:
                replies = await asyncio.gather(*[asker.request('$.Echo', 'n%d' % i)
                                                 for i in range(200)])
            finally:
                serving.cancel()
            self.assertEqual([bytes(r.data) for r in replies],
                             [b'echo:n%d' % i for i in range(200)])
            ids = [r.in_reply_to.serial_num for r in replies]
            self.assertEqual(ids, sorted(ids))  # answered in the order they were asked
            self.assertEqual(len(set(ids)), 200)
            self.assertTrue(all(r.from_ == replier.ksock_id() for r in replies))
            self.assertEqual(await settle(asker), 0)
        self.run_async(scenario)

    def test_reply_fields(self):
        """reply() builds the reply's frame itself: every field is what reply_to() makes."""
        async def scenario():
            replier = await self.connect()
            await replier.bind('$.Ask', True)
            with kbus.Ksock(0) as asker:
                for data, flags, want in ((b'\x00bytes', 0, b'\x00bytes'), ('text', 0, b'text'),
                                          (None, 0, b''), (b'urgent', Message.URGENT, b'urgent')):
                    request_id = asker.send_msg(kbus.Request('$.Ask', b'q'))
                    request = await replier.recv()
                    reply_id = await replier.reply(request, data, flags)
                    got = asker.wait_for_msg(LIMIT)
                    self.assertEqual((got.name, bytes(got.data or b''), got.id, got.in_reply_to,
                                      got.to, got.from_, got.orig_from, got.final_to, got.flags),
                                     ('$.Ask', want, reply_id, request_id, asker.ksock_id(),
                                      replier.ksock_id(), None, None,
                                      flags))
        self.run_async(scenario)

    def test_reply_to_what_is_not_ours_to_answer(self):
        """reply() to an announcement, or to a request someone else answers, is ValueError."""
        async def scenario():
            replier, listener = await self.connect(), await self.connect()
            await replier.bind('$.Ask', True)
            await listener.bind('$.Ask')
            await listener.bind('$.Told')
            sender = await self.connect()
            await sender.send('$.Told', b'x')
            with self.assertRaises(ValueError):
                await listener.reply(await listener.recv(), b'no')
            await sender.send(Message('$.Ask', b'q', flags=Message.WANT_A_REPLY))
            with self.assertRaises(ValueError):
                await listener.reply(await listener.recv(), b'no')  # a listener's copy
            await replier.reply(await replier.recv(), b'yes')
        self.run_async(scenario)

    def test_too_many_outstanding_requests_enolck(self):
        async def scenario():
            asker, replier = await self.connect(), await self.connect()
            await replier.bind('$.Q', True)
            await asker.set_max_messages(3)
            asking = [asyncio.ensure_future(asker.request('$.Q', 'n%d' % i)) for i in range(4)]
            await settle(asker)
            self.assertEqual([t.done() for t in asking], [False, False, False, True])
            self.assertEqual(asking[3].exception().errno, errno.ENOLCK)
            for task in asking[:3]:
                task.cancel()
            await asyncio.gather(*asking[:3], return_exceptions=True)
        self.run_async(scenario)

    def test_replies_never_reach_async_for(self):
        async def scenario():
            asker, replier, sender = (await self.connect(), await self.connect(),
                                      await self.connect())
            await replier.bind('$.Echo', True)
            await asker.bind('$.News')
            serving = asyncio.ensure_future(echo_replier(replier))
            try:
                asking = asyncio.ensure_future(asker.request('$.Echo', 'q'))
                await sender.send('$.News', 'item')
                reply = await asking
            finally:
                serving.cancel()
            self.assertEqual(reply.data, 'echo:q')
            self.assertEqual((await asker.recv()).data, 'item')
            self.assertIsNone(await asker.wait_for_msg(0.05))
        self.run_async(scenario)

    def test_statuses_raise(self):
        async def scenario():
            asker, replier = await self.connect(), await self.connect()
            await replier.bind('$.Q', True)
            asking = asyncio.ensure_future(asker.request('$.Q'))
            await settle(replier)  # the request is in the replier's queue, not taken
            await replier.unbind('$.Q', True)
            with self.assertRaises(kbus.aio.ReplierUnbound) as cm:
                await asking
            self.assertEqual(cm.exception.status.name, '$.KBUS.Replier.Unbound')
            self.assertIsInstance(cm.exception, kbus.aio.StatusError)

            gone = await kbus.aio.connect(0)
            await gone.bind('$.Q', True)
            asking = asyncio.ensure_future(asker.request('$.Q'))
            await settle(asker)
            await gone.aclose()
            with self.assertRaises(kbus.aio.ReplierGoneAway):
                await asking

            ignoring = await kbus.aio.connect(0)
            await ignoring.bind('$.Q', True)
            asking = asyncio.ensure_future(asker.request('$.Q'))
            self.assertTrue((await ignoring.recv()).wants_us_to_reply())
            await settle(ignoring)  # kbusd has seen the TAKE
            ignoring.close()
            with self.assertRaises(kbus.aio.ReplierIgnored) as cm:
                await asking
            self.assertEqual(str(cm.exception),
                             "request [0:5] '$.Q' was not answered: the replier's ksock closed "
                             "after reading it, without replying ($.KBUS.Replier.Ignored)")
        self.run_async(scenario)


class CancelTest(AioTestCase):

    def setUp(self):
        super().setUp()
        self.replier = self.open()  # a blocking replier the test drives by hand
        self.replier.bind('$.Slow', True)

    async def check_usable(self, asker):
        """The late reply was dropped and the connection still works."""
        self.assertEqual(await settle(asker), 0)
        self.assertIsNone(asker.read_next_msg())
        asking = asyncio.ensure_future(asker.request('$.Slow', 'again'))
        await settle(asker)
        request = self.replier.read_next_msg()
        self.replier.send_msg(reply_to(request, 'fine'))
        self.assertEqual((await asking).data, 'fine')

    def test_timeout(self):
        async def scenario():
            asker = await self.connect()
            with self.assertRaises(asyncio.TimeoutError):
                await asker.request('$.Slow', 'q', timeout=0.05)
            request = self.replier.read_next_msg()
            self.replier.send_msg(reply_to(request, 'late'))
            await self.check_usable(asker)
        self.run_async(scenario)

    def test_cancel_while_waiting_for_the_reply(self):
        async def scenario():
            asker = await self.connect()
            asking = asyncio.ensure_future(asker.request('$.Slow', 'q'))
            await settle(asker)  # the SEND is answered: the reply is being waited for
            asking.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await asking
            self.replier.send_msg(reply_to(self.replier.read_next_msg(), 'late'))
            await self.check_usable(asker)
        self.run_async(scenario)

    def test_cancel_before_kbusd_answered_the_send(self):
        async def scenario():
            asker = await self.connect()
            asking = asyncio.ensure_future(asker.request('$.Slow', 'q'))
            await asyncio.sleep(0)  # the SEND is written, its answer not read yet
            asking.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await asking
            await settle(asker)
            self.replier.send_msg(reply_to(self.replier.read_next_msg(), 'late'))
            await self.check_usable(asker)
        self.run_async(scenario)


class HeldSendTest(AioTestCase):

    def setUp(self):
        super().setUp()
        self.listener = self.open()
        self.listener.set_max_messages(1)
        self.listener.bind('$.A')
        self.open().send_msg(Message('$.A', 'fill'))

    def test_all_or_wait_waits_for_room_and_ealready(self):
        async def scenario():
            sender = await self.connect()
            sending = asyncio.ensure_future(
                sender.send(Message('$.A', 'waited', flags=Message.ALL_OR_WAIT)))
            await settle(sender)
            self.assertFalse(sending.done())
            with self.assertRaises(OSError) as cm:
                await sender.send('$.A', 'meanwhile')
            self.assertEqual(cm.exception.errno, errno.EALREADY)
            self.assertIn('still waiting for room', str(cm.exception))
            self.assertEqual(self.listener.read_next_msg().data, 'fill')  # room appears
            self.assertEqual(await sending, MessageId(0, 2))
            self.assertEqual(self.listener.read_next_msg().data, 'waited')
        self.run_async(scenario)

    def test_cancelling_a_held_send_discards_it(self):
        async def scenario():
            sender = await self.connect()
            sending = asyncio.ensure_future(
                sender.send(Message('$.A', 'never', flags=Message.ALL_OR_WAIT)))
            await settle(sender)
            sending.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await sending
            await settle(sender)  # kbusd has discarded it
            self.assertEqual(self.listener.read_next_msg().data, 'fill')
            self.assertEqual(await sender.send('$.A', 'after'), MessageId(0, 2))
            self.assertEqual([bytes(m.data) for m in self.listener], [b'after'])
        self.run_async(scenario)


class KbusdGoneTest(AioTestCase):

    def test_kbusd_killed_mid_request(self):
        async def scenario():
            asker, listener = await self.connect(), await self.connect()
            replier = self.open()
            replier.bind('$.Q', True)
            await listener.bind('$.A')
            asking = asyncio.ensure_future(asker.request('$.Q', 'q'))
            iterating = asyncio.ensure_future(listener.__anext__())
            await settle(asker)
            self.kbusd.kill()
            with self.assertRaises(ConnectionResetError) as cm:
                await asking
            self.assertEqual(cm.exception.errno, errno.ECONNRESET)
            self.assertIn('kbusd went away', str(cm.exception))
            with self.assertRaises(ConnectionResetError):
                await iterating
            with self.assertRaises(ConnectionResetError):
                await asker.send('$.A')
            with self.assertRaises(ConnectionResetError):
                await asker.recv()
        self.run_async(scenario)


if __name__ == '__main__':
    unittest.main()
