"""Running condition/filter expressions against an item, and projections.

Semantics as DynamoDB's: an operand that names a missing attribute (or a
path through a value of the wrong kind) has no value; every comparison with
no value is false, except ``<>``, which is the negation of ``=`` (so
``a <> :v`` holds when ``a`` is missing). Values of different types are never
equal and never ordered — a condition comparing them is false, not an error.
"""

from __future__ import annotations

from cloudlet.services.dynamodb.expressions import values as av
from cloudlet.services.dynamodb.expressions.nodes import (
    And, Between, Call, Compare, Condition, In, Not, Or, Path, Projection, Value,
)
from cloudlet.services.dynamodb.expressions.parser import too_deep
from cloudlet.services.dynamodb.expressions.validate import resolve_path, value_of


def get_path(item: dict, resolved: tuple):
    """The AttributeValue at a resolved path (tuple of str/int), or None."""
    if not resolved:
        return None
    current = item.get(resolved[0]) if isinstance(resolved[0], str) else None
    for step in resolved[1:]:
        if current is None:
            return None
        if isinstance(step, int):
            lst = current.get("L")
            current = lst[step] if lst is not None and step < len(lst) else None
        else:
            mapping = current.get("M")
            current = mapping.get(step) if mapping is not None else None
    return current


class _Run:
    def __init__(self, label: str, item: dict, names, values):
        self.label, self.item, self.names, self.values = label, item, names, values

    def operand(self, node):
        if isinstance(node, Value):
            return value_of(node, self.values, self.label)
        if isinstance(node, Path):
            return get_path(self.item, resolve_path(node, self.names, self.label))
        if isinstance(node, Call) and node.name == "size":
            target = self.operand(node.args[0])
            n = av.size(target) if target is not None else None
            return None if n is None else {"N": str(n)}
        return None

    def holds(self, node) -> bool:
        if isinstance(node, And):
            return self.holds(node.left) and self.holds(node.right)
        if isinstance(node, Or):
            return self.holds(node.left) or self.holds(node.right)
        if isinstance(node, Not):
            return not self.holds(node.operand)
        if isinstance(node, Compare):
            left, right = self.operand(node.left), self.operand(node.right)
            if node.op in ("=", "<>"):
                same = left is not None and right is not None and av.equal(left, right)
                return same if node.op == "=" else not same
            order = av.compare(left, right) if left is not None and right is not None else None
            if order is None:
                return False
            return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[node.op]
        if isinstance(node, Between):
            value, low, high = self.operand(node.operand), self.operand(node.low), self.operand(node.high)
            if value is None or low is None or high is None:
                return False
            above, below = av.compare(low, value), av.compare(value, high)
            return above is not None and below is not None and above <= 0 and below <= 0
        if isinstance(node, In):
            value = self.operand(node.operand)
            if value is None:
                return False
            return any((option := self.operand(o)) is not None and av.equal(value, option) for o in node.options)
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"not a condition: {node!r}")

    def call(self, node: Call) -> bool:
        first = self.operand(node.args[0])
        name = node.name
        if name == "attribute_exists":
            return first is not None
        if name == "attribute_not_exists":
            return first is None
        second = self.operand(node.args[1])
        if first is None or second is None:
            return False
        if name == "attribute_type":
            return av.type_of(first) == second.get("S")
        if name == "begins_with":
            return av.begins_with(first, second)
        if name == "contains":
            return av.contains(first, second)
        raise TypeError(f"not a condition function: {name}")


def evaluate_condition(ast, item: dict | None, names=None, values=None) -> bool:
    """Whether a parsed ConditionExpression / FilterExpression (or
    KeyConditionExpression) holds for ``item`` (None or {} for no item).

    Placeholders are resolved as they are met; call
    ``check_request_expressions`` first for AWS's full up-front validation."""
    if isinstance(ast, Condition):
        label, root = ast.label, ast.root
    else:
        label, root = "ConditionExpression", ast
    try:
        return _Run(label, item or {}, names, values).holds(root)
    except RecursionError:
        raise too_deep(label) from None


# ---- projections ----------------------------------------------------------------------


def projection_paths(ast: Projection, names=None) -> list[tuple]:
    return [resolve_path(p, names, ast.label) for p in ast.paths]


def project(item: dict | None, paths, names=None) -> dict:
    """The parts of ``item`` that ``paths`` select, as DynamoDB returns them:
    nested maps keep only the selected keys, lists only the selected elements
    (in index order, closed up). ``paths`` is a parsed ProjectionExpression,
    or resolved paths (tuples of str / int), or Path nodes (with ``names``)."""
    if not item:
        return {}
    if isinstance(paths, Projection):
        resolved = projection_paths(paths, names)
    else:
        resolved = [resolve_path(p, names, "ProjectionExpression") if isinstance(p, Path) else tuple(p)
                    for p in paths]
    tree: dict = {}
    for path in resolved:
        node = tree
        for k, step in enumerate(path):
            last = k == len(path) - 1
            if last:
                node[step] = True
            else:
                child = node.get(step)
                if child is True:
                    break           # an enclosing path is already selected whole
                node = node.setdefault(step, {})
    out = {}
    for name, sub in tree.items():
        if isinstance(name, str) and name in item:
            picked = _pick(item[name], sub)
            if picked is not None:
                out[name] = picked
    return out


def _pick(value, sub):
    if sub is True:
        return av.clone(value)
    if "M" in value:
        picked = {}
        for key, child in sub.items():
            if isinstance(key, str) and key in value["M"]:
                got = _pick(value["M"][key], child)
                if got is not None:
                    picked[key] = got
        return {"M": picked} if picked else None
    if "L" in value:
        lst = value["L"]
        picked_list = []
        for index in sorted(k for k in sub if isinstance(k, int)):
            if index < len(lst):
                got = _pick(lst[index], sub[index])
                if got is not None:
                    picked_list.append(got)
        return {"L": picked_list} if picked_list else None
    return None
