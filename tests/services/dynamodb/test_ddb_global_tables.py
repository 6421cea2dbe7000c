"""DynamoDB global tables (version 2019.11.21) through boto3 against the running server:
UpdateTable ReplicaUpdates, what DescribeTable shows in each region, every write path
replicated, settings that are shared or per replica, refusals, kill -9, concurrent writers.

Replication in cloudlet is synchronous (one process, one store): a write is in every
replica when its call returns, so these tests read the other regions at once."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.services.dynamodb.conftest import error_of

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
LOCAL = ("Cannot add or delete the local region through ReplicaUpdates. "
         "Use CreateTable, DeleteTable, or UpdateTable as required.")


def S(v):
    return {"S": v}


def key(pk, sk=None):
    return {"pk": S(pk)} if sk is None else {"pk": S(pk), "sk": S(sk)}


def wait_settled(ddb, name, timeout=5.0) -> dict:
    """The table's description once it and every replica it lists are ACTIVE."""
    deadline = time.time() + timeout
    while True:
        t = ddb.describe_table(TableName=name)["Table"]
        if t["TableStatus"] == "ACTIVE" and all(r["ReplicaStatus"] == "ACTIVE" for r in t.get("Replicas", ())) \
                and all(g["IndexStatus"] == "ACTIVE" for g in t.get("GlobalSecondaryIndexes", ())):
            return t
        assert time.time() < deadline, t
        time.sleep(0.02)


def wait_gone(ddb, name, timeout=5.0) -> None:
    deadline = time.time() + timeout
    while name in ddb.list_tables()["TableNames"]:
        assert time.time() < deadline
        time.sleep(0.02)


@pytest.fixture
def regions(server):
    return {r: make_client("dynamodb", server.url, r) for r in (EAST, WEST, EU)}


@pytest.fixture
def global_table(regions):
    """make(replicas=(WEST,), **create_table args) -> name: a table in us-east-1 with
    replicas added one UpdateTable each; every replica is deleted at the end."""
    made = []

    def make(replicas=(WEST,), ranged=False, **kw):
        name = f"g-{uuid.uuid4().hex[:10]}"
        spec = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST"}
        if ranged:
            spec["KeySchema"].append({"AttributeName": "sk", "KeyType": "RANGE"})
            spec["AttributeDefinitions"].append({"AttributeName": "sk", "AttributeType": "S"})
        for d in kw.pop("extra_attributes", ()):
            spec["AttributeDefinitions"].append({"AttributeName": d, "AttributeType": "S"})
        spec.update(kw)
        regions[EAST].create_table(TableName=name, **spec)
        made.append(name)
        wait_settled(regions[EAST], name)
        for r in replicas:
            add_replica(regions[EAST], name, r)
        return name

    yield make
    for name in made:
        for ddb in regions.values():
            try:
                ddb.delete_table(TableName=name)
            except ClientError:
                pass


def add_replica(ddb, name, region, **overrides) -> dict:
    out = ddb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": region, **overrides}}])
    wait_settled(ddb, name)
    return out["TableDescription"]


def scan_all(ddb, name) -> list:
    return sorted((i for i in ddb.scan(TableName=name, ConsistentRead=True)["Items"]), key=repr)


# ---------------------------------------------------------------- creating a replica

def test_replica_gets_schema_indexes_and_existing_items(global_table, regions):
    east, west = regions[EAST], regions[WEST]
    name = global_table(replicas=(), ranged=True, extra_attributes=("g", "l"),
                        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
                        LocalSecondaryIndexes=[{"IndexName": "by-l", "KeySchema": [
                            {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
                            "Projection": {"ProjectionType": "ALL"}}])
    for i in range(30):
        east.put_item(TableName=name, Item={**key("p", f"s{i:02d}"), "g": S(f"g{i % 3}"), "l": S(f"l{i:02d}"),
                                            "n": {"N": str(i)}})
    before = east.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in before and "Replicas" not in before and "GlobalTableVersion" not in before

    out = east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])["TableDescription"]
    assert out["TableStatus"] == "UPDATING"
    assert out["GlobalTableVersion"] == "2019.11.21"
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in out["Replicas"]] == [(WEST, "CREATING")]
    # a table that becomes global gets a NEW_AND_OLD_IMAGES stream
    assert out["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}

    east_desc = wait_settled(east, name)
    west_desc = wait_settled(west, name)
    assert west_desc["TableArn"] == before["TableArn"].replace(EAST, WEST)
    assert west_desc["TableId"] != before["TableId"]
    for k in ("KeySchema", "AttributeDefinitions", "BillingModeSummary", "ItemCount", "TableSizeBytes"):
        assert west_desc[k] == before[k], k
    assert [g["IndexName"] for g in west_desc["GlobalSecondaryIndexes"]] == ["by-g"]
    assert west_desc["GlobalSecondaryIndexes"][0]["IndexArn"].startswith(west_desc["TableArn"])
    assert west_desc["GlobalSecondaryIndexes"][0]["ItemCount"] == 30
    assert [x["IndexName"] for x in west_desc["LocalSecondaryIndexes"]] == ["by-l"]
    assert west_desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert west_desc["LatestStreamArn"].startswith(west_desc["TableArn"] + "/stream/")
    assert west_desc["GlobalTableVersion"] == east_desc["GlobalTableVersion"] == "2019.11.21"
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in west_desc["Replicas"]] == [(EAST, "ACTIVE")]
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in east_desc["Replicas"]] == [(WEST, "ACTIVE")]

    assert scan_all(west, name) == scan_all(east, name)
    got = west.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": S("g1")})["Items"]
    assert len(got) == 10 and set(got[0]) == {"pk", "sk", "g"}
    got = west.query(TableName=name, IndexName="by-l", KeyConditionExpression="pk = :p AND l > :l",
                     ExpressionAttributeValues={":p": S("p"), ":l": S("l25")})["Items"]
    assert [i["n"]["N"] for i in got] == ["26", "27", "28", "29"]


def test_replica_of_a_larger_table_with_writes_during_the_copy(global_table, regions):
    """The items are copied in chunks in the background; writes made meanwhile reach the
    new replica too, and both end equal."""
    east, west = regions[EAST], regions[WEST]
    name = global_table(replicas=())
    for start in range(0, 1300, 25):
        east.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {**key(f"i{i:04d}"), "n": {"N": str(i)}}}}
                                                   for i in range(start, start + 25)]})
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    for i in range(0, 1300, 50):
        east.put_item(TableName=name, Item={**key(f"i{i:04d}"), "n": S("changed")})
        east.delete_item(TableName=name, Key=key(f"i{i + 1:04d}"))
        east.put_item(TableName=name, Item={**key(f"new{i:04d}")})
    wait_settled(east, name)
    t = wait_settled(west, name)
    east_t = east.describe_table(TableName=name)["Table"]
    assert (t["ItemCount"], t["TableSizeBytes"]) == (east_t["ItemCount"], east_t["TableSizeBytes"]) == (
        1300, east_t["TableSizeBytes"])

    def everything(ddb):
        items, kw = [], {}
        while True:
            page = ddb.scan(TableName=name, **kw)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=repr)
            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    assert everything(west) == everything(east)


def test_existing_stream_keeps_its_view_type(global_table, regions):
    name = global_table(replicas=(WEST,), StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    for r in (EAST, WEST):
        spec = regions[r].describe_table(TableName=name)["Table"]["StreamSpecification"]
        assert spec == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}


def test_three_regions_describe_each_other(global_table, regions):
    name = global_table(replicas=(WEST, EU))
    for region, ddb in regions.items():
        t = wait_settled(ddb, name)
        others = sorted(r for r in (EAST, WEST, EU) if r != region)
        assert sorted(r["RegionName"] for r in t["Replicas"]) == others
        assert t["GlobalTableSettingsReplicationMode"] == "ENABLED_WITH_OVERRIDES"
        for r in t["Replicas"]:
            # no ARN, and only the values a replica overrides
            assert r == {"RegionName": r["RegionName"], "ReplicaStatus": "ACTIVE",
                         "GlobalTableSettingsReplicationMode": "ENABLED_WITH_OVERRIDES"}


# ---------------------------------------------------------------- replication of every write path

def test_every_write_path_reaches_every_replica(global_table, regions):
    east, west, eu = regions[EAST], regions[WEST], regions[EU]
    name = global_table(replicas=(WEST, EU), extra_attributes=("g",),
                        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                                 "Projection": {"ProjectionType": "ALL"}}])

    def same_everywhere():
        items = scan_all(east, name)
        assert scan_all(west, name) == items and scan_all(eu, name) == items
        counts = {ddb.describe_table(TableName=name)["Table"]["ItemCount"] for ddb in regions.values()}
        assert counts == {len(items)}
        return items

    east.put_item(TableName=name, Item={**key("a"), "g": S("x"), "v": {"N": "1"}})
    assert west.get_item(TableName=name, Key=key("a"))["Item"]["v"] == {"N": "1"}
    west.update_item(TableName=name, Key=key("a"), UpdateExpression="SET v = v + :one, w = :w",
                     ExpressionAttributeValues={":one": {"N": "1"}, ":w": S("west")})
    assert eu.get_item(TableName=name, Key=key("a"))["Item"]["v"] == {"N": "2"}
    eu.delete_item(TableName=name, Key=key("a"))
    assert "Item" not in east.get_item(TableName=name, Key=key("a"))
    assert same_everywhere() == []

    east.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {**key(f"b{i}"), "g": S("y")}}}
                                               for i in range(10)]})
    west.batch_write_item(RequestItems={name: [{"DeleteRequest": {"Key": key(f"b{i}")}} for i in range(5)]})
    assert len(same_everywhere()) == 5
    got = eu.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                   ExpressionAttributeValues={":g": S("y")})["Items"]
    assert sorted(i["pk"]["S"] for i in got) == ["b5", "b6", "b7", "b8", "b9"]

    eu.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {**key("t1"), "g": S("z")}}},
        {"Update": {"TableName": name, "Key": key("b5"), "UpdateExpression": "SET g = :g",
                    "ExpressionAttributeValues": {":g": S("z")}}},
        {"Delete": {"TableName": name, "Key": key("b6")}},
        {"ConditionCheck": {"TableName": name, "Key": key("b7"), "ConditionExpression": "attribute_exists(pk)"}},
    ])
    assert sorted(i["pk"]["S"] for i in same_everywhere()) == ["b5", "b7", "b8", "b9", "t1"]
    got = west.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": S("z")})["Items"]
    assert sorted(i["pk"]["S"] for i in got) == ["b5", "t1"]

    west.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'q1', 'g': 'p'}}")
    east.execute_statement(Statement=f"UPDATE \"{name}\" SET v = 5 WHERE pk = 'q1'")
    assert eu.get_item(TableName=name, Key=key("q1"))["Item"]["v"] == {"N": "5"}
    eu.execute_statement(Statement=f"DELETE FROM \"{name}\" WHERE pk = 'b9'")
    assert sorted(i["pk"]["S"] for i in same_everywhere()) == ["b5", "b7", "b8", "q1", "t1"]


def test_conditions_are_evaluated_where_written(global_table, regions):
    east, west = regions[EAST], regions[WEST]
    name = global_table()
    east.put_item(TableName=name, Item={**key("c"), "v": {"N": "1"}})
    # the item written in us-east-1 is in us-west-2 at once: the condition fails there
    with pytest.raises(ClientError) as e:
        west.put_item(TableName=name, Item={**key("c"), "v": {"N": "2"}}, ConditionExpression="attribute_not_exists(pk)",
                      ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert error_of(e)[0] == "ConditionalCheckFailedException"
    assert e.value.response["Item"]["v"] == {"N": "1"}
    with pytest.raises(ClientError) as e:
        east.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {**key("d")}}},
            {"Update": {"TableName": name, "Key": key("c"), "UpdateExpression": "SET v = :v",
                        "ConditionExpression": "v = :two", "ExpressionAttributeValues": {":v": {"N": "3"}, ":two": {"N": "2"}}}},
        ])
    assert error_of(e)[0] == "TransactionCanceledException"
    for ddb in (east, west):
        assert scan_all(ddb, name) == [{**key("c"), "v": {"N": "1"}}]
    west.update_item(TableName=name, Key=key("c"), UpdateExpression="SET v = :v", ConditionExpression="v = :one",
                     ExpressionAttributeValues={":v": {"N": "4"}, ":one": {"N": "1"}})
    assert east.get_item(TableName=name, Key=key("c"))["Item"]["v"] == {"N": "4"}


def test_ttl_setting_is_shared_and_expiry_reaches_every_replica(global_table, regions, server):
    east, west = regions[EAST], regions[WEST]
    name = global_table()
    west.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    for ddb in (east, west):
        assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    now = int(time.time())
    east.put_item(TableName=name, Item={**key("soon"), "exp": {"N": str(now + 600)}})
    west.put_item(TableName=name, Item={**key("later"), "exp": {"N": str(now + 10 ** 8)}})
    server.advance_clock(1200)
    deadline = time.time() + 5
    while "Item" in east.get_item(TableName=name, Key=key("soon")) \
            or "Item" in west.get_item(TableName=name, Key=key("soon")):
        assert time.time() < deadline
        time.sleep(0.05)
    for ddb in (east, west):
        assert [i["pk"]["S"] for i in scan_all(ddb, name)] == ["later"]
        assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 1


def test_stream_records_in_each_region(global_table, regions, server):
    east, west = regions[EAST], regions[WEST]
    name = global_table()
    east.put_item(TableName=name, Item={**key("s"), "v": {"N": "1"}})
    west.update_item(TableName=name, Key=key("s"), UpdateExpression="SET v = :v",
                     ExpressionAttributeValues={":v": {"N": "2"}})
    for region in (EAST, WEST):
        streams = make_client("dynamodbstreams", server.url, region)
        arn = regions[region].describe_table(TableName=name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = streams.get_records(ShardIterator=it)["Records"]
        assert [(r["eventName"], r["awsRegion"]) for r in records] == [("INSERT", region), ("MODIFY", region)]
        assert records[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
        assert records[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
        assert all("userIdentity" not in r for r in records)


# ---------------------------------------------------------------- shared and per-replica settings

def test_gsi_changes_reach_every_replica(global_table, regions):
    east, west = regions[EAST], regions[WEST]
    name = global_table()
    west.put_item(TableName=name, Item={**key("a"), "g": S("x")})
    west.update_table(TableName=name, AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                      GlobalSecondaryIndexUpdates=[{"Create": {
                          "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                          "Projection": {"ProjectionType": "ALL"}}}])
    for ddb in (east, west):
        t = wait_settled(ddb, name)
        assert [(g["IndexName"], g["ItemCount"]) for g in t["GlobalSecondaryIndexes"]] == [("by-g", 1)]
        got = ddb.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                        ExpressionAttributeValues={":g": S("x")})["Items"]
        assert got == [{**key("a"), "g": S("x")}]
    east.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}])
    deadline = time.time() + 5
    while any("GlobalSecondaryIndexes" in ddb.describe_table(TableName=name)["Table"] for ddb in (east, west)):
        assert time.time() < deadline
        time.sleep(0.05)


def test_capacity_and_sse_changes_reach_every_replica(global_table, regions):
    east, west = regions[EAST], regions[WEST]
    name = global_table(replicas=(), BillingMode="PROVISIONED",
                        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    add_replica(east, name, WEST, ProvisionedThroughputOverride={"ReadCapacityUnits": 7})
    assert east.describe_table(TableName=name)["Table"]["Replicas"][0]["ProvisionedThroughputOverride"] == {
        "ReadCapacityUnits": 7}

    def units(ddb):
        pt = wait_settled(ddb, name)["ProvisionedThroughput"]
        return pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]

    assert (units(east), units(west)) == ((5, 5), (7, 5))
    east.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 10})
    assert (units(east), units(west)) == ((10, 10), (7, 10))
    # read units alone: the replica with its own read capacity keeps it
    east.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 12, "WriteCapacityUnits": 10})
    assert (units(east), units(west)) == ((12, 10), (7, 10))
    west.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    for ddb in (east, west):
        assert wait_settled(ddb, name)["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    east.update_table(TableName=name, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    for region in (EAST, WEST):
        sse = wait_settled(regions[region], name)["SSEDescription"]
        assert sse["Status"] == "ENABLED" and sse["KMSMasterKeyArn"].startswith(f"arn:aws:kms:{region}:")


def test_tags_pitr_and_deletion_protection_stay_per_replica(global_table, regions, server):
    east, west = regions[EAST], regions[WEST]
    name = global_table()
    arn = east.describe_table(TableName=name)["Table"]["TableArn"]
    east.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    east.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    east.update_table(TableName=name, DeletionProtectionEnabled=True)
    wait_settled(east, name)
    west_arn = west.describe_table(TableName=name)["Table"]["TableArn"]
    assert west.list_tags_of_resource(ResourceArn=west_arn)["Tags"] == []
    pitr = west.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    assert west.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is False
    with pytest.raises(ClientError) as e:
        west.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": EAST}}])
    assert error_of(e)[1].startswith("Resource cannot be deleted as it is currently protected against deletion")
    assert wait_settled(east, name)["TableStatus"] == "ACTIVE"
    server.advance_clock(16)  # AWS allows one deletion-protection change per 15 s
    east.update_table(TableName=name, DeletionProtectionEnabled=False)


def test_replica_update_changes_its_overrides(global_table, regions):
    east, west = regions[EAST], regions[WEST]
    name = global_table(replicas=())
    add_replica(east, name, WEST, TableClassOverride="STANDARD_INFREQUENT_ACCESS",
                OnDemandThroughputOverride={"MaxReadRequestUnits": 100})
    replica = east.describe_table(TableName=name)["Table"]["Replicas"][0]
    assert replica["ReplicaTableClassSummary"] == {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
    assert replica["OnDemandThroughputOverride"] == {"MaxReadRequestUnits": 100}
    t = west.describe_table(TableName=name)["Table"]
    assert t["TableClassSummary"] == {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
    assert t["OnDemandThroughput"]["MaxReadRequestUnits"] == 100
    assert "TableClassSummary" not in east.describe_table(TableName=name)["Table"]

    out = east.update_table(TableName=name, ReplicaUpdates=[{"Update": {"RegionName": WEST,
                                                                        "TableClassOverride": "STANDARD"}}])
    assert out["TableDescription"]["TableStatus"] == "UPDATING"
    assert out["TableDescription"]["Replicas"][0]["ReplicaStatus"] == "UPDATING"
    wait_settled(east, name)
    assert east.describe_table(TableName=name)["Table"]["Replicas"][0]["ReplicaTableClassSummary"] == {
        "TableClass": "STANDARD"}
    assert wait_settled(west, name)["TableClassSummary"] == {"TableClass": "STANDARD"}


# ---------------------------------------------------------------- removing replicas

def test_replica_delete_leaves_a_regional_table_with_its_stream(global_table, regions):
    east, west = regions[EAST], regions[WEST]
    name = global_table()
    east.put_item(TableName=name, Item=key("a"))
    out = east.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}])["TableDescription"]
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in out["Replicas"]] == [(WEST, "DELETING")]
    wait_gone(west, name)
    t = wait_settled(east, name)
    assert "Replicas" not in t and "GlobalTableVersion" not in t
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    east.put_item(TableName=name, Item=key("b"))
    with pytest.raises(ClientError) as e:
        west.get_item(TableName=name, Key=key("b"))
    assert error_of(e)[0] == "ResourceNotFoundException"
    # no longer global: the stream may be disabled now
    east.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert "StreamSpecification" not in wait_settled(east, name)
    # and a replica can be added again, with the items of now
    add_replica(east, name, WEST)
    assert [i["pk"]["S"] for i in scan_all(west, name)] == ["a", "b"]


def test_delete_table_of_one_replica(global_table, regions):
    east, west, eu = regions[EAST], regions[WEST], regions[EU]
    name = global_table(replicas=(WEST, EU))
    west.delete_table(TableName=name)
    assert {r["RegionName"]: r["ReplicaStatus"] for r in east.describe_table(TableName=name)["Table"]["Replicas"]} \
        in ({WEST: "DELETING", EU: "ACTIVE"}, {EU: "ACTIVE"})
    wait_gone(west, name)
    assert [r["RegionName"] for r in east.describe_table(TableName=name)["Table"]["Replicas"]] == [EU]
    assert [r["RegionName"] for r in eu.describe_table(TableName=name)["Table"]["Replicas"]] == [EAST]
    eu.put_item(TableName=name, Item=key("x"))
    assert "Item" in east.get_item(TableName=name, Key=key("x"))
    # a new table of that name in us-west-2 is a regional table of its own
    west.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    assert "Replicas" not in wait_settled(west, name)
    assert scan_all(west, name) == []
    east.delete_table(TableName=name)
    wait_gone(east, name)
    t = eu.describe_table(TableName=name)["Table"]
    assert "Replicas" not in t and "GlobalTableVersion" not in t


# ---------------------------------------------------------------- refusals

def _refused(ddb, name, updates, **kw):
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, ReplicaUpdates=updates, **kw)
    return error_of(e)


def test_refusals_change_nothing(global_table, regions):
    east, west, eu = regions[EAST], regions[WEST], regions[EU]
    name = global_table()
    east.put_item(TableName=name, Item=key("a"))
    before = {r: regions[r].describe_table(TableName=name)["Table"] for r in (EAST, WEST)}
    # eu-west-1 has a regional table of that name
    eu.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    wait_settled(eu, name)
    exists = ("ValidationException", f"Failed to create a the new replica of table with name: \u2018{name}\u2019 "
                                     "because one or more replicas already existed as tables.")
    cases = [
        ([{"Create": {"RegionName": EAST}}], {}, ("ValidationException", LOCAL)),
        ([{"Delete": {"RegionName": EAST}}], {}, ("ValidationException", LOCAL)),
        ([{"Create": {"RegionName": WEST}}], {}, exists),
        ([{"Create": {"RegionName": EU}}], {}, exists),
        ([{"Delete": {"RegionName": "ap-south-1"}}], {}, (
            "ValidationException", "Update global table operation failed because one or more replicas were not part "
            "of the global table. Please retry the request without these replicas: [ap-south-1].")),
        ([{"Update": {"RegionName": EU, "TableClassOverride": "STANDARD"}}], {}, (
            "ValidationException", "Update global table operation failed because one or more replicas were not part "
            "of the global table. Please retry the request without these replicas: [eu-west-1].")),
        ([{"Create": {"RegionName": "ap-south-1"}, "Delete": {"RegionName": WEST}}], {}, (
            "ValidationException", "Update table operation with more than one type of replica actions not allowed.")),
        ([{"Create": {"RegionName": "ap-south-1"}}, {"Delete": {"RegionName": WEST}}], {}, (
            "ValidationException", "Update table operation with more than one type of replica actions not allowed.")),
        ([{}], {}, ("ValidationException", "There are no actions specified in the Replica Update Action of the request.")),
        ([{"Update": {"RegionName": WEST}}], {}, (
            "ValidationException", "There are no actions specified in the Replica Update Action of the request.")),
        ([{"Update": {"RegionName": WEST, "ProvisionedThroughputOverride": {"ReadCapacityUnits": 5}}}], {}, (
            "ValidationException", "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode "
            "is PAY_PER_REQUEST")),
        ([{"Create": {"RegionName": "us-fake-1"}}], {}, None),
        ([{"Create": {"RegionName": "ap-south-1"}}, {"Create": {"RegionName": "eu-central-1"}}], {}, (
            "ValidationException", "Update table operation with more than one create or delete replica actions not "
            "allowed")),
        ([{"Create": {"RegionName": "ap-south-1"}}], {"BillingMode": "PAY_PER_REQUEST"}, (
            "ValidationException", "Requests that modify replicas or witnesses must not also modify other fields")),
        ([{"Create": {"RegionName": "ap-south-1"}}], {"DeletionProtectionEnabled": True}, (
            "ValidationException", "Requests that modify replicas or witnesses must not also modify other fields")),
    ]
    for updates, extra, expected in cases:
        code, message = _refused(east, name, updates, **extra)
        if expected is None:
            assert code == "ValidationException" and message.startswith(
                "Region us-fake-1 is not supported. The latest version of global tables are only supported in the "
                "following regions: [")
        else:
            assert (code, message) == expected, updates
    with pytest.raises(ClientError) as e:
        west.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert error_of(e) == ("ValidationException", "One or more parameter values were invalid: Disabling Stream is "
                                                  "not allowed for a Global Table replica.")  # ack-api-quirks DDB-TABLE-442
    with pytest.raises(ClientError) as e:
        west.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    assert error_of(e)[1] == f"Table already has an enabled stream: TableName: {name}"
    for r in (EAST, WEST):
        now = regions[r].describe_table(TableName=name)["Table"]
        assert now == before[r]
    assert "Replicas" not in eu.describe_table(TableName=name)["Table"]
    assert scan_all(eu, name) == []
    assert "ap-south-1" not in {r["RegionName"] for r in before[EAST]["Replicas"]}
    ap = make_client("dynamodb", east.meta.endpoint_url, "ap-south-1")
    assert name not in ap.list_tables()["TableNames"]


def test_same_region_twice_in_one_call_is_one_replica(global_table, regions):
    name = global_table(replicas=())
    regions[EAST].update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": WEST}},
                                                               {"Create": {"RegionName": WEST}}])
    assert [r["RegionName"] for r in wait_settled(regions[EAST], name)["Replicas"]] == [WEST]


def test_legacy_operations_answer_as_aws_does_now(global_table, regions):
    ddb = regions[EAST]
    name = global_table()  # a version 2019.11.21 global table is no legacy one
    legacy = ("ValidationException", "DynamoDB global tables version 2017.11.29 is not supported. We recommend "
              "using DynamoDB global tables version 2019.11.21, instead of version 2017.11.29 (Legacy).")
    missing = ("GlobalTableNotFoundException", f"Global table with name: '{name}' does not exist.")
    calls = [
        (ddb.create_global_table, {"GlobalTableName": name, "ReplicationGroup": [{"RegionName": WEST}]}, legacy),
        (ddb.update_global_table, {"GlobalTableName": name, "ReplicaUpdates": [{"Create": {"RegionName": EU}}]},
         legacy),
        (ddb.update_global_table, {"GlobalTableName": name, "ReplicaUpdates": [{"Delete": {"RegionName": WEST}}]},
         missing),
        (ddb.describe_global_table, {"GlobalTableName": name},
         ("GlobalTableNotFoundException", "Global table not found: " + missing[1])),
        (ddb.describe_global_table_settings, {"GlobalTableName": name}, missing),
        (ddb.update_global_table_settings, {"GlobalTableName": name, "GlobalTableBillingMode": "PAY_PER_REQUEST"},
         missing),
    ]
    for call, kw, expected in calls:
        with pytest.raises(ClientError) as e:
            call(**kw)
        assert error_of(e) == expected, call
    assert ddb.list_global_tables()["GlobalTables"] == []
    assert [r["RegionName"] for r in wait_settled(ddb, name)["Replicas"]] == [WEST]


# ---------------------------------------------------------------- durability and concurrency

def test_replicas_survive_kill_and_restart(durable_server):
    east = make_client("dynamodb", durable_server.url, EAST)
    west = make_client("dynamodb", durable_server.url, WEST)
    name = "durable-global"
    east.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    wait_settled(east, name)
    east.put_item(TableName=name, Item=key("before"))
    add_replica(east, name, WEST)
    west.put_item(TableName=name, Item=key("west"))
    durable_server.kill()
    durable_server.start()
    east = make_client("dynamodb", durable_server.url, EAST)
    west = make_client("dynamodb", durable_server.url, WEST)
    for region, ddb in ((EAST, east), (WEST, west)):
        t = wait_settled(ddb, name)
        assert t["GlobalTableVersion"] == "2019.11.21"
        assert [r["RegionName"] for r in t["Replicas"]] == [WEST if region == EAST else EAST]
        assert [i["pk"]["S"] for i in scan_all(ddb, name)] == ["before", "west"]
    east.delete_item(TableName=name, Key=key("before"))
    assert [i["pk"]["S"] for i in scan_all(west, name)] == ["west"]

    # killed while a new replica's items are being copied: the copy resumes
    for start in range(0, 1500, 25):
        east.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": key(f"i{i:04d}")}}
                                                   for i in range(start, start + 25)]})
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    durable_server.kill()
    durable_server.start()
    eu = make_client("dynamodb", durable_server.url, EU)
    t = wait_settled(eu, name)
    assert sorted(r["RegionName"] for r in t["Replicas"]) == [EAST, WEST]
    assert t["ItemCount"] == 1501
    east = make_client("dynamodb", durable_server.url, EAST)
    assert wait_settled(east, name)["ItemCount"] == 1501


def test_concurrent_writers_in_two_regions_leave_equal_replicas(global_table, regions, server):
    name = global_table()
    errors = []

    def writer(region, n):
        ddb = make_client("dynamodb", server.url, region)
        try:
            for i in range(n):
                ddb.update_item(TableName=name, Key=key(f"k{i % 5}"), UpdateExpression="ADD c :one SET lastby = :r",
                                ExpressionAttributeValues={":one": {"N": "1"}, ":r": S(region)})
                ddb.put_item(TableName=name, Item={**key(f"p{i % 3}"), "by": S(region), "i": {"N": str(i)}})
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(r, 40)) for r in (EAST, WEST, EAST, WEST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    east_items, west_items = scan_all(regions[EAST], name), scan_all(regions[WEST], name)
    assert east_items == west_items
    assert sum(int(i["c"]["N"]) for i in east_items if "c" in i) == 160
