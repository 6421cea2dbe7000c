"""CBOR-JSON (Kinesis from the Java SDK): byte strings for blobs, tag 1 epoch milliseconds."""

from __future__ import annotations

from datetime import datetime, timezone

import cbor2

from cloudlet.protocol import cbor_protocol
from cloudlet.protocol.model import service_model
from cloudlet.protocol.validate import validate


def test_request_timestamp_is_milliseconds_as_the_java_sdk_sends():
    # captured shape of a Java SDK v2 GetShardIterator AT_TIMESTAMP body: tag(1) + epoch millis
    body = cbor2.dumps({"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
                        "Timestamp": cbor2.CBORTag(1, 1787036486712)})
    parsed = cbor_protocol.parse_body(body)
    shape = service_model("kinesis").operation_model("GetShardIterator").input_shape
    req, errors = validate(shape, parsed)
    assert errors == []
    assert req["Timestamp"] == datetime(2026, 8, 18, 7, 1, 26, 712000, tzinfo=timezone.utc)


def test_request_blob_is_a_byte_string():
    body = cbor2.dumps({"StreamName": "s", "PartitionKey": "p", "Data": b"\x00\x01binary"})
    shape = service_model("kinesis").operation_model("PutRecord").input_shape
    req, errors = validate(shape, cbor_protocol.parse_body(body))
    assert errors == [] and req["Data"] == b"\x00\x01binary"


def test_response_timestamps_and_blobs():
    shape = service_model("kinesis").operation_model("GetRecords").output_shape
    arrival = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    out = cbor_protocol.serialize_response(shape, {"Records": [
        {"SequenceNumber": "1", "ApproximateArrivalTimestamp": arrival, "Data": b"hi", "PartitionKey": "p"}],
        "MillisBehindLatest": 0})
    raw = cbor2.loads(out, tag_hook=None, semantic_decoders={1: lambda v, immutable=False: ("ms", v)})
    record = raw["Records"][0]
    assert record["ApproximateArrivalTimestamp"] == ("ms", 1704164645678)
    assert record["Data"] == b"hi"


def test_malformed_body_is_serialization_exception():
    import pytest

    from cloudlet.protocol.errors import SerializationException

    with pytest.raises(SerializationException):
        cbor_protocol.parse_body(b"\xff\xfe garbage")
