"""AWS CBOR-JSON (``application/x-amz-cbor-1.1``): the JSON protocol's shapes in CBOR.

The AWS SDK for Java (v1 and v2) and the KCL use it for Kinesis by default:
same ``X-Amz-Target`` routing and error ``__type`` as JSON, blobs as CBOR byte
strings, and timestamps as tag 1 holding epoch *milliseconds* (AWS deviates
from RFC 8949 here; aws-sdk-java-v2 issue #4661), in both directions.
"""

from __future__ import annotations

from datetime import datetime, timezone

import cbor2

from cloudlet.protocol.errors import SerializationException, ServiceError
from cloudlet.protocol.serialize_common import compile_output

CONTENT_TYPE = "application/x-amz-cbor-1.1"


def _millis(value, immutable=False):
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    return value


_DECODERS = {1: _millis}


def parse_body(body: bytes) -> dict:
    if not body:
        return {}
    try:
        value = cbor2.loads(body, semantic_decoders=_DECODERS)
    except (cbor2.CBORDecodeError, ValueError, OverflowError):
        raise SerializationException(message="Unable to parse the CBOR request body.") from None
    if not isinstance(value, dict):
        raise SerializationException(message="Start of structure or map found where not expected.")
    return value


def _leaf(type_name: str, value):
    seconds = value.timestamp() if isinstance(value, datetime) else float(value)
    return cbor2.CBORTag(1, int(round(seconds * 1000)))


_cache: dict = {}


def serialize_response(output_shape, result: dict | None) -> bytes:
    """Only timestamps are walked to (tag 1, milliseconds); blobs are ``bytes``
    from handlers and CBOR byte strings as they are."""
    if not result:
        return cbor2.dumps({})
    if output_shape is not None:
        result = compile_output(output_shape, _leaf, _cache, ("timestamp",))(result)
    return cbor2.dumps(result)


def error_body(type_name: str, err: ServiceError) -> bytes:
    body = {"__type": type_name, "message": err.message}
    body.update(err.fields)
    return cbor2.dumps(body)
