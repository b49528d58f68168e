# SPDX-License-Identifier: MPL-2.0
"""Messages, ids and their printing (no kbusd needed)."""

import struct
import unittest

import kbusd_harness  # noqa: F401  (puts python/ on sys.path)
from kbus import (Announcement, Data, Message, MessageId, OrigFrom, Reply, Request, Status,
                  reply_to, split_replier_bind_event_data, stateful_request)


def received(name, data=None, **fields):
    """A message as read from a ksock (plain Message with every field given)."""
    return Message(name, data, **fields)


class MessageIdTest(unittest.TestCase):

    def test_repr_str(self):
        self.assertEqual(repr(MessageId(0, 337)), 'MessageId(0, 337)')
        self.assertEqual(str(MessageId(0, 337)), '[0:337]')

    def test_order_equality_hash_add(self):
        a = MessageId(1, 2)
        self.assertTrue(a < MessageId(2, 2) and a < MessageId(1, 3))
        self.assertTrue(a > MessageId(0, 2) and a > MessageId(1, 1))
        self.assertEqual(a, MessageId(1, 2))
        self.assertNotEqual(a, (1, 2))
        self.assertEqual(len({a, MessageId(1, 2)}), 1)
        self.assertEqual(a + 3, MessageId(1, 5))
        self.assertEqual(a, MessageId(1, 2))  # + makes a new one
        self.assertEqual(tuple(a), (1, 2))

    def test_range(self):
        with self.assertRaises(ValueError):
            MessageId(-1, 0)
        with self.assertRaises(ValueError):
            MessageId(0, 1 << 32)


class OrigFromTest(unittest.TestCase):

    def test_repr_str_order(self):
        a = OrigFrom(1, 2)
        self.assertEqual(repr(a), 'OrigFrom(1, 2)')
        self.assertEqual(str(a), '(1,2)')
        self.assertTrue(a < OrigFrom(2, 2) and a < OrigFrom(1, 3))
        self.assertTrue(a > OrigFrom(0, 2) and a > OrigFrom(1, 1))
        self.assertEqual(a, OrigFrom(1, 2))


class DataTest(unittest.TestCase):

    def test_equals_bytes_and_text(self):
        data = Message('$.A', 'Head').data
        self.assertIsInstance(data, bytes)
        self.assertIsInstance(data, Data)
        self.assertTrue(data == 'Head')
        self.assertTrue('Head' == data)
        self.assertTrue(data == b'Head')
        self.assertFalse(data != 'Head')
        self.assertTrue(data != 'Tail')
        self.assertFalse(data == 3)
        self.assertEqual(hash(data), hash(b'Head'))

    def test_str_is_the_text(self):
        self.assertEqual(str(Message('$.A', 'Head count is 1').data), 'Head count is 1')
        self.assertEqual(str(Message('$.A', b'\xff\x00').data), "b'\\xff\\x00'")
        self.assertEqual(repr(Message('$.A', 'x').data), "b'x'")

    def test_str_data_is_utf8(self):
        self.assertEqual(bytes(Message('$.A', 'caf\u00e9').data), b'caf\xc3\xa9')
        self.assertEqual(bytes(Message('$.A', 'caf\u00e9', encoding='latin-1').data), b'caf\xe9')
        self.assertTrue(Message('$.A', 'caf\u00e9').data == 'caf\u00e9')

    def test_no_data_is_none(self):
        self.assertIsNone(Message('$.A').data)
        self.assertIsNone(Message('$.A', b'').data)


class MessageTest(unittest.TestCase):

    def test_repr_as_in_the_presentation(self):
        m = received('$.Actor.Speak', data='Ahem', from_=113, id=MessageId(0, 338))
        self.assertEqual(repr(m),
                         "Message('$.Actor.Speak', data='Ahem', from_=113, id=MessageId(0, 338))")

    def test_repr_every_field_in_order(self):
        m = Message('$.A', b'x', to=1, from_=2, orig_from=OrigFrom(3, 4),
                    final_to=OrigFrom(5, 6), in_reply_to=MessageId(0, 7), flags=0x10000,
                    id=MessageId(0, 8))
        self.assertEqual(repr(m), "Message('$.A', data='x', to=1, from_=2, "
                                  "orig_from=OrigFrom(3, 4), final_to=OrigFrom(5, 6), "
                                  "in_reply_to=MessageId(0, 7), flags=0x00010000, "
                                  "id=MessageId(0, 8))")
        self.assertEqual(repr(Message('$.A')), "Message('$.A')")

    def test_repr_evaluates_back(self):
        for data in ('Ahem', b'\xff\x00\x01', 'quote\'s "both"', 'caf\u00e9', 'a\nb'):
            m = Message('$.A', data, from_=3, id=MessageId(0, 9))
            self.assertEqual(eval(repr(m)), m)

    def test_data_printing_rule(self):
        self.assertEqual(str(Message('$.A', b'\xff\x00')), "<Announcement '$.A', "
                                                            "data=b'\\xff\\x00'>")
        self.assertEqual(str(Message('$.A', 'tab\there')), "<Announcement '$.A', "
                                                            "data='tab\\there'>")

    def test_str_kinds(self):
        self.assertEqual(str(received('$.Actor.Speak', data='Ahem', from_=113,
                                      id=MessageId(0, 338))),
                         "<Announcement '$.Actor.Speak', id=[0:338], from=113, data='Ahem'>")
        self.assertEqual(str(received('$.Q', from_=113, flags=3, id=MessageId(0, 342),
                                      data='Were you?')),
                         "<Request '$.Q', id=[0:342], from=113, flags=0x3 (REQ,YOU), "
                         "data='Were you?'>")
        self.assertEqual(str(received('$.Q', to=113, from_=115, in_reply_to=MessageId(0, 342),
                                      id=MessageId(0, 343), data='Yes')),
                         "<Reply '$.Q', id=[0:343], to=113, from=115, in_reply_to=[0:342], "
                         "data='Yes'>")
        self.assertEqual(str(received('$.KBUS.Replier.GoneAway', to=1, from_=2, flags=4,
                                      in_reply_to=MessageId(0, 5), id=MessageId(0, 6))),
                         "<Status '$.KBUS.Replier.GoneAway', id=[0:6], to=1, from=2, "
                         "in_reply_to=[0:5], flags=0x4 (SYN)>")

    def test_str_flags_and_routing(self):
        m = Message('$.A', to=1, orig_from=OrigFrom(2, 3), final_to=OrigFrom(4, 5),
                    flags=Message.URGENT | Message.ALL_OR_FAIL | Message.ALL_OR_WAIT | 0x10000)
        self.assertEqual(str(m), "<Announcement '$.A', to=1, orig_from=(2,3), "
                                 "final_to=(4,5), flags=0x10308 (URG,aFL,aWT)>")
        self.assertEqual(str(Message('$.A', flags=0x10000)), "<Announcement '$.A', "
                                                             "flags=0x10000>")

    def test_str_bind_event(self):
        data = struct.pack('=III', 1, 7, 6) + b'$.Fred\0\0'
        m = received('$.KBUS.ReplierBindEvent', data=data, flags=Message.SYNTHETIC,
                     id=MessageId(0, 4))
        self.assertEqual(str(m), "<ReplierBindEvent id=[0:4], flags=0x4 (SYN), "
                                 "[Bind '$.Fred' for 7]>")
        unbind = received('$.KBUS.ReplierBindEvent', data=struct.pack('=III', 0, 7, 6) +
                          b'$.Fred\0\0')
        self.assertEqual(str(unbind), "<ReplierBindEvent [Unbind '$.Fred' for 7]>")
        self.assertEqual(split_replier_bind_event_data(data), (1, 7, '$.Fred'))
        with self.assertRaises(ValueError):
            split_replier_bind_event_data(b'\0' * 8)
        with self.assertRaises(ValueError):
            split_replier_bind_event_data(struct.pack('=III', 1, 7, 99) + b'$.Fred\0\0')

    def test_fields(self):
        m = Message('$.A', 'x', to=1, from_=2, flags=Message.WANT_A_REPLY)
        self.assertEqual((m.name, m.data, m.to, m.from_, m.flags), ('$.A', b'x', 1, 2, 1))
        self.assertIsNone(m.id)
        self.assertIsNone(m.in_reply_to)
        self.assertIsNone(m.orig_from)
        self.assertIsNone(m.final_to)
        self.assertEqual(m.extract(), (None, None, 1, 2, None, None, 1, '$.A', b'x'))

    def test_flag_helpers(self):
        m = Message('$.A')
        m.set_want_reply()
        m.set_urgent()
        self.assertEqual(m.flags, Message.WANT_A_REPLY | Message.URGENT)
        self.assertTrue(m.is_request() and m.is_urgent())
        self.assertFalse(m.wants_us_to_reply() or m.is_synthetic() or m.is_reply())
        m.set_want_reply(False)
        m.set_urgent(False)
        self.assertEqual(m.flags, 0)
        self.assertTrue(Message('$.A', flags=3).wants_us_to_reply())
        # WANT_YOU_TO_REPLY alone decides, as in the original binding (libkbus wants both)
        self.assertTrue(Message('$.A', flags=2).wants_us_to_reply())
        self.assertFalse(Message('$.A', flags=1).wants_us_to_reply())
        self.assertTrue(Message('$.A', flags=4).is_synthetic())
        self.assertEqual((Message.WANT_A_REPLY, Message.WANT_YOU_TO_REPLY, Message.SYNTHETIC,
                          Message.URGENT, Message.ALL_OR_WAIT, Message.ALL_OR_FAIL),
                         (0x1, 0x2, 0x4, 0x8, 0x100, 0x200))

    def test_construction_forms(self):
        m = Message('$.A', 'x', to=9, id=MessageId(0, 3))
        self.assertEqual(Message(m), m)
        self.assertEqual(Message(m.extract()), m)
        self.assertEqual(Message(list(m.extract())), m)
        self.assertEqual(Message(m.to_bytes()), m)
        self.assertEqual(Message.from_bytes(m.to_bytes()), m)
        self.assertEqual(Message(m, to=0).to, 0)  # overrides anything but None
        self.assertEqual(Message(m, id=None).id, MessageId(0, 3))
        self.assertEqual(Message(m, to=4).to, 4)
        self.assertEqual(m.total_length(), len(m.to_bytes()))
        self.assertEqual(m.total_length(), 56 + 4 + 1)

    def test_bad_construction(self):
        with self.assertRaisesRegex(ValueError, 'does not start'):
            Message('Fred')
        with self.assertRaisesRegex(ValueError, 'minimum is 3'):
            Message('$.')
        with self.assertRaises(ValueError):
            Message(42)
        with self.assertRaises(ValueError):
            Message(b'\0' * 10)
        with self.assertRaises(ValueError):
            Message(Message('$.A').to_bytes(), to=3)
        with self.assertRaises(TypeError):
            Message('$.A', data=3)
        with self.assertRaises(ValueError):
            Message('$.A', to=-1)

    def test_equality(self):
        a = Message('$.A', 'x', flags=1)
        self.assertEqual(a, Request('$.A', 'x'))  # the class does not matter
        self.assertNotEqual(a, Message('$.A', 'y', flags=1))
        self.assertNotEqual(a, '$.A')
        self.assertTrue(a.equivalent(Message('$.A', 'x', id=MessageId(0, 3), from_=4)))
        self.assertFalse(a.equivalent(Message('$.A', 'x', to=4)))

    def test_cast(self):
        self.assertIs(type(Message('$.A').cast()), Announcement)
        self.assertIs(type(Message('$.A', flags=1).cast()), Request)
        self.assertIs(type(Message('$.A', in_reply_to=MessageId(0, 1)).cast()), Reply)
        self.assertIs(type(Message('$.KBUS.X', in_reply_to=MessageId(0, 1)).cast()), Status)


class KindsTest(unittest.TestCase):

    def test_announcement(self):
        a = Announcement('$.A', 'x', to=3, flags=0x10000, id=MessageId(0, 1))
        self.assertEqual(repr(a), "Announcement('$.A', data='x', to=3, flags=0x00010000, "
                                  "id=MessageId(0, 1))")
        copy = Announcement.from_message(Message('$.A', in_reply_to=MessageId(0, 2),
                                                 orig_from=OrigFrom(1, 1)))
        self.assertIsNone(copy.in_reply_to)
        self.assertIsNone(copy.orig_from)
        with self.assertRaises(TypeError):
            a.set_want_reply()
        with self.assertRaises(TypeError):
            Announcement('$.A', in_reply_to=MessageId(0, 1))

    def test_request(self):
        r = Request('$.A', 'x', to=3, final_to=OrigFrom(1, 2))
        self.assertEqual(repr(r), "Request('$.A', data='x', to=3, final_to=OrigFrom(1, 2), "
                                  "flags=0x00000001)")
        self.assertTrue(r.is_request() and r.is_stateful_request())
        self.assertEqual(Request.from_sequence(Message('$.A').extract()).flags, 1)
        with self.assertRaises(TypeError):
            r.set_want_reply()

    def test_reply(self):
        r = Reply('$.A', 'x', to=3, from_=4, orig_from=OrigFrom(1, 2),
                  in_reply_to=MessageId(0, 9))
        self.assertEqual(repr(r), "Reply('$.A', data='x', to=3, from_=4, "
                                  "orig_from=OrigFrom(1, 2), in_reply_to=MessageId(0, 9))")
        with self.assertRaisesRegex(ValueError, 'must specify in_reply_to'):
            Reply('$.A')

    def test_status(self):
        original = Message('$.KBUS.Replier.Unbound', to=1, from_=2,
                           in_reply_to=MessageId(0, 3), orig_from=OrigFrom(5, 5))
        s = Status(original)
        self.assertEqual(repr(s), "Status('$.KBUS.Replier.Unbound', to=1, from_=2, "
                                  "in_reply_to=MessageId(0, 3))")
        self.assertEqual(Status.from_bytes(original.to_bytes()), s)
        with self.assertRaises(ValueError):
            Status('$.KBUS.X')


class HelpersTest(unittest.TestCase):

    def test_reply_to(self):
        req = received('$.Q', 'Were you?', from_=113, flags=3, id=MessageId(0, 342))
        rep = reply_to(req, 'Yes, yes I was')
        self.assertIs(type(rep), Reply)
        self.assertEqual(str(rep), "<Reply '$.Q', to=113, in_reply_to=[0:342], "
                                   "data='Yes, yes I was'>")
        self.assertEqual(reply_to(req, flags=Message.URGENT).flags, Message.URGENT)
        with self.assertRaisesRegex(ValueError, 'Cannot form a reply'):
            reply_to(received('$.Q', flags=1, id=MessageId(0, 1)))

    def test_stateful_request(self):
        rep = received('$.Q', to=113, from_=115, in_reply_to=MessageId(0, 342),
                       orig_from=OrigFrom(19, 23))
        sreq = stateful_request(rep, '$.Actor.CoinToss', 'Head')
        self.assertEqual(str(sreq), "<Request '$.Actor.CoinToss', to=115, final_to=(19,23), "
                                    "flags=0x1 (REQ), data='Head'>")
        again = stateful_request(sreq, '$.Again', 'Aha!')
        self.assertEqual(repr(again), "Request('$.Again', data='Aha!', to=115, "
                                      "final_to=OrigFrom(19, 23), flags=0x00000001)")
        with self.assertRaises(ValueError):
            stateful_request(Message('$.A'), '$.B')


if __name__ == '__main__':
    unittest.main()
