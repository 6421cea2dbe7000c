"""The checks AWS makes once the request's placeholder maps are known:
undefined ``#names`` / ``:values``, operand types that can be told from the
values alone, BETWEEN bounds, IN operand count, "first operand must be
distinct", overlapping or conflicting paths, and — across all expressions of a
request — placeholders that no expression uses.

``check_request_expressions(request)`` runs everything for one request in
AWS's order and returns the parsed expressions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cloudlet.protocol.errors import ValidationException
from cloudlet.services.dynamodb.expressions.nodes import (
    AddAction, And, Arith, Between, Call, Compare, Condition, DeleteAction, In, Index, Not, Or, Path,
    Projection, SetAction, Update, Value, path_text, walk,
)
from cloudlet.services.dynamodb.expressions.parser import (
    ALL_FUNCTIONS, CONDITION, FILTER, KEY_CONDITION, PROJECTION, UPDATE, parse_expression, too_deep,
)
from cloudlet.services.dynamodb.expressions.tokenizer import invalid
from cloudlet.services.dynamodb.expressions.values import TYPE_NAMES, compare, type_of

MAX_PATH_DEPTH = 32
MAX_IN_OPERANDS = 100
# The order in which AWS reads a request's expressions (so the first error
# reported is the same): an update before its condition; a Query's filter and
# projection before its key condition.
REQUEST_ORDER = (UPDATE, CONDITION, FILTER, PROJECTION, KEY_CONDITION)
# attribute_type's valid names, in the order AWS lists them (as DynamoDB Local
# 3.x words it; older AWS responses listed them as {B,NULL,SS,BOOL,L,BS,N,NS,S,M}).
_TYPE_NAMES_TEXT = "{N,BS,L,B,NULL,M,S,SS,NS,BOOL}"
# ADD/DELETE operand type names as AWS prints them. AWS printed "BOOL" for a
# boolean in a 2026 capture; DynamoDB Local and older AWS said "BOOLEAN".
_LONG_TYPE = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOL", "NULL": "NULL",
              "L": "LIST", "M": "MAP", "SS": "STRING_SET", "NS": "NUMBER_SET", "BS": "BINARY_SET"}
_KEY_SYNTAX = {"#": re.compile(r"#[A-Za-z0-9_]+\Z"), ":": re.compile(r":[A-Za-z0-9_]+\Z")}


class Usage:
    """Placeholders used by the expressions checked so far (for the unused
    check), and the checks that depend on the values' contents, not only on
    their types (kept so that a cached validation can repeat just those)."""

    def __init__(self):
        self.names: set[str] = set()
        self.values: set[str] = set()
        self.value_checks: list[tuple] = []


# ---- placeholders ---------------------------------------------------------------------


def resolve_path(path: Path, names, label: str, usage: Usage | None = None) -> tuple:
    """The path with ``#name`` placeholders replaced: a tuple of str (map keys)
    and int (list indexes). Raises AWS's error for an undefined placeholder."""
    out = []
    for el in path.elements:
        if isinstance(el, Index):
            out.append(el.index)
        elif el.placeholder:
            if not names or el.name not in names:
                raise invalid(label, "An expression attribute name used in the document path is not defined; "
                                     f"attribute name: {el.name}")
            if usage is not None:
                usage.names.add(el.name)
            out.append(names[el.name])
        else:
            out.append(el.name)
    if len(out) > MAX_PATH_DEPTH:
        raise invalid(label, f"The document path has too many nesting levels; nesting levels: {len(out)}")
    return tuple(out)


def value_of(node: Value, values, label: str, usage: Usage | None = None):
    if not values or node.name not in values:
        raise invalid(label, "An expression attribute value used in expression is not defined; "
                             f"attribute value: {node.name}")
    if usage is not None:
        usage.values.add(node.name)
    return values[node.name]


# ---- operand checks --------------------------------------------------------------------


class _Checker:
    def __init__(self, label: str, names, values, usage: Usage):
        self.label, self.names, self.values, self.usage = label, names, values, usage

    def err(self, message: str) -> ValidationException:
        return invalid(self.label, message)

    def static_type(self, node):
        if isinstance(node, Value):
            return type_of(self.values[node.name])
        if isinstance(node, Call) and node.name == "size":
            return "N"
        return None

    def type_error(self, op: str, t: str) -> ValidationException:
        return self.err(f"Incorrect operand type for operator or function; operator or function: {op}, operand type: {t}")

    def distinct(self, op: str, first, rest) -> None:
        if not isinstance(first, Path):
            return
        resolved = resolve_path(first, self.names, self.label)
        for other in rest:
            if isinstance(other, Path) and resolve_path(other, self.names, self.label) == resolved:
                raise self.err("The first operand must be distinct from the remaining operands for this operator "
                               f"or function; operator: {op}, first operand: {path_text(resolved)}")

    def visit(self, node) -> None:
        if isinstance(node, Path):
            resolve_path(node, self.names, self.label, self.usage)
        elif isinstance(node, Value):
            value_of(node, self.values, self.label, self.usage)
        elif isinstance(node, (And, Or, Not)):
            for child in ((node.operand,) if isinstance(node, Not) else (node.left, node.right)):
                self.visit(child)
        elif isinstance(node, Compare):
            self.visit(node.left)
            self.visit(node.right)
            self.distinct(node.op, node.left, [node.right])
            if node.op not in ("=", "<>"):
                self.ordered_operands(node.op, (node.left, node.right))
        elif isinstance(node, Between):
            for child in (node.operand, node.low, node.high):
                self.visit(child)
            self.distinct("BETWEEN", node.operand, [node.low, node.high])
            self.ordered_operands("BETWEEN", (node.operand, node.low, node.high))
            self.between_bounds(node)
        elif isinstance(node, In):
            self.visit(node.operand)
            for option in node.options:
                self.visit(option)
            if len(node.options) > MAX_IN_OPERANDS:
                raise self.err("The IN operator is provided with too many operands; "
                               f"number of operands: {len(node.options)}")
            self.distinct("IN", node.operand, node.options)
        elif isinstance(node, Call):
            self.call(node)
        elif isinstance(node, Arith):
            self.visit(node.left)
            self.visit(node.right)
            for operand in (node.left, node.right):
                t = self.static_type(operand)
                if t and t != "N":
                    raise self.type_error(node.op, t)

    def ordered_operands(self, op: str, operands) -> None:
        for operand in operands:
            t = self.static_type(operand)
            if t and t not in ("S", "N", "B"):
                raise self.type_error(op, t)

    def between_bounds(self, node: Between) -> None:
        if not (isinstance(node.low, Value) and isinstance(node.high, Value)):
            return
        check = (_check_between, self.label, node.low.name, node.high.name)
        self.usage.value_checks.append(check)
        _check_between(self.values, *check[1:])

    def call(self, node: Call) -> None:
        if self.label == UPDATE and len(node.args) != ALL_FUNCTIONS[node.name]:
            raise self.err("Incorrect number of operands for operator or function; "
                           f"operator or function: {node.name}, number of operands: {len(node.args)}")
        for arg in node.args:
            self.visit(arg)
        name, first = node.name, node.args[0]
        if name in ("attribute_exists", "attribute_not_exists", "attribute_type", "if_not_exists") \
                and not isinstance(first, Path):
            raise self.err(f"Operator or function requires a document path; operator or function: {name}")
        if name not in ("size", "list_append"):
            self.distinct(name, first, node.args[1:])
        if name == "size":
            t = self.static_type(first)
            if t and t not in ("S", "B", "SS", "NS", "BS", "L", "M"):
                raise self.type_error("size", t)
        elif name == "begins_with":
            for arg in node.args:
                t = self.static_type(arg)
                if t and t not in ("S", "B"):
                    raise self.type_error(name, t)
        elif name == "attribute_type":
            second = node.args[1]
            if not isinstance(second, Value):
                t = "N" if isinstance(second, Call) else "{" + ",".join(TYPE_NAMES) + "}"
                raise self.type_error(name, t)
            av = self.values[second.name]
            if type_of(av) != "S":
                raise self.type_error(name, type_of(av))
            check = (_check_type_name, self.label, second.name)
            self.usage.value_checks.append(check)
            _check_type_name(self.values, *check[1:])
        elif name == "list_append":
            for arg in node.args:
                t = self.static_type(arg)
                if t and t != "L":
                    raise self.type_error(name, t)


def _check_between(values, label: str, low_name: str, high_name: str) -> None:
    low, high = values[low_name], values[high_name]
    bounds = f"lower bound operand: {_bound_text(low)}, upper bound operand: {_bound_text(high)}"
    if type_of(low) != type_of(high):
        raise invalid(label, f"The BETWEEN operator requires same data type for lower and upper bounds; {bounds}")
    order = compare(low, high)
    if order is not None and order > 0:
        raise invalid(label, "The BETWEEN operator requires upper bound to be greater than or equal to lower "
                             "bound; " + bounds)


def _check_type_name(values, label: str, name: str) -> None:
    av = values[name]
    if av["S"] not in TYPE_NAMES:
        raise invalid(label, f"Invalid attribute type name found; type: {av['S']}, valid types: {_TYPE_NAMES_TEXT}")


def _bound_text(av) -> str:
    t = type_of(av)
    if t in ("S", "N"):
        return f"AttributeValue: {{{t}:{av[t]}}}"
    if t == "B":
        n = len(av[t])
        return f"AttributeValue: {{B:java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]}}"
    return f"AttributeValue: {{{t}:{av[t]}}}"


# ---- paths that overlap or conflict ----------------------------------------------------


def check_overlaps(label: str, paths: list[tuple]) -> None:
    """AWS refuses two paths of one update (or projection) where one is the
    other or inside it (overlap), or where one uses an attribute as a map and
    the other as a list (conflict). Overlaps are reported first; path one is
    the earlier path."""
    conflict = None
    for j, later in enumerate(paths):
        for i in range(j):
            earlier = paths[i]
            for a, b in zip(earlier, later):
                if isinstance(a, int) != isinstance(b, int):
                    conflict = conflict or (earlier, later)
                    break
                if a != b:
                    break
            else:
                raise invalid(label, "Two document paths overlap with each other; must remove or rewrite one of "
                                     f"these paths; path one: {path_text(earlier)}, path two: {path_text(later)}")
    if conflict:
        raise invalid(label, "Two document paths conflict with each other; must remove or rewrite one of these "
                             f"paths; path one: {path_text(conflict[0])}, path two: {path_text(conflict[1])}")


# ---- one expression ----------------------------------------------------------------------


def validate_expression(ast, names=None, values=None, usage: Usage | None = None) -> None:
    """Check a parsed expression against the request's ExpressionAttributeNames
    and ExpressionAttributeValues; record the placeholders it uses in ``usage``."""
    usage = usage if usage is not None else Usage()
    checker = _Checker(ast.label, names, values, usage)
    if isinstance(ast, Condition):
        try:
            checker.visit(ast.root)
        except RecursionError:
            raise too_deep(ast.label) from None
    elif isinstance(ast, Projection):
        resolved = [resolve_path(p, names, ast.label, usage) for p in ast.paths]
        check_overlaps(ast.label, resolved)
    elif isinstance(ast, Update):
        _validate_update(ast, checker)
    else:
        raise TypeError(f"not a parsed expression: {ast!r}")


def _validate_update(ast: Update, checker: _Checker) -> None:
    label, names, values, usage = checker.label, checker.names, checker.values, checker.usage
    actions = ast.actions()
    paths = [resolve_path(action.path, names, label) for _, action in actions]
    check_overlaps(label, paths)
    # AWS then reads the actions from the last to the first: every #name
    # first, then values and their types.
    backwards = list(reversed(actions))
    for _, action in backwards:
        if isinstance(action, SetAction):
            for node in walk(action.value):
                if isinstance(node, Path):
                    resolve_path(node, names, label)
    for keyword, action in backwards:
        resolve_path(action.path, names, label, usage)
        if isinstance(action, SetAction):
            checker.visit(action.value)
        elif isinstance(action, (AddAction, DeleteAction)):
            t = type_of(value_of(action.value, values, label, usage))
            allowed = ("N", "SS", "NS", "BS") if keyword == "ADD" else ("SS", "NS", "BS")
            if t not in allowed:
                raise invalid(label, "Incorrect operand type for operator or function; "
                                     f"operator: {keyword}, operand type: {_LONG_TYPE[t]}, "
                                     f"typeSet: ALLOWED_FOR_{keyword}_OPERAND")


# ---- a whole request ------------------------------------------------------------------------


def check_placeholder_maps(names, values) -> None:
    """The request-level checks of the two maps themselves."""
    for param, mapping, sigil in (("ExpressionAttributeNames", names, "#"),
                                  ("ExpressionAttributeValues", values, ":")):
        if mapping is None:
            continue
        if not mapping:
            raise ValidationException(message=f"{param} must not be empty")
        for key in mapping:
            if not _KEY_SYNTAX[sigil].match(key):
                raise ValidationException(message=f'{param} contains invalid key: Syntax error; key: "{key}"')
        if sigil == "#":
            for key, name in mapping.items():
                if name == "":
                    raise ValidationException(
                        message=f"ExpressionAttributeNames contains invalid value: Empty attribute name for key {key}")


def check_unused(names, values, usage: Usage) -> None:
    """``Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}``
    (names first, then values). Keys are listed in the order a Java HashSet
    iterates them, as AWS does (inferred from observed messages)."""
    for param, mapping, used in (("ExpressionAttributeNames", names, usage.names),
                                 ("ExpressionAttributeValues", values, usage.values)):
        unused = [k for k in (mapping or ()) if k not in used]
        if unused:
            keys = ", ".join(java_hash_set_order(unused, len(mapping)))
            raise ValidationException(message=f"Value provided in {param} unused in expressions: keys: {{{keys}}}")


# Validated requests, by what their validation depends on: the expression
# texts, the names map, and the values' names and types. Contents of values
# matter to two checks only (BETWEEN bounds, attribute_type names); those are
# kept with the entry and repeated on a hit. Failures are never cached.
_VALIDATED: dict = {}
_VALIDATED_MAX = 4096


def _validation_key(request: Mapping, names, values, check_maps: bool):
    texts = tuple(request.get(label) for label in REQUEST_ORDER)
    try:
        key = (texts, check_maps, None if names is None else tuple(names.items()),
               None if values is None else tuple((k, type_of(v)) for k, v in values.items()))
        hash(key)
    except Exception:  # noqa: BLE001 — malformed input: no caching, the checks report it
        return None
    return key


def check_request_expressions(request: Mapping, *, check_maps: bool = True) -> dict:
    """Parse and check every expression of one request together, as AWS does.

    ``request`` holds any of ConditionExpression, FilterExpression,
    KeyConditionExpression, UpdateExpression, ProjectionExpression plus
    ExpressionAttributeNames / ExpressionAttributeValues (the request's own
    keys). Returns ``{label: parsed expression}`` (shared between requests:
    do not modify it); raises ValidationException with AWS's message for the
    first problem, including placeholders that no expression uses.

    A request validated before with the same texts, names and value types is
    not checked again, except for the checks that read values' contents."""
    names = request.get("ExpressionAttributeNames")
    values = request.get("ExpressionAttributeValues")
    key = _validation_key(request, names, values, check_maps)
    hit = _VALIDATED.get(key) if key is not None else None
    if hit is not None:
        parsed, value_checks = hit
        for check in value_checks:
            check[0](values, *check[1:])
        return parsed
    if check_maps:
        check_placeholder_maps(names, values)
    usage = Usage()
    parsed = {}
    for label in REQUEST_ORDER:
        text = request.get(label)
        if text is None:
            continue
        ast = parse_expression(label, text)
        validate_expression(ast, names, values, usage)
        parsed[label] = ast
    check_unused(names, values, usage)
    if key is not None:
        if len(_VALIDATED) >= _VALIDATED_MAX:
            _VALIDATED.clear()
        _VALIDATED[key] = (parsed, tuple(usage.value_checks))
    return parsed


def check_expressions(expressions, names=None, values=None) -> dict:
    """Like check_request_expressions, from a list of (label, text) pairs or a
    {label: text} mapping plus the two maps."""
    items = expressions.items() if isinstance(expressions, Mapping) else expressions
    request = {label: text for label, text in items}
    request["ExpressionAttributeNames"] = names
    request["ExpressionAttributeValues"] = values
    return check_request_expressions(request, check_maps=False)


def java_hash_set_order(keys: list[str], total: int | None = None) -> list[str]:
    """``keys`` in the order java.util.HashSet iterates them (capacity sized
    for ``total`` entries): by bucket of the spread String.hashCode, ties in
    insertion order."""
    want = max(int((total if total is not None else len(keys)) / 0.75) + 1, 16)
    capacity = 1
    while capacity < want:
        capacity *= 2

    def bucket(key: str) -> int:
        h = 0
        data = key.encode("utf-16-be", "surrogatepass")
        for k in range(0, len(data), 2):
            h = (31 * h + (data[k] << 8 | data[k + 1])) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    return [k for _, _, k in sorted((bucket(k), i, k) for i, k in enumerate(keys))]


__all__ = [
    "Usage", "resolve_path", "value_of", "validate_expression", "check_overlaps", "check_placeholder_maps",
    "check_unused", "check_request_expressions", "check_expressions", "java_hash_set_order",
    "CONDITION", "FILTER", "KEY_CONDITION", "UPDATE", "PROJECTION",
]
