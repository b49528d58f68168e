# SPDX-License-Identifier: MPL-2.0
"""Every errno of semantics §15 that Python can meet, with its KBUS meaning.

EALREADY needs a send that is held while another is made, which only
kbus.aio can do from one thread; it is tested in test_aio.py.
"""

import errno
import os
import unittest

from kbusd_harness import KbusdTestCase
from kbus import Ksock, Message, MessageId, Reply, Request, reply_to, stateful_request


class ErrnoTest(KbusdTestCase):

    def test_eaddrinuse(self):
        a, b = self.open(), self.open()
        a.bind('$.Q', True)
        e = self.assertRaisesErrno(errno.EADDRINUSE, b.bind, '$.Q', True)
        self.assertIsInstance(e, OSError)
        self.assertEqual(str(e), "[Errno 98] Address already in use: a ksock (perhaps this "
                                 "one) is already the replier for '$.Q'")
        self.assertRaisesErrno(errno.EADDRINUSE, a.bind, '$.Q', True)  # twice: the same
        b.bind('$.Q')  # as a listener it is fine

    def test_eaddrnotavail_request_without_replier(self):
        e = self.assertRaisesErrno(errno.EADDRNOTAVAIL, self.open().send_msg, Request('$.Q'))
        self.assertEqual(str(e), "[Errno 99] Cannot assign requested address: no replier is "
                                 "bound for request '$.Q'")

    def test_eaddrnotavail_reply_to_vanished_requester(self):
        asker, replier = self.open(), self.open()
        replier.bind('$.Q', True)
        asker.send_msg(Request('$.Q'))
        request = replier.read_next_msg()
        asker.close()
        e = self.assertRaisesErrno(errno.EADDRNOTAVAIL, replier.send_msg, reply_to(request))
        self.assertIn('the requester (ksock 1) this reply', str(e))

    def test_ebadf_read_only(self):
        reader = self.open(0, 'r')
        e = self.assertRaisesErrno(errno.EBADF, reader.send_msg, Message('$.A'))
        self.assertIn("opened read-only ('r')", str(e))
        reader._can_write = True  # skip the library's check: kbusd says the same
        self.assertRaisesErrno(errno.EBADF, reader.send_msg, Message('$.A'))

    def test_ebadmsg(self):
        k = self.open()
        for bad in ('$.A..B', 'Fred', '$.A.*.B'):
            self.assertRaisesErrno(errno.EBADMSG, k.bind, bad)
        e = self.assertRaisesErrno(errno.EBADMSG, k.send_msg, Message('$.A.*'))
        self.assertIn("'$.A.*' is not a valid name for a message to send", str(e))
        e = self.assertRaisesErrno(errno.EBADMSG, k.bind, '$.KBUS.ReplierBindEvent', True)
        self.assertIn('nobody may bind as replier to $.KBUS.ReplierBindEvent', str(e))
        k.write_data(Message('$.A*').to_bytes())  # kbusd checks too
        self.assertRaisesErrno(errno.EBADMSG, k.send)

    def test_ebusy_replier_queue_full(self):
        asker, replier = self.open(), self.open()
        replier.set_max_messages(1)
        replier.bind('$.Fill')
        replier.bind('$.Q', True)
        asker.send_msg(Message('$.Fill'))
        e = self.assertRaisesErrno(errno.EBUSY, asker.send_msg, Request('$.Q'))
        self.assertIn("the queue of the replier for '$.Q'", str(e))
        self.assertEqual(asker.last_msg_id(), MessageId(0, 2))  # that one used an id

    def test_ebusy_all_or_fail(self):
        sender, full, other = self.open(), self.open(), self.open()
        full.set_max_messages(1)
        for k in (full, other):
            k.bind('$.A')
        sender.send_msg(Message('$.A', 'first'))
        self.assertRaisesErrno(errno.EBUSY, sender.send_msg,
                               Message('$.A', 'second', flags=Message.ALL_OR_FAIL))
        self.assertEqual([bytes(m.data) for m in other], [b'first'])

    def test_econnrefused(self):
        asker, replier = self.open(), self.open()
        replier.bind('$.Q', True)
        asker.send_msg(Request('$.Q'))
        request = replier.read_next_msg()
        made_up = Reply('$.Q', to=asker.ksock_id(), in_reply_to=MessageId(0, 99))
        e = self.assertRaisesErrno(errno.ECONNREFUSED, replier.send_msg, made_up)
        self.assertIn("answers no request this ksock owes ksock 1", str(e))
        replier.send_msg(reply_to(request, 'once'))
        self.assertRaisesErrno(errno.ECONNREFUSED, replier.send_msg, reply_to(request, 'twice'))

    def test_einval(self):
        k = self.open()
        both = Message('$.A', flags=Message.ALL_OR_WAIT | Message.ALL_OR_FAIL)
        self.assertRaisesErrno(errno.EINVAL, k.send_msg, both)
        k.write_data(both.to_bytes())  # kbusd checks too
        self.assertRaisesErrno(errno.EINVAL, k.send)
        self.assertRaisesErrno(errno.EINVAL, k.send_msg,
                               Message('$.A', flags=1, in_reply_to=MessageId(0, 1)))
        e = self.assertRaisesErrno(errno.EINVAL, k.unbind, '$.A')
        self.assertIn("no listener binding '$.A' to unbind", str(e))
        k.bind('$.A')
        self.assertRaisesErrno(errno.EINVAL, k.unbind, '$.A', True)
        self.assertRaisesErrno(errno.EINVAL, k.set_max_message_size, 50)

    def test_emsgsize_and_still_usable(self):
        k, listener = self.open(), self.open()
        listener.bind('$.Big')
        k.set_max_message_size(100)
        big = Message('$.Big', b'x' * 40)
        self.assertEqual(big.total_length(), 104)
        e = self.assertRaisesErrno(errno.EMSGSIZE, k.send_msg, big)
        self.assertIn("larger than the bus's maximum message size", str(e))
        self.assertEqual(k.send_msg(Message('$.Big', b'x' * 36)), MessageId(0, 1))
        self.assertEqual(len(list(listener)), 1)
        self.assertRaisesErrno(errno.EMSGSIZE, k.send_msg,
                               Message('$.Big', bytes(16 * 1024 * 1024)))

    def test_enametoolong(self):
        k = self.open()
        name = '$.' + 'x' * 999
        self.assertRaisesErrno(errno.ENAMETOOLONG, k.bind, name)
        self.assertRaisesErrno(errno.ENAMETOOLONG, k.send_msg, Message(name))
        k.write_data(Message(name).to_bytes())  # kbusd checks too
        self.assertRaisesErrno(errno.ENAMETOOLONG, k.send)

    def test_enoent(self):
        e = self.assertRaisesErrno(errno.ENOENT, Ksock, 3)
        self.assertIn('no kbusd is listening on %s/kbus3; looked in %s (from $KBUS_SOCKET_DIR); '
                      "start kbusd there by running 'kbusd --socket-dir %s' in a terminal"
                      % (self.kbusd.dir, self.kbusd.dir, self.kbusd.dir), str(e))
        e = self.assertRaisesErrno(errno.ENOENT, Ksock, '/nonexistent/kbus0')
        self.assertIn("nothing listens on that socket; 'kbusd --socket-dir DIR' serves "
                      'DIR/kbus0', str(e))
        self.assertRaisesErrno(errno.ENOENT, Ksock, '/dev/kbus9')
        self.assertRaisesErrno(errno.ENOENT, Ksock, os.path.join(self.kbusd.dir, 'nothere'))
        not_a_socket = os.path.join(self.kbusd.dir, 'file')
        open(not_a_socket, 'w').close()
        self.assertRaisesErrno(errno.ENOENT, Ksock, not_a_socket)

    def test_enolck(self):
        asker, replier = self.open(), self.open()
        replier.bind('$.Q', True)
        asker.set_max_messages(1)
        asker.send_msg(Request('$.Q'))
        e = self.assertRaisesErrno(errno.ENOLCK, asker.send_msg, Request('$.Q'))
        self.assertIn('no room left to reserve for the reply', str(e))

    def test_enomsg(self):
        e = self.assertRaisesErrno(errno.ENOMSG, self.open().send)
        self.assertIn('no message has been written to send', str(e))

    def test_epipe(self):
        asker, first, second = self.open(), self.open(), self.open()
        first.bind('$.Toss', True)
        asker.send_msg(Request('$.Toss'))
        first.send_msg(reply_to(first.read_next_msg(), 'hi'))
        asker_reply = asker.read_next_msg()
        first.close()
        second.bind('$.Toss', True)
        e = self.assertRaisesErrno(errno.EPIPE, asker.send_msg,
                                   stateful_request(asker_reply, '$.Toss', 'Head'))
        self.assertIsInstance(e, BrokenPipeError)
        self.assertEqual(str(e), "[Errno 32] Broken pipe: stateful request to ksock 2, but "
                                 "another ksock is now the replier for '$.Toss'")

    def test_eagain_replier_bind_event_cannot_be_queued(self):
        watcher, a, b = self.open(), self.open(), self.open()
        watcher.bind('$.KBUS.ReplierBindEvent')
        watcher.set_max_messages(1)
        watcher.report_replier_binds()
        a.bind('$.One', True)
        e = self.assertRaisesErrno(errno.EAGAIN, b.bind, '$.Two', True)
        self.assertIn("the replier bind to '$.Two' is not made", str(e))
        self.assertIsNone(b.find_replier('$.Two'))
        watcher.read_next_msg()
        b.bind('$.Two', True)
        self.assertEqual(b.find_replier('$.Two'), b.ksock_id())


class KbusdGoneTest(KbusdTestCase):

    def test_econnreset_everywhere_and_no_hang(self):
        sender, listener = self.open(), self.open()
        listener.bind('$.A')
        sender.send_msg(Message('$.A', 'kept'))
        self.assertEqual(listener.num_messages(), 1)  # read ahead by the library
        self.kbusd.kill()
        e = self.assertRaisesErrno(errno.ECONNRESET, sender.send_msg, Message('$.A'))
        self.assertIsInstance(e, ConnectionResetError)
        self.assertIn('kbusd went away', str(e))
        self.assertEqual(listener.read_next_msg().data, 'kept')  # still ours
        self.assertRaisesErrno(errno.ECONNRESET, listener.read_next_msg)
        self.assertRaisesErrno(errno.ECONNRESET, listener.wait_for_msg)
        self.assertRaisesErrno(errno.ECONNRESET, listener.num_messages)
        self.assertRaisesErrno(errno.ECONNRESET, listener.bind, '$.B')
        listener.close()
        self.assertRaisesErrno(errno.ENOENT, Ksock, 0)

    def test_eperm_reserved_names(self):
        ks, spy = self.open(), self.open()
        spy.bind('$.KBUS.*')  # listening there is allowed
        e = self.assertRaisesErrno(errno.EPERM, ks.bind, '$.KBUS.Replier.GoneAway', True)
        self.assertIsInstance(e, PermissionError)
        self.assertEqual(str(e), "[Errno 1] Operation not permitted: kbusd's policy does not "
                                 "allow it ('kbus-ctl explain' says which rule)")
        self.assertRaisesErrno(errno.EPERM, ks.send_msg, Message('$.KBUS.Replier.GoneAway'))
        self.assertRaisesErrno(errno.EPERM, ks.send_msg, Request('$.KBUS.Private'))
        self.assertRaisesErrno(errno.EBADMSG, ks.bind, '$.KBUS.ReplierBindEvent', True)
        self.assertIsNone(spy.read_next_msg())
        ks.send_msg(Message('$.KBUSY'))  # an ordinary name: the ksock is still usable


class QuotaErrnoTest(KbusdTestCase):

    kbusd_args = ('--limit', 'bindings-per-uid=2', '--limit', 'requests-total=1')

    def test_edquot(self):
        ks = self.open()
        ks.bind('$.Q.A')
        ks.bind('$.Q.B', True)
        e = self.assertRaisesErrno(errno.EDQUOT, ks.bind, '$.Q.C')
        self.assertIn("this user's quota in kbusd is used up", str(e))
        ks.unbind('$.Q.A')
        ks.bind('$.Q.C')

    def test_enobufs(self):
        asker, replier = self.open(), self.open()
        replier.bind('$.Q', True)
        asker.send_msg(Request('$.Q'))
        e = self.assertRaisesErrno(errno.ENOBUFS, asker.send_msg, Request('$.Q'))
        self.assertIn("kbusd's total limit for all users is reached", str(e))
        self.assertEqual(replier.num_messages(), 1)


class RefusedAtConnectTest(KbusdTestCase):
    """kbusd refuses a connection at once, before reading its HELLO: the binding
    must report the WELCOME's errno even when its HELLO could not be written."""

    kbusd_args = ('--limit', 'connections-per-uid=2')

    def test_edquot_at_open(self):
        import asyncio
        import kbus.aio
        self.open(), self.open()
        for _ in range(30):
            e = self.assertRaisesErrno(errno.EDQUOT, Ksock, 0)
            self.assertIn("this user's quota in kbusd is used up", str(e))

        async def aio_open():
            for _ in range(10):
                with self.assertRaises(OSError) as cm:
                    await kbus.aio.connect(0)
                self.assertEqual(cm.exception.errno, errno.EDQUOT)
        asyncio.run(aio_open())


if __name__ == '__main__':
    unittest.main()
