"""A stream's life: disabled, enabled again, its table deleted; records trimmed after
24 hours and iterators expired after 15 minutes (on a server of its own, whose clock
the tests move); all of it across kill -9."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess, make_client
from tests.services.dynamodbstreams.conftest import error_of, events, iterator, read_all, server_now, shard_of

DAY = 24 * 3600


def wait_status(streams, arn, status, timeout=5.0) -> dict:
    deadline = time.time() + timeout
    while True:
        d = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        if d["StreamStatus"] == status:
            return d
        assert time.time() < deadline, d["StreamStatus"]
        time.sleep(0.02)


def wait_active(ddb, name) -> None:
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 100})


def set_stream(ddb, name, view=None) -> dict:
    spec = {"StreamEnabled": True, "StreamViewType": view} if view else {"StreamEnabled": False}
    desc = ddb.update_table(TableName=name, StreamSpecification=spec)["TableDescription"]
    wait_active(ddb, name)
    return desc


def item(pk, **attrs):
    return {"pk": {"S": pk}, **{k: {"S": v} for k, v in attrs.items()}}


def test_disable_closes_the_shard_and_keeps_records(ddb, streams, stream_table):
    name, arn = stream_table("NEW_IMAGE")
    early = iterator(streams, arn)
    for i in range(3):
        ddb.put_item(TableName=name, Item=item(f"k{i}"))
    last = read_all(streams, arn)[-1]["dynamodb"]["SequenceNumber"]
    desc = ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})["TableDescription"]
    assert "StreamSpecification" not in desc and desc["LatestStreamArn"] == arn
    d = wait_status(streams, arn, "DISABLED")
    assert d["Shards"][0]["SequenceNumberRange"]["EndingSequenceNumber"] == last
    ddb.put_item(TableName=name, Item=item("after"))  # no stream: no record
    got = streams.get_records(ShardIterator=early)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in got["Records"]] == ["k0", "k1", "k2"]
    assert "NextShardIterator" not in got  # a closed shard read to its end
    got = streams.get_records(ShardIterator=early, Limit=2)
    assert len(got["Records"]) == 2 and got["NextShardIterator"]
    rest = streams.get_records(ShardIterator=got["NextShardIterator"])
    assert len(rest["Records"]) == 1 and "NextShardIterator" not in rest
    latest = streams.get_records(ShardIterator=iterator(streams, arn, "LATEST"))
    assert latest == {**latest, "Records": []} and "NextShardIterator" not in latest
    assert [x["StreamArn"] for x in streams.list_streams(TableName=name)["Streams"]] == [arn]
    with pytest.raises(ClientError) as e:
        iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=str(int(last) + 1))
    assert error_of(e)[0] == "ValidationException"


def test_an_empty_stream_disabled(ddb, streams, stream_table):
    name, arn = stream_table("KEYS_ONLY")
    set_stream(ddb, name)
    rng = wait_status(streams, arn, "DISABLED")["Shards"][0]["SequenceNumberRange"]
    assert rng["EndingSequenceNumber"] == rng["StartingSequenceNumber"]
    got = streams.get_records(ShardIterator=iterator(streams, arn))
    assert got["Records"] == [] and "NextShardIterator" not in got


def test_enabling_again_makes_a_new_stream(ddb, streams, stream_table):
    name, first = stream_table("KEYS_ONLY")
    ddb.put_item(TableName=name, Item=item("one"))
    with pytest.raises(ClientError) as e:  # the view type of an enabled stream cannot change
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    assert error_of(e) == ("ValidationException", f"Table already has an enabled stream: TableName: {name}")
    set_stream(ddb, name)
    desc = ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True,
                                                                 "StreamViewType": "NEW_IMAGE"})["TableDescription"]
    second = desc["LatestStreamArn"]
    assert second != first and desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert streams.describe_stream(StreamArn=second)["StreamDescription"]["StreamStatus"] in ("ENABLING", "ENABLED")
    wait_active(ddb, name)
    wait_status(streams, second, "ENABLED")
    assert shard_of(streams, second)["ShardId"] != shard_of(streams, first)["ShardId"]
    ddb.put_item(TableName=name, Item=item("two"))
    assert events(read_all(streams, first)) == [("INSERT", item("one"), None, None)]
    assert events(read_all(streams, second)) == [("INSERT", item("two"), None, item("two"))]
    assert [x["StreamArn"] for x in streams.list_streams(TableName=name)["Streams"]] == [second, first]


def test_deleted_table_keeps_its_stream_for_a_day(ddb, streams, stream_table):
    name, arn = stream_table("OLD_IMAGE")
    ddb.put_item(TableName=name, Item=item("a", v="1"))
    ddb.delete_item(TableName=name, Key=item("a"))
    it = iterator(streams, arn)
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 100})
    d = wait_status(streams, arn, "DISABLED")
    assert "EndingSequenceNumber" in d["Shards"][0]["SequenceNumberRange"]
    assert events(read_all(streams, arn, it)) == [("INSERT", item("a"), None, None),
                                                  ("REMOVE", item("a"), item("a", v="1"), None)]
    assert [x["StreamArn"] for x in streams.list_streams(TableName=name)["Streams"]] == [arn]
    again = create(ddb, name, "KEYS_ONLY")
    assert again != arn
    assert [x["StreamArn"] for x in streams.list_streams(TableName=name)["Streams"]] == [again, arn]
    ddb.delete_table(TableName=name)


# ---------------------------------------------------------------- time: a server of our own

def create(ddb, name, view="NEW_AND_OLD_IMAGES") -> str:
    """A table with a stream, ACTIVE; its stream's ARN."""
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    wait_active(ddb, name)
    return ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


@pytest.fixture(scope="module")
def own():
    """(server, dynamodb client, streams client, make(view) -> (name, arn)) on a server of
    this module's own: the tests move its clock by hours and days."""
    srv = ServerProcess().start()
    ddb = make_client("dynamodb", srv.url)
    names = (f"clock-{i}" for i in range(1000))

    def make(view="NEW_AND_OLD_IMAGES"):
        name = next(names)
        return name, create(ddb, name, view)

    try:
        yield srv, ddb, make_client("dynamodbstreams", srv.url), make
    finally:
        srv.stop()


def test_iterators_expire_after_fifteen_minutes(own):
    srv, ddb, streams, make = own
    name, arn = make()
    ddb.put_item(TableName=name, Item=item("a"))
    old = iterator(streams, arn)
    srv.advance_clock(899)
    got = streams.get_records(ShardIterator=old)
    assert len(got["Records"]) == 1
    srv.advance_clock(2)
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=old)
    assert error_of(e) == ("ExpiredIteratorException", "The provided iterator exceeds the maximum age allowed.")
    ddb.put_item(TableName=name, Item=item("b"))  # the next iterator is a new one: it reads on
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, arn, got["NextShardIterator"])] == ["b"]


def test_records_are_trimmed_after_a_day(own):
    srv, ddb, streams, make = own
    name, arn = make("KEYS_ONLY")
    ddb.put_item(TableName=name, Item=item("old"))
    [old] = read_all(streams, arn)
    old_seq = old["dynamodb"]["SequenceNumber"]
    srv.advance_clock(12 * 3600)
    ddb.put_item(TableName=name, Item=item("young"))
    srv.advance_clock(12 * 3600 - 60)
    at_old = iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=old_seq)
    horizon = iterator(streams, arn)
    srv.advance_clock(120)  # "old" is past 24 hours now, "young" is not
    for it in (at_old, horizon):  # obtained before the trim, used after it
        with pytest.raises(ClientError) as e:
            streams.get_records(ShardIterator=it)
        assert error_of(e) == ("TrimmedDataAccessException", "The data you are trying to access has been trimmed")
    with pytest.raises(ClientError) as e:
        iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=old_seq)
    assert error_of(e)[0] == "TrimmedDataAccessException"
    keys = lambda records: [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]  # noqa: E731
    assert keys(read_all(streams, arn)) == ["young"]
    assert keys(read_all(streams, arn, iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=old_seq))) == [
        "young"]
    start = shard_of(streams, arn)["SequenceNumberRange"]["StartingSequenceNumber"]
    with pytest.raises(ClientError) as e:  # the shard's start is before the trim point now
        iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=start)
    assert error_of(e)[0] == "TrimmedDataAccessException"
    # the sweeper deletes trimmed records in the background; reading is the same after it
    time.sleep(0.5)  # the sweeper wakes on the clock advance
    assert keys(read_all(streams, arn)) == ["young"]
    with pytest.raises(ClientError) as e:
        iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=old_seq)
    assert error_of(e)[0] == "TrimmedDataAccessException"
    srv.advance_clock(DAY)  # every record is past a day: LATEST of the idle stream still reads what comes
    latest = iterator(streams, arn, "LATEST")
    assert keys(read_all(streams, arn)) == []
    ddb.put_item(TableName=name, Item=item("new"))
    assert keys(read_all(streams, arn, latest)) == ["new"]


def test_ttl_deletions_carry_the_service_identity(own):
    srv, ddb, streams, make = own
    name, arn = make("NEW_AND_OLD_IMAGES")
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    soon = {"pk": {"S": "soon"}, "exp": {"N": str(int(server_now(srv)) + 3600)}}
    ddb.put_item(TableName=name, Item=soon)
    ddb.put_item(TableName=name, Item={"pk": {"S": "keep"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "keep"}})
    srv.advance_clock(7200)
    deadline = time.time() + 5
    while "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "soon"}}):
        assert time.time() < deadline
        time.sleep(0.05)
    records = read_all(streams, arn)
    assert [(r["eventName"], r.get("userIdentity")) for r in records] == [
        ("INSERT", None), ("INSERT", None), ("REMOVE", None),
        ("REMOVE", {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"})]
    assert records[-1]["dynamodb"]["OldImage"] == soon and "NewImage" not in records[-1]["dynamodb"]


def test_a_disabled_stream_is_gone_after_a_day(own):
    srv, ddb, streams, make = own
    name, arn = make("KEYS_ONLY")
    ddb.put_item(TableName=name, Item=item("a"))
    set_stream(ddb, name)
    srv.advance_clock(DAY - 60)
    assert streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"] == "DISABLED"
    it = iterator(streams, arn, "LATEST")
    srv.advance_clock(120)
    for call in (lambda: streams.describe_stream(StreamArn=arn), lambda: streams.get_records(ShardIterator=it)):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == ("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found")
    assert streams.list_streams(TableName=name)["Streams"] == []


# ---------------------------------------------------------------- durability

def test_streams_survive_kill_9(durable_server):
    from cloudlet.storage import open_store

    srv = durable_server
    ddb = make_client("dynamodb", srv.url)
    streams = make_client("dynamodbstreams", srv.url)
    kept, dropped = create(ddb, "kept", "NEW_IMAGE"), create(ddb, "dropped", "NEW_IMAGE")
    for name in ("kept", "dropped"):
        for i in range(20):
            ddb.put_item(TableName=name, Item=item(f"k{i}", v=name))
    before = read_all(streams, kept)
    ddb.delete_table(TableName="dropped")
    ddb.get_waiter("table_not_exists").wait(TableName="dropped", WaiterConfig={"Delay": 0.05, "MaxAttempts": 100})
    srv.kill()
    srv.start()
    ddb = make_client("dynamodb", srv.url)
    streams = make_client("dynamodbstreams", srv.url)
    assert read_all(streams, kept) == before
    assert streams.describe_stream(StreamArn=dropped)["StreamDescription"]["StreamStatus"] == "DISABLED"
    assert len(read_all(streams, dropped)) == 20
    ddb.put_item(TableName="kept", Item=item("after"))
    after = read_all(streams, kept)
    assert len(after) == 21 and int(after[-1]["dynamodb"]["SequenceNumber"]) > int(before[-1]["dynamodb"]["SequenceNumber"])
    set_stream(ddb, "kept")
    srv.kill()
    srv.start()
    streams = make_client("dynamodbstreams", srv.url)
    assert wait_status(streams, kept, "DISABLED")["Shards"][0]["SequenceNumberRange"]["EndingSequenceNumber"] == \
        after[-1]["dynamodb"]["SequenceNumber"]
    # a day later both streams are gone, and so are their records
    srv.advance_clock(DAY + 1)
    time.sleep(0.5)  # the sweeper wakes on the clock advance
    assert streams.list_streams()["Streams"] == []
    srv.stop()
    store = open_store(srv.data_dir)
    try:
        with store.transaction() as tx:
            left = [k for k, _ in tx.range(prefix=("ddb", "000000000000", "us-east-1", "srec"))]
            left += [k for k, _ in tx.range(prefix=("ddb", "stream"))]
    finally:
        store.close()
    assert left == []


def test_a_stream_enabled_by_an_older_cloudlet_gets_its_stream_record(durable_server):
    """A data dir whose table had its stream enabled before cloudlet kept stream
    records: the stream appears (ENABLED, as labelled) once the table is used."""
    from cloudlet.storage import open_store

    srv = durable_server
    ddb = make_client("dynamodb", srv.url)
    create(ddb, "older", "KEYS_ONLY")
    table = ddb.describe_table(TableName="older")["Table"]
    srv.stop()
    store = open_store(srv.data_dir)
    try:
        with store.transaction() as tx:
            assert tx.delete_range(prefix=("ddb", "stream")) == 1
    finally:
        store.close()
    srv.start()
    ddb = make_client("dynamodb", srv.url)
    streams = make_client("dynamodbstreams", srv.url)
    ddb.put_item(TableName="older", Item=item("a"))
    d = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]
    assert (d["StreamStatus"], d["StreamLabel"]) == ("ENABLED", table["LatestStreamLabel"])
    assert events(read_all(streams, table["LatestStreamArn"])) == [("INSERT", item("a"), None, None)]
