"""Point-in-time recovery settings: DescribeContinuousBackups / UpdateContinuousBackups,
as Terraform's aws_dynamodb_table reads and writes them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .conftest import error_of


def _pitr(ddb, name):
    desc = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert desc["ContinuousBackupsStatus"] == "ENABLED"  # on every table from its creation
    return desc["PointInTimeRecoveryDescription"]


def test_recovery_is_off_until_enabled_and_keeps_its_period(ddb, make_table, server):
    name = make_table()
    assert _pitr(ddb, name) == {"PointInTimeRecoveryStatus": "DISABLED"}

    out = ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})["ContinuousBackupsDescription"]
    recovery = out["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED" and recovery["RecoveryPeriodInDays"] == 35
    assert recovery["EarliestRestorableDateTime"] <= recovery["LatestRestorableDateTime"]
    assert _pitr(ddb, name)["RecoveryPeriodInDays"] == 35

    server.advance_clock(3600)
    later = _pitr(ddb, name)
    assert later["EarliestRestorableDateTime"] == recovery["EarliestRestorableDateTime"]  # since it was enabled
    delta = later["LatestRestorableDateTime"] - later["EarliestRestorableDateTime"]
    assert 3000 < delta.total_seconds() < 3700  # about five minutes behind the (moved) clock

    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7})
    assert _pitr(ddb, name)["RecoveryPeriodInDays"] == 7
    # by ARN, and off again
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.update_continuous_backups(TableName=arn, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": False})
    assert _pitr(ddb, arn) == {"PointInTimeRecoveryStatus": "DISABLED"}
    # the setting is not part of DescribeTable, and the table is untouched
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE" and not any(k.startswith("_") for k in table)


def test_missing_table(ddb):
    for call in (lambda: ddb.describe_continuous_backups(TableName="no-such-table"),
                 lambda: ddb.update_continuous_backups(TableName="no-such-table", PointInTimeRecoverySpecification={
                     "PointInTimeRecoveryEnabled": True})):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == ("TableNotFoundException", "Table not found: no-such-table")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("spec, expected", [
    ({"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36}, "recoveryPeriodInDays"),
    ({"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 0}, "recoveryPeriodInDays"),
    ({}, "pointInTimeRecoveryEnabled"),
])
def test_bad_specification_is_refused_and_changes_nothing(ddb_raw, make_table, spec, expected):
    name = make_table()
    with pytest.raises(ClientError) as e:
        ddb_raw.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=spec)
    code, message = error_of(e)
    assert code == "ValidationException" and expected in message
    assert _pitr(ddb_raw, name) == {"PointInTimeRecoveryStatus": "DISABLED"}
