# SPDX-License-Identifier: MPL-2.0
"""kbus: the KBUS message bus from Python, talking to kbusd over its socket.

The public names are those of the original KBUS Python binding, so that its
sessions run unchanged (semantics §14)::

    >>> from kbus import Ksock, Message
    >>> with Ksock(0) as ksock:
    ...     ksock.bind('$.Actor.Speak')
    ...     ksock.send_msg(Message('$.Actor.Speak', 'Ahem'))
    ...     print(ksock.read_next_msg())

Errors raise OSError with the errno of semantics §15.  ``kbus.aio`` is the same
bus for asyncio programs.  Pure Python, standard library only.
"""

from .errors import (ErrorSending, ReplierDisappeared, ReplierGoneAway, ReplierIgnored,
                     ReplierUnbound, StatusError)
from .ksock import Ksock, read_bindings
from .messages import (Announcement, Data, Message, MessageId, OrigFrom, Reply, Request, Status,
                       reply_to, split_replier_bind_event_data, stateful_request)

__version__ = '0.1.0'

__all__ = [
    'Ksock', 'read_bindings', 'Message', 'Announcement', 'Request', 'Reply', 'Status', 'MessageId', 'OrigFrom',
    'Data', 'reply_to', 'stateful_request', 'split_replier_bind_event_data', 'StatusError',
    'ReplierUnbound', 'ReplierGoneAway', 'ReplierIgnored', 'ReplierDisappeared', 'ErrorSending',
]
