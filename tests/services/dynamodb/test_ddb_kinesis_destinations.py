"""Kinesis Data Streams for DynamoDB through boto3: a table streaming to a Kinesis stream
of the same server puts one JSON record there per item change."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.services.dynamodb.conftest import error_of


@pytest.fixture
def kinesis(client_factory):
    return client_factory("kinesis")


def _stream(kinesis, shards=2) -> str:
    name = f"cdc-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def _records(kinesis, arn) -> list[tuple[str, dict]]:
    """(shard id, decoded record) of every record in the stream, shard by shard."""
    out = []
    for shard in kinesis.list_shards(StreamARN=arn)["Shards"]:
        it = kinesis.get_shard_iterator(StreamARN=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for r in kinesis.get_records(ShardIterator=it)["Records"]:
            out.append((shard["ShardId"], json.loads(r["Data"])))
    return out


def _by_time(records):
    return sorted((r for _, r in records), key=lambda r: r["dynamodb"]["ApproximateCreationDateTime"])


def test_item_changes_reach_the_stream(ddb, kinesis, make_table):
    arn = _stream(kinesis)
    name = make_table()
    got = ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=arn)
    assert (got["TableName"], got["StreamArn"], got["DestinationStatus"]) == (name, arn, "ENABLING")
    assert got["EnableKinesisStreamingConfiguration"] == {}  # AWS echoes an empty configuration
    desc = ddb.describe_kinesis_streaming_destination(TableName=name)
    assert desc["TableName"] == name
    # no precision was set: AWS lists none (the records are in milliseconds)
    assert desc["KinesisDataStreamDestinations"] == [{"StreamArn": arn, "DestinationStatus": "ACTIVE"}]

    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=name, Item={**key, "v": {"N": "1"}})
    ddb.update_item(TableName=name, Key=key, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "2"}})
    with pytest.raises(ClientError):  # a failed condition writes nothing, and sends nothing
        ddb.put_item(TableName=name, Item=key, ConditionExpression="attribute_not_exists(pk)")
    ddb.put_item(TableName=name, Item={**key, "v": {"N": "2"}})  # no change: no record
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}}])
    ddb.delete_item(TableName=name, Key=key)

    records = _records(kinesis, arn)
    assert len(records) == 4
    # one item's changes stay on one shard, in order
    shards_of_a = {shard for shard, r in records if r["dynamodb"]["Keys"]["pk"] == {"S": "a"}}
    assert len(shards_of_a) == 1
    of_a = [r for _, r in records if r["dynamodb"]["Keys"]["pk"] == {"S": "a"}]
    assert [r["eventName"] for r in of_a] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = of_a
    assert insert["dynamodb"]["NewImage"] == {**key, "v": {"N": "1"}} and "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["v"] == {"N": "1"} and modify["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert remove["dynamodb"]["OldImage"]["v"] == {"N": "2"} and "NewImage" not in remove["dynamodb"]
    for r in of_a:
        assert r["tableName"] == name and r["eventSource"] == "aws:dynamodb"
        assert r["recordFormat"] == "application/json" and r["awsRegion"] == "us-east-1"
        assert r["userIdentity"] is None and len(r["eventID"]) == 36  # a UUID, see test_ddb_snapshots.py
        assert r["dynamodb"]["Keys"] == key and r["dynamodb"]["SizeBytes"] > 0
        assert r["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MILLISECOND"
        assert 10 ** 12 < r["dynamodb"]["ApproximateCreationDateTime"] < 10 ** 13  # ms


def test_precision_update_and_disable(ddb, kinesis, make_table):
    arn = _stream(kinesis, shards=1)
    name = make_table()
    ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=arn,
                                             EnableKinesisStreamingConfiguration={
                                                 "ApproximateCreationDateTimePrecision": "MILLISECOND"})
    got = ddb.update_kinesis_streaming_destination(
        TableName=name, StreamArn=arn,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"})
    assert got["DestinationStatus"] == "UPDATING"
    assert got["UpdateKinesisStreamingConfiguration"] == {"ApproximateCreationDateTimePrecision": "MICROSECOND"}
    ddb.put_item(TableName=name, Item={"pk": {"S": "m"}, "sk": {"S": "1"}})
    (record,) = [r for _, r in _records(kinesis, arn)]
    assert record["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
    assert 10 ** 15 < record["dynamodb"]["ApproximateCreationDateTime"] < 10 ** 16  # us

    off = ddb.disable_kinesis_streaming_destination(TableName=name, StreamArn=arn)
    assert off["DestinationStatus"] == "DISABLING"
    ddb.put_item(TableName=name, Item={"pk": {"S": "n"}, "sk": {"S": "1"}})
    assert len(_records(kinesis, arn)) == 1
    assert ddb.describe_kinesis_streaming_destination(TableName=name)["KinesisDataStreamDestinations"][0][
        "DestinationStatus"] == "DISABLED"
    # and on again
    ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=arn)
    ddb.put_item(TableName=name, Item={"pk": {"S": "o"}, "sk": {"S": "1"}})
    assert len(_records(kinesis, arn)) == 2


def test_ttl_deletions_carry_the_service_identity(ddb, kinesis, make_table, server):
    arn = _stream(kinesis, shards=1)
    name = make_table()
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=arn)
    soon = int(json.loads(server.post("/_cloudlet/clock", b'{"advance": 0}'))["now"]) + 60
    ddb.put_item(TableName=name, Item={"pk": {"S": "t"}, "sk": {"S": "1"}, "exp": {"N": str(soon)}})
    server.advance_clock(120)
    deadline = time.time() + 5
    while "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "t"}, "sk": {"S": "1"}}):
        assert time.time() < deadline
        time.sleep(0.05)
    records = [r for _, r in _records(kinesis, arn)]
    assert [(r["eventName"], r["userIdentity"]) for r in records] == [
        ("INSERT", None), ("REMOVE", {"type": "Service", "principalId": "dynamodb.amazonaws.com"})]


def _code(call, **kw) -> str:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return error_of(e)[0]


def _refused(call, **kw) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return error_of(e)


# AWS's texts, observed live (ack-api-quirks dynamodb findings DDB-TABLE-268/299/442)
STATE = "Table is not in a valid state to enable Kinesis Streaming Destination: "
ENABLE_REFUSED = STATE + ("EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform "
                          "ENABLE operation.")
DISABLE_REFUSED = STATE + "KinesisStreamingDestination must be ACTIVE to perform DISABLE operation."


def test_refusals_change_nothing(ddb, ddb_raw, kinesis, make_table):
    arn = _stream(kinesis, shards=1)
    name = make_table()
    missing = "t-missing-" + uuid.uuid4().hex[:6]
    with pytest.raises(ClientError) as e:
        ddb.enable_kinesis_streaming_destination(TableName=missing, StreamArn=arn)
    assert error_of(e) == ("ResourceNotFoundException", f"Requested resource not found: Table: {missing} not found")
    assert _code(ddb.describe_kinesis_streaming_destination, TableName=missing) == "ResourceNotFoundException"
    enable = ddb.enable_kinesis_streaming_destination
    not_kinesis = "arn:aws:sqs:us-east-1:000000000000:q" + "x" * 20
    assert _code(enable, TableName=name, StreamArn=not_kinesis) == "ValidationException"
    # the model's 37-character minimum
    assert _code(ddb_raw.enable_kinesis_streaming_destination, TableName=name, StreamArn="short") == "ValidationException"
    assert _refused(ddb.disable_kinesis_streaming_destination, TableName=name, StreamArn=arn) == (
        "ValidationException", DISABLE_REFUSED)
    micro = {"ApproximateCreationDateTimePrecision": "MICROSECOND"}
    update = ddb.update_kinesis_streaming_destination
    assert _refused(update, TableName=name, StreamArn=arn, UpdateKinesisStreamingConfiguration=micro) == (
        "ValidationException", STATE + "Kinesis streaming is not in ACTIVE state. Updates are only allowed in "
        f"ACTIVE state. TableName: {name}, kdsArn: {arn}")
    assert ddb.describe_kinesis_streaming_destination(TableName=name)["KinesisDataStreamDestinations"] == []

    enable(TableName=name, StreamArn=arn)
    assert _refused(enable, TableName=name, StreamArn=arn) == ("ValidationException", ENABLE_REFUSED)
    same = {"ApproximateCreationDateTimePrecision": "MILLISECOND"}
    table_id = ddb.describe_table(TableName=name)["Table"]["TableId"]
    assert _refused(update, TableName=name, StreamArn=arn, UpdateKinesisStreamingConfiguration=same) == (
        "ValidationException", "Invalid Request: Precision is already set to the desired value of MILLISECOND "
        f"for tableId: {table_id}, kdsArn: {arn}")
    assert _refused(ddb_raw.update_kinesis_streaming_destination, TableName=name, StreamArn=arn) == (
        "ValidationException", "Streaming destination cannot be updated with given parameters: "
        "UpdateKinesisStreamingConfiguration cannot be null or contain only null values")
    bad = {"ApproximateCreationDateTimePrecision": "NANOSECOND"}
    assert _code(ddb_raw.update_kinesis_streaming_destination, TableName=name, StreamArn=arn,
                 UpdateKinesisStreamingConfiguration=bad) == "ValidationException"
    assert ddb.describe_kinesis_streaming_destination(TableName=name)["KinesisDataStreamDestinations"] == [
        {"StreamArn": arn, "DestinationStatus": "ACTIVE"}]


def test_one_live_destination_per_table_and_missing_streams_fail(ddb, kinesis, make_table):
    """AWS (DDB-TABLE-268/299): a table has at most one destination that is not DISABLED or
    ENABLE_FAILED; an Enable of a stream that does not exist is accepted and the entry turns
    ENABLE_FAILED; entries are listed newest first."""
    first, second = _stream(kinesis, shards=1), _stream(kinesis, shards=1)
    name = make_table()
    ghost = first.rsplit("/", 1)[0] + "/ghost-stream"
    assert ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=ghost)["DestinationStatus"] == "ENABLING"
    failed = {"StreamArn": ghost, "DestinationStatus": "ENABLE_FAILED",
              "DestinationStatusDescription": "User does not have a permission to use kinesis stream"}
    assert ddb.describe_kinesis_streaming_destination(TableName=name)["KinesisDataStreamDestinations"] == [failed]
    ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=first)
    assert _refused(ddb.enable_kinesis_streaming_destination, TableName=name, StreamArn=second) == (
        "ValidationException", ENABLE_REFUSED)
    assert ddb.describe_kinesis_streaming_destination(TableName=name)["KinesisDataStreamDestinations"] == [
        {"StreamArn": first, "DestinationStatus": "ACTIVE"}, failed]
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
    assert len(_records(kinesis, first)) == 1 and _records(kinesis, second) == []
    ddb.disable_kinesis_streaming_destination(TableName=name, StreamArn=first)
    ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=second)
    assert [d["StreamArn"] for d in ddb.describe_kinesis_streaming_destination(TableName=name)[
        "KinesisDataStreamDestinations"]] == [second, first, ghost]
