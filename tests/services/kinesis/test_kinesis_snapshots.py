"""Answers LocalStack recorded from AWS (tests/aws/services/kinesis/test_kinesis.py and
resources/test_kinesis.py with their snapshot files; the CBOR flows from the localemu/localemu
fork of test_kinesis.py, marked AWS-validated there), compared field by field. cloudlet already
answered each of these as AWS did; the tests pin the parts no other test pins."""

from __future__ import annotations

import datetime
import http.client
from urllib.parse import urlparse

import cbor2

from tests.services.kinesis.conftest import make_stream, wait_consumer

S0 = "shardId-000000000000"
FULL_RANGE = {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)}


def test_describe_stream_has_exactly_the_fields_aws_recorded(kinesis):
    # resources/test_kinesis.py::test_default_parameters_kinesis and ::test_stream_creation
    # (recorded 11-04-2025): a one-shard provisioned stream without encryption has no KeyId, an
    # EnhancedMonitoring entry with an empty metric list, and shards without parents or an end
    d = make_stream(kinesis, "described")
    assert set(d) == {"EncryptionType", "EnhancedMonitoring", "HasMoreShards", "RetentionPeriodHours", "Shards",
                      "StreamARN", "StreamCreationTimestamp", "StreamModeDetails", "StreamName", "StreamStatus"}
    assert (d["EncryptionType"], d["EnhancedMonitoring"], d["HasMoreShards"], d["RetentionPeriodHours"],
            d["StreamModeDetails"], d["StreamStatus"]) == (
        "NONE", [{"ShardLevelMetrics": []}], False, 24, {"StreamMode": "PROVISIONED"}, "ACTIVE")
    (shard,) = d["Shards"]
    assert set(shard) == {"ShardId", "HashKeyRange", "SequenceNumberRange"}
    assert shard["HashKeyRange"] == FULL_RANGE and set(shard["SequenceNumberRange"]) == {"StartingSequenceNumber"}


def test_the_shards_starting_sequence_number_reads_records_put_later(kinesis):
    # test_kinesis.py::test_record_lifecycle_data_integrity and
    # ::test_subscribe_to_shard_with_sequence_number_as_iterator (recorded 2022): an
    # AT_SEQUENCE_NUMBER position at the shard's StartingSequenceNumber, taken before anything
    # was put, reads what is put afterwards; records of an unencrypted stream carry exactly
    # SequenceNumber, ApproximateArrivalTimestamp, Data and PartitionKey
    shard = make_stream(kinesis, "lifecycle")["Shards"][0]
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    arn = kinesis.describe_stream_summary(StreamName="lifecycle")["StreamDescriptionSummary"]["StreamARN"]
    carn = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c1")["Consumer"]["ConsumerARN"]
    wait_consumer(kinesis, carn)
    it = kinesis.get_shard_iterator(StreamName="lifecycle", ShardId=S0, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                    StartingSequenceNumber=start)["ShardIterator"]
    sub = kinesis.subscribe_to_shard(ConsumerARN=carn, ShardId=S0,
                                     StartingPosition={"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": start})
    data = [b"", b"a" * 1000, b"test", "ünicödé 统一码 💣💻🔥".encode()]
    for d in data:
        kinesis.put_record(StreamName="lifecycle", Data=d, PartitionKey="1")
    records = kinesis.get_records(ShardIterator=it)["Records"]
    pushed = []
    for event in sub["EventStream"]:
        pushed += event["SubscribeToShardEvent"]["Records"]
        if len(pushed) >= len(data):
            break
    sub["EventStream"].close()
    for got in (records, pushed):
        assert [r["Data"] for r in got] == data
        assert all(set(r) == {"SequenceNumber", "ApproximateArrivalTimestamp", "Data", "PartitionKey"} for r in got)
        assert {r["PartitionKey"] for r in got} == {"1"}


def _cbor(server, account: str, operation: str, payload: dict) -> tuple[int, dict]:
    url = urlparse(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("POST", "/", body=cbor2.dumps(payload), headers={
        "X-Amz-Target": f"Kinesis_20131202.{operation}", "Content-Type": "application/x-amz-cbor-1.1",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={account}/20240101/us-east-1/kinesis/aws4_request, "
                         "SignedHeaders=host, Signature=abc"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    # AWS's CBOR timestamps are tag 1 holding epoch milliseconds (aws/aws-sdk-java-v2#4661)
    return resp.status, cbor2.loads(body, semantic_decoders={1: lambda value, immutable=False: ("ms", value)})


def test_cbor_requests_answer_as_aws_recorded(kinesis, account, server):
    # localemu test_kinesis.py, AWS-validated: ::test_subscribe_to_shard_with_at_timestamp_cbor
    # (DescribeStream's StreamCreationTimestamp is no float; GetShardIterator takes a CBOR
    # timestamp), ::test_cbor_blob_handling (PutRecord's Data as a byte string),
    # ::test_get_records (the CBOR record equals the JSON one, arrival time to the millisecond)
    # and ::test_cbor_exceptions (400, the error as a CBOR map with __type)
    make_stream(kinesis, "cbor")
    arn = kinesis.describe_stream_summary(StreamName="cbor")["StreamDescriptionSummary"]["StreamARN"]
    status, desc = _cbor(server, account, "DescribeStream", {"StreamARN": arn})
    unit, millis = desc["StreamDescription"]["StreamCreationTimestamp"]
    assert status == 200 and unit == "ms" and isinstance(millis, int)
    now_ms = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    status, it = _cbor(server, account, "GetShardIterator", {
        "StreamARN": arn, "ShardId": S0, "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": cbor2.CBORTag(1, now_ms)})
    assert status == 200 and "ShardIterator" in it
    status, put = _cbor(server, account, "PutRecord", {"StreamName": "cbor", "Data": b"hello \x00world", "PartitionKey": "k"})
    assert status == 200 and put["ShardId"] == S0
    it = kinesis.get_shard_iterator(StreamName="cbor", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    (as_json,) = kinesis.get_records(ShardIterator=it)["Records"]
    status, got = _cbor(server, account, "GetRecords", {"ShardIterator": it})
    (as_cbor,) = got["Records"]
    assert status == 200 and as_cbor["Data"] == as_json["Data"] == b"hello \x00world"
    assert (as_cbor["SequenceNumber"], as_cbor["PartitionKey"]) == (as_json["SequenceNumber"], "k")
    assert as_cbor["ApproximateArrivalTimestamp"] == (
        "ms", round(as_json["ApproximateArrivalTimestamp"].timestamp() * 1000))
    status, err = _cbor(server, account, "DescribeStream", {"StreamARN": arn.replace("/cbor", "/wrong-stream-name")})
    assert status == 400 and err == {"__type": "ResourceNotFoundException",
                                     "message": f"Stream wrong-stream-name under account {account} not found."}
