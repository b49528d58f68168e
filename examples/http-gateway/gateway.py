#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""An HTTP front end to a key-value service on the bus (standard library only).

    GET  /api/v1/<key>          -> $.KV.Get; 200 with the value, or 404
    PUT  /api/v1/<key>  (body)  -> $.KV.Set; 201 created or 200 replaced
    POST /api/v1/<key>  (body)  -> the same as PUT

Every HTTP request becomes one kbus request, made with kbus.aio on a single
connection shared by all HTTP clients, so many are outstanding at once.
If no replier is bound the answer is 503; if the replier goes away before
answering (a $.KBUS.Replier.* status) 502; no answer within --timeout 504.

Usage: gateway.py [--host 127.0.0.1] [--port 8080] [--bus 0] [--timeout 5].
With --port 0 the system picks a port; the line printed at start says which.
"""

import argparse
import asyncio
import errno
import json
import os
import signal
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                                'python'))

import kbus.aio  # noqa: E402  (after the path is set)

PREFIX = '/api/v1/'
KEY_MAX = 256
BODY_MAX = 64 * 1024
LINE_MAX = 8 * 1024
REASONS = {200: 'OK', 201: 'Created', 400: 'Bad Request', 404: 'Not Found',
           405: 'Method Not Allowed', 411: 'Length Required', 413: 'Payload Too Large',
           501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
           504: 'Gateway Timeout'}


class HttpError(Exception):
    """An HTTP error answer: status and a message for the JSON body."""

    def __init__(self, status, message, headers=()):
        super().__init__(message)
        self.status = status
        self.headers = list(headers)


class Request:
    """One parsed HTTP request."""

    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body

    def keep_alive(self):
        """Whether the connection stays open after the response."""
        connection = self.headers.get('connection', '').lower()
        if self.version == 'HTTP/1.0':
            return connection == 'keep-alive'
        return connection != 'close'


async def read_line(reader):
    """One CRLF-terminated line, without its end; None at a clean end of stream."""
    try:
        line = await reader.readuntil(b'\n')
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise HttpError(400, 'truncated request') from None
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(400, 'line too long') from None
    return line.rstrip(b'\r\n').decode('latin-1')


async def read_headers(reader):
    """The header fields, lower-cased names, up to the blank line."""
    headers = {}
    while True:
        line = await read_line(reader)
        if line is None:
            raise HttpError(400, 'truncated headers')
        if not line:
            return headers
        name, sep, value = line.partition(':')
        if not sep or not name or name != name.strip():
            raise HttpError(400, 'bad header line')
        headers[name.lower()] = value.strip()


async def read_body(reader, headers):
    """The body, as Content-Length says (chunked bodies are not supported)."""
    if 'transfer-encoding' in headers:
        raise HttpError(501, 'Transfer-Encoding is not supported; send Content-Length')
    length = headers.get('content-length', '0')
    if not length.isdigit():
        raise HttpError(400, 'bad Content-Length')
    if int(length) > BODY_MAX:
        raise HttpError(413, 'values are at most %d bytes' % BODY_MAX)
    try:
        return await reader.readexactly(int(length))
    except asyncio.IncompleteReadError:
        raise HttpError(400, 'truncated body') from None


async def read_request(reader):
    """The next request on a connection, or None when the client has closed it."""
    line = await read_line(reader)
    if line is None:
        return None
    parts = line.split(' ')
    if len(parts) != 3 or not parts[2].startswith('HTTP/1.'):
        raise HttpError(400, 'bad request line')
    headers = await read_headers(reader)
    body = await read_body(reader, headers)
    return Request(parts[0], parts[1], parts[2], headers, body)


def key_of(target):
    """The key named by /api/v1/<key> (percent-decoded); 404 for any other path."""
    path = urllib.parse.urlsplit(target).path
    if not path.startswith(PREFIX):
        raise HttpError(404, 'no such resource; use %s<key>' % PREFIX)
    key = urllib.parse.unquote(path[len(PREFIX):], errors='strict')
    if not key or '/' in key or len(key) > KEY_MAX:
        raise HttpError(404, 'a key is 1 to %d characters without "/"' % KEY_MAX)
    return key


async def ask(ksock, name, data, timeout):
    """One kbus request; its JSON reply.  kbus failures become HTTP errors."""
    try:
        reply = await ksock.request(name, data, timeout=timeout)
    except asyncio.TimeoutError:
        raise HttpError(504, 'no answer from %s within %g s' % (name, timeout)) from None
    except kbus.aio.StatusError as e:
        raise HttpError(502, str(e)) from None
    except OSError as e:
        if e.errno == errno.EADDRNOTAVAIL:
            raise HttpError(503, 'no kbus replier is bound to %s' % name) from None
        raise HttpError(502, 'kbus: %s' % e) from None
    try:
        answer = json.loads(bytes(reply.data or b'{}').decode('utf-8'))
    except ValueError:
        raise HttpError(502, 'the %s replier answered something that is not JSON' % name) \
            from None
    if 'error' in answer:
        raise HttpError(502, answer['error'])
    return answer


async def get(ksock, key, timeout):
    """GET: the value, or 404."""
    answer = await ask(ksock, '$.KV.Get', key, timeout)
    if not answer.get('found'):
        raise HttpError(404, 'no such key: %s' % key)
    return 200, 'text/plain; charset=utf-8', answer['value'].encode('utf-8')


async def put(ksock, key, body, timeout):
    """PUT/POST: store the body (UTF-8 text) as the value."""
    try:
        value = body.decode('utf-8')
    except UnicodeDecodeError:
        raise HttpError(400, 'values are UTF-8 text') from None
    answer = await ask(ksock, '$.KV.Set', json.dumps({'key': key, 'value': value}), timeout)
    content = json.dumps({'key': key, 'value': value}).encode('utf-8')
    return (201 if answer.get('created') else 200), 'application/json', content


async def respond_to(ksock, request, timeout):
    """(status, content type, body) for one request."""
    key = key_of(request.target)
    if request.method == 'GET':
        return await get(ksock, key, timeout)
    if request.method in ('PUT', 'POST'):
        return await put(ksock, key, request.body, timeout)
    raise HttpError(405, 'use GET, PUT or POST', [('Allow', 'GET, PUT, POST')])


def response_bytes(status, content_type, body, keep_alive, headers=()):
    """An HTTP/1.1 response."""
    lines = ['HTTP/1.1 %d %s' % (status, REASONS[status]),
             'Content-Type: %s' % content_type,
             'Content-Length: %d' % len(body),
             'Connection: %s' % ('keep-alive' if keep_alive else 'close')]
    lines += ['%s: %s' % h for h in headers]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


def error_bytes(error, keep_alive):
    """The response for an HttpError: a JSON body {"error": ...}."""
    body = json.dumps({'error': str(error)}).encode('utf-8')
    return response_bytes(error.status, 'application/json', body, keep_alive, error.headers)


async def handle_one(ksock, timeout, reader):
    """Read and answer one request: (response, keep the connection?), or None at its end."""
    try:
        request = await read_request(reader)
    except HttpError as e:
        return error_bytes(e, False), False  # the stream cannot be trusted any more
    if request is None:
        return None
    keep_alive = request.keep_alive()
    try:
        status, ctype, body = await respond_to(ksock, request, timeout)
    except HttpError as e:
        return error_bytes(e, keep_alive), keep_alive
    return response_bytes(status, ctype, body, keep_alive), keep_alive


async def serve_connection(ksock, timeout, reader, writer):
    """Answer requests on one HTTP connection until it closes."""
    try:
        while True:
            answered = await handle_one(ksock, timeout, reader)
            if answered is None:
                break
            writer.write(answered[0])
            await writer.drain()
            if not answered[1]:
                break
    except ConnectionError:
        pass
    finally:
        writer.close()


async def run(host, port, bus, timeout):
    """Connect to the bus, serve HTTP until SIGINT or SIGTERM."""
    ksock = await kbus.aio.connect(bus)
    server = await asyncio.start_server(
        lambda r, w: serve_connection(ksock, timeout, r, w), host, port, limit=LINE_MAX)
    address = server.sockets[0].getsockname()
    print('gateway: listening on http://%s:%d%s (bus %s, ksock %d)'
          % (address[0], address[1], PREFIX, ksock.bus, ksock.ksock_id()), flush=True)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with server:
        await stop
    await ksock.aclose()


def main():
    parser = argparse.ArgumentParser(description='HTTP front end to $.KV.Get/$.KV.Set')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8080, help='0 picks a free port')
    parser.add_argument('--bus', default='0', help='bus number or socket path (default 0)')
    parser.add_argument('--timeout', type=float, default=5.0,
                        help='seconds to wait for the backend (default 5)')
    args = parser.parse_args()
    bus = int(args.bus) if args.bus.isdigit() else args.bus
    asyncio.run(run(args.host, args.port, bus, args.timeout))


if __name__ == '__main__':
    main()
