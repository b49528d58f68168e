# SPDX-License-Identifier: MPL-2.0
"""The C half of bench/compare: every system through its own C library.

Each system is one program with the same workloads (c/peer.c and its
peer-*.c; kbus-bench --only for kbus and for the ceiling's relay): a 64-byte
request/reply round trip (p50, p99), and 64-byte announcements pipelined
1->1 and 1->10 (deliveries per second, and how many were lost).  The
servers are private: a mosquitto and a dbus-daemon on Unix sockets in the
comparison's temporary directory, a nats-server on a free loopback port
(NATS has no Unix sockets).  ZeroMQ has no broker at all.
"""

import os
import re
import socket
import subprocess

# Messages per 1->1 figure, so that each takes about a second; 1->10 sends a fifth.
MESSAGES = {'relay': 2000000, 'kbus': 2000000, 'zmq': 2000000, 'nats': 1000000,
            'mosquitto': 200000, 'sdbus': 100000}
LABELS = {'relay': 'ceiling: minimal relay (Unix sockets)', 'kbus': 'kbus (libkbus + kbusd)',
          'zmq': 'ZeroMQ REQ/REP, PUB/SUB ipc (no broker)', 'nats': 'NATS (cnats + nats-server, TCP)',
          'mosquitto': 'MQTT (libmosquitto + mosquitto)', 'sdbus': 'D-Bus (sd-bus + dbus-daemon)'}
WORKLOADS = ('rtt', 'pipe1', 'pipe10')
LINE = re.compile(r'p50 ([\d.]+) us p99 ([\d.]+) us rate ([\d.]+)/s lost (\d+)')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_daemon(argv, ready):
    """Start @argv; wait until @ready() (at most 5 s): the process, or None."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        if ready():
            return proc
        if proc.poll() is not None:
            return None
        subprocess.run(['sleep', '0.05'])
    proc.kill()
    proc.wait()
    return None


def can_connect(family, address):
    with socket.socket(family) as s:
        try:
            s.connect(address)
            return True
        except OSError:
            return False


def start_mosquitto(sockdir):
    path = os.path.join(sockdir, 'mosquitto')
    conf = os.path.join(sockdir, 'mosquitto.conf')
    with open(conf, 'w') as f:
        # 'user root' keeps a root run's privileges, so it may bind in our 0700 directory.
        f.write('listener 0 %s\nallow_anonymous true\nuser root\nmax_queued_messages 0\n' % path)
    proc = start_daemon(['mosquitto', '-c', conf], lambda: can_connect(socket.AF_UNIX, path))
    return proc and (proc, path)


def start_nats(sockdir):
    port = free_port()
    conf = os.path.join(sockdir, 'nats.conf')
    with open(conf, 'w') as f:
        f.write('listen: 127.0.0.1:%d\nmax_pending: 1GB\n' % port)
    proc = start_daemon(['nats-server', '-c', conf],
                        lambda: can_connect(socket.AF_INET, ('127.0.0.1', port)))
    return proc and (proc, 'nats://127.0.0.1:%d' % port)


class CSide:
    """The C systems that can run here, and how to run one workload of each."""

    def __init__(self, peers_dir, kbus_bench, kbusd, sockdir, dbus):
        self.kbus_bench, self.kbusd, self.sockdir = kbus_bench, kbusd, sockdir
        self.daemons, self.address, self.missing = [], {}, []
        self.systems = ['relay', 'kbus']
        for name, start, what in (('zmq', None, 'libzmq3-dev'),
                                  ('nats', start_nats, 'libnats-dev and nats-server'),
                                  ('mosquitto', start_mosquitto, 'libmosquitto-dev and mosquitto'),
                                  ('sdbus', None, 'libsystemd-dev and dbus-daemon')):
            prog = os.path.join(peers_dir, 'peer-' + name) if peers_dir else ''
            started = start(sockdir) if start and os.path.exists(prog) else None
            if name == 'zmq' and os.path.exists(prog):
                started = (None, os.path.join(sockdir, 'zmq-c'))
            if name == 'sdbus' and os.path.exists(prog) and dbus:
                started = (None, dbus[1])
            if not started:
                self.missing.append('%s left out: %s not installed, or it did not start'
                                    % (LABELS[name], what))
                continue
            self.systems.append(name)
            self.address[name] = (prog, started[1])
            if started[0]:
                self.daemons.append(started[0])

    def stop(self):
        for proc in self.daemons:
            proc.terminate()
            proc.wait()

    def measure(self, system, workload, round_trips):
        """One run: (p50 us, p99 us, rate per second, lost)."""
        n = MESSAGES[system] // (5 if workload == 'pipe10' else 1)
        if system in ('relay', 'kbus'):
            only = ('relay-' + workload) if system == 'relay' else workload
            argv = [self.kbus_bench, '--kbusd', self.kbusd, '--only', only,
                    '--round-trips', str(round_trips), '--messages', str(MESSAGES[system])]
        else:
            prog, address = self.address[system]
            argv = [prog, address] + (['rtt', str(round_trips)] if workload == 'rtt' else
                                      ['pipe', str(n), '1' if workload == 'pipe1' else '10'])
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             timeout=300).stdout
        m = LINE.search(out)
        if not m:
            raise RuntimeError('%s gave no figures: %r' % (' '.join(argv), out))
        return float(m[1]), float(m[2]), float(m[3]), int(m[4])


def report(systems, rows, missing, round_trips, rounds):
    """@rows: {(system, workload): (p50, p99, rate, lost)}, medians."""
    print('C, 64-byte payloads, %d round trips per run, %d interleaved rounds (medians); '
          'ratios are to the ceiling relay' % (round_trips, rounds))
    print('| | round trip p50 | p99 | vs relay | 1->1 msgs/s | vs relay | 1->10 deliveries/s '
          '| vs relay | lost |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    relay = {w: rows['relay', w] for w in WORKLOADS}
    for s in systems:
        rtt, p1, p10 = (rows[s, w] for w in WORKLOADS)
        print('| %s | %.0f us | %.0f us | %.2fx | %.2fM | %.2f | %.2fM | %.2f | %d |'
              % (LABELS[s], rtt[0], rtt[1], rtt[0] / relay['rtt'][0], p1[2] / 1e6,
                 p1[2] / relay['pipe1'][2], p10[2] / 1e6, p10[2] / relay['pipe10'][2],
                 p1[3] + p10[3]))
    for line in missing:
        print('(%s)' % line)

