# SPDX-License-Identifier: MPL-2.0
"""Every request answered exactly once, across a Limpet pair that keeps failing.

Two buses of one kbusd joined by a kbus-limpet pair.  With a fixed seed, a
random run of steps: requesters on both buses ask services on both buses;
repliers answer, hold, or close with requests unanswered (and a new one
binds); either Limpet is killed and started again.  Then the repliers
answer what they hold, and each request that was sent (send_msg returned
an id) must get exactly one reply or status on its requester's bus, and
nothing else may arrive.  The seeds are fixed, so a failure can be replayed.
"""

import os
import random
import select
import time
import unittest

from kbusd_harness import KbusdTestCase, wait_until
from kbus import Ksock, Request, reply_to
from test_limpet import Limpet

STEPS = 60
SETTLE = 20.0


class RandomLinkTest(KbusdTestCase):

    buses = 2

    def start_limpet(self, side):
        link = os.path.join(self.kbusd.dir, 'link')
        args = ['-s', link, '-k', 0, '-id', 1] if side == 0 else ['-c', link, '-k', 1, '-id', 2]
        limpet = Limpet(self, *args, '--heartbeat', 1)
        return limpet

    def new_replier(self, bus, name):
        ksock = Ksock(bus)
        self.addCleanup(ksock.close)
        try:
            ksock.bind(name, True)
        except OSError:
            pass  # the far replier's proxy still holds the name: it goes soon
        return ksock

    def run_seed(self, seed):
        rng = random.Random(seed)
        limpets = [self.start_limpet(0), self.start_limpet(1)]
        for limpet in limpets:
            limpet.joined(self)
        services = {'$.Rnd.A': 0, '$.Rnd.B': 1}  # name -> the bus its replier is on
        repliers = {name: self.new_replier(bus, name) for name, bus in services.items()}
        askers = [self.open(0), self.open(1)]
        for name, bus in services.items():  # each reachable from the other bus too
            wait_until(lambda n=name, b=bus: askers[1 - b].find_replier(n) is not None)
        sent = {}      # (bus, message id) -> number of answers seen
        kills = 0
        held = {name: [] for name in services}

        def collect():
            for bus, asker in enumerate(askers):
                while True:
                    msg = asker.read_next_msg()
                    if msg is None:
                        break
                    key = (bus, msg.in_reply_to)
                    self.assertIn(key, sent, 'seed %d: an answer to nothing: %r' % (seed, msg))
                    sent[key] += 1

        for _ in range(STEPS):
            action = rng.random()
            if action < 0.5:
                bus, name = rng.randrange(2), rng.choice(sorted(services))
                try:
                    sent[(bus, askers[bus].send_msg(Request(name, 'q')))] = 0
                except OSError:
                    pass  # no replier reachable just now: nothing to answer
            elif action < 0.85:
                name = rng.choice(sorted(services))
                while True:
                    request = repliers[name].read_next_msg()
                    if request is None:
                        break
                    if rng.random() < 0.7:
                        try:
                            repliers[name].send_msg(reply_to(request, 'a'))
                        except OSError:
                            pass  # its requester (a Limpet) went: a status answered it
                    else:
                        held[name].append(request)
            elif action < 0.93:
                name = rng.choice(sorted(services))
                repliers[name].close()  # what it held gets Ignored, the rest GoneAway
                held[name] = []
                repliers[name] = self.new_replier(services[name], name)
            else:
                side = rng.randrange(2)
                kills += 1
                limpets[side].kill()
                limpets[side] = self.start_limpet(side)
                limpets[side].joined(self)
            collect()

        for name, replier in repliers.items():  # answer everything still held
            for request in held[name]:
                try:
                    replier.send_msg(reply_to(request, 'late'))
                except OSError:
                    pass  # its requester's Limpet went: a status answered it already
            while True:
                request = replier.read_next_msg()
                if request is None:
                    break
                try:
                    replier.send_msg(reply_to(request, 'late'))
                except OSError:
                    pass
        deadline = time.monotonic() + SETTLE
        while time.monotonic() < deadline and any(n == 0 for n in sent.values()):
            select.select(askers, [], [], 0.05)  # until something arrives, briefly
            collect()
        missing = [k for k, n in sent.items() if n == 0]
        twice = [k for k, n in sent.items() if n > 1]
        self.assertEqual((missing, twice), ([], []), 'seed %d' % seed)
        statuses = sum(1 for k in sent)  # (every one answered once, checked above)
        self.assertTrue(len(sent) > 5 and kills > 0,
                        'seed %d: %d requests, %d Limpets killed: too little to mean anything'
                        % (seed, statuses, kills))

    def test_seed_1(self):
        self.run_seed(1)

    def test_seed_2(self):
        self.run_seed(2)

    def test_seed_3(self):
        self.run_seed(3)


if __name__ == '__main__':
    unittest.main()
