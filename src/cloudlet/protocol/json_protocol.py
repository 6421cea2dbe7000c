"""AWS JSON 1.0 / 1.1 (DynamoDB, SQS, Kinesis, DynamoDB Streams).

Request: POST / with ``X-Amz-Target: <targetPrefix>.<Operation>`` and a JSON
body. Blobs travel as base64 strings, timestamps as epoch seconds.
Errors: ``{"__type": "...#Code", "message": "..."}``; for awsQueryCompatible
services (SQS) also the ``x-amzn-query-error: <legacy code>;Sender|Receiver``
header, from which botocore takes the error code.
"""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal

import orjson

from cloudlet.protocol.errors import SerializationException, ServiceError


def parse_body(body: bytes) -> dict:
    if not body:
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise SerializationException(message="Start of structure or map found where not expected.") from None
    if not isinstance(value, dict):
        raise SerializationException(message="Start of structure or map found where not expected.")
    return value


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError


_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def serialize_response(output_shape, result: dict | None) -> bytes:
    """JSON needs no walk over the output shape: the only leaves that differ
    from plain JSON are blobs (``bytes`` -> base64) and timestamps (``datetime``
    -> epoch seconds), and orjson hands exactly those types to ``_default``.
    Handlers give blobs as ``bytes`` and leave absent members out (a ``None``
    would be sent as ``null``, which SDKs read as absent)."""
    if not result:
        return b"{}"
    return orjson.dumps(result, default=_default, option=_OPTIONS)


def error_body(type_name: str, err: ServiceError, extra: dict | None = None) -> bytes:
    body = {"__type": type_name, "message": err.message}
    if err.fields:
        body.update(err.fields)
    return orjson.dumps(body, default=_default, option=_OPTIONS)
