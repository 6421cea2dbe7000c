"""INSERT, UPDATE, DELETE and EXISTS as the actions of DynamoDB's write path,
and the single-item SELECT of a batch or transaction.

A statement becomes a ``WriteAction``: a kind of ``transactions``'
vocabulary (Put, Update, Delete, ConditionCheck), its key or item, and an
``exprs.Compiled`` whose condition holds for the item as it must be stored
(``{}`` for none) and whose update is the statement's SET/REMOVE. So an
ExecuteTransaction runs through ``transactions.write_transactionally``, and a
single statement through ``apply_write`` below, with the same per-item steps as
PutItem/UpdateItem/DeleteItem (``items``).

What each statement requires, as AWS documents and answers:

- INSERT: no item with the key (else ``DuplicateItemException``,
  ``Duplicate primary key exists in table``);
- UPDATE: the item exists and the rest of the WHERE holds (else
  ``ConditionalCheckFailedException``: a PartiQL UPDATE never creates an item);
- DELETE: the rest of the WHERE holds for the item when there is one; with no
  item it succeeds and deletes nothing;
- EXISTS(SELECT ... WHERE key AND condition): the item exists and the
  condition holds (a ConditionCheck, in transactions only).
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb import capacity as C
from cloudlet.services.dynamodb import exprs as E
from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb.errors import conditional_check_failed, validation
from cloudlet.services.dynamodb.expressions.evaluator import evaluate_condition
from cloudlet.services.dynamodb.expressions.update import apply_update as update_item
from cloudlet.services.dynamodb.items import Target, apply_update, item_loader, new_item_for_put
from cloudlet.services.dynamodb.partiql import literals as L
from cloudlet.services.dynamodb.partiql import plan as P
from cloudlet.services.dynamodb.partiql.parser import Delete, Exists, Insert, Modify, Select, TableRef
from cloudlet.services.dynamodb.partiql.select import compile_read, open_target
from cloudlet.services.dynamodb.transactions import CONDITION_FAILED

DUPLICATE_ITEM = ("DuplicateItem", "Duplicate primary key exists in table")
ON_INDEX = "This operation is not supported on an index"
EXISTS_SHAPE = "EXISTS() must contain a single item read with additional condition"
# The short codes of BatchExecuteStatement's per-statement errors and of
# cancellation reasons, by the exception's code.
SHORT_CODES = {"ConditionalCheckFailedException": "ConditionalCheckFailed", "DuplicateItemException": "DuplicateItem",
               "ValidationException": "ValidationError", "ResourceNotFoundException": "ResourceNotFound",
               "ItemCollectionSizeLimitExceededException": "ItemCollectionSizeLimitExceeded",
               "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
               "TransactionConflictException": "TransactionConflict", "RequestLimitExceeded": "RequestLimitExceeded",
               "ThrottlingException": "ThrottlingError", "AccessDeniedException": "AccessDenied"}


_RETURNING_TEXT = {"ALL_NEW": "ALL NEW *", "UPDATED_OLD": "MODIFIED OLD *", "UPDATED_NEW": "MODIFIED NEW *"}


@dataclass(slots=True)
class WriteAction:
    kind: str                 # Put, Update, Delete or ConditionCheck
    target: Target
    key: dict | None          # the item's key (all but Put)
    item: dict | None         # the item to put (Put)
    compiled: E.Compiled      # condition (on the stored item, {} for none) and update
    failure: tuple            # (code, message) when the condition fails
    returning: str | None = None

    def spec(self, rv_on_failure: str | None = None) -> dict:
        """The action as transactions.write_transactionally takes it."""
        spec = {"TableName": self.target.name, "ReturnValuesOnConditionCheckFailure": rv_on_failure}
        if self.kind == "Put":
            spec["Item"] = self.item
        else:
            spec["Key"] = self.key
        return spec


def _table(ctx: RequestContext, tx, ref: TableRef) -> Target:
    target = open_target(ctx, tx, ref)
    if ref.index is not None:
        raise validation(ON_INDEX)
    return target


def _holds(cond, values: dict):
    """The rest of a WHERE as a test of an item (None: no test)."""
    condition = P.condition(cond)
    if condition is None:
        return None
    return lambda item: evaluate_condition(condition, item, None, values)


def write_action(ctx: RequestContext, tx, bound: P.Bound) -> WriteAction:
    stmt = bound.statement
    if isinstance(stmt, Insert):
        return _insert(ctx, tx, bound)
    if isinstance(stmt, Delete) and stmt.returning not in (None, "ALL_OLD"):
        raise validation(f"Invalid returning clause: RETURNING {_RETURNING_TEXT[stmt.returning]}. "
                         "Only RETURNING ALL OLD * is allowed in DELETE statements.")
    where = stmt.select.where if isinstance(stmt, Exists) else stmt.where
    ref = stmt.select.table if isinstance(stmt, Exists) else stmt.table
    if isinstance(stmt, Exists) and ref.index is not None:
        raise validation("Operations on indices are not supported in transactions")
    target = _table(ctx, tx, ref)
    keys, rest = P.split_key(where, target.schema.key_names)
    if isinstance(stmt, Exists) and (rest is None or set(keys) != set(target.schema.key_names)):
        raise validation(EXISTS_SHAPE)
    key = P.item_key(keys, target.schema, bound.values)
    holds = _holds(rest, bound.values)
    if isinstance(stmt, Delete):
        test = (lambda item: not item or holds(item)) if holds else (lambda item: True)
        return WriteAction("Delete", target, key, None, E.Compiled(condition=test), CONDITION_FAILED,
                           stmt.returning)
    test = (lambda item: bool(item) and holds(item)) if holds else bool
    if isinstance(stmt, Exists):
        return WriteAction("ConditionCheck", target, key, None, E.Compiled(condition=test), CONDITION_FAILED)
    return WriteAction("Update", target, key, None, _update(stmt, bound.values, test), CONDITION_FAILED,
                       stmt.returning)


def _update(stmt: Modify, values: dict, test) -> E.Compiled:
    ast = stmt.update

    def run(item, updated=True):
        return update_item(ast, item, None, values, updated=updated)

    names = frozenset(a.path.elements[0].name for _, a in ast.actions())
    return E.Compiled(condition=test, update=run, update_names=names)


def _insert(ctx: RequestContext, tx, bound: P.Bound) -> WriteAction:
    stmt: Insert = bound.statement
    target = _table(ctx, tx, stmt.table)
    item = {name: L.bind(t, bound.params) for name, t in stmt.item}
    schema = target.schema
    for name, type_ in ((schema.hash_name, schema.hash_type), (schema.range_name, schema.range_type)):
        if name is not None:
            if name not in item:
                raise validation(f"Key attribute should be present in the item: Key {name}")
            P.check_key_value(name, item[name], type_)
    return WriteAction("Put", target, None, item, E.Compiled(condition=lambda old: not old), DUPLICATE_ITEM)


def failure_error(failure: tuple, old: dict | None, rv_on_failure: str | None) -> ServiceError:
    if failure == DUPLICATE_ITEM:
        return ServiceError("DuplicateItemException", failure[1])
    return conditional_check_failed(old if rv_on_failure == "ALL_OLD" and old else None)


def apply_write(ctx: RequestContext, tx, action: WriteAction, rv_on_failure: str | None,
                meter: C.Meter) -> list[dict]:
    """Apply one write action in ``tx`` (nothing is written when it fails); the
    items its RETURNING clause asks for."""
    target = action.target
    schema = target.schema
    if action.kind == "Put":
        item, parts, size = new_item_for_put(target, action.item)
        key = schema.extract_key(item)
    else:
        key, item, size = action.key, None, 0
        parts = schema.key_parts(key)
    old, old_size = S.get_item_sized(tx, ctx.account, ctx.region, schema, parts)
    if not action.compiled.condition(old or {}):
        raise failure_error(action.failure, old, rv_on_failure)
    new, new_size, changed_old, changed_new = item, size, None, None
    if action.kind == "Update":
        new, new_size, changed_old, changed_new = apply_update(
            target, action.compiled, key, old, action.returning in ("UPDATED_OLD", "UPDATED_NEW"))
    if old is not None or new is not None:
        S.write_item(tx, ctx.account, ctx.region, schema, parts, old, new, old_size=old_size, new_size=new_size,
                     collection_limit=target.collection_limit)
    meter.write_item(target.name, old_size, new_size, schema, old, new)
    returned = {"ALL_OLD": old, "ALL_NEW": new, "UPDATED_OLD": changed_old, "UPDATED_NEW": changed_new}.get(
        action.returning)
    return [returned] if returned else []


# ---------------------------------------------------------------- single-item reads

def get_action(ctx: RequestContext, tx, bound: P.Bound, shape_error: str) -> tuple[Target, dict, E.Compiled]:
    """A SELECT of one item by its full key, and nothing else in its WHERE (a
    read of a batch or transaction): (table, key, projection)."""
    stmt: Select = bound.statement
    target = open_target(ctx, tx, stmt.table)
    keys, rest = P.split_key(stmt.where, target.schema.key_names)
    if stmt.table.index is not None or rest is not None or set(keys) != set(target.schema.key_names):
        raise validation(shape_error)
    key = P.item_key(keys, target.schema, bound.values)
    return target, key, compile_read(None, bound.values, stmt.projection)


def get_one(ctx: RequestContext, tx, target: Target, key: dict, compiled: E.Compiled, consistent: bool,
            meter: C.Meter) -> dict | None:
    schema = target.schema
    item, size = S.get_item_sized(tx, ctx.account, ctx.region, schema, schema.key_parts(key),
                                  item_loader(ctx, not compiled.project))
    meter.read_item(target.name, size, consistent)
    if item is not None and compiled.project:
        item = compiled.project(item)
    return item


__all__ = ["WriteAction", "write_action", "apply_write", "failure_error", "get_action", "get_one", "SHORT_CODES",
           "DUPLICATE_ITEM"]
