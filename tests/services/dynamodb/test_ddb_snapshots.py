"""DynamoDB answers compared, case by case, with AWS's recorded ones: LocalStack's AWS-validated
snapshots (tests/aws/services/dynamodb, dynamodbstreams) and nubo-db/dynamodb-conformance (run
against AWS). Each test cites the case that shows AWS's answer."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .conftest import error_of

NEST = ("Nesting Levels have exceeded supported limits: "
        "Attributes in the item have nested levels beyond supported limit")


def deep(depth: int) -> dict:
    """A string leaf wrapped in ``depth`` single-key maps (the leaf sits at level depth + 1)."""
    v = {"S": "leaf"}
    for _ in range(depth):
        v = {"M": {"n": v}}
    return v


def refused(call, **kw) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return error_of(e)


# nubo-db/dynamodb-conformance tests/tier3/limits/nestingDepth.test.ts (us-east-1 and eu-west-2,
# 2026-10-09): 31 wraps are taken, 32 refused; PutItem and UpdateItem in the validation envelope
# (from about 63 wraps on: a bare item text, a value named by its key), BatchWriteItem and
# TransactWriteItems items bare. Cloudlet said 'Nesting Levels have exceeded supported limits:
# Nesting Levels have exceeded supported limits' everywhere, and named the first value's key.
def test_nesting_limit_single_item_operations(ddb, make_table):
    t = make_table(range_type=None)
    key = {"pk": {"S": "e"}}
    ddb.put_item(TableName=t, Item={**key, "marker": {"S": "x"}})
    ddb.put_item(TableName=t, Item={"pk": {"S": "ok"}, "data": deep(31)})

    assert refused(ddb.put_item, TableName=t, Item={"pk": {"S": "n"}, "data": deep(32)}) == (
        "ValidationException", "1 validation error detected: " + NEST)
    assert refused(ddb.put_item, TableName=t, Item={"pk": {"S": "n"}, "data": deep(63)}) == (
        "ValidationException", NEST)
    cond = dict(TableName=t, Key=key, UpdateExpression="SET touched = :t", ConditionExpression="#d = :deep",
                ExpressionAttributeNames={"#d": "data"})
    # the deep value is the second one: AWS names it, not the first
    assert refused(ddb.update_item, **cond, ExpressionAttributeValues={":t": {"S": "y"}, ":deep": deep(32)}) == (
        "ValidationException", "1 validation error detected: " + NEST)
    assert refused(ddb.update_item, **cond, ExpressionAttributeValues={":t": {"S": "y"}, ":deep": deep(63)}) == (
        "ValidationException", f"ExpressionAttributeValues contains invalid value: {NEST} for key :deep")
    assert refused(ddb.delete_item, TableName=t, Key=key, ConditionExpression="#d = :deep",
                   ExpressionAttributeNames={"#d": "data"},
                   ExpressionAttributeValues={":deep": deep(32)})[1] == "1 validation error detected: " + NEST
    # 31 wraps are taken: the condition is evaluated
    assert refused(ddb.update_item, **cond, ExpressionAttributeValues={":t": {"S": "y"}, ":deep": deep(31)})[0] == (
        "ConditionalCheckFailedException")

    assert ddb.get_item(TableName=t, Key={"pk": {"S": "n"}}).get("Item") is None
    assert ddb.get_item(TableName=t, Key=key)["Item"] == {**key, "marker": {"S": "x"}}


def test_nesting_limit_batch_and_transaction_items(ddb, make_table):
    t = make_table(range_type=None)
    item = {"pk": {"S": "n"}, "data": deep(32)}
    assert refused(ddb.batch_write_item, RequestItems={t: [{"PutRequest": {"Item": item}}]}) == (
        "ValidationException", NEST)
    assert refused(ddb.transact_write_items, TransactItems=[{"Put": {"TableName": t, "Item": item}}]) == (
        "ValidationException", NEST)
    ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {"pk": {"S": "ok"}, "data": deep(31)}}}]})
    assert ddb.get_item(TableName=t, Key={"pk": {"S": "n"}}).get("Item") is None
    assert ddb.get_item(TableName=t, Key={"pk": {"S": "ok"}})["Item"]["data"] == deep(31)


# Same source, TransactWriteItems: in us-east-1 (and 29 other regions) a 32-wrap value in
# ExpressionAttributeValues is not refused up front: a condition comparing it is evaluated, an Update
# that would store it cancels with the reason 'Nesting Levels have exceeded supported limits'; 33
# wraps and more are refused naming the key. Cloudlet refused all of them up front.
def test_nesting_limit_transaction_values(ddb, make_table):
    t = make_table(range_type=None)
    key = {"pk": {"S": "e"}}
    ddb.put_item(TableName=t, Item={**key, "marker": {"S": "x"}})
    check = {"TableName": t, "Key": key, "ConditionExpression": "#d = :deep",
             "ExpressionAttributeNames": {"#d": "data"}}

    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"ConditionCheck": {
            **check, "ExpressionAttributeValues": {":deep": deep(32)}}}])
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["ConditionalCheckFailed"]

    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Update": {
            "TableName": t, "Key": key, "UpdateExpression": "SET deep = :deep",
            "ExpressionAttributeValues": {":deep": deep(32)}}}])
    assert error_of(e) == ("TransactionCanceledException", "Transaction cancelled, please refer cancellation "
                           "reasons for specific reasons [ValidationError]")
    assert e.value.response["CancellationReasons"] == [
        {"Code": "ValidationError", "Message": "Nesting Levels have exceeded supported limits"}]

    assert refused(ddb.transact_write_items, TransactItems=[{"ConditionCheck": {
        **check, "ExpressionAttributeValues": {":deep": deep(33)}}}]) == (
        "ValidationException", f"ExpressionAttributeValues contains invalid value: {NEST} for key :deep")
    assert refused(ddb.transact_write_items, TransactItems=[{"Put": {
        "TableName": t, "Item": {"pk": {"S": "p"}}, "ConditionExpression": "attribute_not_exists(pk) AND #d <> :deep",
        "ExpressionAttributeNames": {"#d": "data"}, "ExpressionAttributeValues": {":deep": deep(33)}}}])[1] == (
        f"ExpressionAttributeValues contains invalid value: {NEST} for key :deep")

    assert ddb.get_item(TableName=t, Key=key)["Item"] == {**key, "marker": {"S": "x"}}
    assert ddb.get_item(TableName=t, Key={"pk": {"S": "p"}}).get("Item") is None


# LocalStack's AWS-validated test_dynamodb_create_table_with_partial_sse_specification (2024-01-10):
# CreateTable with SSESpecification {Enabled: true} describes a KMS key, ENABLED; UpdateTable back to
# the AWS owned key answers that description with Status UPDATING (cloudlet answered none), and the
# table then has no SSESpecification. test_dynamodb_update_table_without_sse_specification_change
# (2024-12-09): another change leaves the description ENABLED.
def test_sse_disable_answers_updating(ddb, unique_name):
    name = unique_name("sse")
    created = ddb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        SSESpecification={"Enabled": True})["TableDescription"]["SSEDescription"]
    assert created["Status"] == "ENABLED" and created["SSEType"] == "KMS"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    try:
        unchanged = ddb.update_table(TableName=name, ProvisionedThroughput={
            "ReadCapacityUnits": 6, "WriteCapacityUnits": 6})["TableDescription"]["SSEDescription"]
        assert unchanged == created
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
        answered = ddb.update_table(TableName=name, SSESpecification={"Enabled": False})["TableDescription"]
        assert answered["SSEDescription"] == {**created, "Status": "UPDATING"}
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
        table = ddb.describe_table(TableName=name)["Table"]
        assert "SSESpecification" not in table and "SSEDescription" not in table
    finally:
        ddb.delete_table(TableName=name)


# nubo-db/dynamodb-conformance tests/tier1/getItem/consumedCapacity.test.ts and
# putItem/consumedCapacity.test.ts (eu-west-2, issue #69): outside the transactions AWS reports the
# aggregate CapacityUnits alone, at the top and on Table, never ReadCapacityUnits/WriteCapacityUnits
# (cloudlet added them); TransactWriteItems keeps the split (tier2 transactWrite).
def test_consumed_capacity_split_only_in_transactions(ddb, make_table):
    t = make_table(range_type=None)
    key = {"pk": {"S": "a"}}
    ddb.put_item(TableName=t, Item={**key, "data": {"S": "x"}})
    for mode in ("TOTAL", "INDEXES"):
        answers = [
            ddb.put_item(TableName=t, Item={**key, "data": {"S": "x"}}, ReturnConsumedCapacity=mode),
            ddb.update_item(TableName=t, Key=key, UpdateExpression="SET d = :v",
                            ExpressionAttributeValues={":v": {"S": "y"}}, ReturnConsumedCapacity=mode),
            ddb.get_item(TableName=t, Key=key, ConsistentRead=True, ReturnConsumedCapacity=mode),
            ddb.query(TableName=t, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": key["pk"]},
                      ConsistentRead=True, ReturnConsumedCapacity=mode),
            ddb.delete_item(TableName=t, Key={"pk": {"S": "gone"}}, ReturnConsumedCapacity=mode),
        ]
        for answer in answers:
            expected = {"TableName": t, "CapacityUnits": 1.0}
            if mode == "INDEXES":
                expected["Table"] = {"CapacityUnits": 1.0}
            assert answer["ConsumedCapacity"] == expected
    eventual = ddb.get_item(TableName=t, Key=key, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert eventual == {"TableName": t, "CapacityUnits": 0.5}
    batch = ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]},
                                 ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert batch == [{"TableName": t, "CapacityUnits": 1.0}]
    tx = ddb.transact_write_items(TransactItems=[{"Put": {"TableName": t, "Item": {"pk": {"S": "c"}}}}],
                                  ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert tx == [{"TableName": t, "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}]


# nubo-db/dynamodb-conformance tests/tier1/putItem/indexConsumedCapacity.test.ts (measured in
# eu-west-2, 2026-08-12): a write that leaves what an index stores unchanged reports no arm for it
# (an identical overwrite; an update of an attribute the index does not project), and the arms carry
# the aggregate alone. Cloudlet charged 1 unit on every index the item was in.
def test_index_arms_only_for_indexes_that_change(ddb, make_table):
    t = make_table(
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsiPk", "lsiSk")],
        GlobalSecondaryIndexes=[{"IndexName": "gsi-inc", "KeySchema": [{"AttributeName": "gsiPk", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["proj"]}}],
        LocalSecondaryIndexes=[{"IndexName": "lsi1", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                   {"AttributeName": "lsiSk", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "ALL"}}])

    def arms(answer):
        cc = answer["ConsumedCapacity"]
        return (cc["CapacityUnits"], cc["Table"]["CapacityUnits"],
                {n: a for n, a in (cc.get("GlobalSecondaryIndexes") or {}).items()},
                {n: a for n, a in (cc.get("LocalSecondaryIndexes") or {}).items()})

    item = {"pk": {"S": "p"}, "sk": {"S": "1"}, "gsiPk": {"S": "g"}, "lsiSk": {"S": "L"}, "proj": {"S": "p"},
            "other": {"S": "o"}}
    put = ddb.put_item(TableName=t, Item=item, ReturnConsumedCapacity="INDEXES")
    assert arms(put) == (3.0, 1.0, {"gsi-inc": {"CapacityUnits": 1.0}}, {"lsi1": {"CapacityUnits": 1.0}})
    again = ddb.put_item(TableName=t, Item=item, ReturnConsumedCapacity="INDEXES")
    assert arms(again) == (1.0, 1.0, {}, {})
    key = {"pk": item["pk"], "sk": item["sk"]}
    other = ddb.update_item(TableName=t, Key=key, UpdateExpression="SET #o = :v",
                            ExpressionAttributeNames={"#o": "other"}, ExpressionAttributeValues={":v": {"S": "o2"}},
                            ReturnConsumedCapacity="INDEXES")
    assert arms(other) == (2.0, 1.0, {}, {"lsi1": {"CapacityUnits": 1.0}})
    moved = ddb.update_item(TableName=t, Key=key, UpdateExpression="SET gsiPk = :v",
                            ExpressionAttributeValues={":v": {"S": "g2"}}, ReturnConsumedCapacity="INDEXES")
    assert arms(moved) == (4.0, 1.0, {"gsi-inc": {"CapacityUnits": 2.0}}, {"lsi1": {"CapacityUnits": 1.0}})
    lsi = ddb.update_item(TableName=t, Key=key, UpdateExpression="SET lsiSk = :v",
                          ExpressionAttributeValues={":v": {"S": "L2"}}, ReturnConsumedCapacity="INDEXES")
    assert arms(lsi) == (3.0, 1.0, {}, {"lsi1": {"CapacityUnits": 2.0}})


# nubo-db/dynamodb-conformance tests/tier3/error-messages/partiql.test.ts (pinned against AWS,
# eu-west-2): a WHERE on an index naming an attribute the index does not project is refused in
# Query's words, 'Secondary index' for a GSI and an LSI alike (cloudlet answered the filtered read);
# a qualifier naming no index gets the sentence without the name Query appends; an empty path
# component, of the index or of the table, is 'Path component cannot be an empty string'.
def test_partiql_index_qualifier_refusals(ddb, make_table):
    t = make_table(
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "g", "l")],
        GlobalSecondaryIndexes=[{"IndexName": "gsi-inc", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}}],
        LocalSecondaryIndexes=[{"IndexName": "lsi-keys", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                       {"AttributeName": "l", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"S": "1"}, "g": {"S": "y"}, "l": {"S": "z"},
                                    "np": {"S": "np1"}})
    cases = [
        (f"SELECT pk FROM \"{t}\".\"gsi-inc\" WHERE g = 'y' AND np = 'np1'",
         "One or more parameter values were invalid: Secondary index gsi-inc does not project one or more "
         "filter attributes: [np]"),
        (f"SELECT pk FROM \"{t}\".\"lsi-keys\" WHERE pk = 'p' AND np = 'np1'",
         "One or more parameter values were invalid: Secondary index lsi-keys does not project one or more "
         "filter attributes: [np]"),
        (f"SELECT * FROM \"{t}\".\"no-such-index\" WHERE pk = 'p'", "The table does not have the specified index"),
        (f"SELECT * FROM \"{t}\".\"{t}\" WHERE pk = 'p'", "The table does not have the specified index"),
        (f"SELECT * FROM \"{t}\".\"\" WHERE pk = 'p'", "Path component cannot be an empty string"),
        ("SELECT * FROM \"\" WHERE pk = 'p'", "Path component cannot be an empty string"),
    ]
    for statement, message in cases:
        assert refused(ddb.execute_statement, Statement=statement) == ("ValidationException", message), statement
    # what the indexes project can still be filtered on
    got = ddb.execute_statement(Statement=f"SELECT pk FROM \"{t}\".\"gsi-inc\" WHERE g = 'y' AND sk = '1'")
    assert got["Items"] == [{"pk": {"S": "p"}}]


# nubo-db/dynamodb-conformance tests/tier3/error-messages (PartiQL parameter numbers; eu-west-2 and
# us-east-1, October 2026): a parameter's number is read as Java's BigDecimal reads it. An exponent
# or scale outside a 32-bit integer 'cannot be converted' (cloudlet took 1e-99999999999 and
# 1e-2147483648 as zero: the INSERT stored it), 1e2147483647 wraps to an underflow (cloudlet: cannot
# be converted), in every position; the first problem in document order is reported.
def test_partiql_parameter_numbers_read_as_java_does(ddb, make_table):
    t = make_table()
    unconvertible = "The parameter cannot be converted to a numeric value"
    underflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
    positions = [f"SELECT * FROM \"{t}\" WHERE pk = 'p' AND n = ?",
                 f"INSERT INTO \"{t}\" VALUE {{'pk': 'p', 'sk': 's', 'n': ?}}",
                 f"UPDATE \"{t}\" SET n = ? WHERE pk = 'p' AND sk = 's'",
                 f"SELECT * FROM \"{t}\" WHERE pk = ?"]
    for value, message in [("1e99999999999", f"{unconvertible}: 1e99999999999"),
                           ("1e-99999999999", f"{unconvertible}: 1e-99999999999"),
                           ("1e-2147483648", f"{unconvertible}: 1e-2147483648"),
                           ("1e2147483647", underflow), ("", unconvertible)]:
        for statement in positions:
            assert refused(ddb.execute_statement, Statement=statement, Parameters=[{"N": value}]) == (
                "ValidationException", message), (value, statement)
    single = f"SELECT * FROM \"{t}\" WHERE pk = 'p' AND x = ?"
    assert refused(ddb.execute_statement, Statement=single, Parameters=[
        {"M": {"bad": {"N": "1e-99999999999"}, "d": deep(40)}}])[1] == f"{unconvertible}: 1e-99999999999"
    assert refused(ddb.execute_statement, Statement=single, Parameters=[
        {"M": {"d": deep(40), "bad": {"N": "1e-99999999999"}}}])[1] == NEST
    assert ddb.scan(TableName=t)["Items"] == []


# A number too small for any range is refused, not stored as 0 (cloudlet stored 1e-99999999999 as
# 0). AWS's text for PutItem here is not recorded: the PartiQL capture above says it differs from a
# parameter's; the underflow text of 1E-131 (developer guide: 1E-130 is the smallest) is kept.
def test_tiny_number_is_not_stored_as_zero(ddb, make_table):
    t = make_table(range_type=None)
    for value in ("1e-99999999999", "1e-131"):
        assert refused(ddb.put_item, TableName=t, Item={"pk": {"S": "a"}, "n": {"N": value}}) == (
            "ValidationException",
            "Number underflow. Attempting to store a number with magnitude smaller than supported range")
    assert ddb.get_item(TableName=t, Key={"pk": {"S": "a"}}).get("Item") is None


# Kinesis streaming destination records as AWS delivers them: LocalStack's AWS-validated
# test_enable_kinesis_streaming_destination (2024-01-30: a 32-hex-digit PartitionKey, the record's
# members) and a capture of delivered records in a Redshift streaming-ingestion walkthrough
# (us-east-2, 2024-07-15: PartitionKey in upper-case hex such as 68406A366BD60300C59F519142163A14,
# eventID a UUID such as f89436e0-627d-4d37-9879-42f86249aa83, ApproximateCreationDateTimePrecision
# after SizeBytes). Cloudlet sent a lower-case key, a 32-hex eventID and the precision second.
def test_kinesis_destination_record_layout(ddb, client_factory, make_table):
    import json
    import re
    import uuid

    kinesis = client_factory("kinesis")
    stream = f"cdc-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    t = make_table(range_type=None)
    ddb.enable_kinesis_streaming_destination(TableName=t, StreamArn=arn)
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": t, "Item": {"pk": {"S": "test"}}}}])
    shard = kinesis.list_shards(StreamARN=arn)["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamARN=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    (got,) = kinesis.get_records(ShardIterator=it)["Records"]
    assert re.fullmatch(r"[0-9A-F]{32}", got["PartitionKey"])
    data = json.loads(got["Data"])
    assert list(data) == ["awsRegion", "eventID", "eventName", "userIdentity", "recordFormat", "tableName",
                          "dynamodb", "eventSource"]
    assert str(uuid.UUID(data["eventID"])) == data["eventID"]
    assert list(data["dynamodb"]) == ["ApproximateCreationDateTime", "Keys", "NewImage", "SizeBytes",
                                      "ApproximateCreationDateTimePrecision"]
    assert data["dynamodb"]["SizeBytes"] == 12 and data["userIdentity"] is None


# nubo-db/dynamodb-conformance, deep requests / TransactWriteItems action order (us-east-1 and nine
# other regions, 2026-10-09, every table absent): each action is checked in request order before any
# table is looked up, its expressions first, then its values; a Put's empty attribute name is 'Empty
# attribute name'; an oversized UpdateExpression has no size after the sentence. Cloudlet looked the
# table up first (ResourceNotFoundException), said 'One or more parameter values were invalid: An
# AttributeValue may not contain an empty attribute name', and added the size.
def test_transaction_actions_checked_in_order_before_tables(ddb, make_table):
    t = make_table()
    absent = t + "-absent"
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    send = lambda items: refused(ddb.transact_write_items, TransactItems=items)  # noqa: E731
    assert send([{"Put": {"TableName": absent, "Item": {**key, "d": deep(40)}}},
                 {"Put": {"TableName": absent, "Item": {**key, "": {"S": "x"}}}}]) == ("ValidationException", NEST)
    assert send([{"Put": {"TableName": absent, "Item": {**key, "": {"S": "x"}}}},
                 {"Put": {"TableName": absent, "Item": {**key, "d": deep(100)}}}]) == (
        "ValidationException", "Empty attribute name")
    assert send([{"Put": {"TableName": absent, "Item": {**key, "d": deep(100), "": {"S": "x"}}}}]) == (
        "ValidationException", "Empty attribute name")
    assert send([{"Delete": {"TableName": absent, "Key": {**key, "pk": deep(40)}}},
                 {"Put": {"TableName": absent, "Item": key, "ConditionExpression": "a = = b"}}]) == (
        "ValidationException", NEST)
    assert send([{"Delete": {"TableName": absent, "Key": {**key, "pk": deep(100)},
                             "ConditionExpression": "a = = b"}}]) == (
        "ValidationException", 'Invalid ConditionExpression: Syntax error; token: "=", near: "= = b"')
    assert send([{"Update": {"TableName": absent, "Key": key,
                             "UpdateExpression": "SET " + ", ".join(f"a{i} = :v" for i in range(500)),
                             "ExpressionAttributeValues": {":v": {"S": "x"}}}},
                 {"ConditionCheck": {"TableName": absent, "Key": {**key, "pk": deep(100)},
                                     "ConditionExpression": "attribute_exists(a)"}}]) == (
        "ValidationException", "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size;")
    # on an existing table too, and nothing is written
    assert send([{"Put": {"TableName": t, "Item": {**key, "": {"S": "x"}}}}]) == (
        "ValidationException", "Empty attribute name")
    assert ddb.scan(TableName=t)["Count"] == 0


# An unknown ConditionalOperator: AWS lists the enum as [OR, AND] (nubo-db/dynamodb-conformance
# deep requests, PutItem and UpdateItem, us-east-1 2026-10-09; dynalite test/scan.js and query.js,
# checked against AWS). Cloudlet listed the model's [AND, OR].
def test_conditional_operator_enum_order(ddb_raw, make_table):
    t = make_table()
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    expected = ("ValidationException", "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed "
                "to satisfy constraint: Member must satisfy enum value set: [OR, AND]")
    assert refused(ddb_raw.put_item, TableName=t, Item=key, ConditionalOperator="XOR",
                   Expected={"a": {"Value": {"S": "x"}}, "b": {"Exists": False}}) == expected
    assert refused(ddb_raw.update_item, TableName=t, Key=key, ConditionalOperator="XOR",
                   AttributeUpdates={"x": {"Action": "PUT", "Value": {"S": "1"}}},
                   Expected={"a": {"Value": {"S": "x"}}, "b": {"Exists": False}}) == expected
    assert refused(ddb_raw.scan, TableName=t, ConditionalOperator="XOR", ScanFilter={
        "a": {"ComparisonOperator": "NOT_NULL"}, "b": {"ComparisonOperator": "NULL"}}) == expected
    assert ddb_raw.scan(TableName=t)["Count"] == 0


# An unknown ProjectionType: AWS lists [ALL, INCLUDE, KEYS_ONLY] (dynalite test/createTable.js,
# checked against AWS); cloudlet listed the model's [ALL, KEYS_ONLY, INCLUDE].
def test_projection_type_enum_order(ddb_raw, unique_name):
    name = unique_name("ptype")
    assert refused(
        ddb_raw.create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "l")],
        LocalSecondaryIndexes=[{"IndexName": "lsi", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                   {"AttributeName": "l", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "abc"}}]) == (
        "ValidationException", "1 validation error detected: Value 'abc' at "
        "'localSecondaryIndexes.1.member.projection.projectionType' failed to satisfy constraint: Member must "
        "satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]")
    assert name not in ddb_raw.list_tables()["TableNames"]


# nubo-db/dynamodb-conformance, batch validation ordering (us-east-1 and eu-west-2, 2026-10-09):
# BatchGetItem checks a table name as a key of RequestItems and shows the whole map as JSON
# ("Value '{"bad!name":{"Keys":[{"pk":{"S":"a"}}]}}' at 'requestItems' failed to satisfy constraint:
# Map keys must satisfy constraint: [...]", captured beside an unknown ReturnConsumedCapacity; the
# name alone is answered the same way, one error). Cloudlet named the table and its pattern only.
def test_batch_get_bad_table_name_as_map_key(ddb_raw):
    assert refused(ddb_raw.batch_get_item, RequestItems={"bad!name": {"Keys": [{"pk": {"S": "a"}}]}}) == (
        "ValidationException",
        "1 validation error detected: Value '{\"bad!name\":{\"Keys\":[{\"pk\":{\"S\":\"a\"}}]}}' at 'requestItems' "
        "failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or "
        "equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression "
        "pattern: [a-zA-Z0-9_.-]+]")
