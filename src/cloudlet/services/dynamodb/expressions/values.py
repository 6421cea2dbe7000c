"""AttributeValues as the expression language sees them: types, equality,
ordering, size() and number arithmetic.

An AttributeValue is the wire form ``{"S": "x"}``, ``{"N": "12.5"}``,
``{"B": b"..."}``, ``{"BOOL": True}``, ``{"NULL": True}``, ``{"SS": [...]}``,
``{"NS": [...]}``, ``{"BS": [...]}``, ``{"L": [...]}``, ``{"M": {...}}``.
Numbers are strings of decimals; they are compared and computed as
``decimal.Decimal`` exactly, and a result must fit DynamoDB's numbers: at most
38 significant digits, magnitude within 1E-130 .. 9.99..E+125.
"""

from __future__ import annotations

import base64
import decimal
from decimal import Decimal

from cloudlet.protocol.errors import ValidationException

MAX_DIGITS = 38
MAX_ADJUSTED_EXPONENT = 125
MIN_ADJUSTED_EXPONENT = -130
SCALAR_ORDERED = ("S", "N", "B")
SET_TYPES = ("SS", "NS", "BS")
TYPE_NAMES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")

# Exact for every sum/difference of two in-range numbers (their digits span at
# most ~260 places), so results are never silently rounded.
_EXACT = decimal.Context(prec=400, Emin=-999999, Emax=999999, traps=[decimal.InvalidOperation])

OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
TOO_PRECISE = "Attempting to store more than 38 significant digits in a Number"


def type_of(av) -> str:
    """The type tag of an AttributeValue (``"S"``, ``"N"``, ...)."""
    for key in av:
        return key
    raise ValueError("empty AttributeValue")


def decimal_of(text) -> Decimal:
    return _EXACT.create_decimal(text if isinstance(text, str) else str(text))


def to_bytes(value) -> bytes:
    """B / BS members are bytes in cloudlet's item form; base64 text is accepted too."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return base64.b64decode(value)


def check_number(d: Decimal) -> Decimal:
    """Raise AWS's ValidationException when ``d`` can't be a DynamoDB number."""
    if not d:
        return Decimal(0)
    d = d.normalize(_EXACT)
    # Range before precision: 9.99..9E+125 + 1E+125 (39 digits, too large) is
    # reported by AWS as an overflow.
    if d.adjusted() > MAX_ADJUSTED_EXPONENT:
        raise ValidationException(message=OVERFLOW)
    if d.adjusted() < MIN_ADJUSTED_EXPONENT:
        raise ValidationException(message=UNDERFLOW)
    if len(d.as_tuple().digits) > MAX_DIGITS:
        raise ValidationException(message=TOO_PRECISE)
    return d


def format_number(d: Decimal) -> str:
    """DynamoDB's canonical text: no exponent, no trailing zeros (1E+2 -> "100")."""
    if not d:
        return "0"
    return format(d.normalize(_EXACT), "f")


def exact_sum(x: Decimal, y: Decimal, subtract: bool = False) -> Decimal:
    """x + y (or x - y) without rounding; not range-checked."""
    return _EXACT.subtract(x, y) if subtract else _EXACT.add(x, y)


def add_numbers(a: str, b: str, subtract: bool = False) -> str:
    """a + b (or a - b) of two number strings, checked and in canonical text."""
    return format_number(check_number(exact_sum(decimal_of(a), decimal_of(b), subtract)))


# ---- equality and order -------------------------------------------------------


def _set_members(av, t):
    if t == "NS":
        return {decimal_of(x) for x in av[t]}
    if t == "BS":
        return {to_bytes(x) for x in av[t]}
    return set(av[t])


def equal(a, b) -> bool:
    """Deep equality as DynamoDB's ``=``: same type and same value; numbers
    numerically, sets regardless of order."""
    ta, tb = type_of(a), type_of(b)
    if ta != tb:
        return False
    x, y = a[ta], b[tb]
    if ta == "N":
        return decimal_of(x) == decimal_of(y)
    if ta == "B":
        return to_bytes(x) == to_bytes(y)
    if ta in SET_TYPES:
        return _set_members(a, ta) == _set_members(b, tb)
    if ta == "L":
        return len(x) == len(y) and all(equal(p, q) for p, q in zip(x, y))
    if ta == "M":
        return x.keys() == y.keys() and all(equal(x[k], y[k]) for k in x)
    if ta == "NULL":
        return True
    return x == y


def compare(a, b) -> int | None:
    """-1/0/1 for two values of the same ordered type (S by UTF-8 bytes, N
    numerically, B by unsigned bytes); None when they can't be ordered."""
    ta, tb = type_of(a), type_of(b)
    if ta != tb or ta not in SCALAR_ORDERED:
        return None
    if ta == "N":
        x, y = decimal_of(a[ta]), decimal_of(b[tb])
    elif ta == "S":
        x, y = a[ta].encode("utf-8", "surrogatepass"), b[tb].encode("utf-8", "surrogatepass")
    else:
        x, y = to_bytes(a[ta]), to_bytes(b[tb])
    return (x > y) - (x < y)


def contains(container, needle) -> bool:
    """``contains(path, operand)``: substring of a String (or bytes of a
    Binary), member of a set, element of a List."""
    t, nt = type_of(container), type_of(needle)
    if t == "S":
        return nt == "S" and needle["S"] in container["S"]
    if t == "B":
        return nt == "B" and to_bytes(needle["B"]) in to_bytes(container["B"])
    if t in SET_TYPES:
        if nt != t[0]:
            return False
        if t == "SS":
            return needle["S"] in container["SS"]
        return any(equal({nt: m}, needle) for m in container[t])
    if t == "L":
        return any(equal(e, needle) for e in container["L"])
    return False


def begins_with(value, prefix) -> bool:
    t = type_of(value)
    if t != type_of(prefix) or t not in ("S", "B"):
        return False
    if t == "S":
        return value["S"].encode("utf-8", "surrogatepass").startswith(prefix["S"].encode("utf-8", "surrogatepass"))
    return to_bytes(value["B"]).startswith(to_bytes(prefix["B"]))


def size(av) -> int | None:
    """``size(path)``: a String's length, a Binary's bytes, the elements of a
    set, list or map; None (so comparisons are false) for N, BOOL, NULL.

    The length of a String is counted in UTF-16 code units, as Java's
    String.length() (DynamoDB is a Java service). Not confirmed against AWS
    for characters outside the Basic Multilingual Plane."""
    t = type_of(av)
    if t == "S":
        return len(av["S"].encode("utf-16-le", "surrogatepass")) // 2
    if t == "B":
        return len(to_bytes(av["B"]))
    if t in SET_TYPES or t == "L":
        return len(av[t])
    if t == "M":
        return len(av["M"])
    return None


def set_union(a, b):
    t = type_of(a)
    out = list(a[t])
    for m in b[t]:
        if not any(equal({t[0]: m}, {t[0]: x}) for x in out):
            out.append(m)
    return {t: out}


def set_difference(a, b):
    t = type_of(a)
    return {t: [m for m in a[t] if not any(equal({t[0]: m}, {t[0]: x}) for x in b[t])]}


def clone(value):
    """A deep copy of an AttributeValue / item (dicts and lists; the leaves
    are immutable str / bytes / bool)."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    if isinstance(value, bytearray):
        return bytes(value)
    return value
