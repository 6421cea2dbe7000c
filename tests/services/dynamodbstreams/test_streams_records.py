"""What each write path appends to a table's stream, for every view type, through boto3."""

from __future__ import annotations

import re
import threading

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.services.dynamodbstreams.conftest import VIEWS, events, iterator, read_all, server_now


def s(**attrs) -> dict:
    return {k: {"S": v} for k, v in attrs.items()}


def size_of(item: dict) -> int:
    """DynamoDB's size of an item of string attributes: names plus values, in UTF-8 bytes."""
    return sum(len(k.encode()) + len(v["S"].encode()) for k, v in item.items())


def test_record_fields(ddb, streams, stream_table, server):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    before = server_now(server)
    ddb.put_item(TableName=name, Item=s(pk="a", v="one"))
    [rec] = read_all(streams, arn)
    assert re.fullmatch(r"[0-9a-f]{32}", rec["eventID"])
    assert {k: rec[k] for k in ("eventName", "eventVersion", "eventSource", "awsRegion")} == {
        "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1"}
    assert "userIdentity" not in rec
    d = rec["dynamodb"]
    assert set(d) == {"ApproximateCreationDateTime", "Keys", "NewImage", "SequenceNumber", "SizeBytes",
                      "StreamViewType"}
    created = d["ApproximateCreationDateTime"]
    assert created.microsecond == 0  # "rounded down to the closest second"
    assert int(before) <= created.timestamp() <= server_now(server)
    assert d["Keys"] == s(pk="a")
    assert d["NewImage"] == s(pk="a", v="one")
    assert re.fullmatch(r"[0-9]{21,40}", d["SequenceNumber"])
    assert d["SizeBytes"] == size_of(s(pk="a")) + size_of(s(pk="a", v="one"))
    assert d["StreamViewType"] == "NEW_AND_OLD_IMAGES"


@pytest.mark.parametrize("view", VIEWS)
def test_view_types(ddb, streams, stream_table, view):
    name, arn = stream_table(view, range_type="S")
    key = s(pk="p", sk="s")
    ddb.put_item(TableName=name, Item={**key, **s(a="1")})
    ddb.put_item(TableName=name, Item={**key, **s(b="2")})
    ddb.update_item(TableName=name, Key=key, UpdateExpression="SET c = :c", ExpressionAttributeValues={":c": {"S": "3"}})
    ddb.delete_item(TableName=name, Key=key)
    items = [None, {**key, **s(a="1")}, {**key, **s(b="2")}, {**key, **s(b="2", c="3")}, None]
    records = read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "MODIFY", "REMOVE"]
    new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    for i, r in enumerate(records):
        d = r["dynamodb"]
        assert d["StreamViewType"] == view
        assert d["Keys"] == key
        want_old, want_new = (items[i] if old else None), (items[i + 1] if new else None)
        assert d.get("OldImage") == want_old
        assert d.get("NewImage") == want_new
        assert d["SizeBytes"] == size_of(key) + sum(size_of(x) for x in (want_old, want_new) if x)


def test_writes_that_change_nothing_leave_no_record(ddb, streams, stream_table):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    item = s(pk="a", v="1")
    ddb.put_item(TableName=name, Item=item)
    ddb.put_item(TableName=name, Item=item)  # the same item again
    ddb.update_item(TableName=name, Key=s(pk="a"), UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"S": "1"}})  # to the value it has
    ddb.delete_item(TableName=name, Key=s(pk="missing"))
    ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": item}},
                                              {"DeleteRequest": {"Key": s(pk="gone")}}]})
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": item}},
                                            {"Delete": {"TableName": name, "Key": s(pk="nothing")}}])
    with pytest.raises(ClientError):  # a failed condition writes nothing
        ddb.put_item(TableName=name, Item=s(pk="a", v="2"), ConditionExpression="attribute_not_exists(pk)")
    assert events(read_all(streams, arn)) == [("INSERT", s(pk="a"), None, item)]


def test_update_item_creates_and_empties_items(ddb, streams, stream_table):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    ddb.update_item(TableName=name, Key=s(pk="k"))  # an item of just its key
    ddb.update_item(TableName=name, Key=s(pk="k"), UpdateExpression="SET x = :x",
                    ExpressionAttributeValues={":x": {"S": "1"}})
    ddb.update_item(TableName=name, Key=s(pk="k"), UpdateExpression="REMOVE x")
    ddb.update_item(TableName=name, Key=s(pk="n"), UpdateExpression="SET y = :y",
                    ExpressionAttributeValues={":y": {"S": "2"}})
    assert events(read_all(streams, arn)) == [
        ("INSERT", s(pk="k"), None, s(pk="k")),
        ("MODIFY", s(pk="k"), s(pk="k"), s(pk="k", x="1")),
        ("MODIFY", s(pk="k"), s(pk="k", x="1"), s(pk="k")),
        ("INSERT", s(pk="n"), None, s(pk="n", y="2")),
    ]


def test_batch_write_item(ddb, streams, stream_table, make_table):
    a, arn_a = stream_table("KEYS_ONLY")
    b, arn_b = stream_table("NEW_IMAGE")
    plain = make_table(range_type=None)
    ddb.put_item(TableName=a, Item=s(pk="old"))
    ddb.batch_write_item(RequestItems={
        a: [{"PutRequest": {"Item": s(pk=f"a{i}")}} for i in range(3)] + [{"DeleteRequest": {"Key": s(pk="old")}}],
        b: [{"PutRequest": {"Item": s(pk="b", v="1")}}],
        plain: [{"PutRequest": {"Item": s(pk="p")}}],
    })
    assert events(read_all(streams, arn_a)) == [("INSERT", s(pk="old"), None, None)] + [
        ("INSERT", s(pk=f"a{i}"), None, None) for i in range(3)] + [("REMOVE", s(pk="old"), None, None)]
    assert events(read_all(streams, arn_b)) == [("INSERT", s(pk="b"), None, s(pk="b", v="1"))]


def test_transact_write_items(ddb, streams, stream_table):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=name, Item=s(pk="u", v="0"))
    ddb.put_item(TableName=name, Item=s(pk="d"))
    ddb.put_item(TableName=name, Item=s(pk="c"))
    latest = iterator(streams, arn, "LATEST")
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": s(pk="p", v="1")}},
        {"Update": {"TableName": name, "Key": s(pk="u"), "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "1"}}}},
        {"Delete": {"TableName": name, "Key": s(pk="d")}},
        {"ConditionCheck": {"TableName": name, "Key": s(pk="c"), "ConditionExpression": "attribute_exists(pk)"}},
    ])
    with pytest.raises(ClientError) as e:  # cancelled: none of its writes reach the stream
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": s(pk="q")}},
            {"ConditionCheck": {"TableName": name, "Key": s(pk="c"), "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert events(read_all(streams, arn, latest)) == [
        ("INSERT", s(pk="p"), None, s(pk="p", v="1")),
        ("MODIFY", s(pk="u"), s(pk="u", v="0"), s(pk="u", v="1")),
        ("REMOVE", s(pk="d"), s(pk="d"), None),
    ]


def test_binary_and_set_values(ddb, streams, stream_table):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    item = {"pk": {"S": "b"}, "bin": {"B": b"\x00\x01"}, "bs": {"BS": [b"x", b"y"]}, "ns": {"NS": ["1", "2"]},
            "m": {"M": {"l": {"L": [{"BOOL": True}, {"NULL": True}]}}}}
    ddb.put_item(TableName=name, Item=item)
    ddb.delete_item(TableName=name, Key=s(pk="b"))
    records = read_all(streams, arn)
    assert records[0]["dynamodb"]["NewImage"] == item
    assert records[1]["dynamodb"]["OldImage"] == item


def test_writes_to_tables_without_a_stream_leave_none(ddb, streams, make_table):
    name = make_table(range_type=None)
    ddb.put_item(TableName=name, Item=s(pk="a"))
    assert streams.list_streams(TableName=name)["Streams"] == []


def test_concurrent_writers(ddb, streams, stream_table, server):
    """Several clients writing one table at once: every change has one record, in
    shard order with strictly increasing sequence numbers, each item's in its order."""
    name, arn = stream_table("NEW_IMAGE")
    threads, per_thread = 6, 40
    errors = []

    def writer(t):
        try:
            client = make_client("dynamodb", server.url)
            for i in range(per_thread):
                client.put_item(TableName=name, Item={"pk": {"S": f"k{t}"}, "n": {"N": str(i)}})
                if i % 10 == 0:
                    client.batch_write_item(RequestItems={name: [
                        {"PutRequest": {"Item": {"pk": {"S": f"b{t}-{i}-{j}"}}}} for j in range(5)]})
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)

    pool = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert not errors
    records = read_all(streams, arn, limit=97)
    assert len(records) == threads * (per_thread + 4 * 5)
    assert len({r["eventID"] for r in records}) == len(records)
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert all(a < b for a, b in zip(seqs, seqs[1:]))
    for t in range(threads):
        mine = [int(r["dynamodb"]["NewImage"]["n"]["N"]) for r in records if r["dynamodb"]["Keys"]["pk"]["S"] == f"k{t}"]
        assert mine == list(range(per_thread))
