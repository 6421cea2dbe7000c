"""RestoreTableToPointInTime through boto3: a new table with the source's items as they
were at the asked time, from the history kept while point-in-time recovery is on; every
refusal leaves no table behind."""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.services.dynamodb.conftest import error_of

LAG = 300  # LatestRestorableDateTime is 5 minutes behind the clock


def _now(server) -> float:
    with urllib.request.urlopen(server.url + "/_cloudlet/clock", timeout=5) as r:
        return json.loads(r.read())["now"]


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc)


def _scan(ddb, name) -> dict:
    items = ddb.scan(TableName=name, ConsistentRead=True)["Items"]
    return {i["pk"]["S"]: i for i in items}


def _enable(ddb, name):
    ddb.update_continuous_backups(TableName=name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def _wait_active(ddb, name):
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    return ddb.describe_table(TableName=name)["Table"]


def _target():
    return f"restored-{uuid.uuid4().hex[:8]}"


def _item(pk, v):
    return {"pk": {"S": pk}, "v": {"N": str(v)}, "g": {"S": "all"}}


def _gsi_table(make_table):
    return make_table(range_type=None, AttributeDefinitions=[
        {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])


def test_restore_to_a_time_and_to_the_latest(ddb, make_table, server):
    name = _gsi_table(make_table)
    _enable(ddb, name)
    for pk in "abc":
        ddb.put_item(TableName=name, Item=_item(pk, 1))
    server.advance_clock(60)
    then = _now(server)
    before = _scan(ddb, name)
    server.advance_clock(60)
    ddb.update_item(TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :two",
                    ExpressionAttributeValues={":two": {"N": "2"}})
    ddb.update_item(TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :three",
                    ExpressionAttributeValues={":three": {"N": "3"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "b"}})
    ddb.put_item(TableName=name, Item=_item("d", 1))
    server.advance_clock(LAG + 60)
    after = _scan(ddb, name)
    source_arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]

    target = _target()
    got = ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=target,
                                             RestoreDateTime=_at(then))["TableDescription"]
    assert got["TableStatus"] == "CREATING"
    assert got["RestoreSummary"]["SourceTableArn"] == source_arn
    assert got["RestoreSummary"]["RestoreInProgress"] is True
    assert abs(got["RestoreSummary"]["RestoreDateTime"].timestamp() - then) < 0.002
    table = _wait_active(ddb, target)
    assert table["RestoreSummary"]["RestoreInProgress"] is False
    assert table["ItemCount"] == 3
    assert _scan(ddb, target) == before
    # the index came along, filled
    assert ddb.query(TableName=target, IndexName="by-g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": {"S": "all"}})["Count"] == 3

    latest = _target()
    ddb.restore_table_to_point_in_time(SourceTableArn=source_arn, TargetTableName=latest,
                                       UseLatestRestorableTime=True, BillingModeOverride="PROVISIONED",
                                       ProvisionedThroughputOverride={"ReadCapacityUnits": 3,
                                                                      "WriteCapacityUnits": 4},
                                       GlobalSecondaryIndexOverride=[])
    table = _wait_active(ddb, latest)
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED" if "BillingModeSummary" in table else True
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert "GlobalSecondaryIndexes" not in table
    assert _scan(ddb, latest) == after
    # the source is untouched; the restored tables keep no recovery setting of their own
    assert _scan(ddb, name) == after
    status = ddb.describe_continuous_backups(TableName=latest)["ContinuousBackupsDescription"]
    assert status["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    for t in (target, latest):
        ddb.delete_table(TableName=t)


def test_changes_within_the_last_five_minutes_are_not_restorable_yet(ddb, make_table, server):
    name = make_table(range_type=None)
    _enable(ddb, name)
    ddb.put_item(TableName=name, Item=_item("old", 1))
    server.advance_clock(LAG + 10)
    ddb.put_item(TableName=name, Item=_item("new", 1))
    target = _target()
    ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=target, UseLatestRestorableTime=True)
    _wait_active(ddb, target)
    assert set(_scan(ddb, target)) == {"old"}
    ddb.delete_table(TableName=target)


def _refused(ddb, code, **kw):
    """``ddb`` may be a client without parameter checks (``ddb_raw``)."""
    target = kw.setdefault("TargetTableName", _target())
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(**kw)
    assert error_of(e)[0] == code, error_of(e)
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=target)
    assert error_of(e)[0] == "ResourceNotFoundException"
    return error_of(e)


def test_refusals_create_nothing(ddb, ddb_raw, make_table, server):
    name = make_table(range_type=None)
    ddb.put_item(TableName=name, Item=_item("a", 1))
    # recovery off
    _refused(ddb, "PointInTimeRecoveryUnavailableException", SourceTableName=name, UseLatestRestorableTime=True)
    _enable(ddb, name)
    enabled_at = _now(server)
    server.advance_clock(LAG + 30)
    # before recovery was enabled, and later than the latest restorable time
    _refused(ddb, "InvalidRestoreTimeException", SourceTableName=name, RestoreDateTime=_at(enabled_at - 60))
    _refused(ddb, "InvalidRestoreTimeException", SourceTableName=name, RestoreDateTime=_at(_now(server)))
    # no such source; a target that exists
    _refused(ddb, "TableNotFoundException", SourceTableName="no-such-" + uuid.uuid4().hex[:6],
             UseLatestRestorableTime=True)
    other = make_table()
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=other, UseLatestRestorableTime=True)
    assert error_of(e) == ("TableAlreadyExistsException", f"Table already exists: {other}")
    assert ddb.describe_table(TableName=other)["Table"]["KeySchema"][-1]["AttributeName"] == "sk"
    # both times, or neither; no source at all
    _refused(ddb, "ValidationException", SourceTableName=name, UseLatestRestorableTime=True,
             RestoreDateTime=_at(enabled_at + 1))
    _refused(ddb, "ValidationException", SourceTableName=name)
    _refused(ddb, "ValidationException", UseLatestRestorableTime=True)
    # a bad target name
    with pytest.raises(ClientError) as e:
        ddb_raw.restore_table_to_point_in_time(SourceTableName=name, UseLatestRestorableTime=True, TargetTableName="x")
    assert error_of(e) == ("ValidationException", "1 validation error detected: Value 'x' at 'targetTableName' "
                                                  "failed to satisfy constraint: Member must have length greater "
                                                  "than or equal to 3")
    assert _scan(ddb, name).keys() == {"a"}


def test_disabling_forgets_the_history(ddb, make_table, server):
    name = make_table(range_type=None)
    _enable(ddb, name)
    ddb.put_item(TableName=name, Item=_item("a", 1))
    server.advance_clock(60)
    first = _now(server)
    ddb.update_continuous_backups(TableName=name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    _enable(ddb, name)
    again = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"].timestamp()
    assert again > first
    ddb.put_item(TableName=name, Item=_item("b", 1))
    server.advance_clock(LAG + 30)
    _refused(ddb, "InvalidRestoreTimeException", SourceTableName=name, RestoreDateTime=_at(first))
    target = _target()
    ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=target,
                                       RestoreDateTime=_at(again))
    _wait_active(ddb, target)
    assert set(_scan(ddb, target)) == {"a"}  # as it was when recovery was enabled again
    ddb.delete_table(TableName=target)


def test_concurrent_writers_then_restore_latest_equals_the_table(ddb, make_table, server, client_factory):
    name = make_table(range_type=None)
    _enable(ddb, name)

    def writer(w):
        c = client_factory("dynamodb")
        for i in range(40):
            c.update_item(TableName=name, Key={"pk": {"S": f"k{i % 10}"}}, UpdateExpression="ADD v :one",
                          ExpressionAttributeValues={":one": {"N": "1"}})
            if i % 7 == w:
                c.delete_item(TableName=name, Key={"pk": {"S": f"k{(i + w) % 10}"}})
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.advance_clock(LAG + 1)
    target = _target()
    ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=target, UseLatestRestorableTime=True)
    _wait_active(ddb, target)
    assert _scan(ddb, target) == _scan(ddb, name)
    ddb.delete_table(TableName=target)


@pytest.mark.slow
def test_history_survives_kill(durable_server):
    srv = durable_server
    ddb = make_client("dynamodb", srv.url)
    name = "pitr-durable"
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    _wait_active(ddb, name)
    _enable(ddb, name)
    ddb.put_item(TableName=name, Item=_item("a", 1))
    srv.advance_clock(60)
    then = _now(srv)
    srv.advance_clock(60)
    ddb.put_item(TableName=name, Item=_item("a", 2))
    ddb.put_item(TableName=name, Item=_item("b", 1))
    srv.kill()
    srv.start()
    ddb = make_client("dynamodb", srv.url)
    ddb.put_item(TableName=name, Item=_item("c", 1))  # after the restart, the history goes on
    srv.advance_clock(LAG + 60)
    target = _target()
    ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=target, RestoreDateTime=_at(then))
    _wait_active(ddb, target)
    assert {k: v["v"]["N"] for k, v in _scan(ddb, target).items()} == {"a": "1"}
