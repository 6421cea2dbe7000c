"""What a parsed statement means for its table: the key a write names, the
condition it carries, the partitions and sort-key range a SELECT reads.

A statement's WHERE is a condition of the expression language. For a write
(UPDATE, DELETE, EXISTS, and a SELECT in a batch or transaction), the
top-level ``AND`` terms ``key = value`` give the item's key and the rest is a
condition on the write, as DynamoDB (and DynamoDB Local's PartiQL translator)
reads it. For a SELECT, ``pk = v``, ``pk IN [...]`` or an ``OR`` whose every
branch pins ``pk`` make it a Query of those partitions, narrowed by one
sort-key term when there is one; anything else is a Scan. Either way the whole
WHERE is then applied to every item read. Pure, but for the expression
validator's errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudlet.protocol.errors import ValidationException
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import validation
from cloudlet.services.dynamodb.expressions import values as av
from cloudlet.services.dynamodb.expressions.nodes import (
    And, Between, Call, Compare, Condition, In, Name, Or, Path, Value,
)
from cloudlet.services.dynamodb.expressions.validate import Usage, validate_expression
from cloudlet.services.dynamodb.partiql import literals as L
from cloudlet.services.dynamodb.partiql.parser import LABEL, Modify, Parsed

INCOMPLETE_KEY = "Where clause does not contain a mandatory equality on all key attributes"
_PREFIX = f"Invalid {LABEL}: "
_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def condition(where) -> Condition | None:
    return None if where is None else Condition(LABEL, where)


@dataclass(frozen=True, slots=True)
class Bound:
    """A parsed statement with one request's parameters."""
    parsed: Parsed
    params: list     # the Parameters, checked
    values: dict     # the placeholder map of the statement's conditions and update

    @property
    def statement(self):
        return self.parsed.statement


def bind(parsed: Parsed, parameters: list | None) -> Bound:
    """The statement bound to a request's ``Parameters``: the parameters
    checked (their count first), then the statement's conditions and update
    checked against them, as an expression's are against its values."""
    params = L.check_parameters(parameters, parsed.parameters)
    values = parsed.values(params)
    statement = parsed.statement
    if isinstance(statement, Modify):
        for name, fn, tok in statement.set_checks:
            if V.value_type(values[name]) not in ("SS", "NS", "BS"):
                raise validation(f"The second argument to {fn} must be a value with type SET{tok.at()}")
    where = getattr(statement, "where", None) or getattr(getattr(statement, "select", None), "where", None)
    try:
        usage = Usage()
        if isinstance(statement, Modify):
            validate_expression(statement.update, None, values, usage)
        if where is not None:
            validate_expression(Condition(LABEL, where), None, values, usage)
    except ValidationException as e:
        # The expression validator's text, without the "Invalid <expression>: " it prefixes
        raise validation(e.message[len(_PREFIX):] if e.message.startswith(_PREFIX) else e.message) from None
    return Bound(parsed, params, values)


# ---------------------------------------------------------------- terms of a WHERE

def conjuncts(node) -> list:
    """The top-level AND terms of a condition, in written order."""
    if node is None:
        return []
    if isinstance(node, And):
        return conjuncts(node.left) + conjuncts(node.right)
    return [node]


def rebuild(terms: list):
    """The AND of ``terms`` (None for none)."""
    node = None
    for term in terms:
        node = term if node is None else And(node, term)
    return node


def _attribute(node) -> str | None:
    """The attribute a path names when it is a top-level attribute."""
    if isinstance(node, Path) and len(node.elements) == 1 and isinstance(node.elements[0], Name):
        return node.elements[0].name
    return None


def _equality(term, names) -> tuple[str, Value] | None:
    """``(name, value)`` when ``term`` is ``name = value`` (either way round) for one of ``names``."""
    if isinstance(term, Compare) and term.op == "=":
        for path, value in ((term.left, term.right), (term.right, term.left)):
            name = _attribute(path)
            if name in names and isinstance(value, Value):
                return name, value
    return None


def split_key(where, key_names) -> tuple[dict, object]:
    """``({key attribute: [value node, ...]}, the rest of the WHERE)``."""
    keys: dict[str, list] = {}
    rest = []
    for term in conjuncts(where):
        found = _equality(term, key_names)
        if found is None:
            rest.append(term)
        else:
            keys.setdefault(found[0], []).append(found[1])
    return keys, rebuild(rest)


def item_key(keys: dict, schema, values: dict) -> dict:
    """The item key a write's WHERE names, checked against the table's key schema."""
    if set(keys) != set(schema.key_names):
        raise validation(INCOMPLETE_KEY)
    key = {}
    for name, type_ in ((schema.hash_name, schema.hash_type), (schema.range_name, schema.range_type)):
        if name is None:
            continue
        given = [values[v.name] for v in keys[name]]
        if any(not av.equal(given[0], other) for other in given[1:]):
            raise validation(f"Multiple conditions on same key {name}. Only single item Update/Insert/Delete "
                             "are supported")
        key[name] = check_key_value(name, given[0], type_)
    return schema.key_of_request(key)


def check_key_value(name: str, value: dict, type_: str) -> dict:
    actual = V.value_type(value)
    if actual not in ("S", "N", "B"):
        raise validation(f"Key value must be of type S, N, or B. Key name: {name}, Key type: {actual}")
    if actual != type_:
        raise validation(f"Key attribute's data type should match its data type in table's schema: Key {name}")
    return value


# ---------------------------------------------------------------- the read of a SELECT

@dataclass(frozen=True, slots=True)
class ReadPlan:
    partitions: tuple | None    # the partition key's value nodes, in written order; None: a Scan
    range: tuple | None = None  # (op, (value node, ...)) on the sort key: = < <= > >= BETWEEN begins_with


def read_plan(where, hash_name: str, range_name: str | None) -> ReadPlan:
    terms = conjuncts(where)
    partitions = None
    for term in terms:
        partitions = _partitions(term, hash_name)
        if partitions is not None:
            break
    if partitions is None:
        return ReadPlan(None)
    seen, unique = set(), []
    for node in partitions:
        if node.name not in seen:
            seen.add(node.name)
            unique.append(node)
    rng = None
    if range_name is not None:
        rng = next((r for r in (_range_term(t, range_name) for t in terms) if r is not None), None)
    return ReadPlan(tuple(unique), rng)


def _partitions(term, hash_name: str) -> list | None:
    """The partition key values a term pins the partition key to, or None."""
    found = _equality(term, (hash_name,))
    if found is not None:
        return [found[1]]
    if isinstance(term, In) and _attribute(term.operand) == hash_name and all(
            isinstance(o, Value) for o in term.options):
        return list(term.options)
    if isinstance(term, Or):
        left, right = _branch(term.left, hash_name), _branch(term.right, hash_name)
        if left is not None and right is not None:
            return left + right
    return None


def _branch(node, hash_name: str) -> list | None:
    if isinstance(node, Or):
        return _partitions(node, hash_name)
    for term in conjuncts(node):
        found = _partitions(term, hash_name)
        if found is not None:
            return found
    return None


def _range_term(term, range_name: str) -> tuple | None:
    if isinstance(term, Compare) and term.op in _FLIP:
        for path, value, op in ((term.left, term.right, term.op), (term.right, term.left, _FLIP[term.op])):
            if _attribute(path) == range_name and isinstance(value, Value):
                return op, (value,)
    if isinstance(term, Between) and _attribute(term.operand) == range_name and isinstance(term.low, Value) \
            and isinstance(term.high, Value):
        return "BETWEEN", (term.low, term.high)
    if isinstance(term, Call) and term.name == "begins_with" and _attribute(term.args[0]) == range_name \
            and isinstance(term.args[1], Value):
        return "begins_with", (term.args[1],)
    return None


def has_partition(where, hash_name: str) -> bool:
    return read_plan(where, hash_name, None).partitions is not None


__all__ = ["condition", "Bound", "bind", "conjuncts", "rebuild", "split_key", "item_key", "check_key_value",
           "ReadPlan", "read_plan", "has_partition", "INCOMPLETE_KEY"]
