"""KeyConditionExpression: a condition like any other to parse and check, then
the rules of a Query on a key schema: equality on the partition key, at most
one more condition, on the sort key (= < <= > >= BETWEEN begins_with), AND only.

Messages are AWS's (as observed in SDK issue threads and emulators tested
against AWS); note that the structural ones carry no "Invalid
KeyConditionExpression:" prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping

from cloudlet.protocol.errors import ValidationException
from cloudlet.services.dynamodb.expressions import values as av
from cloudlet.services.dynamodb.expressions.nodes import (
    And, Between, Call, Compare, Condition, In, Not, Or, Path, Value, walk,
)
from cloudlet.services.dynamodb.expressions.parser import KEY_CONDITION, parse_expression
from cloudlet.services.dynamodb.expressions.validate import (
    Usage, check_unused, resolve_path, validate_expression, value_of,
)

_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _error(message: str) -> ValidationException:
    return ValidationException(message=message)


@dataclass(frozen=True)
class KeyCondition:
    """``hash``: (attribute name, AttributeValue).
    ``range``: (op, attribute name, (AttributeValue, ...)) or None; op is one
    of = < <= > >= BETWEEN begins_with (the key attribute on the left: ``:v < sk``
    is given as ``>``). Indexable like a dict: ``kc["hash"]``."""
    hash: tuple
    range: tuple | None = None

    def __getitem__(self, key: str):
        if key not in ("hash", "range"):
            raise KeyError(key)
        return getattr(self, key)

    def as_dict(self) -> dict:
        return {"hash": self.hash, "range": self.range}

    def matches(self, item: dict) -> bool:
        """Whether ``item``'s key attributes satisfy the condition."""
        name, value = self.hash
        current = item.get(name)
        if current is None or not av.equal(current, value):
            return False
        if self.range is None:
            return True
        op, name, operands = self.range
        return range_matches(item.get(name), op, operands)


def range_matches(current, op: str, operands) -> bool:
    if current is None:
        return False
    if op == "=":
        return av.equal(current, operands[0])
    if op == "begins_with":
        return av.begins_with(current, operands[0])
    if op == "BETWEEN":
        low, high = av.compare(operands[0], current), av.compare(current, operands[1])
        return low is not None and high is not None and low <= 0 and high <= 0
    order = av.compare(current, operands[0])
    if order is None:
        return False
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]


def _key_names(key_schema) -> tuple[str | None, str | None]:
    hash_name = range_name = None
    for element in key_schema or ():
        if element.get("KeyType") == "HASH":
            hash_name = element["AttributeName"]
        elif element.get("KeyType") == "RANGE":
            range_name = element["AttributeName"]
    return hash_name, range_name


def _attribute_types(attribute_types) -> dict:
    if attribute_types is None:
        return {}
    if type(attribute_types) is dict:
        return attribute_types
    if isinstance(attribute_types, Mapping):
        return dict(attribute_types)
    return {d["AttributeName"]: d["AttributeType"] for d in attribute_types}


class _Shape:
    """Reads the conditions out of the tree (AWS's structural checks)."""

    def __init__(self, names):
        self.names = names
        # attribute -> (op, its Value nodes): no values are read, so the shape of a
        # parsed expression with given names is the same for every request
        self.conditions: dict[str, tuple[str, tuple]] = {}

    def visit(self, node) -> None:
        if isinstance(node, And):
            self.visit(node.left)
            self.visit(node.right)
            return
        if isinstance(node, Or):
            raise _error("Invalid operator used in KeyConditionExpression: OR")
        if isinstance(node, Not):
            raise _error("Invalid operator used in KeyConditionExpression: NOT")
        if isinstance(node, In):
            raise _error("Invalid operator used in KeyConditionExpression: IN")
        if isinstance(node, Compare) and node.op == "<>":
            raise _error("Invalid operator used in KeyConditionExpression: <>")
        if isinstance(node, Call) and node.name != "begins_with":
            raise _error(f"Invalid operator used in KeyConditionExpression: {node.name}")
        if isinstance(node, Compare):
            operands, op = (node.left, node.right), node.op
        elif isinstance(node, Between):
            operands, op = (node.operand, node.low, node.high), "BETWEEN"
        else:
            operands, op = node.args, "begins_with"
        if op in ("BETWEEN", "begins_with") and not isinstance(operands[0], Path):
            raise _error(f"Invalid condition in KeyConditionExpression: {op} operator must have the key "
                         "attribute as its first operand")
        attribute, position = None, 0
        for i, operand in enumerate(operands):
            if isinstance(operand, Path):
                if attribute is not None:
                    raise _error("Invalid condition in KeyConditionExpression: "
                                 "Multiple attribute names used in one condition")
                if len(operand.elements) > 1:
                    raise _error("KeyConditionExpressions cannot have conditions on nested attributes")
                attribute, position = resolve_path(operand, self.names, KEY_CONDITION)[0], i
            elif isinstance(operand, Call):
                raise _error("KeyConditionExpressions cannot contain nested operations")
        if attribute is None:
            raise _error("Invalid condition in KeyConditionExpression: No key attribute specified")
        if attribute in self.conditions:
            raise _error("KeyConditionExpressions must only contain one condition per key")
        if op in _FLIP and position != 0:
            op = _FLIP[op]
        self.conditions[attribute] = (op, tuple(o for o in operands if isinstance(o, Value)))


# (id of a parsed expression, names) -> (the expression, its conditions); a parsed
# expression is shared by the requests with the same text (validate.py's cache)
_SHAPES: dict = {}
_SHAPES_MAX = 4096


def _conditions(ast: Condition, names) -> dict:
    try:
        key = (id(ast), None if names is None else tuple(names.items()))
        hit = _SHAPES.get(key)
    except TypeError:  # unhashable names: malformed input, checked on the way
        key = hit = None
    if hit is not None and hit[0] is ast:
        return hit[1]
    shape = _Shape(names)
    shape.visit(ast.root)
    if key is not None:
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        _SHAPES[key] = (ast, shape.conditions)
    return shape.conditions


def parse_key_condition(expression, names=None, values=None, key_schema=None, attribute_types=None,
                        *, check_unused_placeholders: bool = False, validated: bool = False) -> KeyCondition:
    """Parse and check a KeyConditionExpression for a table/index key schema.

    ``expression``: the text (or an already parsed KeyConditionExpression).
    ``key_schema``: ``[{"AttributeName": "pk", "KeyType": "HASH"}, ...]``.
    ``attribute_types``: ``{"pk": "S", ...}`` or AttributeDefinitions; when
    given, values of the wrong type are refused as AWS does.
    Placeholders unused by the key condition alone are only reported with
    ``check_unused_placeholders`` (a Query checks them across all its
    expressions: use check_request_expressions first). ``validated``: the
    parsed expression has already been through check_request_expressions with
    these maps (skips checking it again)."""
    ast = expression if isinstance(expression, Condition) else parse_expression(KEY_CONDITION, expression)
    if not validated:
        usage = Usage()
        validate_expression(ast, names, values, usage)
        if check_unused_placeholders:
            check_unused(names, values, usage)
    conditions = {name: (op, tuple(value_of(v, values, KEY_CONDITION) for v in nodes))
                  for name, (op, nodes) in _conditions(ast, names).items()}
    if len(conditions) > 2:
        raise _error("Conditions can be of length 1 or 2 only")
    hash_name, range_name = _key_names(key_schema)
    if hash_name is None:
        raise ValueError("key_schema has no HASH element")
    if hash_name not in conditions:
        if range_name is None and len(conditions) > 1:
            raise _error("Query key condition not supported")
        raise _error(f"Query condition missed key schema element: {hash_name}")
    if len(conditions) > 1:
        if range_name is None:
            raise _error("Query key condition not supported")
        if range_name not in conditions:
            raise _error(f"Query condition missed key schema element: {range_name}")
    types = _attribute_types(attribute_types)
    for name, (op, operands) in conditions.items():
        for operand in operands:
            if name in types and av.type_of(operand) != types[name]:
                raise _error("One or more parameter values were invalid: "
                             "Condition parameter type does not match schema type")
            if av.type_of(operand) in ("S", "B") and not operand[av.type_of(operand)]:
                raise _error("One or more parameter values are not valid. The AttributeValue for a key "
                             f"attribute cannot contain an empty {'string' if 'S' in operand else 'binary'} "
                             f"value. Key: {name}")
    hash_op, hash_values = conditions[hash_name]
    if hash_op != "=":
        raise _error("Query key condition not supported")
    result_range = None
    if range_name in conditions:
        op, operands = conditions[range_name]
        result_range = (op, range_name, operands)
    return KeyCondition((hash_name, hash_values[0]), result_range)


def check_filter_keys(ast: Condition, names, key_names) -> None:
    """A Query's FilterExpression may not name the key attributes:
    ``Filter Expression can only contain non-primary key attributes: Primary key attribute: pk``."""
    keys = set(k for k in key_names if k)
    for node in walk(ast.root):
        if isinstance(node, Path):
            top = resolve_path(node, names, ast.label)[0]
            if top in keys:
                raise _error(f"Filter Expression can only contain non-primary key attributes: "
                             f"Primary key attribute: {top}")
