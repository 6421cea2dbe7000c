"""ListStreams, DescribeStream, GetShardIterator and GetRecords: answers, paging and errors."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.services.dynamodbstreams.conftest import error_of, iterator, read_all, server_now, shard_of

NOT_FOUND = "Requested resource not found: Stream: {} not found"


def put(ddb, name, n, **extra):
    for i in range(n):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, **extra})


def keys_of(records) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]


@pytest.fixture
def raw_streams(server):
    """A client that sends what it is given (no client-side parameter validation)."""
    return boto3.client("dynamodbstreams", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 0}, parameter_validation=False))


# ---------------------------------------------------------------- ListStreams

def test_list_streams_by_table_newest_first(ddb, streams, stream_table, make_table):
    name, first = stream_table("KEYS_ONLY")
    arns = [first]
    for view in ("NEW_IMAGE", "OLD_IMAGE"):
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05})
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05})
        arns.append(ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"])
    listed = streams.list_streams(TableName=name)
    assert "LastEvaluatedStreamArn" not in listed
    assert [x["StreamArn"] for x in listed["Streams"]] == arns[::-1]
    assert all(x["TableName"] == name and x["StreamArn"].endswith("/stream/" + x["StreamLabel"])
               for x in listed["Streams"])
    assert [streams.describe_stream(StreamArn=a)["StreamDescription"]["StreamStatus"] for a in arns] == [
        "DISABLED", "DISABLED", "ENABLED"]
    plain = make_table()
    assert streams.list_streams(TableName=plain)["Streams"] == []


def test_list_streams_pages(streams, stream_table):
    mine = sorted(stream_table("KEYS_ONLY")[1] for _ in range(3))
    seen, start, pages = [], None, 0
    while True:
        kw = {"ExclusiveStartStreamArn": start} if start else {}
        page = streams.list_streams(Limit=2, **kw)
        pages += 1
        assert len(page["Streams"]) <= 2
        seen += [x["StreamArn"] for x in page["Streams"]]
        start = page.get("LastEvaluatedStreamArn")
        if start is None:
            break
        assert start == seen[-1]
    assert [a for a in seen if a in mine] == mine  # each once, by table name
    assert len(seen) == len(set(seen)) and pages >= 2
    everything = streams.list_streams()["Streams"]
    assert [x["StreamArn"] for x in everything] == seen[:100]


def test_list_streams_errors(streams, raw_streams):
    with pytest.raises(ClientError) as e:
        streams.list_streams(Limit=101)
    assert error_of(e) == ("ValidationException", "1 validation error detected: Value '101' at 'limit' failed to "
                                                  "satisfy constraint: Member must have value less than or equal to 100")
    with pytest.raises(ClientError) as e:
        raw_streams.list_streams(Limit=0)
    assert error_of(e)[0] == "ValidationException"
    bad = "kossaapaaasdafsdaasdasdasdasasdasfadfadfasdasdas"
    with pytest.raises(ClientError) as e:
        streams.list_streams(ExclusiveStartStreamArn=bad)
    assert error_of(e) == ("ValidationException", f"Invalid StreamArn: {bad}")
    with pytest.raises(ClientError) as e:
        streams.list_streams(TableName="no-such-table-here")
    assert error_of(e) == ("ResourceNotFoundException", "Requested resource not found: Table: no-such-table-here not found")


# ---------------------------------------------------------------- DescribeStream

def test_describe_stream(ddb, streams, stream_table, server):
    before = server_now(server)
    name, arn = stream_table("NEW_IMAGE", range_type="N")
    table = ddb.describe_table(TableName=name)["Table"]
    d = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    label = table["LatestStreamLabel"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", label)
    assert arn == f"{table['TableArn']}/stream/{label}"
    created = d.pop("CreationRequestDateTime")
    assert before <= created.timestamp() <= server_now(server)
    assert datetime.strptime(label, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc) - created < timedelta(seconds=1)
    [shard] = d.pop("Shards")
    assert d == {"StreamArn": arn, "StreamLabel": label, "StreamStatus": "ENABLED", "StreamViewType": "NEW_IMAGE",
                 "TableName": name, "KeySchema": table["KeySchema"]}
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard["ShardId"])
    assert set(shard) == {"ShardId", "SequenceNumberRange"}  # no parent, open (no EndingSequenceNumber)
    assert re.fullmatch(r"\d{21,40}", shard["SequenceNumberRange"]["StartingSequenceNumber"])
    assert list(shard["SequenceNumberRange"]) == ["StartingSequenceNumber"]
    put(ddb, name, 2, sk={"N": "1"})
    first = read_all(streams, arn)[0]["dynamodb"]["SequenceNumber"]
    assert int(first) >= int(shard["SequenceNumberRange"]["StartingSequenceNumber"])


def test_describe_stream_paging_and_filter(streams, stream_table):
    _, arn = stream_table()
    shard = shard_of(streams, arn)
    page = streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"]
    assert page["Shards"] == [shard] and "LastEvaluatedShardId" not in page
    for start in (shard["ShardId"], "zzzzzzzzzzzzzzzzzzzzzzzzsfasdgagadfadfgagkjsdfsfsdjfjks"):
        assert streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=start)["StreamDescription"]["Shards"] == []
    assert streams.describe_stream(StreamArn=arn, ExclusiveStartShardId="shardId-00000000000000000000-00000000"
                                   )["StreamDescription"]["Shards"] == [shard]
    children = streams.describe_stream(StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard["ShardId"]})
    assert children["StreamDescription"]["Shards"] == []


def test_describe_stream_errors(ddb, streams, raw_streams, stream_table):
    name, arn = stream_table()
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn="sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf")
    assert error_of(e) == ("ValidationException", "Invalid StreamArn: sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf")
    with pytest.raises(ClientError) as e:
        raw_streams.describe_stream(StreamArn="arn:aws:dynamodb:us-east-1")
    assert error_of(e)[0] == "ValidationException" and "at 'streamArn'" in error_of(e)[1]
    missing = arn[:-3] + ("000" if not arn.endswith("000") else "001")
    elsewhere = arn.replace(":us-east-1:", ":eu-west-1:")
    for other in (missing, elsewhere, arn.replace(f"table/{name}/", "table/no-such-table/")):
        with pytest.raises(ClientError) as e:
            streams.describe_stream(StreamArn=other)
        assert error_of(e) == ("ResourceNotFoundException", NOT_FOUND.format(other))
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=arn, Limit=101)
    assert error_of(e)[0] == "ValidationException" and "less than or equal to 100" in error_of(e)[1]


# ---------------------------------------------------------------- iterators

def test_iterator_types(ddb, streams, stream_table, server):
    name, arn = stream_table("KEYS_ONLY")
    shard = shard_of(streams, arn)["ShardId"]
    latest_before = iterator(streams, arn, "LATEST")
    put(ddb, name, 4)
    records = read_all(streams, arn)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert keys_of(records) == ["k0", "k1", "k2", "k3"]
    assert keys_of(read_all(streams, arn, latest_before)) == ["k0", "k1", "k2", "k3"]

    def read(kind, **kw):
        return keys_of(read_all(streams, arn, streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **kw)["ShardIterator"]))

    assert read("AT_SEQUENCE_NUMBER", SequenceNumber=seqs[1]) == ["k1", "k2", "k3"]
    assert read("AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[1]) == ["k2", "k3"]
    assert read("AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[3]) == []
    start = shard_of(streams, arn)["SequenceNumberRange"]["StartingSequenceNumber"]
    assert read("AT_SEQUENCE_NUMBER", SequenceNumber=start) == ["k0", "k1", "k2", "k3"]
    now = datetime.fromtimestamp(server_now(server), timezone.utc)
    assert read("AT_TIMESTAMP", Timestamp=now - timedelta(hours=1)) == ["k0", "k1", "k2", "k3"]
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    got = streams.get_records(ShardIterator=latest)
    assert got["Records"] == [] and got["NextShardIterator"]  # an open shard: read on later
    ddb.put_item(TableName=name, Item={"pk": {"S": "later"}})
    assert keys_of(read_all(streams, arn, got["NextShardIterator"])) == ["later"]
    assert read("AT_TIMESTAMP", Timestamp=datetime.fromtimestamp(server_now(server), timezone.utc)) == []
    assert len({iterator(streams, arn) for _ in range(3)}) == 3  # every iterator is a new one


def test_get_shard_iterator_errors(ddb, streams, raw_streams, stream_table, server):
    name, arn = stream_table("KEYS_ONLY")
    shard = shard_of(streams, arn)
    put(ddb, name, 1)
    seq = read_all(streams, arn)[0]["dynamodb"]["SequenceNumber"]

    def refused(code, message=None, client=streams, **kw):
        args = {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "LATEST", **kw}
        with pytest.raises(ClientError) as e:
            client.get_shard_iterator(**args)
        assert error_of(e)[0] == code, error_of(e)
        if message is not None:
            assert error_of(e)[1] == message
        return error_of(e)[1]

    either = ("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and SequenceNumber or "
              "(2) TRIM_HORIZON or LATEST and no SequenceNumber. ")
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        refused("ValidationException", either + f"Request specified {kind} and no SequenceNumber.",
                ShardIteratorType=kind)
    for kind in ("TRIM_HORIZON", "LATEST"):
        refused("ValidationException", either + f"Request specified {kind} and also a SequenceNumber.",
                ShardIteratorType=kind, SequenceNumber=seq)
    refused("ValidationException", "Invalid SequenceNumber: sdfsafglldfngjdafnasdflgnaldklk",
            ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber="sdfsafglldfngjdafnasdflgnaldklk")
    below = str(int(shard["SequenceNumberRange"]["StartingSequenceNumber"]) - 1)
    refused("ValidationException", f"Invalid SequenceNumber: {below} is not in shard {shard['ShardId']}",
            ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=below)
    assert "at 'shardIteratorType'" in refused("ValidationException", client=raw_streams, ShardIteratorType="bulle")
    refused("ValidationException", "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
            "Current request has no timestamp parameter.", ShardIteratorType="AT_TIMESTAMP")
    assert refused("ValidationException", ShardIteratorType="AT_TIMESTAMP",
                   Timestamp=datetime.fromtimestamp(server_now(server) + 3600, timezone.utc)).startswith(
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis.")
    bad = "sdfadsfsdfsdgdfsgsfdabadfbabdadsfsdfsdfsdfsdfsdfsdfdfdssdffbdfdf"
    refused("ValidationException", f"Invalid StreamArn: {bad}", StreamArn=bad)
    refused("ResourceNotFoundException", "Requested resource not found: Shard does not exist",
            ShardId="semprinidfaasdasfsdvacsdcfsdsvsdvsdvsdvsdvsdv")
    missing = arn.replace(f"table/{name}/", "table/no-such-table/")
    refused("ResourceNotFoundException", NOT_FOUND.format(missing), StreamArn=missing)


# ---------------------------------------------------------------- GetRecords

def test_get_records_limit_and_next_iterator(ddb, streams, stream_table):
    name, arn = stream_table("KEYS_ONLY")
    put(ddb, name, 5)
    it, pages = iterator(streams, arn), []
    for _ in range(4):
        got = streams.get_records(ShardIterator=it, Limit=2)
        pages.append(keys_of(got["Records"]))
        it = got["NextShardIterator"]
    assert pages == [["k0", "k1"], ["k2", "k3"], ["k4"], []]
    assert streams.get_records(ShardIterator=it, Limit=1000)["Records"] == []


def test_get_records_errors(streams, raw_streams, stream_table):
    _, arn = stream_table()
    it = iterator(streams, arn)
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=it, Limit=1001)
    assert error_of(e) == ("ValidationException", "1 validation error detected: Value '1001' at 'limit' failed to "
                                                  "satisfy constraint: Member must have value less than or equal to 1000")
    for limit in (0, -1):
        with pytest.raises(ClientError) as e:
            raw_streams.get_records(ShardIterator=it, Limit=limit)
        assert error_of(e)[0] == "ValidationException" and "at 'limit'" in error_of(e)[1]
    prefix, _, opaque = it.rpartition("|")
    forged = prefix + "|" + ("A" if opaque[0] != "A" else "B") + opaque[1:]
    other = it.replace(arn, arn[:-1] + ("1" if arn[-1] != "1" else "2"))
    for bad in ("sdfsdfsgagaddafgagasgasgasdfasdfasdfasdfasdgasdasdgasdg", forged, other, arn + "|1|!!"):
        with pytest.raises(ClientError) as e:
            streams.get_records(ShardIterator=bad)
        assert error_of(e) == ("ValidationException", "Invalid ShardIterator")


def test_get_records_answer_is_at_most_one_megabyte(ddb, streams, stream_table):
    name, arn = stream_table("NEW_IMAGE")
    big = "x" * 300_000
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "v": {"S": big}})
    it = iterator(streams, arn)
    sizes = []
    while True:
        got = streams.get_records(ShardIterator=it)
        if not got["Records"]:
            break
        sizes.append([r["dynamodb"]["SizeBytes"] for r in got["Records"]])
        it = got["NextShardIterator"]
    assert [len(x) for x in sizes] == [3, 2]
    assert all(sum(x) <= 1024 * 1024 for x in sizes)


def test_other_account_sees_no_stream(client_factory, streams, stream_table):
    _, arn = stream_table()
    it = iterator(streams, arn)
    other = client_factory("dynamodbstreams", access_key="111122223333")
    assert arn not in [x["StreamArn"] for x in other.list_streams()["Streams"]]
    with pytest.raises(ClientError) as e:
        other.describe_stream(StreamArn=arn)
    assert error_of(e) == ("ResourceNotFoundException", NOT_FOUND.format(arn))
    with pytest.raises(ClientError) as e:
        other.get_records(ShardIterator=it)
    assert error_of(e) == ("ResourceNotFoundException", NOT_FOUND.format(arn))
