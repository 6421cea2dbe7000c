"""Query and Scan: key conditions, order, pagination, filters, Select, indexes,
parallel scan segments."""

from __future__ import annotations

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from .conftest import error_of


@pytest.fixture
def numbers(ddbr, make_table):
    name = make_table(range_type="N")
    t = ddbr.Table(name)
    with t.batch_writer() as bw:
        for i in range(30):
            bw.put_item(Item={"pk": "p", "sk": i - 10, "even": i % 2 == 0, "s": f"v{i:02d}"})
        bw.put_item(Item={"pk": "q", "sk": 0})
    return t


def test_key_conditions(numbers):
    t = numbers
    q = lambda cond, **kw: [i["sk"] for i in t.query(KeyConditionExpression=Key("pk").eq("p") & cond, **kw)["Items"]]
    assert q(Key("sk").lt(-8)) == [-10, -9]
    assert q(Key("sk").lte(-8)) == [-10, -9, -8]
    assert q(Key("sk").gt(17)) == [18, 19]
    assert q(Key("sk").gte(17)) == [17, 18, 19]
    assert q(Key("sk").between(-1, 2)) == [-1, 0, 1, 2]
    assert q(Key("sk").eq(3)) == [3]
    assert q(Key("sk").between(-1, 2), ScanIndexForward=False) == [2, 1, 0, -1]
    assert q(Key("sk").lte(-8), ScanIndexForward=False) == [-8, -9, -10]
    all_items = t.query(KeyConditionExpression=Key("pk").eq("p"))
    assert [i["sk"] for i in all_items["Items"]] == list(range(-10, 20))


def test_query_pagination_and_filter(numbers):
    t = numbers
    got, kwargs = [], {}
    pages = 0
    while True:
        page = t.query(KeyConditionExpression=Key("pk").eq("p"), FilterExpression=Attr("even").eq(True),
                       Limit=7, **kwargs)
        pages += 1
        assert page["ScannedCount"] <= 7
        got += [i["sk"] for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert got == list(range(-10, 20, 2)) and pages == 5
    r = t.query(KeyConditionExpression=Key("pk").eq("p"), Select="COUNT", FilterExpression=Attr("s").begins_with("v1"))
    assert r["Count"] == 10 and r["ScannedCount"] == 30 and "Items" not in r


def test_query_errors(ddb, numbers):
    t = numbers
    for kw, msg in [
        (dict(KeyConditionExpression=Key("sk").eq(1)), "Query condition missed key schema element: pk"),
        (dict(KeyConditionExpression="pk = :a OR sk = :b", ExpressionAttributeValues={":a": "p", ":b": 1}),
         "Invalid operator used in KeyConditionExpression: OR"),
        (dict(KeyConditionExpression=Key("pk").eq(1)),
         "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        (dict(KeyConditionExpression=Key("pk").eq("p"), IndexName="nope"),
         "The table does not have the specified index: nope"),
        (dict(KeyConditionExpression=Key("pk").eq("p"), FilterExpression=Attr("sk").eq(1)),
         "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"),
        (dict(KeyConditionExpression=Key("pk").eq("p"), Select="ALL_PROJECTED_ATTRIBUTES"),
         "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
    ]:
        with pytest.raises(ClientError) as e:
            t.query(**kw)
        assert error_of(e) == ("ValidationException", msg), kw
    with pytest.raises(ClientError) as e:
        ddb.query(TableName="no-such-table", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}})
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_key_condition_messages(ddb, numbers):
    """Key conditions go through the expression module's one implementation;
    AWS's structural messages carry no "Invalid KeyConditionExpression:" prefix."""
    name = numbers.name

    def q(expr, values, **kw):
        values = {k: ({"N": str(v)} if isinstance(v, int) else {"S": v}) for k, v in values.items()}
        return ddb.query(TableName=name, KeyConditionExpression=expr, ExpressionAttributeValues=values, **kw)

    for expr, values, msg in [
        ("pk = :p OR sk = :a", {":p": "p", ":a": 1}, "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT pk = :p", {":p": "p"}, "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk IN (:p)", {":p": "p"}, "Invalid operator used in KeyConditionExpression: IN"),
        ("pk = :p AND sk <> :a", {":p": "p", ":a": 1}, "Invalid operator used in KeyConditionExpression: <>"),
        ("pk = :p AND contains(sk, :a)", {":p": "p", ":a": 1},
         "Invalid operator used in KeyConditionExpression: contains"),
        ("pk = :p AND pk = :q", {":p": "p", ":q": "q"},
         "KeyConditionExpressions must only contain one condition per key"),
        ("pk.x = :p", {":p": "p"}, "KeyConditionExpressions cannot have conditions on nested attributes"),
        ("pk = :p AND size(sk) > :a", {":p": "p", ":a": 1}, "KeyConditionExpressions cannot contain nested operations"),
        ("pk = :p AND sk BETWEEN :a AND pk", {":p": "p", ":a": 1},
         "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        ("pk = :p AND begins_with(:a, sk)", {":p": "p", ":a": "x"},
         "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its "
         "first operand"),
        (":p = :q AND pk = :p", {":p": "p", ":q": "q"},
         "Invalid condition in KeyConditionExpression: No key attribute specified"),
        ("pk < :p", {":p": "p"}, "Query key condition not supported"),
        ("pk = :p AND extra = :o", {":p": "p", ":o": 1}, "Query condition missed key schema element: sk"),
        ("pk = :p AND sk = :a AND extra = :o", {":p": "p", ":a": 1, ":o": 1}, "Conditions can be of length 1 or 2 only"),
        ("pk = :e", {":e": ""}, "One or more parameter values are not valid. The AttributeValue for a key attribute "
                                "cannot contain an empty string value. Key: pk"),
        ("pk = :p AND sk = :s", {":p": "p", ":s": "1"},
         "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        # the generic checks keep their prefix
        ("pk = :p AND sk BETWEEN :b AND :a", {":p": "p", ":a": 1, ":b": 2},
         "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
         "lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}"),
        ("pk = :p AND begins_with(sk, :a)", {":p": "p", ":a": 1},
         "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: "
         "begins_with, operand type: N"),
    ]:
        with pytest.raises(ClientError) as e:
            q(expr, values)
        assert error_of(e) == ("ValidationException", msg), expr
    # a reversed comparison is read with the key on the left
    assert [int(i["sk"]["N"]) for i in q(":p = pk AND :a > sk", {":p": "p", ":a": -8})["Items"]] == [-10, -9]
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=name)
    assert error_of(e)[1] == "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."


def test_legacy_key_conditions(ddb, numbers):
    name = numbers.name
    p, n = {"S": "p"}, lambda v: {"N": str(v)}
    r = ddb.query(TableName=name, KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [p]},
        "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [n(-1), n(1)]}})
    assert [int(i["sk"]["N"]) for i in r["Items"]] == [-1, 0, 1]
    for kc, msg in [
        ({"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [p]},
          "sk": {"ComparisonOperator": "NE", "AttributeValueList": [n(1)]}},
         "Attempted conditional constraint is not an indexable operation"),
        ({"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [n(1)]}},
         "Query condition missed key schema element: pk"),
        ({"pk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [p]}},
         "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
        ({"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [n(1)]}},
         "One or more parameter values were invalid: Condition parameter type does not match schema type"),
    ]:
        with pytest.raises(ClientError) as e:
            ddb.query(TableName=name, KeyConditions=kc)
        assert error_of(e) == ("ValidationException", msg), kc


def test_string_and_binary_order(ddbr, make_table):
    t = ddbr.Table(make_table(range_type="S"))
    keys = ["a", "B", "é", "aa", "", "z", "\U0001f600", "ab", "A"]
    keys = [k for k in keys if k]
    for k in keys:
        t.put_item(Item={"pk": "x", "sk": k})
    got = [i["sk"] for i in t.query(KeyConditionExpression=Key("pk").eq("x"))["Items"]]
    assert got == sorted(keys, key=lambda s: s.encode("utf-8"))
    got = [i["sk"] for i in t.query(KeyConditionExpression=Key("pk").eq("x") & Key("sk").begins_with("a"),
                                    ScanIndexForward=False)["Items"]]
    assert got == ["ab", "aa", "a"]
    tb = ddbr.Table(make_table(range_type="B"))
    blobs = [b"\x00", b"\xff", b"\x7f", b"\x80\x00", b"\x00\x01"]
    for b in blobs:
        tb.put_item(Item={"pk": "x", "sk": b})
    got = [i["sk"].value for i in tb.query(KeyConditionExpression=Key("pk").eq("x"))["Items"]]
    assert got == sorted(blobs)


def test_scan_segments_cover_everything_once(ddbr, make_table):
    t = ddbr.Table(make_table(range_type=None))
    with t.batch_writer() as bw:
        for i in range(300):
            bw.put_item(Item={"pk": f"k{i}"})
    seen = []
    for seg in range(4):
        kwargs = {}
        while True:
            page = t.scan(Segment=seg, TotalSegments=4, Limit=50, **kwargs)
            seen += [i["pk"] for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == sorted(f"k{i}" for i in range(300))
    with pytest.raises(ClientError) as e:
        t.scan(Segment=4, TotalSegments=4)
    assert error_of(e)[1] == ("The Segment parameter is zero-based and must be less than parameter TotalSegments: "
                              "Segment: 4 is not less than TotalSegments: 4")
    with pytest.raises(ClientError) as e:
        t.scan(Segment=1)
    assert error_of(e)[1].startswith("The TotalSegments parameter is required")


def test_page_limit_one_megabyte(ddbr, make_table):
    t = ddbr.Table(make_table())
    with t.batch_writer() as bw:
        for i in range(30):
            bw.put_item(Item={"pk": "p", "sk": f"{i:03d}", "data": "x" * 100_000})
    page = t.query(KeyConditionExpression=Key("pk").eq("p"))
    assert page["Count"] < 30 and "LastEvaluatedKey" in page
    total, pages = page["Count"], 1
    while "LastEvaluatedKey" in page:
        page = t.query(KeyConditionExpression=Key("pk").eq("p"), ExclusiveStartKey=page["LastEvaluatedKey"])
        total, pages = total + page["Count"], pages + 1
    assert total == 30 and pages == 3


def test_indexes(ddb, ddbr):
    import uuid
    name = f"t-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}, {"AttributeName": "n", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                                      {"AttributeName": "n", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[{"IndexName": "by-n", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                     {"AttributeName": "n", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["extra"]}}])
    t = ddbr.Table(name)
    for i in range(10):
        item = {"pk": "p", "sk": f"s{i}", "n": 10 - i, "extra": i, "other": "o"}
        if i % 3:
            item["g"] = "G"  # sparse GSI: items without g are not in it
        t.put_item(Item=item)
    with pytest.raises(ClientError) as e:
        t.put_item(Item={"pk": "p", "sk": "bad", "g": 5})
    assert error_of(e)[1] == "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: by-g"
    r = t.query(IndexName="by-g", KeyConditionExpression=Key("g").eq("G") & Key("n").gt(2))
    assert [i["n"] for i in r["Items"]] == [3, 5, 6, 8, 9]
    assert set(r["Items"][0]) == {"pk", "sk", "g", "n"}
    with pytest.raises(ClientError) as e:
        t.query(IndexName="by-g", KeyConditionExpression=Key("g").eq("G"), ConsistentRead=True)
    assert error_of(e)[1] == "Consistent reads are not supported on global secondary indexes"
    with pytest.raises(ClientError) as e:
        t.query(IndexName="by-g", KeyConditionExpression=Key("g").eq("G"), Select="ALL_ATTRIBUTES")
    assert "Select type ALL_ATTRIBUTES is not supported for global secondary index by-g" in error_of(e)[1]
    r = t.query(IndexName="by-n", KeyConditionExpression=Key("pk").eq("p"), ScanIndexForward=False, Limit=3)
    assert [i["n"] for i in r["Items"]] == [10, 9, 8] and set(r["Items"][0]) == {"pk", "sk", "n", "extra"}
    assert set(r["LastEvaluatedKey"]) == {"pk", "sk", "n"}
    r2 = t.query(IndexName="by-n", KeyConditionExpression=Key("pk").eq("p"), ScanIndexForward=False,
                 ExclusiveStartKey=r["LastEvaluatedKey"])
    assert [i["n"] for i in r2["Items"]] == [7, 6, 5, 4, 3, 2, 1]
    # LSI: attributes outside the projection are fetched from the table
    r = t.query(IndexName="by-n", KeyConditionExpression=Key("pk").eq("p") & Key("n").eq(1), Select="ALL_ATTRIBUTES")
    assert r["Items"][0]["other"] == "o"
    assert t.scan(IndexName="by-g")["Count"] == 6
    t.update_item(Key={"pk": "p", "sk": "s1"}, UpdateExpression="REMOVE g")
    assert t.scan(IndexName="by-g")["Count"] == 5
    ddb.delete_table(TableName=name)


@pytest.fixture
def indexed(ddb, make_table):
    name = make_table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}, {"AttributeName": "n", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "keys", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "inc", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["extra"]}}],
        LocalSecondaryIndexes=[
            {"IndexName": "lsi", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["extra"]}}])
    for i in range(3):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": f"s{i}"}, "g": {"S": "G"}, "n": {"N": str(i)},
                                           "extra": {"S": "e"}, "misc": {"S": "m"}, "note": {"S": "t"}})
    return name


def test_index_projection_errors(ddb, indexed):
    """Asking an index for attributes it does not project (messages as AWS
    words them; see reads._select / reads._check_filter)."""
    name = indexed
    g = {":g": {"S": "G"}}
    inv = "One or more parameter values were invalid: "
    cases = [
        (ddb.query, dict(IndexName="keys", KeyConditionExpression="g = :g", ExpressionAttributeValues=g,
                         Select="ALL_ATTRIBUTES"),
         inv + "Select type ALL_ATTRIBUTES is not supported for global secondary index keys because its projection "
               "type is not ALL"),
        (ddb.scan, dict(IndexName="inc", Select="ALL_ATTRIBUTES"),
         inv + "Select type ALL_ATTRIBUTES is not supported for global secondary index inc because its projection "
               "type is not ALL"),
        (ddb.query, dict(IndexName="keys", KeyConditionExpression="g = :g", ExpressionAttributeValues=g,
                         ProjectionExpression="pk, misc"),
         inv + "Global secondary index keys does not project [misc]"),
        (ddb.query, dict(IndexName="inc", KeyConditions={"g": {"ComparisonOperator": "EQ", "AttributeValueList": [g[":g"]]}},
                         AttributesToGet=["misc", "extra", "note"]),
         inv + "Global secondary index inc does not project [note, misc]"),
        (ddb.scan, dict(IndexName="keys", ProjectionExpression="misc.deep"),
         inv + "Global secondary index keys does not project [misc]"),
        (ddb.query, dict(IndexName="inc", KeyConditionExpression="g = :g", FilterExpression="note = :g AND misc = :g",
                         ExpressionAttributeValues=g),
         inv + "Secondary index inc does not project one or more filter attributes: [misc, note]"),
        (ddb.query, dict(IndexName="lsi", KeyConditionExpression="pk = :g", FilterExpression="attribute_exists(misc)",
                         ExpressionAttributeValues=g),
         inv + "Secondary index lsi does not project one or more filter attributes: [misc]"),
        (ddb.query, dict(IndexName="keys", KeyConditions={"g": {"ComparisonOperator": "EQ", "AttributeValueList": [g[":g"]]}},
                         QueryFilter={"misc": {"ComparisonOperator": "NOT_NULL"}}),
         inv + "Secondary index keys does not project one or more filter attributes: [misc]"),
        (ddb.query, dict(KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [g[":g"]]}},
                         QueryFilter={"sk": {"ComparisonOperator": "NOT_NULL"}}),
         "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"),
    ]
    for call, kw, msg in cases:
        with pytest.raises(ClientError) as e:
            call(TableName=name, **kw)
        assert error_of(e) == ("ValidationException", msg), kw
    # what the index projects is fine, and an LSI fetches the rest from the table
    r = ddb.query(TableName=name, IndexName="inc", KeyConditionExpression="g = :g", ProjectionExpression="extra, n, pk",
                  FilterExpression="extra = :e", ExpressionAttributeValues={**g, ":e": {"S": "e"}})
    assert r["Count"] == 3 and set(r["Items"][0]) == {"extra", "n", "pk"}
    r = ddb.query(TableName=name, IndexName="lsi", KeyConditionExpression="pk = :p", ProjectionExpression="misc, n",
                  ExpressionAttributeValues={":p": {"S": "p"}})
    assert [i["misc"]["S"] for i in r["Items"]] == ["m"] * 3
    # a Scan's filter sees the projected item: nothing matches, no error
    r = ddb.scan(TableName=name, IndexName="keys", FilterExpression="attribute_exists(misc)")
    assert r["Count"] == 0 and r["ScannedCount"] == 3
