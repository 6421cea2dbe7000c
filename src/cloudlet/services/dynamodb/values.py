"""AttributeValues: validation, numbers, sizes, key parts. Pure functions.

An AttributeValue is the wire dict ``{"S": "x"}``, ``{"N": "1.5"}``,
``{"B": b"..."}``, ``{"SS": [...]}``, ``{"M": {...}}``, ``{"L": [...]}``,
``{"NULL": True}``, ``{"BOOL": False}``. Items are ``{name: AttributeValue}``.
Numbers are kept as canonical strings (what DynamoDB returns: ``"01.50"`` is
stored and returned as ``"1.5"``); key parts used for ordering are
``decimal.Decimal`` / ``str`` / ``bytes``, which ``cloudlet.storage.keys``
orders exactly as DynamoDB does.
"""

from __future__ import annotations

import base64
import decimal
from decimal import Decimal

from cloudlet.protocol.errors import ValidationException
from cloudlet.services.dynamodb.errors import INVALID, validation

# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
MAX_ITEM_SIZE = 400 * 1024
MAX_HASH_KEY_SIZE = 2048
MAX_RANGE_KEY_SIZE = 1024
MAX_DEPTH = 32
# The refusal of a value nested past MAX_DEPTH levels (the attribute itself is level 1), and the
# shorter cancellation reason of a transaction whose Update would store one. AWS's texts, captured
# in us-east-1 and eu-west-2 on 2026-10-09 (nubo-db/dynamodb-conformance
# tests/tier3/limits/nestingDepth.test.ts and validation-ordering/deepRequests).
NESTING = ("Nesting Levels have exceeded supported limits: "
           "Attributes in the item have nested levels beyond supported limit")
NESTING_REASON = "Nesting Levels have exceeded supported limits"
# From a leaf at this level on, PutItem/UpdateItem/DeleteItem read the request another way and
# answer in the older forms (no "1 validation error detected" envelope; a value named by its key).
# AWS moves between 62 and 64 levels; 64 is where a 128-deep JSON body would end.
FAR_DEPTH = 64
MAX_PRECISION = 38
MAX_EXPONENT = 125  # largest |x| is 9.9999999999999999999999999999999999999E+125
MIN_EXPONENT = -130  # smallest |x| is 1E-130
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
SCALAR_KEY_TYPES = ("S", "N", "B")

_CTX = decimal.Context(prec=200, Emin=-999999, Emax=999999, traps=[decimal.InvalidOperation])
# Arithmetic in update expressions: 38 digits, as DynamoDB computes.
ARITH = decimal.Context(prec=38, Emin=-999999, Emax=999999, rounding=decimal.ROUND_HALF_EVEN,
                        traps=[decimal.InvalidOperation])


def number(text) -> Decimal:
    """Parse and range-check a DynamoDB number; returns the normalized Decimal."""
    if not isinstance(text, str) or not text:
        raise validation("The parameter cannot be converted to a numeric value")
    if text != text.strip() or any(c in text for c in "_") or text.lower().lstrip("+-") in ("nan", "inf", "infinity", "snan"):
        raise validation(f"The parameter cannot be converted to a numeric value: {text}")
    try:
        d = _CTX.create_decimal(text)
    except (decimal.InvalidOperation, ValueError):
        raise validation(f"The parameter cannot be converted to a numeric value: {text}") from None
    if not d.is_finite():
        raise validation(f"The parameter cannot be converted to a numeric value: {text}")
    if not d and any(c in "123456789" for c in text.partition("e")[0].partition("E")[0]):
        # too small for the context to hold (1e-99999999999): not zero, a number below the range
        raise validation(UNDERFLOW)
    return check_number(d)


_INT32 = 2 ** 31


def check_java_number(text) -> None:
    """How DynamoDB reads a number given as a PartiQL parameter: as Java's BigDecimal reads a
    string (nubo-db/dynamodb-conformance tests/tier3/error-messages/partiqlParameterNumbers,
    eu-west-2 and us-east-1, 2026-10). An exponent, or the scale it makes, outside a 32-bit
    integer cannot be converted (1e-99999999999, 1e-2147483648); a magnitude check on precision
    minus scale that wraps in 32 bits is an underflow (1e2147483647) or an overflow. Everything
    else is left to ``number``."""
    if not isinstance(text, str):
        return
    mantissa, e, exponent = text.replace("E", "e").partition("e")
    if not e:
        return
    try:
        exp = int(exponent)
    except ValueError:
        return
    whole, _, fraction = mantissa.lstrip("+-").partition(".")
    if not (whole + fraction).isdigit():
        return
    scale = len(fraction) - exp
    if not -_INT32 <= exp < _INT32 or not -_INT32 <= scale < _INT32:
        raise validation(f"The parameter cannot be converted to a numeric value: {text}")
    precision = max(1, len((whole + fraction).lstrip("0")))
    magnitude = precision - scale
    if magnitude >= _INT32:
        raise validation(UNDERFLOW)  # wraps negative
    if magnitude < -_INT32:
        raise validation(OVERFLOW)  # wraps positive


def check_java_numbers(value, depth: int = 1) -> None:
    """``check_java_number`` on every number of a value, in document order, stopping at a
    level past MAX_DEPTH as ``check_value`` does (the first problem met is the one reported)."""
    if not isinstance(value, dict) or len(value) != 1:
        return
    (t, v), = value.items()
    if depth > MAX_DEPTH:
        raise TooDeep(message=NESTING)
    if t == "N":
        check_java_number(v)
    elif t == "NS" and isinstance(v, list):
        for x in v:
            check_java_number(x)
    elif t == "M" and isinstance(v, dict):
        for x in v.values():
            check_java_numbers(x, depth + 1)
    elif t == "L" and isinstance(v, list):
        for x in v:
            check_java_numbers(x, depth + 1)


def check_number(d: Decimal) -> Decimal:
    if not d:
        return Decimal(0)
    d = d.normalize(_CTX)
    if d.adjusted() > MAX_EXPONENT:
        raise validation(OVERFLOW)
    if d.adjusted() < MIN_EXPONENT:
        raise validation(UNDERFLOW)
    if len(d.as_tuple().digits) > MAX_PRECISION:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    return d


def number_text(d: Decimal) -> str:
    """DynamoDB's canonical text: no exponent, no trailing zeros."""
    if not d:
        return "0"
    return format(d, "f")


def canonical_number(text) -> str:
    # Fast path for the common case, a plain integer of at most 38 digits:
    # already canonical once leading zeros go (trailing zeros of an integer
    # are not significant digits but stay in the text, as number_text does).
    if type(text) is str and text.isascii():
        digits = text[1:] if text[:1] == "-" else text
        if digits.isdigit():
            stripped = digits.lstrip("0")
            if len(stripped) <= MAX_PRECISION:
                if not stripped:
                    return "0"
                return stripped if digits is text else "-" + stripped
    return number_text(number(text))


def _type_of(value) -> str:
    if not isinstance(value, dict) or not value:
        raise validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    if len(value) > 1:
        raise validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
    (t,) = value
    if t not in TYPES:
        raise validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    return t


class TooDeep(ValidationException):
    """A value nested past MAX_DEPTH levels. Its message is AWS's bare text; the
    single-item operations re-word it (items.py, exprs.compile_request)."""


def nesting_depth(value) -> int:
    """The level of a value's deepest leaf, the value itself being level 1 (error paths only)."""
    if isinstance(value, dict) and len(value) == 1:
        (t, v), = value.items()
        if t == "M" and isinstance(v, dict):
            return 1 + max((nesting_depth(x) for x in v.values()), default=0)
        if t == "L" and isinstance(v, list):
            return 1 + max((nesting_depth(x) for x in v), default=0)
    return 1


def check_value(value: dict, depth: int = 1) -> dict:
    """Validate one AttributeValue (recursively) and return it normalized.

    Numbers become canonical strings; sets are checked for emptiness and
    duplicates. Raises ValidationException with AWS's texts. ``depth`` is the
    level the value sits at (0 lets a value one level deeper through).
    """
    t = _type_of(value)
    v = value[t]
    if depth > MAX_DEPTH:
        raise TooDeep(message=NESTING)
    if t == "S":
        if not isinstance(v, str):
            raise validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
        return value
    if t == "N":
        return {"N": canonical_number(v)}
    if t == "B":
        return value
    if t == "BOOL":
        return value
    if t == "NULL":
        # AWS used to refuse {"NULL": false} ('Null attribute value types must have the value of true');
        # since mid-2026 it stores it as {"NULL": true} (nubo-db/dynamodb-conformance tier3 putItem,
        # captured from AWS 2026-06-08).
        return value if v is True else {"NULL": True}
    if t == "SS":
        if not v:
            raise validation(INVALID + "An string set  may not be empty")
        if len(set(v)) != len(v):
            raise validation(INVALID + "Input collection [" + ", ".join(v) + "] contains duplicates.")
        return value
    if t == "NS":
        if not v:
            raise validation(INVALID + "An number set  may not be empty")
        nums = [number(x) for x in v]
        if len(set(nums)) != len(nums):
            raise validation(INVALID + "Input collection contains duplicates")
        return {"NS": [number_text(x) for x in nums]}
    if t == "BS":
        if not v:
            raise validation(INVALID + "Binary sets should not be empty")
        if len(set(v)) != len(v):
            raise validation(INVALID + "Input collection [" + ", ".join(base64.b64encode(b).decode() for b in v) + "]of type BS contains duplicates.")
        return value
    if t == "M":
        if not isinstance(v, dict):
            raise validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
        return {"M": {k: check_value(x, depth + 1) for k, x in v.items()}}
    # L
    if not isinstance(v, list):
        raise validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    return {"L": [check_value(x, depth + 1) for x in v]}


def check_item(item: dict) -> dict:
    """Validate every attribute of an item; returns a normalized copy."""
    out = {}
    for name, value in item.items():
        if not name:
            raise validation(INVALID + "An AttributeValue may not contain an empty attribute name")  # pragma: no cover
        out[name] = check_value(value)
    return out


def check_values(values: dict | None) -> dict | None:
    """ExpressionAttributeValues: each value checked like an item attribute."""
    if values is None:
        return None
    return {k: check_value(v) for k, v in values.items()}


# ---------------------------------------------------------------- sizes

def value_size(value: dict) -> int:
    """Bytes one AttributeValue counts for, by the rules in the developer guide
    (Item sizes and formats): strings UTF-8, numbers ~1 byte per two significant
    digits + 1, binaries raw, 1 byte for NULL/BOOL, 3 bytes + elements for L/M."""
    (t, v), = value.items()
    if t == "S":
        return len(v) if v.isascii() else len(v.encode("utf-8"))
    if t == "N":
        return _number_size(v)
    if t == "B":
        return len(v)
    if t == "SS":
        return sum(len(x.encode("utf-8")) for x in v)
    if t == "NS":
        return sum(_number_size(x) for x in v)
    if t == "BS":
        return sum(len(x) for x in v)
    if t == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(x) + 1 for k, x in v.items())
    if t == "L":
        return 3 + sum(value_size(x) + 1 for x in v)
    return 1  # NULL, BOOL


def _number_size(text: str) -> int:
    """1 + ceil(integer digits / 2) + ceil(fraction digits / 2) + 1 if negative,
    on the canonical text with non-significant zeros trimmed; zero is 1 byte.
    (Measured against AWS: 3.14159 is 5 bytes, 123456 is 4.)"""
    neg = 1 if text[0] == "-" else 0
    if "." not in text:
        digits = text[neg:].rstrip("0")
        return 1 + (len(digits) + 1) // 2 + neg if digits else 1
    whole, frac = text[neg:].split(".", 1)
    whole = whole.lstrip("0")
    frac = frac.rstrip("0")
    if not whole:
        frac = frac.lstrip("0")
        if not frac:
            return 1
    return 1 + (len(whole) + 1) // 2 + (len(frac) + 1) // 2 + neg


def item_size(item: dict | None) -> int:
    if not item:
        return 0
    total = 0
    for name, value in item.items():
        total += (len(name) if name.isascii() else len(name.encode("utf-8"))) + value_size(value)
    return total


# ---------------------------------------------------------------- keys

def key_part(value: dict):
    """The ordering value of a key attribute: Decimal, str or bytes."""
    (t, v), = value.items()
    if t == "N":
        return Decimal(v)
    if t == "B":
        return bytes(v)
    return v


def part_value(type_: str, part) -> dict:
    """Inverse of ``key_part`` for a known attribute type."""
    if type_ == "N":
        return {"N": number_text(part) if isinstance(part, Decimal) else str(part)}
    if type_ == "B":
        return {"B": bytes(part)}
    return {"S": part}


def value_type(value: dict) -> str:
    (t,) = value
    return t


def key_size(value: dict) -> int:
    (t, v), = value.items()
    if t == "S":
        return len(v.encode("utf-8"))
    if t == "B":
        return len(v)
    return 0  # numbers always fit
