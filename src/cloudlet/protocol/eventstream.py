"""The AWS event-stream binary framing (``application/vnd.amazon.eventstream``).

One message on the wire:

    prelude  total length (uint32 BE) | headers length (uint32 BE) | CRC32 of those 8 bytes
    headers  repeated: name length (uint8) | name (UTF-8) | type (uint8) | value
    payload  bytes
    trailer  CRC32 of everything before it (prelude and its CRC included)

Header value types (the numbering of the specification and of botocore's decoder):
0 true, 1 false (no value bytes), 2 byte, 3 short, 4 integer, 5 long (signed, big-endian),
6 byte array and 7 string (uint16 length + bytes), 8 timestamp (int64 epoch milliseconds),
9 UUID (16 bytes).

This module only encodes; which headers a service sends (``:message-type``,
``:event-type``, ``:exception-type``, ``:content-type``) is the service's business.
The decoder it must agree with is botocore's ``botocore.eventstream``.
"""

from __future__ import annotations

import struct
import uuid
from binascii import crc32
from datetime import datetime

__all__ = ["encode_message", "event", "exception", "Timestamp"]

# The limits botocore's decoder enforces (it rejects bigger messages).
MAX_HEADERS_LENGTH = 128 * 1024
MAX_PAYLOAD_LENGTH = 16 * 1024 * 1024  # botocore: 16 MiB payload
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


class Timestamp(int):
    """A header value to be sent as type 8: epoch milliseconds."""


def _header(name: str, value) -> bytes:
    raw_name = name.encode("utf-8")
    if len(raw_name) > 255:
        raise ValueError(f"event-stream header name too long: {name!r}")
    head = bytes((len(raw_name),)) + raw_name
    if value is True:
        return head + b"\x00"
    if value is False:
        return head + b"\x01"
    if isinstance(value, Timestamp):
        return head + b"\x08" + struct.pack(">q", value)
    if isinstance(value, datetime):
        return head + b"\x08" + struct.pack(">q", int(value.timestamp() * 1000))
    if isinstance(value, uuid.UUID):
        return head + b"\x09" + value.bytes
    if isinstance(value, int):
        # the smallest type that holds the value, as the reference encoders do
        if -(1 << 7) <= value < (1 << 7):
            return head + b"\x02" + struct.pack(">b", value)
        if -(1 << 15) <= value < (1 << 15):
            return head + b"\x03" + struct.pack(">h", value)
        if -(1 << 31) <= value < (1 << 31):
            return head + b"\x04" + struct.pack(">i", value)
        return head + b"\x05" + struct.pack(">q", value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        kind = b"\x06"
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        kind = b"\x07"
    else:
        raise TypeError(f"unsupported event-stream header value for {name!r}: {type(value).__name__}")
    if len(raw) > 0xFFFF:
        raise ValueError(f"event-stream header {name!r} value too long")
    return head + kind + struct.pack(">H", len(raw)) + raw


def encode_message(headers: dict | list[tuple[str, object]], payload: bytes = b"") -> bytes:
    """One framed message. ``headers`` keep their order (a dict or (name, value) pairs)."""
    items = headers.items() if isinstance(headers, dict) else headers
    raw_headers = b"".join(_header(name, value) for name, value in items)
    if len(raw_headers) > MAX_HEADERS_LENGTH:
        raise ValueError("event-stream headers exceed 128 KiB")
    if len(payload) > MAX_PAYLOAD_LENGTH:
        raise ValueError("event-stream payload exceeds 16 MiB")
    total = _PRELUDE.size + _CRC.size + len(raw_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(raw_headers))
    prelude += _CRC.pack(crc32(prelude))
    message = prelude + raw_headers + payload
    return message + _CRC.pack(crc32(message))


def event(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """A ``:message-type: event`` message (an ``initial-response`` or a modeled event)."""
    return encode_message(
        [(":event-type", event_type), (":content-type", content_type), (":message-type", "event")],
        payload,
    )


def exception(exception_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """A modeled error inside the stream (``:message-type: exception``)."""
    return encode_message(
        [(":exception-type", exception_type), (":content-type", content_type), (":message-type", "exception")],
        payload,
    )
