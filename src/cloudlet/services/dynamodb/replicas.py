"""Global tables, version 2019.11.21 (current): UpdateTable's ``ReplicaUpdates``
(a replica table is created, changed or deleted in another region of the
account) and the ``Replicas`` / ``GlobalTableVersion`` that DescribeTable shows.

A global table is a table of the same name in each of its regions; each
replica's record lists the group's regions (``store.group_of``), and its item
writes reach the others through ``store.ReplicaSink``, in the same store
transaction (cloudlet is one process: replicas are always equal). What a
replica description says is read from the other replica's own record (its
status, its overrides), so nothing has to be kept in step but the group.

Error texts are AWS's, as captured from UpdateTable calls (the
ack-api-quirks DynamoDB captures, DDB-TABLE-203/223/258/307, DDB-GLOBALTABLE-004;
the local-region text also in aws-cli issue 4906); those marked "guess" were
not seen.

The legacy version 2017.11.29 operations answer as AWS answers them since it
stopped admitting new legacy global tables: CreateGlobalTable (and an
UpdateGlobalTable Create) is refused as not supported, the others find no
global table, ListGlobalTables lists none.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import background as B
from cloudlet.services.dynamodb import schema as M
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb import tables as T  # (tables imports this module: used at call time only)
from cloudlet.services.dynamodb.errors import invalid, validation
from cloudlet.services.dynamodb.service import service

GLOBAL_TABLE_VERSION = "2019.11.21"

_LOCAL = ("Cannot add or delete the local region through ReplicaUpdates. "
          "Use CreateTable, DeleteTable, or UpdateTable as required.")
_NO_ACTIONS = "There are no actions specified in the Replica Update Action of the request."
_MIXED = "Update table operation with more than one type of replica actions not allowed."
_ONE_AT_A_TIME = "Update table operation with more than one create or delete replica actions not allowed"
_ALONE = "Requests that modify replicas or witnesses must not also modify other fields"
# What DescribeTable shows on a replica and in its Replicas entries (same-account groups).
SETTINGS_REPLICATION_MODE = "ENABLED_WITH_OVERRIDES"
_PROTECTED = ("Resource cannot be deleted as it is currently protected against deletion. "
              "Disable deletion protection first.")
# Settings a replica may have of its own (CreateReplicationGroupMemberAction).
_OVERRIDES = ("KMSMasterKeyId", "ProvisionedThroughputOverride", "OnDemandThroughputOverride",
              "GlobalSecondaryIndexes", "TableClassOverride")
_REPLICA_STATUS = {"CREATING": "CREATING", "UPDATING": "UPDATING", "DELETING": "DELETING"}


def _already_exists(name: str) -> Exception:
    return validation(f"Failed to create a the new replica of table with name: \u2018{name}\u2019 because one "
                      "or more replicas already existed as tables.")


def _not_members(regions: list) -> Exception:
    return validation("Update global table operation failed because one or more replicas were not part of the "
                      f"global table. Please retry the request without these replicas: [{', '.join(regions)}].")


@functools.cache
def supported_regions() -> tuple:
    """The regions of the aws partition that have DynamoDB (botocore's endpoint data,
    read on the first replica change: botocore.session would cost every server ~4 MB
    of idle memory for it)."""
    from botocore.loaders import create_loader

    partition = next(p for p in create_loader().load_data("endpoints")["partitions"] if p["partition"] == "aws")
    endpoints = partition["services"]["dynamodb"]["endpoints"]
    return tuple(sorted(r for r, e in endpoints.items() if r in partition["regions"]
                        and not (e.get("deprecated") or "fips" in r)))


def _check_region(region: str) -> None:
    regions = supported_regions()
    if region not in regions:
        raise validation(f"Region {region} is not supported. The latest version of global tables are only "
                         f"supported in the following regions: [{', '.join(regions)}]")


def in_region(ctx: RequestContext, region: str) -> RequestContext:
    """The request's context as seen from another region of the account."""
    return dataclasses.replace(ctx, region=region)


# ---------------------------------------------------------------- DescribeTable

def describe_replicas(tables: S.Tables, tx, acct: str, region: str, record: dict) -> list[dict]:
    """ReplicaDescription of every other region of the table's global table: AWS
    lists the other regions (the scylladb Alternator tests saw the local one
    listed too, now and then), with no ARN and only the values a replica
    overrides."""
    out = []
    for r in S.group_of(record):
        if r == region:
            continue
        got = tables.get(tx, acct, r, record["TableName"])
        if got is None:
            continue
        other = got[0]
        d = {"RegionName": r, "ReplicaStatus": _REPLICA_STATUS.get(other["TableStatus"], "ACTIVE")}
        overrides = other.get("_ReplicaOverrides") or {}
        for k in ("KMSMasterKeyId", "ProvisionedThroughputOverride", "OnDemandThroughputOverride"):
            if overrides.get(k):
                d[k] = overrides[k]
        names = {ix["IndexName"] for ix in other.get("GlobalSecondaryIndexes") or ()}
        gsis = [g for g in overrides.get("GlobalSecondaryIndexes") or () if g["IndexName"] in names]
        if gsis:
            d["GlobalSecondaryIndexes"] = gsis
        if overrides.get("TableClassOverride"):
            d["ReplicaTableClassSummary"] = {"TableClass": overrides["TableClassOverride"]}
        d["GlobalTableSettingsReplicationMode"] = SETTINGS_REPLICATION_MODE
        out.append(d)
    return out


# ---------------------------------------------------------------- UpdateTable ReplicaUpdates

def check_alone(req: dict, concerns: tuple) -> None:
    if any(req.get(k) is not None for k in concerns):
        raise validation(_ALONE)


def replica_updates(ctx: RequestContext, tx, tables: S.Tables, record: dict, schema: M.Schema, updates: list,
                    now: float) -> list[str]:
    """Apply ``ReplicaUpdates`` to the table (``record``, a copy its caller stores)
    and to the replicas it names; returns the regions whose tables now need their
    status transition."""
    kinds: set[str] = set()
    for u in updates:
        actions = [k for k in ("Create", "Update", "Delete", "Disassociate") if u.get(k) is not None]
        if not actions:
            raise validation(_NO_ACTIONS)
        kinds.update(actions)
    if len(kinds) > 1:
        raise validation(_MIXED)
    kind = kinds.pop()
    actions = [u[kind] for u in updates]
    if kind == "Disassociate":
        # guess: multi-account global tables are not emulated
        raise validation("Disassociating a replica is only supported for multi-account global tables")
    regions = list(dict.fromkeys(a["RegionName"] for a in actions))  # AWS accepts a region twice
    if ctx.region in regions:
        raise validation(_LOCAL)
    if kind != "Update" and len(regions) > 1:
        # one replica made or deleted per call (multi-region strong consistency, not
        # emulated, is AWS's one exception)
        raise validation(_ONE_AT_A_TIME)
    group = S.group_of(record) or [ctx.region]
    name = record["TableName"]
    if kind == "Create":
        for r in regions:
            _check_region(r)
        for r in regions:
            if r in group or tables.get(tx, ctx.account, r, name) is not None:
                raise _already_exists(name)
        _ensure_stream(ctx, tx, record, now)
        new_group = group + regions
        S.set_group(record, new_group)
        _regroup(tables, tx, ctx.account, name, group, new_group, ctx.region)
        done = set()
        for a in actions:
            if a["RegionName"] not in done:
                done.add(a["RegionName"])
                _create(ctx, tx, record, schema, a, new_group, now)
        return regions
    missing = [r for r in regions if r not in group]
    if missing:
        raise _not_members(missing)
    for a in actions:
        got = tables.get(tx, ctx.account, a["RegionName"], name)
        if got is None:
            raise _not_members([a["RegionName"]])
        other = M.copy_record(got[0])
        if kind == "Update":
            _update(other, a)
        else:
            if other.get("DeletionProtectionEnabled"):
                raise validation(_PROTECTED)
            if (other.get("StreamSpecification") or {}).get("StreamEnabled"):
                S.close_stream(tx, ctx.account, a["RegionName"], name, other.get("LatestStreamLabel"), now)
            other["TableStatus"] = "DELETING"
        if other["TableStatus"] == "ACTIVE":
            other["TableStatus"] = "UPDATING"
        tables.put(tx, ctx.account, a["RegionName"], other)
        tx.put(B.pending_key(ctx.account, a["RegionName"], name), b"")
    return regions


def _ensure_stream(ctx: RequestContext, tx, record: dict, now: float) -> None:
    """A table that becomes global gets a NEW_AND_OLD_IMAGES stream when it has none; an
    enabled stream keeps its view type (KEYS_ONLY too: the scylladb Alternator tests of
    AWS, test_global_table_keys_only_is_enough)."""
    if not (record.get("StreamSpecification") or {}).get("StreamEnabled"):
        T.start_stream(ctx, tx, record, {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}, now)


def _regroup(tables: S.Tables, tx, acct: str, name: str, members: list, group: list, skip: str) -> None:
    """Give every member but ``skip`` (whose record the caller stores) the new group."""
    for r in members:
        if r == skip:
            continue
        got = tables.get(tx, acct, r, name)
        if got is not None:
            other = dict(got[0])
            S.set_group(other, group)
            tables.put(tx, acct, r, other)


def _create(ctx: RequestContext, tx, src: dict, schema: M.Schema, action: dict, group: list, now: float) -> None:
    """The replica table in ``action["RegionName"]``: the source's key schema,
    attribute definitions, indexes, billing, TTL and stream view type with the
    action's overrides, CREATING until the source's items are copied into it
    (background.State.copy_replica); it is in the group at once, so the writes
    made meanwhile reach it too."""
    region = action["RegionName"]
    acct = ctx.account
    record = _replica_record(src, region, action, acct, now)
    S.set_group(record, group)
    record["_CopyFrom"] = {"region": ctx.region, "tid": schema.id, "next": None}
    T.add_table(in_region(ctx, region), tx, record)
    if (record.get("TimeToLive") or {}).get("TimeToLiveStatus") == "ENABLED":
        B.ttl_table(tx, acct, region, record["TableName"], True)


def _replica_record(src: dict, region: str, action: dict, acct: str, now: float) -> dict:
    name = src["TableName"]
    arn = M.table_arn(acct, region, name)
    record = {"TableName": name, "TableId": str(uuid.uuid4()), "TableArn": arn, "TableStatus": "CREATING",
              "CreationDateTime": now, "DeletionProtectionEnabled": False}
    for key in ("AttributeDefinitions", "KeySchema", "ProvisionedThroughput", "BillingMode", "_BillingModeGiven",
                "LastUpdateToPayPerRequestDateTime", "_MaxProvisioned", "OnDemandThroughput", "WarmThroughput",
                "TableClass", "TimeToLive"):
        if key in src:
            record[key] = src[key]
    for key in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        ixs = [{**{k: v for k, v in ix.items() if not k.startswith("_")}, "IndexArn": f"{arn}/index/{ix['IndexName']}"}
               for ix in src.get(key) or () if ix.get("IndexStatus") != "DELETING"]
        if ixs:
            record[key] = ixs
    if src.get("SSEDescription"):
        record["SSEDescription"] = M.sse_description(
            {"SSEType": src["SSEDescription"].get("SSEType"), "KMSMasterKeyId": action.get("KMSMasterKeyId")},
            acct, region)
    record["StreamSpecification"] = dict(src["StreamSpecification"])
    overrides = {k: action[k] for k in _OVERRIDES if action.get(k) is not None}
    if overrides:
        record["_ReplicaOverrides"] = overrides
        _apply_overrides(record, overrides)
    return record


def _update(record: dict, action: dict) -> None:
    """UpdateReplicationGroupMemberAction on the replica's record (a copy)."""
    given = {k: action[k] for k in _OVERRIDES if action.get(k) is not None}
    if not given:
        raise validation(_NO_ACTIONS)
    if given.get("ProvisionedThroughputOverride") and record.get("BillingMode") == "PAY_PER_REQUEST":
        raise validation("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
                         "PAY_PER_REQUEST")
    if "KMSMasterKeyId" in given:
        # AWS refuses a replica's key change through ReplicaUpdates (ack-api-quirks), with this text
        raise invalid("KMSMasterKeyId must be specified for each replica.")
    record["_ReplicaOverrides"] = {**(record.get("_ReplicaOverrides") or {}), **given}
    _apply_overrides(record, given)


def _apply_overrides(record: dict, overrides: dict) -> None:
    """A replica's own read capacity, on-demand read maximum and table class."""
    read = (overrides.get("ProvisionedThroughputOverride") or {}).get("ReadCapacityUnits")
    if read and record.get("BillingMode", "PROVISIONED") != "PAY_PER_REQUEST":
        record["ProvisionedThroughput"] = {**record["ProvisionedThroughput"], "ReadCapacityUnits": read}
    top = (overrides.get("OnDemandThroughputOverride") or {}).get("MaxReadRequestUnits")
    if top:
        record["OnDemandThroughput"] = {**(record.get("OnDemandThroughput") or {}), "MaxReadRequestUnits": top}
    if overrides.get("TableClassOverride"):
        record["TableClass"] = overrides["TableClassOverride"]
    by_name = {g["IndexName"]: g for g in overrides.get("GlobalSecondaryIndexes") or ()}
    if by_name:
        gsis = []
        for ix in record.get("GlobalSecondaryIndexes") or ():
            o = by_name.get(ix["IndexName"]) or {}
            ix = dict(ix)
            read = (o.get("ProvisionedThroughputOverride") or {}).get("ReadCapacityUnits")
            if read and record.get("BillingMode", "PROVISIONED") != "PAY_PER_REQUEST":
                ix["ProvisionedThroughput"] = {**ix["ProvisionedThroughput"], "ReadCapacityUnits": read}
            gsis.append(ix)
        record["GlobalSecondaryIndexes"] = gsis


def read_override(record: dict) -> int | None:
    """The replica's own table read capacity, when it has one."""
    return ((record.get("_ReplicaOverrides") or {}).get("ProvisionedThroughputOverride") or {}).get(
        "ReadCapacityUnits")


# ---------------------------------------------------------------- version 2017.11.29 (legacy)

_LEGACY = ("DynamoDB global tables version 2017.11.29 is not supported. We recommend using DynamoDB global tables "
           "version 2019.11.21, instead of version 2017.11.29 (Legacy).")


def _no_global_table(name: str, prefix: str = "") -> ServiceError:
    return ServiceError("GlobalTableNotFoundException", f"{prefix}Global table with name: '{name}' does not exist.")


@service.operation("CreateGlobalTable")
def create_global_table(ctx: RequestContext, req: dict) -> dict:
    raise validation(_LEGACY)


@service.operation("UpdateGlobalTable")
def update_global_table(ctx: RequestContext, req: dict) -> dict:
    if any(u.get("Create") is not None for u in req["ReplicaUpdates"]):
        raise validation(_LEGACY)  # checked before the name
    raise _no_global_table(req["GlobalTableName"])


@service.operation("DescribeGlobalTable")
def describe_global_table(ctx: RequestContext, req: dict) -> dict:
    raise _no_global_table(req["GlobalTableName"], "Global table not found: ")


@service.operation("DescribeGlobalTableSettings")
def describe_global_table_settings(ctx: RequestContext, req: dict) -> dict:
    raise _no_global_table(req["GlobalTableName"])


@service.operation("UpdateGlobalTableSettings")
def update_global_table_settings(ctx: RequestContext, req: dict) -> dict:
    raise _no_global_table(req["GlobalTableName"])


@service.operation("ListGlobalTables")
def list_global_tables(ctx: RequestContext, req: dict) -> dict:
    return {"GlobalTables": []}
