# SPDX-License-Identifier: MPL-2.0
"""End-to-end tests of kbus-send, kbus-listen and kbus-ctl against a real kbusd.

Each test that needs a bus starts its own kbusd on a fresh temporary socket
directory and waits for its "listening on" lines; background kbus-listen
processes are waited for through the line they print on stderr once bound.
Nothing sleeps: a listener that must not read yet is stopped with SIGSTOP
(and waited for with WUNTRACED), so that messages pile up in its queue.

Environment:
  KBUSD              the kbusd binary (default: build/src/broker/kbusd)
  KBUS_TOOLS_DIR     where kbus-send, kbus-listen and kbus-ctl are
                     (default: build/tools)
  KBUS_TOOL_WRAPPER  a command put before every tool, e.g.
                     "valgrind -q --leak-check=full --error-exitcode=99"

Run: /usr/bin/python3 tests/tools/test_tools.py [-v]
"""

import collections
import ctypes
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
KBUSD = os.environ.get('KBUSD') or os.path.join(SOURCE_ROOT, 'build', 'src', 'broker', 'kbusd')
TOOLS_DIR = os.environ.get('KBUS_TOOLS_DIR') or os.path.join(SOURCE_ROOT, 'build', 'tools')
WRAPPER = shlex.split(os.environ.get('KBUS_TOOL_WRAPPER', ''))
MAN_DIR = os.path.join(SOURCE_ROOT, 'docs', 'man')
TOOLS = ('kbus-send', 'kbus-listen', 'kbus-ctl', 'kbus-limpet')
WAIT = 20.0  # seconds before a test gives up waiting for a line or a process

LINE_RE = re.compile(
    r'^(?P<time>\d\d:\d\d:\d\d\.\d{6}) (?P<kind>announcement|request|reply|status) '
    r'id=\[(?P<net>\d+):(?P<serial>\d+)\] from=(?P<from_>\d+) to=(?P<to>\d+)'
    r'(?: in_reply_to=\[(?P<rnet>\d+):(?P<rserial>\d+)\])? flags=(?P<flags>\S+) '
    r'(?P<name>\S+) (?P<data>.*)$')

JSON_FIELDS = ['time', 'kind', 'id', 'in_reply_to', 'to', 'from', 'orig_from', 'final_to',
               'flags', 'flag_names', 'name', 'data_len', 'data_text', 'data_hex']


def _die_with_parent():
    """In a child: SIGKILL when the test process dies, so nothing is left behind."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def tool_argv(name, *args):
    return WRAPPER + [os.path.join(TOOLS_DIR, name)] + [str(a) for a in args]


def parse_line(line):
    """A text message line as a dict; fails the test if it does not parse."""
    m = LINE_RE.match(line)
    if not m:
        raise AssertionError('not a message line: %r' % line)
    return m.groupdict()


def parse_json(line):
    """A JSON line as a dict, checking the field names and their order."""
    pairs = json.loads(line, object_pairs_hook=lambda p: p)
    keys = [k for k, _ in pairs]
    if keys != JSON_FIELDS:
        raise AssertionError('JSON fields %r, not %r' % (keys, JSON_FIELDS))
    return json.loads(line)


class LineReader:
    """Lines from a pipe, read with a deadline (never a sleep)."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buf = bytearray()
        self.eof = False

    def line(self, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while b'\n' not in self.buf:
            left = deadline - time.monotonic()
            if self.eof or left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.eof = True
            self.buf += chunk
        line, _, rest = bytes(self.buf).partition(b'\n')
        self.buf[:] = rest
        return line.decode('utf-8')

    def rest(self):
        """Everything up to EOF (the process has exited)."""
        while not self.eof:
            chunk = os.read(self.fd, 65536)
            self.eof = not chunk
            self.buf += chunk
        data = bytes(self.buf).decode('utf-8')
        self.buf.clear()
        return data


class Background:
    """A tool running in the background, its stdout and stderr read line by line."""

    def __init__(self, test, name, *args, new_session=False):
        self.proc = subprocess.Popen(tool_argv(name, *args), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=_die_with_parent,
                                     start_new_session=new_session)
        self.out = LineReader(self.proc.stdout)
        self.err = LineReader(self.proc.stderr)
        self.new_session = new_session
        test.addCleanup(self.kill)

    @property
    def pid(self):
        return self.proc.pid

    def ready(self, test):
        """Wait for the 'listening to'/'replying to' line; return the ksock id."""
        line = self.err.line()
        test.assertIsNotNone(line, 'kbus-listen did not say it was bound')
        m = re.match(r'^kbus-listen: bus \S+: ksock (\d+) (listening|replying) to ', line)
        test.assertIsNotNone(m, line)
        return int(m.group(1))

    def stop(self):
        """SIGSTOP, and wait until it is stopped: it reads nothing more."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        _, status = os.waitpid(self.proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)

    def cont(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def wait(self, timeout=WAIT):
        return self.proc.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            try:
                if self.new_session:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                else:
                    self.proc.kill()
                    os.kill(self.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class Kbusd:
    """One kbusd on its own socket directory."""

    def __init__(self, *args, buses=1):
        self.dir = tempfile.mkdtemp(prefix='kbus-tools-')
        self.log = open(os.path.join(self.dir, 'kbusd.log'), 'wb')
        self.proc = subprocess.Popen(
            [KBUSD, '--socket-dir', self.dir, '--buses', str(buses)] + list(args),
            stdout=subprocess.PIPE, stderr=self.log, preexec_fn=_die_with_parent)
        reader = LineReader(self.proc.stdout)
        for _ in range(buses):
            line = reader.line()
            if line is None or 'listening on' not in line:
                self.stop()
                raise RuntimeError('kbusd did not start: %r' % line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class ToolTestCase(unittest.TestCase):
    """Helpers to run the tools with KBUS_SOCKET_DIR set."""

    socket_dir = None

    def setUp(self):
        saved = os.environ.get('KBUS_SOCKET_DIR')
        self.addCleanup(self._restore_env, saved)

    @staticmethod
    def _restore_env(saved):
        if saved is None:
            os.environ.pop('KBUS_SOCKET_DIR', None)
        else:
            os.environ['KBUS_SOCKET_DIR'] = saved

    def run_tool(self, name, *args, stdin=b'', timeout=WAIT):
        """Run a tool to completion; stdout and stderr as text."""
        return subprocess.run(tool_argv(name, *args), input=stdin, capture_output=True,
                              timeout=timeout, preexec_fn=_die_with_parent)

    def ok(self, name, *args, stdin=b''):
        """Run a tool that must succeed with nothing on stderr; return its stdout lines."""
        r = self.run_tool(name, *args, stdin=stdin)
        self.assertEqual((r.returncode, r.stderr.decode()), (0, ''), r)
        return r.stdout.decode().splitlines()

    def fails(self, name, *args, status=1, stdin=b''):
        """Run a tool that must fail with @status and one line on stderr; return (stdout, line)."""
        r = self.run_tool(name, *args, stdin=stdin)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, status, r)
        self.assertEqual(err.count('\n'), 1, 'not one line: %r' % err)
        return r.stdout.decode().splitlines(), err.rstrip('\n')

    def listen(self, *args, **kwargs):
        """Start kbus-listen in the background and wait until it is bound."""
        b = Background(self, 'kbus-listen', *args, **kwargs)
        b.ksock = b.ready(self)
        return b

    def expect_lines(self, bg, count):
        lines = [bg.out.line() for _ in range(count)]
        self.assertNotIn(None, lines, lines)
        return lines


class KbusdTestCase(ToolTestCase):
    """A test with its own fresh kbusd."""

    buses = 1

    def setUp(self):
        super().setUp()
        self.kbusd = Kbusd(buses=self.buses)
        self.addCleanup(self.kbusd.stop)
        os.environ['KBUS_SOCKET_DIR'] = self.kbusd.dir

    def stats(self, bus=0):
        return json.loads(self.ok('kbus-ctl', '--bus', bus, '--json', 'stats')[0])

    def ksock_stats(self, ksock_id, bus=0):
        for k in self.stats(bus)['ksock_stats']:
            if k['ksock'] == ksock_id:
                return k
        raise AssertionError('no ksock %d in stats' % ksock_id)


# ---- without kbusd ----------------------------------------------------------

class TestNoKbusd(ToolTestCase):
    """kbusd not running: a clear error line, where the tool looked and how to start
    kbusd; exit status 1, at once."""

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix='kbus-tools-none-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.environ['KBUS_SOCKET_DIR'] = self.dir

    def check_not_running(self, label, path, bus_args=(), explicit=False):
        """The error line, then where the tool looked and how to start a kbusd there."""
        for name, args in (('kbus-send', ['$.Foo', 'x']), ('kbus-send', ['--request', '$.Foo']),
                           ('kbus-listen', ['$.*']), ('kbus-listen', ['--replier', '$.Foo']),
                           ('kbus-ctl', ['stats']), ('kbus-ctl', ['new-bus'])):
            start = time.monotonic()
            r = self.run_tool(name, *(list(bus_args) + args))
            self.assertLess(time.monotonic() - start, 5.0)
            self.assertEqual((r.returncode, r.stdout), (1, b''))
            hint = (["%s: nothing listens on that socket; 'kbusd --socket-dir DIR' serves "
                     "DIR/kbus0" % name] if explicit else
                    ['%s: looked in %s (from $KBUS_SOCKET_DIR)' % (name, self.dir),
                     "%s: start kbusd there by running 'kbusd --socket-dir %s' in a terminal"
                     % (name, self.dir)])
            self.assertEqual(r.stderr.decode().splitlines(),
                             ['%s: %s: ENOENT: no such bus: kbusd is not running at %s'
                              % (name, label, path)] + hint)

    def test_system_directory_hint(self):
        """Without $KBUS_SOCKET_DIR, and /run/kbus usable, the hint is systemd's way."""
        del os.environ['KBUS_SOCKET_DIR']
        if os.path.exists('/run/kbus/kbus0') or not os.access('/run', os.W_OK):
            self.skipTest('a system kbusd runs here, or /run is not usable')
        r = self.run_tool('kbus-send', '$.Foo', 'x')
        self.assertEqual(r.stderr.decode().splitlines()[1:],
                         ["kbus-send: looked in /run/kbus (the system's socket directory; "
                          "$KBUS_SOCKET_DIR is not set)",
                          "kbus-send: start kbusd with 'systemctl start kbusd.socket', or run "
                          "'kbusd' in a terminal"])

    def test_no_socket(self):
        self.check_not_running('bus 0', os.path.join(self.dir, 'kbus0'))

    def test_bus_number(self):
        self.check_not_running('bus 7', os.path.join(self.dir, 'kbus7'), ['--bus', '7'])

    def test_dev_name(self):
        self.check_not_running('bus 2', os.path.join(self.dir, 'kbus2'), ['--bus', '/dev/kbus2'])

    def test_socket_path(self):
        path = os.path.join(self.dir, 'elsewhere')
        self.check_not_running('bus ' + path, path, ['--bus', path], explicit=True)

    def test_stale_socket(self):
        """A socket left by a dead kbusd: nobody listens, no hang."""
        path = os.path.join(self.dir, 'kbus0')
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.close()
        self.check_not_running('bus 0', path)


class TestCommandLine(ToolTestCase):
    """--help, --version, usage errors (exit 2) and agreement with the man pages."""

    def test_version(self):
        for name in TOOLS + ('kbus-bench',):
            for opt in ('--version', '-V'):
                out = self.ok(name, opt)
                self.assertEqual(len(out), 1)
                self.assertRegex(out[0], r'^%s \d+\.\d+\.\d+$' % name)

    def test_help(self):
        for name in TOOLS + ('kbus-bench',):
            for opt in ('--help', '-h'):
                out = self.ok(name, opt)
                self.assertTrue(out[0].startswith('Usage: %s ' % name), out[0])

    def test_help_fits_one_screen(self):
        """Every program's --help fits 80x24 and ends with the man page to read."""
        runs = [(name, tool_argv(name, '--help')) for name in TOOLS + ('kbus-bench',)]
        runs.append(('kbusd', [KBUSD, '--help']))
        for name, argv in runs:
            r = subprocess.run(argv, capture_output=True, timeout=WAIT)
            lines = r.stdout.decode().splitlines()
            self.assertEqual(r.returncode, 0, name)
            self.assertLessEqual(len(lines), 24, name)
            self.assertLessEqual(max(len(line) for line in lines), 80, name)
            self.assertRegex(lines[-1], r'\b%s\([158]\)' % re.escape(name), name)

    @staticmethod
    def man_options(name):
        with open(os.path.join(MAN_DIR, name + '.1')) as f:
            text = f.read().replace('\\-', '-')
        options = text[text.index('.SH OPTIONS'):]
        options = options[:options.index('\n.SH ', 1)]
        return set(re.findall(r'--([a-z][a-z-]*)', options))

    @staticmethod
    def help_options(text):
        return set(re.findall(r'^\s+(?:-\w, )?--([a-z][a-z-]*)', text, re.M))

    def test_help_and_man_page_agree(self):
        for name in TOOLS + ('kbus-bench',):
            help_text = '\n'.join(self.ok(name, '--help'))
            if name == 'kbus-bench':  # its help is the synopsis
                helped = set(re.findall(r'--([a-z][a-z-]*)', help_text))
            else:
                helped = self.help_options(help_text)
            self.assertEqual(helped, self.man_options(name), name)

    def test_bench_growth_runs(self):
        """kbus-bench --growth --quick prints its rows (the figures are not judged here)."""
        out = self.run_tool('kbus-bench', '--growth', '--quick', '--kbusd', KBUSD,
                            timeout=120).stdout.decode().splitlines()
        rows = [line for line in out if not line.startswith('kbusd:')]
        self.assertRegex(rows[0], r'^kbus-bench --growth \d+\.\d+\.\d+, ')
        self.assertRegex(rows[1], r'^sync send p50 with non-matching bindings +10: .* 10000: ')
        self.assertRegex(rows[2], r'^sync send p50 with idle ksocks +1: .* 1000: ')
        self.assertRegex(rows[3], r'^kbusd RSS idle \d+ KiB \(its own memory \d+ KiB, the rest '
                                  r'shared library pages\); \d+ KiB more with 1000 idle ksocks')
        self.assertRegex(rows[4], r'^pipelined announcements 1->100 .* lost 0 ')
        self.assertRegex(rows[5], r'^pipelined announcements 1->1000 .* lost 0 ')

    def test_man_pages_render(self):
        if not shutil.which('man'):
            self.skipTest('man is not installed')
        for name in TOOLS + ('kbus-bench',):
            r = subprocess.run(['man', '-l', os.path.join(MAN_DIR, name + '.1')],
                               capture_output=True, env=dict(os.environ, MANPAGER='cat',
                                                              PAGER='cat', MANWIDTH='80'))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(name.upper() + '(1)', r.stdout.decode())

    def usage_error(self, name, *args, text=None):
        out, err = self.fails(name, *args, status=2)
        self.assertEqual(out, [])
        self.assertTrue(err.startswith(name + ': '), err)
        self.assertTrue(err.endswith("; try '%s --help'" % name), err)
        if text is not None:
            self.assertEqual(err, "%s: %s; try '%s --help'" % (name, text, name))

    def test_send_usage(self):
        self.usage_error('kbus-send', text='missing the message NAME')
        self.usage_error('kbus-send', '--bogus', '$.A', text="bad option '--bogus'")
        self.usage_error('kbus-send', '-x', '$.A', text="bad option '-x'")
        self.usage_error('kbus-send', '--json', '-rx', '$.A', text="bad option '-x'")
        self.usage_error('kbus-send', '--json', '-xr', '$.A', text="bad option '-x'")
        self.usage_error('kbus-send', '$.A', '-c', text="option '-c' needs a value")
        self.usage_error('kbus-send', '$.A', '--count', text="option '--count' needs a value")
        self.usage_error('kbus-send', '--count', '0', '$.A')
        self.usage_error('kbus-send', '--count', 'x', '$.A')
        self.usage_error('kbus-send', '--to', '0', '--request', '$.A')
        self.usage_error('kbus-send', '--bus', '', '$.A')
        self.usage_error('kbus-send', '--request', '--timeout', '-1', '$.A')
        self.usage_error('kbus-send', '--request', '--timeout', 'soon', '$.A')
        self.usage_error('kbus-send', '--all-or-fail', '--all-or-wait', '$.A',
                         text='--all-or-fail and --all-or-wait exclude each other')
        self.usage_error('kbus-send', '--to', '3', '$.A',
                         text='--to needs --request (it makes a stateful request)')
        self.usage_error('kbus-send', '--timeout', '1', '$.A',
                         text='--timeout needs --request or --all-or-wait')
        self.usage_error('kbus-send', '--file', '/dev/null', '$.A', 'data',
                         text='give DATA or --file, not both')
        self.usage_error('kbus-send', '$.A', 'one', 'two')

    def test_listen_usage(self):
        self.usage_error('kbus-listen', text='missing the NAME to listen to')
        self.usage_error('kbus-listen', '--reply', 'x', '$.A',
                         text='--reply and --exec need --replier')
        self.usage_error('kbus-listen', '--exec', 'cat', '$.A',
                         text='--reply and --exec need --replier')
        self.usage_error('kbus-listen', '--replier', '--reply', 'x', '--exec', 'cat', '$.A',
                         text='give --reply or --exec, not both')
        self.usage_error('kbus-listen', '--count', '0', '$.A')
        self.usage_error('kbus-listen', '--timeout', '1e3', '$.A')
        self.usage_error('kbus-listen', '--nope', '$.A', text="bad option '--nope'")

    def test_ctl_usage(self):
        self.usage_error('kbus-ctl', text='missing the COMMAND')
        self.usage_error('kbus-ctl', 'frobnicate', text="unknown command 'frobnicate'")
        self.usage_error('kbus-ctl', 'replier', text='replier: missing an argument')
        self.usage_error('kbus-ctl', 'stats', 'more', text='stats: too many arguments')
        self.usage_error('kbus-ctl', 'new-bus', '1', text='new-bus: too many arguments')
        self.usage_error('kbus-ctl', 'max-message-size', 'big',
                         text="max-message-size takes a number of bytes, not 'big'")
        self.usage_error('kbus-ctl', '--json=yes', 'stats')


# ---- kbus-send and kbus-listen ------------------------------------------------

class TestSendListen(KbusdTestCase):

    def test_announcement_text(self):
        lst = self.listen('$.Foo')
        out = self.ok('kbus-send', '$.Foo', 'hello')
        self.assertEqual(len(out), 1)
        sent = parse_line(out[0])
        got = parse_line(lst.out.line())
        for m in (sent, got):
            self.assertEqual((m['kind'], m['net'], m['serial'], m['to'], m['flags'], m['name'],
                              m['data'], m['rnet']),
                             ('announcement', '0', '1', '0', '0', '$.Foo', '"hello"', None))
        self.assertEqual(sent['from_'], got['from_'])
        self.assertNotEqual(sent['from_'], str(lst.ksock))

    def test_announcement_json(self):
        lst = self.listen('--json', '$.Foo')
        before = time.time()
        out = self.ok('kbus-send', '--json', '$.Foo', 'he said "hi"\n\ttab\\')
        sent = parse_json(out[0])
        got = parse_json(lst.out.line())
        self.assertEqual(sent['from'], got['from'])
        for m in (sent, got):
            self.assertLessEqual(abs(m['time'] - before), 5.0)
            del m['time']
            self.assertEqual(m, {
                'kind': 'announcement', 'id': {'network_id': 0, 'serial_num': 1},
                'in_reply_to': {'network_id': 0, 'serial_num': 0}, 'to': 0,
                'from': sent['from'], 'orig_from': {'network_id': 0, 'local_id': 0},
                'final_to': {'network_id': 0, 'local_id': 0}, 'flags': 0, 'flag_names': [],
                'name': '$.Foo', 'data_len': 18, 'data_text': 'he said "hi"\n\ttab\\',
                'data_hex': 'he said "hi"\n\ttab\\'.encode().hex()})

    def test_data_rendering(self):
        lst = self.listen('$.D')
        lstj = self.listen('--json', '$.D')
        cases = [
            (['$.D'], b'', '""'),
            (['$.D', '-'], b'a\x00b\xff', 'hex:610062ff'),
            (['$.D', '-'], 'naïve ☃'.encode(), '"naïve ☃"'),
            (['$.D', '-'], b'\x1b[31m', 'hex:1b5b33316d'),
            (['$.D', '-'], b'\xc0\x80', 'hex:c080'),
            (['$.D', '-'], b'q"\\\t\r\n', r'"q\"\\\t\r\n"'),
            (['--', '$.D', '-5'], b'', '"-5"'),
        ]
        for args, stdin, text in cases:
            out = self.ok('kbus-send', *args, stdin=stdin)
            data = stdin if args[-1] == '-' else args[-1].encode() if len(args) > 1 else b''
            self.assertEqual(parse_line(out[0])['data'], text, args)
            self.assertEqual(parse_line(lst.out.line())['data'], text, args)
            j = parse_json(lstj.out.line())
            self.assertEqual((j['data_len'], j['data_hex']), (len(data), data.hex()))
            self.assertEqual(j['data_text'], None if text.startswith('hex:') else data.decode())

    def test_data_from_file(self):
        lst = self.listen('--json', '$.F')
        path = os.path.join(self.kbusd.dir, 'data.bin')
        with open(path, 'wb') as f:
            f.write(bytes(range(256)) * 4)
        self.ok('kbus-send', '--file', path, '$.F')
        j = parse_json(lst.out.line())
        self.assertEqual(j['data_hex'], (bytes(range(256)) * 4).hex())
        self.assertIsNone(j['data_text'])
        out, err = self.fails('kbus-send', '--file', path + '.missing', '$.F')
        self.assertEqual(err, 'kbus-send: %s.missing: ENOENT: No such file or directory' % path)

    def test_count_send(self):
        lst = self.listen('--count', '3', '$.C')
        out = self.ok('kbus-send', '--count', '3', '$.C', 'x')
        self.assertEqual([parse_line(l)['serial'] for l in out], ['1', '2', '3'])
        got = self.expect_lines(lst, 3)
        self.assertEqual([parse_line(l)['serial'] for l in got], ['1', '2', '3'])
        self.assertEqual(lst.wait(), 0)
        self.assertEqual(lst.out.rest(), '')

    def test_listen_count_and_timeout(self):
        lst = self.listen('--count', '2', '--timeout', '0.5', '$.T')
        self.ok('kbus-send', '$.T')
        self.assertEqual(lst.wait(), 1)
        self.assertEqual(len(lst.out.rest().splitlines()), 1)
        self.assertEqual(lst.err.rest(),
                         'kbus-listen: bus 0: ETIMEDOUT: 1 of 2 messages within 0.5 s\n')
        start = time.monotonic()
        r = self.run_tool('kbus-listen', '--quiet', '--timeout', '0.2', '$.T')
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b'', b''))
        self.assertGreaterEqual(time.monotonic() - start, 0.2)

    def test_listen_stops_on_signals(self):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            lst = self.listen('$.S')
            os.kill(lst.pid, sig)
            self.assertEqual(lst.wait(), 0, sig)
            self.assertEqual(lst.err.rest(), '')

    def test_monitor(self):
        mon = self.listen('$.*')
        self.listen('--replier', '--reply', 'pong', '$.Ping')
        self.ok('kbus-send', '$.Sensors.Kitchen', '21.5')
        self.ok('kbus-send', '--request', '$.Ping', 'ping')
        self.fails('kbus-send', '--request', '$.Nobody')
        got = [parse_line(l) for l in self.expect_lines(mon, 3)]
        self.assertEqual([(m['kind'], m['name'], m['data'], m['flags']) for m in got], [
            ('announcement', '$.Sensors.Kitchen', '"21.5"', '0'),
            ('request', '$.Ping', '"ping"', 'WANT_A_REPLY'),
            ('reply', '$.Ping', '"pong"', '0')])
        self.assertEqual((got[2]['rnet'], got[2]['rserial']), ('0', got[1]['serial']))
        self.assertEqual(self.ksock_stats(mon.ksock)['received'], 3)

    def test_wildcards(self):
        pct = self.listen('--count', '1', '$.A.%')
        star = self.listen('--count', '2', '$.A.*')
        self.ok('kbus-send', '$.A.B.C', 'deep')
        self.ok('kbus-send', '$.A.B', 'one')
        self.assertEqual([parse_line(l)['data'] for l in self.expect_lines(star, 2)],
                         ['"deep"', '"one"'])
        self.assertEqual(parse_line(pct.out.line())['data'], '"one"')
        self.assertEqual((pct.wait(), star.wait()), (0, 0))

    def test_bus_option(self):
        Kb = Kbusd(buses=2)
        self.addCleanup(Kb.stop)
        os.environ['KBUS_SOCKET_DIR'] = Kb.dir
        one = self.listen('--bus', '1', '--count', '2', '$.B')
        self.ok('kbus-send', '$.B', 'bus zero')
        self.ok('kbus-send', '--bus', '1', '$.B', 'bus one')
        self.ok('kbus-send', '--bus', os.path.join(Kb.dir, 'kbus1'), '$.B', 'by path')
        self.assertEqual([parse_line(l)['data'] for l in self.expect_lines(one, 2)],
                         ['"bus one"', '"by path"'])
        self.assertEqual(one.wait(), 0)
        dev = self.listen('--bus', '/dev/kbus1', '$.B')
        self.assertEqual(self.ksock_stats(dev.ksock, bus=1)['bindings'], 1)

    def test_bind_errors(self):
        out, err = self.fails('kbus-listen', 'Foo')
        self.assertEqual(err, 'kbus-listen: Foo: EBADMSG: not a valid name or wildcard '
                              '(or a replier bind to $.KBUS.ReplierBindEvent)')
        self.fails('kbus-listen', '$.A.*.B')
        out, err = self.fails('kbus-listen', '--replier', '$.KBUS.ReplierBindEvent')
        self.assertTrue(err.startswith('kbus-listen: $.KBUS.ReplierBindEvent: EBADMSG: '), err)
        self.listen('--replier', '$.Taken')
        out, err = self.fails('kbus-listen', '--replier', '$.Ok', '$.Taken')
        self.assertEqual(err, 'kbus-listen: $.Taken: EADDRINUSE: '
                              'a replier is already bound to this name')
        out, err = self.fails('kbus-listen', '$.' + 'x' * 1000)
        self.assertTrue(err.endswith(': ENAMETOOLONG: the name is longer than 1000 characters'))

    def test_send_errors(self):
        out, err = self.fails('kbus-send', 'Foo')
        self.assertEqual(err, 'kbus-send: Foo: EBADMSG: not a valid message name '
                              "('$.' and dot-separated words of letters, digits, '_' and '-'; no wildcard)")
        out, err = self.fails('kbus-send', '$.Foo.*')
        self.assertEqual(err, 'kbus-send: $.Foo.*: EBADMSG: not a valid message name '
                              "('$.' and dot-separated words of letters, digits, '_' and '-'; no wildcard)")
        name = '$.' + 'x' * 1000
        out, err = self.fails('kbus-send', name)
        self.assertEqual(err, 'kbus-send: %s: ENAMETOOLONG: the name is longer than 1000 '
                              'characters' % name)
        self.assertEqual(self.ok('kbus-ctl', 'max-message-size', '100'), ['100'])
        out, err = self.fails('kbus-send', '$.Big', 'x' * 100)
        self.assertEqual((out, err), ([], 'kbus-send: $.Big: EMSGSIZE: the message is larger '
                                          "than the bus's maximum message size"))

    def test_kbusd_goes_away(self):
        lst = self.listen('$.Gone')
        self.kbusd.proc.terminate()
        self.assertEqual(lst.wait(), 1)
        self.assertEqual(lst.err.rest(), 'kbus-listen: bus 0: ECONNRESET: kbusd went away\n')


class TestRequests(KbusdTestCase):

    def test_request_answered_by_exec(self):
        rep = self.listen('--replier', '--json', '--exec',
                          'tr a-z A-Z; printf " %s %s %s" "$KBUS_MSG_NAME" "$KBUS_MSG_ID" '
                          '"$KBUS_MSG_FROM"', '$.Up')
        out = self.ok('kbus-send', '--request', '--json', '$.Up', 'hello')
        self.assertEqual(len(out), 2)
        req, reply = parse_json(out[0]), parse_json(out[1])
        me, serial = req['from'], req['id']['serial_num']
        self.assertEqual((req['kind'], req['flag_names'], req['data_text'], req['to']),
                         ('request', ['WANT_A_REPLY'], 'hello', 0))
        self.assertEqual((reply['kind'], reply['from'], reply['to'], reply['in_reply_to'],
                          reply['data_text'], reply['flags']),
                         ('reply', rep.ksock, me, req['id'],
                          'HELLO $.Up 0:%d %d' % (serial, me), 0))
        seen = [parse_json(rep.out.line()), parse_json(rep.out.line())]
        self.assertEqual(seen[0]['flag_names'], ['WANT_A_REPLY', 'WANT_YOU_TO_REPLY'])
        self.assertEqual((seen[1]['kind'], seen[1]['id'], seen[1]['data_text']),
                         ('reply', reply['id'], reply['data_text']))

    def test_exec_gets_binary_data_and_large_output(self):
        self.listen('--replier', '--exec', 'od -An -tx1 | tr -d " \\n"; head -c 60000 '
                    '/dev/zero | tr "\\0" y', '$.Od')
        out = self.ok('kbus-send', '--request', '--json', '$.Od', '-', stdin=b'\x00\x01\xfe')
        reply = parse_json(out[1])
        self.assertEqual(reply['data_text'], '0001fe' + 'y' * 60000)

    def test_failing_command_still_replies(self):
        rep = self.listen('--replier', '--count', '1', '--exec', 'printf partial; exit 3', '$.F')
        out = self.ok('kbus-send', '--request', '$.F')
        self.assertEqual(parse_line(out[1])['data'], '"partial"')
        self.assertEqual(rep.wait(), 1)
        self.assertEqual(rep.err.rest(), "kbus-listen: $.F: --exec: 'printf partial; exit 3' "
                                         'ended with exit status 3; replied with the 7 bytes '
                                         'it printed\n')

    def test_reply_data_and_counts(self):
        rep = self.listen('--replier', '--reply', 'pong', '--count', '2', '$.P')
        out = self.ok('kbus-send', '--request', '--count', '2', '$.P', 'ping')
        got = [parse_line(l) for l in out]
        self.assertEqual([(m['kind'], m['data']) for m in got],
                         [('request', '"ping"'), ('reply', '"pong"')] * 2)
        self.assertEqual((got[1]['rserial'], got[3]['rserial']), (got[0]['serial'],
                                                                  got[2]['serial']))
        self.assertEqual(rep.wait(), 0)
        self.assertEqual(len(rep.out.rest().splitlines()), 4)

    def test_empty_reply(self):
        self.listen('--replier', '$.E')
        out = self.ok('kbus-send', '--request', '$.E')
        self.assertEqual(parse_line(out[1])['data'], '""')

    def test_no_replier(self):
        out, err = self.fails('kbus-send', '--request', '$.Nobody', 'x')
        self.assertEqual((out, err), ([], 'kbus-send: $.Nobody: EADDRNOTAVAIL: no replier is '
                                          'bound to this name'))

    def test_status_gone_away(self):
        rep = self.listen('--replier', '$.G')
        rep.stop()
        snd = Background(self, 'kbus-send', '--request', '$.G', 'lost')
        self.assertEqual(parse_line(snd.out.line())['kind'], 'request')
        os.kill(rep.pid, signal.SIGKILL)
        self.assertEqual(snd.wait(), 1)
        status = parse_line(snd.out.line())
        self.assertEqual((status['kind'], status['name'], status['flags'], status['from_'],
                          status['data']),
                         ('status', '$.KBUS.Replier.GoneAway', 'SYNTHETIC', str(rep.ksock), '""'))
        self.assertEqual(snd.err.rest(), 'kbus-send: $.G: $.KBUS.Replier.GoneAway: the '
                                         "replier's ksock closed before reading the request\n")

    def test_status_ignored(self):
        rep = self.listen('--replier', '--exec', 'exec sleep 60', '$.I', new_session=True)
        snd = Background(self, 'kbus-send', '--request', '--json', '$.I')
        self.assertEqual(parse_line(rep.out.line())['kind'], 'request')  # read: now in exec
        os.killpg(rep.pid, signal.SIGKILL)
        self.assertEqual(snd.wait(), 1)
        lines = snd.out.rest().splitlines()
        status = parse_json(lines[1])
        self.assertEqual((status['kind'], status['name'], status['flag_names']),
                         ('status', '$.KBUS.Replier.Ignored', ['SYNTHETIC']))
        self.assertEqual(snd.err.rest(), 'kbus-send: $.I: $.KBUS.Replier.Ignored: the '
                                         "replier's ksock closed after reading the request, "
                                         'without replying\n')

    def test_request_timeout(self):
        rep = self.listen('--replier', '$.Slow')
        rep.stop()
        start = time.monotonic()
        out, err = self.fails('kbus-send', '--request', '--timeout', '0.3', '$.Slow')
        self.assertGreaterEqual(time.monotonic() - start, 0.3)
        self.assertEqual(err, 'kbus-send: $.Slow: ETIMEDOUT: no reply within 0.3 s')
        self.assertEqual(parse_line(out[0])['kind'], 'request')

    def test_stateful_to(self):
        rep = self.listen('--replier', '--reply', 'ok', '$.St')
        rid = self.ok('kbus-ctl', 'replier', '$.St')
        self.assertEqual(rid, [str(rep.ksock)])
        out = self.ok('kbus-send', '--request', '--to', rid[0], '$.St')
        self.assertEqual((parse_line(out[0])['to'], parse_line(out[1])['data']),
                         (rid[0], '"ok"'))
        out, err = self.fails('kbus-send', '--request', '--to', int(rid[0]) + 100, '$.St')
        self.assertEqual((out, err), ([], 'kbus-send: $.St: EPIPE: the ksock named by --to is '
                                          'no longer the replier for this name '
                                          '(stateful request)'))


class TestQueueFlags(KbusdTestCase):
    """--urgent, --all-or-fail, --all-or-wait against a listener that is not reading."""

    def stopped_listener(self, *args):
        lst = self.listen(*args)
        lst.stop()
        return lst

    def test_urgent_goes_first(self):
        lst = self.stopped_listener('--count', '3', '$.U')
        self.ok('kbus-send', '$.U', 'a')
        self.ok('kbus-send', '$.U', 'b')
        self.ok('kbus-send', '--urgent', '$.U', 'c')
        lst.cont()
        got = [parse_line(l) for l in self.expect_lines(lst, 3)]
        self.assertEqual([(m['data'], m['flags']) for m in got],
                         [('"c"', 'URGENT'), ('"a"', '0'), ('"b"', '0')])
        self.assertEqual(lst.wait(), 0)

    def fill(self, name):
        lst = self.stopped_listener('$.' + name)
        self.assertEqual(len(self.ok('kbus-send', '--count', '100', '$.' + name)), 100)
        return lst

    def test_all_or_fail(self):
        lst = self.fill('Q')
        out, err = self.fails('kbus-send', '--all-or-fail', '$.Q', 'x')
        self.assertEqual((out, err), ([], "kbus-send: $.Q: EBUSY: a listener's queue is full "
                                          '(ALL_OR_FAIL: delivered to none)'))
        self.assertEqual(len(self.ok('kbus-send', '$.Q', 'missed')), 1)
        k = self.ksock_stats(lst.ksock)
        self.assertEqual((k['queued'], k['max_messages'], k['received'], k['missed']),
                         (100, 100, 100, 1))

    def test_all_or_fail_request(self):
        self.fill('R')
        self.listen('--replier', '$.R')
        out, err = self.fails('kbus-send', '--request', '--all-or-fail', '$.R')
        self.assertEqual(err, "kbus-send: $.R: EBUSY: the replier's queue is full "
                              "(or, with ALL_OR_FAIL, a listener's)")

    def test_all_or_wait_times_out(self):
        self.fill('W')
        start = time.monotonic()
        out, err = self.fails('kbus-send', '--all-or-wait', '--timeout', '0.3', '$.W')
        self.assertGreaterEqual(time.monotonic() - start, 0.3)
        self.assertEqual((out, err), ([], 'kbus-send: $.W: ETIMEDOUT: queues still full after '
                                          '0.3 s (ALL_OR_WAIT send discarded)'))
        self.assertEqual(self.stats()['held'], 0)
        self.assertEqual(self.stats()['last_serial'], 100)

    def test_all_or_wait_completes(self):
        lst = self.fill('H')
        snd = Background(self, 'kbus-send', '--all-or-wait', '--json', '$.H', 'held')
        deadline = time.monotonic() + WAIT
        while self.stats()['held'] != 1:  # kbusd holds it: the queue is full
            self.assertLess(time.monotonic(), deadline, 'the send was never held')
        lst.cont()
        self.assertEqual(snd.wait(), 0)
        sent = parse_json(snd.out.line())
        self.assertEqual((sent['flag_names'], sent['id']['serial_num'], sent['data_text']),
                         (['ALL_OR_WAIT'], 101, 'held'))
        got = [parse_line(l) for l in self.expect_lines(lst, 101)]
        self.assertEqual((got[-1]['serial'], got[-1]['data'], got[-1]['flags']),
                         ('101', '"held"', 'ALL_OR_WAIT'))

    def test_all_or_wait_with_room(self):
        lst = self.listen('--count', '1', '$.N')
        out = self.ok('kbus-send', '--all-or-wait', '--timeout', '5', '$.N', 'now')
        self.assertEqual(parse_line(out[0])['flags'], 'ALL_OR_WAIT')
        self.assertEqual(lst.wait(), 0)


# ---- kbus-ctl ------------------------------------------------------------------

class TestCtl(KbusdTestCase):

    def test_bindings(self):
        a = self.listen('$.A.*', '$.B')
        r = self.listen('--replier', '$.B')
        z = self.listen('$.A.*')
        uid = os.getuid()
        rows = sorted([('$.A.*', a.ksock, a.pid, 'L'), ('$.B', a.ksock, a.pid, 'L'),
                       ('$.B', r.ksock, r.pid, 'R'), ('$.A.*', z.ksock, z.pid, 'L')],
                      key=lambda t: (t[0], t[1]))
        table = [['BUS', 'KSOCK', 'PID', 'UID', 'R/L', 'NAME']] + \
            [['0', str(k), str(p), str(uid), kind, n] for n, k, p, kind in rows]
        widths = [max(len(row[c]) for row in table) for c in range(6)]
        expect = ['  '.join([row[c].rjust(widths[c]) for c in range(4)] +
                            [row[4].ljust(widths[4]), row[5]]) for row in table]
        self.assertEqual(self.ok('kbus-ctl', 'bindings'), expect)
        j = json.loads(self.ok('kbus-ctl', '--json', 'bindings')[0])
        self.assertEqual(j, {'bindings': [
            {'bus': 0, 'ksock': k, 'pid': p, 'uid': uid, 'replier': kind == 'R', 'name': n}
            for n, k, p, kind in rows]})

    def test_version(self):
        """kbusd's version, as kbusd reports it, is the tools' version."""
        version = self.ok('kbus-ctl', '--version')[0].split()[1]
        self.assertEqual(self.ok('kbus-ctl', 'version'), ['kbusd ' + version])
        self.assertEqual(json.loads(self.ok('kbus-ctl', '--json', 'version')[0]),
                         {'kbusd': version, 'tools': version})

    def test_bindings_empty(self):
        self.assertEqual(self.ok('kbus-ctl', 'bindings'), ['BUS  KSOCK  PID  UID  R/L  NAME'])
        self.assertEqual(self.ok('kbus-ctl', '--json', 'bindings'), ['{"bindings":[]}'])

    def test_stats(self):
        lst = self.listen('$.S', '$.T')
        self.ok('kbus-send', '--count', '2', '$.S')
        self.assertEqual(len(self.expect_lines(lst, 2)), 2)
        out = self.ok('kbus-ctl', 'stats')
        m = re.match(r'^bus 0: 2 ksocks \(ksock (\d+) is this kbus-ctl\), 2 bindings, max '
                     r'message size 65536, last serial 2, held sends 0, set-aside unbind events '
                     r'0, ksocks reporting replier binds 0$', out[0])
        self.assertIsNotNone(m, out[0])
        self.assertEqual(out[1].split(), ['KSOCK', 'PID', 'UID', 'QUEUED', 'MAX', 'RESERVED',
                                          'UNREPLIED', 'SENT', 'RECEIVED', 'MISSED', 'HELD',
                                          'SET-ASIDE', 'BINDINGS'])
        blank = out.index('')
        ksocks, users = out[2:blank], out[blank + 1:]
        rows = {int(l.split()[0]): l.split() for l in ksocks}
        self.assertEqual(rows[lst.ksock], [str(lst.ksock), str(lst.pid), str(os.getuid()), '0',
                                           '100', '0', '0', '0', '2', '0', '0', '0', '2'])
        self.assertEqual(sorted(rows), sorted([lst.ksock, int(m.group(1))]))
        self.assertTrue(all(len(l) == len(out[1]) for l in ksocks), 'not aligned')
        # the quota books: the two connections and two bindings of this uid, and the total
        self.assertTrue(users[0].startswith("kbusd's quotas per uid (all buses); limits per uid "
                                            "/ in total: 16384/65536 connections"), users[0])
        self.assertEqual(users[1].split(), ['UID', 'CONNECTIONS', 'BINDINGS', 'QUEUED-BYTES',
                                            'REQUESTS', 'PARTIAL-BYTES', 'REFUSED'])
        self.assertEqual([l.split() for l in users[2:]],
                         [[str(os.getuid()), '2', '2', '0', '0', '0', '0'],
                          ['all', '2', '2', '0', '0', '0', '0']])
        j = json.loads(self.ok('kbus-ctl', '--json', 'stats')[0])
        self.assertEqual(list(j), ['bus', 'self', 'ksocks', 'bindings', 'max_message_size',
                                   'held', 'set_aside', 'last_serial', 'reporting_binds',
                                   'ksock_stats', 'quota'])
        self.assertEqual(j['quota']['users'], [{
            'uid': os.getuid(), 'connections': 2, 'connections_refused': 0, 'bindings': 2,
            'bindings_refused': 0, 'queued_bytes': 0, 'queued_bytes_refused': 0, 'requests': 0,
            'requests_refused': 0, 'partial_bytes': 0, 'partial_bytes_refused': 0}])
        self.assertEqual(j['quota']['limits']['bindings_per_uid'], 65536)
        self.assertEqual(j['quota']['limits']['partial_bytes_total'], 256 << 20)
        self.assertEqual(j['quota']['total']['connections'], 2)
        self.assertEqual((j['bus'], j['ksocks'], j['bindings'], j['max_message_size'],
                          j['last_serial']), (0, 2, 2, 65536, 2))
        mine = [k for k in j['ksock_stats'] if k['ksock'] == lst.ksock][0]
        self.assertEqual(mine, {'ksock': lst.ksock, 'pid': lst.pid, 'uid': os.getuid(),
                                'queued': 0, 'max_messages': 100, 'reserved': 0,
                                'unreplied': 0, 'held': 0, 'set_aside': 0, 'bindings': 2,
                                'sent': 0, 'received': 2, 'missed': 0})
        self.assertIn(j['self'], [k['ksock'] for k in j['ksock_stats']])

    def test_replier(self):
        rep = self.listen('--replier', '$.R.*')
        self.assertEqual(self.ok('kbus-ctl', 'replier', '$.R.X.Y'), [str(rep.ksock)])
        self.assertEqual(json.loads(self.ok('kbus-ctl', '--json', 'replier', '$.R.X')[0]),
                         {'name': '$.R.X', 'replier': rep.ksock, 'pid': rep.pid,
                          'uid': os.getuid()})
        out, err = self.fails('kbus-ctl', 'replier', '$.Other')
        self.assertEqual((out, err), ([], 'kbus-ctl: $.Other: EADDRNOTAVAIL: no replier is '
                                          'bound to this name'))
        out, err = self.fails('kbus-ctl', '--json', 'replier', '$.R.*')
        self.assertEqual((out, err), ([], 'kbus-ctl: $.R.*: EBADMSG: not a valid message name '
                                          "('$.' and dot-separated words of letters, digits, '_' and '-'; no wildcard)"))

    def test_new_bus(self):
        self.assertEqual(self.ok('kbus-ctl', 'new-bus'), ['1'])
        self.assertEqual(self.ok('kbus-ctl', '--json', 'new-bus'), ['{"bus":2}'])
        self.assertTrue(os.path.exists(os.path.join(self.kbusd.dir, 'kbus2')))
        lst = self.listen('--bus', '2', '--count', '1', '$.New')
        self.ok('kbus-send', '$.New', 'bus 0')
        self.ok('kbus-send', '--bus', '2', '$.New', 'bus 2')
        self.assertEqual(parse_line(lst.out.line())['data'], '"bus 2"')
        self.assertEqual(self.stats(bus=2)['bus'], 2)

    def test_max_message_size(self):
        self.assertEqual(self.ok('kbus-ctl', 'max-message-size'), ['65536'])
        self.assertEqual(self.ok('kbus-ctl', 'max-message-size', '1000'), ['1000'])
        self.assertEqual(json.loads(self.ok('kbus-ctl', '--json', 'max-message-size')[0]),
                         {'max_message_size': 1000, 'absolute_max': 16777216})
        for bad in ('99', '16777217', '99999999999'):
            out, err = self.fails('kbus-ctl', 'max-message-size', bad)
            self.assertEqual((out, err), ([], "kbus-ctl: max-message-size: EINVAL: N must be a "
                                              "number from 100 to 16777216, not '%s'" % bad))
        self.assertEqual(self.stats()['max_message_size'], 1000)
        self.assertEqual(self.ok('kbus-ctl', 'max-message-size', '16777216'), ['16777216'])


class TestDoctor(ToolTestCase):
    """kbus-ctl doctor: each check's verdict, what it found and how to fix it."""

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix='kbus-doctor-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.environ['KBUS_SOCKET_DIR'] = self.dir

    def doctor(self, *args, status):
        """Run doctor as text and as JSON; return the JSON's checks by name."""
        r = self.run_tool('kbus-ctl', *args, 'doctor')
        self.assertEqual(r.returncode, status, r)
        text = r.stdout.decode().splitlines()
        r = self.run_tool('kbus-ctl', '--json', *args, 'doctor')
        self.assertEqual(r.returncode, status, r)
        j = json.loads(r.stdout)
        self.assertEqual(j['ok'], status == 0)
        checks = {c['check']: c for c in j['checks']}
        self.assertEqual([c['check'] for c in j['checks']],
                         ['socket-directory', 'bus-socket', 'kbusd', 'policy', 'systemd'])
        for c in j['checks']:  # the text says the same, a line each (and one for a fix)
            self.assertIn('%-4s  %-16s  %s' % (c['status'], c['check'], c['detail']), text)
            self.assertEqual(c['fix'] is None, c['status'] == 'ok')
            if c['fix']:
                self.assertIn('%s  fix: %s' % (' ' * 22, c['fix']), text)
        return checks, text

    def test_no_kbusd(self):
        checks, text = self.doctor(status=1)
        self.assertEqual(checks['socket-directory']['status'], 'ok')
        self.assertEqual(checks['socket-directory']['detail'],
                         '%s (from $KBUS_SOCKET_DIR): a directory, owner uid %d, mode 0700'
                         % (self.dir, os.getuid()))
        start = "run 'kbusd --socket-dir %s' in a terminal" % self.dir
        for name in ('bus-socket', 'kbusd'):
            self.assertEqual((checks[name]['status'], checks[name]['fix']), ('fail', start))
        self.assertEqual(text[-1], '2 problems, 0 warnings')

    def test_all_well(self):
        kbusd = Kbusd(buses=1)
        self.addCleanup(kbusd.stop)
        self.dir = os.environ['KBUS_SOCKET_DIR'] = kbusd.dir
        checks, text = self.doctor(status=0)
        version = self.ok('kbus-ctl', '--version')[0].split()[1]
        self.assertRegex(checks['kbusd']['detail'],
                         r'^kbusd %s answers on %s/kbus0 \(pid \d+, uid %d\); these tools are '
                         r'%s$' % (re.escape(version), re.escape(self.dir), os.getuid(),
                                   re.escape(version)))
        self.assertEqual(checks['bus-socket']['status'], 'ok')
        self.assertEqual(text[-1], 'all is well')

    def test_unsafe_directory(self):
        os.chmod(self.dir, 0o777)
        checks, _ = self.doctor(status=1)
        c = checks['socket-directory']
        self.assertEqual(c['status'], 'fail')
        self.assertIn('mode 0777', c['detail'])
        self.assertIn('chmod go-w %s' % self.dir, c['fix'])

    def test_directory_of_another_user(self):
        """Only a per-user fallback must be root's or yours: $KBUS_SOCKET_DIR (or
        /run/kbus, kbusd's DynamicUser's under systemd) may be anyone's that is safe."""
        if os.getuid() != 0:
            self.skipTest('needs root to give the directory away')
        os.chown(self.dir, 65534, 65534)
        checks, _ = self.doctor(status=1)  # no kbusd: the directory itself is fine
        self.assertEqual(checks['socket-directory']['status'], 'ok')
        self.assertIn('owner uid 65534, mode 0700', checks['socket-directory']['detail'])

    def test_missing_directory(self):
        os.environ['KBUS_SOCKET_DIR'] = os.path.join(self.dir, 'none')
        checks, _ = self.doctor(status=1)
        self.assertEqual(checks['socket-directory']['status'], 'fail')
        self.assertIn('No such file or directory', checks['socket-directory']['detail'])

    def test_policy(self):
        good = os.path.join(self.dir, 'good.conf')
        with open(good, 'w') as f:
            f.write('deny user:root send $.Secret.*\n')
        bad = os.path.join(self.dir, 'bad.conf')
        with open(bad, 'w') as f:
            f.write('only user:no-such-user-here listen $.A.*\n')
        os.chmod(good, 0o644)
        os.chmod(bad, 0o644)
        checks, _ = self.doctor('--policy', good, status=1)  # no kbusd: still fails
        self.assertEqual((checks['policy']['status'], checks['policy']['detail']),
                         ('ok', '%s: valid' % good))
        checks, _ = self.doctor('--policy', bad, status=1)
        self.assertEqual((checks['policy']['status'], checks['policy']['detail']),
                         ('fail', "%s:1: no user named 'no-such-user-here'" % bad))
        self.assertIn('kbus-policy(5)', checks['policy']['fix'])
        os.chmod(good, 0o666)
        checks, _ = self.doctor('--policy', good, status=1)
        self.assertEqual(checks['policy']['detail'],
                         '%s: group or others may write to it (chmod go-w)' % good)


class TestPolicy(ToolTestCase):
    """kbus-ctl policy and explain, against a kbusd with a policy file."""

    POLICY = ('# only the sensors service owns or hears sensor names\n'
              'only user:nobody own,listen $.Sensors.*\n'
              'deny group:nogroup send $.Quiet bus 0\n'
              'allow uid:1234 set\n'
              'limit bindings-per-uid 500\n')

    def setUp(self):
        super().setUp()
        self.policy_dir = tempfile.mkdtemp(prefix='kbus-policy-')
        self.addCleanup(shutil.rmtree, self.policy_dir, True)
        self.policy = os.path.join(self.policy_dir, 'policy.conf')
        with open(self.policy, 'w') as f:
            f.write(self.POLICY)
        self.kbusd = Kbusd('--policy', self.policy, '--limit', 'requests-total=999')
        self.addCleanup(self.kbusd.stop)
        os.environ['KBUS_SOCKET_DIR'] = self.kbusd.dir

    def test_policy(self):
        out = self.ok('kbus-ctl', 'policy')
        self.assertEqual(out[0], '# policy: %s (first match wins; SIGHUP reloads it)'
                         % self.policy)
        self.assertEqual(out[1], '# built in: deny * own,send $.KBUS.* (only kbusd sends '
                                 '$.KBUS messages)')
        rules = [l.split('#') for l in out[2:5]]
        self.assertEqual([(r.strip(), w.strip()) for r, w in rules], [
            ('only user:nobody listen,own $.Sensors.*', '%s:2' % self.policy),
            ('deny group:nogroup send $.Quiet bus 0', '%s:3' % self.policy),
            ('allow uid:1234 set', '%s:4' % self.policy)])
        self.assertIn('limit bindings-per-uid 500', out)
        self.assertIn('limit requests-total 999', out)
        self.assertIn('limit connections-per-uid 16384', out)
        j = json.loads(self.ok('kbus-ctl', '--json', 'policy')[0])
        self.assertEqual(j['policy'].splitlines(), out)

    def explain(self, *args):
        r = self.run_tool('kbus-ctl', 'explain', *args)
        self.assertEqual(r.stderr.decode(), '')
        return r.returncode, r.stdout.decode().rstrip('\n')

    def test_explain(self):
        rule2 = '%s:2: only user:nobody listen,own $.Sensors.*' % self.policy
        self.assertEqual(self.explain('--uid', '1001', 'own', '$.Sensors.Kitchen'),
                         (1, 'uid 1001 own $.Sensors.Kitchen: deny (%s)' % rule2))
        self.assertEqual(self.explain('--uid', 'nobody', 'bind', '$.Sensors.Kitchen'),
                         (0, 'uid 65534 own $.Sensors.Kitchen: allow (%s)' % rule2))
        self.assertEqual(self.explain('--uid', '1001', 'listen', '$.*'),
                         (1, 'uid 1001 listen $.*: deny (%s)' % rule2))
        self.assertEqual(self.explain('--uid', '1001', 'listen', '$.Other.*'),
                         (0, 'uid 1001 listen $.Other.*: allow (built in: allow * '
                             'connect,listen,own,send $.*)'))
        # groups: nogroup by --gid, or looked up for the user
        self.assertEqual(self.explain('--uid', '1001', '--gid', 'nogroup', 'send', '$.Quiet'),
                         (1, 'uid 1001 send $.Quiet: deny (%s:3: deny group:nogroup send '
                             '$.Quiet bus 0)' % self.policy))
        self.assertEqual(self.explain('--uid', 'nobody', 'send', '$.Quiet')[0], 1)
        self.assertEqual(self.explain('--uid', '1001', '--gid', '1001', 'send', '$.Quiet')[0], 0)
        self.assertEqual(self.explain('--uid', '1234', 'set'),
                         (0, 'uid 1234 set: allow (%s:4: allow uid:1234 set)' % self.policy))
        self.assertEqual(self.explain('--uid', '1235', 'newbus'),
                         (1, 'uid 1235 newbus: deny (built in: deny * set,newbus)'))
        self.assertEqual(self.explain('--uid', 'root', 'send', '$.KBUS.Replier.GoneAway'),
                         (1, 'uid 0 send $.KBUS.Replier.GoneAway: deny (built in: deny * '
                             'own,send $.KBUS.* (only kbusd sends $.KBUS messages))'))
        j = json.loads(self.ok('kbus-ctl', '--json', 'explain', '--uid', '7', 'connect')[0])
        self.assertEqual(j, {'uid': 7, 'gid': 7, 'action': 'connect', 'name': None,
                             'allowed': True, 'decision': 'allow (built in: allow * '
                                                          'connect,listen,own,send $.*)'})

    def test_explain_errors(self):
        self.assertEqual(self.fails('kbus-ctl', 'explain', 'lsten', '$.A', status=2)[1],
                         "kbus-ctl: explain: ACTION is connect, listen, own, bind, send, set or "
                         "newbus, not 'lsten'; try 'kbus-ctl --help'")
        self.assertEqual(self.fails('kbus-ctl', 'explain', 'listen', status=2)[1],
                         "kbus-ctl: explain listen needs a NAME; try 'kbus-ctl --help'")
        self.assertEqual(self.fails('kbus-ctl', 'explain', 'set', '$.A', status=2)[1],
                         "kbus-ctl: explain set takes no NAME; try 'kbus-ctl --help'")
        self.assertEqual(self.fails('kbus-ctl', 'explain', '--uid', 'no-such-user-x', 'set',
                                    status=2)[1], "kbus-ctl: --uid: no user 'no-such-user-x'; try "
                                                 "'kbus-ctl --help'")
        self.assertEqual(self.fails('kbus-ctl', 'explain', 'send', '$.A.*')[1],
                         "kbus-ctl: bus 0: EBADMSG: not a valid message name ('$.' and "
                         "dot-separated words of letters, digits, '_' and '-'; no wildcard)")

    def test_refusals(self):
        out, err = self.fails('kbus-listen', '$.*')
        self.assertEqual(err, "kbus-listen: $.*: EPERM: kbusd's policy does not allow it "
                              "('kbus-ctl explain' says which rule)")
        out, err = self.fails('kbus-send', '$.KBUS.Replier.GoneAway')
        self.assertEqual(err, "kbus-send: $.KBUS.Replier.GoneAway: EPERM: kbusd's policy does "
                              "not allow it ('kbus-ctl explain' says which rule)")
        self.ok('kbus-send', '$.Quiet')  # root is not in nogroup
        self.assertEqual(self.ok('kbus-ctl', 'max-message-size', '200'), ['200'])



# ---- servers not to be trusted (semantics §18) ----------------------------------------

CLONE_NEWNS = 0x00020000
MS_RDONLY = 0x1
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
OTHER_UID = 1234


def _fallbacks_only():
    """preexec_fn: a private mount namespace whose /run is empty and read-only.

    /run/kbus is then neither there nor creatable, so the tool falls back to
    $XDG_RUNTIME_DIR/kbus, as any user but root would; /tmp stays shared.
    """
    _die_with_parent()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p)
    if (libc.unshare(CLONE_NEWNS) != 0 or
            libc.mount(None, b'/', None, MS_REC | MS_PRIVATE, None) != 0 or
            libc.mount(b'tmpfs', b'/run', b'tmpfs', MS_RDONLY, b'mode=0755') != 0):
        raise OSError(ctypes.get_errno(), 'cannot make a private /run')


class TestDistrust(ToolTestCase):
    """--timeout covers connecting and the handshake; unsafe socket directories are named."""

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix='kbus-tools-fake-')
        self.addCleanup(shutil.rmtree, self.dir, True)

    def silent_server(self, directory):
        """A bus socket that never accepts: connecting works, the handshake is never answered."""
        path = os.path.join(directory, 'kbus0')
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(8)
        self.addCleanup(s.close)
        return path

    def test_timeout_covers_the_handshake(self):
        os.environ['KBUS_SOCKET_DIR'] = self.dir
        path = self.silent_server(self.dir)
        for name, args in (('kbus-send', ['-r', '-t', '1', '$.A']),
                           ('kbus-listen', ['-t', '1', '$.A'])):
            start = time.monotonic()
            out, err = self.fails(name, *args)
            self.assertLess(time.monotonic() - start, 15 if WRAPPER else 2.5, name)
            self.assertEqual(out, [])
            self.assertEqual(err, '%s: bus 0: ETIMEDOUT: no kbusd answered at %s within 1 s '
                                  '(connect and handshake)' % (name, path))

    def run_with_fallback(self, *args):
        """kbus-send ARGS with $XDG_RUNTIME_DIR/kbus as its socket directory."""
        if os.geteuid() != 0:
            self.skipTest('needs root: a mount namespace, another uid')
        env = dict(os.environ, XDG_RUNTIME_DIR=self.dir)
        env.pop('KBUS_SOCKET_DIR', None)
        try:
            r = subprocess.run(tool_argv('kbus-send', *args), capture_output=True, timeout=WAIT,
                               env=env, preexec_fn=_fallbacks_only)
        except subprocess.SubprocessError as e:
            self.skipTest('cannot make a private mount namespace: %s' % e)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(err.count('\n'), 1, 'not one line: %r' % err)
        return err.rstrip('\n')

    def test_unsafe_directory(self):
        sockdir = os.path.join(self.dir, 'kbus')
        os.mkdir(sockdir)
        os.chmod(sockdir, 0o777)
        self.silent_server(sockdir)
        self.assertEqual(self.run_with_fallback('$.A'),
                         'kbus-send: bus 0: EPERM: the socket directory %s is not safe: group or '
                         'others may write to it (chmod go-w, or use another directory)'
                         % sockdir)

    def test_symlinked_directory(self):
        elsewhere = os.path.join(self.dir, 'elsewhere')
        os.mkdir(elsewhere)
        os.symlink(elsewhere, os.path.join(self.dir, 'kbus'))
        self.silent_server(elsewhere)
        self.assertEqual(self.run_with_fallback('$.A'),
                         'kbus-send: bus 0: EPERM: the socket directory %s/kbus is not safe: it '
                         'is a symbolic link' % self.dir)

    def test_server_of_another_user(self):
        sockdir = os.path.join(self.dir, 'kbus')
        os.mkdir(sockdir, 0o700)
        path = os.path.join(sockdir, 'kbus0')
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        os.chmod(path, 0o666)
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # listen as another uid: SO_PEERCRED reports who called listen()
            try:
                os.close(ready_r)
                os.setgroups([])
                os.setresgid(OTHER_UID, OTHER_UID, OTHER_UID)
                os.setresuid(OTHER_UID, OTHER_UID, OTHER_UID)
                s.listen(8)
                os.write(ready_w, b'r')
                while True:
                    signal.pause()  # until the test kills it
            finally:
                os._exit(0)
        s.close()
        os.close(ready_w)
        self.addCleanup(lambda: (os.kill(pid, signal.SIGKILL), os.waitpid(pid, 0)))
        self.addCleanup(os.close, ready_r)
        self.assertEqual(os.read(ready_r, 1), b'r')
        self.assertEqual(self.run_with_fallback('$.A'),
                         'kbus-send: bus 0: EPERM: kbusd at %s runs as uid %d, not root or you'
                         % (path, OTHER_UID))

if __name__ == '__main__':
    unittest.main()
