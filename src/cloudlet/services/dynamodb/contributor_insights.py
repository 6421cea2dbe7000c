"""UpdateContributorInsights / DescribeContributorInsights / ListContributorInsights:
the CloudWatch Contributor Insights setting of a table and of each of its global
secondary indexes, stored with the table (so DeleteTable drops it) and described as
AWS describes it. No rule reports exist: cloudlet has no CloudWatch to deliver them to.

An update answers ENABLING / DISABLING, as AWS does; the change is complete by the
next request (Terraform's aws_dynamodb_contributor_insights waits for ENABLED /
DISABLED and finds it at once).
"""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb.errors import resource_not_found, validation
from cloudlet.services.dynamodb.service import service
from cloudlet.services.dynamodb.tables import load_table, name_of, state

_ALL = "ACCESSED_AND_THROTTLED_KEYS"
LIST_PAGE = 100  # ListContributorInsights' MaxResults (the model's maximum) when not given


# AWS's texts, observed live (ack-api-quirks dynamodb DDB-TABLE-442/446)
_NOT_READY = "Table or Index is not in a valid state to update Key Access Insights: {} must be ACTIVE to enable " \
             "ContributorInsights."


def _index(record: dict, index: str | None, enabling: bool = False) -> str:
    """The settings key of the table ("") or of one of its global secondary indexes. An index
    still being created is not found by Describe, and cannot have insights enabled yet."""
    if index is None:
        return ""
    gsi = next((g for g in record.get("GlobalSecondaryIndexes") or () if g["IndexName"] == index), None)
    if gsi is not None and gsi.get("IndexStatus") == "CREATING" and enabling:
        raise validation(_NOT_READY.format("IndexStatus"))
    if gsi is None or gsi.get("IndexStatus") == "CREATING":
        # LSIs included
        raise resource_not_found(f"Requested resource not found: Index: {index} not found for table: "
                                 f"{record['TableName']}")
    return index


def _rules(record: dict, index: str, mode: str, since: float) -> list[str]:
    """The CloudWatch rule names DynamoDB manages for it: most accessed (C) and most
    throttled (T) partition keys (PK), and sort keys (SK) when the key has one."""
    if index:
        schema = next(g for g in record["GlobalSecondaryIndexes"] if g["IndexName"] == index)["KeySchema"]
    else:
        schema = record["KeySchema"]
    keys = ["PK", "SK"] if len(schema) > 1 else ["PK"]
    kinds = ["C", "T"] if mode == _ALL else ["T"]
    # The rule-name pattern allows no "/": the index follows the table after a dash.
    target = record["TableName"] + (f"-{index}" if index else "")
    return [f"DynamoDBContributorInsights-{k}{c}-{target}-{int(since * 1000)}"[:128] for k in keys for c in kinds]


def _setting(record: dict, index: str) -> dict:
    return (record.get("_Insights") or {}).get(index) or {"status": "DISABLED"}


@service.operation("UpdateContributorInsights")
def update_contributor_insights(ctx: RequestContext, req: dict) -> dict:
    name = name_of(ctx, req["TableName"])
    enable = req["ContributorInsightsAction"] == "ENABLE"
    now = ctx.clock.now()
    with ctx.store.transaction() as tx:
        record, _ = load_table(ctx, tx, name)
        if enable and record["TableStatus"] != "ACTIVE":
            raise validation(_NOT_READY.format("TableStatus"))
        index = _index(record, req.get("IndexName"), enabling=enable)
        current = _setting(record, index)
        mode = req.get("ContributorInsightsMode") or current.get("mode") or _ALL
        settings = dict(record.get("_Insights") or {})
        if enable:
            settings[index] = {"status": "ENABLED", "mode": mode, "updated": now,
                               "rules": _rules(record, index, mode, now)}
        else:
            settings[index] = {"status": "DISABLED", "mode": mode, "updated": now}
        record = dict(record, _Insights=settings)
        state(ctx).tables.put(tx, ctx.account, ctx.region, record)
    out = {"TableName": name, "ContributorInsightsStatus": "ENABLING" if enable else "DISABLING",
           "ContributorInsightsMode": mode}
    if index:
        out["IndexName"] = index
    return out


@service.operation("DescribeContributorInsights")
def describe_contributor_insights(ctx: RequestContext, req: dict) -> dict:
    name = name_of(ctx, req["TableName"])
    with ctx.store.transaction() as tx:
        record, _ = load_table(ctx, tx, name)
        index = _index(record, req.get("IndexName"))
    setting = _setting(record, index)
    out: dict = {"TableName": name, "ContributorInsightsStatus": setting["status"]}
    if index:
        out["IndexName"] = index
    if setting.get("rules"):
        out["ContributorInsightsRuleList"] = setting["rules"]
    if "updated" in setting:
        out["LastUpdateDateTime"] = setting["updated"]
    if "mode" in setting:
        out["ContributorInsightsMode"] = setting["mode"]
    return out


@service.operation("ListContributorInsights")
def list_contributor_insights(ctx: RequestContext, req: dict) -> dict:
    """The table and each of its global secondary indexes (every table's, without
    TableName), in name order, with their status."""
    limit = req.get("MaxResults") or LIST_PAGE
    token = req.get("NextToken")
    start = 0
    if token is not None:
        if not token.isdigit():
            raise validation("Invalid NextToken")  # not seen from AWS
        start = int(token)
    summaries = []
    with ctx.store.transaction() as tx:
        if req.get("TableName"):
            records = [load_table(ctx, tx, name_of(ctx, req["TableName"]))[0]]
        else:
            records = [S.loads(raw) for _, raw in tx.range(prefix=S.tables_prefix(ctx.account, ctx.region))]
    for record in records:
        for index in [""] + sorted(g["IndexName"] for g in record.get("GlobalSecondaryIndexes") or ()):
            setting = _setting(record, index)
            summary = {"TableName": record["TableName"], "ContributorInsightsStatus": setting["status"]}
            if index:
                summary["IndexName"] = index
            if "mode" in setting:
                summary["ContributorInsightsMode"] = setting["mode"]
            summaries.append(summary)
    out: dict = {"ContributorInsightsSummaries": summaries[start:start + limit]}
    if start + limit < len(summaries):
        out["NextToken"] = str(start + limit)
    return out
