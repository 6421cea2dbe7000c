"""DescribeContinuousBackups / UpdateContinuousBackups: the point-in-time recovery
setting of a table, stored with it and described as AWS describes it (Terraform's
aws_dynamodb_table reads it on every refresh). Restoring to a point in time is not
implemented (RestoreTableToPointInTime answers NotImplemented)."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb.errors import table_not_found_exception
from cloudlet.services.dynamodb.service import service
from cloudlet.services.dynamodb.tables import name_of, state

DEFAULT_RECOVERY_DAYS = 35  # "If no value is provided, the value will default to 35"
# "LatestRestorableDateTime is typically 5 minutes before the current time"
LATEST_RESTORABLE_LAG = 5 * 60


def _table(ctx: RequestContext, tx, table_name: str) -> dict:
    name = name_of(ctx, table_name)
    got = state(ctx).tables.get(tx, ctx.account, ctx.region, name)
    if got is None:
        raise table_not_found_exception(name)
    return got[0]


def _description(record: dict, now: float) -> dict:
    pitr = record.get("_Pitr")
    if not pitr or not pitr["enabled"]:
        recovery = {"PointInTimeRecoveryStatus": "DISABLED"}
    else:
        days = pitr["days"]
        recovery = {
            "PointInTimeRecoveryStatus": "ENABLED",
            "RecoveryPeriodInDays": days,
            "EarliestRestorableDateTime": max(pitr["since"], now - days * 86400),
            "LatestRestorableDateTime": max(pitr["since"], now - LATEST_RESTORABLE_LAG),
        }
    # "Continuous backups are ENABLED on all tables at table creation."
    return {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED",
                                             "PointInTimeRecoveryDescription": recovery}}


@service.operation("DescribeContinuousBackups")
def describe_continuous_backups(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        record = _table(ctx, tx, req["TableName"])
    return _description(record, ctx.clock.now())


@service.operation("UpdateContinuousBackups")
def update_continuous_backups(ctx: RequestContext, req: dict) -> dict:
    spec = req["PointInTimeRecoverySpecification"]
    enabled = spec["PointInTimeRecoveryEnabled"]
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        record = dict(_table(ctx, tx, req["TableName"]))
        old = record.get("_Pitr") or {"enabled": False}
        if enabled:
            days = spec.get("RecoveryPeriodInDays") or (old.get("days") if old["enabled"] else None) \
                or DEFAULT_RECOVERY_DAYS
            since = old["since"] if old["enabled"] else now
            record["_Pitr"] = {"enabled": True, "days": days, "since": since}
        else:
            record["_Pitr"] = {"enabled": False}
        state(ctx).tables.put(tx, ctx.account, ctx.region, record)
    return _description(record, now)
