# SPDX-License-Identifier: MPL-2.0
"""The Python examples: the EuroPython 2010 session prints exactly its transcript, and the
asyncio kitchen example runs."""

import os
import subprocess
import sys
import unittest

from kbusd_harness import KBUSD, SOURCE_ROOT, KbusdTestCase

EXAMPLE = os.path.join(SOURCE_ROOT, 'examples', 'python', 'presentation.py')
KITCHEN_AIO = os.path.join(SOURCE_ROOT, 'examples', 'python', 'kitchen_aio.py')
TRANSCRIPT = os.path.join(SOURCE_ROOT, 'examples', 'python', 'presentation.txt')


def run_example(*args, env=None):
    return subprocess.run([sys.executable, EXAMPLE] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env, timeout=60)


class PresentationTest(KbusdTestCase):

    def expected(self):
        with open(TRANSCRIPT) as f:
            return f.read()

    def test_with_its_own_kbusd(self):
        result = run_example('--kbusd', KBUSD)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, self.expected())

    def test_on_a_fresh_running_kbusd(self):
        result = run_example(env=self.kbusd.env())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, self.expected())

    def test_the_transcript_has_the_presentations_ids(self):
        text = self.expected()
        for line in ('Ksock device 0, id 113, mode read/write',
                     'MessageId(0, 337)',
                     "Message('$.Actor.Speak', data='Ahem', from_=113, id=MessageId(0, 338))",
                     "<Announcement '$.Actor.Speak', id=[0:338], from=113, data='Ahem'>",
                     'Ksock device 0, id 115, mode read/write',
                     "<Request '$.Actor.CoinToss', to=115, flags=0x1 (REQ), data='Head'>",
                     'So, Head count is 2',
                     'BrokenPipeError: [Errno 32] Broken pipe: stateful request to ksock 115, '
                     "but another ksock is now the replier for '$.Actor.CoinToss'",
                     "<Reply '$.Actor.CoinToss', id=[0:349], to=113, from=115, "
                     "in_reply_to=[0:348], data='Head count is 2'>"):
            self.assertIn(line + '\n', text)

    def test_refuses_a_bus_that_has_gone_past_the_ids(self):
        for _ in range(113):
            self.open().close()
        result = run_example(env=self.kbusd.env())
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, '')
        self.assertIn('bus 0 has already used ksock id 113', result.stderr)


class KitchenAioTest(KbusdTestCase):

    def test_asyncio_kitchen_example(self):
        result = subprocess.run([sys.executable, KITCHEN_AIO], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.kbusd.env(),
                                timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, '$.Sensors.Kitchen.Temperature says 21.5\n' * 3)


if __name__ == '__main__':
    unittest.main()
