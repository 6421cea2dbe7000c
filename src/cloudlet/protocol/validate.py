"""One validator, generated from the model, for every protocol.

``compile_input(shape)`` turns a botocore input shape into a function that
checks a decoded request (dicts/lists/scalars as the wire parser produced them)
and coerces wire forms to handler forms: base64 strings to ``bytes``, epoch
numbers or ISO-8601 strings to ``datetime``. Each failed constraint becomes a
``Violation`` with AWS's lowerCamel path ('keySchema.1.member.attributeName')
and AWS's constraint text; ``validation_message`` joins them the way AWS does:

    2 validation errors detected: Value 'x' at 'tableName' failed to satisfy
    constraint: Member must have length greater than or equal to 3; Value ...

Compiled checkers are cached per shape, so per request there is no model lookup.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from botocore.model import Shape


@dataclass(slots=True, frozen=True)
class Violation:
    """One failed constraint. ``path`` is AWS's lowerCamel path ('queueUrl',
    'keySchema.1.member.attributeName'); ``member`` the model member name ('QueueUrl');
    ``kind`` one of required, type, enum, length, range, pattern (and unshown: reported without its value);
    ``constraint`` AWS's text ('Member must not be null'); ``value`` the offending value."""

    path: str
    member: str
    kind: str
    constraint: str
    value: Any


Checker = Callable[[Any, str, str, list], Any]


def shape_key(shape: Shape) -> tuple:
    """Identity of a shape: botocore builds new Shape objects on every member
    access, so key by the model (its resolver) and the shape name."""
    return (id(shape._shape_resolver), shape.name)


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def format_value(value: Any) -> str:
    """How AWS (Java) prints a value inside 'Value ... at ...'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v).strip("'") for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={format_value(v).strip(chr(39))}" for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return "'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]'" % (len(value), len(value))
    return f"'{value}'"


def shown_value(v: Violation) -> str:
    """The value as 'Value ... at' shows it: quoted like a scalar when it is a list or map
    ("Value '[]' at 'transactItems'" from DynamoDB, "Value '[]' at 'records'" from Kinesis)."""
    if v.kind == "required":
        return "null"
    text = format_value(v.value)
    return f"'{text}'" if isinstance(v.value, (list, tuple, dict)) else text


# AWS reports at most this many violations, and counts only those ("10 validation errors
# detected" for 501 bad PutRecords entries: kinesalite's AWS-run putRecords test).
MAX_REPORTED = 10


def validation_message(violations: list[Violation]) -> str:
    shown = violations[:MAX_REPORTED]
    n = len(shown)
    head = f"{n} validation error{'s' if n != 1 else ''} detected: "
    # kind "unshown": a violation AWS reports without its value ("Value at 'RequestItems.t.member.Keys'")
    return head + "; ".join(
        ("Value at" if v.kind == "unshown" else f"Value {shown_value(v)} at")
        + f" '{v.path}' failed to satisfy constraint: {v.constraint}"
        for v in shown
    )


def _compile_pattern(pattern: str):
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None  # Java-only syntax (e.g. \p{...}); the service checks what matters


_TYPE_NAMES = {
    "string": "String", "integer": "Integer", "long": "Long", "boolean": "Boolean",
    "float": "Float", "double": "Double", "blob": "Blob", "timestamp": "Timestamp",
    "structure": "Structure", "list": "List", "map": "Map",
}


def _length_violation(lo, hi, n, path, member, value, errors):
    if lo is not None and n < lo:
        errors.append(Violation(path, member, "length", f"Member must have length greater than or equal to {lo}", value))
    if hi is not None and n > hi:
        errors.append(Violation(path, member, "length", f"Member must have length less than or equal to {hi}", value))


def _type_violation(path, member, shape_type, value, errors):
    errors.append(Violation(path, member, "type", f"Member must be of type {_TYPE_NAMES.get(shape_type, shape_type)}", value))


class _Compiler:
    """Compiles shapes to checker closures; handles recursive shapes via indirection."""

    def __init__(self) -> None:
        self.cache: dict[tuple, Checker] = {}

    def compile(self, shape: Shape) -> Checker:
        key = shape_key(shape)
        if key in self.cache:
            return self.cache[key]
        # Placeholder for recursion (DynamoDB AttributeValue contains itself).
        slot: list[Checker] = []
        self.cache[key] = lambda v, p, m, e: slot[0](v, p, m, e)
        fn = getattr(self, "_" + shape.type_name, self._passthrough)(shape)
        slot.append(fn)
        self.cache[key] = fn
        return fn

    def _passthrough(self, shape):
        return lambda v, p, m, e: v

    def _structure(self, shape):
        members = []
        for name, mshape in shape.members.items():
            members.append((name, _lower_camel(name), self.compile(mshape)))
        required = tuple(shape.required_members)
        is_document = bool(shape.metadata.get("document"))
        by_name = {name: (camel, fn) for name, camel, fn in members}
        sparse = len(members) // 2  # fewer keys than this: walk the value, not the shape

        def check(value, path, member, errors):
            if is_document:
                return value
            if not isinstance(value, dict):
                _type_violation(path, member, "structure", value, errors)
                return value
            if len(value) < sparse:
                # e.g. an AttributeValue: one key of ten members. If anything
                # is wrong, the walk below reports it in the shape's order.
                n0 = len(errors)
                for name in list(value):
                    spec = by_name.get(name)
                    if spec is None:
                        continue
                    v = value[name]
                    if v is None:
                        del value[name]
                        continue
                    value[name] = spec[1](v, _join(path, spec[0]), name, errors)
                if len(errors) == n0 and all(value.get(r) is not None for r in required):
                    return value
                del errors[n0:]
            for name, camel, fn in members:
                v = value.get(name)
                if v is None:
                    if name in required:
                        errors.append(Violation(_join(path, camel), name, "required", "Member must not be null", None))
                    elif name in value:
                        del value[name]
                    continue
                value[name] = fn(v, _join(path, camel), name, errors)
            return value

        return check

    def _list(self, shape):
        inner = self.compile(shape.member)
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value, path, member, errors):
            if not isinstance(value, list):
                _type_violation(path, member, "list", value, errors)
                return value
            n = len(value)
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                _length_violation(lo, hi, n, path, member, value, errors)
            for i, item in enumerate(value):
                if item is not None:
                    value[i] = inner(item, f"{path}.{i + 1}.member", member, errors)
            return value

        return check

    def _map(self, shape):
        key_fn = self.compile(shape.key)
        val_fn = self.compile(shape.value)
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value, path, member, errors):
            if not isinstance(value, dict):
                _type_violation(path, member, "map", value, errors)
                return value
            n = len(value)
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                _length_violation(lo, hi, n, path, member, value, errors)
            for k, v in value.items():
                key_fn(k, path, member, errors)
                if v is not None:
                    value[k] = val_fn(v, f"{path}.{k}.member", member, errors)
            return value

        return check

    def _string(self, shape):
        meta = shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        enum = meta.get("enum")
        enum_set = frozenset(enum) if enum else None
        enum_text = f"Member must satisfy enum value set: [{', '.join(enum)}]" if enum else ""
        pattern = meta.get("pattern")
        rx = _compile_pattern(pattern) if pattern else None

        def check(value, path, member, errors):
            if not isinstance(value, str):
                _type_violation(path, member, "string", value, errors)
                return value
            if enum_set is not None and value not in enum_set:
                errors.append(Violation(path, member, "enum", enum_text, value))
            if rx is not None and rx.fullmatch(value) is None:
                errors.append(Violation(path, member, "pattern", f"Member must satisfy regular expression pattern: {pattern}", value))
            if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
                _length_violation(lo, hi, len(value), path, member, value, errors)
            return value

        return check

    def _number(self, shape, kinds, shape_type):
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value, path, member, errors):
            if isinstance(value, bool) or not isinstance(value, kinds):
                _type_violation(path, member, shape_type, value, errors)
                return value
            if lo is not None and value < lo:
                errors.append(Violation(path, member, "range", f"Member must have value greater than or equal to {lo}", value))
            if hi is not None and value > hi:
                errors.append(Violation(path, member, "range", f"Member must have value less than or equal to {hi}", value))
            return value

        return check

    def _integer(self, shape):
        return self._number(shape, int, "integer")

    def _long(self, shape):
        return self._number(shape, int, "long")

    def _float(self, shape):
        return self._number(shape, (int, float, Decimal), "float")

    def _double(self, shape):
        return self._number(shape, (int, float, Decimal), "double")

    def _boolean(self, shape):
        def check(value, path, member, errors):
            if not isinstance(value, bool):
                _type_violation(path, member, "boolean", value, errors)
            return value

        return check

    def _blob(self, shape):
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value, path, member, errors):
            if isinstance(value, str):
                try:
                    value = base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    _type_violation(path, member, "blob", value, errors)
                    return value
            elif not isinstance(value, (bytes, bytearray)):
                _type_violation(path, member, "blob", value, errors)
                return value
            if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
                _length_violation(lo, hi, len(value), path, member, value, errors)
            return value

        return check

    def _timestamp(self, shape):
        def check(value, path, member, errors):
            if isinstance(value, datetime):
                return value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return datetime.fromtimestamp(value, timezone.utc)
            if isinstance(value, str):
                try:
                    return parse_timestamp(value)
                except ValueError:
                    pass
            _type_violation(path, member, "timestamp", value, errors)
            return value

        return check


def parse_timestamp(text: str) -> datetime:
    """ISO-8601 (as the query protocol sends) or epoch seconds as text."""
    try:
        return datetime.fromtimestamp(float(text), timezone.utc)
    except ValueError:
        pass
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


_compiler = _Compiler()


def compile_input(shape: Shape | None) -> Checker:
    if shape is None:
        return lambda v, p, m, e: v
    return _compiler.compile(shape)


def validate(shape: Shape | None, request: dict) -> tuple[dict, list[Violation]]:
    errors: list[Violation] = []
    request = compile_input(shape)(request, "", "", errors)
    return request, errors


def serialization_message(v: Violation, template: str = "{token} cannot be converted to {type}") -> str:
    """A JSON value of the wrong type fails AWS's deserializer before any
    validation: ``SerializationException`` with the deserializer's text, e.g.
    "NUMBER_VALUE cannot be converted to String" for ``{"S": 5}`` in DynamoDB
    (localstack/localstack#9412, quoting AWS). Services word it differently:
    ``template`` gets ``token``, ``type`` and its article ``a`` ("a"/"an")."""
    value = v.value
    if isinstance(value, dict):
        return "Start of structure or map found where not expected."
    if isinstance(value, list):
        return "Start of list found where not expected."
    if isinstance(value, bool):
        token = "BOOLEAN_VALUE"
    elif isinstance(value, str):
        token = "STRING_VALUE"
    else:
        token = "NUMBER_VALUE"
    type_name = v.constraint.removeprefix("Member must be of type ")
    return template.format(token=token, type=type_name, a="an" if type_name[:1] in "AEIOU" else "a")
