"""protocol/eventstream.py against botocore's decoder (a second implementation)."""

from __future__ import annotations

import uuid
from binascii import crc32
from datetime import datetime, timezone

import pytest
from botocore.eventstream import EventStreamBuffer

from cloudlet.protocol.eventstream import Timestamp, encode_message, event, exception


def decode(data: bytes):
    buf = EventStreamBuffer()
    buf.add_data(data)
    return list(buf)


def test_every_header_type_round_trips():
    u = uuid.uuid4()
    headers = [
        ("t", True), ("f", False), ("byte", -5), ("short", 3000), ("int", -70000), ("long", 1 << 40),
        ("bytes", b"\x00\x01"), ("str", "héllo"), ("ts", Timestamp(1700000000123)), ("uuid", u),
    ]
    (msg,) = decode(encode_message(headers, b"payload"))
    assert msg.payload == b"payload"
    h = msg.headers
    assert h["t"] is True and h["f"] is False
    assert (h["byte"], h["short"], h["int"], h["long"]) == (-5, 3000, -70000, 1 << 40)
    assert h["bytes"] == b"\x00\x01" and h["str"] == "héllo"
    assert h["ts"] == 1700000000123
    assert h["uuid"] == u.bytes


def test_datetime_header_is_epoch_millis():
    when = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    (msg,) = decode(encode_message({"when": when}))
    assert msg.headers["when"] == int(when.timestamp() * 1000)


def test_several_messages_split_anywhere():
    data = event("initial-response", b"{}") + event("SubscribeToShardEvent", b'{"Records":[]}') + \
        exception("ResourceInUseException", b'{"message":"x"}')
    buf = EventStreamBuffer()
    got = []
    for i in range(0, len(data), 7):  # arbitrary chunking, as a socket delivers it
        buf.add_data(data[i:i + 7])
        got.extend(buf)
    assert [m.headers.get(":event-type") or m.headers.get(":exception-type") for m in got] == \
        ["initial-response", "SubscribeToShardEvent", "ResourceInUseException"]
    assert got[2].to_response_dict()["status_code"] == 400
    assert got[1].headers[":message-type"] == "event"


def test_crcs_are_checked_by_the_decoder():
    good = event("x", b"abc")
    assert crc32(good[:8]).to_bytes(4, "big") == good[8:12]
    bad = good[:-1] + bytes([good[-1] ^ 1])
    with pytest.raises(Exception):
        decode(bad)


def test_empty_message_and_limits():
    (msg,) = decode(encode_message({}))
    assert msg.payload == b"" and msg.headers == {}
    with pytest.raises(ValueError):
        encode_message({"x" * 256: "v"})
    with pytest.raises(TypeError):
        encode_message({"x": 1.5})
