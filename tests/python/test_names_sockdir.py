# SPDX-License-Identifier: MPL-2.0
"""Name syntax (semantics §3) and socket directory resolution (semantics §2), no kbusd needed."""

import errno
import os
import unittest
from unittest import mock

import kbusd_harness  # noqa: F401  (puts python/ on sys.path)
from kbus import names, sockdir


class NamesTest(unittest.TestCase):

    def test_valid(self):
        for name in ('$.A', '$.Sensors.Kitchen', '$.a_b-c.D9', '$.' + 'x' * 998):
            self.assertEqual(names.name_errno(name, False), 0, name)
            self.assertEqual(names.name_errno(name, True), 0, name)

    def test_wildcards(self):
        for name in ('$.*', '$.%', '$.Sensors.*', '$.Sensors.%'):
            self.assertEqual(names.name_errno(name, True), 0, name)
            self.assertEqual(names.name_errno(name, False), errno.EBADMSG, name)

    def test_invalid(self):
        for name in ('', '$', '$.', 'A.B', '$.A.', '$..A', '$.A..B', '$.A.*.B', '$.A*',
                     '$.*.*', '$.A B', '$.A/B', '$.caf\u00e9', '$.A.**', '.$A'):
            self.assertEqual(names.name_errno(name, True), errno.EBADMSG, repr(name))

    def test_length(self):
        self.assertEqual(names.name_errno('$.' + 'x' * 998, False), 0)
        self.assertEqual(names.name_errno('$.' + 'x' * 999, False), errno.ENAMETOOLONG)
        self.assertEqual(names.name_errno(b'$.A', False), 0)


class SockdirTest(unittest.TestCase):

    def resolve_with(self, env, run_usable):
        with mock.patch.dict(os.environ, env, clear=True), \
                mock.patch.object(sockdir, '_run_usable', return_value=run_usable):
            return sockdir.socket_dir()

    def test_order(self):
        self.assertEqual(self.resolve_with({'KBUS_SOCKET_DIR': '/x', 'XDG_RUNTIME_DIR': '/r'},
                                           True), '/x')
        self.assertEqual(self.resolve_with({'KBUS_SOCKET_DIR': '', 'XDG_RUNTIME_DIR': '/r'},
                                           True), '/run/kbus')
        self.assertEqual(self.resolve_with({'XDG_RUNTIME_DIR': '/r'}, False), '/r/kbus')
        self.assertEqual(self.resolve_with({}, False), '/tmp/kbus-%d' % os.getuid())

    def test_bus_path(self):
        self.assertEqual(sockdir.bus_path(3, '/d'), '/d/kbus3')
        with self.assertRaises(OSError) as cm:
            sockdir.bus_path(0, '/' + 'd' * 120)
        self.assertEqual(cm.exception.errno, errno.ENAMETOOLONG)

    def test_dev_names(self):
        self.assertEqual(sockdir.parse_dev_name('/dev/kbus0'), 0)
        self.assertEqual(sockdir.parse_dev_name('/dev/kbus255'), 255)
        for name in ('/dev/kbus', '/dev/kbus256', '/dev/kbusx', '/dev/kbus1a', '/tmp/kbus0'):
            self.assertIsNone(sockdir.parse_dev_name(name), name)

    def test_resolve(self):
        with mock.patch.dict(os.environ, {'KBUS_SOCKET_DIR': '/d'}):
            self.assertEqual(sockdir.resolve(2), ('/d/kbus2', '/dev/kbus2'))
            self.assertEqual(sockdir.resolve('/dev/kbus7'), ('/d/kbus7', '/dev/kbus7'))
            self.assertEqual(sockdir.resolve('/elsewhere/sock'), ('/elsewhere/sock',
                                                                  '/elsewhere/sock'))
            self.assertEqual(sockdir.resolve(b'/elsewhere/sock')[0], '/elsewhere/sock')
        for bus in (-1, 2 ** 32):
            with self.assertRaises(OSError) as caught:
                sockdir.resolve(bus)
            self.assertEqual(caught.exception.errno, errno.ENOENT)
        with self.assertRaises(TypeError):
            sockdir.resolve(1.5)


if __name__ == '__main__':
    unittest.main()
