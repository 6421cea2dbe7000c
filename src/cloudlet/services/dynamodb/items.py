"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

The per-item steps (look up the table, check the key, evaluate the condition,
compute the new item) are functions shared with BatchWriteItem and
TransactWriteItems, so every path applies the same rules. Each handler runs
its reads, checks and writes in one store transaction with no await inside:
conditional writes are atomic under any concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import capacity as C
from cloudlet.services.dynamodb import exprs as E
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.background import State, get_state
from cloudlet.services.dynamodb.errors import conditional_check_failed, invalid, no_such_table, validation
from cloudlet.services.dynamodb.schema import Schema, table_name_of
from cloudlet.services.dynamodb.service import service


class ConditionFailed(Exception):
    """A ConditionExpression / Expected check failed on ``item`` (None: no item)."""

    def __init__(self, item: dict | None):
        super().__init__("The conditional request failed")
        self.item = item


@dataclass(slots=True)
class Target:
    """A resolved table for a data-plane operation."""

    name: str
    record: dict
    schema: Schema
    state: State

    @property
    def collection_limit(self) -> int:
        return self.state.collection_limit


def item_loader(ctx: RequestContext, whole: bool):
    """How to read a stored item: one that goes into the answer ``whole`` (no
    projection) as its stored JSON (``S.load_item_json``, copied into the body as
    it is) when the answer is JSON; else decoded (``S.load_item``; a CBOR answer
    is encoded from values)."""
    return S.load_item_json if whole and ctx.protocol == "json" else S.load_item


def open_table(ctx: RequestContext, tx, table_name: str, member: str = "tableName",
               missing=no_such_table) -> Target:
    name = table_name_of(table_name, ctx.account, ctx.region, member)
    state = get_state(ctx.app)
    got = state.tables.get(tx, ctx.account, ctx.region, name)
    if got is None or got[0]["TableStatus"] in ("CREATING", "DELETING"):
        # AWS answers the same for a missing table and one not yet usable.
        raise missing()
    return Target(name, got[0], got[1], state)


def resolve_name(ctx: RequestContext, table_name: str) -> str:
    return table_name_of(table_name, ctx.account, ctx.region)


# ---------------------------------------------------------------- shared steps

UPDATE_TOO_BIG = "Item size to update has exceeded the maximum allowed size"


def check_return_values(value: str | None, allowed: tuple, op: str) -> str:
    value = value or "NONE"
    if value not in allowed:
        if allowed == ("NONE", "ALL_OLD"):
            raise validation("ReturnValues can only be ALL_OLD or NONE")
        raise validation(f"ReturnValues can only be {', '.join(allowed[:-1])} or {allowed[-1]}")
    return value


def new_item_for_put(target: Target, item: dict, batch: bool = False) -> tuple[dict, tuple, int]:
    """Validate a full item for a write; returns (item, key parts, size)."""
    item = V.check_item(item)
    schema = target.schema
    key = schema.key_of_item(item, batch)
    if schema.indexes:
        schema.check_index_keys(item)
    size = V.item_size(item)
    if size > V.MAX_ITEM_SIZE:
        raise validation("Item size has exceeded the maximum allowed size")
    return item, schema.key_parts(key), size


def check_condition(compiled: E.Compiled, old: dict | None) -> None:
    if compiled.condition is not None and not compiled.condition(old or {}):
        raise ConditionFailed(old)


def apply_update(target: Target, compiled: E.Compiled, key: dict, old: dict | None,
                 updated: bool = False) -> tuple[dict, int, dict | None, dict | None]:
    """The item after an UpdateExpression/AttributeUpdates: (new item, its
    size, UPDATED_OLD, UPDATED_NEW); the last two only when ``updated``."""
    schema = target.schema
    for name in schema.key_names:
        if name in compiled.update_names:
            raise invalid(f"Cannot update attribute {name}. This attribute is part of the key")
    base = old if old is not None else dict(key)
    new, upd_old, upd_new = compiled.update(base, updated)
    for name in schema.key_names:
        if name not in new:
            new[name] = key[name]
    if schema.indexes:
        schema.check_index_keys(new, update=True)
    size = V.item_size(new)
    if size > V.MAX_ITEM_SIZE:
        raise validation(UPDATE_TOO_BIG)
    return new, size, upd_old, upd_new


def _too_deep_item(item: dict):
    """PutItem's refusal of an item nested past 32 levels: in the validation envelope, bare from
    about 63 levels on, where BatchWriteItem and TransactWriteItems are always bare (us-east-1 and
    eu-west-2, 2026-10-09; nubo-db/dynamodb-conformance tests/tier3/limits/nestingDepth.test.ts)."""
    depth = max(V.nesting_depth(v) for v in item.values())
    return validation(V.NESTING if depth >= V.FAR_DEPTH else "1 validation error detected: " + V.NESTING)


def failure_item(rv_on_failure: str | None, item: dict | None) -> dict | None:
    return item if rv_on_failure == "ALL_OLD" and item else None


# ---------------------------------------------------------------- handlers

@service.operation("PutItem")
def put_item(ctx: RequestContext, req: dict) -> dict:
    rv = check_return_values(req.get("ReturnValues"), ("NONE", "ALL_OLD"), "PutItem")
    compiled = E.compile_request(req, condition=True, single_item=True)
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    with ctx.store.transaction() as tx:
        target = open_table(ctx, tx, req["TableName"])
        schema = target.schema
        try:
            item, parts, size = new_item_for_put(target, req["Item"])
        except V.TooDeep:
            raise _too_deep_item(req["Item"]) from None
        old, old_size = _checked_old(ctx, tx, req, compiled, schema, parts)
        collection = S.write_item(tx, ctx.account, ctx.region, schema, parts, old, item, old_size=old_size,
                                  new_size=size, collection_limit=target.collection_limit)
    meter.write_item(target.name, old_size, size, schema, old, item)
    out = {}
    if rv == "ALL_OLD" and old:
        out["Attributes"] = old
    meter.add_to(out)
    return collection_metrics(req, target, item, collection, out)


@service.operation("GetItem")
def get_item(ctx: RequestContext, req: dict) -> dict:
    compiled = E.compile_request(req, projection=True)
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    with ctx.store.transaction() as tx:
        target = open_table(ctx, tx, req["TableName"])
        schema = target.schema
        key = schema.key_of_request(req["Key"])
        item, size = S.get_item_sized(tx, ctx.account, ctx.region, schema, schema.key_parts(key),
                                      item_loader(ctx, not compiled.project))
    meter.read_item(target.name, size, bool(req.get("ConsistentRead")))
    out = {}
    if item is not None:
        out["Item"] = compiled.project(item) if compiled.project else item
    return meter.add_to(out)


@service.operation("DeleteItem")
def delete_item(ctx: RequestContext, req: dict) -> dict:
    rv = check_return_values(req.get("ReturnValues"), ("NONE", "ALL_OLD"), "DeleteItem")
    compiled = E.compile_request(req, condition=True, single_item=True)
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    with ctx.store.transaction() as tx:
        target = open_table(ctx, tx, req["TableName"])
        schema = target.schema
        key = schema.key_of_request(req["Key"])
        parts = schema.key_parts(key)
        old, old_size = _checked_old(ctx, tx, req, compiled, schema, parts)
        if old is not None:
            collection = S.write_item(tx, ctx.account, ctx.region, schema, parts, old, None, old_size=old_size,
                                      new_size=0)
        elif schema.lsis:
            collection = S.collection_size(tx, ctx.account, ctx.region, schema, parts[0])
        else:
            collection = None
    meter.write_item(target.name, old_size, 0, schema, old, None)
    out = {}
    if rv == "ALL_OLD" and old:
        out["Attributes"] = old
    meter.add_to(out)
    return collection_metrics(req, target, key, collection, out)


_RV_UPDATE = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


@service.operation("UpdateItem")
def update_item(ctx: RequestContext, req: dict) -> dict:
    rv = check_return_values(req.get("ReturnValues"), _RV_UPDATE, "UpdateItem")
    compiled = E.compile_request(req, condition=True, update=True, single_item=True)
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    with ctx.store.transaction() as tx:
        target = open_table(ctx, tx, req["TableName"])
        schema = target.schema
        key = schema.key_of_request(req["Key"])
        parts = schema.key_parts(key)
        old, old_size = _checked_old(ctx, tx, req, compiled, schema, parts)
        new, size, upd_old, upd_new = apply_update(target, compiled, key, old, rv in ("UPDATED_OLD", "UPDATED_NEW"))
        collection = S.write_item(tx, ctx.account, ctx.region, schema, parts, old, new, old_size=old_size,
                                  new_size=size, collection_limit=target.collection_limit)
    meter.write_item(target.name, old_size, size, schema, old, new)
    out = {}
    attrs = None
    if rv == "ALL_OLD":
        attrs = old
    elif rv == "ALL_NEW":
        attrs = new
    elif rv == "UPDATED_OLD":
        attrs = upd_old
    elif rv == "UPDATED_NEW":
        attrs = upd_new
    if attrs:
        out["Attributes"] = attrs
    meter.add_to(out)
    return collection_metrics(req, target, new, collection, out)


def item_collection_metrics(schema: Schema, item: dict, size: int) -> dict:
    """One ItemCollectionMetrics entry. ``SizeEstimateRangeGB`` brackets the
    collection's size in whole gigabytes (GiB): [0.0, 1.0] below 1 GiB,
    [1.0, 2.0] up to 2 GiB, ... -- AWS documents the pair as a rough estimate."""
    h = schema.hash_name
    lower = float(size // 2 ** 30)
    return {"ItemCollectionKey": {h: item[h]}, "SizeEstimateRangeGB": [lower, lower + 1.0]}


def collection_metrics(req: dict, target: Target, item: dict, size: int | None, out: dict) -> dict:
    """ItemCollectionMetrics: only asked-for, and only for tables with local secondary indexes."""
    if req.get("ReturnItemCollectionMetrics") == "SIZE" and target.schema.lsis:
        out["ItemCollectionMetrics"] = item_collection_metrics(target.schema, item, size or 0)
    return out


def _checked_old(ctx: RequestContext, tx, req: dict, compiled, schema, parts: tuple) -> tuple:
    """The stored item and its size, once the request's condition holds on it."""
    old, old_size = S.get_item_sized(tx, ctx.account, ctx.region, schema, parts)
    try:
        check_condition(compiled, old)
    except ConditionFailed as f:
        raise raise_condition_failed(req, f)
    return old, old_size


def raise_condition_failed(req: dict, f: ConditionFailed) -> ServiceError:
    return conditional_check_failed(failure_item(req.get("ReturnValuesOnConditionCheckFailure"), f.item))
