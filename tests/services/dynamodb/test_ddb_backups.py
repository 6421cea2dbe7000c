"""On-demand backups: CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
RestoreTableFromBackup, through boto3 against the real server."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client

from .conftest import error_of

WAIT = {"Delay": 0.1, "MaxAttempts": 50}
ARN = re.compile(r"arn:aws:dynamodb:us-east-1:000000000000:table/([a-zA-Z0-9_.-]+)/backup/\d{14}-[0-9a-f]{8}")


def _name(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _indexed_table(ddb, name=None, **kw):
    """A table with a GSI (ALL) and an LSI (KEYS_ONLY), on demand unless told."""
    name = name or _name()
    spec = dict(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "g", "AttributeType": "S"},
                              {"AttributeName": "l", "AttributeType": "B"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                                     {"AttributeName": "sk", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        LocalSecondaryIndexes=[{"IndexName": "by-l", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                    {"AttributeName": "l", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        BillingMode="PAY_PER_REQUEST",
    )
    spec.update(kw)
    ddb.create_table(**spec)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=WAIT)
    return name


def _items(n=6):
    out = []
    for i in range(n):
        item = {"pk": {"S": f"p{i % 2}"}, "sk": {"N": str(i)}, "blob": {"B": bytes([0, i, 255])},
                "doc": {"M": {"list": {"L": [{"N": str(i)}, {"S": "x"}, {"BOOL": True}, {"NULL": True}]},
                              "set": {"SS": ["a", "b"]}, "bins": {"BS": [b"\x01", b"\x02"]}}},
                "nums": {"NS": ["1", "2.5"]}}
        if i % 3:
            item["g"] = {"S": f"g{i % 3}"}  # sparse in the GSI
        if i != 4:
            item["l"] = {"B": bytes([9 - i])}
        out.append(item)
    return out


def _scan(ddb, name):
    items = ddb.scan(TableName=name, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda it: int(it["sk"]["N"]))


def _restore(ddb, arn, target=None, **kw):
    target = target or _name("r")
    desc = ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn, **kw)["TableDescription"]
    ddb.get_waiter("table_exists").wait(TableName=target, WaiterConfig=WAIT)
    return target, desc


def test_round_trip_with_indexes_and_every_value_type(ddb):
    name = _indexed_table(ddb)
    for item in _items():
        ddb.put_item(TableName=name, Item=item)
    source = ddb.describe_table(TableName=name)["Table"]

    details = ddb.create_backup(TableName=name, BackupName="nightly_1.0-a")["BackupDetails"]
    m = ARN.fullmatch(details["BackupArn"])
    assert m and m.group(1) == name
    assert details["BackupName"] == "nightly_1.0-a"
    assert details["BackupStatus"] == "AVAILABLE" and details["BackupType"] == "USER"
    assert details["BackupSizeBytes"] == source["TableSizeBytes"] > 0
    assert details["BackupCreationDateTime"] >= source["CreationDateTime"]

    desc = ddb.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    assert desc["BackupDetails"] == details
    src = desc["SourceTableDetails"]
    assert src["TableName"] == name and src["TableId"] == source["TableId"] and src["TableArn"] == source["TableArn"]
    assert src["ItemCount"] == 6 and src["TableSizeBytes"] == source["TableSizeBytes"]
    assert src["KeySchema"] == source["KeySchema"] and src["BillingMode"] == "PAY_PER_REQUEST"
    assert src["TableCreationDateTime"] == source["CreationDateTime"]
    assert src["ProvisionedThroughput"] == {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    features = desc["SourceTableFeatureDetails"]
    assert features["GlobalSecondaryIndexes"] == [{
        "IndexName": "by-g", "KeySchema": source["GlobalSecondaryIndexes"][0]["KeySchema"],
        "Projection": {"ProjectionType": "ALL"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}}]
    assert features["LocalSecondaryIndexes"] == [{
        "IndexName": "by-l", "KeySchema": source["LocalSecondaryIndexes"][0]["KeySchema"],
        "Projection": {"ProjectionType": "KEYS_ONLY"}}]
    assert "StreamDescription" not in features and "TimeToLiveDescription" not in features

    target, restored = _restore(ddb, details["BackupArn"])
    assert restored["TableStatus"] == "CREATING" and restored["TableName"] == target
    assert restored["RestoreSummary"]["RestoreInProgress"] is True
    assert restored["RestoreSummary"]["SourceBackupArn"] == details["BackupArn"]
    table = ddb.describe_table(TableName=target)["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["TableId"] != source["TableId"]
    assert table["RestoreSummary"] == {"SourceBackupArn": details["BackupArn"], "SourceTableArn": source["TableArn"],
                                       "RestoreDateTime": details["BackupCreationDateTime"],
                                       "RestoreInProgress": False}
    assert table["KeySchema"] == source["KeySchema"]
    assert sorted(d["AttributeName"] for d in table["AttributeDefinitions"]) == ["g", "l", "pk", "sk"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # counters as the source's, for the table and each index
    assert (table["ItemCount"], table["TableSizeBytes"]) == (source["ItemCount"], source["TableSizeBytes"])
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        assert [(ix["IndexName"], ix["ItemCount"], ix["IndexSizeBytes"]) for ix in table[key]] == \
               [(ix["IndexName"], ix["ItemCount"], ix["IndexSizeBytes"]) for ix in source[key]]
        assert table[key][0]["IndexArn"] == f"{table['TableArn']}/index/{table[key][0]['IndexName']}"
    assert table["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"

    assert _scan(ddb, target) == _scan(ddb, name) == sorted(_items(), key=lambda it: int(it["sk"]["N"]))
    got = ddb.query(TableName=target, IndexName="by-g", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "g1"}})["Items"]
    assert [it["sk"]["N"] for it in got] == ["1", "4"] and got[0]["blob"] == {"B": bytes([0, 1, 255])}
    got = ddb.query(TableName=target, IndexName="by-l", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "p0"}})["Items"]
    assert [it["l"]["B"] for it in got] == [bytes([7]), bytes([9])]  # items 0, 2 (4 has no l)
    assert set(got[0]) == {"pk", "sk", "l"}
    # the restored table is an ordinary table
    ddb.put_item(TableName=target, Item={"pk": {"S": "new"}, "sk": {"N": "100"}, "g": {"S": "g1"}})
    assert ddb.describe_table(TableName=target)["Table"]["ItemCount"] == 7
    assert len(ddb.query(TableName=target, IndexName="by-g", KeyConditionExpression="g = :g",
                         ExpressionAttributeValues={":g": {"S": "g1"}})["Items"]) == 3
    for t in (name, target):
        ddb.delete_table(TableName=t)


def test_backup_is_a_snapshot(ddb, make_table):
    name = make_table(range_type=None)
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "v": {"N": str(i)}})
    arn = ddb.create_backup(TableName=name, BackupName="before")["BackupDetails"]["BackupArn"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "k9"}, "v": {"N": "9"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "k0"}})
    ddb.update_item(TableName=name, Key={"pk": {"S": "k1"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "100"}})
    target, _ = _restore(ddb, arn)
    items = {it["pk"]["S"]: it["v"]["N"] for it in ddb.scan(TableName=target)["Items"]}
    assert items == {f"k{i}": str(i) for i in range(5)}
    assert ddb.describe_table(TableName=target)["Table"]["ItemCount"] == 5
    # and a backup of an empty table restores to an empty table
    empty = make_table()
    arn = ddb.create_backup(TableName=empty, BackupName="empty")["BackupDetails"]["BackupArn"]
    assert ddb.describe_backup(BackupArn=arn)["BackupDescription"]["SourceTableDetails"]["ItemCount"] == 0
    target2, _ = _restore(ddb, arn)
    assert ddb.scan(TableName=target2)["Items"] == []
    for t in (target, target2):
        ddb.delete_table(TableName=t)


def test_create_backup_errors(ddb, ddb_raw, make_table):
    with pytest.raises(ClientError) as e:
        ddb.create_backup(TableName="no-such-table", BackupName="b-1")
    assert error_of(e) == ("TableNotFoundException", "Table not found: no-such-table")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    name = make_table()
    # by ARN works; names are checked from the model (3-255 of [a-zA-Z0-9_.-])
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    assert ARN.fullmatch(ddb.create_backup(TableName=arn, BackupName="by-arn")["BackupDetails"]["BackupArn"])
    for bad, constraint in (("ab", "Member must have length greater than or equal to 3"),
                            ("has space", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
                            ("x" * 256, "Member must have length less than or equal to 255")):
        with pytest.raises(ClientError) as e:
            ddb_raw.create_backup(TableName=name, BackupName=bad)
        code, message = error_of(e)
        assert code == "ValidationException"
        assert f"at 'backupName' failed to satisfy constraint: {constraint}" in message
    with pytest.raises(ClientError) as e:
        ddb_raw.create_backup(TableName="bad name", BackupName="fine")
    assert error_of(e)[0] == "ValidationException"


def test_unknown_backup(ddb, make_table):
    name = make_table()
    real = ddb.create_backup(TableName=name, BackupName="real")["BackupDetails"]["BackupArn"]
    unknown = [
        f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}/backup/01700000000000-deadbeef",
        real.replace("us-east-1", "eu-west-1"),  # another region's
        real.replace(":000000000000:", ":123456789012:"),  # another account's
        real.replace(f"table/{name}/", "table/other-table/"),  # the id under another table's name
        "arn:aws:dynamodb:us-east-1:000000000000:not-a-backup-arn-at-all",
    ]
    for arn in unknown:
        calls = (lambda: ddb.describe_backup(BackupArn=arn), lambda: ddb.delete_backup(BackupArn=arn),
                 lambda: ddb.restore_table_from_backup(TargetTableName=_name("r"), BackupArn=arn))
        for call in calls:
            with pytest.raises(ClientError) as e:
                call()
            assert error_of(e) == ("BackupNotFoundException", f"Backup not found: {arn}")
    assert ddb.describe_backup(BackupArn=real)["BackupDescription"]["BackupDetails"]["BackupStatus"] == "AVAILABLE"


def test_restore_errors(ddb, ddb_raw, make_table):
    name = make_table()
    arn = ddb.create_backup(TableName=name, BackupName="b-1")["BackupDetails"]["BackupArn"]
    with pytest.raises(ClientError) as e:
        ddb.restore_table_from_backup(TargetTableName=name, BackupArn=arn)
    assert error_of(e) == ("TableAlreadyExistsException", f"Table already exists: {name}")
    with pytest.raises(ClientError) as e:
        ddb_raw.restore_table_from_backup(TargetTableName="bad name", BackupArn=arn)
    assert error_of(e)[0] == "ValidationException"
    # an override naming an index the backup does not have
    with pytest.raises(ClientError) as e:
        ddb.restore_table_from_backup(TargetTableName=_name("r"), BackupArn=arn, GlobalSecondaryIndexOverride=[{
            "IndexName": "nope", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}])
    assert error_of(e)[0] == "ValidationException"
    # provisioned without units for an on-demand backup, as CreateTable refuses it
    with pytest.raises(ClientError) as e:
        ddb.restore_table_from_backup(TargetTableName=_name("r"), BackupArn=arn, BillingModeOverride="PROVISIONED")
    assert error_of(e)[0] == "ValidationException"
    assert name in ddb.list_tables()["TableNames"]


def test_restore_overrides(ddb):
    name = _indexed_table(ddb, BillingMode="PROVISIONED",
                          ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
                          GlobalSecondaryIndexes=[{
                              "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                              "Projection": {"ProjectionType": "KEYS_ONLY"},
                              "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6}}],
                          SSESpecification={"Enabled": True})
    for item in _items():
        ddb.put_item(TableName=name, Item=item)
    arn = ddb.create_backup(TableName=name, BackupName="b-1")["BackupDetails"]["BackupArn"]
    desc = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
    assert desc["SourceTableDetails"]["ProvisionedThroughput"] == {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}
    assert desc["SourceTableDetails"]["BillingMode"] == "PROVISIONED"
    assert desc["SourceTableFeatureDetails"]["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 5, "WriteCapacityUnits": 6}
    assert desc["SourceTableFeatureDetails"]["SSEDescription"]["Status"] == "ENABLED"

    # as it was: provisioned, both indexes, encryption
    same, _ = _restore(ddb, arn)
    t = ddb.describe_table(TableName=same)["Table"]
    pt = t["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (3, 4)
    assert t["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert t["SSEDescription"]["Status"] == "ENABLED"
    assert t["ItemCount"] == 6 and t["GlobalSecondaryIndexes"][0]["ItemCount"] == 4

    # on demand, without the indexes: their attributes leave the definitions
    bare, _ = _restore(ddb, arn, BillingModeOverride="PAY_PER_REQUEST", GlobalSecondaryIndexOverride=[],
                       LocalSecondaryIndexOverride=[], SSESpecificationOverride={"Enabled": False})
    t = ddb.describe_table(TableName=bare)["Table"]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "GlobalSecondaryIndexes" not in t and "LocalSecondaryIndexes" not in t and "SSEDescription" not in t
    assert sorted(d["AttributeName"] for d in t["AttributeDefinitions"]) == ["pk", "sk"]
    assert t["ItemCount"] == 6 and _scan(ddb, bare) == _scan(ddb, name)

    # new units for the table; one index kept with its own
    units, _ = _restore(ddb, arn, ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 8},
                        LocalSecondaryIndexOverride=[])
    t = ddb.describe_table(TableName=units)["Table"]
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert [ix["IndexName"] for ix in t["GlobalSecondaryIndexes"]] == ["by-g"]
    assert "LocalSecondaryIndexes" not in t
    for tname in (name, same, bare, units):
        ddb.delete_table(TableName=tname)


def test_features_are_described_but_not_restored(ddb, make_table):
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
                      Tags=[{"Key": "team", "Value": "a"}])
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    arn = ddb.create_backup(TableName=name, BackupName="b-1")["BackupDetails"]["BackupArn"]
    features = ddb.describe_backup(BackupArn=arn)["BackupDescription"]["SourceTableFeatureDetails"]
    assert features["StreamDescription"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert features["TimeToLiveDescription"]["AttributeName"] == "exp"
    # "You must manually set up the following on the restored table: ... Tags, Stream settings, TTL settings"
    target, _ = _restore(ddb, arn)
    t = ddb.describe_table(TableName=target)["Table"]
    assert "StreamSpecification" not in t and "LatestStreamArn" not in t
    assert ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == []
    ddb.delete_table(TableName=target)


def test_list_backups_filters_and_pages(ddb, make_table, server):
    a, b = make_table(), make_table()
    arns = []
    for i in range(3):
        arns.append(ddb.create_backup(TableName=a, BackupName=f"a-{i}")["BackupDetails"])
        server.advance_clock(10)
    other = ddb.create_backup(TableName=b, BackupName="b-0")["BackupDetails"]

    listed = ddb.list_backups(TableName=a)
    assert "LastEvaluatedBackupArn" not in listed
    summaries = listed["BackupSummaries"]
    assert [s["BackupArn"] for s in summaries] == [d["BackupArn"] for d in arns]  # oldest first
    table = ddb.describe_table(TableName=a)["Table"]
    assert summaries[0] == {"TableName": a, "TableId": table["TableId"], "TableArn": table["TableArn"],
                            **{k: arns[0][k] for k in ("BackupArn", "BackupName", "BackupCreationDateTime",
                                                       "BackupStatus", "BackupType", "BackupSizeBytes")}}
    # by ARN, too; and every table's
    assert ddb.list_backups(TableName=table["TableArn"])["BackupSummaries"] == summaries
    everything = [s["BackupArn"] for s in ddb.list_backups()["BackupSummaries"]]
    assert set(everything) >= {d["BackupArn"] for d in arns + [other]}
    assert everything.index(arns[2]["BackupArn"]) < everything.index(other["BackupArn"])

    # time range: lower bound inclusive, upper exclusive
    t1, t2 = arns[1]["BackupCreationDateTime"], arns[2]["BackupCreationDateTime"]
    got = ddb.list_backups(TableName=a, TimeRangeLowerBound=t1)["BackupSummaries"]
    assert [s["BackupName"] for s in got] == ["a-1", "a-2"]
    got = ddb.list_backups(TableName=a, TimeRangeUpperBound=t2)["BackupSummaries"]
    assert [s["BackupName"] for s in got] == ["a-0", "a-1"]
    got = ddb.list_backups(TableName=a, TimeRangeLowerBound=t1 - timedelta(seconds=1),
                           TimeRangeUpperBound=t1 + timedelta(seconds=1))["BackupSummaries"]
    assert [s["BackupName"] for s in got] == ["a-1"]

    # type: USER by default; ALL includes them; there are no SYSTEM or AWS_BACKUP backups
    assert len(ddb.list_backups(TableName=a, BackupType="ALL")["BackupSummaries"]) == 3
    assert ddb.list_backups(TableName=a, BackupType="SYSTEM")["BackupSummaries"] == []
    assert ddb.list_backups(TableName=a, BackupType="AWS_BACKUP")["BackupSummaries"] == []

    # pages
    page = ddb.list_backups(TableName=a, Limit=2)
    assert [s["BackupName"] for s in page["BackupSummaries"]] == ["a-0", "a-1"]
    assert page["LastEvaluatedBackupArn"] == arns[1]["BackupArn"]
    page = ddb.list_backups(TableName=a, Limit=2, ExclusiveStartBackupArn=page["LastEvaluatedBackupArn"])
    assert [s["BackupName"] for s in page["BackupSummaries"]] == ["a-2"] and "LastEvaluatedBackupArn" not in page
    names = [s["BackupName"] for p in ddb.get_paginator("list_backups").paginate(
        TableName=a, PaginationConfig={"PageSize": 1}) for s in p["BackupSummaries"]]
    assert names == ["a-0", "a-1", "a-2"]
    # a table without backups, and one that never existed
    assert ddb.list_backups(TableName=make_table())["BackupSummaries"] == []
    assert ddb.list_backups(TableName="never-was")["BackupSummaries"] == []
    with pytest.raises(ClientError) as e:
        ddb.list_backups(TableName=a, Limit=101)
    assert error_of(e)[0] == "ValidationException"


def test_delete_backup(ddb, make_table):
    name = make_table(range_type=None)
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}})
    keep = ddb.create_backup(TableName=name, BackupName="keep")["BackupDetails"]
    doomed = ddb.create_backup(TableName=name, BackupName="doomed")["BackupDetails"]
    out = ddb.delete_backup(BackupArn=doomed["BackupArn"])["BackupDescription"]
    assert out["BackupDetails"] == {**doomed, "BackupStatus": "DELETED"}
    assert out["SourceTableDetails"]["TableName"] == name and out["SourceTableDetails"]["ItemCount"] == 1
    assert [s["BackupName"] for s in ddb.list_backups(TableName=name)["BackupSummaries"]] == ["keep"]
    for call in (ddb.describe_backup, ddb.delete_backup):
        with pytest.raises(ClientError) as e:
            call(BackupArn=doomed["BackupArn"])
        assert error_of(e) == ("BackupNotFoundException", f"Backup not found: {doomed['BackupArn']}")
    with pytest.raises(ClientError) as e:
        ddb.restore_table_from_backup(TargetTableName=_name("r"), BackupArn=doomed["BackupArn"])
    assert error_of(e)[0] == "BackupNotFoundException"
    # the other backup is untouched
    target, _ = _restore(ddb, keep["BackupArn"])
    assert ddb.scan(TableName=target)["Items"] == [{"pk": {"S": "k"}}]
    ddb.delete_table(TableName=target)


def test_backup_outlives_its_table(ddb):
    name = _indexed_table(ddb)
    for item in _items():
        ddb.put_item(TableName=name, Item=item)
    expected = _scan(ddb, name)
    arn = ddb.create_backup(TableName=name, BackupName="last")["BackupDetails"]["BackupArn"]
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=WAIT)

    desc = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
    assert desc["SourceTableDetails"]["TableName"] == name and desc["SourceTableDetails"]["ItemCount"] == 6
    assert [s["BackupArn"] for s in ddb.list_backups(TableName=name)["BackupSummaries"]] == [arn]
    with pytest.raises(ClientError) as e:
        ddb.create_backup(TableName=name, BackupName="again")
    assert error_of(e) == ("TableNotFoundException", f"Table not found: {name}")
    # restored under the old name
    _restore(ddb, arn, target=name)
    assert _scan(ddb, name) == expected
    assert ddb.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": {"S": "g2"}})["Count"] == 2
    ddb.delete_table(TableName=name)


@pytest.mark.slow
def test_backups_survive_a_restart_and_reset_wipes_them(durable_server):
    srv = durable_server
    ddb = make_client("dynamodb", srv.url)
    name = _indexed_table(ddb)
    for item in _items():
        ddb.put_item(TableName=name, Item=item)
    expected = _scan(ddb, name)
    arn = ddb.create_backup(TableName=name, BackupName="durable")["BackupDetails"]["BackupArn"]
    gone = ddb.create_backup(TableName=name, BackupName="gone")["BackupDetails"]["BackupArn"]
    ddb.delete_backup(BackupArn=gone)
    srv.kill()
    srv.start()
    ddb = make_client("dynamodb", srv.url)
    assert [s["BackupArn"] for s in ddb.list_backups(TableName=name)["BackupSummaries"]] == [arn]
    target, _ = _restore(ddb, arn)
    assert _scan(ddb, target) == expected
    assert ddb.describe_table(TableName=target)["Table"]["RestoreSummary"]["RestoreInProgress"] is False
    assert ddb.query(TableName=target, IndexName="by-l", KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "p1"}})["Count"] == 3

    srv.post("/_cloudlet/reset")
    assert ddb.list_backups()["BackupSummaries"] == []
    with pytest.raises(ClientError) as e:
        ddb.describe_backup(BackupArn=arn)
    assert error_of(e)[0] == "BackupNotFoundException"
