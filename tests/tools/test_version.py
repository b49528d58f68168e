#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""One version everywhere: meson.build's project version is what every
program's --version prints, what a running kbusd reports (kbus-ctl version),
kbus.__version__, the pkg-config files, the Debian changelog and the top
release of CHANGELOG.md.

Environment (set by meson): KBUS_VERSION_EXPECTED (meson.project_version()),
KBUSD, KBUS_TOOLS_DIR, KBUS_SOURCE_ROOT, KBUS_PC_DIR (the generated .pc files).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

VERSION = os.environ['KBUS_VERSION_EXPECTED']
KBUSD = os.environ['KBUSD']
TOOLS_DIR = os.environ['KBUS_TOOLS_DIR']
ROOT = os.environ['KBUS_SOURCE_ROOT']
PC_DIR = os.environ['KBUS_PC_DIR']
PROGRAMS = ('kbus-send', 'kbus-listen', 'kbus-ctl', 'kbus-limpet', 'kbus-bench')


def output(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True,
                          **kwargs).stdout


class VersionTest(unittest.TestCase):

    def test_programs(self):
        self.assertEqual(output([KBUSD, '--version']), 'kbusd %s\n' % VERSION)
        for name in PROGRAMS:
            self.assertEqual(output([os.path.join(TOOLS_DIR, name), '--version']),
                             '%s %s\n' % (name, VERSION))

    def test_running_kbusd_reports_it(self):
        sockdir = tempfile.mkdtemp(prefix='kbus-version-')
        self.addCleanup(shutil.rmtree, sockdir, True)
        kbusd = subprocess.Popen([KBUSD, '--socket-dir', sockdir], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(kbusd.wait)
        self.addCleanup(kbusd.terminate)
        self.assertIn('listening on', kbusd.stdout.readline())
        env = dict(os.environ, KBUS_SOCKET_DIR=sockdir)
        self.assertEqual(output([os.path.join(TOOLS_DIR, 'kbus-ctl'), 'version'], env=env),
                         'kbusd %s\n' % VERSION)

    def test_python(self):
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'python'))
        self.assertEqual(output([sys.executable, '-c', 'import kbus; print(kbus.__version__)'],
                                env=env), VERSION + '\n')

    def test_pkg_config(self):
        for name in ('kbus', 'kbus-compat'):
            with open(os.path.join(PC_DIR, name + '.pc')) as f:
                self.assertIn('\nVersion: %s\n' % VERSION, f.read(), name)

    def test_debian_changelog(self):
        with open(os.path.join(ROOT, 'debian', 'changelog')) as f:
            first = f.readline()
        self.assertRegex(first, r'^kbus \(%s\) ' % re.escape(VERSION))

    def test_changelog(self):
        with open(os.path.join(ROOT, 'CHANGELOG.md')) as f:
            releases = re.findall(r'^## \[([^\]]+)\]', f.read(), re.M)
        self.assertEqual(releases[:2], ['Unreleased', VERSION])


if __name__ == '__main__':
    unittest.main()
