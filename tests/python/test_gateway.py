# SPDX-License-Identifier: MPL-2.0
"""examples/http-gateway end to end: HTTP (urllib) -> gateway -> kbus -> kvstore and back."""

import concurrent.futures
import http.client
import json
import os
import subprocess
import sys
import threading
import unittest
import urllib.error
import urllib.request

from kbusd_harness import SOURCE_ROOT, KbusdTestCase, stop_process, wait_for_line

EXAMPLE_DIR = os.path.join(SOURCE_ROOT, 'examples', 'http-gateway')
TIMEOUT = 30


class GatewayTest(KbusdTestCase):

    def start(self, script, ready, *args):
        """Start an example script; return it and the line saying it is ready."""
        proc = subprocess.Popen([sys.executable, os.path.join(EXAMPLE_DIR, script)] +
                                list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.kbusd.env())
        self.addCleanup(stop_process, proc)
        return proc, wait_for_line(proc, ready)

    def start_gateway(self, *args):
        _, line = self.start('gateway.py', 'listening on http://', '--port', '0', *args)
        self.port = int(line.split('http://127.0.0.1:')[1].split('/')[0])
        return line

    def start_kvstore(self):
        return self.start('kvstore.py', 'kvstore: answering')[0]

    def fetch(self, method, path, body=None):
        """(status, content type, body) of one HTTP request."""
        request = urllib.request.Request('http://127.0.0.1:%d%s' % (self.port, path),
                                         data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, response.headers['Content-Type'], response.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers['Content-Type'], e.read()

    def fetch_json(self, method, path, body=None):
        status, ctype, content = self.fetch(method, path, body)
        self.assertEqual(ctype, 'application/json')
        return status, json.loads(content)

    def test_get_put_post(self):
        self.start_kvstore()
        line = self.start_gateway()
        self.assertRegex(line, r'^gateway: listening on http://127\.0\.0\.1:\d+/api/v1/ '
                               r'\(bus 0, ksock \d+\)$')
        self.assertEqual(self.fetch_json('GET', '/api/v1/colour'),
                         (404, {'error': 'no such key: colour'}))
        self.assertEqual(self.fetch_json('PUT', '/api/v1/colour', b'blue'),
                         (201, {'key': 'colour', 'value': 'blue'}))
        self.assertEqual(self.fetch('GET', '/api/v1/colour'),
                         (200, 'text/plain; charset=utf-8', b'blue'))
        self.assertEqual(self.fetch_json('POST', '/api/v1/colour', b'green'),
                         (200, {'key': 'colour', 'value': 'green'}))
        self.assertEqual(self.fetch('GET', '/api/v1/colour')[2], b'green')
        self.assertEqual(self.fetch_json('PUT', '/api/v1/caf%C3%A9', 'cr\u00e8me'.encode()),
                         (201, {'key': 'caf\u00e9', 'value': 'cr\u00e8me'}))
        self.assertEqual(self.fetch('GET', '/api/v1/caf%C3%A9')[2], 'cr\u00e8me'.encode())

    def test_http_errors(self):
        self.start_kvstore()
        self.start_gateway()
        self.assertEqual(self.fetch_json('DELETE', '/api/v1/colour'),
                         (405, {'error': 'use GET, PUT or POST'}))
        self.assertEqual(self.fetch_json('GET', '/other')[0], 404)
        self.assertEqual(self.fetch_json('GET', '/api/v1/a/b')[0], 404)
        self.assertEqual(self.fetch_json('PUT', '/api/v1/k', b'\xff'),
                         (400, {'error': 'values are UTF-8 text'}))
        self.assertEqual(self.fetch_json('PUT', '/api/v1/k', b'x' * (64 * 1024 + 1))[0], 413)

    def test_keep_alive(self):
        self.start_kvstore()
        self.start_gateway()
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=TIMEOUT)
        self.addCleanup(connection.close)
        connection.request('PUT', '/api/v1/k', body=b'v1')
        self.assertEqual(connection.getresponse().read(), b'{"key": "k", "value": "v1"}')
        connection.request('GET', '/api/v1/k')
        response = connection.getresponse()
        self.assertEqual((response.status, response.getheader('Connection'), response.read()),
                         (200, 'keep-alive', b'v1'))

    def test_many_clients_at_once(self):
        self.start_kvstore()
        self.start_gateway()
        for i in range(20):
            self.assertEqual(self.fetch('PUT', '/api/v1/k%d' % i, b'v%d' % i)[0], 201)
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            got = list(pool.map(lambda i: self.fetch('GET', '/api/v1/k%d' % i), range(20)))
        self.assertEqual(got, [(200, 'text/plain; charset=utf-8', b'v%d' % i)
                               for i in range(20)])

    def test_no_backend_is_503(self):
        self.start_gateway()
        self.assertEqual(self.fetch_json('GET', '/api/v1/colour'),
                         (503, {'error': 'no kbus replier is bound to $.KV.Get'}))

    def test_silent_backend_is_504(self):
        silent = self.open()
        silent.bind('$.KV.Get', True)
        self.start_gateway('--timeout', '0.2')
        self.assertEqual(self.fetch_json('GET', '/api/v1/colour'),
                         (504, {'error': 'no answer from $.KV.Get within 0.2 s'}))

    def test_backend_gone_mid_request_is_502(self):
        backend = self.open()
        backend.bind('$.KV.Get', True)
        self.start_gateway()
        result = {}
        client = threading.Thread(target=lambda: result.update(
            answer=self.fetch_json('GET', '/api/v1/colour')))
        client.start()
        request = backend.wait_for_msg(TIMEOUT)
        self.assertEqual(request.data, 'colour')
        backend.close()  # read, not answered: kbusd sends $.KBUS.Replier.Ignored
        client.join(TIMEOUT)
        status, body = result['answer']
        self.assertEqual(status, 502)
        self.assertRegex(body['error'], r"^request \[0:\d+\] '\$\.KV\.Get' was not answered: "
                                        r"the replier's ksock closed after reading it, "
                                        r"without replying \(\$\.KBUS\.Replier\.Ignored\)$")


if __name__ == '__main__':
    unittest.main()
