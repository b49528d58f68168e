#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""A key-value store on the bus: the replier for $.KV.Get and $.KV.Set.

It uses the classic blocking API (kbus.Ksock): wait for a request, answer
it, repeat.  The requests and replies are (README.md, "The KV protocol"):

    $.KV.Get  data: the key (UTF-8)
              reply: {"key": K, "found": true, "value": V} or {"key": K, "found": false}
    $.KV.Set  data: {"key": K, "value": V}
              reply: {"key": K, "created": true|false}

Usage: kvstore.py [--bus N].  It prints one line once it is bound.
"""

import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                                'python'))

from kbus import Ksock, reply_to  # noqa: E402  (after the path is set)

GET = '$.KV.Get'
SET = '$.KV.Set'


def handle_get(store, data):
    """The answer to $.KV.Get: the value of the key in @data, if any."""
    key = data.decode('utf-8')
    if key in store:
        return {'key': key, 'found': True, 'value': store[key]}
    return {'key': key, 'found': False}


def handle_set(store, data):
    """The answer to $.KV.Set: store {"key", "value"} from @data."""
    item = json.loads(data.decode('utf-8'))
    key, value = item['key'], item['value']
    if not isinstance(key, str) or not isinstance(value, str):
        raise ValueError('key and value must be strings')
    created = key not in store
    store[key] = value
    return {'key': key, 'created': created}


def answer(store, request):
    """The reply data (JSON) for one request; a malformed one gets {"error": ...}."""
    handler = handle_get if request.name == GET else handle_set
    try:
        result = handler(store, bytes(request.data or b''))
    except (ValueError, KeyError, TypeError) as e:
        result = {'error': 'bad %s request: %s' % (request.name, e)}
    return json.dumps(result).encode('utf-8')


def serve(bus):
    """Bind as replier and answer requests until killed."""
    store = {}
    with Ksock(bus) as ksock:
        ksock.bind(GET, True)
        ksock.bind(SET, True)
        print('kvstore: answering %s and %s on bus %s' % (GET, SET, ksock.bus), flush=True)
        while True:
            request = ksock.wait_for_msg()
            if request.wants_us_to_reply():
                ksock.send_msg(reply_to(request, answer(store, request)))


def main():
    parser = argparse.ArgumentParser(description='the $.KV.Get/$.KV.Set replier')
    parser.add_argument('--bus', default='0', help='bus number or socket path (default 0)')
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(int(args.bus) if args.bus.isdigit() else args.bus)
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
