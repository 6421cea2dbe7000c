"""BatchGetItem and BatchWriteItem.

A batch is served whole, in one store transaction (AWS may leave items
unprocessed under throttling; cloudlet only does so for the 16 MB response
limit of BatchGetItem, as AWS does).
"""

from __future__ import annotations

import base64

import orjson

from cloudlet.protocol.errors import ServiceError
from cloudlet.protocol.validate import Violation, validation_message
from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import capacity as C
from cloudlet.services.dynamodb import exprs as E
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import resource_not_found, validation
from cloudlet.services.dynamodb.items import (
    Target, item_collection_metrics, new_item_for_put, open_table, item_loader,
)
from cloudlet.services.dynamodb.schema import check_table_name
from cloudlet.services.dynamodb.service import service
from cloudlet.services.dynamodb.validation import WRITE_LIST_CONSTRAINT

MAX_GET_KEYS = 100
MAX_WRITES = 25
MAX_GET_RESPONSE = 16 * 1024 * 1024


_MAP_KEYS = ("Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must "
             "have length greater than or equal to 3, Member must satisfy regular expression pattern: "
             "[a-zA-Z0-9_.-]+]")


def _check_get_table_names(request_items: dict) -> None:
    """BatchGetItem checks its table names as the keys of RequestItems, showing the whole map as
    JSON (nubo-db/dynamodb-conformance, batch validation ordering, us-east-1 and eu-west-2,
    2026-10-09: "Value '{"bad!name":{"Keys":[...]}}' at 'requestItems' failed to satisfy constraint:
    Map keys must satisfy constraint: [...]"). BatchWriteItem keeps the per-name text."""
    for name in request_items:
        if name.startswith("arn:"):
            continue
        try:
            check_table_name(name, "requestItems")
        except ServiceError:
            shown = orjson.dumps(request_items, default=lambda b: base64.b64encode(b).decode()).decode()
            raise validation(validation_message([Violation("requestItems", "RequestItems", "map-keys", _MAP_KEYS,
                                                           shown)])) from None


def _table(ctx, tx, name: str) -> Target:
    return open_table(ctx, tx, name, "requestItems", lambda: resource_not_found("Requested resource not found"))


@service.operation("BatchGetItem")
def batch_get_item(ctx: RequestContext, req: dict) -> dict:
    request_items = req["RequestItems"]
    _check_get_table_names(request_items)
    total = sum(len(spec.get("Keys") or ()) for spec in request_items.values())
    if total > MAX_GET_KEYS:
        raise validation("Too many items requested for the BatchGetItem call")
    compiled = {name: E.compile_request(spec, projection=True) for name, spec in request_items.items()}
    specs = request_items.values()
    if (any(s.get("ProjectionExpression") is not None for s in specs)
            and any(s.get("AttributesToGet") is not None for s in specs)):
        # one request: the styles may not be mixed across its tables either
        raise validation("Can not use both expression and non-expression parameters in the same request: "
                         "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    responses: dict[str, list] = {}
    unprocessed: dict[str, dict] = {}
    size = 0
    with ctx.store.transaction() as tx:
        targets = {name: _table(ctx, tx, name) for name in request_items}
        keys_by_table = {}
        for name, spec in request_items.items():
            schema = targets[name].schema
            keys = [schema.key_of_request(k) for k in spec["Keys"]]
            seen = set()
            for k in keys:
                parts = schema.key_parts(k)
                if parts in seen:
                    raise validation("Provided list of item keys contains duplicates")
                seen.add(parts)
            keys_by_table[name] = keys
        S.prefetch_items(tx, ctx.account, ctx.region, [(targets[name].schema, targets[name].schema.key_parts(k))
                                                       for name, keys in keys_by_table.items() for k in keys])
        for name, spec in request_items.items():
            target = targets[name]
            out = responses.setdefault(name, [])
            consistent = bool(spec.get("ConsistentRead"))
            for i, key in enumerate(keys_by_table[name]):
                if size > MAX_GET_RESPONSE:
                    rest = {k: v for k, v in spec.items() if k != "Keys"}
                    rest["Keys"] = keys_by_table[name][i:]
                    unprocessed[name] = rest
                    break
                proj = compiled[name].project
                item, item_size = S.get_item_sized(tx, ctx.account, ctx.region, target.schema,
                                                   target.schema.key_parts(key),
                                                   item_loader(ctx, not proj))
                meter.read_item(target.name, item_size, consistent)
                if item is not None:
                    if proj:
                        item = proj(item)
                        item_size = V.item_size(item)
                    size += item_size
                    out.append(item)
    result = {"Responses": responses, "UnprocessedKeys": unprocessed}
    return meter.add_to(result, many=True)


@service.operation("BatchWriteItem")
def batch_write_item(ctx: RequestContext, req: dict) -> dict:
    request_items = req["RequestItems"]
    total = sum(len(v) for v in request_items.values())
    if total > MAX_WRITES:
        raise validation(validation_message([Violation(
            "requestItems", "RequestItems", "length", WRITE_LIST_CONSTRAINT, request_items)]))
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    metrics: dict[str, list] = {}
    want_metrics = req.get("ReturnItemCollectionMetrics") == "SIZE"
    deltas = S.Deltas()  # one counters update per table, not per item
    with ctx.store.transaction() as tx:
        plan = []
        for name, writes in request_items.items():
            target = _table(ctx, tx, name)
            schema = target.schema
            seen = set()
            for w in writes:
                put, delete = w.get("PutRequest"), w.get("DeleteRequest")
                if (put is None) == (delete is None):
                    raise validation("A WriteRequest must contain exactly one of PutRequest or DeleteRequest")
                if put is not None:
                    item, parts, size = new_item_for_put(target, put["Item"], batch=True)
                else:
                    item, parts, size = None, schema.key_parts(schema.key_of_request(delete["Key"])), 0
                if parts in seen:
                    raise validation("Provided list of item keys contains duplicates")
                seen.add(parts)
                plan.append((target, parts, item, size))
        S.prefetch_items(tx, ctx.account, ctx.region, [(t.schema, parts) for t, parts, _, _ in plan])
        for target, parts, item, size in plan:
            old, old_size = S.get_item_sized(tx, ctx.account, ctx.region, target.schema, parts)
            if old is None and item is None:
                meter.write(target.name, 1.0)
                continue
            collection = S.write_item(tx, ctx.account, ctx.region, target.schema, parts, old, item,
                                      old_size=old_size, new_size=size, deltas=deltas,
                                      collection_limit=target.collection_limit)
            meter.write_item(target.name, old_size, size, target.schema, old, item)
            if want_metrics and collection is not None:
                metrics.setdefault(target.name, []).append(
                    item_collection_metrics(target.schema, item or old, collection))
        S.apply_deltas(tx, deltas)
    out = {"UnprocessedItems": {}}
    if metrics:
        out["ItemCollectionMetrics"] = metrics
    return meter.add_to(out, many=True)
