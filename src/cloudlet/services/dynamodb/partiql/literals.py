"""PartiQL values as AttributeValues: literals, ``?`` parameters, and values
built of both (``{'a': ?}``, ``[1, ?]``, ``<<?, 'x'>>``).

A value is parsed into a template: a constant AttributeValue when it holds no
parameter (checked once, when the statement is parsed), else a small tree that
``bind`` fills in from the request's ``Parameters``. Pure.

Literal numbers are checked with DynamoDB's number rules; AWS words a failure
with the literal's place in the value appended: ``... under root``,
``under root.x`` inside a map, ``under root[1]`` inside a list (observed,
paritysuite/dynamodb-conformance partiqlGrammar).
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudlet.protocol.errors import ServiceError, ValidationException
from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import validation
from cloudlet.services.dynamodb.partiql.lexer import malformed

EMPTY_BAG = "Empty bags are not supported"
BAG_TYPES = "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"
PARAMETER_COUNT = "Number of parameters in request and statement don't match."


@dataclass(frozen=True, slots=True)
class Template:
    """``kind`` and what it holds: "const" an AttributeValue, "param" the index of
    a ``?``, "map" ((name, template), ...), "list" / "bag" (template, ...)."""
    kind: str
    value: object

    @property
    def is_const(self) -> bool:
        return self.kind == "const"


def const(value: dict) -> Template:
    return Template("const", value)


def param(index: int) -> Template:
    return Template("param", index)


def number(text: str, where: str) -> dict:
    """A number literal's AttributeValue, in DynamoDB's canonical text."""
    mantissa, _, exponent = text.lower().partition("e")
    scale = len(mantissa.partition(".")[2]) - int(exponent or "0")
    if not -2 ** 31 <= int(exponent or "0") < 2 ** 31 or not -2 ** 31 <= scale < 2 ** 31:
        # Java's BigDecimal cannot hold it: AWS answers the envelope with nothing after it.
        raise malformed()
    try:
        return {"N": V.number_text(V.number(text))}
    except ServiceError as e:
        raise validation(f"{e.message} under {where}") from None


def bag(members: list) -> Template:
    """A set literal ``<<...>>``: a constant set when every member is one."""
    if not members:
        raise validation(EMPTY_BAG)
    if all(m.is_const for m in members):
        return const(_make_set([m.value for m in members]))
    return Template("bag", tuple(members))


def _make_set(members: list[dict]) -> dict:
    types = {V.value_type(m) for m in members}
    if len(types) != 1 or not types <= {"S", "N", "B"}:
        raise validation(BAG_TYPES)
    (t,) = types
    return V.check_value({t + "S": [m[t] for m in members]})


def composite(kind: str, parts: tuple) -> Template:
    """A "map" of (name, template) or a "list" of templates; a constant when it holds no parameter."""
    if kind == "map":
        if all(t.is_const for _, t in parts):
            return const({"M": {k: t.value for k, t in parts}})
    elif all(t.is_const for t in parts):
        return const({"L": [t.value for t in parts]})
    return Template(kind, parts)


def bind(template: Template, params: list[dict]) -> dict:
    """The AttributeValue of a template, with the (checked) parameters filled in."""
    kind, value = template.kind, template.value
    if kind == "const":
        return value
    if kind == "param":
        return params[value]
    if kind == "map":
        return {"M": {k: bind(t, params) for k, t in value}}
    if kind == "list":
        return {"L": [bind(t, params) for t in value]}
    return _make_set([bind(t, params) for t in value])


def check_parameters(parameters: list | None, expected: int) -> list[dict]:
    """The request's ``Parameters``, each checked like an item's attribute value,
    in order (the first problem in document order is the one reported)."""
    given = parameters or []
    if len(given) != expected:
        raise ValidationException(message=PARAMETER_COUNT)
    checked = []
    for p in given:
        V.check_java_numbers(p)  # a parameter's numbers are read as Java reads them
        checked.append(V.check_value(p))
    return checked


__all__ = ["Template", "const", "param", "number", "bag", "composite", "bind",
           "check_parameters", "EMPTY_BAG", "BAG_TYPES", "PARAMETER_COUNT"]
