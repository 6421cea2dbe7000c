"""Items come back exactly as they were written, whichever way they are read.

Items without binary values are stored as JSON and copied into whole-item answers
(GetItem, Query/Scan pages without filter or projection) as they are; items with
binary values are stored pickled. Both must give the same answers on every read
path, and across a restart."""

from __future__ import annotations

import pytest

from .conftest import hash_range

# Every type, nesting, and strings that JSON must escape (quotes, backslashes,
# control characters, non-ASCII, astral code points) or that look like JSON.
PLAIN = {
    "s": {"S": 'quote " backslash \\ tab \t newline \n nul \x00 é 漢 😀 {"B":"x"}'},
    "n": {"N": "-12500"},
    "big": {"N": "12345678901234567890123456789012345678"},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "ss": {"SS": ["a", "b\"", "😀"]},
    "ns": {"NS": ["1", "2.5", "-3"]},
    "m": {"M": {"B": {"S": "a map key named B"}, "BS": {"L": [{"N": "1"}, {"M": {}}]}, "": {"S": "empty key"}}},
    "l": {"L": [{"S": ""}, {"L": []}, {"M": {"x": {"NULL": True}}}]},
}
BINARY = {
    "b": {"B": b"\x00\xffbytes"},
    "bs": {"BS": [b"\x01", b"\x02\x03"]},
    "nested": {"M": {"deep": {"L": [{"B": b"in a list"}, {"M": {"B": {"B": b"key named B"}}}]}}},
}


def _expected(ddb, table, pk, sk):
    return {"pk": {"S": pk}, "sk": {"S": sk}, **(PLAIN if sk == "plain" else {**PLAIN, **BINARY})}


@pytest.fixture
def table(ddb, make_table):
    name = make_table(
        GlobalSecondaryIndexes=[
            {"IndexName": "all", "KeySchema": [{"AttributeName": "sk", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "keys", "KeySchema": [{"AttributeName": "sk", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "some", "KeySchema": [{"AttributeName": "sk", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["s", "b"]}},
        ],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}])
    for sk in ("plain", "binary"):
        ddb.put_item(TableName=name, Item=_expected(ddb, name, "p", sk))
    return name


def _reads(ddb, name):
    """Every read path's view of the two items, by sort key."""
    key = lambda sk: {"pk": {"S": "p"}, "sk": {"S": sk}}
    out = {}
    for sk in ("plain", "binary"):
        out[("get", sk)] = ddb.get_item(TableName=name, Key=key(sk))["Item"]
        out[("get-consistent", sk)] = ddb.get_item(TableName=name, Key=key(sk), ConsistentRead=True)["Item"]
        out[("batch-get", sk)] = ddb.batch_get_item(RequestItems={name: {"Keys": [key(sk)]}})["Responses"][name][0]
        out[("transact-get", sk)] = ddb.transact_get_items(
            TransactItems=[{"Get": {"TableName": name, "Key": key(sk)}}])["Responses"][0]["Item"]
    for item in ddb.query(TableName=name, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "p"}})["Items"]:
        out[("query", item["sk"]["S"])] = item
    for item in ddb.query(TableName=name, KeyConditionExpression="pk = :p", ScanIndexForward=False, Limit=1,
                          ExpressionAttributeValues={":p": {"S": "p"}})["Items"]:
        out[("query-limit", item["sk"]["S"])] = item
    for item in ddb.scan(TableName=name)["Items"]:
        out[("scan", item["sk"]["S"])] = item
    for sk in ("plain", "binary"):
        out[("gsi-all", sk)] = ddb.query(TableName=name, IndexName="all", KeyConditionExpression="sk = :s",
                                         ExpressionAttributeValues={":s": {"S": sk}})["Items"][0]
    return out


def test_every_read_path_returns_the_item_as_written(ddb, table):
    reads = _reads(ddb, table)
    for (path, sk), item in reads.items():
        assert item == _expected(ddb, table, "p", sk), (path, sk)


def test_projections_filters_and_index_projections(ddb, table):
    q = lambda **kw: {i["sk"]["S"]: i for i in ddb.query(
        TableName=table, KeyConditionExpression="pk = :p", **kw,
        ExpressionAttributeValues={":p": {"S": "p"}, **kw.pop("values", {})})["Items"]}
    projected = q(ProjectionExpression="sk, m.#b, l[2], b", ExpressionAttributeNames={"#b": "B"})
    assert projected["plain"] == {"sk": {"S": "plain"}, "m": {"M": {"B": {"S": "a map key named B"}}},
                                  "l": {"L": [{"M": {"x": {"NULL": True}}}]}}
    assert projected["binary"]["b"] == {"B": b"\x00\xffbytes"}
    filtered = ddb.query(TableName=table, KeyConditionExpression="pk = :p", FilterExpression="b = :b",
                         ExpressionAttributeValues={":p": {"S": "p"}, ":b": {"B": b"\x00\xffbytes"}})
    assert [i["sk"]["S"] for i in filtered["Items"]] == ["binary"] and filtered["ScannedCount"] == 2
    assert filtered["Items"][0] == _expected(ddb, table, "p", "binary")
    for sk in ("plain", "binary"):
        keys = ddb.query(TableName=table, IndexName="keys", KeyConditionExpression="sk = :s",
                         ExpressionAttributeValues={":s": {"S": sk}})["Items"]
        assert keys == [{"pk": {"S": "p"}, "sk": {"S": sk}}]
        some = ddb.query(TableName=table, IndexName="some", KeyConditionExpression="sk = :s",
                         ExpressionAttributeValues={":s": {"S": sk}})["Items"]
        want = {"pk": {"S": "p"}, "sk": {"S": sk}, "s": PLAIN["s"]}
        if sk == "binary":
            want["b"] = BINARY["b"]
        assert some == [want]
    count = ddb.query(TableName=table, KeyConditionExpression="pk = :p", Select="COUNT",
                      ExpressionAttributeValues={":p": {"S": "p"}})
    assert count["Count"] == 2 and "Items" not in count


def test_pagination_keys_and_sizes(ddb, table):
    first = ddb.query(TableName=table, KeyConditionExpression="pk = :p", Limit=1,
                      ExpressionAttributeValues={":p": {"S": "p"}}, ReturnConsumedCapacity="TOTAL")
    assert first["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"S": "binary"}}
    second = ddb.query(TableName=table, KeyConditionExpression="pk = :p", Limit=1,
                       ExclusiveStartKey=first["LastEvaluatedKey"], ExpressionAttributeValues={":p": {"S": "p"}})
    assert [i["sk"]["S"] for i in first["Items"] + second["Items"]] == ["binary", "plain"]
    # sizes are stored with the items: the table's size and a read's capacity use them
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["ItemCount"] == 2 and described["TableSizeBytes"] > 200
    assert first["ConsumedCapacity"]["CapacityUnits"] == 0.5


def test_updates_and_conditions_read_stored_items(ddb, table):
    key = {"pk": {"S": "p"}, "sk": {"S": "plain"}}
    ddb.update_item(TableName=table, Key=key, UpdateExpression="SET nb = :b, n = n + :one",
                    ConditionExpression="s = :s AND m.#b = :mb",
                    ExpressionAttributeNames={"#b": "B"},
                    ExpressionAttributeValues={":b": {"B": b"now binary"}, ":one": {"N": "1"},
                                               ":s": PLAIN["s"], ":mb": {"S": "a map key named B"}})
    item = ddb.get_item(TableName=table, Key=key)["Item"]
    assert item == {**_expected(ddb, table, "p", "plain"), "nb": {"B": b"now binary"}, "n": {"N": "-12499"}}
    old = ddb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")["Attributes"]
    assert old == item
    assert "Item" not in ddb.get_item(TableName=table, Key=key)


@pytest.mark.slow
def test_items_survive_a_restart_in_both_formats(durable_server):
    from tests.conftest import make_client

    ddb = make_client("dynamodb", durable_server.url)
    ddb.create_table(TableName="records", **hash_range())
    for sk in ("plain", "binary"):
        ddb.put_item(TableName="records", Item=_expected(ddb, "records", "p", sk))
    durable_server.kill()
    durable_server.start()
    ddb = make_client("dynamodb", durable_server.url)
    items = ddb.query(TableName="records", KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": "p"}})["Items"]
    assert {i["sk"]["S"]: i for i in items} == {sk: _expected(ddb, "records", "p", sk) for sk in ("plain", "binary")}


def _cbor_call(server, operation: str, payload: dict):
    """A DynamoDB request in CBOR (no SDK sends DynamoDB that way, but the endpoint
    takes it): whole-item answers are then encoded from values, not stored JSON."""
    import urllib.request

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import cbor2

    body = cbor2.dumps(payload)
    req = botocore.awsrequest.AWSRequest("POST", server.url + "/", data=body, headers={
        "X-Amz-Target": f"DynamoDB_20120810.{operation}", "Content-Type": "application/x-amz-cbor-1.1"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "dynamodb", "us-east-1").add_auth(req)
    with urllib.request.urlopen(urllib.request.Request(server.url + "/", data=body, headers=dict(req.headers),
                                                       method="POST")) as resp:
        return cbor2.loads(resp.read())


def test_whole_items_in_cbor_answers(server, table):
    key = lambda sk: {"pk": {"S": "p"}, "sk": {"S": sk}}
    for sk in ("plain", "binary"):
        assert _cbor_call(server, "GetItem", {"TableName": table, "Key": key(sk)})["Item"] == _expected(None, table, "p", sk)
    got = _cbor_call(server, "Query", {"TableName": table, "KeyConditionExpression": "pk = :p",
                                       "ExpressionAttributeValues": {":p": {"S": "p"}}})
    assert [i["sk"]["S"] for i in got["Items"]] == ["binary", "plain"]
    assert got["Items"][1] == _expected(None, table, "p", "plain")
    batch = _cbor_call(server, "BatchGetItem", {"RequestItems": {table: {"Keys": [key("plain")]}}})
    assert batch["Responses"][table] == [_expected(None, table, "p", "plain")]
    tx = _cbor_call(server, "TransactGetItems", {"TransactItems": [{"Get": {"TableName": table, "Key": key("plain")}}]})
    assert tx["Responses"][0]["Item"] == _expected(None, table, "p", "plain")
