# SPDX-License-Identifier: MPL-2.0
"""Errors: OSError with the errno of semantics §15, and what it means in KBUS terms.

Every failure kbusd reports, or that this library finds first, raises
``OSError(errno, text)``.  The text starts with the system's own words for
the errno (``os.strerror``), so an EPIPE still prints as ``[Errno 32] Broken
pipe``, followed by what it means on a bus::

    [Errno 32] Broken pipe: stateful request to ksock 115, but another ksock
    is now the replier for '$.Actor.CoinToss'

Python turns the errno into the matching subclass (BrokenPipeError,
ConnectionResetError, ...), so both ``except OSError`` with ``e.errno`` and
the subclasses work.  ``e.strerror`` holds both parts, separated by ": ".

Requests made with ``kbus.aio`` that kbusd answers with a status instead of
a reply (semantics §9) raise a StatusError subclass.
"""

import errno
import os
from typing import Optional

# What each errno means on a bus, when nothing more specific is known.
MEANINGS = {
    errno.EADDRINUSE: 'another ksock is already bound as replier for that name',
    errno.EADDRNOTAVAIL: 'no replier is bound for that request, or the requester this '
                         'reply answers has gone',
    errno.EALREADY: 'an ALL_OR_WAIT send of this ksock is still waiting for room',
    errno.EBADF: 'the ksock was opened read-only, so it cannot send',
    errno.EBADMSG: 'not a valid message name (or a wildcard where none is allowed, or a '
                   'replier binding to $.KBUS.ReplierBindEvent)',
    errno.EBUSY: 'a queue that must take the message is full (the replier\'s, or an '
                 'ALL_OR_FAIL target\'s)',
    errno.ECONNREFUSED: 'this reply answers no request that this ksock owes a reply to',
    errno.EINVAL: 'invalid argument',
    errno.EMSGSIZE: 'the message is larger than the bus\'s maximum message size',
    errno.ENAMETOOLONG: 'message names are at most 1000 bytes long',
    errno.ENOENT: 'no such bus: no kbusd is listening there',
    errno.ENOLCK: 'the sender\'s queue has no room left to reserve for the reply',
    errno.ENOMSG: 'no message has been written to send',
    errno.EPIPE: 'stateful request, but its replier is no longer bound to that name',
    errno.EAGAIN: 'the send must wait for room (ALL_OR_WAIT), or a replier bind event '
                  'cannot be queued for a listener whose queue is full',
    errno.ECONNRESET: 'kbusd went away: the connection to the bus is lost',
    errno.ENOTCONN: 'not connected to kbusd',
    errno.EPROTO: 'kbusd sent something this library does not understand',
    errno.ETIMEDOUT: 'kbusd did not answer in time',
    errno.ENFILE: 'kbusd already serves as many buses as it can',
    errno.EIO: 'kbusd could not do it',
    errno.EPERM: "kbusd's policy does not allow it ('kbus-ctl explain' says which rule)",
    errno.EDQUOT: "this user's quota in kbusd is used up ('kbus-ctl stats' shows it)",
    errno.ENOBUFS: "kbusd's total limit for all users is reached",
}


def kbus_error(err: int, meaning: Optional[str] = None) -> OSError:
    """Return the OSError for errno @err, explained by @meaning or the table above."""
    if meaning is None:
        meaning = MEANINGS.get(err, 'kbus error')
    return OSError(err, '%s: %s' % (os.strerror(err), meaning))


def closed_error() -> OSError:
    """The error for a call on a closed ksock."""
    return kbus_error(errno.EBADF, 'the ksock is closed')


def bind_error(err: int, name: str, replier: bool, unbind: bool = False) -> OSError:
    """The error for a failed bind or unbind of @name."""
    if err == errno.EADDRINUSE:
        return kbus_error(err, 'a ksock (perhaps this one) is already the replier for %r'
                          % name)
    if err == errno.EINVAL and unbind:
        return kbus_error(err, 'this ksock has no %s binding %r to unbind'
                          % ('replier' if replier else 'listener', name))
    if err == errno.EAGAIN:
        return kbus_error(err, 'a listener to $.KBUS.ReplierBindEvent has a full queue, so '
                               'the replier %s %r is not made'
                          % ('unbind from' if unbind else 'bind to', name))
    if err == errno.EBADMSG and replier and name == '$.KBUS.ReplierBindEvent':
        return kbus_error(err, 'nobody may bind as replier to $.KBUS.ReplierBindEvent')
    if err == errno.EBADMSG:
        return kbus_error(err, '%r is not a valid binding' % name)
    return kbus_error(err)


def send_error(err: int, name: str = '', to: int = 0, is_request: bool = False,
               is_reply: bool = False) -> OSError:
    """The error for a failed send of a message named @name."""
    if err == errno.EADDRNOTAVAIL and is_reply:
        return kbus_error(err, 'the requester (ksock %d) this reply to %r answers has gone'
                          % (to, name))
    if err == errno.EADDRNOTAVAIL:
        return kbus_error(err, 'no replier is bound for request %r' % name)
    if err == errno.EPIPE:
        return kbus_error(err, 'stateful request to ksock %d, but another ksock is now the '
                               'replier for %r' % (to, name))
    if err == errno.ECONNREFUSED:
        return kbus_error(err, 'this reply to %r answers no request this ksock owes ksock %d'
                          % (name, to))
    if err == errno.EBUSY and is_request:
        return kbus_error(err, 'the queue of the replier for %r (or of an ALL_OR_FAIL '
                               'listener) is full' % name)
    if err == errno.EBUSY:
        return kbus_error(err, 'ALL_OR_FAIL: a listener to %r has a full queue' % name)
    if err == errno.EINVAL:
        return kbus_error(err, 'a message may not have both ALL_OR_WAIT and ALL_OR_FAIL, '
                               'nor be both a request and a reply')
    if err == errno.EBADMSG:
        return kbus_error(err, '%r is not a valid name for a message to send' % name)
    if err == errno.EAGAIN:
        return kbus_error(err, 'ALL_OR_WAIT: a queue that must take %r is full; kbusd sends '
                               'it when there is room, and until then this ksock cannot '
                               'write or send another (EALREADY)' % name)
    return kbus_error(err)


class StatusError(Exception):
    """A request was answered by kbusd with a status instead of a reply (semantics §9).

    ``status`` is the Status message; ``request_id`` the id of the request.
    """

    explanation = 'kbusd answered it with a status'

    def __init__(self, status, request_name: str = ''):
        self.status = status
        self.request_id = status.in_reply_to
        self.request_name = request_name
        super().__init__('request %s %r was not answered: %s (%s)'
                         % (self.request_id, request_name, self.explanation, status.name))


class ReplierUnbound(StatusError):
    """The replier unbound before reading the request ($.KBUS.Replier.Unbound)."""
    explanation = 'the replier unbound before reading it'


class ReplierGoneAway(StatusError):
    """The replier's ksock closed before it read the request ($.KBUS.Replier.GoneAway)."""
    explanation = 'the replier\'s ksock closed before reading it'


class ReplierIgnored(StatusError):
    """The replier's ksock closed after reading the request, without replying."""
    explanation = 'the replier\'s ksock closed after reading it, without replying'


class ReplierDisappeared(StatusError):
    """A held ALL_OR_WAIT request lost its replier before delivery."""
    explanation = 'the replier disappeared while the request waited for room'


class ErrorSending(StatusError):
    """A held ALL_OR_WAIT request could not be delivered ($.KBUS.ErrorSending)."""
    explanation = 'it could not be delivered'


STATUS_ERRORS = {
    '$.KBUS.Replier.Unbound': ReplierUnbound,
    '$.KBUS.Replier.GoneAway': ReplierGoneAway,
    '$.KBUS.Replier.Ignored': ReplierIgnored,
    '$.KBUS.Replier.Disappeared': ReplierDisappeared,
    '$.KBUS.ErrorSending': ErrorSending,
}


def status_error(status, request_name: str = '') -> StatusError:
    """The StatusError subclass for the Status message @status."""
    return STATUS_ERRORS.get(status.name, StatusError)(status, request_name)
