"""A request's expressions, compiled once per request into callables.

Expressions go through ``expressions`` (one parser, one validator, one
evaluator). The legacy parameters (``Expected``, ``AttributeUpdates``,
``AttributesToGet``, ``KeyConditions``, ``QueryFilter``, ``ScanFilter``,
``ConditionalOperator``) are translated into the same AST, so there is one
semantics for both. Mixing the two styles is refused with AWS's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import INVALID, invalid, validation
from cloudlet.services.dynamodb.expressions import evaluator as EV
from cloudlet.services.dynamodb.expressions import update as UP
from cloudlet.services.dynamodb.expressions.nodes import (
    AddAction, And, Between, Call, Clause, Compare, Condition, DeleteAction, In, Name, Not, Or, Path,
    Projection, RemoveAction, SetAction, Update, Value, walk,
)
from cloudlet.services.dynamodb.expressions.parser import KEY_CONDITION
from cloudlet.services.dynamodb.expressions.validate import check_request_expressions, resolve_path

# expression parameter -> the legacy parameters it replaces
_LEGACY = {
    "ConditionExpression": ("Expected",),
    "UpdateExpression": ("AttributeUpdates",),
    "ProjectionExpression": ("AttributesToGet",),
    "FilterExpression": ("QueryFilter", "ScanFilter"),
    "KeyConditionExpression": ("KeyConditions",),
}
_EXPRESSIONS = tuple(_LEGACY)
_NON_EXPRESSION = ("AttributesToGet", "QueryFilter", "ScanFilter", "KeyConditions", "Expected",
                   "AttributeUpdates", "ConditionalOperator")


@dataclass(slots=True)
class Compiled:
    condition: Callable[[dict], bool] | None = None
    filter: Callable[[dict], bool] | None = None
    filter_names: frozenset | set = frozenset()  # replaced, never added to
    project: Callable[[dict], dict] | None = None
    projected_names: frozenset | set = frozenset()  # replaced, never added to
    update: Callable[[dict], tuple] | None = None
    update_names: frozenset | set = frozenset()  # replaced, never added to
    # (parsed KeyConditionExpression, names, values, already validated); the
    # key schema it is checked against is only known once the table is read.
    key_condition: tuple | None = None
    # a transaction's ExpressionAttributeValues hold a value one level past the nesting limit
    deep_values: bool = False


def _deep_values(values: dict, single_item: bool, transaction: bool) -> tuple[dict, bool]:
    """ExpressionAttributeValues of which one is nested past 32 levels, answered as AWS does
    (us-east-1, 2026-10-09; nubo-db/dynamodb-conformance tests/tier3/limits/nestingDepth.test.ts):
    PutItem/UpdateItem/DeleteItem refuse it in the validation envelope, or naming its key from
    about 63 levels on; a transaction takes a value one level past the limit (its condition is
    evaluated; an Update that would store it cancels, see transactions.py) and refuses a deeper
    one naming its key. Returns the checked values and whether one is past the limit."""
    checked, deep = {}, False
    for key, value in values.items():
        try:
            checked[key] = V.check_value(value)
            continue
        except V.TooDeep:
            pass
        depth = V.nesting_depth(value)
        if transaction and depth == V.MAX_DEPTH + 1:
            checked[key] = V.check_value(value, 0)
            deep = True
        elif single_item and depth < V.FAR_DEPTH:
            raise validation("1 validation error detected: " + V.NESTING)
        else:
            raise validation(f"ExpressionAttributeValues contains invalid value: {V.NESTING} for key {key}")
    return checked, deep


def _java_set(names: list[str]) -> str:
    return "{" + ", ".join(names) + "}"


_LEGACY_PARAMETERS = frozenset(_NON_EXPRESSION)


def _check_mixing(req: dict, value_exprs: tuple) -> None:
    exprs = [p for p in _EXPRESSIONS if req.get(p) is not None]
    legacy = [] if _LEGACY_PARAMETERS.isdisjoint(req) else [p for p in _NON_EXPRESSION if req.get(p) is not None]
    if exprs and legacy:
        raise validation("Can not use both expression and non-expression parameters in the same request: "
                         f"Non-expression parameters: {_java_set(legacy)} Expression parameters: {_java_set(exprs)}")
    if not exprs and req.get("ExpressionAttributeNames") is not None:
        raise validation("ExpressionAttributeNames can only be specified when using expressions")
    if req.get("ExpressionAttributeValues") is not None and all(req.get(p) is None for p in value_exprs):
        # AWS names the operation's expressions that take values, e.g. 'UpdateExpression
        # and ConditionExpression are null'.
        null = " and ".join(value_exprs) + (" are null" if len(value_exprs) > 1 else " is null")
        raise validation(f"ExpressionAttributeValues can only be specified when using expressions: {null}")


def _top_names(ast, names) -> set:
    out = set()
    for node in (walk(ast.root) if isinstance(ast, Condition) else ()):
        if isinstance(node, Path):
            out.add(resolve_path(node, names, ast.label)[0])
    return out


def _key_only(item, updated=True):
    """UpdateItem with neither UpdateExpression nor AttributeUpdates: only the
    key is written (and the condition checked)."""
    return dict(item), ({} if updated else None), ({} if updated else None)


_NONE = Compiled()
_NONE_UPDATE = Compiled(update=_key_only)
# Every parameter compile_request looks at: a request with none of them (most
# GetItem/PutItem calls) needs no work.
_PARAMETERS = frozenset(_EXPRESSIONS + _NON_EXPRESSION + ("ExpressionAttributeNames", "ExpressionAttributeValues"))


def compile_request(req: dict, *, condition=False, update=False, projection=False, filter=False,
                    key_condition=False, single_item=False, transaction=False) -> Compiled:
    """The request's expressions, checked and compiled. The result is shared
    when the request has none: never modify it. ``single_item`` (PutItem,
    UpdateItem, DeleteItem) and ``transaction`` (a TransactWriteItems action)
    pick AWS's wording for a value nested too deep."""
    if _PARAMETERS.isdisjoint(req):
        return _NONE_UPDATE if update else _NONE
    if key_condition:
        value_exprs = ("FilterExpression", "KeyConditionExpression")
    elif filter:
        value_exprs = ("FilterExpression",)
    elif update:
        value_exprs = ("UpdateExpression", "ConditionExpression")
    else:
        value_exprs = ("ConditionExpression",)
    _check_mixing(req, value_exprs)
    names = req.get("ExpressionAttributeNames")
    values = req.get("ExpressionAttributeValues")
    deep_values = False
    if values is not None:
        try:
            values = V.check_values(values)
        except V.TooDeep:
            values, deep_values = _deep_values(values, single_item, transaction)
        except Exception:  # noqa: BLE001 — re-worded as AWS does for this parameter
            for key, value in values.items():  # the first value that fails is named
                try:
                    V.check_value(value)
                except Exception as e:  # noqa: BLE001
                    msg = getattr(e, "message", str(e))
                    raise validation(f"ExpressionAttributeValues contains invalid value: {msg} for key "
                                     f"{key}") from None
            raise  # pragma: no cover — check_values failed, so one value does
    parsed = check_request_expressions({**req, "ExpressionAttributeValues": values})
    out = Compiled()
    if deep_values:
        out.deep_values = True

    # ---- conditions
    if condition:
        ast = parsed.get("ConditionExpression")
        if ast is None and req.get("Expected") is not None:
            ast, lnames, lvalues = legacy_condition(req["Expected"], req.get("ConditionalOperator"), "Expected")
            out.condition = _condition_fn(ast, lnames, lvalues)
        elif ast is not None:
            out.condition = _condition_fn(ast, names, values)
        elif req.get("ConditionalOperator") is not None:
            raise invalid("ConditionalOperator can only be used when Filter or Expected has two or more elements")
    if filter:
        ast = parsed.get("FilterExpression")
        legacy = req.get("QueryFilter") if req.get("QueryFilter") is not None else req.get("ScanFilter")
        if ast is None and legacy is not None:
            param = "QueryFilter" if req.get("QueryFilter") is not None else "ScanFilter"
            ast, lnames, lvalues = legacy_condition(legacy, req.get("ConditionalOperator"), param)
            out.filter = _condition_fn(ast, lnames, lvalues)
            out.filter_names = set(legacy)
        elif ast is not None:
            out.filter = _condition_fn(ast, names, values)
            out.filter_names = _top_names(ast, names)
    # ---- projection
    if projection:
        ast = parsed.get("ProjectionExpression")
        if ast is not None:
            paths = EV.projection_paths(ast, names)
        elif req.get("AttributesToGet") is not None:
            attrs = req["AttributesToGet"]
            if len(set(attrs)) != len(attrs):
                dup = next(a for a in attrs if attrs.count(a) > 1)
                raise invalid(f"Duplicate value in attribute name: {dup}")
            paths = [(a,) for a in attrs]
        else:
            paths = None
        if paths is not None:
            out.project = lambda item, _p=paths: EV.project(item, _p)
            out.projected_names = {p[0] for p in paths}
    # ---- update
    if update:
        ast = parsed.get("UpdateExpression")
        unames, uvalues = names, values
        if ast is None and req.get("AttributeUpdates") is not None:
            ast, unames, uvalues = legacy_update(req["AttributeUpdates"])
        if ast is not None:
            touched = {resolve_path(a.path, unames, "UpdateExpression")[0] for _, a in ast.actions()}
            out.update_names = touched

            def run(item, updated=True, _ast=ast, _n=unames, _v=uvalues):
                return UP.apply_update(_ast, item, _n, _v, updated=updated)

            out.update = run
        else:
            out.update = _key_only
    # ---- key condition
    if key_condition:
        ast = parsed.get("KeyConditionExpression")
        if ast is not None:
            out.key_condition = (ast, names, values, True)
        elif req.get("KeyConditions") is not None:
            out.key_condition = legacy_key_condition(req["KeyConditions"]) + (False,)
    return out


def _condition_fn(ast, names, values):
    return lambda item: EV.evaluate_condition(ast, item, names, values)


# ---------------------------------------------------------------- legacy key conditions

_LEGACY_KEY_OPS = {"EQ": "=", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_ARGS = {"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "CONTAINS": 1, "NOT_CONTAINS": 1,
         "BEGINS_WITH": 1, "NULL": 0, "NOT_NULL": 0, "BETWEEN": 2}


def _arg_count(op: str, n: int) -> None:
    ok = n > 0 if op == "IN" else n == _ARGS[op]
    if not ok:
        raise invalid(f"Invalid number of argument(s) for the {op} ComparisonOperator")


def legacy_key_condition(kc: dict):
    """``KeyConditions`` as a KeyConditionExpression AST plus its value map, so
    that ``expressions.parse_key_condition`` checks both styles the same way."""
    values: dict[str, dict] = {}
    leaves = []

    def val(av: dict) -> Value:
        key = f":k{len(values)}"
        values[key] = av
        return Value(key)

    for name, c in kc.items():
        op = c["ComparisonOperator"]
        args = [V.check_value(v) for v in c.get("AttributeValueList") or ()]
        _arg_count(op, len(args))
        path = Path((Name(name),))
        if op in _LEGACY_KEY_OPS:
            leaves.append(Compare(_LEGACY_KEY_OPS[op], path, val(args[0])))
        elif op == "BEGINS_WITH":
            leaves.append(Call("begins_with", (path, val(args[0]))))
        elif op == "BETWEEN":
            leaves.append(Between(path, val(args[0]), val(args[1])))
        else:
            raise validation("Attempted conditional constraint is not an indexable operation")
    root = leaves[0]
    for leaf in leaves[1:]:
        root = And(root, leaf)
    return Condition(KEY_CONDITION, root), None, values


# ---------------------------------------------------------------- legacy conditions

def legacy_condition(spec: dict, operator: str | None, param: str):
    """``Expected`` / ``QueryFilter`` / ``ScanFilter`` as a Condition AST plus
    the value map it refers to."""
    values: dict[str, dict] = {}
    leaves = []

    def val(av: dict) -> Value:
        key = f":l{len(values)}"
        values[key] = V.check_value(av)
        return Value(key)

    if operator is not None and len(spec) < 2:
        raise invalid("ConditionalOperator can only be used when Filter or Expected has two or more elements")
    for name, c in spec.items():
        path = Path((Name(name),))
        op = c.get("ComparisonOperator")
        if param == "Expected" and op is None:
            if c.get("AttributeValueList") is not None:
                raise invalid(f"AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}")
            exists = c.get("Exists")
            if exists is False:
                if c.get("Value") is not None:
                    raise invalid(f"Value cannot be used when Exists is false for Attribute: {name}")
                leaves.append(Call("attribute_not_exists", (path,)))
            else:
                if c.get("Value") is None:
                    shown = "null" if exists is None else "true"
                    raise invalid(f"Value must be provided when Exists is {shown} for Attribute: {name}")
                leaves.append(Compare("=", path, val(c["Value"])))
            continue
        if param == "Expected":
            if c.get("Exists") is not None:
                raise invalid(f"Exists and ComparisonOperator cannot be used together for Attribute: {name}")
            if c.get("Value") is not None and c.get("AttributeValueList") is not None:
                raise invalid(f"Value and AttributeValueList cannot be used together for Attribute: {name}")
        args = c.get("AttributeValueList")
        if args is None and c.get("Value") is not None:
            args = [c["Value"]]
        args = args or []
        _arg_count(op, len(args))
        if op in ("EQ", "NE", "LE", "LT", "GE", "GT"):
            sym = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}[op]
            v = args[0]
            if op not in ("EQ", "NE") and V.value_type(v) not in ("S", "N", "B"):
                raise invalid(f"ComparisonOperator {op} is not valid for {V.value_type(v)} AttributeValue type")
            leaves.append(Compare(sym, path, val(v)))
        elif op == "NULL":
            leaves.append(Call("attribute_not_exists", (path,)))
        elif op == "NOT_NULL":
            leaves.append(Call("attribute_exists", (path,)))
        elif op == "CONTAINS":
            leaves.append(Call("contains", (path, val(args[0]))))
        elif op == "NOT_CONTAINS":
            # Legacy NOT_CONTAINS is false for a missing attribute.
            leaves.append(And(Call("attribute_exists", (path,)), Not(Call("contains", (path, val(args[0]))))))
        elif op == "BEGINS_WITH":
            leaves.append(Call("begins_with", (path, val(args[0]))))
        elif op == "IN":
            leaves.append(In(path, tuple(val(a) for a in args)))
        elif op == "BETWEEN":
            leaves.append(Between(path, val(args[0]), val(args[1])))
    root = leaves[0]
    combine = Or if operator == "OR" else And
    for leaf in leaves[1:]:
        root = combine(root, leaf)
    label = "ConditionExpression" if param == "Expected" else "FilterExpression"
    return Condition(label, root), None, values


def legacy_update(spec: dict):
    """``AttributeUpdates`` as an Update AST plus its value map."""
    values: dict[str, dict] = {}
    sets, removes, adds, deletes = [], [], [], []

    def val(av: dict) -> Value:
        key = f":u{len(values)}"
        values[key] = V.check_value(av)
        return Value(key)

    for name, u in spec.items():
        path = Path((Name(name),))
        action = u.get("Action") or "PUT"
        value = u.get("Value")
        if action == "PUT":
            if value is None:
                raise invalid("Only DELETE action is allowed when no attribute value is specified")
            sets.append(SetAction(path, val(value)))
        elif action == "DELETE":
            if value is None:
                removes.append(RemoveAction(path))
            else:
                if V.value_type(value) not in ("SS", "NS", "BS"):
                    raise invalid(f"Action DELETE is not supported for the type {V.value_type(value)}")
                deletes.append(DeleteAction(path, val(value)))
        elif action == "ADD":
            if value is None:
                raise invalid("Only DELETE action is allowed when no attribute value is specified")
            t = V.value_type(value)
            if t == "L":
                # Legacy ADD appends to a list (the expression ADD cannot).
                empty = val({"L": []})
                sets.append(SetAction(path, Call("list_append", (Call("if_not_exists", (path, empty)), val(value)))))
            elif t in ("N", "SS", "NS", "BS"):
                adds.append(AddAction(path, val(value)))
            else:
                raise invalid(f"Action ADD is not supported for the type {t}")
    clauses = []
    for keyword, actions in (("SET", sets), ("REMOVE", removes), ("ADD", adds), ("DELETE", deletes)):
        if actions:
            clauses.append(Clause(keyword, tuple(actions)))
    return Update("UpdateExpression", tuple(clauses)), None, values


__all__ = ["Compiled", "compile_request", "INVALID", "Projection"]
