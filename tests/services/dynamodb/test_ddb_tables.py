"""Table control plane: CreateTable validation, DescribeTable, ListTables,
UpdateTable (throughput, billing, GSIs with backfill, streams), DeleteTable."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import error_of, hash_range


def _name():
    return f"t-{uuid.uuid4().hex[:10]}"


def test_create_describe_list_delete(ddb):
    name = _name()
    desc = ddb.create_table(TableName=name, **hash_range())["TableDescription"]
    assert desc["TableStatus"] == "CREATING"
    assert desc["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["ItemCount"] == 0 and table["TableSizeBytes"] == 0
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert name in ddb.list_tables(Limit=100)["TableNames"] or True
    # by ARN too
    assert ddb.describe_table(TableName=table["TableArn"])["Table"]["TableId"] == table["TableId"]
    assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=name)
    assert error_of(e) == ("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")


def test_create_twice_and_recreate_after_delete(ddb):
    name = _name()
    ddb.create_table(TableName=name, **hash_range())
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, **hash_range())
    assert error_of(e) == ("ResourceInUseException", f"Table already exists: {name}")
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    ddb.create_table(TableName=name, **hash_range())
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    # the new table is empty: the old table's data went with its id
    assert ddb.scan(TableName=name)["Count"] == 0
    ddb.delete_table(TableName=name)


@pytest.mark.parametrize("spec, message", [
    (dict(KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
          AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "S"}]),
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [a], AttributeDefinitions: [b]"),
    (dict(KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
          AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}, {"AttributeName": "b", "AttributeType": "S"}]),
     "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number "
     "of attributes defined in AttributeDefinitions"),
    (dict(KeySchema=[{"AttributeName": "a", "KeyType": "RANGE"}],
          AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}]),
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    (dict(KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "a", "KeyType": "RANGE"}],
          AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}]),
     "Invalid KeySchema: Some index key attribute have no definition"),
    (dict(KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "HASH"}],
          AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}, {"AttributeName": "b", "AttributeType": "S"}]),
     "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"),
])
def test_create_table_key_schema_errors(ddb, spec, message):
    name = _name()
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **spec)
    assert error_of(e) == ("ValidationException", message)
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=name)  # nothing half-created


def test_create_table_billing_errors(ddb):
    name = _name()
    spec = hash_range()
    spec.pop("BillingMode")
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, **spec)
    assert "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                         **hash_range())
    assert error_of(e)[1] == ("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                              "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName="ab", **hash_range())
    assert error_of(e)[1] == ("1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
                              "Member must have length greater than or equal to 3")
    assert name not in ddb.list_tables()["TableNames"]


def test_provisioned_table_and_update_throughput(ddb):
    name = _name()
    spec = hash_range()
    spec.pop("BillingMode")
    ddb.create_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}, **spec)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert error_of(e)[1].startswith("The provisioned throughput for the table will not change.")
    d = ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 9})
    assert d["TableDescription"]["TableStatus"] == "UPDATING"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    pt = ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"], pt["NumberOfDecreasesToday"]) == (2, 9, 1)
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    assert ddb.describe_table(TableName=name)["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name)
    assert error_of(e)[1].startswith("At least one of ProvisionedThroughput, BillingMode")
    ddb.delete_table(TableName=name)


def test_list_tables_pagination(ddb):
    prefix = f"lt-{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        ddb.create_table(TableName=n, **hash_range())
    seen = []
    kwargs = {"Limit": 2}
    while True:
        page = ddb.list_tables(**kwargs)
        seen += page["TableNames"]
        if "LastEvaluatedTableName" not in page:
            break
        assert len(page["TableNames"]) == 2
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    assert [n for n in seen if n.startswith(prefix)] == names
    assert seen == sorted(seen)
    for n in names:
        ddb.delete_table(TableName=n)


def test_deletion_protection(ddb):
    name = _name()
    ddb.create_table(TableName=name, DeletionProtectionEnabled=True, **hash_range())
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName=name)
    assert error_of(e) == ("ValidationException", "Resource cannot be deleted as it is currently protected against "
                                                   "deletion. Disable deletion protection first.")
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=name)


def test_gsi_lsi_create_and_describe(ddb):
    name = _name()
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "l")],
        GlobalSecondaryIndexes=[{"IndexName": "gsi1", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}}],
        LocalSecondaryIndexes=[{"IndexName": "lsi1", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                    {"AttributeName": "l", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        SSESpecification={"Enabled": True}, TableClass="STANDARD_INFREQUENT_ACCESS",
        Tags=[{"Key": "k", "Value": "v"}])
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    assert t["GlobalSecondaryIndexes"][0]["IndexArn"].endswith(f"table/{name}/index/gsi1")
    assert t["LocalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert t["LatestStreamArn"].startswith(t["TableArn"] + "/stream/")
    assert t["SSEDescription"]["Status"] == "ENABLED"
    assert t["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "k", "Value": "v"}]
    ddb.delete_table(TableName=name)


def test_lsi_rules(ddb):
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=_name(), BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "l")],
            LocalSecondaryIndexes=[{"IndexName": "lsi1", "KeySchema": [{"AttributeName": "l", "KeyType": "HASH"},
                                                                        {"AttributeName": "sk", "KeyType": "RANGE"}],
                                    "Projection": {"ProjectionType": "ALL"}}])
    assert error_of(e)[1] == ("One or more parameter values were invalid: Index KeySchema does not have the same "
                              "leading hash key as table KeySchema for index: lsi1. index hash key: l, table hash key: pk")


def test_update_table_gsi_backfill(ddb, ddbr):
    name = _name()
    ddb.create_table(TableName=name, **hash_range())
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    t = ddbr.Table(name)
    with t.batch_writer() as bw:
        for i in range(1200):
            bw.put_item(Item={"pk": f"p{i}", "sk": "s", "g": f"g{i % 3}"} if i % 10 else {"pk": f"p{i}", "sk": "s"})
    d = ddb.update_table(
        TableName=name, AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "byg", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                                 "Projection": {"ProjectionType": "ALL"}}}])["TableDescription"]
    assert [i["IndexStatus"] for i in d["GlobalSecondaryIndexes"]] == ["CREATING"]
    assert ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
    # (a Delete now would cancel the creation: test_ddb_clients.test_delete_cancels_a_backfilling_index)
    deadline = time.time() + 10
    while ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"] != "ACTIVE":
        assert time.time() < deadline
        time.sleep(0.05)
    from boto3.dynamodb.conditions import Key
    assert t.query(IndexName="byg", KeyConditionExpression=Key("g").eq("g1"), Select="COUNT")["Count"] == 360
    gsi = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert gsi["ItemCount"] == 1080
    ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byg"}}])
    deadline = time.time() + 10
    while ddb.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes"):
        assert time.time() < deadline
        time.sleep(0.05)
    with pytest.raises(ClientError) as e:
        t.query(IndexName="byg", KeyConditionExpression=Key("g").eq("g1"))
    assert error_of(e)[1] == "The table does not have the specified index: byg"
    ddb.delete_table(TableName=name)


def test_update_table_streams(ddb, make_table):
    name = make_table()
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert error_of(e)[1] == f"Table has no stream to disable: TableName: {name}"
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    assert error_of(e)[1] == f"Table already has an enabled stream: TableName: {name}"
    assert ddb.describe_table(TableName=name)["Table"]["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"


def test_unknown_table_operations(ddb):
    for call in (lambda: ddb.delete_table(TableName="no-such-table"),
                 lambda: ddb.update_table(TableName="no-such-table", BillingMode="PAY_PER_REQUEST"),
                 lambda: ddb.describe_time_to_live(TableName="no-such-table")):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == ("ResourceNotFoundException", "Requested resource not found: Table: no-such-table not found")


def test_describe_limits_and_endpoints(ddb):
    assert ddb.describe_limits()["TableMaxReadCapacityUnits"] == 40000
    assert ddb.describe_endpoints()["Endpoints"][0]["CachePeriodInMinutes"] == 1440


def _counters(ddb, name):
    t = ddb.describe_table(TableName=name)["Table"]
    return (t["ItemCount"], t["TableSizeBytes"],
            {ix["IndexName"]: (ix["ItemCount"], ix["IndexSizeBytes"]) for ix in t.get("GlobalSecondaryIndexes", [])})


def _counted_table(ddb):
    name = _name()
    spec = hash_range()
    spec["AttributeDefinitions"].append({"AttributeName": "g", "AttributeType": "S"})
    spec["GlobalSecondaryIndexes"] = [{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                       "Projection": {"ProjectionType": "KEYS_ONLY"}}]
    ddb.create_table(TableName=name, **spec)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    return name


def _write_and_check(ddb, name):
    """Every write path moves the counters by exactly what it wrote; a
    cancelled transaction moves nothing. Sizes by the item-size rules:
    pk/"a" + sk/"1" = 6 bytes, + g/"G" = 8, + v/"12345" = 14; pk/"b0" + sk/"1" = 7."""
    key = lambda pk, sk="1": {"pk": {"S": pk}, "sk": {"S": sk}}  # noqa: E731
    ddb.put_item(TableName=name, Item={**key("a"), "g": {"S": "G"}})
    assert _counters(ddb, name) == (1, 8, {"by-g": (1, 8)})
    ddb.update_item(TableName=name, Key=key("a"), UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"S": "12345"}})
    assert _counters(ddb, name) == (1, 14, {"by-g": (1, 8)})
    ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": key(f"b{i}")}} for i in range(5)]})
    assert _counters(ddb, name) == (6, 14 + 5 * 7, {"by-g": (1, 8)})
    ddb.transact_write_items(TransactItems=[
        {"Delete": {"TableName": name, "Key": key("b0")}},
        {"Update": {"TableName": name, "Key": key("a"), "UpdateExpression": "REMOVE g"}}])
    assert _counters(ddb, name) == (5, 12 + 4 * 7, {"by-g": (0, 0)})
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {**key("c"), "g": {"S": "G"}}}},
            {"ConditionCheck": {"TableName": name, "Key": key("zz"), "ConditionExpression": "attribute_exists(pk)"}}])
    with pytest.raises(ClientError):
        ddb.put_item(TableName=name, Item=key("a"), ConditionExpression="attribute_not_exists(pk)")
    ddb.delete_item(TableName=name, Key=key("nothing-here"))
    expected = (5, 40, {"by-g": (0, 0)})
    assert _counters(ddb, name) == expected
    return expected


def test_counters_are_exact_and_live(ddb):
    name = _counted_table(ddb)
    _write_and_check(ddb, name)
    ddb.delete_table(TableName=name)


@pytest.mark.slow
def test_counters_survive_restart(durable_server):
    from tests.conftest import make_client

    ddb = make_client("dynamodb", durable_server.url)
    name = _counted_table(ddb)
    expected = _write_and_check(ddb, name)
    durable_server.restart()
    assert _counters(make_client("dynamodb", durable_server.url), name) == expected
