"""TransactWriteItems and TransactGetItems.

A write transaction is checked whole (every condition against the current
items) and then applied in one store transaction: all or nothing, and -- the
server being single-threaded with no await inside -- no reader ever sees part
of it. A failed condition cancels everything with ``TransactionCanceledException``
and one ``CancellationReason`` per action, in request order.

``ClientRequestToken`` makes the call idempotent for 10 minutes: the same token
with the same parameters returns the first call's result without writing
again; with other parameters it is ``IdempotentParameterMismatchException``.
"""

from __future__ import annotations

import hashlib

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import capacity as C
from cloudlet.services.dynamodb import exprs as E
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import INVALID, KEY_SCHEMA_MISMATCH, resource_not_found, validation
from cloudlet.services.dynamodb.errors import COLLECTION_SIZE_EXCEEDED, ItemCollectionSizeLimitExceeded
from cloudlet.services.dynamodb.items import (
    UPDATE_TOO_BIG, ConditionFailed, Target, apply_update, check_condition, check_return_values, item_collection_metrics,
    new_item_for_put, open_table, item_loader,
)
from cloudlet.services.dynamodb.service import service

TOKEN_TTL = 600.0
MAX_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


def _table(ctx, tx, name: str) -> Target:
    return open_table(ctx, tx, name, missing=lambda: resource_not_found("Requested resource not found"))


def _cancels(err: ServiceError) -> bool:
    """A key of the wrong type (table or index key), or an Update whose result is
    too big or nested too deep, cancels the transaction with a ValidationError reason; other
    malformed input (a Put too big included) fails the whole request."""
    return err.code == "ValidationException" and (
        err.message == KEY_SCHEMA_MISMATCH or err.message.startswith(INVALID + "Type mismatch for ")
        or err.message == UPDATE_TOO_BIG or err.message == V.NESTING_REASON)


# AWS checks each action in request order, all of it before any table is looked up: its expressions,
# then the values it carries (an item's empty attribute name, then how deep its values go; a key's
# values). The first problem met is reported. An oversized UpdateExpression has no size after the
# sentence, unlike a ConditionExpression's. (nubo-db/dynamodb-conformance, deep requests and
# TransactWriteItems action order, us-east-1 and nine other regions, 2026-10-09.)
_UPDATE_TOO_LONG = "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size;"


def _check_values(kind: str, spec: dict) -> None:
    if kind == "Put":
        item = spec["Item"]
        if "" in item:
            raise validation("Empty attribute name")
        V.check_item(item)
    else:
        for value in spec["Key"].values():
            V.check_value(value)


def _cancel(reasons: list) -> ServiceError:
    codes = ", ".join(r["Code"] for r in reasons)
    return ServiceError("TransactionCanceledException",
                        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                        CancellationReasons=reasons)


def _request_hash(req: dict) -> str:
    body = {k: v for k, v in req.items() if k not in ("ClientRequestToken", "ReturnConsumedCapacity",
                                                      "ReturnItemCollectionMetrics")}
    return hashlib.sha256(S.dumps(_canonical(body))).hexdigest()


def _canonical(v):
    if isinstance(v, dict):
        return tuple(sorted((k, _canonical(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_canonical(x) for x in v)
    return v


# The cancellation reason of an action whose condition does not hold.
CONDITION_FAILED = ("ConditionalCheckFailed", "The conditional request failed")


@service.operation("TransactWriteItems")
def transact_write_items(ctx: RequestContext, req: dict) -> dict:
    actions = req["TransactItems"]
    if len(actions) > MAX_ACTIONS:
        raise validation("Member must have length less than or equal to 100")
    meter = C.Meter(req.get("ReturnConsumedCapacity"), split=True)
    # Compile every action first: malformed input is a ValidationException for
    # the whole request, before any item is read.
    compiled = []
    for a in actions:
        kinds = [k for k in ("ConditionCheck", "Put", "Delete", "Update") if a.get(k) is not None]
        if len(kinds) != 1:
            raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
        kind = kinds[0]
        spec = a[kind]
        if kind == "ConditionCheck":
            if spec.get("ConditionExpression") is None:
                raise validation("1 validation error detected: Value null at 'transactItems.1.member.conditionCheck."
                                 "conditionExpression' failed to satisfy constraint: Member must not be null")
            c = E.compile_request(spec, condition=True, transaction=True)
        elif kind == "Update":
            try:
                c = E.compile_request(spec, condition=True, update=True, transaction=True)
            except ServiceError as err:
                if err.message.startswith(_UPDATE_TOO_LONG):
                    raise validation(_UPDATE_TOO_LONG) from None  # no size after it here
                raise
        else:
            c = E.compile_request(spec, condition=True, transaction=True)
        _check_values(kind, spec)
        compiled.append((kind, spec, c, CONDITION_FAILED))
    return write_transactionally(ctx, req, compiled, meter, {})


def write_transactionally(ctx: RequestContext, req: dict, compiled: list, meter: C.Meter, response: dict) -> dict:
    """Check and apply the actions ``compiled`` -- (kind, spec, compiled, (code, message) when
    its condition fails), kind one of ConditionCheck/Put/Delete/Update, spec
    holding TableName, Item (Put) or Key, ReturnValuesOnConditionCheckFailure --
    all or nothing, with ``req``'s ClientRequestToken. ``response`` is what a
    success answers (before ItemCollectionMetrics and ConsumedCapacity), and
    what a replay of the token answers. Shared by TransactWriteItems and
    PartiQL's ExecuteTransaction."""
    token = req.get("ClientRequestToken")
    now = ctx.clock.now()
    response = dict(response)
    with ctx.store.transaction() as tx:
        if token is not None:
            tkey = S.token_key(ctx.account, ctx.region, token)
            raw = tx.get(tkey)
            digest = _request_hash(req)
            prev = None
            if raw is not None:
                prev = S.loads(raw)
                if prev["expires"] > now:
                    if prev["hash"] != digest:
                        raise ServiceError("IdempotentParameterMismatchException",
                                           "Request parameters do not match the request with the same "
                                           "ClientRequestToken that was made within the last 10 minutes")
                    if meter.mode is not None:
                        # a replay writes nothing: AWS reports the reads of the items instead
                        for kind, spec, _c, _f in compiled:
                            target = _table(ctx, tx, spec["TableName"])
                            schema = target.schema
                            key = schema.key_of_item(spec["Item"]) if kind == "Put" else schema.key_of_request(spec["Key"])
                            size = S.get_item_sized(tx, ctx.account, ctx.region, schema, schema.key_parts(key))[1]
                            meter.read_item(target.name, size, True)
                    return meter.add_to(dict(prev["response"]), many=True)
        plans = []
        seen = set()
        for kind, spec, c, failure in compiled:
            target = _table(ctx, tx, spec["TableName"])
            schema = target.schema
            try:
                if kind == "Put":
                    item, parts, size = new_item_for_put(target, spec["Item"])
                    key = schema.extract_key(item)
                else:
                    key = schema.key_of_request(spec["Key"])
                    parts = schema.key_parts(key)
                    item, size = None, 0
            except ServiceError as err:
                if not _cancels(err):
                    raise
                plans.append([kind, spec, c, target, None, None, None, 0, err.message, failure])
                continue
            ident = (target.schema.id, parts)
            if ident in seen:
                raise validation("Transaction request cannot include multiple operations on one item")
            seen.add(ident)
            plans.append([kind, spec, c, target, key, parts, item, size, None, failure])
        reasons = []
        failed = False
        results = []
        S.prefetch_items(tx, ctx.account, ctx.region, [(p[3].schema, p[5]) for p in plans if p[8] is None])
        for kind, spec, c, target, key, parts, item, size, error, failure in plans:
            if error is not None:
                failed = True
                reasons.append({"Code": "ValidationError", "Message": error})
                results.append(None)
                continue
            old, old_size = S.get_item_sized(tx, ctx.account, ctx.region, target.schema, parts)
            try:
                check_condition(c, old)
            except ConditionFailed:
                failed = True
                reason = {"Code": failure[0], "Message": failure[1]}
                if spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old:
                    reason["Item"] = old
                reasons.append(reason)
                results.append(None)
                continue
            reasons.append({"Code": "None"})
            if kind == "Put":
                new, new_size = item, size
            elif kind == "Delete":
                new, new_size = None, 0
            elif kind == "Update":
                try:
                    new, new_size = apply_update(target, c, key, old)[:2]
                    if c.deep_values and max(map(V.nesting_depth, new.values())) > V.MAX_DEPTH:
                        raise validation(V.NESTING_REASON)
                except ServiceError as err:
                    if not _cancels(err):
                        raise
                    failed = True
                    reasons[-1] = {"Code": "ValidationError", "Message": err.message}
                    results.append(None)
                    continue
            else:
                new, new_size = old, old_size
            results.append((old, old_size, new, new_size))
        if failed:
            raise _cancel(reasons)
        total = sum(r[3] for r in results)
        if total > MAX_TRANSACTION_BYTES:
            raise validation("Transaction size has exceeded the maximum allowed size")
        metrics: dict[str, list] = {}
        deltas = S.Deltas()  # one counters update per table, not per item
        for i, (plan, (old, old_size, new, new_size)) in enumerate(zip(plans, results)):
            kind, target, parts = plan[0], plan[3], plan[5]
            if kind == "ConditionCheck":
                meter.read_item(target.name, old_size, True, transactional=True)
                continue
            if old is None and new is None:
                meter.write(target.name, 2.0)
                continue
            try:
                collection = S.write_item(tx, ctx.account, ctx.region, target.schema, parts, old, new,
                                          old_size=old_size, new_size=new_size, deltas=deltas,
                                          collection_limit=target.collection_limit)
            except ItemCollectionSizeLimitExceeded:
                # Raised inside the store transaction: every write so far is rolled back.
                reasons = [{"Code": "None"} for _ in plans]
                reasons[i] = {"Code": "ItemCollectionSizeLimitExceeded", "Message": COLLECTION_SIZE_EXCEEDED}
                raise _cancel(reasons) from None
            meter.write_item(target.name, old_size, new_size, target.schema, old, new, transactional=True)
            if collection is not None and req.get("ReturnItemCollectionMetrics") == "SIZE":
                metrics.setdefault(target.name, []).append(item_collection_metrics(target.schema, new or old, collection))
        S.apply_deltas(tx, deltas)
        if token is not None:
            # Kept for TOKEN_TTL by the clock; the background sweeper
            # (background.State.sweep_tokens) deletes it after that.
            if prev is not None:
                tx.delete(S.token_expiry_key(prev["expires"], ctx.account, ctx.region, token))
            expires = now + TOKEN_TTL
            tx.put(S.token_key(ctx.account, ctx.region, token),
                   S.dumps({"hash": digest, "expires": expires, "response": response}))
            tx.put(S.token_expiry_key(expires, ctx.account, ctx.region, token), b"")
    if metrics:
        response = {**response, "ItemCollectionMetrics": metrics}
    return meter.add_to(response, many=True)


@service.operation("TransactGetItems")
def transact_get_items(ctx: RequestContext, req: dict) -> dict:
    actions = req["TransactItems"]
    meter = C.Meter(req.get("ReturnConsumedCapacity"), split=True)
    gets = [(a["Get"], E.compile_request(a["Get"], projection=True)) for a in actions]
    return meter.add_to({"Responses": get_transactionally(ctx, gets, meter)}, many=True)


def get_transactionally(ctx: RequestContext, gets: list, meter: C.Meter) -> list[dict]:
    """Read the items of ``gets`` -- (spec with TableName and Key, compiled
    projection) -- in one store transaction: one ``{"Item": ...}`` (or ``{}``)
    per get. Shared by TransactGetItems and PartiQL's ExecuteTransaction."""
    compiled = [c for _, c in gets]
    responses = []
    with ctx.store.transaction() as tx:
        seen = set()
        plans = []
        reasons = []
        for spec, _c in gets:
            target = _table(ctx, tx, spec["TableName"])
            try:
                key = target.schema.key_of_request(spec["Key"])
            except ServiceError as err:
                if not _cancels(err):
                    raise
                reasons.append({"Code": "ValidationError", "Message": err.message})
                continue
            parts = target.schema.key_parts(key)
            ident = (target.schema.id, parts)
            if ident in seen:
                raise validation("Transaction request cannot include multiple operations on one item")
            seen.add(ident)
            reasons.append({"Code": "None"})
            plans.append((target, parts))
        if len(plans) != len(gets):
            raise _cancel(reasons)
        S.prefetch_items(tx, ctx.account, ctx.region, [(t.schema, parts) for t, parts in plans])
        for (target, parts), c in zip(plans, compiled):
            item, size = S.get_item_sized(tx, ctx.account, ctx.region, target.schema, parts,
                                          item_loader(ctx, not c.project))
            meter.read_item(target.name, size, True, transactional=True)
            if item is None:
                responses.append({})
            else:
                responses.append({"Item": c.project(item) if c.project else item})
    return responses


__all__ = ["transact_write_items", "transact_get_items", "write_transactionally", "get_transactionally",
           "CONDITION_FAILED", "check_return_values"]
