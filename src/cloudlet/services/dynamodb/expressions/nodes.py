"""The AST of DynamoDB expressions. Immutable (frozen dataclasses), so a parsed
expression can be cached and shared between requests and threads.

Placeholders stay unresolved in the AST (``Name("#n", True)``, ``Value(":v")``):
the same expression string parses once whatever the request's maps are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


# ---- document paths -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name:
    """A path element that names a map key (or, first, a top-level attribute)."""
    name: str                 # as written: "a" or "#a"
    placeholder: bool = False


@dataclass(frozen=True, slots=True)
class Index:
    """A list index ``[n]``; ``text`` keeps the digits as written."""
    index: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class Path:
    elements: tuple[Name | Index, ...]


# ---- operands -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Value:
    """An expression attribute value placeholder ``:v``."""
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    """A function call: ``size(a)``, ``if_not_exists(a, :v)``, ``begins_with(a, :p)``..."""
    name: str
    args: tuple


@dataclass(frozen=True, slots=True)
class Arith:
    """``left + right`` / ``left - right`` in a SET action."""
    op: str
    left: "Operand"
    right: "Operand"


Operand = Union[Path, Value, Call, Arith]


# ---- conditions ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    op: str                   # = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    options: tuple


@dataclass(frozen=True, slots=True)
class And:
    left: "Cond"
    right: "Cond"


@dataclass(frozen=True, slots=True)
class Or:
    left: "Cond"
    right: "Cond"


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Cond"


Cond = Union[Compare, Between, In, And, Or, Not, Call]


@dataclass(frozen=True, slots=True)
class Paren:
    """Only while parsing (to spot redundant parentheses); never in a result."""
    inner: object


# ---- whole expressions ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """A ConditionExpression, FilterExpression or KeyConditionExpression."""
    label: str                # "ConditionExpression", "FilterExpression", ...
    root: Cond


@dataclass(frozen=True, slots=True)
class SetAction:
    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class RemoveAction:
    path: Path


@dataclass(frozen=True, slots=True)
class AddAction:
    path: Path
    value: Value


@dataclass(frozen=True, slots=True)
class DeleteAction:
    path: Path
    value: Value


Action = Union[SetAction, RemoveAction, AddAction, DeleteAction]


@dataclass(frozen=True, slots=True)
class Clause:
    keyword: str              # SET / REMOVE / ADD / DELETE
    actions: tuple


@dataclass(frozen=True, slots=True)
class Update:
    label: str
    clauses: tuple

    def actions(self):
        """(keyword, action) for every action, in written order."""
        return [(c.keyword, a) for c in self.clauses for a in c.actions]


@dataclass(frozen=True, slots=True)
class Projection:
    label: str
    paths: tuple


Expression = Union[Condition, Update, Projection]


# ---- helpers ------------------------------------------------------------------


def unwrap(node):
    while isinstance(node, Paren):
        node = node.inner
    return node


def children(node) -> tuple:
    """Sub-nodes in written order (conditions and operands)."""
    if isinstance(node, (And, Or)):
        return (node.left, node.right)
    if isinstance(node, Not):
        return (node.operand,)
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.operand, node.low, node.high)
    if isinstance(node, In):
        return (node.operand,) + node.options
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Arith):
        return (node.left, node.right)
    return ()


def walk(node):
    """Every node under (and including) ``node``, depth first, in written order."""
    yield node
    for child in children(node):
        yield from walk(child)


def path_text(resolved) -> str:
    """AWS's rendering of a resolved path: ``[a, b, [1]]``."""
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in resolved) + "]"
