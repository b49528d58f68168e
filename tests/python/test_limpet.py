# SPDX-License-Identifier: MPL-2.0
"""kbus-limpet end to end: three buses of one kbusd joined by two Limpet pairs.

    bus 0 --(Limpets 10, 11)-- bus 1 --(Limpets 12, 13)-- bus 2

Clients use the Python binding.  A Limpet is ready once it prints its
"joined" line on stderr; a proxy binding has crossed once find_replier()
says so (each call a round trip to kbusd, never a sleep).  Then the link
itself: a fake Limpet that breaks the protocol, one with our network id,
and the command line.
"""

import errno
import os
import time
import socket
import struct
import subprocess
import unittest

from kbusd_harness import (Kbusd, KbusdTestCase, SOURCE_ROOT, _die_with_parent, read_line,
                           wait_until)
from kbus import Ksock, Message, Request, reply_to, stateful_request

LIMPET = os.environ.get('KBUS_LIMPET') or os.path.join(SOURCE_ROOT, 'build', 'tools',
                                                       'kbus-limpet')
WAIT = 20.0


def link_message(name, data=b'', id_net=2, serial=1, flags=0):
    """One message as the link carries it (docs/limpet.md)."""
    name = name.encode()
    header = struct.pack('!16I', 0x7375624B, id_net, serial, 0, 0, 0, 5, 0, 0, 0, 0, 0, flags,
                         len(name), len(data), 0x4B627573)
    return (header + name + b'\x00' * (4 - len(name) % 4) + data +
            b'\x00' * (-len(data) % 4) + struct.pack('!I', 0x4B627573))


def read_link_message(conn):
    """(name, data) of the next message read from the link."""
    header = conn.recv(64, socket.MSG_WAITALL)
    fields = struct.unpack('!16I', header)
    name_len, data_len = fields[13], fields[14]
    rest = conn.recv((name_len + 4) // 4 * 4 + (data_len + 3) // 4 * 4 + 4, socket.MSG_WAITALL)
    padded = (name_len + 4) // 4 * 4
    return rest[:name_len].decode(), rest[padded:padded + data_len]


def request_crosses(test, asker, replier, name, answer):
    """A request from @asker reaches @replier through the Limpets, and its reply comes back."""
    replier.bind(name, True)
    wait_until(lambda: asker.find_replier(name) is not None)
    asker.send_msg(Request(name, 'q'))
    replier.send_msg(reply_to(replier.wait_for_msg(WAIT), answer))
    test.assertEqual(asker.wait_for_msg(WAIT).data, answer)


def joined_insecure(test, *limpets):
    """Each of @limpets warned about --insecure, then joined."""
    for limpet in limpets:
        test.assertRegex(limpet.line(), r'^kbus-limpet: warning: --insecure: ')
        limpet.joined(test)


def listener_crossed(ksock, name, count=1):
    """Wait until @ksock's bus has @count listener bindings for @name (a Limpet's among them)."""
    wait_until(lambda: sum(not b.is_replier and b.name == name
                           for b in ksock.bindings()) >= count)


class Limpet:
    """One kbus-limpet process; its stderr is read line by line."""

    def __init__(self, test, *args, prefix=()):
        self.proc = subprocess.Popen(list(prefix) + [LIMPET] + [str(a) for a in args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        self.buffer = bytearray()
        self.out_buffer = bytearray()
        test.addCleanup(self.kill)

    def line(self, seconds=WAIT):
        """The next line on stderr (link up/down, errors), or None."""
        return read_line(self.proc.stderr.fileno(), self.buffer, time.monotonic() + seconds)

    def out_line(self, seconds=WAIT):
        """The next line on stdout (what the Limpet API prints), or None."""
        return read_line(self.proc.stdout.fileno(), self.out_buffer, time.monotonic() + seconds)

    def joined(self, test):
        line = self.line()
        test.assertIsNotNone(line, 'kbus-limpet did not join')
        test.assertRegex(line, r"^kbus-limpet: link up: Limpet \d+ at \S+; bus \S+, network id ")

    def wait(self, seconds=WAIT):
        return self.proc.wait(seconds)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()
        self.proc.stdout.close()


class ChainTest(KbusdTestCase):
    """Two Limpet pairs: bus 0 - bus 1 - bus 2."""

    buses = 3

    def setUp(self):
        super().setUp()
        link_a = os.path.join(self.kbusd.dir, 'link-a')
        link_b = os.path.join(self.kbusd.dir, 'link-b')
        self.limpets = [Limpet(self, '-s', link_a, '-k', 0, '-id', 10),
                        Limpet(self, '--client', link_a, '--bus', 1, '--id', 11),
                        Limpet(self, '-server', link_b, '-kbus', 1, '-id', 12),
                        Limpet(self, '-c', link_b, '-k', 2, '--id', 13)]
        for limpet in self.limpets:
            limpet.joined(self)

    def replier_crossed(self, ksock, name, present=True):
        """Wait until bus 0 has (or no longer has) a proxy replier for @name."""
        wait_until(lambda: (ksock.find_replier(name) is not None) == present)

    def test_announcement_reaches_the_far_bus_once(self):
        sender, listener = self.open(0), self.open(2)
        listener.bind('$.Ch.Hello')
        listener.bind('$.Ch.Marker')
        listener_crossed(sender, '$.Ch.Hello')  # bus 0's Limpet listens for bus 2 now
        listener_crossed(sender, '$.Ch.Marker')
        sender.send_msg(Message('$.Ch.Hello', 'hi'))
        sender.send_msg(Message('$.Ch.Marker'))
        got = listener.wait_for_msg(WAIT)
        self.assertEqual((got.name, got.data, got.id.network_id, got.orig_from.network_id),
                         ('$.Ch.Hello', 'hi', 10, 10))
        self.assertEqual(got.orig_from.local_id, sender.ksock_id())
        self.assertEqual(listener.wait_for_msg(WAIT).name, '$.Ch.Marker')  # nothing between
        # and nothing came back to bus 0 (it would come before a new marker)
        mirror = self.open(0)
        mirror.bind('$.Ch.*')
        far_sender = self.open(2)
        listener_crossed(far_sender, '$.Ch.*')
        far_sender.send_msg(Message('$.Ch.Marker'))
        self.assertEqual(mirror.wait_for_msg(WAIT).name, '$.Ch.Marker')
        self.assertEqual(listener.wait_for_msg(WAIT).name, '$.Ch.Marker')
        self.assertIsNone(listener.read_next_msg())

    def test_listeners_cross_hop_by_hop(self):
        near, middle, listener = self.open(0), self.open(1), self.open(2)
        wait_until(lambda: not [b for b in near.bindings() if b.name == '$.*'])  # no flood
        listener.bind('$.Ch.Far')
        listener_crossed(middle, '$.Ch.Far')  # bus 1's Limpet listens for bus 2,
        listener_crossed(near, '$.Ch.Far')    # and bus 0's for bus 1, which includes it
        listener.close()
        wait_until(lambda: not [b for b in near.bindings() if b.name == '$.Ch.Far'])
        self.assertEqual([b for b in middle.bindings() if b.name == '$.Ch.Far'], [])

    def test_request_reply_and_stateful_through_three_buses(self):
        asker, replier = self.open(0), self.open(2)
        replier.bind('$.Ch.Ask', True)
        self.replier_crossed(asker, '$.Ch.Ask')
        asker.send_msg(Request('$.Ch.Ask', 'q'))
        request = replier.wait_for_msg(WAIT)
        self.assertTrue(request.wants_us_to_reply())
        self.assertEqual(request.data, 'q')
        replier.send_msg(reply_to(request, 'a'))
        reply = asker.wait_for_msg(WAIT)
        self.assertTrue(reply.is_reply())
        self.assertEqual((reply.data, reply.orig_from.network_id, reply.orig_from.local_id),
                         ('a', 13, replier.ksock_id()))
        # stateful: final_to names the very replier on bus 2
        sid = asker.send_msg(stateful_request(reply, '$.Ch.Ask', 's'))
        request = replier.wait_for_msg(WAIT)
        self.assertEqual((request.data, request.to), ('s', replier.ksock_id()))
        replier.send_msg(reply_to(request, 'b'))
        reply = asker.wait_for_msg(WAIT)
        self.assertEqual((reply.data, reply.in_reply_to), ('b', sid))
        # another replier now: the stateful request is refused on bus 2
        replier.close()
        self.replier_crossed(asker, '$.Ch.Ask', present=False)  # the old proxies went
        other = self.open(2)
        other.bind('$.Ch.Ask', True)
        self.replier_crossed(asker, '$.Ch.Ask')
        sid = asker.send_msg(stateful_request(reply, '$.Ch.Ask', 's2'))
        status = asker.wait_for_msg(WAIT)
        self.assertEqual((status.name, status.in_reply_to),
                         ('$.KBUS.Replier.NotSameKsock', sid))
        self.assertIsNone(other.read_next_msg())

    def test_status_comes_back(self):
        asker, replier = self.open(0), self.open(2)
        replier.bind('$.Ch.Ask', True)
        self.replier_crossed(asker, '$.Ch.Ask')
        rid = asker.send_msg(Request('$.Ch.Ask'))
        self.assertIsNotNone(replier.wait_for_msg(WAIT))
        replier.close()  # read it, and went without replying: Ignored
        status = asker.wait_for_msg(WAIT)
        self.assertEqual((status.name, status.in_reply_to), ('$.KBUS.Replier.Ignored', rid))
        self.replier_crossed(asker, '$.Ch.Ask', present=False)  # the proxies went too

    def test_urgent_stays_urgent(self):
        sender, listener = self.open(0), self.open(2)
        listener.bind('$.Ch.U')
        listener_crossed(sender, '$.Ch.U')
        message = Message('$.Ch.U', 'now')
        message.set_urgent()
        sender.send_msg(message)
        got = listener.wait_for_msg(WAIT)
        self.assertTrue(got.is_urgent())

    def test_a_lost_link_still_answers_every_request(self):
        asker, replier = self.open(0), self.open(2)
        replier.bind('$.Ch.Ask', True)
        self.replier_crossed(asker, '$.Ch.Ask')
        rid = asker.send_msg(Request('$.Ch.Ask'))
        self.assertIsNotNone(replier.wait_for_msg(WAIT))
        self.limpets[3].kill()  # bus 2's Limpet: link b goes
        self.assertRegex(self.limpets[2].line(),
                         r'^kbus-limpet: link down: Limpet 13 at \S+: it closed the link$')
        status = asker.wait_for_msg(WAIT)
        self.assertEqual((status.name, status.in_reply_to), ('$.KBUS.Replier.Ignored', rid))
        self.replier_crossed(asker, '$.Ch.Ask', present=False)

        # A new Limpet on bus 2: the server takes the new link, and the replier
        # bound all along is announced again.
        again = Limpet(self, '-c', os.path.join(self.kbusd.dir, 'link-b'), '-k', 2, '-id', 13)
        again.joined(self)
        self.limpets[2].joined(self)
        self.replier_crossed(asker, '$.Ch.Ask')
        rid = asker.send_msg(Request('$.Ch.Ask', 'again'))
        request = replier.wait_for_msg(WAIT)
        replier.send_msg(reply_to(request, 'back'))
        reply = asker.wait_for_msg(WAIT)
        self.assertEqual((reply.data, reply.in_reply_to), ('back', rid))

    def test_the_client_connects_again(self):
        self.limpets[2].kill()  # the server of link b; its client waits for a new one
        self.assertRegex(self.limpets[3].line(), r'^kbus-limpet: link down: Limpet 12 at ')
        listener = self.open(2)
        listener.bind('$.Ch.Back')
        server = Limpet(self, '-s', os.path.join(self.kbusd.dir, 'link-b'), '-k', 1, '-id', 12)
        server.joined(self)
        self.limpets[3].joined(self)
        sender = self.open(0)
        listener_crossed(sender, '$.Ch.Back')
        sender.send_msg(Message('$.Ch.Back', 'again'))
        self.assertEqual(listener.wait_for_msg(WAIT).data, 'again')


class LoopTest(KbusdTestCase):
    """Three buses joined in a ring: the link that would close the loop is refused."""

    buses = 3

    def pair(self, name, server_bus, server_id, client_bus, client_id):
        path = os.path.join(self.kbusd.dir, name)
        return (Limpet(self, '-s', path, '-k', server_bus, '-id', server_id, '-v', 1),
                Limpet(self, '-c', path, '-k', client_bus, '-id', client_id))

    def leads_to(self, bus, network_id):
        """Wait until @bus says (in its Limpets' bindings) it leads to @network_id."""
        with Ksock(bus) as k:
            name = '$.KBUS.Limpet.Reach.%d' % network_id
            wait_until(lambda: name in [b.name for b in k.bindings()])

    def copies(self, listeners):
        """Send one message on bus 0; how many each listener gets."""
        self.open(0).send_msg(Message('$.Ring.Once', 'x'))
        counts = []
        for listener in listeners:
            n = 0
            while listener.wait_for_msg(0.5) is not None:
                n += 1
            counts.append(n)
        return counts

    def test_a_ring_of_three_buses(self):
        a = self.pair('a', 0, 10, 1, 11)
        for limpet in a:
            limpet.joined(self)
        b = self.pair('b', 1, 12, 2, 13)
        for limpet in b:
            limpet.joined(self)
        self.leads_to(0, 13)  # bus 0 -> 10 -> 11 -> bus 1 -> 12 -> 13
        self.leads_to(2, 10)
        c = self.pair('c', 2, 14, 0, 15)
        for limpet in c:  # both ends see it, and say so once
            limpet.joined(self)
            self.assertRegex(limpet.line(), r'^kbus-limpet: link down: Limpet 1[45] at \S+: '
                                            r'refused: both buses already lead to network id '
                                            r'\d+, so the link would close a loop \(said once '
                                            r'while it lasts\)$')
        listeners = [self.open(bus, 'r') for bus in range(3)]
        for listener in listeners:
            listener.bind('$.Ring.*')
        listener_crossed(listeners[0], '$.Ring.*', 2)  # its own, and Limpet 10's for bus 1
        listener_crossed(listeners[1], '$.Ring.*', 3)
        listener_crossed(listeners[2], '$.Ring.*', 2)
        self.assertEqual(self.copies(listeners), [1, 1, 1])
        self.assertIsNone(a[0].out_line(0.2))  # nothing came back round

        # Link a goes: the loop is gone, and link c comes up at its next try.
        for limpet in a:
            limpet.kill()
        for limpet in c:
            self.assertRegex(limpet.line(seconds=2 * WAIT),
                             r'^kbus-limpet: link up: Limpet 1[45] at ')
        listener_crossed(listeners[0], '$.Ring.*', 2)  # its own, and Limpet 15's for bus 2
        self.assertEqual(self.copies(listeners), [1, 1, 1])

    def test_same_network_id_twice(self):
        a = self.pair('a', 0, 10, 1, 11)
        for limpet in a:
            limpet.joined(self)
        self.leads_to(1, 10)
        # a Limpet on bus 2 that claims id 10 too
        twin = self.pair('twin', 2, 10, 1, 16)
        for limpet in twin:
            limpet.joined(self)
        self.assertRegex(twin[1].line(), r'^kbus-limpet: link down: Limpet 10 at \S+: refused: '
                                         r'both buses already lead to network id 10, ')

def sent_on_bus(ksock):
    """How many messages the ksocks of @ksock's bus have sent (the stats query)."""
    from kbus import wire
    payload = ksock._request(wire.query(wire.QUERY_STATS)).payload
    count = struct.unpack_from('<I', payload, 0)[0]
    records = payload[4 + 32:]  # the count, then the bus record (8 u32)
    return sum(struct.unpack_from('<Q', records, 64 * i + 40)[0] for i in range(count - 1))


class NoFloodTest(KbusdTestCase):
    """Announcements cross only to a bus where someone listens; --flood passes on all."""

    buses = 2

    def pair(self, *near_args):
        link = os.path.join(self.kbusd.dir, 'link')
        near = Limpet(self, '-s', link, '-k', 0, *near_args)
        far = Limpet(self, '-c', link, '-k', 1)
        near.joined(self)
        far.joined(self)
        return self.open(0), self.open(1), self.open(1, 'r')

    def crossing(self, sender, watcher, names):
        """How many messages bus 1 gets while @sender sends @names on bus 0."""
        before = sent_on_bus(watcher)
        for name in names:
            sender.send_msg(Message(name, 'x'))
        return lambda: sent_on_bus(watcher) - before

    def test_only_what_the_far_bus_listens_to(self):
        sender, listener, watcher = self.pair()
        listener.bind('$.Nf.Heard')
        listener_crossed(sender, '$.Nf.Heard')  # the near Limpet listens for it now
        crossed = self.crossing(sender, watcher, ['$.Nf.Nobody'] * 20 + ['$.Nf.Heard'])
        self.assertEqual(listener.wait_for_msg(WAIT).name, '$.Nf.Heard')
        self.assertEqual(crossed(), 1)  # and nothing else
        # the far listener goes: the near Limpet stops listening for it
        listener.unbind('$.Nf.Heard')
        listener.bind('$.Nf.Marker')
        listener_crossed(sender, '$.Nf.Marker')
        wait_until(lambda: not any(b.name == '$.Nf.Heard' for b in sender.bindings()))
        crossed = self.crossing(sender, watcher, ['$.Nf.Heard', '$.Nf.Marker'])
        self.assertEqual(listener.wait_for_msg(WAIT).name, '$.Nf.Marker')
        self.assertEqual(crossed(), 1)

    def test_flood(self):
        sender, listener, watcher = self.pair('--flood')
        listener.bind('$.Nf.Marker')
        crossed = self.crossing(sender, watcher, ['$.Nf.Nobody'] * 20 + ['$.Nf.Marker'])
        self.assertEqual(listener.wait_for_msg(WAIT).name, '$.Nf.Marker')
        self.assertEqual(crossed(), 21)  # as the original: all of it
        self.assertIn('$.*', [b.name for b in sender.bindings() if not b.is_replier])


class TwoKbusdTest(KbusdTestCase):
    """Two kbusd, as on two hosts: the far one dies with a request in flight."""

    def test_far_kbusd_dies_mid_request(self):
        far = Kbusd().start()
        self.addCleanup(far.stop)
        far_bus = os.path.join(far.dir, 'kbus0')
        link = os.path.join(self.kbusd.dir, 'link')
        near_limpet = Limpet(self, '-s', link, '--bus', 0, '--id', 1)
        far_limpet = Limpet(self, '-c', link, '--bus', far_bus, '--id', 2)
        near_limpet.joined(self)
        far_limpet.joined(self)
        asker = self.open(0)
        replier = Ksock(far_bus)
        self.addCleanup(replier.close)
        replier.bind('$.Far.Ask', True)
        marker = Ksock(far_bus)
        self.addCleanup(marker.close)
        marker.bind('$.Far.Marker')
        wait_until(lambda: asker.find_replier('$.Far.Ask') is not None)
        wait_until(lambda: any(b.name == '$.Far.Marker' for b in asker.bindings()))
        rid = asker.send_msg(Request('$.Far.Ask'))
        self.assertIsNotNone(replier.wait_for_msg(WAIT))
        # The far Limpet sends in order and waits for each answer: once the marker
        # is through, the request's send was done (kbusd answers a sender after
        # writing to its recipients, so the replier may hear it before).
        asker.send_msg(Message('$.Far.Marker'))
        self.assertIsNotNone(marker.wait_for_msg(WAIT))
        far.kill()
        self.assertEqual(far_limpet.wait(), 1)  # its bus went: nothing a new link would fix
        self.assertRegex(near_limpet.line(), r'^kbus-limpet: link down: Limpet 2 at ')
        status = asker.wait_for_msg(WAIT)
        self.assertEqual((status.name, status.in_reply_to), ('$.KBUS.Replier.Ignored', rid))
        self.assertIsNone(asker.find_replier('$.Far.Ask'))
        self.assertRaisesErrno(errno.EADDRNOTAVAIL, asker.send_msg, Request('$.Far.Ask'))


class AccessTest(KbusdTestCase):
    """--allow and --peer-uid."""

    buses = 2

    def test_allow(self):
        link = os.path.join(self.kbusd.dir, 'link')
        guarded = Limpet(self, '-s', link, '-k', 0, '--allow', '$.Ok.*')
        other = Limpet(self, '-c', link, '-k', 1)
        guarded.joined(self)
        other.joined(self)
        near, far = self.open(0), self.open(1)
        far.bind('$.No.Ask', True)
        far.bind('$.Ok.Ask', True)
        wait_until(lambda: near.find_replier('$.Ok.Ask') is not None)
        self.assertIsNone(near.find_replier('$.No.Ask'))  # its bind event came first
        self.assertEqual(guarded.line(), 'kbus-limpet: Limpet 1 may not bind as replier for '
                                         '$.No.Ask here (--allow; said once a link)')
        listener = self.open(0)
        listener.bind('$.No.Hello')
        listener.bind('$.Ok.Hello')
        listener_crossed(far, '$.No.Hello')
        listener_crossed(far, '$.Ok.Hello')
        far.send_msg(Message('$.No.Hello'))
        far.send_msg(Message('$.Ok.Hello'))
        self.assertEqual(listener.wait_for_msg(WAIT).name, '$.Ok.Hello')  # only that one
        # a request the far side may not send here still gets its answer
        near_replier = self.open(0)
        near_replier.bind('$.No.Svc', True)
        wait_until(lambda: far.find_replier('$.No.Svc') is not None)
        rid = far.send_msg(Request('$.No.Svc'))
        status = far.wait_for_msg(WAIT)
        self.assertEqual((status.name, status.in_reply_to), ('$.KBUS.RemoteError.1', rid))
        self.assertIsNone(near_replier.read_next_msg())

    def test_peer_uid(self):
        link = os.path.join(self.kbusd.dir, 'link')
        server = Limpet(self, '-s', link, '--peer-uid', 12345)
        client = Limpet(self, '-c', link, '-k', 1, '--once')
        self.assertEqual(server.line(), 'kbus-limpet: %s: a Limpet of uid %d was refused '
                                        '(--peer-uid)' % (link, os.getuid()))
        self.assertEqual(client.wait(), 1)


class TcpTest(KbusdTestCase):
    """A pair over TCP on the loopback interface."""

    buses = 2

    def test_request_over_tcp(self):
        with socket.socket() as probe:  # a free port, for a moment
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        server = Limpet(self, '--server', '127.0.0.1:%d' % port, '--bus', 0, '--insecure')
        client = Limpet(self, '--client', 'localhost:%d' % port, '--bus', 1, '--insecure')
        joined_insecure(self, server, client)
        request_crosses(self, self.open(0), self.open(1), '$.Tcp.Ask', 'over tcp')


def make_certificates(directory):
    """A CA with certificates for Limpets a and b, and a rogue one from another CA."""
    def run(*args):
        subprocess.run(['openssl'] + list(args), cwd=directory, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for ca in ('ca', 'other-ca'):
        run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-keyout', ca + '.key', '-out', ca + '.pem', '-subj', '/CN=' + ca, '-days', '2')
    for name, ca in (('a', 'ca'), ('b', 'ca'), ('rogue', 'other-ca')):
        run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-keyout', name + '.key', '-out', name + '.csr', '-subj', '/CN=' + name)
        run('x509', '-req', '-in', name + '.csr', '-CA', ca + '.pem', '-CAkey', ca + '.key',
            '-CAcreateserial', '-out', name + '.pem', '-days', '2')


class TlsTest(KbusdTestCase):
    """A pair over TLS 1.3 with certificates on both sides."""

    buses = 2

    def setUp(self):
        super().setUp()
        self.certs = os.path.join(self.kbusd.dir, 'certs')
        os.mkdir(self.certs)
        make_certificates(self.certs)
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            self.address = '127.0.0.1:%d' % probe.getsockname()[1]

    def tls(self, name):
        c = self.certs
        return ['--tls-cert', c + '/%s.pem' % name, '--tls-key', c + '/%s.key' % name,
                '--tls-ca', c + '/ca.pem']

    def test_request_over_tls(self):
        server = Limpet(self, '-s', self.address, '-k', 0, *self.tls('a'))
        client = Limpet(self, '-c', self.address, '-k', 1, *self.tls('b'))
        server.joined(self)
        client.joined(self)
        request_crosses(self, self.open(0), self.open(1), '$.Tls.Ask', 'over tls')

    def test_a_certificate_from_another_ca_is_refused(self):
        server = Limpet(self, '-s', self.address, '-k', 0, *self.tls('a'))
        rogue = Limpet(self, '-c', self.address, '-k', 1, '--once',
                       '--tls-cert', self.certs + '/rogue.pem',
                       '--tls-key', self.certs + '/rogue.key', '--tls-ca', self.certs + '/ca.pem')
        refused = r'^kbus-limpet: 127\.0\.0\.1:\d+: a Limpet was refused: TLS handshake: '
        self.assertRegex(server.line(), refused)  # names the peer's address
        self.assertEqual(rogue.wait(), 1)
        plain = Limpet(self, '-c', self.address, '-k', 1, '--once', '--insecure')
        self.assertRegex(server.line(), refused)
        self.assertEqual(plain.wait(), 1)
        self.assertIsNone(self.open(0).find_replier('$.Anything'))


class NetnsTest(KbusdTestCase):
    """A pair in two network namespaces joined by a veth pair, as on two hosts."""

    buses = 2

    def ip(self, *args):
        return subprocess.run(['ip'] + list(args), capture_output=True, timeout=WAIT)

    def setUp(self):
        super().setUp()
        tag = str(os.getpid() % 100000)
        self.ns = ['kbusa' + tag, 'kbusb' + tag]
        steps = [('netns', 'add', self.ns[0]), ('netns', 'add', self.ns[1]),
                 ('link', 'add', 'kbva' + tag, 'type', 'veth', 'peer', 'name', 'kbvb' + tag),
                 ('link', 'set', 'kbva' + tag, 'netns', self.ns[0]),
                 ('link', 'set', 'kbvb' + tag, 'netns', self.ns[1]),
                 ('-n', self.ns[0], 'addr', 'add', '10.201.0.1/24', 'dev', 'kbva' + tag),
                 ('-n', self.ns[1], 'addr', 'add', '10.201.0.2/24', 'dev', 'kbvb' + tag),
                 ('-n', self.ns[0], 'link', 'set', 'kbva' + tag, 'up'),
                 ('-n', self.ns[1], 'link', 'set', 'kbvb' + tag, 'up')]
        for ns in self.ns:
            self.addCleanup(self.ip, 'netns', 'del', ns)
        for step in steps:
            r = self.ip(*step) if os.getuid() == 0 else None
            if r is None or r.returncode != 0:
                reason = 'not root' if r is None else r.stderr.decode().strip()
                print('NetnsTest skipped: network namespaces unavailable (%s)' % reason)
                self.skipTest('network namespaces unavailable: %s' % reason)

    def test_two_namespaces_over_veth(self):
        server = Limpet(self, '-s', '10.201.0.1:5555', '-k', 0, '--insecure',
                        prefix=('ip', 'netns', 'exec', self.ns[0]))
        client = Limpet(self, '-c', '10.201.0.1:5555', '-k', 1, '--insecure',
                        prefix=('ip', 'netns', 'exec', self.ns[1]))
        joined_insecure(self, server, client)
        request_crosses(self, self.open(0), self.open(1), '$.Ns.Ask', 'across namespaces')


class FakeLimpetTest(KbusdTestCase):
    """The other end is this test: what kbus-limpet does with a bad link."""

    def fake_server(self):
        path = os.path.join(self.kbusd.dir, 'link')
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        self.addCleanup(server.close)
        return server, path

    def connect(self, network_id, *args):
        server, path = self.fake_server()
        limpet = Limpet(self, '-c', path, '-id', 1, '--once', *args)
        conn, _ = server.accept()
        self.addCleanup(conn.close)
        conn.settimeout(WAIT)
        self.assertEqual(conn.recv(8, socket.MSG_WAITALL), b'HELO' + struct.pack('!I', 1))
        conn.sendall(b'HELO' + struct.pack('!I', network_id))
        return limpet, conn

    def test_bytes_that_are_not_a_message(self):
        limpet, conn = self.connect(2)
        limpet.joined(self)
        conn.sendall(b'\x00' * 64)
        self.assertEqual(limpet.wait(), 1)
        self.assertRegex(limpet.line(), r'^kbus-limpet: link down: Limpet 2 at \S+: '
                                        r'it sent something that is not a message: ')
        with Ksock(0) as k:  # kbusd is unharmed
            k.bind('$.Still.Here')

    def test_same_network_id(self):
        limpet, _ = self.connect(1)
        self.assertEqual(limpet.wait(), 1)
        self.assertIn('did not say HELO with another network id', limpet.line())

    def test_not_helo(self):
        server, path = self.fake_server()
        limpet = Limpet(self, '-c', path, '--once')
        conn, _ = server.accept()
        self.addCleanup(conn.close)
        conn.sendall(b'HTTP/1.1')
        self.assertEqual(limpet.wait(), 1)
        self.assertIn('Protocol error', limpet.line())

    def test_a_message_from_the_link_reaches_the_bus(self):
        limpet, conn = self.connect(2)
        limpet.joined(self)
        listener = self.open(0)
        listener.bind('$.From.Link')
        conn.sendall(link_message('$.From.Link', b'ok', serial=77))
        got = listener.wait_for_msg(WAIT)
        self.assertEqual((got.name, got.data, got.id.network_id, got.id.serial_num),
                         ('$.From.Link', 'ok', 2, 77))

    def test_all_or_wait_from_the_link_never_stalls_it(self):
        limpet, conn = self.connect(2)
        limpet.joined(self)
        full, other = self.open(0), self.open(0)
        full.bind('$.Full.Q')
        full.set_max_messages(1)
        other.bind('$.Other')
        self.open(0).send_msg(Message('$.Full.Q', 'first'))
        conn.sendall(link_message('$.Full.Q', b'waits', serial=2, flags=0x100))  # ALL_OR_WAIT
        conn.sendall(link_message('$.Other', b'after', serial=3))
        self.assertEqual(other.wait_for_msg(WAIT).data, 'after')  # not stuck behind it
        self.assertEqual(full.num_messages(), 1)  # sent as ALL_OR_FAIL: not delivered
        self.assertEqual(full.read_next_msg().data, 'first')

    def test_hello_and_heartbeats(self):
        limpet, conn = self.connect(2, '--heartbeat', '0.5')
        limpet.joined(self)
        self.assertEqual(read_link_message(conn),  # its bus leads to no other Limpet
                         ('$.KBUS.Limpet.Hello', b'heartbeat=500 interest reach='))
        conn.sendall(link_message('$.KBUS.Limpet.Hello', b'heartbeat=300'))
        self.assertEqual(read_link_message(conn), ('$.KBUS.Limpet.Heartbeat', b''))  # every 0.1 s
        # now silent: after 0.5 s without a word the link is dead
        self.assertEqual(limpet.wait(), 1)
        self.assertRegex(limpet.line(), r'^kbus-limpet: link down: Limpet 2 at \S+: '
                                        r'not a word from it for 0.5 s$')

    def test_a_hello_that_closes_a_loop(self):
        with Ksock(0) as other_limpet:  # says bus 0 leads to Limpet 77, as a Limpet would
            other_limpet.bind('$.KBUS.Limpet.Reach.77')
            limpet, conn = self.connect(2)
            limpet.joined(self)
            self.assertEqual(read_link_message(conn)[0], '$.KBUS.Limpet.Hello')
            conn.sendall(link_message('$.KBUS.Limpet.Hello', b'heartbeat=3000 reach=5,77'))
            name, data = read_link_message(conn)
            while name == '$.KBUS.ReplierBindEvent':
                name, data = read_link_message(conn)
            self.assertEqual((name, data), ('$.KBUS.Limpet.Bye', b'loop=77'))
            self.assertEqual(conn.recv(1), b'')  # and it closed the link
            self.assertEqual(limpet.wait(), 1)
            self.assertEqual(limpet.line(), 'kbus-limpet: link down: Limpet 2 at %s: refused: '
                             'both buses already lead to network id 77, so the link would '
                             'close a loop (said once while it lasts)' % conn.getsockname())

    def test_reach_and_bye(self):
        limpet, conn = self.connect(2)
        limpet.joined(self)
        conn.sendall(link_message('$.KBUS.Limpet.Hello', b'heartbeat=3000 reach=5'))
        reach = ['$.KBUS.Limpet.Reach.%d' % i for i in (1, 2, 5, 6)]

        def said(k):
            return sorted(b.name for b in k.bindings() if 'Reach' in b.name)
        with Ksock(0) as k:
            wait_until(lambda: said(k) == reach[:3])  # itself, the other, and what it said
            conn.sendall(link_message('$.KBUS.Limpet.Reach', b'5 6'))
            wait_until(lambda: said(k) == reach)
            conn.sendall(link_message('$.KBUS.Limpet.Reach', b'5 x'))
            self.assertEqual(limpet.line(), 'kbus-limpet: Limpet 2 sent a malformed Reach: '
                                            'ignored')
            self.assertEqual(said(k), reach)
        conn.sendall(link_message('$.KBUS.Limpet.Bye', b'stop'))
        self.assertEqual(limpet.wait(), 1)
        self.assertRegex(limpet.line(), r'^kbus-limpet: link down: Limpet 2 at \S+: '
                                        r'it is stopping$')

    def test_stopping_says_bye(self):
        limpet, conn = self.connect(2)
        limpet.joined(self)
        conn.sendall(link_message('$.KBUS.Limpet.Hello', b'heartbeat=3000'))
        self.assertEqual(read_link_message(conn)[0], '$.KBUS.Limpet.Hello')
        wait_until(lambda: limpet.proc.poll() is None)
        time.sleep(0.2)  # for our Hello to be read: a Bye goes only to a kbus Limpet
        limpet.proc.terminate()
        names = []
        while True:
            name, data = read_link_message(conn)
            names.append(name)
            if name == '$.KBUS.Limpet.Bye':
                break
        self.assertEqual(data, b'stop')
        self.assertEqual(limpet.wait(), 0)

    def test_an_original_limpet_gets_no_timeout(self):
        limpet, conn = self.connect(2, '--heartbeat', '0.2')
        limpet.joined(self)
        self.assertIsNone(limpet.line(seconds=0.6))  # silent, but it never said Hello
        listener = self.open(0)
        listener.bind('$.Quiet.Peer')
        conn.sendall(link_message('$.Quiet.Peer', b'still here'))
        self.assertEqual(listener.wait_for_msg(WAIT).data, 'still here')

    def test_terminate(self):
        limpet, _ = self.connect(2, '-t', '$.Limpet.Stop')
        limpet.joined(self)
        self.open(0).send_msg(Message('$.Limpet.Stop'))
        self.assertEqual(limpet.wait(), 0)


class CommandLineTest(unittest.TestCase):

    def run_limpet(self, *args):
        return subprocess.run([LIMPET] + list(args), capture_output=True, timeout=WAIT)

    def test_usage_errors(self):
        for args, text in ((['-s'], 'say where the link is'),
                           (['/tmp/x'], 'say which end this is'),
                           (['-s', '/tmp/x', '-id', '0'], 'network id must be a number'),
                           (['-s', '/tmp/x', '-v', '3'], 'verbosity is 0, 1 or 2'),
                           (['-s', 'host:port'], 'neither <host>:<port> nor a socket path'),
                           (['-s', '/tmp/x', '/tmp/y'], 'one link only'),
                           (['-s', '/tmp/x', '--frob'], 'unknown option --frob'),
                           (['-s', '/tmp/x', '-m'], '-m needs a value'),
                           (['-s', '127.0.0.1:5555'], 'a TCP link needs TLS'),
                           (['-s', '127.0.0.1:5555', '--tls-cert', 'x'], 'together'),
                           (['-s', '/tmp/x', '--insecure'], 'for TCP links'),
                           (['-s', '127.0.0.1:5555', '--insecure', '--tls-cert', 'a',
                             '--tls-key', 'b', '--tls-ca', 'c'], 'choose one')):
            r = self.run_limpet(*args)
            self.assertEqual(r.returncode, 2, (args, r))
            self.assertIn(text, r.stderr.decode(), args)

    def test_cannot_listen(self):
        r = self.run_limpet('-s', '/nonexistent/link')
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(),
                         r'^kbus-limpet: /nonexistent/link: cannot listen on /nonexistent/link: ')


if __name__ == '__main__':
    unittest.main()
