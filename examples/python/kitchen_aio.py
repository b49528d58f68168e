#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""The README's C kitchen example, in asyncio Python: a thermometer answers requests.

Both ends live in one program to keep it short (kbus.aio, no threads); run
it while kbusd serves bus 0.  Three requests are outstanding at once on
one connection; each gets its own reply.
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                                'python'))

import kbus.aio  # noqa: E402  (after the path is set)

NAME = '$.Sensors.Kitchen.Temperature'


async def answer(thermometer):
    """The thermometer: answer every request for NAME."""
    async for request in thermometer:
        if request.wants_us_to_reply():
            await thermometer.reply(request, '21.5')


async def main():
    async with await kbus.aio.connect(0) as thermometer, \
            await kbus.aio.connect(0) as client:
        await thermometer.bind(NAME, replier=True)
        serving = asyncio.ensure_future(answer(thermometer))
        replies = await asyncio.gather(*(client.request(NAME, timeout=5) for _ in range(3)))
        for reply in replies:
            print('%s says %s' % (reply.name, reply.data))
        serving.cancel()


if __name__ == '__main__':
    asyncio.run(main())
