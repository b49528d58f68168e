#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""The KBUS EuroPython 2010 session, in Python 3, against kbusd.

In the presentation four people typed into four Python shells:
Rosencrantz speaks and asks, the Audience listens (in a select() loop, then
a wait_for_msg() loop), Guildenstern listens, answers and counts coin tosses
in a loop, and Falstaff finally takes over the coin-toss name, so that
Rosencrantz's next stateful request fails with EPIPE.  This program types
the same lines, in the same order, into four Terminals of one process, and
prints the transcript (examples/python/presentation.txt is what it prints).

A Terminal executes each line as the interactive shell does (expression
values are echoed with repr(), and ``_`` is the last one).  The session's
``while`` loops (the audience's select() and wait_for_msg() loops,
Guildenstern's coin-toss counter) cannot block in one process, so a
Terminal keeps its running loop and, when shown, runs the loop's body while
its ksock has messages queued (``num_messages()``, which kbusd counts
exactly).  The body is exactly the typed one, so the select() loop really
waits on select().

The ids printed in the presentation come from a freshly loaded kernel
module: next serial 337, Rosencrantz ksock 113, Guildenstern 115.  Before
the session this program winds the bus forward to the same point (opens
and closes ksocks until the next id is 113, sends unheard announcements
until the next serial is 337), which works on any kbusd whose bus 0 has
not gone past it.  With ``--kbusd PATH`` it starts a private kbusd for the
run, so the transcript is always the same.

Differences from the 2010 transcript, all from Python 3: ``print(x)`` for
``print x``; integers print without ``L``; the failed send raises
BrokenPipeError (OSError errno 32, the old IOError) whose text goes on to
say what EPIPE means in KBUS; tracebacks are shortened to their last line.
"""

import argparse
import builtins
import os
import subprocess
import sys
import tempfile
import textwrap
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'python'))

from kbus import Announcement, Ksock  # noqa: E402  (after the path is set)


class Terminal:
    """One actor's Python shell: a namespace, the lines typed, what they print."""

    def __init__(self, number, actor):
        self.title = '*Terminal %d: %s*' % (number, actor)
        self.namespace = {'__name__': '__console__', '__builtins__': builtins}
        self.loop = None

    def _header(self):
        print()
        print(self.title)

    def _display(self, value):
        """sys.displayhook for this terminal: echo the value, remember it as ``_``."""
        if value is not None:
            self.namespace['_'] = value
            print(repr(value))

    def _run(self, source):
        """Execute one interactive statement, as the shell would."""
        saved = sys.displayhook
        sys.displayhook = self._display
        try:
            exec(compile(source + '\n', '<stdin>', 'single'), self.namespace)
        except Exception as e:  # the shell prints it and carries on
            print('Traceback (most recent call last):')
            print('  ...')
            print(traceback.format_exception_only(type(e), e)[-1], end='')
        finally:
            sys.displayhook = saved

    def do(self, *statements):
        """Type each statement (lines after the first get the ``...`` prompt) and run it."""
        self._header()
        for statement in statements:
            lines = statement.split('\n')
            print('>>> ' + lines[0])
            for line in lines[1:]:
                print('... ' + line)
            self._run(statement)

    def start_loop(self, ksock_name, *lines):
        """Type a ``while`` loop; its body runs later, whenever show() is called."""
        for line in lines:
            print(('>>> ' if line is lines[0] else '... ') + line)
        print('... ')
        body = textwrap.dedent('\n'.join(lines[1:]))
        self.loop = (ksock_name, 'if 1:\n' + textwrap.indent(body, '    '))

    def show(self):
        """What the running loop prints: its body runs while messages are queued."""
        self._header()
        ksock_name, body = self.loop
        while self.namespace[ksock_name].num_messages() > 0:
            self._run(body)

    def interrupt(self):
        """Ctrl-C: the loop stops."""
        print('<CTRL-C>')
        print('Traceback (most recent call last):')
        print('  ...')
        print('KeyboardInterrupt')
        self.loop = None


def wind_bus_forward(next_ksock_id=113, next_serial=337):
    """Bring bus 0 to where a fresh kernel module was in the presentation."""
    probe = Ksock(0)
    while probe.ksock_id() < next_ksock_id - 1:
        probe.close()
        probe = Ksock(0)
    if probe.ksock_id() != next_ksock_id - 1:
        raise SystemExit('bus 0 has already used ksock id %d; run with --kbusd, or '
                         'restart kbusd' % next_ksock_id)
    serial = probe.last_msg_id().serial_num
    while serial < next_serial - 1:
        serial = probe.send_msg(Announcement('$.Backstage.Tick')).serial_num
    probe.close()
    if serial != next_serial - 1:
        raise SystemExit('bus 0 has already used serial %d; run with --kbusd, or '
                         'restart kbusd' % next_serial)


def part_one(r, a, g):
    """Rosencrantz speaks; the audience listens, with select() and then wait_for_msg()."""
    r.do('from kbus import Ksock', 'rosencrantz = Ksock(0)', 'print(rosencrantz)')
    r.do('from kbus import Message', "ahem = Message('$.Actor.Speak', 'Ahem')",
         'rosencrantz.send_msg(ahem)')
    a.do('from kbus import *', 'audience = Ksock(0)', "audience.bind('$.Actor.Speak')")
    r.do('rosencrantz.send_msg(ahem)')
    a.do('audience.read_next_msg()')
    a.do('print(_)')
    r.do('rosencrantz.ksock_id()')
    a.do('print(audience.read_next_msg())')
    a.do('import select')
    a.start_loop('audience', 'while 1:',
                 '   (r,w,x) = select.select([audience], [], [])',
                 '   # At this point, r should contain audience',
                 '   print(audience.read_next_msg())')
    r.do("rosencrantz.send_msg(Message('$.Actor.Speak', 'Hello there'))",
         "rosencrantz.send_msg(Message('$.Actor.Speak', 'Can you hear me?'))")
    a.show()
    g.do('from kbus import *', 'guildenstern = Ksock(0)', 'print(guildenstern)')
    g.do("guildenstern.bind('$.Actor.*')")
    a._header()
    a.interrupt()
    a.do("audience.bind('$.Actor.*')")
    a.start_loop('audience', 'while 1:', '   print(audience.wait_for_msg())')
    r.do("rosencrantz.bind('$.Actor.*')")
    g.do("guildenstern.send_msg(Message('$.Actor.Speak', 'Pssst!'))",
         "# Remember guildenstern is himself listening to '$.Actor.*'\n"
         "print(guildenstern.read_next_msg())")
    r.do('msg = rosencrantz.read_next_msg()', 'print(msg)')
    a.show()
    a._header()
    a.interrupt()
    a.do("audience.unbind('$.Actor.Speak')")
    a.start_loop('audience', 'while 1:', '   msg = audience.wait_for_msg()', '   print(msg)')


def part_two(r, a, g):
    """Requests and replies."""
    g.do("guildenstern.bind('$.Actor.Ask.Guildenstern', True)")
    r.do('from kbus import Request',
         "req = Request('$.Actor.Ask.Guildenstern', 'Were you speaking to me?')",
         'rosencrantz.send_msg(req)')
    r.do('print(rosencrantz.read_next_msg())', "rosencrantz.unbind('$.Actor.*')")
    g.do('req = guildenstern.read_next_msg()', 'print(req)')
    g.do('print(req.wants_us_to_reply())')
    g.do('msg = guildenstern.read_next_msg()', 'print(msg)')
    g.do("guildenstern.unbind('$.Actor.*')")
    g.do("rep = reply_to(req, 'Yes, yes I was')", 'print(rep)', 'guildenstern.send_msg(rep)',
         'guildenstern.read_next_msg()')
    r.do('rep = rosencrantz.read_next_msg()', 'print(rep)')
    a.show()


def part_three(r, a, g, f):
    """Stateful requests: the coin toss, and Falstaff's intervention."""
    r.do("# About to start tossing coins\n"
         "req = rosencrantz.send_msg(Request('$.Actor.Ask.Guildenstern',\n"
         "'Will you count heads for me?'))")
    g.do('req = guildenstern.read_next_msg()',
         "guildenstern.send_msg(reply_to(req, 'Yes, yes I shall'))",
         "guildenstern.bind('$.Actor.CoinToss', True)", 'heads = 0')
    g.start_loop('guildenstern', 'while True:',
                 '    toss = guildenstern.wait_for_msg()',
                 '    print(toss)',
                 "    if toss.data == 'Head':",
                 "       print('A head - amazing')",
                 '       heads += 1',
                 '    else:',
                 "       print('Bah, tails')",
                 "    guildenstern.send_msg(reply_to(toss, 'Head count is %d'%heads))")
    r.do('rep = rosencrantz.read_next_msg()', 'print(rep.from_)',
         '# Throws a head\nfrom kbus import stateful_request',
         "sreq = stateful_request(rep, '$.Actor.CoinToss', 'Head')", 'print(sreq)',
         'rosencrantz.send_msg(sreq)')
    g.show()
    r.do('count = rosencrantz.read_next_msg()', "print('So,',count.data)",
         "# Throws a head\nsreq = stateful_request(rep, '$.Actor.CoinToss', 'Head')",
         'rosencrantz.send_msg(sreq)')
    g.show()
    r.do('count = rosencrantz.read_next_msg()', "print('So,',count.data)")
    g._header()
    g.interrupt()
    g.do("print('Falstaff! No! Ouch!')", 'guildenstern.close()')
    f.do('from kbus import *', 'falstaff = Ksock(0)', "falstaff.bind('$.Actor.CoinToss', True)")
    r.do("# Throws a head\nsreq = stateful_request(rep, '$.Actor.CoinToss', 'Head')",
         'rosencrantz.send_msg(sreq)')
    a.show()


def session():
    """The whole presentation."""
    wind_bus_forward()
    rosencrantz = Terminal(1, 'Rosencrantz')
    audience = Terminal(2, 'Audience')
    guildenstern = Terminal(3, 'Guildenstern')
    falstaff = Terminal(4, 'Falstaff')
    part_one(rosencrantz, audience, guildenstern)
    part_two(rosencrantz, audience, guildenstern)
    part_three(rosencrantz, audience, guildenstern, falstaff)


def start_kbusd(path, socket_dir):
    """Start a private kbusd; return it once bus 0 listens."""
    kbusd = subprocess.Popen([path, '--socket-dir', socket_dir], stdout=subprocess.PIPE,
                             text=True)
    line = kbusd.stdout.readline()
    if 'listening on' not in line:
        kbusd.kill()
        raise SystemExit('kbusd did not start: %r' % line)
    return kbusd


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--kbusd', help='start this kbusd privately for the session')
    args = parser.parse_args()
    if not args.kbusd:
        session()
        return
    with tempfile.TemporaryDirectory(prefix='kbus-presentation-') as socket_dir:
        os.environ['KBUS_SOCKET_DIR'] = socket_dir
        kbusd = start_kbusd(args.kbusd, socket_dir)
        try:
            session()
        finally:
            kbusd.terminate()
            kbusd.wait()


if __name__ == '__main__':
    main()
