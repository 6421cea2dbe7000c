"""DynamoDB answers pinned against what real AWS returns (sources in the
commit messages): each test also reads back that a refused request changed
nothing."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.services.dynamodb.conftest import error_of

NOT_FOUND = ("ResourceNotFoundException", "Requested resource not found")


def _wait_active(ddb, name, index=None):
    for _ in range(200):
        table = ddb.describe_table(TableName=name)["Table"]
        indexes = {ix["IndexName"]: ix for ix in table.get("GlobalSecondaryIndexes", [])}
        if table["TableStatus"] == "ACTIVE" and (index is None or indexes[index]["IndexStatus"] == "ACTIVE"):
            return table
        time.sleep(0.05)
    raise AssertionError("table did not become ACTIVE")


@pytest.mark.parametrize("op, kw", [
    ("get_item", dict(Key={"pk": {"S": "a"}})),
    ("put_item", dict(Item={"pk": {"S": "a"}})),
    ("delete_item", dict(Key={"pk": {"S": "a"}})),
    ("update_item", dict(Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                         ExpressionAttributeValues={":v": {"N": "1"}})),
    ("query", dict(KeyConditionExpression="pk = :v", ExpressionAttributeValues={":v": {"S": "a"}})),
    ("scan", {}),
])
def test_item_operations_on_a_missing_table(ddb, op, kw):
    with pytest.raises(ClientError) as e:
        getattr(ddb, op)(TableName=f"no-such-{uuid.uuid4().hex[:8]}", **kw)
    assert error_of(e) == NOT_FOUND
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_create_table_same_attribute_for_hash_and_range(ddb):
    name = f"t-{uuid.uuid4().hex[:10]}"
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}])
    assert error_of(e) == ("ValidationException", "Invalid KeySchema: Some index key attribute have no definition")
    assert name not in ddb.list_tables()["TableNames"]


def test_update_table_keeps_the_type_of_an_attribute_already_defined(ddb, make_table):
    name = make_table(range_type=None)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    # the table key redeclared as N while a GSI is added: AWS keeps S and creates the index
    ddb.update_table(TableName=name,
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "N"},
                                           {"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {
                         "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                         "Projection": {"ProjectionType": "ALL"}}}])
    table = _wait_active(ddb, name, "by-g")
    types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    assert types == {"pk": "S", "g": "S"}
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "g": {"S": "y"}})
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]["g"] == {"S": "x"}
    # a second index redeclaring g as N: g stays S, and the new index keys on S
    ddb.update_table(TableName=name,
                     AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "N"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {
                         "IndexName": "by-g2", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                         "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    table = _wait_active(ddb, name, "by-g2")
    assert {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]} == {"pk": "S", "g": "S"}
    got = ddb.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "y"}})["Items"]
    assert got == [{"pk": {"S": "b"}, "g": {"S": "y"}}]


@pytest.mark.parametrize("item", [
    {"pk": {"N": "5"}},                       # wrong type
    {"pk": {"L": [{"S": "x"}]}},              # not a scalar
    {"other": {"S": "x"}},                    # key missing
])
def test_batch_write_put_with_a_bad_key(ddb, make_table, item):
    name = make_table(range_type=None)
    ddb.put_item(TableName=name, Item={"pk": {"S": "keep"}})
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": "new"}}}},
                                                  {"PutRequest": {"Item": item}}]})
    assert error_of(e) == ("ValidationException", "The provided key element does not match the schema")
    assert ddb.scan(TableName=name)["Items"] == [{"pk": {"S": "keep"}}]
    # PutItem keeps its own wording
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"pk": {"N": "5"}})
    assert error_of(e) == ("ValidationException",
                           "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N")


def test_batch_get_mixing_projection_styles_across_tables(ddb, make_table):
    a, b = make_table(range_type=None), make_table(range_type=None)
    ddb.put_item(TableName=a, Item={"pk": {"S": "x"}, "v": {"S": "1"}})
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={a: {"Keys": [{"pk": {"S": "x"}}], "ProjectionExpression": "pk"},
                                         b: {"Keys": [{"pk": {"S": "x"}}], "AttributesToGet": ["pk"]}})
    assert error_of(e) == ("ValidationException",
                           "Can not use both expression and non-expression parameters in the same request: "
                           "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
    got = ddb.batch_get_item(RequestItems={a: {"Keys": [{"pk": {"S": "x"}}], "ProjectionExpression": "v"},
                                           b: {"Keys": [{"pk": {"S": "x"}}], "ProjectionExpression": "pk"}})
    assert got["Responses"] == {a: [{"v": {"S": "1"}}], b: []}


def test_expression_attribute_values_without_an_expression(ddb, make_table):
    name = make_table(range_type=None)
    key = {"pk": {"S": "a"}}
    ddb.put_item(TableName=name, Item={**key, "v": {"N": "1"}})
    eav = {"ExpressionAttributeValues": {":v": {"N": "2"}}}
    prefix = "ExpressionAttributeValues can only be specified when using expressions: "
    cases = [
        (ddb.put_item, dict(Item={**key, "v": {"N": "9"}}), "ConditionExpression is null"),
        (ddb.delete_item, dict(Key=key), "ConditionExpression is null"),
        (ddb.update_item, dict(Key=key, AttributeUpdates={"v": {"Value": {"N": "9"}}}),
         "UpdateExpression and ConditionExpression are null"),
        (ddb.scan, dict(ProjectionExpression="v"), "FilterExpression is null"),
        (ddb.query, dict(KeyConditions={"pk": {"AttributeValueList": [{"S": "a"}], "ComparisonOperator": "EQ"}}),
         "FilterExpression and KeyConditionExpression are null"),
    ]
    for fn, kw, tail in cases:
        with pytest.raises(ClientError) as e:
            fn(TableName=name, **kw, **eav)
        assert error_of(e) == ("ValidationException", prefix + tail)
    assert ddb.get_item(TableName=name, Key=key)["Item"] == {**key, "v": {"N": "1"}}


def test_enum_values_are_listed_in_aws_order(ddb_raw, make_table):
    name = make_table()
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    ddb_raw.put_item(TableName=name, Item=key)
    cases = [
        (ddb_raw.put_item, dict(Item={**key, "v": {"S": "x"}}, ReturnValues="INVALID"), "returnValues",
         "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"),
        (ddb_raw.query, dict(KeyConditionExpression="pk = :v", ExpressionAttributeValues={":v": {"S": "a"}},
                             Select="INVALID"), "select",
         "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"),
        (ddb_raw.scan, dict(ScanFilter={"v": {"ComparisonOperator": "INVALID"}}), "scanFilter.v.member.comparisonOperator",
         "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"),
    ]
    for fn, kw, path, values in cases:
        with pytest.raises(ClientError) as e:
            fn(TableName=name, **kw)
        assert error_of(e) == ("ValidationException", f"1 validation error detected: Value 'INVALID' at '{path}' "
                               f"failed to satisfy constraint: Member must satisfy enum value set: {values}")
    with pytest.raises(ClientError) as e:
        ddb_raw.create_table(TableName=f"t-{uuid.uuid4().hex[:10]}", BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "BOOL"}])
    assert error_of(e)[1] == ("1 validation error detected: Value 'BOOL' at 'attributeDefinitions.1.member.attributeType' "
                              "failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]")
    assert ddb_raw.scan(TableName=name)["Items"] == [key]


def test_empty_request_items(ddb_raw):
    with pytest.raises(ClientError) as e:
        ddb_raw.batch_write_item(RequestItems={})
    assert error_of(e) == ("ValidationException", "The requestItems parameter is required for BatchWriteItem")
    with pytest.raises(ClientError) as e:
        ddb_raw.batch_get_item(RequestItems={})
    assert error_of(e) == ("ValidationException", "1 validation error detected: Value at 'RequestItems' failed to "
                           "satisfy constraint: Member must have length greater than or equal to 1")


def _index_table(ddb, make_table):
    """pk/sk table; attribute 'ik' keys both an LSI (lsi1) and a GSI (gsi1), 'bk' (B) a GSI."""
    return make_table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "ik", "AttributeType": "S"}, {"AttributeName": "bk", "AttributeType": "B"}],
        LocalSecondaryIndexes=[{"IndexName": "lsi1", "Projection": {"ProjectionType": "ALL"},
                                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                              {"AttributeName": "ik", "KeyType": "RANGE"}]}],
        GlobalSecondaryIndexes=[{"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "ik", "KeyType": "HASH"}]},
                                {"IndexName": "gsib", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "bk", "KeyType": "HASH"}]}])


def _cancelled(ddb, items):
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=items)
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = e.value.response["CancellationReasons"]
    codes = ", ".join(r["Code"] for r in reasons)
    assert e.value.response["Error"]["Message"] == \
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
    return [(r["Code"], r.get("Message")) for r in reasons]


def test_transaction_key_of_the_wrong_type_cancels_with_a_validation_error(ddb, make_table):
    name = _index_table(ddb, make_table)
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=name, Item={**key, "v": {"N": "1"}})
    put_new = {"Put": {"TableName": name, "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}}
    mismatch = "The provided key element does not match the schema"
    index_type = "One or more parameter values were invalid: Type mismatch for Index Key ik Expected: S Actual: N IndexName: gsi1"
    cases = [
        ({"Put": {"TableName": name, "Item": {"pk": {"N": "5"}, "sk": {"S": "1"}}}},
         "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"),
        ({"Put": {"TableName": name, "Item": {"pk": {"L": [{"S": "x"}]}, "sk": {"S": "1"}}}},
         "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: L"),
        ({"Put": {"TableName": name, "Item": {**key, "ik": {"N": "5"}}}}, index_type),
        ({"Update": {"TableName": name, "Key": key, "UpdateExpression": "SET ik = :v",
                     "ExpressionAttributeValues": {":v": {"N": "5"}}}}, index_type),
        ({"Update": {"TableName": name, "Key": {**key, "pk": {"N": "5"}}, "UpdateExpression": "SET v = :v",
                     "ExpressionAttributeValues": {":v": {"N": "5"}}}}, mismatch),
        ({"Delete": {"TableName": name, "Key": {**key, "pk": {"L": [{"S": "x"}]}}}}, mismatch),
        ({"ConditionCheck": {"TableName": name, "Key": {**key, "pk": {"N": "5"}},
                             "ConditionExpression": "attribute_not_exists(pk)"}}, mismatch),
    ]
    for action, text in cases:
        assert _cancelled(ddb, [put_new, action]) == [("None", None), ("ValidationError", text)]
    with pytest.raises(ClientError) as e:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": key}},
                                              {"Get": {"TableName": name, "Key": {"pk": {"S": "a"}}}}])
    assert e.value.response["CancellationReasons"] == [{"Code": "None"}, {"Code": "ValidationError", "Message": mismatch}]
    assert ddb.scan(TableName=name)["Items"] == [{**key, "v": {"N": "1"}}]


def test_empty_index_key_set_by_an_update(ddb, make_table):
    name = _index_table(ddb, make_table)
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=name, Item={**key, "ik": {"S": "x"}})
    text = ("One or more parameter values are not valid. The update expression attempted to update a secondary index "
            "key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty {} value.")
    for attr, value, kind in (("ik", {"S": ""}, "string"), ("bk", {"B": b""}, "binary")):
        update = dict(Key=key, UpdateExpression=f"SET {attr} = :v", ExpressionAttributeValues={":v": value})
        with pytest.raises(ClientError) as e:
            ddb.update_item(TableName=name, **update)
        assert error_of(e) == ("ValidationException", text.format(kind))
        with pytest.raises(ClientError) as e:
            ddb.transact_write_items(TransactItems=[{"Update": {"TableName": name, **update}}])
        assert error_of(e) == ("ValidationException", text.format(kind))
    # a PutItem names the index (gsi1 before lsi1, by name) and the attribute
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={**key, "ik": {"S": ""}})
    assert error_of(e) == ("ValidationException",
                           "One or more parameter values are not valid. A value specified for a secondary index key is "
                           "not supported. The AttributeValue for a key attribute cannot contain an empty string value. "
                           "IndexName: gsi1, IndexKey: ik")
    assert ddb.get_item(TableName=name, Key=key)["Item"] == {**key, "ik": {"S": "x"}}


def test_list_values_are_quoted_in_validation_errors(ddb_raw, make_table):
    name = make_table(range_type=None)
    for fn in (ddb_raw.transact_write_items, ddb_raw.transact_get_items):
        with pytest.raises(ClientError) as e:
            fn(TransactItems=[])
        assert error_of(e) == ("ValidationException", "1 validation error detected: Value '[]' at 'transactItems' "
                               "failed to satisfy constraint: Member must have length greater than or equal to 1")
    with pytest.raises(ClientError) as e:
        ddb_raw.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": {"pk": {"S": f"k{i}"}}}}
                                                    for i in range(101)])
    msg = error_of(e)[1]
    assert msg.startswith("1 validation error detected: Value '[") and msg.endswith(
        "]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
    assert ddb_raw.scan(TableName=name)["Count"] == 0


@pytest.mark.parametrize("literal, cost", [("3.14159", 5), ("123456", 4), ("100.5", 4), ("1.5", 3), ("1.200", 3),
                                           ("0", 1), ("-0", 1), ("-42", 3), ("1E125", 2), ("0.0000001", 2)])
def test_number_byte_cost_at_the_item_size_limit(ddb, make_table, literal, cost):
    name = make_table(range_type=None)

    def item(pk, total):
        pad = total - len("pk") - len(pk) - len("n") - cost - len("p")
        return {"pk": {"S": pk}, "n": {"N": literal}, "p": {"S": "x" * pad}}

    ddb.put_item(TableName=name, Item=item("at", 409_600))
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item=item("ov", 409_601))
    assert error_of(e) == ("ValidationException", "Item size has exceeded the maximum allowed size")
    assert [i["pk"]["S"] for i in ddb.scan(TableName=name, ProjectionExpression="pk")["Items"]] == ["at"]


def test_transaction_item_size_limit_by_action(ddb, make_table):
    name = make_table(range_type=None)
    ddb.put_item(TableName=name, Item={"pk": {"S": "old"}, "p": {"S": "small"}})
    pad = 409_601 - len("pk") - len("old") - len("p")  # one byte over the limit
    # a Put's size is known from the request: a plain ValidationException
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": name,
                                                         "Item": {"pk": {"S": "old"}, "p": {"S": "x" * pad}}}}])
    assert error_of(e) == ("ValidationException", "Item size has exceeded the maximum allowed size")
    # an Update's depends on the stored item: the transaction is cancelled
    for key in ("old", "new"):
        with pytest.raises(ClientError) as e:
            ddb.transact_write_items(TransactItems=[
                {"ConditionCheck": {"TableName": name, "Key": {"pk": {"S": "old"}},
                                    "ConditionExpression": "attribute_exists(pk)"}} if key == "new" else
                {"Put": {"TableName": name, "Item": {"pk": {"S": "other"}}}},
                {"Update": {"TableName": name, "Key": {"pk": {"S": key}}, "UpdateExpression": "SET p = :p",
                            "ExpressionAttributeValues": {":p": {"S": "x" * pad}}}}])
        assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert e.value.response["CancellationReasons"] == [
            {"Code": "None"},
            {"Code": "ValidationError", "Message": "Item size to update has exceeded the maximum allowed size"}]
    assert ddb.scan(TableName=name)["Items"] == [{"pk": {"S": "old"}, "p": {"S": "small"}}]


def test_update_table_billing_mode_no_ops(ddb, make_table):
    # on demand -> on demand is accepted and changes nothing
    name = make_table(range_type=None)
    table = ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")["TableDescription"]
    assert table["TableStatus"] == "UPDATING"  # what AWS answers, though nothing happens
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    assert _wait_active(ddb, name)["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # provisioned -> provisioned with the same throughput is refused, with or without BillingMode
    name = make_table(range_type=None, BillingMode="PROVISIONED",
                      ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    for extra in ({}, {"BillingMode": "PROVISIONED"}):
        with pytest.raises(ClientError) as e:
            ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                             **extra)
        assert error_of(e)[0] == "ValidationException"
        assert error_of(e)[1].startswith("The provisioned throughput for the table will not change.")
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE" and "LastIncreaseDateTime" not in table["ProvisionedThroughput"]


def test_query_exclusive_start_key_outside_the_key_condition(ddb, make_table):
    name = make_table()
    for sk in ("a", "b", "c"):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": sk}})
    q = dict(TableName=name, ExpressionAttributeValues={":p": {"S": "p"}, ":b": {"S": "b"}})
    outside = ("ValidationException", "The provided starting key is outside query boundaries based on provided conditions")
    predicate = ("ValidationException", "The provided starting key does not match the range key predicate")
    cases = [
        (dict(KeyConditionExpression="pk = :p"), {"pk": {"S": "q"}, "sk": {"S": "a"}}, outside),
        (dict(KeyConditionExpression="pk = :p AND sk > :b"), {"pk": {"S": "p"}, "sk": {"S": "a"}}, predicate),
        (dict(KeyConditionExpression="pk = :p AND :b < sk"), {"pk": {"S": "p"}, "sk": {"S": "b"}}, predicate),
        (dict(KeyConditionExpression="pk = :p AND begins_with(sk, :b)"), {"pk": {"S": "p"}, "sk": {"S": "c"}}, predicate),
        (dict(KeyConditionExpression="pk = :p AND sk >= :b"), {"pk": {"S": "q"}, "sk": {"S": "c"}}, outside),
    ]
    for kce, esk, error in cases:
        kw = {**q, **kce}
        if ":b" not in kce["KeyConditionExpression"]:
            kw["ExpressionAttributeValues"] = {":p": {"S": "p"}}
        with pytest.raises(ClientError) as e:
            ddb.query(**kw, ExclusiveStartKey=esk)
        assert error_of(e) == error, kce
    # inside the condition it pages on
    got = ddb.query(**q, KeyConditionExpression="pk = :p AND sk >= :b",
                    ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"S": "b"}})["Items"]
    assert got == [{"pk": {"S": "p"}, "sk": {"S": "c"}}]


def test_describe_table_warm_throughput(ddb, make_table):
    name = make_table(range_type=None, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                             {"AttributeName": "g", "AttributeType": "S"}],
                      GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                               "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])
    table = _wait_active(ddb, name, "by-g")
    base = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"}
    assert table["WarmThroughput"] == base
    assert table["GlobalSecondaryIndexes"][0]["WarmThroughput"] == base
    name = make_table(range_type=None, WarmThroughput={"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 5000})
    assert _wait_active(ddb, name)["WarmThroughput"] == {"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 5000,
                                                          "Status": "ACTIVE"}
    ddb.update_table(TableName=name, WarmThroughput={"ReadUnitsPerSecond": 20000})
    assert _wait_active(ddb, name)["WarmThroughput"] == {"ReadUnitsPerSecond": 20000, "WriteUnitsPerSecond": 5000,
                                                          "Status": "ACTIVE"}


@pytest.mark.parametrize("policy, detail", [
    ("", "This policy contains invalid Json"),
    ("[]", "This policy contains invalid Json"),
    ("null", "This text appears not to be a policy"),
    ("{}", "Syntax error at position (1,3)"),
    ('{"Version": "2012-10-17", "Statement": []}', "Could not parse the policy: Statement is empty!"),
    ('{"Version": "2012-10-17", "Statement": [{}]}', "Missing required field Effect"),
])
def test_resource_policy_documents_aws_refuses(ddb_raw, make_table, policy, detail):
    name = make_table(range_type=None)
    arn = ddb_raw.describe_table(TableName=name)["Table"]["TableArn"]
    message = "One or more parameter values were invalid: Invalid policy document: " + detail
    with pytest.raises(ClientError) as e:
        ddb_raw.put_resource_policy(ResourceArn=arn, Policy=policy)
    assert error_of(e) == ("ValidationException", message)
    with pytest.raises(ClientError) as e:
        ddb_raw.get_resource_policy(ResourceArn=arn)
    assert error_of(e)[0] == "PolicyNotFoundException"
    other = f"t-{uuid.uuid4().hex[:10]}"
    with pytest.raises(ClientError) as e:
        ddb_raw.create_table(TableName=other, BillingMode="PAY_PER_REQUEST", ResourcePolicy=policy,
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    assert error_of(e) == ("ValidationException", message)
    assert other not in ddb_raw.list_tables()["TableNames"]


def test_update_time_to_live_rules_and_cooldown():
    from tests.conftest import ServerProcess, make_client
    srv = ServerProcess().start()
    try:
        ddb = make_client("dynamodb", srv.url)
        ddb.create_table(TableName="ttl-rules", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        _wait_active(ddb, "ttl-rules")

        def update(enabled, attr):
            return ddb.update_time_to_live(TableName="ttl-rules",
                                           TimeToLiveSpecification={"Enabled": enabled, "AttributeName": attr})

        def refused(enabled, attr, message):
            with pytest.raises(ClientError) as e:
                update(enabled, attr)
            assert error_of(e) == ("ValidationException", message)

        update(True, "ttl_a")
        # the request's own faults are reported first, also inside the cooldown
        refused(True, "ttl_a", "TimeToLive is already enabled")
        refused(True, "ttl_b", "TimeToLive is active on a different AttributeName: current AttributeName is ttl_a")
        refused(False, "ttl_b", "TimeToLive is active on a different AttributeName: current AttributeName is ttl_a")
        refused(False, "ttl_a", "Time to live has been modified multiple times within a fixed interval")
        assert ddb.describe_time_to_live(TableName="ttl-rules")["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "ttl_a"}
        srv.advance_clock(31 * 60)
        assert update(False, "ttl_a")["TimeToLiveSpecification"] == {"Enabled": False, "AttributeName": "ttl_a"}
        refused(False, "ttl_a", "TimeToLive is already disabled")
        refused(True, "ttl_b", "Time to live has been modified multiple times within a fixed interval")
        assert ddb.describe_time_to_live(TableName="ttl-rules")["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    finally:
        srv.stop()


def test_update_table_unknown_gsi(ddb, make_table):
    name = make_table(range_type=None, BillingMode="PROVISIONED",
                      ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                            {"AttributeName": "g", "AttributeType": "S"}],
                      GlobalSecondaryIndexes=[{"IndexName": "real", "Projection": {"ProjectionType": "ALL"},
                                               "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                               "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}])
    _wait_active(ddb, name, "real")
    pt = {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2}
    for updates in ([{"Delete": {"IndexName": "ghost"}}],
                    [{"Update": {"IndexName": "ghost", "ProvisionedThroughput": pt}}],
                    [{"Update": {"IndexName": "real", "ProvisionedThroughput": pt}},
                     {"Update": {"IndexName": "ghost", "ProvisionedThroughput": pt}}]):
        with pytest.raises(ClientError) as e:
            ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=updates)
        assert error_of(e) == ("ResourceNotFoundException", f"Requested resource not found: Index ghost for table {name}")
    gsi = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert gsi["ProvisionedThroughput"]["ReadCapacityUnits"] == 1  # the valid entry was not applied


def test_deletion_protection_changes_are_15_seconds_apart():
    from tests.conftest import ServerProcess, make_client
    srv = ServerProcess().start()
    try:
        ddb = make_client("dynamodb", srv.url)
        ddb.create_table(TableName="dp-cooldown", BillingMode="PAY_PER_REQUEST", DeletionProtectionEnabled=True,
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        _wait_active(ddb, "dp-cooldown")
        ddb.update_table(TableName="dp-cooldown", DeletionProtectionEnabled=False)  # creation does not count
        with pytest.raises(ClientError) as e:
            ddb.update_table(TableName="dp-cooldown", DeletionProtectionEnabled=True)
        code, message = error_of(e)
        assert (code, e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("ThrottlingException", 400)
        assert message.startswith("Deletion protection setting for table dp-cooldown modified within the previous "
                                  "15000 milliseconds. Please try again after 20")
        assert message.endswith("Z")
        assert ddb.describe_table(TableName="dp-cooldown")["Table"]["DeletionProtectionEnabled"] is False
        srv.advance_clock(15)
        ddb.update_table(TableName="dp-cooldown", DeletionProtectionEnabled=True)
        assert _wait_active(ddb, "dp-cooldown")["DeletionProtectionEnabled"] is True
    finally:
        srv.stop()


def test_update_table_one_kind_of_change_per_call(ddb, make_table):
    name = make_table(range_type=None, BillingMode="PROVISIONED",
                      ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    before = ddb.describe_table(TableName=name)["Table"]
    pt = {"ReadCapacityUnits": 6, "WriteCapacityUnits": 6}
    stream = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    create = [{"Create": {"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                          "Projection": {"ProjectionType": "ALL"}, "ProvisionedThroughput": pt}}]
    invalid = "One or more parameter values were invalid: "
    cases = [
        (dict(SSESpecification={"Enabled": True}, DeletionProtectionEnabled=True),
         invalid + "Server-Side Encryption modification must be the only operation in the request"),
        (dict(TableClass="STANDARD_INFREQUENT_ACCESS", DeletionProtectionEnabled=True),
         invalid + "TableClass modification must be the only operation in the request"),
        (dict(DeletionProtectionEnabled=True, ProvisionedThroughput=pt),
         invalid + "DeletionProtection modification must be the only operation in the request"),
        (dict(DeletionProtectionEnabled=True, WarmThroughput={"ReadUnitsPerSecond": 20000}),
         invalid + "DeletionProtection modification must be the only operation in the request"),
        (dict(OnDemandThroughput={"MaxReadRequestUnits": 10}, StreamSpecification=stream),
         invalid + "OnDemandThroughput can only be combined with BillingMode in an UpdateTable request"),
        (dict(ProvisionedThroughput=pt, StreamSpecification=stream),
         invalid + "You cannot modify stream status while updating table IOPS"),
        (dict(ProvisionedThroughput=pt, GlobalSecondaryIndexUpdates=create,
              AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}]),
         invalid + "You cannot create or delete index while updating table IOPS"),
        (dict(StreamSpecification=stream, GlobalSecondaryIndexUpdates=create,
              AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}]),
         invalid + "You cannot create or delete index while changing stream status"),
        (dict(WarmThroughput={"ReadUnitsPerSecond": 20000}, GlobalSecondaryIndexUpdates=create,
              AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}]),
         invalid + "Create global secondary index cannot be specified when updating WarmThroughput"),
        (dict(WarmThroughput={"ReadUnitsPerSecond": 20000}, ProvisionedThroughput=pt),
         invalid + "WarmThroughput must be the only operation in the request"),
    ]
    for kw, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.update_table(TableName=name, **kw)
        assert error_of(e) == ("ValidationException", message), kw
    after = ddb.describe_table(TableName=name)["Table"]
    assert after == before
    # the BillingMode-centred pair is accepted
    table = ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST", StreamSpecification=stream)["TableDescription"]
    assert table["StreamSpecification"] == stream
    assert _wait_active(ddb, name)["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_provisioned_throughput_updates_as_aws_answers_them():
    from datetime import datetime, timezone
    from tests.conftest import ServerProcess, make_client
    srv = ServerProcess().start()
    try:
        ddb = make_client("dynamodb", srv.url)
        # a clock at 10:00 UTC, so the day does not end inside the test
        now = datetime.now(timezone.utc).timestamp()
        srv.advance_clock(86400 - now % 86400 + 36000)
        created = ddb.create_table(TableName="pt-table", BillingMode="PROVISIONED",
                                   ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
                                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])["TableDescription"]
        assert "WarmThroughput" not in created and "BillingModeSummary" not in created
        table = _wait_active(ddb, "pt-table")
        assert "BillingModeSummary" not in table
        assert table["WarmThroughput"] == {"ReadUnitsPerSecond": 10, "WriteUnitsPerSecond": 10, "Status": "ACTIVE"}
        with pytest.raises(ClientError) as e:
            ddb.update_table(TableName="pt-table", BillingMode="PROVISIONED")
        assert error_of(e) == ("ValidationException", "One or more parameter values were invalid: "
                               "ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
        # the answer carries the units in force before the change
        got = ddb.update_table(TableName="pt-table", BillingMode="PROVISIONED",
                               ProvisionedThroughput={"ReadCapacityUnits": 12, "WriteCapacityUnits": 12})["TableDescription"]
        assert (got["TableStatus"], got["ProvisionedThroughput"]["ReadCapacityUnits"]) == ("UPDATING", 10)
        assert "LastIncreaseDateTime" in got["ProvisionedThroughput"]
        table = _wait_active(ddb, "pt-table")
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 12 and "BillingModeSummary" not in table
        # four decreases a UTC day, then one an hour
        for i, units in enumerate((11, 10, 9, 8)):
            got = ddb.update_table(TableName="pt-table", ProvisionedThroughput={"ReadCapacityUnits": units,
                                                                          "WriteCapacityUnits": units})
            assert got["TableDescription"]["ProvisionedThroughput"]["NumberOfDecreasesToday"] == i
            _wait_active(ddb, "pt-table")
        table = ddb.describe_table(TableName="pt-table")["Table"]
        assert table["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 4
        assert table["WarmThroughput"] == {"ReadUnitsPerSecond": 12, "WriteUnitsPerSecond": 12, "Status": "ACTIVE"}
        with pytest.raises(ClientError) as e:
            ddb.update_table(TableName="pt-table", ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 8})
        code, message = error_of(e)
        assert code == "LimitExceededException"
        assert message.startswith(
            "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. After the "
            "first 4 decreases, each subsequent decrease in the same UTC day can be performed at most once every 3600 "
            "seconds. Number of decreases today: 4. Last decrease at ")
        assert " AM Coordinated Universal Time. Next decrease can be made at " in message
        assert message.endswith(" AM Coordinated Universal Time")
        # increases are not limited; an hour later one more decrease is admitted
        ddb.update_table(TableName="pt-table", ProvisionedThroughput={"ReadCapacityUnits": 9, "WriteCapacityUnits": 9})
        _wait_active(ddb, "pt-table")
        srv.advance_clock(3600)
        ddb.update_table(TableName="pt-table", ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 7})
        assert _wait_active(ddb, "pt-table")["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 5
        # the count starts again at 00:00 UTC
        srv.advance_clock(86400)
        assert ddb.describe_table(TableName="pt-table")["Table"]["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 0
    finally:
        srv.stop()


def test_tag_validation(ddb_raw, make_table):
    name = make_table(range_type=None)
    arn = ddb_raw.describe_table(TableName=name)["Table"]["TableArn"]
    ddb_raw.tag_resource(ResourceArn=arn, Tags=[{"Key": "keep", "Value": "café ключ a+b-c=d.e_f:g/h@i"}])
    good = {"Key": "good", "Value": "v"}
    cases = [
        ([good, {"Key": "k" * 129, "Value": "v"}], "The Tag Key provided is invalid, Key: " + "k" * 129),
        ([good, {"Key": "k", "Value": "v" * 257}], "The Tag Value provided is invalid, Value: " + "v" * 257),
        ([good, {"Key": "", "Value": "v"}], "The Tag Key provided is invalid, Key: "),
        ([good, {"Key": "k"}], "The Tag Value provided is invalid, Value: null"),
        ([good, {"Value": "v"}], "The Tag Key provided is invalid, Key: null"),
        ([good, {"Key": "k", "Value": "100%"}], "The Tag Value provided is invalid, Value: 100%"),
        ([good, {"Key": "a,b", "Value": "v"}], "The Tag Key provided is invalid, Key: a,b"),
        ([good, {"Key": "aws:zzz", "Value": "v"}], "Tag Key cannot be prefixed with aws:, Key: aws:zzz"),
        ([good, {"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
         "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"),
    ]
    for tags, message in cases:
        with pytest.raises(ClientError) as e:
            ddb_raw.tag_resource(ResourceArn=arn, Tags=tags)
        assert error_of(e) == ("ValidationException", message)
    for keys, message in ((["k" * 129], "The Tag Key provided is invalid, Key: " + "k" * 129),
                          ([f"k{i}" for i in range(51)],
                           "Number of Tags exceed the current limit for the provided ResourceArn")):
        with pytest.raises(ClientError) as e:
            ddb_raw.untag_resource(ResourceArn=arn, TagKeys=keys)
        assert error_of(e) == ("ValidationException", message)
    assert ddb_raw.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "keep", "Value": "café ключ a+b-c=d.e_f:g/h@i"}]


def test_update_table_gsi_update_on_an_on_demand_table(ddb_raw, make_table):
    name = make_table(range_type=None, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                             {"AttributeName": "g", "AttributeType": "S"}],
                      GlobalSecondaryIndexes=[{"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"},
                                               "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])
    _wait_active(ddb_raw, name, "gsi1")
    invalid = "One or more parameter values were invalid: "
    for update, message in (
            ({"IndexName": "gsi1"}, "The only Updates for index: gsi1 when TableThroughputMode is PAY_PER_REQUEST "
                                    "can be to OnDemandThroughput, WarmThroughput"),
            ({"IndexName": "gsi1", "OnDemandThroughput": {}},
             "The only Updates for index: gsi1 when TableThroughputMode is PAY_PER_REQUEST can be to "
             "OnDemandThroughput, WarmThroughput"),
            ({"IndexName": "gsi1", "WarmThroughput": {}},
             "WarmThroughput must have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond specified for "
             "index: gsi1"),
            ({"IndexName": "ghost", "WarmThroughput": {}},
             "WarmThroughput must have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond specified for "
             "index: ghost")):
        with pytest.raises(ClientError) as e:
            ddb_raw.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Update": update}])
        assert error_of(e) == ("ValidationException", invalid + message)
    table = ddb_raw.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"


def test_transaction_replay_reports_read_capacity(ddb, make_table):
    name = make_table(range_type=None)
    items = [{"Put": {"TableName": name, "Item": {"pk": {"S": f"k{i}"}, "v": {"S": "x"}}}} for i in range(2)]
    token = uuid.uuid4().hex
    first = ddb.transact_write_items(TransactItems=items, ClientRequestToken=token, ReturnConsumedCapacity="TOTAL")
    assert first["ConsumedCapacity"] == [{"TableName": name, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0}]
    again = ddb.transact_write_items(TransactItems=items, ClientRequestToken=token, ReturnConsumedCapacity="TOTAL")
    assert again["ConsumedCapacity"] == [{"TableName": name, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}]
    assert ddb.scan(TableName=name)["Count"] == 2


def test_create_table_without_a_name(ddb_raw):
    before = ddb_raw.list_tables()["TableNames"]
    with pytest.raises(ClientError) as e:
        ddb_raw.create_table(BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    assert error_of(e) == ("ValidationException", "The parameter 'TableName' is required but was not present in the request")
    assert ddb_raw.list_tables()["TableNames"] == before
