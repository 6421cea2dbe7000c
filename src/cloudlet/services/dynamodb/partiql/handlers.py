"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.

- ExecuteStatement: one statement, in one store transaction (a failed write
  writes nothing). A write answers ``Items: []`` unless it has a RETURNING
  clause (observed: paritysuite/dynamodb-conformance writeResponses).
- BatchExecuteStatement: up to 25 statements, all reads or all writes; each
  succeeds or fails on its own, with a per-statement ``Error`` (short codes:
  ``ConditionalCheckFailed``, ``DuplicateItem``, ``ValidationError``,
  ``ResourceNotFound``, ...) and the ``TableName`` of a success. A read names
  one item by its full key and nothing more.
- ExecuteTransaction: up to 100 statements, all reads (TransactGetItems) or all
  writes with EXISTS as a condition check (TransactWriteItems), through the
  same code as those operations: ClientRequestToken, TransactionCanceledException
  with one CancellationReason a statement. Writes answer ``Responses: []``.

Messages are DynamoDB's where they were seen (AWS through the conformance
suite above, DynamoDB Local's message table otherwise).
"""

from __future__ import annotations

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import capacity as C
from cloudlet.services.dynamodb.errors import validation
from cloudlet.services.dynamodb.partiql import plan as P
from cloudlet.services.dynamodb.partiql.parser import Exists, parse
from cloudlet.services.dynamodb.partiql.select import select
from cloudlet.services.dynamodb.partiql.writes import (
    EXISTS_SHAPE, SHORT_CODES, apply_write, get_action, get_one, write_action,
)
from cloudlet.services.dynamodb.service import service
from cloudlet.services.dynamodb.transactions import get_transactionally, write_transactionally

EXISTS_OUTSIDE = "EXISTS can only be used in ExecuteTransaction write requests."
BATCH_SELECT = "Select statements within BatchExecuteStatement must specify the primary key in the where clause."
TX_SELECT = "Select statements within ExecuteTransaction must specify the primary key in the where clause."
TX_INDEX = "Reads on indices are not supported within transactions."
TX_RETURNING = "RETURNING clause is not supported in ExecuteTransaction."
TX_MIXED = "ExecuteTransaction API does not support both read and write operations in the same request."
BATCH_MIXED = "Read and write requests together in the same batch is not supported."
BATCH_DUPLICATES = "Provided list of item keys contains duplicates"


def _bind(statement: dict) -> P.Bound:
    return P.bind(parse(statement["Statement"]), statement.get("Parameters"))


@service.operation("ExecuteStatement")
def execute_statement(ctx: RequestContext, req: dict) -> dict:
    bound = _bind(req)
    if isinstance(bound.statement, Exists):
        raise validation(EXISTS_OUTSIDE)
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    with ctx.store.transaction() as tx:
        if bound.parsed.is_read:
            out = select(ctx, tx, bound, req, meter)
        else:
            action = write_action(ctx, tx, bound)
            out = {"Items": apply_write(ctx, tx, action, req.get("ReturnValuesOnConditionCheckFailure"), meter)}
    return meter.add_to(out)


# ---------------------------------------------------------------- batches

def _error(err: ServiceError) -> dict:
    entry = {"Code": SHORT_CODES.get(err.code, "InternalServerError"), "Message": err.message}
    if err.fields.get("Item") is not None:
        entry["Item"] = err.fields["Item"]
    return entry


def _plan(ctx: RequestContext, tx, bound: P.Bound):
    """A batch statement's (kind, action): ("get", (table, key, projection)) or ("write", WriteAction)."""
    if isinstance(bound.statement, Exists):
        raise validation(EXISTS_OUTSIDE)
    if bound.parsed.is_read:
        return "get", get_action(ctx, tx, bound, BATCH_SELECT)
    return "write", write_action(ctx, tx, bound)


def _identity(kind: str, action) -> tuple:
    """The item a planned statement touches."""
    if kind == "get":
        target, key = action[0], action[1]
    else:
        target, key = action.target, action.key
        if key is None:
            key = {n: action.item[n] for n in target.schema.key_names}
    return target.schema.id, target.schema.key_parts(key)


@service.operation("BatchExecuteStatement")
def batch_execute_statement(ctx: RequestContext, req: dict) -> dict:
    statements = req["Statements"]
    meter = C.Meter(req.get("ReturnConsumedCapacity"))
    bound: list = []
    for statement in statements:
        try:
            bound.append(_bind(statement))
        except ServiceError as err:
            bound.append(err)
    kinds = {b.parsed.is_read for b in bound if isinstance(b, P.Bound)}
    if len(kinds) > 1:
        raise validation(BATCH_MIXED)
    responses = []
    with ctx.store.transaction() as tx:
        plans: list = []
        for b in bound:
            try:
                plans.append(b if isinstance(b, ServiceError) else _plan(ctx, tx, b))
            except ServiceError as err:
                plans.append(err)
        seen = set()
        for plan in plans:
            if not isinstance(plan, ServiceError):
                ident = _identity(*plan)
                if ident in seen:
                    raise validation(BATCH_DUPLICATES)
                seen.add(ident)
        for statement, plan in zip(statements, plans):
            try:
                if isinstance(plan, ServiceError):
                    raise plan
                kind, action = plan
                if kind == "get":
                    target = action[0]
                    item = get_one(ctx, tx, *action, bool(statement.get("ConsistentRead")), meter)
                else:
                    target = action.target
                    items = apply_write(ctx, tx, action, statement.get("ReturnValuesOnConditionCheckFailure"), meter)
                    item = items[0] if items else None
            except ServiceError as err:
                responses.append({"Error": _error(err)})
                continue
            response = {"TableName": target.name}
            if item is not None:
                response["Item"] = item
            responses.append(response)
    return meter.add_to({"Responses": responses}, many=True)


# ---------------------------------------------------------------- transactions

def _in_statement(i: int, message: str) -> ServiceError:
    return validation(f"Validation failed in TransactStatements[{i}]: {message}")


@service.operation("ExecuteTransaction")
def execute_transaction(ctx: RequestContext, req: dict) -> dict:
    statements = req["TransactStatements"]
    meter = C.Meter(req.get("ReturnConsumedCapacity"), split=True)
    bound = []
    for i, statement in enumerate(statements):
        parsed = parse(statement["Statement"])
        if getattr(parsed.statement, "returning", None) is not None:
            raise _in_statement(i, TX_RETURNING)
        bound.append(P.bind(parsed, statement.get("Parameters")))
    reads = sum(b.parsed.is_read for b in bound)
    if 0 < reads < len(bound):
        raise validation(TX_MIXED)
    with ctx.store.transaction() as tx:
        planned = []
        for i, b in enumerate(bound):
            try:
                if reads and b.statement.table.index is not None:
                    raise validation(TX_INDEX)
                planned.append(get_action(ctx, tx, b, TX_SELECT) if reads else write_action(ctx, tx, b))
            except ServiceError as err:
                if err.message in (TX_SELECT, TX_INDEX, EXISTS_SHAPE):
                    raise _in_statement(i, err.message) from None
                raise
    if reads:
        gets = [({"TableName": target.name, "Key": key}, compiled) for target, key, compiled in planned]
        return meter.add_to({"Responses": get_transactionally(ctx, gets, meter)}, many=True)
    actions = [(a.kind, a.spec(s.get("ReturnValuesOnConditionCheckFailure")), a.compiled, a.failure)
               for a, s in zip(planned, statements)]
    return write_transactionally(ctx, req, actions, meter, {"Responses": []})


__all__ = ["execute_statement", "batch_execute_statement", "execute_transaction"]
